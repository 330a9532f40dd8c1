package dev.rivet.devices.rtc;

import dev.rivet.core.bus.GuestErrorLog;
import dev.rivet.core.bus.MmioDevice;
import dev.rivet.core.fdt.FdtNode;
import dev.rivet.core.irq.IrqLine;
import dev.rivet.core.time.MachineClock;
import dev.rivet.core.time.Timer;
import dev.rivet.core.time.TimerQueue;

import java.util.Objects;

/**
 * Goldfish RTC, the real-time clock of QEMU's {@code virt} board at 0x0010_1000: a 64-bit
 * count of nanoseconds since the Unix epoch and a one-shot alarm. Registers from the
 * Android emulator's GOLDFISH-VIRTUAL-HARDWARE.TXT, section "III. Goldfish real-time
 * clock (RTC)", plus the IRQ_ENABLED, CLEAR_ALARM and ALARM_STATUS registers QEMU's
 * hw/rtc/goldfish_rtc.c added and Linux's drivers/rtc/rtc-goldfish.c uses.
 *
 * <ul>
 * <li>Reading TIME_LOW samples the time, returns its low half and latches the high half
 *     for the following TIME_HIGH read. Writing TIME_LOW or TIME_HIGH replaces that half
 *     of the current time (Linux writes HIGH, then LOW).
 * <li>Writing ALARM_LOW arms the alarm for ALARM_HIGH:ALARM_LOW; an alarm at or before
 *     the current time fires at once. When it fires, ALARM_STATUS drops to 0 and the
 *     interrupt becomes pending; the line is {@code pending && IRQ_ENABLED}.
 *     CLEAR_INTERRUPT drops the pending interrupt, CLEAR_ALARM disarms.
 * </ul>
 *
 * <p>Time is {@code base + clock.nanos()}, where the base starts at
 * {@code epochNanosAtBoot} and guest writes to TIME move it; the machine clock itself is
 * never changed. The armed alarm follows such a move (it fires when the RTC's time reaches
 * it). Like QEMU and a battery-backed chip, {@link #reset()} leaves the time alone and
 * clears only the alarm and interrupt state.
 *
 * <p>Access size 4 (the bus fixes up others). Thread-safe: harts may access it
 * concurrently and the alarm timer fires on a hart thread.
 */
public final class GoldfishRtc implements MmioDevice {
    /** Size of the register window in QEMU virt's device tree ({@code reg} size). */
    public static final long MMIO_SIZE = 0x1000;

    public static final int TIME_LOW = 0x00;
    public static final int TIME_HIGH = 0x04;
    public static final int ALARM_LOW = 0x08;
    public static final int ALARM_HIGH = 0x0C;
    public static final int IRQ_ENABLED = 0x10;
    public static final int CLEAR_ALARM = 0x14;
    public static final int ALARM_STATUS = 0x18;
    public static final int CLEAR_INTERRUPT = 0x1C;

    private static final long LOW_HALF = 0xFFFF_FFFFL;
    private static final long NANOS_PER_TICK = 1_000_000_000L / MachineClock.FREQUENCY_HZ;

    private final MachineClock clock;
    private final Timer alarmTimer;
    private final IrqLine irq;
    private final GuestErrorLog log;

    // Device state (plain fields, snapshot-ready). All guarded by this.
    /** RTC time minus {@code clock.nanos()}; survives reset. */
    private long base;
    /** High half latched by the last TIME_LOW read. */
    private int timeHigh;
    private long alarmNext;
    private boolean alarmRunning;
    private boolean irqPending;
    private boolean irqEnabled;

    public GoldfishRtc(MachineClock clock, TimerQueue timers, long epochNanosAtBoot, IrqLine irq, GuestErrorLog log) {
        this.clock = Objects.requireNonNull(clock, "clock");
        if (timers.clock() != clock) {
            throw new IllegalArgumentException("the timer queue must run on the RTC's clock");
        }
        this.irq = Objects.requireNonNull(irq, "irq");
        this.log = Objects.requireNonNull(log, "log");
        this.alarmTimer = timers.create(this::alarmExpired);
        this.base = epochNanosAtBoot - clock.nanos();
        reset();
    }

    @Override
    public String name() {
        return "goldfish-rtc";
    }

    @Override
    public synchronized void reset() {
        alarmTimer.cancel();
        timeHigh = 0;
        alarmNext = 0;
        alarmRunning = false;
        irqPending = false;
        irqEnabled = false;
        updateIrq();
    }

