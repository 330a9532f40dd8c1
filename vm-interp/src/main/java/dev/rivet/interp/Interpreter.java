package dev.rivet.interp;

import dev.rivet.core.riscv.Cause;
import dev.rivet.core.riscv.Hart;
import dev.rivet.core.time.InstructionClock;
import dev.rivet.core.time.MachineClock;
import dev.rivet.core.time.RealtimeClock;
import dev.rivet.core.time.TimerQueue;
import dev.rivet.ir.CodeSource;
import dev.rivet.ir.IrBlock;
import dev.rivet.ir.Op;
import dev.rivet.ir.exec.BlockCompiler;
import dev.rivet.ir.exec.BlockExit;
import dev.rivet.ir.exec.CompiledBlock;
import dev.rivet.ir.exec.ExitLink;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import dev.rivet.ir.exec.Region;
import dev.rivet.ir.riscv.RiscvDecoder;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The execution loop of one hart: find the block at the PC (successor link, jump cache,
 * map, else decode), run it, and between blocks take interrupts and honour stop
 * requests. Interrupts are checked at every block exit; a block is at most
 * {@link RiscvDecoder#MAX_INSNS} instructions, so latency is bounded.
 */
public final class Interpreter {
    /** Why {@link #run} returned. */
    public enum StopReason {
        /** {@link Hart#requestStop()} was called (e.g. the guest powered off). */
        STOPPED,
        /** The instruction budget ran out. */
        BUDGET
    }

    private final Hart hart;
    private final RiscvDecoder decoder = new RiscvDecoder();
    private final BlockCache cache = new BlockCache();
    private final CodeSource fetch;
    /** Set by {@link #fetch} when a parcel fetch faulted during the current decode. */
    private boolean fetchFaulted;
    /** The machine's timers, polled between blocks; null on boards without timers. */
    private TimerQueue timers;
    /**
     * How often (in retired instructions) the loop polls timers: at 100+ MIPS this is a
     * few microseconds of guest time, far below timer resolution a guest can observe, and
     * it keeps the clock read off the per-block path.
     */
    static final long TIMER_POLL_INSTRUCTIONS = 1024;

    /** The compiled-code tier, or null (interpret only). */
    private BlockCompiler compiler;
    /** A block is handed to {@link #compiler} once its execution count exceeds this. */
    private long compileThreshold;

    public Interpreter(Hart hart) {
        this.hart = hart;
        this.fetch = va -> {
            int p = hart.fetchParcel(va);
            if (p < 0) {
                fetchFaulted = true;
            }
            return p;
        };
        hart.codePages().setInvalidator(this::codeWritten);
    }

    /** The hart this interpreter runs. */
    public Hart hart() {
        return hart;
    }

    /** Code pages written by other threads (device DMA), for the hart to drop. */
    private final Queue<Long> foreignWrites = new ConcurrentLinkedQueue<>();
    private volatile boolean foreignPending;

    /**
     * A page holding translated code was written. The block cache belongs to the hart's
     * thread, so a write from another thread (a device's DMA, a loader while the hart
     * runs) is queued and the hart drops that code at its next translation sync: at the
     * latest the {@code fence.i} with which the guest must order such writes before running
     * them (RISC-V unprivileged spec, "Zifencei"), or any trap, xRET or CSR exit before.
     */
    private void codeWritten(long page) {
        Thread t = hart.hartThread;
        if (t == null || t == Thread.currentThread()) {
            cache.invalidatePage(page);
        } else {
            foreignWrites.add(page);
            foreignPending = true;
            hart.unitBreak = true;
        }
    }

    private void dropForeignWrites() {
        foreignPending = false;
        for (Long page; (page = foreignWrites.poll()) != null; ) {
            cache.invalidatePage(page);
        }
    }

    public BlockCache cache() {
        return cache;
    }

    /** Calls from the dispatcher into compiled code (chained units go on without it). */
    private long compiledEntries;

    public long compiledEntries() {
        return compiledEntries;
    }

    /**
     * Times compiled code went straight on into other compiled code (chaining) instead of
     * returning here: with {@link #compiledEntries}, how often guest execution moves
     * between compiled units, which a region that holds its loop whole does not do.
     */
    public long chainedEntries() {
        return hart.chainedCalls;
    }

    /** Attaches the machine's timers (fired on this hart's thread between blocks). */
    public void setTimers(TimerQueue timers) {
        this.timers = timers;
    }

    /**
     * Attaches a compiler tier: a block is requested for compilation (once) when its
     * execution count passes {@code threshold} (0: at its first execution), and runs its
     * compiled code from then on. {@code null} turns compilation off.
     */
    public void setCompiler(BlockCompiler compiler, long threshold) {
        if (threshold < 0) {
            throw new IllegalArgumentException("threshold < 0");
        }
        this.compiler = compiler;
        this.compileThreshold = threshold;
    }

    private void requestCompile(CachedBlock cb) {
        cb.requested = true;
        Region region = RegionBuilder.build(cache, cb);
        cb.regionSize = region.size();
        cb.recheckAt = Math.max(cb.executions, 4) * REGION_RECHECK;
        compiler.request(region, code -> cb.compiled = code);
    }

    /**
     * A region is gathered when its entry gets hot, and paths that had not run by then are
     * exits out of it. So after {@link #REGION_RECHECK} times as many executions again the
     * region is gathered anew, and compiled again if it grew (then again, backing off).
     */
    static final int REGION_RECHECK = 16;

    private void recheckRegion(CachedBlock cb) {
        Region region = RegionBuilder.build(cache, cb);
        cb.recheckAt = cb.executions * REGION_RECHECK;
        if (region.size() > cb.regionSize) {
            cb.regionSize = region.size();
            compiler.request(region, code -> cb.compiled = code);
        }
    }

    /**
     * How many instructions compiled code may retire before it must come back at a jump
     * between its blocks, when nothing else (the budget, a timer poll) is due sooner. It
     * bounds the latency of interrupts raised from other threads.
     */
    static final int MAX_UNIT_RUN = 1 << 16;

    /**
     * Runs until a stop is requested or at least {@code maxInstructions} more
     * instructions have retired (checked between blocks).
     */
    public StopReason run(long maxInstructions) {
        final Hart h = hart;
        final long limit = maxInstructions == Long.MAX_VALUE ? Long.MAX_VALUE : h.instret + maxInstructions;
        final TimerQueue tq = timers;
        long nextPoll = h.instret;
        h.modeChanged(); // the board or a test may have set priv/mstatus directly
        h.hartThread = Thread.currentThread();
        int epoch = syncTranslations(h);
        CachedBlock cb = lookup(h);
        if (compiler != null) {
            return runTiered(h, limit, tq, nextPoll, epoch, cb);
        }
        // Interpreter only. This loop and runTiered's differ only in how a block is run:
        // keeping them apart keeps this one exactly the shape HotSpot compiled before the
        // JIT tier existed (measured: InterpreterBench).
        while (true) {
            cb.executions++;
            int how = BlockExecutor.execute(cb.block, h);
            if (h.instret >= nextPoll && tq != null) {
                nextPoll = h.instret + TIMER_POLL_INSTRUCTIONS;
                if (tq.nextDeadline() <= tq.clock().mtime()) {
                    tq.runDue();
                }
            }
            if (h.mip != 0 && takeInterrupt(h)) {
                how = BlockExit.EXIT_SYSTEM;
            }
            if (h.stopRequested) {
                return StopReason.STOPPED;
            }
            if (h.instret >= limit) {
                return StopReason.BUDGET;
            }
            CachedBlock next;
            switch (how) {
                case BlockExit.EXIT_TAKEN -> {
                    next = cb.nextTaken;
                    if (next == null || next.pc != h.pc || !next.valid || cb.linkEpoch != epoch) {
                        next = lookup(h);
                        staleLinks(cb, epoch);
                        cb.nextTaken = chainable(cb, next);
                    }
                }
                case BlockExit.EXIT_FALL -> {
                    next = cb.nextFall;
                    if (next == null || next.pc != h.pc || !next.valid || cb.linkEpoch != epoch) {
                        next = lookup(h);
                        staleLinks(cb, epoch);
                        cb.nextFall = chainable(cb, next);
                    }
                }
                case BlockExit.EXIT_FLUSH -> {
                    // fence.i needs no flush: every write to a page holding translated code
                    // (this hart's stores, atomics, DMA, loaders) already dropped that code
                    // through the CodePageMap, and fence.i ends the block, so the next
                    // lookup sees the new instructions. Linux runs fence.i on every exec;
                    // flushing everything there cost ~2,000 full retranslations per boot.
                    epoch = syncTranslations(h);
                    next = lookup(h);
                }
                case BlockExit.EXIT_WFI -> {
                    waitForInterrupt(h, tq);
                    if (h.stopRequested) {
                        return StopReason.STOPPED;
                    }
                    epoch = syncTranslations(h);
                    next = lookup(h);
                }
                default -> {
                    epoch = syncTranslations(h);
                    next = lookup(h);
                }
            }
            cb = next;
        }
    }

    /** {@link #run}'s loop with a compiler attached: runs compiled code where there is some. */
    private StopReason runTiered(Hart h, long limit, TimerQueue tq, long nextPoll, int epoch, CachedBlock cb) {
        final long threshold = compileThreshold;
        while (true) {
            long n = ++cb.executions;
            CompiledBlock code = cb.compiled;
            if (code == null && n > threshold && !cb.requested) {
                requestCompile(cb);
                code = cb.compiled; // a synchronous compiler installs at once
            } else if (n == WARM_PROBE && !cb.requested) {
                warmProbe(cb);
            } else if (n == cb.recheckAt) {
                recheckRegion(cb);
                code = cb.compiled;
            }
            int how;
            Object exitLink = null;
            if (code != null) {
                // Compiled code returns at the first jump between its blocks at or past the
                // next poll or the limit: the boundaries this loop would have checked at.
                long room = (tq != null ? Math.min(limit, nextPoll) : limit) - h.instret;
                h.unitBreak = false;
                h.chainDepth = 0;
                compiledEntries++;
                how = code.execute(h, room <= 0 ? 0 : room >= MAX_UNIT_RUN ? MAX_UNIT_RUN : (int) room);
                exitLink = h.exitLink;
                if (exitLink != null) {
                    h.exitLink = null;
                }
            } else {
                how = BlockExecutor.execute(cb.block, h);
            }
            if (h.instret >= nextPoll && tq != null) {
                nextPoll = h.instret + TIMER_POLL_INSTRUCTIONS;
                if (tq.nextDeadline() <= tq.clock().mtime()) {
                    tq.runDue();
                }
            }
            if (h.mip != 0 && takeInterrupt(h)) {
                how = BlockExit.EXIT_SYSTEM;
            }
            if (h.stopRequested) {
                return StopReason.STOPPED;
            }
            if (h.instret >= limit) {
                return StopReason.BUDGET;
            }
            CachedBlock next;
            switch (how) {
                case BlockExit.EXIT_TAKEN -> {
                    next = cb.nextTaken;
                    if (next == null || next.pc != h.pc || !next.valid || cb.linkEpoch != epoch) {
                        next = lookup(h);
                        staleLinks(cb, epoch);
                        cb.nextTaken = chainable(cb, next);
                    }
                    if (exitLink != null) {
                        link(exitLink, next);
                    }
                }
                case BlockExit.EXIT_FALL -> {
                    next = cb.nextFall;
                    if (next == null || next.pc != h.pc || !next.valid || cb.linkEpoch != epoch) {
                        next = lookup(h);
                        staleLinks(cb, epoch);
                        cb.nextFall = chainable(cb, next);
                    }
                    if (exitLink != null) {
                        link(exitLink, next);
                    }
                }
                case BlockExit.EXIT_FLUSH -> {
                    // fence.i needs no flush: every write to a page holding translated code
                    // (this hart's stores, atomics, DMA, loaders) already dropped that code
                    // through the CodePageMap, and fence.i ends the block, so the next
                    // lookup sees the new instructions. Linux runs fence.i on every exec;
                    // flushing everything there cost ~2,000 full retranslations per boot.
                    epoch = syncTranslations(h);
                    next = lookup(h);
                }
                case BlockExit.EXIT_WFI -> {
                    waitForInterrupt(h, tq);
                    if (h.stopRequested) {
                        return StopReason.STOPPED;
                    }
                    epoch = syncTranslations(h);
                    next = lookup(h);
                }
                default -> {
                    epoch = syncTranslations(h);
                    next = lookup(h);
                }
            }
            cb = next;
        }
    }

    /**
     * Compiled code left through an exit whose {@link ExitLink} was empty or made for
     * another target, and the dispatcher found {@code next} there (no interrupt taken, same
     * translation epoch): if {@code next} has compiled code, the exit goes straight on into
     * it next time. Unlike the successor links below, exit links may cross pages: the
     * cache empties them all at every new epoch and whenever translated code is dropped,
     * so they are exactly as current as the jump cache.
     */
    private void link(Object exitLink, CachedBlock next) {
        CompiledBlock target = next.compiled;
        if (target != null && next.valid && next.mode == hart.codeMode()) {
            cache.link((ExitLink) exitLink, next.pc, target);
        }
    }

    /**
     * Successor links are kept only within one page and one mode: the key of a block is
     * its physical PC, and a virtual PC in another page may map elsewhere next time. They
     * are also dropped when the translation epoch changes (satp, sfence.vma).
     */
    private static CachedBlock chainable(CachedBlock from, CachedBlock to) {
        return to.mode == from.mode && ((to.pc ^ from.pc) & ~0xFFFL) == 0 ? to : null;
    }

    /** Forgets both links of {@code cb} when they were made in an older epoch. */
    private static void staleLinks(CachedBlock cb, int epoch) {
        if (cb.linkEpoch != epoch) {
            cb.nextTaken = null;
            cb.nextFall = null;
            cb.linkEpoch = epoch;
        }
    }

    /** Starts a new cache epoch if the hart's translations changed; returns the epoch. */
    private int syncTranslations(Hart h) {
        if (foreignPending) {
            dropForeignWrites();
        }
        if (h.translationsChanged) {
            h.translationsChanged = false;
            h.staleVirtualPage = -1;
            cache.newEpoch();
        } else if (h.staleVirtualPage != -1) {
            cache.forgetVirtualPage(h.staleVirtualPage);
            h.staleVirtualPage = -1;
        }
        return cache.epoch();
    }

    private CachedBlock lookup(Hart h) {
        int mode = h.codeMode();
        long pc = h.pc;
        CachedBlock cb = cache.probe(pc, mode);
        if (cb != null) {
            return cb;
        }
        long phys = h.fetchPhys(pc);
        if (phys != -1) {
            cb = cache.find(pc, phys, mode);
            if (cb != null && (cb.physPage2 == -1 || cb.physPage2 == (h.fetchPhys((pc | 0xFFF) + 1) & ~0xFFFL))) {
                cache.remember(cb);
                return cb;
            }
        }
        fetchFaulted = false;
        IrBlock b = decoder.decode(pc, phys == -1 ? pc : phys, mode, fetch);
        if (fetchFaulted && b.insnCount == 1 && b.op(0) == Op.TRAP) {
            // The first instruction's fetch faulted: the block only raises that fault. It
            // must not be found again once the page is mapped (or another page is mapped at
            // this address), so it is not cached.
            return BlockCache.transientBlock(b);
        }
        long physPage2 = -1;
        if ((((pc + b.byteLength - 1) ^ pc) & ~0xFFFL) != 0) {
            physPage2 = h.fetchPhys((pc | 0xFFF) + 1) & ~0xFFFL;
        }
        CachedBlock fresh = cache.insert(b, physPage2);
        if (compiler != null) {
            warmProbe(fresh);
        }
        return fresh;
    }

    /**
     * Blocks ask the compiler for a warm-start region when first translated, and once more
     * after {@code WARM_PROBE} executions: the compiler loads the previous run's regions in
     * the background, and code that runs early in a boot is translated before they are in.
     */
    static final int WARM_PROBE = 256;

    private void warmProbe(CachedBlock cb) {
        if (cb.physPage2 == -1) {
            Region.Layout layout = compiler.warmRegion(cb.block.physPc, cb.mode);
            if (layout != null && layout.pcs()[0] == cb.pc) {
                warmStart(cb, layout);
            }
        }
    }

    /**
     * Warm start of a block that was the entry of a hot region the last time this guest ran:
     * the region's other blocks (all in the entry's page) are translated now, and the region
     * is requested at once; the compiler holds its code ready, so the entry runs compiled
     * from (about) its first execution instead of after {@link #compileThreshold} runs in
     * the interpreter. Abandoned if any block cannot be translated the same way (a fetch
     * fault, a block running onto the next page): the counter then decides as usual.
     */
    private void warmStart(CachedBlock entry, Region.Layout layout) {
        long[] pcs = layout.pcs();
        long page = entry.pc & ~0xFFFL, physPage = entry.block.physPc & ~0xFFFL;
        List<IrBlock> blocks = new ArrayList<>(pcs.length);
        blocks.add(entry.block);
        for (int i = 1; i < pcs.length; i++) {
            long pc = pcs[i];
            if ((pc & ~0xFFFL) != page) {
                return;
            }
            CachedBlock cb = cache.find(pc, physPage | (pc & 0xFFF), entry.mode);
            if (cb == null || !cb.valid) {
                fetchFaulted = false;
                IrBlock b = decoder.decode(pc, physPage | (pc & 0xFFF), entry.mode, fetch);
                if (fetchFaulted || (((pc + b.byteLength - 1) ^ pc) & ~0xFFFL) != 0) {
                    return;
                }
                cb = cache.insert(b, -1);
            } else if (cb.physPage2 != -1) {
                return;
            }
            blocks.add(cb.block);
        }
        entry.requested = true;
        entry.regionSize = blocks.size();
        entry.recheckAt = Math.max(compileThreshold, 4) * REGION_RECHECK;
        compiler.request(new Region(blocks, layout.inlinedAt()), code -> entry.compiled = code);
        warmStarts++;
    }

    private long warmStarts;

    /** Regions requested at a block's first translation because they were hot in an earlier run. */
    public long warmStarts() {
        return warmStarts;
    }

    private static boolean takeInterrupt(Hart h) {
        int irq = h.pendingInterrupt();
        if (irq < 0) {
            return false;
        }
        h.trap(Cause.INTERRUPT | irq, 0);
        return true;
    }

    /**
     * wfi: park the hart thread until an enabled interrupt is pending (no spinning). Timers
     * keep firing meanwhile: with the realtime clock the thread sleeps until the next
     * deadline; with the deterministic clock idle time is skipped straight to it.
     */
    private static void waitForInterrupt(Hart h, TimerQueue tq) {
        h.hartThread = Thread.currentThread();
        long maxPark = TimeUnit.MILLISECONDS.toNanos(10);
        while ((h.mip & h.mie) == 0 && !h.stopRequested) {
            if (tq == null) {
                LockSupport.parkNanos(h, maxPark);
                continue;
            }
            long deadline = tq.nextDeadline();
            MachineClock clock = tq.clock();
            if (deadline <= clock.mtime()) {
                tq.runDue();
            } else if (clock instanceof InstructionClock ic && deadline != Long.MAX_VALUE) {
                ic.skipTo(deadline);
            } else if (clock instanceof RealtimeClock rc) {
                LockSupport.parkNanos(h, Math.min(rc.nanosUntil(deadline), maxPark));
            } else {
                LockSupport.parkNanos(h, maxPark); // waiting for an outside event (input)
            }
        }
        takeInterrupt(h);
    }
}
