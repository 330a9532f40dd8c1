package dev.rivet.devices.intc;

import dev.rivet.core.bus.GuestErrorLog;
import dev.rivet.core.bus.MmioDevice;
import dev.rivet.core.fdt.FdtNode;
import dev.rivet.core.irq.IrqLine;

import java.util.Arrays;
import java.util.Objects;

/**
 * RISC-V Platform-Level Interrupt Controller, as the "RISC-V Platform-Level Interrupt
 * Controller Specification" v1.0.0 (github.com/riscv/riscv-plic-spec) describes it and
 * QEMU's {@code virt} board configures it: 3-bit priorities, two contexts per hart
 * (context 2h = hart h M-mode, 2h+1 = hart h S-mode).
 *
 * <ul>
 * <li>"Interrupt Gateways": each source has a level-triggered gateway. The first
 *     assertion of the level sets the source's pending (IP) bit; no further request is
 *     forwarded until the claimed interrupt is completed, and if the level is still high at
 *     completion the source becomes pending again. A request once forwarded stays pending
 *     even if the level drops before the claim.
 * <li>"Memory Map", "Interrupt Priorities" (WARL, 0 = never), "Interrupt Pending Bits"
 *     (read-only here), "Interrupt Enables" (bit 0 hardwired to 0), "Priority Thresholds"
 *     (interrupts with priority &lt;= threshold are masked).
 * <li>"Interrupt Claim Process": a read of claim/complete returns the enabled pending
 *     source of highest priority (ties: lowest ID) above the context's threshold, clears
 *     its IP bit and holds its gateway, or returns 0. Taking the threshold into account is
 *     QEMU's behaviour; the spec text says the threshold does not affect claims.
 * <li>"Interrupt Completion": writing an ID that is not enabled for the context
 *     is silently ignored, as is one that is not in flight.
 * </ul>
 *
 * <p>Each context drives an output line, high while it has a claimable interrupt. Devices
 * drive the inputs {@link #source(int)} from any thread; all state is guarded by this
 * object's monitor and output lines are driven while it is held, so an output's
 * implementation must not call back into the PLIC. 32-bit accesses only.
 */
public final class Plic implements MmioDevice {
    /** Size of the register window: QEMU virt's {@code reg} size (room for 512 harts x 2 contexts). */
    public static final long MMIO_SIZE = 0x600000;

    /** priority[src] at PRIORITY_BASE + 4*src (source 0 is reserved). */
    public static final int PRIORITY_BASE = 0x000000;
    /** Pending bits, 32 sources per word. */
    public static final int PENDING_BASE = 0x001000;
    /** Enable bits of context c at ENABLE_BASE + ENABLE_STRIDE*c, 32 sources per word. */
    public static final int ENABLE_BASE = 0x002000;
    public static final int ENABLE_STRIDE = 0x80;
    /** Per-context registers at CONTEXT_BASE + CONTEXT_STRIDE*c. */
    public static final int CONTEXT_BASE = 0x200000;
    public static final int CONTEXT_STRIDE = 0x1000;
    /** Offsets inside a context block. */
    public static final int THRESHOLD = 0x0, CLAIM_COMPLETE = 0x4;

    /** Implemented priority bits (QEMU virt: priorities 0..7). */
    public static final int PRIORITY_MASK = 7;
    /** Upper bounds from the memory map: 1024 source IDs, contexts that fit in {@link #MMIO_SIZE}. */
    public static final int MAX_SOURCES = 1024;
    public static final int MAX_CONTEXTS = (int) ((MMIO_SIZE - CONTEXT_BASE) / CONTEXT_STRIDE);

    /** Local interrupt numbers (mip bits) of the contexts, named in {@code interrupts-extended}. */
    public static final int IRQ_M_EXT = 11, IRQ_S_EXT = 9;

    private static final long WORD_MASK = 0xFFFF_FFFFL;

    /** Register blocks that a window offset decodes to. */
    private enum Block { PRIORITY, PENDING, ENABLE, CONTEXT, UNKNOWN }

    private final int sources;
    private final int contexts;
    private final int words;
    private final IrqLine[] outputs;
    private final IrqLine[] inputs;
    private final GuestErrorLog log;

    // State (plain fields, snapshot-ready). Bit maps hold 32 source IDs per int, ID n at bit n % 32 of word n / 32.
    private final int[] priority;
    private final int[] pending;
    /** Claimed and not yet completed: the gateway holds further requests. */
    private final int[] inFlight;
    /** The input wires as the devices last drove them. */
    private final int[] level;
    /** enable[c * words + w]. */
    private final int[] enable;
    private final int[] threshold;
    /** Last level driven on each context output. */
    private final boolean[] outputLevel;

