package dev.rivet.devices.timer;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.MmioDevice;
import dev.rivet.core.fdt.Fdt;
import dev.rivet.core.fdt.FdtNode;
import dev.rivet.core.irq.IrqLine;
import dev.rivet.core.time.ManualClock;
import dev.rivet.core.time.TimerQueue;
import dev.rivet.devices.DeviceTrees;
import dev.rivet.devices.MmioDeviceContract;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Drives the CLINT through its registers the way OpenSBI and Linux's clint driver do. */
class ClintTest extends MmioDeviceContract {
    static final long MSIP0 = Clint.MSIP_BASE, MSIP1 = Clint.MSIP_BASE + 4;
    static final long MTIMECMP0 = Clint.MTIMECMP_BASE, MTIMECMP1 = Clint.MTIMECMP_BASE + 8;
    static final long MTIME = Clint.MTIME;

    /** An interrupt wire that remembers its level and every change. */
    static final class Wire implements IrqLine {
        volatile boolean level;
        final List<Boolean> history = new ArrayList<>();

        @Override
        public synchronized void set(boolean l) {
            if (l != level) {
                history.add(l);
            }
            level = l;
        }

        synchronized int rises() {
            return (int) history.stream().filter(b -> b).count();
        }
    }

    ManualClock clock;
    TimerQueue timers;
    Wire[] msip;
    Wire[] mtip;
    Clint clint;

    @BeforeEach
    void setUp() {
        clock = new ManualClock();
        timers = new TimerQueue(clock);
        msip = new Wire[] {new Wire(), new Wire()};
        mtip = new Wire[] {new Wire(), new Wire()};
        clint = new Clint(2, clock, timers, msip, mtip, log);
    }

    /** Each contract device's MSIP and MTIP wires. */
    final Map<MmioDevice, Wire[]> contractWires = new IdentityHashMap<>();

    @Override
    protected MmioDevice newDevice() {
        ManualClock c = new ManualClock();
        c.set(777);
        Wire[] w = {new Wire(), new Wire(), new Wire(), new Wire()};
        Clint d = new Clint(2, c, new TimerQueue(c), new IrqLine[] {w[0], w[1]}, new IrqLine[] {w[2], w[3]}, log);
        contractWires.put(d, w);
        return d;
    }

    @Override
    protected long regionSize() {
        return Clint.MMIO_SIZE;
    }

    @Override
    protected long[] unknownOffsets() {
        return new long[] {MSIP0 + 8, 0x3FF8, Clint.MTIMECMP_BASE + 16, 0xBFF0, 0xC000, Clint.MMIO_SIZE - 8};
    }

    @Override
    protected Map<String, Long> readableState(MmioDevice d) {
        Map<String, Long> s = new LinkedHashMap<>();
        s.put("msip0", d.read(MSIP0, 4));
        s.put("msip1", d.read(MSIP1, 4));
        s.put("mtimecmp0", d.read(MTIMECMP0, 8));
        s.put("mtimecmp1", d.read(MTIMECMP1, 8));
        s.put("mtime", d.read(MTIME, 8));
        Wire[] w = contractWires.get(d);
        for (int i = 0; i < w.length; i++) {
            s.put((i < 2 ? "msip line " : "mtip line ") + i % 2, w[i].level ? 1L : 0L);
        }
        return s;
    }

    long r32(long off) {
        return Bus.readDevice(clint, off, 4);
    }

    long r64(long off) {
        return Bus.readDevice(clint, off, 8);
    }

    void w32(long off, long v) {
        Bus.writeDevice(clint, off, 4, v);
    }

    void w64(long off, long v) {
        Bus.writeDevice(clint, off, 8, v);
    }

    /** What the hart's execution loop does between blocks. */
    void poll() {
        if (timers.nextDeadline() <= clock.mtime()) {
            timers.runDue();
        }
    }

    @Test
    void powerOnState() {
        assertEquals(MmioDevice.SIZE_4 | MmioDevice.SIZE_8, clint.accessSizes());
        assertEquals(0, r32(MSIP0));
        assertEquals(-1L, r64(MTIMECMP0), "mtimecmp starts far in the future");
        assertEquals(0, r64(MTIME));
        assertFalse(mtip[0].level);
        assertFalse(msip[0].level);
        assertEquals(Long.MAX_VALUE, timers.nextDeadline(), "no timer armed for an all-ones mtimecmp");
        assertTrue(guestErrors.isEmpty());
    }

