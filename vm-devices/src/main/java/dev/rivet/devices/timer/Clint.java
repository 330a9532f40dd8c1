package dev.rivet.devices.timer;

import dev.rivet.core.bus.GuestErrorLog;
import dev.rivet.core.bus.MmioDevice;
import dev.rivet.core.fdt.FdtNode;
import dev.rivet.core.irq.IrqLine;
import dev.rivet.core.time.MachineClock;
import dev.rivet.core.time.Timer;
import dev.rivet.core.time.TimerQueue;

import java.util.Objects;

/**
 * SiFive CLINT, as QEMU's {@code virt} board has it at 0x0200_0000: per-hart software
 * interrupt ({@code msip}) and timer compare ({@code mtimecmp}) registers and the shared
 * {@code mtime} counter. Register layout from the SiFive FU540-C000 manual, chapter 9
 * "Core Local Interruptor (CLINT)", table "CLINT Register Map"; behaviour from the RISC-V
 * ACLINT specification, chapter 2 "Machine-level Timer Device (MTIMER)" and chapter 3
 * "Machine-level Software Interrupt Device (MSWI)".
 *
 * <ul>
 * <li>{@code msip[h]} (32-bit): bit 0 drives hart h's MSIP; the upper 31 bits read as zero.
 * <li>{@code mtimecmp[h]} (64-bit, also as two 32-bit halves): hart h's MTIP is the level
 *     {@code mtime >= mtimecmp[h]} (unsigned). It is re-evaluated at once when mtimecmp or
 *     mtime is written, and a {@link Timer} armed for the deadline raises it when machine
 *     time gets there.
 * <li>{@code mtime} (64-bit, also as halves): the {@link MachineClock} plus an offset; a
 *     guest write changes the offset, never the machine clock.
 * </ul>
 *
 * <p>Access sizes 4 and 8; an 8-byte access to the msip array is treated as two 32-bit ones.
 * Offsets where no register lives (including the registers of harts beyond {@code harts})
 * read as zero and log a guest error.
 * Deadlines are armed in the ticks of {@code clock}, so {@code timers} must run on that
 * same clock. Thread-safe: harts may access it concurrently and timers fire on hart threads.
 */
public final class Clint implements MmioDevice {
    /** Size of the register window ({@code reg} size QEMU virt prints). */
    public static final long MMIO_SIZE = 0x10000;

    /** msip[h] at MSIP_BASE + 4h. */
    public static final int MSIP_BASE = 0x0000;
    /** mtimecmp[h] at MTIMECMP_BASE + 8h. */
    public static final int MTIMECMP_BASE = 0x4000;
    /** The 64-bit mtime counter. */
    public static final int MTIME = 0xBFF8;

    private static final int MSIP_STRIDE = 4;
    private static final int MTIMECMP_STRIDE = 8;
    /** The most harts the layout has room for (mtimecmp array ends where mtime starts). */
    public static final int MAX_HARTS = (MTIME - MTIMECMP_BASE) / MTIMECMP_STRIDE;

    /** Local interrupt numbers (mip bits) named in {@code interrupts-extended}. */
    public static final int IRQ_M_SOFT = 3, IRQ_M_TIMER = 7;

    /** Only bit 0 of msip is implemented. */
    private static final int MSIP_MASK = 1;
    private static final long LOW_HALF = 0xFFFF_FFFFL;
    /** Reset value of mtimecmp: as far in the future as it gets, so MTIP starts low. */
    private static final long MTIMECMP_RESET = -1L;

    /** 32-bit register kinds that a window offset decodes to. */
    private enum Reg { MSIP, MTIMECMP_LO, MTIMECMP_HI, MTIME_LO, MTIME_HI, UNKNOWN }

    private final int harts;
    private final MachineClock clock;
    private final IrqLine[] msipLines;
    private final IrqLine[] mtipLines;
    private final Timer[] mtipTimers;
    private final GuestErrorLog log;

    // Architectural state (plain fields, snapshot-ready).
    private final int[] msip;
    private final long[] mtimecmp;
    /** mtime minus machine clock, set by guest writes to mtime. */
    private volatile long mtimeOffset;