    /**
     * @param sources        number of source IDs including the reserved 0 (QEMU virt: 96, so devices use 1..95)
     * @param contexts       number of hart contexts (2 per hart on virt)
     * @param contextOutputs one line per context, to the hart's MEIP (even contexts) or SEIP (odd)
     */
    public Plic(int sources, int contexts, IrqLine[] contextOutputs, GuestErrorLog log) {
        if (sources < 2 || sources > MAX_SOURCES) {
            throw new IllegalArgumentException("PLIC supports 2.." + MAX_SOURCES + " sources, not " + sources);
        }
        if (contexts < 1 || contexts > MAX_CONTEXTS) {
            throw new IllegalArgumentException("PLIC supports 1.." + MAX_CONTEXTS + " contexts, not " + contexts);
        }
        if (contextOutputs.length != contexts) {
            throw new IllegalArgumentException("need one output line per context (" + contexts + ")");
        }
        this.sources = sources;
        this.contexts = contexts;
        this.words = (sources + 31) / 32;
        this.outputs = contextOutputs.clone();
        this.log = Objects.requireNonNull(log);
        this.priority = new int[sources];
        this.pending = new int[words];
        this.inFlight = new int[words];
        this.level = new int[words];
        this.enable = new int[contexts * words];
        this.threshold = new int[contexts];
        this.outputLevel = new boolean[contexts];
        this.inputs = new IrqLine[sources];
        for (int id = 1; id < sources; id++) {
            int src = id;
            inputs[id] = l -> setInput(src, l);
        }
        reset();
    }

    /** Context number of hart {@code hart}'s M-mode on the virt layout. */
    public static int machineContext(int hart) {
        return 2 * hart;
    }

    /** Context number of hart {@code hart}'s S-mode on the virt layout. */
    public static int supervisorContext(int hart) {
        return 2 * hart + 1;
    }

    @Override
    public String name() {
        return "plic";
    }

    public int sources() {
        return sources;
    }

    public int contexts() {
        return contexts;
    }

    /** The input wire of source {@code id} (1 .. sources-1), for a device to drive. */
    public IrqLine source(int id) {
        if (id < 1 || id >= sources) {
            throw new IllegalArgumentException("PLIC source " + id + " out of range 1.." + (sources - 1));
        }
        return inputs[id];
    }

    @Override
    public synchronized void reset() {
        Arrays.fill(priority, 0);
        Arrays.fill(enable, 0);
        Arrays.fill(threshold, 0);
        Arrays.fill(inFlight, 0);
        // The input wires belong to the devices; a level still high is forwarded afresh.
        System.arraycopy(level, 0, pending, 0, words);
        for (int c = 0; c < contexts; c++) {
            outputLevel[c] = false;
            outputs[c].lower();
        }
        updateOutputs();
    }

    @Override
    public synchronized long read(long offset, int size) {
        int off = (int) offset;
        switch (blockOf(offset)) {
            case PRIORITY -> {
                return priority[(off - PRIORITY_BASE) >> 2];
            }
            case PENDING -> {
                return pending[(off - PENDING_BASE) >> 2] & WORD_MASK;
            }
            case ENABLE -> {
                return enable[enableIndex(off)] & WORD_MASK;
            }
            case CONTEXT -> {
                int ctx = (off - CONTEXT_BASE) / CONTEXT_STRIDE;
                switch ((off - CONTEXT_BASE) % CONTEXT_STRIDE) {
                    case THRESHOLD -> {
                        return threshold[ctx];
                    }
                    case CLAIM_COMPLETE -> {
                        return claim(ctx);
                    }
                    default -> {
                        // reserved word inside a context block: fall through to the error below
                    }
                }
            }
            case UNKNOWN -> {
                // reported below
            }
        }
        log.guestError(String.format("plic: %d-byte read of unknown register at offset 0x%x", size, offset));
        return 0;
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        int off = (int) offset;
        int v = (int) value;
        switch (blockOf(offset)) {
            case PRIORITY -> {
                int src = (off - PRIORITY_BASE) >> 2;
                if (src == 0) {
                    log.guestError("plic: write to the priority of reserved source 0");
                    return;
                }
                priority[src] = v & PRIORITY_MASK;
                updateOutputs();
                return;
            }
            case PENDING -> {
                log.guestError(String.format("plic: write of 0x%x to read-only pending bits at offset 0x%x", value, offset));
                return;
            }
            case ENABLE -> {
                enable[enableIndex(off)] = v & validBits((off - ENABLE_BASE) % ENABLE_STRIDE >> 2);
                updateOutputs();
                return;
            }
            case CONTEXT -> {
                int ctx = (off - CONTEXT_BASE) / CONTEXT_STRIDE;
                switch ((off - CONTEXT_BASE) % CONTEXT_STRIDE) {
                    case THRESHOLD -> {
                        threshold[ctx] = v & PRIORITY_MASK;
                        updateOutputs();
                        return;
                    }
                    case CLAIM_COMPLETE -> {
                        complete(ctx, value);
                        return;
                    }
                    default -> {
                        // reserved word inside a context block: reported below
                    }
                }
            }
            case UNKNOWN -> {
                // reported below
            }
        }
        log.guestError(String.format("plic: %d-byte write of 0x%x to unknown register at offset 0x%x", size, value, offset));
    }