    @Test
    void mtipRisesWhenTimeReachesMtimecmp() {
        clock.set(1000);
        w64(MTIMECMP0, 1500);
        assertFalse(mtip[0].level);
        assertEquals(1500, timers.nextDeadline(), "timer armed for the deadline");

        clock.advance(499);
        poll();
        assertFalse(mtip[0].level, "one tick early");

        clock.advance(1);
        poll();
        assertTrue(mtip[0].level, "MTIP at mtime == mtimecmp");
        assertFalse(mtip[1].level, "other hart untouched");
        assertEquals(Long.MAX_VALUE, timers.nextDeadline(), "nothing left to wait for");
    }

    @Test
    void writingAPastMtimecmpRaisesMtipAtOnce() {
        clock.set(1000);
        w64(MTIMECMP0, 999);
        assertTrue(mtip[0].level, "no timer poll needed");
    }

    @Test
    void raisingMtimecmpLowersMtip() {
        clock.set(1000);
        w64(MTIMECMP0, 0);
        assertTrue(mtip[0].level);

        // The handler acknowledges the timer by programming the next event.
        w64(MTIMECMP0, 1100);
        assertFalse(mtip[0].level);
        assertEquals(1100, r64(MTIMECMP0));

        clock.advance(100);
        poll();
        assertTrue(mtip[0].level);

        // "Disable" the timer the way Linux does: mtimecmp = all ones.
        w64(MTIMECMP0, -1L);
        assertFalse(mtip[0].level);
        assertEquals(Long.MAX_VALUE, timers.nextDeadline());
    }

    @Test
    void msipDrivesTheSoftwareInterrupt() {
        w32(MSIP1, 1);
        assertTrue(msip[1].level);
        assertFalse(msip[0].level);
        assertEquals(1, r32(MSIP1));

        w32(MSIP1, 0xFFFF_FFFEL);
        assertFalse(msip[1].level, "only bit 0 is implemented");
        assertEquals(0, r32(MSIP1));

        w32(MSIP0, 0xFFFF_FFFFL);
        assertEquals(1, r32(MSIP0), "upper bits read as zero");
        assertTrue(msip[0].level);
        assertEquals(1, r64(MSIP0), "an 8-byte read covers msip0 and msip1");
    }

    /**
     * RV32 software updates mtimecmp in halves. Writing the low half first can make a
     * transient value in the past; the classic sequence writes all ones to the high half
     * first so no spurious interrupt is ever seen.
     */
    @Test
    void mtimecmpHalvesWithTheClassicSequence() {
        long old = 0x1_FFFF_0000L, next = 0x2_0000_0050L;
        clock.set(0x1_0000_0100L);
        w64(MTIMECMP0, old);
        assertFalse(mtip[0].level);

        // The naive order glitches: (old high, new low) = 0x1_0000_0050 lies in the past.
        w32(MTIMECMP0, next & 0xFFFF_FFFFL);
        assertTrue(mtip[0].level);
        w32(MTIMECMP0 + 4, next >>> 32);
        assertFalse(mtip[0].level);
        assertEquals(1, mtip[0].rises());

        // The sequence of the privileged spec (3.2.1): high half to all ones first.
        w64(MTIMECMP0, old);
        w32(MTIMECMP0 + 4, 0xFFFF_FFFFL);
        w32(MTIMECMP0, next & 0xFFFF_FFFFL);
        w32(MTIMECMP0 + 4, next >>> 32);
        assertEquals(1, mtip[0].rises(), "no further glitch");
        assertFalse(mtip[0].level);
        assertEquals(next, r64(MTIMECMP0));
        assertEquals(0x50, r32(MTIMECMP0));
        assertEquals(2, r32(MTIMECMP0 + 4));
        assertEquals(next, timers.nextDeadline(), "armed for the final value");

        clock.set(next);
        poll();
        assertTrue(mtip[0].level);
    }

    @Test
    void mtimeReadsTheMachineClock() {
        clock.set(0x1_2345_6789L);
        assertEquals(0x1_2345_6789L, r64(MTIME));
        assertEquals(0x2345_6789L, r32(MTIME));
        assertEquals(1, r32(MTIME + 4));
        assertEquals(0x1_2345_6789L, clint.mtime());
    }

