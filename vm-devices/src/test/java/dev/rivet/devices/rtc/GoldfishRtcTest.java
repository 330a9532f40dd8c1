package dev.rivet.devices.rtc;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.MmioDevice;
import dev.rivet.core.fdt.Fdt;
import dev.rivet.core.irq.IrqLine;
import dev.rivet.core.time.ManualClock;
import dev.rivet.core.time.MachineClock;
import dev.rivet.core.time.TimerQueue;
import dev.rivet.devices.DeviceTrees;
import dev.rivet.devices.MmioDeviceContract;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static dev.rivet.devices.rtc.GoldfishRtc.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Drives the RTC the way Linux's drivers/rtc/rtc-goldfish.c does, on virtual time. */
class GoldfishRtcTest extends MmioDeviceContract {
    /** 2023-11-14T22:13:20Z. */
    static final long EPOCH = 1_700_000_000L * 1_000_000_000L;
    static final long TICKS_PER_SECOND = MachineClock.FREQUENCY_HZ;
    static final long SECOND = 1_000_000_000L;

    static final class Wire implements IrqLine {
        volatile boolean level;

        @Override
        public void set(boolean l) {
            level = l;
        }
    }

    final ManualClock clock = new ManualClock();
    final TimerQueue timers = new TimerQueue(clock);
    final Wire irq = new Wire();
    GoldfishRtc rtc;

    @BeforeEach
    void setUp() {
        clock.set(5 * TICKS_PER_SECOND); // booted a while ago
        rtc = new GoldfishRtc(clock, timers, EPOCH, irq, log);
    }

    @Override
    protected MmioDevice newDevice() {
        ManualClock c = new ManualClock();
        return new GoldfishRtc(c, new TimerQueue(c), EPOCH, new Wire(), log);
    }

    @Override
    protected long regionSize() {
        return MMIO_SIZE;
    }

    @Override
    protected long[] unknownOffsets() {
        return new long[] {0x20, 0x24, 0x100, 0xFFC};
    }

    /**
     * Everything but the time itself, which survives reset (battery-backed, as in QEMU);
     * TIME_HIGH is read before TIME_LOW, so it shows the latch.
     */
    @Override
    protected Map<String, Long> readableState(MmioDevice d) {
        Map<String, Long> s = new LinkedHashMap<>();
        s.put("TIME_HIGH latch", d.read(TIME_HIGH, 4));
        s.put("ALARM_LOW", d.read(ALARM_LOW, 4));
        s.put("ALARM_HIGH", d.read(ALARM_HIGH, 4));
        s.put("IRQ_ENABLED", d.read(IRQ_ENABLED, 4));
        s.put("ALARM_STATUS", d.read(ALARM_STATUS, 4));
        return s;
    }

    long in(int reg) {
        return Bus.readDevice(rtc, reg, 4);
    }

    void out(int reg, long v) {
        Bus.writeDevice(rtc, reg, 4, v);
    }

    /** goldfish_rtc_read_time. */
    long readTime() {
        long low = in(TIME_LOW);
        long high = in(TIME_HIGH);
        return high << 32 | low;
    }

    /** goldfish_rtc_set_time. */
    void setTime(long nanos) {
        out(TIME_HIGH, nanos >>> 32);
        out(TIME_LOW, nanos & 0xFFFF_FFFFL);
    }

    /** goldfish_rtc_set_alarm with enabled = 1. */
    void setAlarm(long nanos) {
        out(ALARM_HIGH, nanos >>> 32);
        out(ALARM_LOW, nanos & 0xFFFF_FFFFL);
        out(IRQ_ENABLED, 1);
    }

    void advance(long ticks) {
        clock.advance(ticks);
        timers.runDue();
    }

    @Test
    void timeStartsAtTheGivenEpochAndFollowsTheMachineClock() {
        assertEquals(EPOCH, readTime());
        advance(3 * TICKS_PER_SECOND);
        assertEquals(EPOCH + 3 * SECOND, readTime());
        clock.advance(1);
        assertEquals(EPOCH + 3 * SECOND + 100, readTime(), "100 ns per 10 MHz tick");
    }

    @Test
    void readingTimeLowLatchesTimeHigh() {
        long t0 = (EPOCH | 0xFFFF_FFFFL) - 50; // just below a carry into the high half
        setTime(t0);
        long low = in(TIME_LOW);
        clock.advance(10); // 1000 ns: the live high half has moved on
        assertEquals((t0 + 1000) >>> 32, rtc.timeNanos() >>> 32);
        assertEquals(t0 >>> 32, in(TIME_HIGH), "TIME_HIGH is the half latched with TIME_LOW");
        assertEquals(t0 & 0xFFFF_FFFFL, low);
    }

