package dev.rivet.core.riscv;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.core.fp.FpStatus;
import dev.rivet.core.time.Timer;
import dev.rivet.core.time.TimerQueue;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.rivet.core.riscv.Csr.*;

/**
 * Architectural state of one RISC-V hart (RV64, M/S/U modes), plus the memory paths every
 * execution tier uses: software TLBs in front of RAM, a slow path through the MMU and the
 * bus, and the trap machinery (Privileged Architecture v1.12, chapters 3 "Machine-Level
 * ISA" and 4 "Supervisor-Level ISA").
 *
 * <h2>Register file</h2>
 * {@link #regs} holds x0–x31 at 0–31 and f0–f31 (raw bits; single-precision values are
 * NaN-boxed) at 32–63, then a discard slot (the target of writes to x0) and temporaries
 * that execution tiers may use within one guest instruction. x0 is never written, so
 * slot 0 always reads zero.
 *
 * <h2>Faults without exceptions</h2>
 * Slow paths never throw. A faulting access records {@link #excCause}/{@link #excTval}
 * and returns 0; the caller checks {@link #excCause} (only after taking a slow path),
 * sets {@link #pc} to the faulting instruction and calls {@link #takePendingException()}.
 *
 * <h2>TLBs and translation regimes</h2>
 * The data TLBs ({@link #readTag}/{@link #readAdd}, {@link #writeTag}/{@link #writeAdd})
 * map a virtual page to {@code ramOffset - va}, with permissions already checked; they
 * only ever hold RAM pages, a write entry only for a page that is writable and dirty, and
 * never a page holding translated code or a watched page. There is one set of arrays per
 * translation regime — U, S, S with mstatus.SUM, and untranslated (M-mode, or satp Bare) —
 * and the public references point at the set of the current effective data privilege
 * (mstatus.MPRV/MPP included). Privilege changes just swap the references; satp writes,
 * {@code sfence.vma} and MXR changes flush the translated sets. Fetches use their own small
 * fetch TLB ({@link #fetchPhys}, {@link #fetchParcel}).
 *
 * <p>Code that writes {@link #priv} or the mstatus MPRV/MPP/SUM/MXR fields directly (board
 * setup, tests) must call {@link #modeChanged()} before running; the interpreter does so
 * when {@code run} starts. CSR instructions, traps and xRET keep everything in step.
 *
 * <p>{@link #translationsChanged} is raised whenever virtual-to-physical mappings may have
 * changed (satp write, {@code sfence.vma}, {@link #flushTlb()}): execution tiers that cache
 * anything by virtual PC (jump caches, chained exits) must drop it and clear the flag.
 *
 * <h2>PMP</h2>
 * The PMP CSRs (16 entries, granularity 4 bytes) are WARL-correct for firmware that probes
 * them (OpenSBI), including locked entries, but accesses are <em>not</em> checked against
 * them: every mode may access all of physical memory.
 */
public final class Hart {
    public static final int X0 = 0, F0 = 32, DISCARD = 64, TMP0 = 65, NUM_TMPS = 15;
    public static final int REG_COUNT = TMP0 + NUM_TMPS;

    public static final int PRIV_U = 0, PRIV_S = 1, PRIV_M = 3;

    /** Software TLB geometry: direct mapped, one entry per 4 KiB virtual page. */
    public static final int TLB_BITS = 8, TLB_SIZE = 1 << TLB_BITS, TLB_MASK = TLB_SIZE - 1;
    public static final long PAGE_MASK = ~0xFFFL;
    private static final long TLB_INVALID = -1L; // never equals a page-aligned tag
    /**
     * A data TLB probe compares the tag with the address under one of these masks: the page
     * bits plus the bits that must be zero for a naturally aligned access. A misaligned
     * access (and so every one that could cross into the next page) misses and takes the
     * slow path, which gets it right; compilers for RISC-V keep scalar accesses aligned.
     */
    private static final long ALIGN8 = PAGE_MASK | 7, ALIGN4 = PAGE_MASK | 3, ALIGN2 = PAGE_MASK | 1;
    private static final int FETCH_TLB_BITS = 6, FETCH_TLB_MASK = (1 << FETCH_TLB_BITS) - 1;

    /** Translation regimes: one data TLB set each. */
    static final int REGIME_U = 0, REGIME_S = 1, REGIME_S_SUM = 2, REGIME_BARE = 3, REGIMES = 4;

    /** Mode bits that translated code depends on (see {@link #codeMode()}). */
    public static final int MODE_PRIV_MASK = 3, MODE_FS_OFF = 4;

    /** medeleg bits that can be set: every exception that can occur below M (not 10, 11, 14). */
    public static final long MEDELEG_MASK = 0xB3FFL;

    public final int hartId;
    public final long[] regs = new long[REG_COUNT];
    public long pc;
    /**
     * Current privilege level. Prefer {@link #setPriv}; after writing it directly call
     * {@link #modeChanged()} (the interpreter does at the start of {@code run}).
     */
    public int priv = PRIV_M;

    // Floating-point control: fflags accumulate in fp.flags; frm is the dynamic rounding mode.
    public final FpStatus fp = new FpStatus();
    public int frm;

    /**
     * Instructions retired since reset: monotonic, never written by the guest (budgets and
     * the deterministic clock rely on that). The guest-visible minstret/mcycle are this
     * plus offsets that CSR writes adjust.
     */
    public long instret;
    private long instretOffset, cycleOffset;

    // Machine-level CSRs kept as plain fields (only the hart thread touches them).
    public long mstatus;
    public long misa;
    public long medeleg, mideleg, mie, mtvec, mcounteren, menvcfg, mscratch, mepc, mcause, mtval;
    public long mcountinhibit;
    // Supervisor-level CSRs (sstatus, sie and sip are views of mstatus, mie and mip).
    public long stvec, sscratch, sepc, scause, stval, scounteren, senvcfg;
    private long satp, stimecmp;
    private int satpMode;
    /**
     * Interrupt-pending bits as the guest reads mip; devices change them from other threads
     * through {@link #setPending}/{@link #clearPending}/{@link #setExternalSeip}.
     */
    public volatile long mip;
    /** SEIP is the OR of the software-writable bit and the external (PLIC) line. */
    private boolean seipSoft, seipLine;
    private final long[] pmpaddr = new long[16];
    private final byte[] pmpcfg = new byte[16];
    private long tselect;