    @Test
    void writingMtimeSetsAnOffset() {
        clock.set(100);
        w64(MTIMECMP0, 4000);
        w64(MTIME, 5000);
        assertEquals(5000, r64(MTIME));
        assertTrue(mtip[0].level, "mtime moved past mtimecmp");
        assertEquals(100, clock.mtime(), "the machine clock itself is untouched");

        clock.advance(10);
        assertEquals(5010, clint.mtime());

        w64(MTIME, 0);
        assertFalse(mtip[0].level, "mtime moved back before mtimecmp");
        assertEquals(110 + 4000, timers.nextDeadline(), "deadline in machine-clock ticks");
        clock.advance(3999);
        poll();
        assertFalse(mtip[0].level);
        clock.advance(1);
        poll();
        assertTrue(mtip[0].level);
        assertEquals(4000, r64(MTIME));

        // RV32 style: the halves.
        w32(MTIME + 4, 7);
        assertEquals(0x7_0000_0000L + 4000, r64(MTIME));
        w32(MTIME, 0);
        assertEquals(0x7_0000_0000L, r64(MTIME));
    }

    @Test
    void twoHartsHaveIndependentTimers() {
        w64(MTIMECMP0, 300);
        w64(MTIMECMP1, 200);
        assertEquals(200, timers.nextDeadline());
        clock.set(200);
        poll();
        assertTrue(mtip[1].level);
        assertFalse(mtip[0].level);
        clock.set(300);
        poll();
        assertTrue(mtip[0].level);
        assertEquals(200, r32(MTIMECMP1));
        assertEquals(0, r32(MTIMECMP1 + 4));
    }

    @Test
    void unknownOffsetsAreGuestErrors() {
        assertEquals(0, r32(0x3000));
        w32(0x3000, 1);
        assertEquals(0, r32(MSIP0 + 8), "msip of a third hart that does not exist");
        assertEquals(0, r64(Clint.MTIMECMP_BASE + 16), "mtimecmp of a third hart");
        assertEquals(0, clint.read(MSIP0 + 2, 4), "misaligned");
        clint.write(MTIMECMP0 + 4, 8, 1);
        assertEquals(-1L, r64(MTIMECMP0), "misaligned write ignored");
        assertEquals(6, guestErrors.size(), guestErrors.toString());
        assertTrue(guestErrors.get(0).contains("0x3000"), guestErrors.get(0));
    }

    @Test
    void resetReturnsToPowerOn() {
        clock.set(50);
        w32(MSIP0, 1);
        w64(MTIMECMP1, 10);
        w64(MTIME, 1234);
        assertTrue(msip[0].level);
        assertTrue(mtip[1].level);

        clint.reset();
        assertFalse(msip[0].level);
        assertFalse(mtip[1].level);
        assertEquals(0, r32(MSIP0));
        assertEquals(-1L, r64(MTIMECMP1));
        assertEquals(50, r64(MTIME), "mtime follows the machine clock again");
        assertEquals(Long.MAX_VALUE, timers.nextDeadline());
        clock.advance(1_000_000);
        poll();
        assertFalse(mtip[0].level);
        assertFalse(mtip[1].level);
    }

    @Test
    void sbiAccessors() {
        clint.setMtimecmp(1, 5);
        assertEquals(5, clint.mtimecmp(1));
        assertEquals(5, r64(MTIMECMP1));
        clint.setMsip(0, true);
        assertTrue(msip[0].level);
        assertEquals(1, r32(MSIP0));
    }

    static final String EXPECTED_NODE = """
            clint@2000000 {
            interrupts-extended = <0x01 0x03 0x01 0x07 0x02 0x03 0x02 0x07>;
            reg = <0x00 0x2000000 0x00 0x10000>;
            compatible = "sifive,clint0\\0riscv,clint0";
            };
            """;

    /** dtc reads our node back as QEMU virt's (QemuDeviceTreeTest compares with QEMU itself). */
    @Test
    void deviceTreeNode() throws Exception {
        Fdt fdt = new Fdt();
        int[] intc = {fdt.node("/cpus/cpu@0/interrupt-controller").phandle(),
                fdt.node("/cpus/cpu@1/interrupt-controller").phandle()};
        FdtNode node = clint.addTo(fdt.node("/soc"), 0x2000000L, intc);
        assertEquals("clint@2000000", node.name());
        // dtc before 1.6 prints a string list as "a", "b".
        assertEquals(EXPECTED_NODE, DeviceTrees.node(fdt, "clint@2000000").replace("\", \"", "\\0"));
        assertThrows(IllegalArgumentException.class, () -> clint.addTo(fdt.node("/soc"), 0x2000000L, new int[] {1}));
    }
}