    /** Nanoseconds since the Unix epoch, as the guest sees them now. */
    public synchronized long timeNanos() {
        return now();
    }

    private long now() {
        return base + clock.nanos();
    }

    @Override
    public synchronized long read(long offset, int size) {
        return switch (register(offset)) {
            case TIME_LOW -> {
                long t = now();
                timeHigh = (int) (t >>> 32);
                yield t & LOW_HALF;
            }
            case TIME_HIGH -> timeHigh & LOW_HALF;
            case ALARM_LOW -> alarmNext & LOW_HALF;
            case ALARM_HIGH -> alarmNext >>> 32;
            case IRQ_ENABLED -> irqEnabled ? 1 : 0;
            case ALARM_STATUS -> alarmRunning ? 1 : 0;
            case CLEAR_ALARM, CLEAR_INTERRUPT -> 0; // write-only
            default -> {
                log.guestError(String.format("%s: read of unknown register at offset 0x%x", name(), offset));
                yield 0;
            }
        };
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        long v = value & LOW_HALF;
        switch (register(offset)) {
            case TIME_LOW -> setTime((now() & ~LOW_HALF) | v);
            case TIME_HIGH -> setTime((now() & LOW_HALF) | v << 32);
            case ALARM_LOW -> {
                alarmNext = (alarmNext & ~LOW_HALF) | v;
                armAlarm();
            }
            case ALARM_HIGH -> alarmNext = (alarmNext & LOW_HALF) | v << 32;
            case IRQ_ENABLED -> {
                irqEnabled = (v & 1) != 0;
                updateIrq();
            }
            case CLEAR_ALARM -> {
                alarmTimer.cancel();
                alarmRunning = false;
            }
            case CLEAR_INTERRUPT -> {
                irqPending = false;
                updateIrq();
            }
            case ALARM_STATUS -> {
                // read-only
            }
            default -> log.guestError(String.format("%s: write of 0x%x to unknown register at offset 0x%x",
                    name(), value, offset));
        }
    }

    private static int register(long offset) {
        return offset >= 0 && offset <= CLEAR_INTERRUPT && (offset & 3) == 0 ? (int) offset : -1;
    }

    private void setTime(long nanos) {
        base = nanos - clock.nanos();
        if (alarmRunning) {
            armAlarm(); // the alarm is in RTC time: follow the move
        }
    }

    private void armAlarm() {
        long t = now();
        if (Long.compareUnsigned(alarmNext, t) <= 0) {
            alarmTimer.cancel();
            alarmRunning = false;
            raise();
        } else {
            alarmRunning = true;
            alarmTimer.arm(deadlineTicks(alarmNext - t));
        }
    }

    /** The first mtime at which at least {@code nanosAhead} more nanoseconds have passed. */
    private long deadlineTicks(long nanosAhead) {
        long ticks = Long.divideUnsigned(nanosAhead, NANOS_PER_TICK)
                + (Long.remainderUnsigned(nanosAhead, NANOS_PER_TICK) != 0 ? 1 : 0);
        long nowTicks = clock.mtime();
        return ticks < 0 || nowTicks + ticks < nowTicks ? Long.MAX_VALUE - 1 : nowTicks + ticks;
    }

    private synchronized void alarmExpired() {
        if (!alarmRunning) {
            return;
        }
        if (Long.compareUnsigned(alarmNext, now()) > 0) {
            alarmTimer.arm(deadlineTicks(alarmNext - now())); // not there yet (clock granularity)
            return;
        }
        alarmRunning = false;
        raise();
    }

    private void raise() {
        irqPending = true;
        updateIrq();
    }

    private void updateIrq() {
        irq.set(irqPending && irqEnabled);
    }

    /**
     * Adds {@code rtc@<base>} under {@code soc} with QEMU virt's properties:
     * {@code interrupts}, {@code interrupt-parent}, {@code reg},
     * {@code compatible = "google,goldfish-rtc"}.
     */
    public FdtNode addTo(FdtNode soc, long base, long size, int irqNumber, int plicPhandle) {
        return soc.child("rtc@" + Long.toHexString(base))
                .cells("interrupts", irqNumber)
                .cells("interrupt-parent", plicPhandle)
                .reg(base, size)
                .prop("compatible", "google,goldfish-rtc");
    }
}