    /** Set (from any thread) to make the execution loop return at the next block exit. */
    public volatile boolean stopRequested;
    /**
     * Set when something happened that the dispatcher must look at before compiled code
     * goes on to its next block: a device access (it may raise or clear an interrupt, or
     * stop the machine), a write to a page holding translated code, a stop request.
     * Compiled code checks it at jumps between its blocks; the dispatcher clears it before
     * entering compiled code. A TLB refill does not set it.
     */
    public boolean unitBreak;
    /**
     * Compiled-code chaining (JIT-internal): the exit link (an {@code ExitLink} of vm-ir)
     * of the exit compiled code last left through unlinked, for the dispatcher to fill in;
     * and how many compiled units are nested in chained calls right now, which bounds the
     * JVM stack a chain can use; and how many chained calls there have been (a statistic:
     * each is a way out of one compiled unit into another that skipped the dispatcher).
     */
    public Object exitLink;
    public int chainDepth;
    public long chainedCalls;
    /** The thread running this hart, to unpark it from {@code wfi}. */
    public volatile Thread hartThread;

    /** Pending synchronous exception from a slow path, or -1. */
    public int excCause = -1;
    public long excTval;

    /** LR/SC reservation: the reserved physical address, or -1. */
    public long reservation = -1;

    /**
     * Raised when virtual-to-physical mappings may have changed; execution tiers drop what
     * they cache by virtual address and clear it.
     */
    public boolean translationsChanged;
    /**
     * The virtual page an {@code sfence.vma} named, or -1: execution tiers drop what they
     * cache for that page (and the one before it, whose blocks may run onto it) and clear
     * it. {@link #translationsChanged} wins when both are set.
     */
    public long staleVirtualPage = -1;

    // Memory.
    private final Bus bus;
    private final GuestRam ramRegion;
    /** Guest RAM, for inline fast paths: offset = vaddr + addend from a TLB hit. */
    public final MemorySegment ram;
    private final long ramBase;
    private final CodePageMap codePages;
    private final Mmu mmu;
    private final long[][] readTags = new long[REGIMES][TLB_SIZE], readAdds = new long[REGIMES][TLB_SIZE];
    private final long[][] writeTags = new long[REGIMES][TLB_SIZE], writeAdds = new long[REGIMES][TLB_SIZE];
    /** The data TLB of the current regime (swapped, never written through these names by others). */
    public long[] readTag, readAdd, writeTag, writeAdd;
    private int regime = -1;
    /** Fetch TLB: tag = virtual page | privilege (U or S); value = physical page. */
    private final long[] fetchTag = new long[1 << FETCH_TLB_BITS], fetchPage = new long[1 << FETCH_TLB_BITS];

    /** Told after the hart stores into a watched RAM range (HTIF's tohost, for example). */
    @FunctionalInterface
    public interface RamWatch {
        void afterWrite(long physAddr, int size);
    }

    private long watchLo = 1, watchHi = 0; // empty
    private RamWatch watch;

    /**
     * Services {@code ecall} from S-mode in the emulator itself (the built-in SBI), in place
     * of M-mode firmware. Returns the PC to continue at (normally the ecall's PC + 4).
     */
    @FunctionalInterface
    public interface SupervisorCallHandler {
        long ecall(Hart hart);
    }

    /** Built-in SBI, or null when M-mode firmware handles supervisor calls. */
    public SupervisorCallHandler sbi;

    /** The machine's timers (the {@code time} CSR and Sstc), or null when the board has none. */
    private TimerQueue timers;
    private Timer stimecmpTimer;

    public Hart(int hartId, Bus bus, CodePageMap codePages) {
        this.hartId = hartId;
        this.bus = bus;
        this.ramRegion = bus.ram();
        this.ram = ramRegion.segment();
        this.ramBase = ramRegion.base();
        this.codePages = codePages;
        this.mmu = new Mmu(ramRegion, codePages);
        reset(0x1000);
    }

    public Bus bus() {
        return bus;
    }

    public CodePageMap codePages() {
        return codePages;
    }

    /**
     * Watches stores by this hart to physical RAM {@code [lo, hi)}. Pages of the range
     * never enter the write TLB, so every such store takes the slow path and is reported.
     */
    public void watchRam(long lo, long hi, RamWatch w) {
        this.watchLo = lo;
        this.watchHi = hi;
        this.watch = w;
        flushWriteTlbs();
    }

    private boolean watchedPage(long pa) {
        return watch != null && (pa & PAGE_MASK) >= (watchLo & PAGE_MASK) && (pa & PAGE_MASK) <= ((watchHi - 1) & PAGE_MASK);
    }

    /**
     * Connects the machine's time: the {@code time} CSR reads {@code timers.clock()}, and
     * Sstc's {@code stimecmp} raises STIP through a timer of that queue (fired on the hart
     * thread by the execution loop). Without it, {@code time} and Sstc are unavailable
     * ({@code time} reads trap as illegal instructions).
     */
    public void attachTime(TimerQueue tq) {
        if (stimecmpTimer != null) {
            stimecmpTimer.cancel();
        }
        this.timers = tq;
        this.stimecmpTimer = tq == null ? null : tq.create(this::stimecmpTimerFired);
        updateSstc();
    }

    /** Power-on state (Privileged spec 3.4 "Reset"): M-mode, MIE=0, MPRV=0, misa at its maximum. */
    public void reset(long resetPc) {
        Arrays.fill(regs, 0);
        pc = resetPc;
        priv = PRIV_M;
        fp.flags = 0;
        frm = 0;
        instret = 0;
        instretOffset = 0;
        cycleOffset = 0;
        mstatus = ((long) PRIV_M << MSTATUS_MPP_SHIFT) | MSTATUS_UXL_SXL_64;
        misa = (2L << 62) | misaBit('I') | misaBit('M') | misaBit('A') | misaBit('F') | misaBit('D') | misaBit('C')
                | misaBit('S') | misaBit('U');
        medeleg = mideleg = mie = mtvec = mcounteren = menvcfg = mscratch = mepc = mcause = mtval = 0;
        stvec = sscratch = sepc = scause = stval = scounteren = senvcfg = 0;
        satp = 0;
        satpMode = SATP_BARE;
        stimecmp = -1L; // "never" (unsigned): turning STCE on does not raise STIP by itself
        mcountinhibit = 0;
        synchronized (this) {
            seipSoft = seipLine = false;
            mip = 0;
        }
        stopRequested = false;
        Arrays.fill(pmpaddr, 0);
        Arrays.fill(pmpcfg, (byte) 0);
        tselect = 0;
        excCause = -1;
        reservation = -1;
        if (stimecmpTimer != null) {
            stimecmpTimer.cancel();
        }
        flushTlb();
        modeChanged();
    }

