package dev.rivet.core.riscv;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.core.fp.FpStatus;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.rivet.core.riscv.Csr.*;

/**
 * Architectural state of one RISC-V hart (RV64), plus the memory paths every execution
 * tier uses: software TLBs in front of RAM, a slow path through the bus, and the trap
 * machinery (Privileged Architecture, chapter 3 "Machine-Level ISA").
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
 */
public final class Hart {
    public static final int X0 = 0, F0 = 32, DISCARD = 64, TMP0 = 65, NUM_TMPS = 15;
    public static final int REG_COUNT = TMP0 + NUM_TMPS;

    public static final int PRIV_U = 0, PRIV_S = 1, PRIV_M = 3;

    /** Software TLB geometry: direct mapped, one entry per 4 KiB virtual page. */
    public static final int TLB_BITS = 8, TLB_SIZE = 1 << TLB_BITS, TLB_MASK = TLB_SIZE - 1;
    public static final long PAGE_MASK = ~0xFFFL;
    private static final long TLB_INVALID = -1L; // never equals a page-aligned tag

    /** Mode bits that translated code depends on (see {@link #codeMode()}). */
    public static final int MODE_PRIV_MASK = 3, MODE_FS_OFF = 4;

    public final int hartId;
    public final long[] regs = new long[REG_COUNT];
    public long pc;
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
    /** Interrupt-pending bits; devices set them from other threads. */
    public volatile long mip;
    private final long[] pmpaddr = new long[16];
    private final byte[] pmpcfg = new byte[16];
    private long tselect;

    /** Set (from any thread) to make the execution loop return at the next block exit. */
    public volatile boolean stopRequested;
    /** The thread running this hart, to unpark it from {@code wfi}. */
    public volatile Thread hartThread;

    /** Pending synchronous exception from a slow path, or -1. */
    public int excCause = -1;
    public long excTval;

    /** LR/SC reservation: the reserved physical address, or -1. */
    public long reservation = -1;

    // Memory.
    private final Bus bus;
    private final GuestRam ramRegion;
    /** Guest RAM, for inline fast paths: offset = vaddr + addend from a TLB hit. */
    public final MemorySegment ram;
    private final long ramBase;
    private final CodePageMap codePages;
    public final long[] readTag = new long[TLB_SIZE], readAdd = new long[TLB_SIZE];
    public final long[] writeTag = new long[TLB_SIZE], writeAdd = new long[TLB_SIZE];

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

    /** Source of the {@code time} CSR, or null when the board has no timer. */
    private TimeSource timeSource;

    /** What the {@code time} CSR reads. */
    @FunctionalInterface
    public interface TimeSource {
        long mtime();
    }

    public Hart(int hartId, Bus bus, CodePageMap codePages) {
        this.hartId = hartId;
        this.bus = bus;
        this.ramRegion = bus.ram();
        this.ram = ramRegion.segment();
        this.ramBase = ramRegion.base();
        this.codePages = codePages;
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
        Arrays.fill(writeTag, TLB_INVALID);
    }

    private boolean watchedPage(long pa) {
        return watch != null && (pa & PAGE_MASK) >= (watchLo & PAGE_MASK) && (pa & PAGE_MASK) <= ((watchHi - 1) & PAGE_MASK);
    }

    public void setTimeSource(TimeSource ts) {
        this.timeSource = ts;
    }

    /** Power-on state (Privileged spec 3.4 "Reset"): M-mode, MIE=0, misa at its maximum. */
    public void reset(long resetPc) {
        Arrays.fill(regs, 0);
        pc = resetPc;
        priv = PRIV_M;
        fp.flags = 0;
        frm = 0;
        instret = 0;
        instretOffset = 0;
        cycleOffset = 0;
        mstatus = (long) PRIV_M << MSTATUS_MPP_SHIFT;
        misa = (2L << 62) | misaBit('I') | misaBit('M') | misaBit('A') | misaBit('F') | misaBit('D') | misaBit('C');
        medeleg = mideleg = mie = mtvec = mcounteren = menvcfg = mscratch = mepc = mcause = mtval = 0;
        mcountinhibit = 0;
        mip = 0;
        stopRequested = false;
        Arrays.fill(pmpaddr, 0);
        Arrays.fill(pmpcfg, (byte) 0);
        excCause = -1;
        reservation = -1;
        flushTlb();
    }