    /** Which register block an offset falls in, UNKNOWN when misaligned or past what this PLIC implements. */
    private Block blockOf(long offset) {
        if ((offset & 3) != 0 || offset < 0 || offset >= MMIO_SIZE) {
            return Block.UNKNOWN;
        }
        if (offset < PENDING_BASE) {
            return (offset - PRIORITY_BASE) >> 2 < sources ? Block.PRIORITY : Block.UNKNOWN;
        }
        if (offset < ENABLE_BASE) {
            return (offset - PENDING_BASE) >> 2 < words ? Block.PENDING : Block.UNKNOWN;
        }
        if (offset < CONTEXT_BASE) {
            long ctx = (offset - ENABLE_BASE) / ENABLE_STRIDE;
            long word = (offset - ENABLE_BASE) % ENABLE_STRIDE >> 2;
            return ctx < contexts && word < words ? Block.ENABLE : Block.UNKNOWN;
        }
        return (offset - CONTEXT_BASE) / CONTEXT_STRIDE < contexts ? Block.CONTEXT : Block.UNKNOWN;
    }

    private int enableIndex(int off) {
        int ctx = (off - ENABLE_BASE) / ENABLE_STRIDE;
        int word = (off - ENABLE_BASE) % ENABLE_STRIDE >> 2;
        return ctx * words + word;
    }

    /** Bits of word {@code w} that name implemented sources (never source 0). */
    private int validBits(int w) {
        int bits = -1;
        if (w == 0) {
            bits &= ~1;
        }
        int above = sources - 32 * w; // how many IDs of this word exist
        if (above < 32) {
            bits &= (1 << above) - 1;
        }
        return bits;
    }

    /** A device drove source {@code id}'s wire; the gateway forwards a request if it may. */
    private synchronized void setInput(int id, boolean high) {
        int w = id >> 5, bit = 1 << (id & 31);
        if (high) {
            level[w] |= bit;
            if ((inFlight[w] & bit) == 0 && (pending[w] & bit) == 0) {
                pending[w] |= bit;
                updateOutputs();
            }
        } else {
            level[w] &= ~bit; // a forwarded request stays pending
        }
    }

    /** The claimable source of highest priority for {@code ctx} (ties: lowest ID), or 0. */
    private int best(int ctx) {
        int bestId = 0, bestPriority = threshold[ctx];
        for (int w = 0; w < words; w++) {
            int bits = pending[w] & enable[ctx * words + w];
            while (bits != 0) {
                int id = 32 * w + Integer.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                if (priority[id] > bestPriority) {
                    bestId = id;
                    bestPriority = priority[id];
                }
            }
        }
        return bestId;
    }

    private int claim(int ctx) {
        int id = best(ctx);
        if (id != 0) {
            int w = id >> 5, bit = 1 << (id & 31);
            pending[w] &= ~bit;
            inFlight[w] |= bit;
            updateOutputs();
        }
        return id;
    }

    private void complete(int ctx, long value) {
        if (value <= 0 || value >= sources) {
            log.guestError(String.format("plic: context %d completed nonexistent source %d", ctx, value));
            return;
        }
        int id = (int) value, w = id >> 5, bit = 1 << (id & 31);
        if ((enable[ctx * words + w] & bit) == 0 || (inFlight[w] & bit) == 0) {
            return; // not enabled for this context or not claimed: silently ignored ("Interrupt Completion")
        }
        inFlight[w] &= ~bit;
        if ((level[w] & bit) != 0) {
            pending[w] |= bit; // level still asserted: the gateway forwards a new request
        }
        updateOutputs();
    }

    private void updateOutputs() {
        for (int c = 0; c < contexts; c++) {
            boolean high = best(c) != 0;
            if (high != outputLevel[c]) {
                outputLevel[c] = high;
                outputs[c].set(high);
            }
        }
    }

    /**
     * Adds this PLIC's node ({@code plic@<base>}) under {@code soc}, with the properties and
     * property order QEMU virt gives it, and returns it; devices use its {@code phandle()} as
     * their {@code interrupt-parent}. {@code cpuIntcPhandles[h]} is hart h's
     * {@code riscv,cpu-intc} node; the PLIC must have two contexts per hart.
     */
    public FdtNode addTo(FdtNode soc, long base, int[] cpuIntcPhandles) {
        if (contexts != 2 * cpuIntcPhandles.length) {
            throw new IllegalArgumentException("PLIC has " + contexts + " contexts, not 2 per hart for "
                    + cpuIntcPhandles.length + " harts");
        }
        int[] ext = new int[contexts * 2];
        for (int h = 0; h < cpuIntcPhandles.length; h++) {
            ext[2 * machineContext(h)] = cpuIntcPhandles[h];
            ext[2 * machineContext(h) + 1] = IRQ_M_EXT;
            ext[2 * supervisorContext(h)] = cpuIntcPhandles[h];
            ext[2 * supervisorContext(h) + 1] = IRQ_S_EXT;
        }
        FdtNode node = soc.child(String.format("plic@%x", base));
        node.phandle();
        return node.cells("riscv,ndev", sources - 1)
                .reg(base, MMIO_SIZE)
                .cells("interrupts-extended", ext)
                .flag("interrupt-controller")
                .prop("compatible", "sifive,plic-1.0.0", "riscv,plic0")
                .cells("#address-cells", 0)
                .cells("#interrupt-cells", 1);
    }
}