    /** Asks the execution loop to return soon; safe from any thread. */
    public void requestStop() {
        stopRequested = true;
        unitBreak = true;
        wake();
    }

    /**
     * Sets interrupt-pending bits (devices, any thread) and wakes a hart parked in wfi. The
     * supervisor external interrupt line goes through {@link #setExternalSeip} instead.
     */
    public synchronized void setPending(long bits) {
        mip |= bits;
        wake();
    }

    public synchronized void clearPending(long bits) {
        long m = mip & ~bits;
        mip = (seipSoft || seipLine) ? m | MIP_SEIP : m;
    }

    /** Drives the supervisor external interrupt line (mip.SEIP = line OR the software bit). */
    public synchronized void setExternalSeip(boolean level) {
        seipLine = level;
        if (level) {
            mip |= MIP_SEIP;
            wake();
        } else if (!seipSoft) {
            mip &= ~MIP_SEIP;
        }
    }

    private void wake() {
        Thread t = hartThread;
        if (t != null) {
            java.util.concurrent.locks.LockSupport.unpark(t);
        }
    }

    // ---------------------------------------------------------------------------------
    // Register helpers (cold paths and tests).

    public long x(int i) {
        return regs[i];
    }

    public void setX(int i, long v) {
        if (i != 0) {
            regs[i] = v;
        }
    }

    public long f(int i) {
        return regs[F0 + i];
    }

    public void setF(int i, long bits) {
        regs[F0 + i] = bits;
    }

    /** Bits that translated code depends on: privilege and whether the FPU is off. */
    public int codeMode() {
        return priv | ((mstatus & MSTATUS_FS) == 0 ? MODE_FS_OFF : 0);
    }

    /** Marks the FP state dirty (mstatus.FS = Dirty, SD = 1), as any FP write must. */
    public void markFpDirty() {
        mstatus |= MSTATUS_FS | MSTATUS_SD;
    }

    // ---------------------------------------------------------------------------------
    // Loads and stores: TLB fast path, then the slow path.

    /**
     * Drops every TLB entry (all regimes and the fetch TLB) and raises
     * {@link #translationsChanged}: what {@code sfence.vma} does, and what a remote
     * fence from the SBI must do.
     */
    public void flushTlb() {
        for (int r = 0; r < REGIMES; r++) {
            Arrays.fill(readTags[r], TLB_INVALID);
            Arrays.fill(writeTags[r], TLB_INVALID);
        }
        Arrays.fill(fetchTag, TLB_INVALID);
        superpageRegionCount = 0;
        translationsChanged = true;
    }

    /** Drops the translated regimes' data entries (the untranslated one cannot go stale). */
    private void flushTranslatedData() {
        for (int r = 0; r < REGIME_BARE; r++) {
            Arrays.fill(readTags[r], TLB_INVALID);
            Arrays.fill(writeTags[r], TLB_INVALID);
        }
    }

    private void flushWriteTlbs() {
        for (int r = 0; r < REGIMES; r++) {
            Arrays.fill(writeTags[r], TLB_INVALID);
        }
    }