    public Clint(int harts, MachineClock clock, TimerQueue timers, IrqLine[] msip, IrqLine[] mtip, GuestErrorLog log) {
        if (harts < 1 || harts > MAX_HARTS) {
            throw new IllegalArgumentException("CLINT supports 1.." + MAX_HARTS + " harts, not " + harts);
        }
        if (msip.length != harts || mtip.length != harts) {
            throw new IllegalArgumentException("need one msip and one mtip line per hart (" + harts + ")");
        }
        this.harts = harts;
        this.clock = Objects.requireNonNull(clock);
        this.msipLines = msip.clone();
        this.mtipLines = mtip.clone();
        this.log = Objects.requireNonNull(log);
        this.msip = new int[harts];
        this.mtimecmp = new long[harts];
        this.mtipTimers = new Timer[harts];
        for (int h = 0; h < harts; h++) {
            int hart = h;
            mtipTimers[h] = timers.create(() -> timerFired(hart));
        }
        reset();
    }

    @Override
    public String name() {
        return "clint";
    }

    @Override
    public int accessSizes() {
        return SIZE_4 | SIZE_8;
    }

    public int harts() {
        return harts;
    }

    /** The current mtime as the guest sees it: machine clock plus the guest-written offset. */
    public long mtime() {
        return clock.mtime() + mtimeOffset;
    }

    /** mtimecmp of {@code hart} (for a built-in SBI and debuggers). */
    public synchronized long mtimecmp(int hart) {
        return mtimecmp[hart];
    }

    /** Sets mtimecmp of {@code hart} as a 64-bit guest store would (for a built-in SBI). */
    public synchronized void setMtimecmp(int hart, long value) {
        mtimecmp[hart] = value;
        updateTimer(hart);
    }

    /** Sets hart's msip bit as a guest store would (for a built-in SBI's IPIs). */
    public synchronized void setMsip(int hart, boolean pending) {
        msip[hart] = pending ? 1 : 0;
        msipLines[hart].set(pending);
    }

    @Override
    public synchronized void reset() {
        mtimeOffset = 0;
        for (int h = 0; h < harts; h++) {
            msip[h] = 0;
            msipLines[h].lower();
            mtimecmp[h] = MTIMECMP_RESET;
            updateTimer(h);
        }
    }

    @Override
    public synchronized long read(long offset, int size) {
        if (!aligned(offset, size)) {
            return 0;
        }
        if (size == 8) {
            Reg r = decode(offset);
            return switch (r) {
                case MTIMECMP_LO -> mtimecmp[hartOf(r, offset)];
                case MTIME_LO -> mtime();
                case MSIP -> (read32(offset) & LOW_HALF) | (read32(offset + 4) << 32);
                default -> unknownRead(offset, size);
            };
        }
        return read32(offset) & LOW_HALF;
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        if (!aligned(offset, size)) {
            return;
        }
        if (size == 8) {
            Reg r = decode(offset);
            switch (r) {
                case MTIMECMP_LO -> setMtimecmp(hartOf(r, offset), value);
                case MTIME_LO -> setMtime(value);
                case MSIP -> {
                    write32(offset, value & LOW_HALF);
                    write32(offset + 4, value >>> 32);
                }
                default -> unknownWrite(offset, size, value);
            }
            return;
        }
        write32(offset, value & LOW_HALF);
    }

    private long read32(long offset) {
        Reg r = decode(offset);
        return switch (r) {
            case MSIP -> msip[hartOf(r, offset)];
            case MTIMECMP_LO -> mtimecmp[hartOf(r, offset)] & LOW_HALF;
            case MTIMECMP_HI -> mtimecmp[hartOf(r, offset)] >>> 32;
            case MTIME_LO -> mtime() & LOW_HALF;
            case MTIME_HI -> mtime() >>> 32;
            case UNKNOWN -> unknownRead(offset, 4);
        };
    }