    @Test
    void settingTheTimeMovesOnlyTheRtc() {
        long mtime = clock.mtime();
        long when = 2_000_000_000L * SECOND;
        setTime(when);
        assertEquals(when, readTime());
        assertEquals(mtime, clock.mtime(), "the machine clock is untouched");
        advance(TICKS_PER_SECOND);
        assertEquals(when + SECOND, readTime());
    }

    @Test
    void alarmFiresThroughTheTimerQueue() {
        setAlarm(EPOCH + 2 * SECOND);
        assertEquals(1, in(ALARM_STATUS));
        assertEquals(EPOCH + 2 * SECOND, in(ALARM_HIGH) << 32 | in(ALARM_LOW));
        advance(TICKS_PER_SECOND);
        assertFalse(irq.level);
        advance(TICKS_PER_SECOND - 1);
        assertFalse(irq.level, "one tick early");
        advance(1);
        assertTrue(irq.level);
        assertEquals(0, in(ALARM_STATUS));
        // goldfish_rtc_interrupt: clear it.
        out(CLEAR_INTERRUPT, 0);
        assertFalse(irq.level);
    }

    @Test
    void alarmInThePastFiresAtOnce() {
        setAlarm(EPOCH - SECOND);
        assertTrue(irq.level);
        assertEquals(0, in(ALARM_STATUS));
    }

    @Test
    void clearAlarmDisarms() {
        setAlarm(EPOCH + SECOND);
        out(CLEAR_ALARM, 0);
        assertEquals(0, in(ALARM_STATUS));
        advance(10 * TICKS_PER_SECOND);
        assertFalse(irq.level);
    }

    @Test
    void irqEnabledGatesTheLine() {
        out(ALARM_HIGH, (EPOCH + SECOND) >>> 32);
        out(ALARM_LOW, (EPOCH + SECOND) & 0xFFFF_FFFFL);
        advance(TICKS_PER_SECOND);
        assertFalse(irq.level, "pending but not enabled");
        assertEquals(0, in(IRQ_ENABLED));
        out(IRQ_ENABLED, 1);
        assertEquals(1, in(IRQ_ENABLED));
        assertTrue(irq.level, "the pending interrupt shows once enabled");
        out(IRQ_ENABLED, 0);
        assertFalse(irq.level);
    }

    @Test
    void theAlarmFollowsTheTimeWhenTheGuestSetsIt() {
        setAlarm(EPOCH + 10 * SECOND);
        setTime(EPOCH + 9 * SECOND);
        advance(TICKS_PER_SECOND);
        assertTrue(irq.level, "fires when the RTC reaches the alarm, 1 s after the clock was set");
    }

    @Test
    void resetKeepsTheTimeAndClearsTheAlarm() {
        setTime(EPOCH + 1234 * SECOND);
        setAlarm(EPOCH + 1240 * SECOND);
        rtc.reset();
        assertEquals(EPOCH + 1234 * SECOND, readTime());
        assertEquals(0, in(ALARM_STATUS));
        assertEquals(0, in(IRQ_ENABLED));
        advance(100 * TICKS_PER_SECOND);
        assertFalse(irq.level, "the alarm timer was cancelled");
    }

    @Test
    void timersMustRunOnTheSameClock() {
        assertThrows(IllegalArgumentException.class,
                () -> new GoldfishRtc(clock, new TimerQueue(new ManualClock()), EPOCH, irq, log));
    }

    @Test
    void deviceTreeNode() throws Exception {
        Fdt fdt = new Fdt();
        rtc.addTo(fdt.node("/soc"), 0x10_1000L, MMIO_SIZE, 11, 3);
        assertEquals("""
                rtc@101000 {
                interrupts = <0x0b>;
                interrupt-parent = <0x03>;
                reg = <0x00 0x101000 0x00 0x1000>;
                compatible = "google,goldfish-rtc";
                };
                """, DeviceTrees.node(fdt, "rtc@101000"));
    }

    @Test
    void deviceTreeNodeMatchesQemu() throws Exception {
        String qemu = DeviceTrees.node(DeviceTrees.qemuVirt(), "rtc@101000");
        Fdt fdt = new Fdt();
        rtc.addTo(fdt.node("/soc"), 0x10_1000L, MMIO_SIZE, 11, 3);
        assertEquals(qemu, DeviceTrees.node(fdt, "rtc@101000"));
    }
}