    /** Privilege used for loads and stores: MPP when MPRV = 1 in M-mode (3.1.6.3). */
    public int dataPriv() {
        return priv == PRIV_M && (mstatus & MSTATUS_MPRV) != 0 ? (int) ((mstatus & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT) : priv;
    }

    private int currentRegime() {
        int p = dataPriv();
        if (p == PRIV_M || satpMode == SATP_BARE) {
            return REGIME_BARE;
        }
        if (p == PRIV_U) {
            return REGIME_U;
        }
        return (mstatus & MSTATUS_SUM) != 0 ? REGIME_S_SUM : REGIME_S;
    }

    /**
     * Points the data TLB at the current translation regime. Called by everything that
     * changes the privilege or mstatus; call it after writing {@link #priv} or mstatus
     * fields directly.
     */
    public void modeChanged() {
        int r = currentRegime();
        if (r != regime) {
            regime = r;
            readTag = readTags[r];
            readAdd = readAdds[r];
            writeTag = writeTags[r];
            writeAdd = writeAdds[r];
        }
    }

    /** Changes the privilege level (board setup, tests). */
    public void setPriv(int p) {
        priv = p;
        modeChanged();
    }

    public int priv() {
        return priv;
    }

    /** Current satp (RV64 layout: MODE 63:60, ASID 59:44, PPN 43:0). */
    public long satp() {
        return satp;
    }

    public long ld(long va) {
        return ld(va, readTag, readAdd, ram);
    }

    public long lw(long va) {
        return lw(va, readTag, readAdd, ram);
    }

    public long lwu(long va) {
        return lw(va) & 0xFFFF_FFFFL;
    }

    public long lh(long va) {
        return lh(va, readTag, readAdd, ram);
    }

    public long lhu(long va) {
        return lh(va) & 0xFFFFL;
    }

    public long lb(long va) {
        return lb(va, readTag, readAdd, ram);
    }

    public long lbu(long va) {
        return lb(va) & 0xFFL;
    }

    public void sd(long va, long v) {
        sd(va, v, writeTag, writeAdd, ram);
    }

    public void sw(long va, long v) {
        sw(va, v, writeTag, writeAdd, ram);
    }

    public void sh(long va, long v) {
        sh(va, v, writeTag, writeAdd, ram);
    }

    public void sb(long va, long v) {
        sb(va, v, writeTag, writeAdd, ram);
    }

    // The same fast paths with the data TLB and RAM handed in. Sign-extending; callers
    // zero-extend. Compiled code calls these, or in loops emits the probe itself
    // (RegionLowering.emitProbe), with readTag/readAdd, writeTag/writeAdd and ram in locals
    // for a whole region: read from the hart's fields, the JVM must load them again after
    // every RAM access (it cannot tell that an access to the segment leaves them alone). The
    // arrays stay the current ones while the privilege and mstatus do, i.e. until a CSR
    // write, trap or xRET, which never happen inside compiled code. A change to the TLB's
    // tag or index scheme must be made there too.

    public long ld(long va, long[] tag, long[] add, MemorySegment ram) {
        int i = (int) (va >>> 12) & TLB_MASK;
        if (tag[i] == (va & ALIGN8)) {
            return ram.get(GuestRam.I64, va + add[i]);
        }
        return loadSlow(va, 8);
    }

    public long lw(long va, long[] tag, long[] add, MemorySegment ram) {
        int i = (int) (va >>> 12) & TLB_MASK;
        if (tag[i] == (va & ALIGN4)) {
            return ram.get(GuestRam.I32, va + add[i]);
        }
        return (int) loadSlow(va, 4);
    }

    public long lh(long va, long[] tag, long[] add, MemorySegment ram) {
        int i = (int) (va >>> 12) & TLB_MASK;
        if (tag[i] == (va & ALIGN2)) {
            return ram.get(GuestRam.I16, va + add[i]);
        }
        return (short) loadSlow(va, 2);
    }

    public long lb(long va, long[] tag, long[] add, MemorySegment ram) {
        int i = (int) (va >>> 12) & TLB_MASK;
        if (tag[i] == (va & PAGE_MASK)) {
            return ram.get(GuestRam.I8, va + add[i]);
        }
        return (byte) loadSlow(va, 1);
    }

    public void sd(long va, long v, long[] tag, long[] add, MemorySegment ram) {
        int i = (int) (va >>> 12) & TLB_MASK;
        if (tag[i] == (va & ALIGN8)) {
            ram.set(GuestRam.I64, va + add[i], v);
            return;
        }
        storeSlow(va, 8, v);
    }

    public void sw(long va, long v, long[] tag, long[] add, MemorySegment ram) {
        int i = (int) (va >>> 12) & TLB_MASK;
        if (tag[i] == (va & ALIGN4)) {
            ram.set(GuestRam.I32, va + add[i], (int) v);
            return;
        }
        storeSlow(va, 4, v);
    }

    public void sh(long va, long v, long[] tag, long[] add, MemorySegment ram) {
        int i = (int) (va >>> 12) & TLB_MASK;
        if (tag[i] == (va & ALIGN2)) {
            ram.set(GuestRam.I16, va + add[i], (short) v);
            return;
        }
        storeSlow(va, 2, v);
    }

    public void sb(long va, long v, long[] tag, long[] add, MemorySegment ram) {
        int i = (int) (va >>> 12) & TLB_MASK;
        if (tag[i] == (va & PAGE_MASK)) {
            ram.set(GuestRam.I8, va + add[i], (byte) v);
            return;
        }
        storeSlow(va, 1, v);
    }

    /** Access kinds for {@link #translate}: loads, stores and AMOs, instruction fetches. */
    public static final int ACCESS_READ = 0, ACCESS_WRITE = 1, ACCESS_EXEC = 2;

    /**
     * Virtual to physical for a data access ({@code ACCESS_READ}/{@code _WRITE}, at the
     * effective data privilege) or a fetch ({@code ACCESS_EXEC}, at {@link #priv}). Bare
     * and M-mode are the identity. On a fault sets {@link #excCause} (tval = va) and
     * returns -1.
     */
    public long translate(long va, int access) {
        int p = access == ACCESS_EXEC ? priv : dataPriv();
        if (p == PRIV_M || satpMode == SATP_BARE) {
            return va;
        }
        long r = mmu.walk(satp, va, access, p, (mstatus & MSTATUS_SUM) != 0, (mstatus & MSTATUS_MXR) != 0);
        if (r < 0) {
            raise((int) (-1 - r), va);
            return -1;
        }
        if (mmu.lastLeafLevel() > 0) {
            noteSuperpage(va);
        }
        return r;
    }

    private static int accessFault(int access) {
        return Mmu.accessFault(access);
    }

    public void raise(int cause, long tval) {
        if (excCause < 0) {
            excCause = cause;
            excTval = tval;
        }
    }

    /** Zero-extended value of a {@code size}-byte load, or 0 with {@link #excCause} set. */
    public long loadSlow(long va, int size) {
        if ((va & 0xFFF) + size > 0x1000) {
            // Crosses a page: each byte translates on its own (both pages must be valid).
            long v = 0;
            for (int k = 0; k < size; k++) {
                v |= loadSlow(va + k, 1) << (8 * k);
                if (excCause >= 0) {
                    return 0;
                }
            }
            return v;
        }
        modeChanged(); // cheap; keeps the TLB set right even after direct field writes
        int t = (int) (va >>> 12) & TLB_MASK;
        if (readTag[t] == (va & PAGE_MASK)) {
            return ramRegion.read(va + readAdd[t], size); // misaligned, within a page the TLB holds
        }
        long pa = translate(va, ACCESS_READ);
        if (excCause >= 0) {
            return 0;
        }
        if (ramRegion.contains(pa, size)) {
            readTag[t] = va & PAGE_MASK;
            readAdd[t] = ((pa & PAGE_MASK) - ramBase) - (va & PAGE_MASK);
            return ramRegion.read(pa - ramBase, size);
        }
        Bus.Region r = bus.find(pa);
        if (r == null || size > r.size - (pa - r.base)) {
            raise(Cause.LOAD_ACCESS_FAULT, va);
            return 0;
        }
        unitBreak = true;
        return Bus.readDevice(r.device, pa - r.base, size);
    }

    public void storeSlow(long va, int size, long v) {
        if ((va & 0xFFF) + size > 0x1000) {
            // Check both parts before writing anything, so a fault leaves memory untouched
            // (mtval names the part that faulted, as the privileged spec allows).
            long second = (va | 0xFFF) + 1;
            if (!writable(va, (int) (second - va)) || !writable(second, (int) (va + size - second))) {
                return;
            }
            for (int k = 0; k < size; k++) {
                storeSlow(va + k, 1, v >>> (8 * k));
            }
            return;
        }
        modeChanged();
        int t = (int) (va >>> 12) & TLB_MASK;
        if (writeTag[t] == (va & PAGE_MASK)) {
            ramRegion.write(va + writeAdd[t], size, v); // misaligned, within a page the TLB holds
            return;
        }
        long pa = translate(va, ACCESS_WRITE);
        if (excCause >= 0) {
            return;
        }
        if (ramRegion.contains(pa, size)) {
            if (codePages.isCode(pa)) {
                unitBreak = true;
            }
            codePages.notifyWrite(pa);
            boolean watched = watchedPage(pa);
            if (watched) {
                unitBreak = true;
            } else if (!codePages.isCode(pa)) {
                // The walk above has set the PTE's D bit: the page is writable and dirty.
                writeTag[t] = va & PAGE_MASK;
                writeAdd[t] = ((pa & PAGE_MASK) - ramBase) - (va & PAGE_MASK);
            }
            ramRegion.write(pa - ramBase, size, v);
            if (watched && pa + size > watchLo && pa < watchHi) {
                watch.afterWrite(pa, size);
            }
            return;
        }
        Bus.Region r = bus.find(pa);
        if (r == null || size > r.size - (pa - r.base)) {
            raise(Cause.STORE_ACCESS_FAULT, va);
            return;
        }
        unitBreak = true;
        Bus.writeDevice(r.device, pa - r.base, size, v);
    }

    /** True when a store of {@code len} bytes at {@code va} (within one page) would succeed. */
    private boolean writable(long va, int len) {
        long pa = translate(va, ACCESS_WRITE);
        if (excCause >= 0) {
            return false;
        }
        if (!bus.isMapped(pa, len)) {
            raise(Cause.STORE_ACCESS_FAULT, va);
            return false;
        }
        return true;
    }

    /**
     * Physical address of an atomic access, or -1 with {@link #excCause} set. Atomics must
     * be naturally aligned and target RAM (A extension, "Load-Reserved/Store-Conditional"
     * and "Atomic Memory Operations"; PMAs: our MMIO regions do not support AMOs). LR
     * translates as a load; SC and AMOs as stores.
     */
    public long atomicAddress(long va, int size, boolean isLr) {
        if ((va & (size - 1)) != 0) {
            raise(isLr ? Cause.LOAD_MISALIGNED : Cause.STORE_MISALIGNED, va);
            return -1;
        }
        long pa = translate(va, isLr ? ACCESS_READ : ACCESS_WRITE);
        if (excCause >= 0) {
            return -1;
        }
        if (!ramRegion.contains(pa, size)) {
            raise(isLr ? Cause.LOAD_ACCESS_FAULT : Cause.STORE_ACCESS_FAULT, va);
            return -1;
        }
        if (!isLr) {
            if (codePages.isCode(pa)) {
                unitBreak = true;
            }
            codePages.notifyWrite(pa);
        }
        return pa - ramBase;
    }

    /** Fetch translation through the fetch TLB; -1 with {@link #excCause} set on a fault. */
    private long fetchTranslate(long va) {
        int p = priv;
        if (p == PRIV_M || satpMode == SATP_BARE) {
            return va;
        }
        long tag = (va & PAGE_MASK) | p;
        int i = (int) (va >>> 12) & FETCH_TLB_MASK;
        if (fetchTag[i] == tag) {
            return fetchPage[i] | (va & 0xFFF);
        }
        long pa = translate(va, ACCESS_EXEC);
        if (pa < 0) {
            return -1;
        }
        fetchTag[i] = tag;
        fetchPage[i] = pa & PAGE_MASK;
        return pa;
    }

    /**
     * Fetches one 16-bit instruction parcel for the decoder. Returns the parcel, or
     * {@code -1 - cause} on a fault. Marks the page as holding code.
     */
    public int fetchParcel(long va) {
        long pa = fetchTranslate(va);
        if (excCause >= 0) {
            int c = excCause;
            excCause = -1;
            return -1 - c;
        }
        if (ramRegion.contains(pa, 2)) {
            if (!codePages.isCode(pa)) {
                codePages.mark(pa);
                // The write TLBs must not map a code page any more, whatever its virtual alias.
                flushWriteTlbs();
            }
            return (int) ramRegion.read(pa - ramBase, 2);
        }
        if (bus.isMapped(pa, 2)) {
            return (int) bus.read(pa, 2);
        }
        return -1 - accessFault(ACCESS_EXEC);
    }

    /** Physical address of a fetch address (the key of translated code), or -1 on a fault. */
    public long fetchPhys(long va) {
        long pa = fetchTranslate(va);
        if (excCause >= 0) {
            excCause = -1;
            return -1;
        }
        return pa;
    }

    // ---------------------------------------------------------------------------------
    // Traps.

    /**
     * Takes the exception recorded by a slow path. {@link #pc} must be the faulting
     * instruction's address.
     */
    public void takePendingException() {
        int c = excCause;
        excCause = -1;
        trap(c, excTval);
    }

    /**
     * Enters the trap handler for an exception or (cause with bit 63 set) an interrupt at
     * {@link #pc}. Traps from S or U whose medeleg/mideleg bit is set go to S-mode (4.1.1,
     * 3.1.8); everything else to M-mode. An {@code ecall} from S goes to the built-in SBI
     * when there is one.
     */
    public void trap(long cause, long tval) {
        if (cause == Cause.ECALL_S && sbi != null) {
            pc = sbi.ecall(this);
            return;
        }
        boolean interrupt = cause < 0;
        int code = (int) (cause & 0x3F);
        long deleg = interrupt ? mideleg : medeleg;
        if (priv <= PRIV_S && ((deleg >>> code) & 1) != 0) {
            sepc = pc;
            scause = cause;
            stval = tval;
            long spie = (mstatus & MSTATUS_SIE) != 0 ? MSTATUS_SPIE : 0;
            long spp = priv == PRIV_S ? MSTATUS_SPP : 0;
            mstatus = (mstatus & ~(MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_SPP)) | spie | spp;
            priv = PRIV_S;
            long base = stvec & ~3L;
            pc = interrupt && (stvec & 3) == 1 ? base + 4L * code : base;
        } else {
            mepc = pc;
            mcause = cause;
            mtval = tval;
            long mpie = (mstatus & MSTATUS_MIE) != 0 ? MSTATUS_MPIE : 0;
            mstatus = (mstatus & ~(MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP)) | mpie | ((long) priv << MSTATUS_MPP_SHIFT);
            priv = PRIV_M;
            long base = mtvec & ~3L;
            pc = interrupt && (mtvec & 3) == 1 ? base + 4L * code : base;
        }
        reservation = -1;
        modeChanged();
    }

    /**
     * {@code mret} (3.3.2): MIE ← MPIE, MPIE ← 1, privilege ← MPP, MPP ← U (the least
     * privileged mode), MPRV ← 0 when returning below M; pc ← mepc.
     */
    public void mret() {
        int mpp = (int) ((mstatus & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT);
        long mpie = mstatus & MSTATUS_MPIE;
        mstatus = (mstatus & ~(MSTATUS_MIE | MSTATUS_MPP)) | (mpie != 0 ? MSTATUS_MIE : 0) | MSTATUS_MPIE;
        if (mpp != PRIV_M) {
            mstatus &= ~MSTATUS_MPRV;
        }
        priv = mpp;
        pc = mepc;
        modeChanged();
    }

    /**
     * {@code sret} (3.3.2): SIE ← SPIE, SPIE ← 1, privilege ← SPP, SPP ← U, MPRV ← 0 (SRET
     * never returns to M); pc ← sepc. Whether SRET is legal here (U-mode, mstatus.TSR) is
     * for the caller to check ({@link #sretIllegal()}).
     */
    public void sret() {
        int spp = (mstatus & MSTATUS_SPP) != 0 ? PRIV_S : PRIV_U;
        long spie = mstatus & MSTATUS_SPIE;
        mstatus = (mstatus & ~(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV)) | (spie != 0 ? MSTATUS_SIE : 0) | MSTATUS_SPIE;
        priv = spp;
        pc = sepc;
        modeChanged();
    }

    /** SRET is illegal in U-mode, and in S-mode while mstatus.TSR = 1 (3.1.6.5). */
    public boolean sretIllegal() {
        return priv < PRIV_S || (priv == PRIV_S && (mstatus & MSTATUS_TSR) != 0);
    }

    /** WFI is illegal in U-mode, and in S-mode while mstatus.TW = 1 (timeout 0). */
    public boolean wfiIllegal() {
        return priv == PRIV_U || (priv == PRIV_S && (mstatus & MSTATUS_TW) != 0);
    }

    /** SFENCE.VMA is illegal in U-mode, and in S-mode while mstatus.TVM = 1. */
    public boolean sfenceIllegal() {
        return priv == PRIV_U || (priv == PRIV_S && (mstatus & MSTATUS_TVM) != 0);
    }

    /**
     * {@code sfence.vma} (privileged spec 4.2.1): orders page-table updates before later
     * translations. With {@code rs1 = x0} ({@code allAddresses}) every TLB entry goes.
     * With an address only the entries for that page go, unless a superpage may cover it:
     * a superpage is held as 4 KiB entries, so then everything goes (see
     * {@link #superpageRegions}). The ASID operand is ignored: dropping the page's entries
     * for every address space is what the spec allows for any ASID. Linux fences one
     * address at a time for nearly all of its page-table changes (a boot: ~11,000 of them,
     * ~60 whole flushes), and a whole flush also empties the execution tiers' caches.
     */
    public void sfenceVma(boolean allAddresses, long va) {
        if (allAddresses || superpageMayCover(va)) {
            flushTlb();
            return;
        }
        long tag = va & PAGE_MASK;
        int i = (int) (va >>> 12) & TLB_MASK;
        for (int r = 0; r < REGIMES; r++) {
            if (readTags[r][i] == tag) {
                readTags[r][i] = TLB_INVALID;
            }
            if (writeTags[r][i] == tag) {
                writeTags[r][i] = TLB_INVALID;
            }
        }
        int f = (int) (va >>> 12) & FETCH_TLB_MASK;
        if ((fetchTag[f] & PAGE_MASK) == tag) {
            fetchTag[f] = TLB_INVALID;
        }
        if (staleVirtualPage != -1 && staleVirtualPage != tag) {
            translationsChanged = true; // a second page before the tiers caught up: all of it
        }
        staleVirtualPage = tag;
    }

    /**
     * The 1 GiB-aligned regions (va >>> 30) in which a superpage translation was cached since
     * the last whole flush; more than {@link #SUPERPAGE_REGIONS} distinct ones count as
     * everywhere. Coarse on purpose: a fence in such a region flushes everything, which is
     * always allowed, and the regions Linux fences by address (user pages, vmalloc) are not
     * the ones its linear map and kernel image use superpages in.
     */
    private final long[] superpageRegions = new long[SUPERPAGE_REGIONS];
    private int superpageRegionCount;
    private static final int SUPERPAGE_REGIONS = 8;

    private void noteSuperpage(long va) {
        if (superpageRegionCount > SUPERPAGE_REGIONS) {
            return; // already "everywhere" (and the count must not grow until it wraps)
        }
        long region = va >> 30;
        for (int k = 0; k < superpageRegionCount; k++) {
            if (superpageRegions[k] == region) {
                return;
            }
        }
        if (superpageRegionCount < SUPERPAGE_REGIONS) {
            superpageRegions[superpageRegionCount] = region;
        }
        superpageRegionCount++;
    }

    private boolean superpageMayCover(long va) {
        if (superpageRegionCount > SUPERPAGE_REGIONS) {
            return true;
        }
        long region = va >> 30;
        for (int k = 0; k < superpageRegionCount; k++) {
            if (superpageRegions[k] == region) {
                return true;
            }
        }
        return false;
    }

    /**
     * An enabled, pending interrupt that should be taken now, or -1 (3.1.9): interrupts
     * for M are taken when running below M or when MIE is set; delegated (S-level) ones
     * when running in U, or in S with SIE set, never in M. Those destined for M come
     * first; within one destination the order is MEI, MSI, MTI, SEI, SSI, STI.
     */
    public int pendingInterrupt() {
        long pending = mip & mie;
        if (pending == 0) {
            return -1;
        }
        long toM = pending & ~mideleg;
        long enabled = 0;
        if (toM != 0 && (priv < PRIV_M || (mstatus & MSTATUS_MIE) != 0)) {
            enabled = toM;
        } else {
            long toS = pending & mideleg;
            if (toS != 0 && (priv < PRIV_S || (priv == PRIV_S && (mstatus & MSTATUS_SIE) != 0))) {
                enabled = toS;
            }
        }
        if (enabled == 0) {
            return -1;
        }
        for (int irq : INTERRUPT_PRIORITY) {
            if ((enabled & (1L << irq)) != 0) {
                return irq;
            }
        }
        return -1;
    }

    private static final int[] INTERRUPT_PRIORITY = {11, 3, 7, 9, 1, 5};

    // ---------------------------------------------------------------------------------
    // Sstc: STIP follows (time >= stimecmp) while menvcfg.STCE = 1.

    private boolean sstcActive() {
        return (menvcfg & MENVCFG_STCE) != 0 && timers != null;
    }

    private boolean stimecmpReached() {
        // stimecmp is unsigned: values with bit 63 set are never reached.
        return stimecmp >= 0 && timers.clock().mtime() >= stimecmp;
    }

    /** Recomputes STIP and the stimecmp timer after stimecmp, menvcfg or the time source changed. */
    private void updateSstc() {
        if (!sstcActive()) {
            if (stimecmpTimer != null) {
                stimecmpTimer.cancel();
            }
            return;
        }
        if (stimecmpReached()) {
            stimecmpTimer.cancel();
            setPending(MIP_STIP);
        } else {
            clearPending(MIP_STIP);
            if (stimecmp >= 0) {
                stimecmpTimer.arm(stimecmp);
            } else {
                stimecmpTimer.cancel();
            }
        }
    }

    private void stimecmpTimerFired() {
        updateSstc();
    }

    /** Brings STIP up to date before mip/sip is read (timers fire only between blocks). */
    private void refreshStip() {
        if (sstcActive() && stimecmpReached() && (mip & MIP_STIP) == 0) {
            updateSstc();
        }
    }

    // ---------------------------------------------------------------------------------
    // CSRs.

    /** CSR instruction kinds for {@link #csrAccess}. */
    public static final int CSR_RW = 0, CSR_RS = 1, CSR_RC = 2;

    /**
     * Executes the access part of a Zicsr instruction (unprivileged spec, "Zicsr"):
     * returns the old value; writes unless {@code write} is false (csrrs/csrrc with x0 or
     * a zero immediate). An illegal access records an illegal-instruction exception.
     */
    public long csrAccess(int csr, int kind, long src, boolean write) {
        int minPriv = (csr >>> 8) & 3;
        boolean readOnly = (csr >>> 10) == 3;
        if (priv < minPriv || (write && readOnly) || !accessible(csr)) {
            raise(Cause.ILLEGAL_INSN, 0);
            return 0;
        }
        long old = csrRead(csr);
        if (excCause >= 0) {
            return 0;
        }
        if (write) {
            // Read-modify-write of mip/sip uses the software-writable SEIP bit, not the
            // line OR-ed into reads (3.1.9).
            long base = csr == MIP ? (old & ~MIP_SEIP) | (seipSoft ? MIP_SEIP : 0) : old;
            long v = switch (kind) {
                case CSR_RW -> src;
                case CSR_RS -> base | src;
                default -> base & ~src;
            };
            csrWrite(csr, v);
        }
        return old;
    }

    /**
     * Access rules beyond the privilege encoded in the CSR number: counter enables
     * (mcounteren for S and U, scounteren too for U), mstatus.TVM for satp, and Sstc's
     * menvcfg.STCE / mcounteren.TM for stimecmp.
     */
    private boolean accessible(int csr) {
        if (priv == PRIV_M) {
            return true;
        }
        if (csr >= CYCLE && csr <= HPMCOUNTER31) {
            int bit = csr - CYCLE;
            return ((mcounteren >>> bit) & 1) != 0 && (priv == PRIV_S || ((scounteren >>> bit) & 1) != 0);
        }
        if (csr == SATP) {
            return (mstatus & MSTATUS_TVM) == 0;
        }
        if (csr == STIMECMP) {
            return (menvcfg & MENVCFG_STCE) != 0 && (mcounteren & 2) != 0;
        }
        return true;
    }

    private boolean fpOff() {
        return (mstatus & MSTATUS_FS) == 0;
    }

    public long csrRead(int csr) {
        switch (csr) {
            case FFLAGS, FRM, FCSR -> {
                if (fpOff()) {
                    break;
                }
                return csr == FFLAGS ? fp.flags : csr == FRM ? frm : (frm << 5) | fp.flags;
            }
            case CYCLE, MCYCLE -> {
                return instret + cycleOffset;
            }
            case INSTRET, MINSTRET -> {
                return instret + instretOffset;
            }
            case TIME -> {
                if (timers == null) {
                    break;
                }
                return timers.clock().mtime();
            }
            case MVENDORID, MARCHID, MIMPID, MCONFIGPTR, MSECCFG -> {
                return 0;
            }
            case MHARTID -> {
                return hartId;
            }
            case MSTATUS -> {
                return mstatus;
            }
            case SSTATUS -> {
                return mstatus & SSTATUS_MASK;
            }
            case MISA -> {
                return misa;
            }
            case MEDELEG -> {
                return medeleg;
            }
            case MIDELEG -> {
                return mideleg;
            }
            case MIE -> {
                return mie;
            }
            case SIE -> {
                return mie & mideleg;
            }
            case MTVEC -> {
                return mtvec;
            }
            case STVEC -> {
                return stvec;
            }
            case MCOUNTEREN -> {
                return mcounteren;
            }
            case SCOUNTEREN -> {
                return scounteren;
            }
            case MENVCFG -> {
                return menvcfg;
            }
            case SENVCFG -> {
                return senvcfg;
            }
            case MCOUNTINHIBIT -> {
                return mcountinhibit;
            }
            case MSCRATCH -> {
                return mscratch;
            }
            case SSCRATCH -> {
                return sscratch;
            }
            case MEPC -> {
                return mepc;
            }
            case SEPC -> {
                return sepc;
            }
            case MCAUSE -> {
                return mcause;
            }
            case SCAUSE -> {
                return scause;
            }
            case MTVAL -> {
                return mtval;
            }
            case STVAL -> {
                return stval;
            }
            case MIP -> {
                refreshStip();
                return mip;
            }
            case SIP -> {
                refreshStip();
                return mip & mideleg;
            }
            case SATP -> {
                return satp;
            }
            case STIMECMP -> {
                return stimecmp;
            }
            case TSELECT -> {
                return tselect;
            }
            case TDATA1, TDATA2, TDATA3 -> {
                return 0;
            }
            default -> {
                if (csr >= PMPCFG0 && csr <= PMPCFG15) {
                    if ((csr & 1) != 0) {
                        break; // odd pmpcfg registers do not exist on RV64
                    }
                    int first = (csr - PMPCFG0) * 4;
                    long v = 0;
                    for (int k = 0; k < 8 && first + k < 16; k++) {
                        v |= (pmpcfg[first + k] & 0xFFL) << (8 * k);
                    }
                    return first < 16 ? v : 0;
                }
                if (csr >= PMPADDR0 && csr <= PMPADDR63) {
                    int n = csr - PMPADDR0;
                    return n < 16 ? pmpaddr[n] : 0;
                }
                if ((csr >= HPMCOUNTER3 && csr <= HPMCOUNTER31) || (csr >= MHPMCOUNTER3 && csr <= MHPMCOUNTER31)
                        || (csr >= MHPMEVENT3 && csr <= MHPMEVENT31)) {
                    return 0; // Zihpm counters exist but count no events
                }
            }
        }
        raise(Cause.ILLEGAL_INSN, 0);
        return 0;
    }

    public void csrWrite(int csr, long v) {
        switch (csr) {
            case FFLAGS -> fp.flags = (int) v & 0x1F;
            case FRM -> frm = (int) v & 7;
            case FCSR -> {
                fp.flags = (int) v & 0x1F;
                frm = (int) (v >>> 5) & 7;
            }
            // The writing instruction itself still retires afterwards (+1): the next
            // instruction reads the written value.
            case MCYCLE -> cycleOffset = v - instret - 1;
            case MINSTRET -> instretOffset = v - instret - 1;
            case MSTATUS -> writeMstatus(v);
            case SSTATUS -> {
                long w = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR;
                writeMstatus((mstatus & ~w) | (v & w));
            }
            case MISA -> { } // WARL: extensions cannot be switched off
            case MEDELEG -> medeleg = v & MEDELEG_MASK;
            case MIDELEG -> mideleg = v & S_INTERRUPTS;
            case MIE -> mie = v & ALL_INTERRUPTS;
            case SIE -> mie = (mie & ~mideleg) | (v & mideleg);
            case MIP -> writeMip(v, MIP_SSIP | MIP_SEIP | ((menvcfg & MENVCFG_STCE) != 0 ? 0 : MIP_STIP));
            case SIP -> writeMip(v, MIP_SSIP & mideleg);
            case MTVEC -> mtvec = (v & 3) < 2 ? v & ~2L : (v & ~3L) | (mtvec & 3);
            case STVEC -> stvec = (v & 3) < 2 ? v & ~2L : (v & ~3L) | (stvec & 3);
            case MCOUNTEREN -> mcounteren = v & 0xFFFF_FFFFL;
            case SCOUNTEREN -> scounteren = v & 0xFFFF_FFFFL;
            case MENVCFG -> {
                menvcfg = v & (ENVCFG_FIOM | MENVCFG_STCE);
                updateSstc();
            }
            case SENVCFG -> senvcfg = v & ENVCFG_FIOM;
            case MCOUNTINHIBIT -> mcountinhibit = v & 0xFFFF_FFFDL;
            case MSCRATCH -> mscratch = v;
            case SSCRATCH -> sscratch = v;
            case MEPC -> mepc = v & ~1L;
            case SEPC -> sepc = v & ~1L;
            case MCAUSE -> mcause = v;
            case SCAUSE -> scause = v;
            case MTVAL -> mtval = v;
            case STVAL -> stval = v;
            case SATP -> writeSatp(v);
            case STIMECMP -> {
                stimecmp = v;
                updateSstc();
            }
            case TSELECT -> tselect = 0; // no triggers: tselect reads back 0, firmware stops probing
            case TDATA1, TDATA2, TDATA3, MSECCFG -> { }
            default -> {
                if (csr >= PMPCFG0 && csr <= PMPCFG15 && (csr & 1) == 0) {
                    writePmpcfg((csr - PMPCFG0) * 4, v);
                } else if (csr >= PMPADDR0 && csr <= PMPADDR63) {
                    writePmpaddr(csr - PMPADDR0, v);
                }
                // Zihpm counters and event selectors: writes are accepted and ignored.
            }
        }
    }

    private void writeMstatus(long v) {
        long writable = MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP
                | MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR;
        long old = mstatus;
        long s = (old & ~writable) | (v & writable);
        if ((s & MSTATUS_MPP) == 2L << MSTATUS_MPP_SHIFT) {
            s = (s & ~MSTATUS_MPP) | (old & MSTATUS_MPP); // MPP = 2 (H) does not exist: WARL, keep
        }
        s = (s & ~(MSTATUS_UXL | MSTATUS_SXL)) | MSTATUS_UXL_SXL_64;
        if ((s & MSTATUS_FS) == MSTATUS_FS) {
            s |= MSTATUS_SD;
        } else {
            s &= ~MSTATUS_SD;
        }
        mstatus = s;
        if (((old ^ s) & MSTATUS_MXR) != 0) {
            flushTranslatedData(); // MXR changes what the translated read entries allow
        }
        modeChanged();
    }

    /** mip/sip writes: only the bits in {@code writable} change; SEIP keeps its line. */
    private synchronized void writeMip(long v, long writable) {
        if ((writable & MIP_SEIP) != 0) {
            seipSoft = (v & MIP_SEIP) != 0;
        }
        long m = (mip & ~writable) | (v & writable);
        mip = (seipSoft || seipLine) ? m | MIP_SEIP : m & ~MIP_SEIP;
    }

    /**
     * satp (4.1.11): a write with an unsupported MODE has no effect at all (WARL). All 16
     * ASID bits are kept; translations are dropped on every write, so ASIDs never matter.
     */
    private void writeSatp(long v) {
        int mode = (int) (v >>> SATP_MODE_SHIFT);
        if (mode != SATP_BARE && Mmu.levels(mode) == 0) {
            return;
        }
        satp = v;
        satpMode = mode;
        flushTlb();
        modeChanged();
    }

    // PMP (3.7): 16 entries, 4-byte granularity; WARL rules, not enforced (see the class comment).

    private static final int PMP_L = 0x80, PMP_A = 0x18, PMP_TOR = 0x08, PMP_R = 1, PMP_W = 2;

    private void writePmpcfg(int first, long v) {
        for (int k = 0; k < 8 && first + k < 16; k++) {
            int cfg = (int) (v >>> (8 * k)) & 0x9F; // bits 6:5 are reserved (read zero)
            if ((cfg & (PMP_R | PMP_W)) == PMP_W) {
                cfg &= ~PMP_W; // R=0 W=1 is reserved: WARL, made read-only
            }
            if ((pmpcfg[first + k] & PMP_L) == 0) { // locked entries ignore writes
                pmpcfg[first + k] = (byte) cfg;
            }
        }
    }

    private void writePmpaddr(int n, long v) {
        if (n >= 16 || (pmpcfg[n] & PMP_L) != 0) {
            return;
        }
        // A locked TOR entry also locks the address register below it.
        if (n + 1 < 16 && (pmpcfg[n + 1] & PMP_L) != 0 && (pmpcfg[n + 1] & PMP_A) == PMP_TOR) {
            return;
        }
        pmpaddr[n] = v & ((1L << 54) - 1);
    }
}