    /** Asks the execution loop to return soon; safe from any thread. */
    public void requestStop() {
        stopRequested = true;
        wake();
    }

    /** Sets interrupt-pending bits (devices, any thread) and wakes a hart parked in wfi. */
    public synchronized void setPending(long bits) {
        mip |= bits;
        wake();
    }

    public synchronized void clearPending(long bits) {
        mip &= ~bits;
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

    public void flushTlb() {
        Arrays.fill(readTag, TLB_INVALID);
        Arrays.fill(writeTag, TLB_INVALID);
    }

    public long ld(long va) {
        int i = (int) (va >>> 12) & TLB_MASK;
        if (readTag[i] == (va & PAGE_MASK) && (va & 0xFFF) <= 0x1000 - 8) {
            return ram.get(GuestRam.I64, va + readAdd[i]);
        }
        return loadSlow(va, 8);
    }

    public long lw(long va) {
        int i = (int) (va >>> 12) & TLB_MASK;
        if (readTag[i] == (va & PAGE_MASK) && (va & 0xFFF) <= 0x1000 - 4) {
            return ram.get(GuestRam.I32, va + readAdd[i]);
        }
        return (int) loadSlow(va, 4);
    }

    public long lwu(long va) {
        return lw(va) & 0xFFFF_FFFFL;
    }

    public long lh(long va) {
        int i = (int) (va >>> 12) & TLB_MASK;
        if (readTag[i] == (va & PAGE_MASK) && (va & 0xFFF) <= 0x1000 - 2) {
            return ram.get(GuestRam.I16, va + readAdd[i]);
        }
        return (short) loadSlow(va, 2);
    }

    public long lhu(long va) {
        return lh(va) & 0xFFFFL;
    }

    public long lb(long va) {
        int i = (int) (va >>> 12) & TLB_MASK;
        if (readTag[i] == (va & PAGE_MASK)) {
            return ram.get(GuestRam.I8, va + readAdd[i]);
        }
        return (byte) loadSlow(va, 1);
    }

    public long lbu(long va) {
        return lb(va) & 0xFFL;
    }

    public void sd(long va, long v) {
        int i = (int) (va >>> 12) & TLB_MASK;
        if (writeTag[i] == (va & PAGE_MASK) && (va & 0xFFF) <= 0x1000 - 8) {
            ram.set(GuestRam.I64, va + writeAdd[i], v);
            return;
        }
        storeSlow(va, 8, v);
    }

    public void sw(long va, long v) {
        int i = (int) (va >>> 12) & TLB_MASK;
        if (writeTag[i] == (va & PAGE_MASK) && (va & 0xFFF) <= 0x1000 - 4) {
            ram.set(GuestRam.I32, va + writeAdd[i], (int) v);
            return;
        }
        storeSlow(va, 4, v);
    }

    public void sh(long va, long v) {
        int i = (int) (va >>> 12) & TLB_MASK;
        if (writeTag[i] == (va & PAGE_MASK) && (va & 0xFFF) <= 0x1000 - 2) {
            ram.set(GuestRam.I16, va + writeAdd[i], (short) v);
            return;
        }
        storeSlow(va, 2, v);
    }

    public void sb(long va, long v) {
        int i = (int) (va >>> 12) & TLB_MASK;
        if (writeTag[i] == (va & PAGE_MASK)) {
            ram.set(GuestRam.I8, va + writeAdd[i], (byte) v);
            return;
        }
        storeSlow(va, 1, v);
    }

    /** Access kinds for {@link #translate}. */
    public static final int ACCESS_READ = 0, ACCESS_WRITE = 1, ACCESS_EXEC = 2;

    /**
     * Virtual to physical. Machine mode without paging is the identity; the MMU (Sv39/48/57)
     * plugs in here. On a fault sets {@link #excCause} and returns -1.
     */
    public long translate(long va, int access) {
        return va;
    }

    private static int accessFault(int access) {
        return switch (access) {
            case ACCESS_WRITE -> Cause.STORE_ACCESS_FAULT;
            case ACCESS_EXEC -> Cause.INSN_ACCESS_FAULT;
            default -> Cause.LOAD_ACCESS_FAULT;
        };
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
        long pa = translate(va, ACCESS_READ);
        if (excCause >= 0) {
            return 0;
        }
        if (ramRegion.contains(pa, size)) {
            int i = (int) (va >>> 12) & TLB_MASK;
            readTag[i] = va & PAGE_MASK;
            readAdd[i] = ((pa & PAGE_MASK) - ramBase) - (va & PAGE_MASK);
            return ramRegion.read(pa - ramBase, size);
        }
        Bus.Region r = bus.find(pa);
        if (r == null || size > r.size - (pa - r.base)) {
            raise(Cause.LOAD_ACCESS_FAULT, va);
            return 0;
        }
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
        long pa = translate(va, ACCESS_WRITE);
        if (excCause >= 0) {
            return;
        }
        if (ramRegion.contains(pa, size)) {
            codePages.notifyWrite(pa);
            boolean watched = watchedPage(pa);
            if (!watched && !codePages.isCode(pa)) {
                int i = (int) (va >>> 12) & TLB_MASK;
                writeTag[i] = va & PAGE_MASK;
                writeAdd[i] = ((pa & PAGE_MASK) - ramBase) - (va & PAGE_MASK);
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
     * and "Atomic Memory Operations"; PMAs: our MMIO regions do not support AMOs).
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
            codePages.notifyWrite(pa);
        }
        return pa - ramBase;
    }

    /**
     * Fetches one 16-bit instruction parcel for the decoder. Returns the parcel, or
     * {@code -1 - cause} on a fault. Marks the page as holding code.
     */
    public int fetchParcel(long va) {
        long pa = translate(va, ACCESS_EXEC);
        if (excCause >= 0) {
            int c = excCause;
            excCause = -1;
            return -1 - c;
        }
        if (ramRegion.contains(pa, 2)) {
            if (!codePages.isCode(pa)) {
                codePages.mark(pa);
                // The write TLB must not map a code page any more, whatever its virtual alias.
                Arrays.fill(writeTag, TLB_INVALID);
            }
            return (int) ramRegion.read(pa - ramBase, 2);
        }
        if (bus.isMapped(pa, 2)) {
            return (int) bus.read(pa, 2);
        }
        return -1 - accessFault(ACCESS_EXEC);
    }

    /** Physical page of a fetch address (the key of translated code), or -1 on a fault. */
    public long fetchPhys(long va) {
        long pa = translate(va, ACCESS_EXEC);
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

    /** Enters the trap handler for a synchronous exception at {@link #pc}. */
    public void trap(long cause, long tval) {
        if (cause == Cause.ECALL_S && sbi != null) {
            pc = sbi.ecall(this);
            return;
        }
        mepc = pc;
        mcause = cause;
        mtval = tval;
        long mie = (mstatus & MSTATUS_MIE) != 0 ? MSTATUS_MPIE : 0;
        mstatus = (mstatus & ~(MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP)) | mie | ((long) priv << MSTATUS_MPP_SHIFT);
        priv = PRIV_M;
        long base = mtvec & ~3L;
        boolean vectored = (mtvec & 3) == 1;
        pc = cause < 0 && vectored ? base + 4 * (cause & 0x3F) : base;
        reservation = -1;
    }

    /** {@code mret} (Privileged spec 3.3.2): returns to mepc in the mode held by MPP. */
    public void mret() {
        int mpp = (int) ((mstatus & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT);
        long mpie = mstatus & MSTATUS_MPIE;
        mstatus = (mstatus & ~(MSTATUS_MIE | MSTATUS_MPP)) | (mpie != 0 ? MSTATUS_MIE : 0) | MSTATUS_MPIE;
        // With only M-mode implemented MPP is always M; leave it there (WARL).
        mstatus |= (long) PRIV_M << MSTATUS_MPP_SHIFT;
        if (mpp != PRIV_M) {
            mstatus &= ~MSTATUS_MPRV;
        }
        priv = legalPriv(mpp);
        pc = mepc;
    }

    private int legalPriv(int p) {
        return PRIV_M; // S and U modes arrive with the privileged-architecture work
    }

    /** An enabled, pending interrupt that should be taken now, or -1. */
    public int pendingInterrupt() {
        long pending = mip & mie;
        if (pending == 0) {
            return -1;
        }
        if (priv == PRIV_M && (mstatus & MSTATUS_MIE) == 0) {
            return -1;
        }
        // Priority order (Privileged spec 3.1.9): MEI, MSI, MTI, SEI, SSI, STI.
        int[] order = INTERRUPT_PRIORITY;
        for (int irq : order) {
            if ((pending & (1L << irq)) != 0) {
                return irq;
            }
        }
        return -1;
    }

    private static final int[] INTERRUPT_PRIORITY = {11, 3, 7, 9, 1, 5};

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
        if (priv < minPriv || (write && readOnly)) {
            raise(Cause.ILLEGAL_INSN, 0);
            return 0;
        }
        long old = csrRead(csr);
        if (excCause >= 0) {
            return 0;
        }
        if (write) {
            long v = switch (kind) {
                case CSR_RW -> src;
                case CSR_RS -> old | src;
                default -> old & ~src;
            };
            csrWrite(csr, v);
        }
        return old;
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
                if (timeSource == null) {
                    break;
                }
                return timeSource.mtime();
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
            case MTVEC -> {
                return mtvec;
            }
            case MCOUNTEREN -> {
                return mcounteren;
            }
            case MENVCFG -> {
                return menvcfg;
            }
            case MCOUNTINHIBIT -> {
                return mcountinhibit;
            }
            case MSCRATCH -> {
                return mscratch;
            }
            case MEPC -> {
                return mepc;
            }
            case MCAUSE -> {
                return mcause;
            }
            case MTVAL -> {
                return mtval;
            }
            case MIP -> {
                return mip;
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
            case MISA -> { } // WARL: extensions cannot be switched off
            case MEDELEG, MIDELEG -> { } // no lower privilege modes to delegate to yet
            case MIE -> mie = v & 0x888L; // MSIE, MTIE, MEIE
            case MIP -> { } // machine-level pending bits are read-only
            case MTVEC -> mtvec = (v & 3) < 2 ? v & ~2L : (v & ~3L) | (mtvec & 3);
            case MCOUNTEREN -> mcounteren = v & 0xFFFF_FFFFL;
            case MENVCFG -> menvcfg = v & 1; // FIOM only
            case MCOUNTINHIBIT -> mcountinhibit = v & 0xFFFF_FFFDL;
            case MSCRATCH -> mscratch = v;
            case MEPC -> mepc = v & ~1L;
            case MCAUSE -> mcause = v;
            case MTVAL -> mtval = v;
            case TSELECT -> tselect = 0; // no triggers: tselect reads back 0, firmware stops probing
            case TDATA1, TDATA2, TDATA3, MSECCFG -> { }
            default -> {
                if (csr >= PMPCFG0 && csr <= PMPCFG15 && (csr & 1) == 0) {
                    int first = (csr - PMPCFG0) * 4;
                    for (int k = 0; k < 8 && first + k < 16; k++) {
                        byte cfg = (byte) (v >>> (8 * k));
                        if ((pmpcfg[first + k] & 0x80) == 0) { // locked entries ignore writes
                            pmpcfg[first + k] = (byte) (cfg & 0x9F);
                        }
                    }
                } else if (csr >= PMPADDR0 && csr <= PMPADDR63) {
                    int n = csr - PMPADDR0;
                    if (n < 16 && (pmpcfg[n] & 0x80) == 0) {
                        pmpaddr[n] = v & ((1L << 54) - 1);
                    }
                }
                // Zihpm counters and event selectors: writes are accepted and ignored.
            }
        }
    }

    private void writeMstatus(long v) {
        long writable = MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_FS | MSTATUS_MPRV;
        long s = (mstatus & ~writable) | (v & writable);
        s = (s & ~MSTATUS_MPP) | ((long) PRIV_M << MSTATUS_MPP_SHIFT);
        if ((s & MSTATUS_FS) == MSTATUS_FS) {
            s |= MSTATUS_SD;
        } else {
            s &= ~MSTATUS_SD;
        }
        mstatus = s;
    }
}