    private void write32(long offset, long value) {
        Reg r = decode(offset);
        switch (r) {
            case MSIP -> setMsip(hartOf(r, offset), (value & MSIP_MASK) != 0);
            case MTIMECMP_LO -> {
                int h = hartOf(r, offset);
                setMtimecmp(h, (mtimecmp[h] & ~LOW_HALF) | value);
            }
            case MTIMECMP_HI -> {
                int h = hartOf(r, offset);
                setMtimecmp(h, (mtimecmp[h] & LOW_HALF) | (value << 32));
            }
            case MTIME_LO -> setMtime((mtime() & ~LOW_HALF) | value);
            case MTIME_HI -> setMtime((mtime() & LOW_HALF) | (value << 32));
            case UNKNOWN -> unknownWrite(offset, 4, value);
        }
    }

    private long unknownRead(long offset, int size) {
        log.guestError(String.format("clint: %d-byte read of unknown register at offset 0x%x", size, offset));
        return 0;
    }

    private void unknownWrite(long offset, int size, long value) {
        log.guestError(String.format("clint: %d-byte write of 0x%x to unknown register at offset 0x%x", size, value, offset));
    }

    /** Which 32-bit register the word at {@code offset} is (offset is 4-byte aligned). */
    private Reg decode(long offset) {
        if (offset >= MSIP_BASE && offset < MSIP_BASE + (long) harts * MSIP_STRIDE) {
            return Reg.MSIP;
        }
        if (offset >= MTIMECMP_BASE && offset < MTIMECMP_BASE + (long) harts * MTIMECMP_STRIDE) {
            return (offset & 4) == 0 ? Reg.MTIMECMP_LO : Reg.MTIMECMP_HI;
        }
        if (offset == MTIME) {
            return Reg.MTIME_LO;
        }
        if (offset == MTIME + 4) {
            return Reg.MTIME_HI;
        }
        return Reg.UNKNOWN;
    }

    private static int hartOf(Reg r, long offset) {
        return r == Reg.MSIP
                ? (int) ((offset - MSIP_BASE) / MSIP_STRIDE)
                : (int) ((offset - MTIMECMP_BASE) / MTIMECMP_STRIDE);
    }

    private boolean aligned(long offset, int size) {
        if ((offset & (size - 1)) == 0) {
            return true;
        }
        log.guestError(String.format("clint: misaligned %d-byte access at offset 0x%x", size, offset));
        return false;
    }

    private void setMtime(long value) {
        mtimeOffset = value - clock.mtime();
        for (int h = 0; h < harts; h++) {
            updateTimer(h);
        }
    }

    private synchronized void timerFired(int hart) {
        updateTimer(hart);
    }

    /**
     * Drives hart's MTIP to {@code mtime >= mtimecmp} and, while it is low, arms the timer for
     * the machine-clock tick at which it rises.
     */
    private void updateTimer(int hart) {
        long now = clock.mtime();
        long guestNow = now + mtimeOffset;
        boolean due = Long.compareUnsigned(guestNow, mtimecmp[hart]) >= 0;
        mtipLines[hart].set(due);
        long wait = mtimecmp[hart] - guestNow; // unsigned ticks until due
        long deadline = now + wait;
        if (due || wait < 0 || deadline < now) {
            mtipTimers[hart].cancel(); // due now, or not within 2^63 ticks
        } else {
            mtipTimers[hart].arm(deadline);
        }
    }

    /**
     * Adds this CLINT's node ({@code clint@<base>}) under {@code soc}, with the properties and
     * property order QEMU virt gives it. {@code cpuIntcPhandles[h]} is hart h's
     * {@code riscv,cpu-intc} node.
     */
    public FdtNode addTo(FdtNode soc, long base, int[] cpuIntcPhandles) {
        if (cpuIntcPhandles.length != harts) {
            throw new IllegalArgumentException("CLINT has " + harts + " harts, got " + cpuIntcPhandles.length + " phandles");
        }
        int[] ext = new int[harts * 4];
        for (int h = 0; h < harts; h++) {
            ext[4 * h] = cpuIntcPhandles[h];
            ext[4 * h + 1] = IRQ_M_SOFT;
            ext[4 * h + 2] = cpuIntcPhandles[h];
            ext[4 * h + 3] = IRQ_M_TIMER;
        }
        return soc.child(String.format("clint@%x", base))
                .cells("interrupts-extended", ext)
                .reg(base, MMIO_SIZE)
                .prop("compatible", "sifive,clint0", "riscv,clint0");
    }
}
