package dev.rivet.virtio;

import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.virtio.GuestDriver.Buf;
import dev.rivet.virtio.GuestDriver.DriverQueue;
import dev.rivet.virtio.GuestDriver.Used;
import dev.rivet.virtio.GuestDriver.Wire;
import dev.rivet.virtio.PackedDriverRing.Desc;
import dev.rivet.virtio.mmio.VirtioMmio;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

import static dev.rivet.virtio.PackedDriverRing.*;
import static dev.rivet.virtio.Virtio.*;
import static dev.rivet.virtio.mmio.VirtioMmio.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Packed virtqueues (VirtIO 1.2 section 2.8) through the MMIO transport with the echo test
 * device, the driver playing Linux's packed ring code ({@link PackedDriverRing}): lists and
 * indirect tables, used descriptors and both wrap counters, event suppression both ways,
 * and a hostile driver breaking each rule the device defends (each must end in
 * DEVICE_NEEDS_RESET with a config interrupt, nothing used, nothing more processed).
 */
class PackedVirtqueueTest {
    static final long SEED = Long.getLong("rivet.seed", new SplittableRandom().nextLong(1L << 40));
    /** Twice the usual test RAM: a 4 GiB list needs 1024 entries of more than 4 MiB. */
    static final long RAM_SIZE = 8 << 20;

    final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    final GuestRam ram = new GuestRam(GuestDriver.RAM_BASE, RAM_SIZE);
    final Wire irq = new Wire();
    EchoDevice echo;
    VirtioMmio mmio;
    GuestDriver drv;
    long buf;

    @BeforeEach
    void setUp() {
        echo = new EchoDevice();
        mmio = new VirtioMmio(echo, new DmaView(ram), irq, errors::add);
        drv = new GuestDriver(ram, mmio, irq);
        buf = drv.alloc(0x10000, 4096);
        byte[] pattern = new byte[0x8000];
        for (int i = 0; i < pattern.length; i++) {
            pattern[i] = (byte) (i * 31 + 7);
        }
        drv.poke(buf, pattern);
    }

    @AfterEach
    void close() {
        ram.close();
    }

    /** Probe with packed rings and {@code features}; queue 0 of {@code size}; DRIVER_OK. */
    DriverQueue up(long features, int size) {
        drv.negotiate(features | bit(F_RING_PACKED));
        DriverQueue q = drv.queue(0, size);
        drv.driverOk();
        assertTrue(q.isPacked());
        return q;
    }

    byte[] in(long off, int len) {
        return drv.peek(buf + off, len);
    }

    /** A one-slot buffer the echo device returns with nothing written. */
    int addOne(DriverQueue q) {
        return q.add(Buf.in(buf + 0x8000, 1));
    }

    // ---- what a well-behaved driver gets ----

    @Test
    void packedRingsAreOfferedAndAnySizeUpToTheMaximumWorks() {
        assertTrue((drv.offered() & bit(F_RING_PACKED)) != 0);
        drv.negotiate(bit(F_RING_PACKED));
        DriverQueue q0 = drv.queue(0, 13);
        DriverQueue q1 = drv.queue(1, 5);
        drv.driverOk();
        assertTrue(mmio.core().queue(0).packed() && mmio.core().queue(1).packed());
        for (DriverQueue q : List.of(q0, q1)) {
            for (int i = 0; i < 3 * q.size; i++) {
                int id = q.add(Buf.out(buf + i, 3), Buf.in(buf + 0x8000, 8));
                q.kick();
                assertEquals(new Used(id, 3), q.poll(), "queue " + q.index + " buffer " + i);
                assertArrayEquals(in(i, 3), in(0x8000, 3));
            }
        }
        assertTrue(errors.isEmpty(), errors.toString());
    }

    @Test
    void aSplitDriverStillGetsSplitRings() {
        drv.negotiate(0);
        DriverQueue q = drv.queue(0, 16);
        drv.driverOk();
        assertFalse(q.isPacked());
        assertFalse(mmio.core().queue(0).packed());
        int head = q.add(Buf.out(buf, 4), Buf.in(buf + 0x8000, 4));
        q.kick();
        assertEquals(new Used(head, 4), q.poll());
    }

    @Test
    void readableAndWritableStreamsSpanDescriptors() {
        DriverQueue q = up(0, 16);
        int id = q.add(Buf.out(buf, 3), Buf.out(buf + 100, 5), Buf.out(buf + 200, 2),
                Buf.in(buf + 0x8000, 4), Buf.in(buf + 0x9000, 10));
        q.kick();
        assertEquals(new Used(id, 10), q.poll());
        byte[] expect = new byte[10];
        System.arraycopy(in(0, 3), 0, expect, 0, 3);
        System.arraycopy(in(100, 5), 0, expect, 3, 5);
        System.arraycopy(in(200, 2), 0, expect, 8, 2);
        byte[] got = new byte[10];
        System.arraycopy(in(0x8000, 4), 0, got, 0, 4);
        System.arraycopy(in(0x9000, 6), 0, got, 4, 6);
        assertArrayEquals(expect, got);
        assertEquals(List.of(String.format("chain %d: r0x%x+3 r0x%x+5 r0x%x+2 w0x%x+4 w0x%x+10", id, buf,
                buf + 100, buf + 200, buf + 0x8000, buf + 0x9000)), echo.chains);
    }

    @Test
    void theUsedDescriptorOverwritesTheFirstSlotWithIdLenAndWrapBits() {
        DriverQueue q = up(0, 4);
        PackedDriverRing p = q.packed();
        int a = q.add(Buf.out(buf, 2), Buf.in(buf + 0x8000, 2), Buf.in(buf + 0x8100, 2)); // slots 0-2
        q.kick();
        // 2.8.1: AVAIL = USED = the device's wrap counter (1); 2.8.3: WRITE, as bytes were written.
        assertEquals(AVAIL | USED | WRITE, p.flagsAt(0));
        assertEquals(a, drv.u16(p.ring + 12));
        assertEquals(2, drv.u32(p.ring + 8));
        assertEquals(new Used(a, 2), q.poll());
        assertEquals(3, p.lastUsed(), "the driver skips the slots the list took");
        int b = q.add(Buf.out(buf, 1), Buf.out(buf + 1, 1)); // slots 3 and 0: the driver wraps
        assertFalse(p.availWrap());
        q.kick();
        assertEquals(AVAIL | USED, p.flagsAt(3), "nothing written: no WRITE flag");
        assertEquals(new Used(b, 0), q.poll());
        assertEquals(1, p.lastUsed());
        assertFalse(p.usedWrap());
        int c = addOne(q); // slot 1, second lap: the device's wrap counter is 0 now
        q.kick();
        assertEquals(0, p.flagsAt(1) & (AVAIL | USED));
        assertEquals(new Used(c, 0), q.poll());
        assertEquals(0, drv.status() & STATUS_DEVICE_NEEDS_RESET);
    }

    @Test
    void theBufferIdIsTheLastDescriptors() {
        DriverQueue q = up(0, 8);
        q.packed().addRawBuffer(new Desc(buf, 4, 6, NEXT), new Desc(buf + 0x8000, 4, 2, WRITE));
        q.kick();
        assertEquals(List.of(String.format("chain 2: r0x%x+4 w0x%x+4", buf, buf + 0x8000)), echo.chains);
        assertEquals(new Used(2, 4), q.poll());
        assertEquals(0, drv.status() & STATUS_DEVICE_NEEDS_RESET);
    }

    @Test
    void indirectTablesWork() {
        DriverQueue q = up(bit(F_INDIRECT_DESC), 4);
        for (int i = 0; i < 10; i++) { // over both wrap counters: each table takes one slot
            int id = q.addIndirect(Buf.out(buf + i, 8), Buf.out(buf + 8 + i, 8), Buf.in(buf + 0x8000, 16));
            q.kick();
            assertEquals(new Used(id, 16), q.poll());
            assertArrayEquals(in(i, 16), in(0x8000, 16));
        }
    }

    @Test
    void inAnIndirectTableOnlyWriteCountsAndTheIndirectDescriptorsWriteIsIgnored() {
        DriverQueue q = up(bit(F_INDIRECT_DESC), 8);
        PackedDriverRing p = q.packed();
        long table = drv.alloc(48, 16);
        // 2.8.7: NEXT and IDs inside the table are reserved and ignored: every entry is used, in order.
        p.writeDesc(table, 0, buf, 4, 77, 0);
        p.writeDesc(table, 1, buf + 4, 4, 0, NEXT);
        p.writeDesc(table, 2, buf + 0x8000, 8, 3, WRITE | NEXT);
        p.addRawBuffer(new Desc(table, 48, 5, INDIRECT | WRITE));
        q.kick();
        assertEquals(new Used(5, 8), q.poll());
        assertArrayEquals(in(0, 8), in(0x8000, 8));
    }

    @Test
    void bothWrapCountersKeepStepOverManyLapsOfAnOddSizedRing() {
        System.out.printf("PackedVirtqueueTest.bothWrapCountersKeepStepOverManyLapsOfAnOddSizedRing: seed %d "
                + "(-Drivet.seed=%d)%n", SEED, SEED);
        SplittableRandom r = new SplittableRandom(SEED);
        DriverQueue q = up(bit(F_INDIRECT_DESC), 13);
        PackedDriverRing p = q.packed();
        int laps = 0;
        boolean wrap = p.usedWrap();
        for (int i = 0; i < 20_000; i++) {
            int n = 1 + r.nextInt(Math.min(4, q.size));
            int len = 1 + r.nextInt(64);
            long src = r.nextInt(0x7000);
            Buf[] bufs = new Buf[n];
            for (int k = 0; k < n - 1; k++) {
                bufs[k] = Buf.out(buf + src + (long) k * len, len);
            }
            bufs[n - 1] = Buf.in(buf + 0x8000, (long) len * (n - 1) + 1);
            int id = r.nextInt(4) == 0 ? q.addIndirect(bufs) : q.add(bufs);
            q.kick();
            assertEquals(new Used(id, len * (n - 1)), q.poll(), "buffer " + i + ", seed " + SEED);
            assertArrayEquals(in(src, len * (n - 1)), in(0x8000, len * (n - 1)), "buffer " + i + ", seed " + SEED);
            if (p.usedWrap() != wrap) {
                wrap = p.usedWrap();
                laps++;
            }
        }
        assertTrue(laps > 1000, laps + " laps");
        assertNull(q.poll());
        assertEquals(0, drv.status() & STATUS_DEVICE_NEEDS_RESET, errors.toString());
    }

    // ---- event suppression (2.8.10) ----

    @Test
    void withoutEventIdxTheDriverEnablesOrDisablesInterruptsAndTheDeviceAlwaysWantsKicks() {
        DriverQueue q = up(0, 8);
        PackedDriverRing p = q.packed();
        assertEquals(EVENT_ENABLE, p.deviceEvent() >>> 16);
        p.disableCallbacks();
        addOne(q);
        assertTrue(p.kickNeeded(p.availIdx() - 1));
        q.kick();
        assertEquals(1, q.usedIdx());
        assertFalse(irq.level, "the driver disabled used buffer notifications");
        p.enableCallbacks();
        assertEquals(EVENT_ENABLE, p.driverEventFlags());
        addOne(q);
        q.kick();
        assertTrue(irq.level);
        drv.takeInterrupt();
        // DESC is only valid with EVENT_IDX (2.8.10): the device notifies rather than guess.
        p.setDriverEvent(7 | EVENT_WRAP, EVENT_DESC);
        addOne(q);
        q.kick();
        assertTrue(irq.level);
        assertEquals(3, q.usedIdx());
    }

    @Test
    void offWrapDelaysTheInterruptUntilTheUsedPositionPassesIt() {
        DriverQueue q = up(bit(F_EVENT_IDX), 4);
        PackedDriverRing p = q.packed();
        p.setDriverEvent(EVENT_DISABLE, EVENT_DISABLE); // DISABLE holds with EVENT_IDX too
        addOne(q);
        q.kick();
        assertFalse(irq.level);
        assertEquals(new Used(0, 0), q.poll());
        p.setDriverEvent(3 | EVENT_WRAP, EVENT_DESC); // slot 3 in the first lap: the fourth buffer
        for (int i = 2; i <= 4; i++) {
            addOne(q);
            q.kick();
            assertEquals(i == 4, irq.level, "interrupt after buffer " + i);
            assertTrue(q.poll() != null);
        }
        drv.takeInterrupt();
        // Slot 2 of the second lap (wrap counter 0): three buffers on, not the one at slot 2 now.
        p.setDriverEvent(2, EVENT_DESC);
        for (int i = 5; i <= 7; i++) {
            addOne(q);
            q.kick();
            assertEquals(i == 7, irq.level, "interrupt after buffer " + i);
            q.poll();
        }
        drv.takeInterrupt();
        // The device is at slot 3 of lap 2 (wrap 0). Slot 1 with wrap 1 is behind it in this
        // lap's terms, but a wrap counter names a lap only modulo 2: it is slot 1 of lap 3.
        p.setDriverEvent(1 | EVENT_WRAP, EVENT_DESC);
        for (int i = 8; i <= 10; i++) { // slot 3 of lap 2, slots 0 and 1 of lap 3
            addOne(q);
            q.kick();
            assertEquals(i == 10, irq.level, "interrupt after buffer " + i);
            q.poll();
        }
        drv.takeInterrupt();
        // virtqueue_enable_cb_prepare_packed: the next one.
        p.enableCallbacks();
        addOne(q);
        q.kick();
        assertTrue(irq.level);
        assertEquals(0, drv.status() & STATUS_DEVICE_NEEDS_RESET);
    }

    @Test
    void aListEndingPastTheEventSlotStillFiresIt() {
        DriverQueue q = up(bit(F_EVENT_IDX), 8);
        PackedDriverRing p = q.packed();
        p.setDriverEvent(2 | EVENT_WRAP, EVENT_DESC);
        q.add(Buf.out(buf, 1), Buf.out(buf, 1), Buf.out(buf, 1), Buf.in(buf + 0x8000, 1)); // slots 0-3
        q.kick();
        assertTrue(irq.level, "the used position went from 0 to 4, past slot 2");
    }

    @Test
    void theDeviceAsksForAKickAtTheSlotItWaitsOn() {
        DriverQueue q = up(bit(F_EVENT_IDX), 4);
        PackedDriverRing p = q.packed();
        assertEquals(EVENT_DESC << 16 | EVENT_WRAP, p.deviceEvent(), "slot 0, wrap 1, from the start");
        int old = p.availIdx();
        addOne(q);
        assertTrue(p.kickNeeded(old));
        q.kick();
        assertEquals(EVENT_DESC << 16 | EVENT_WRAP | 1, p.deviceEvent(), "drained: wake me for slot 1");
        old = p.availIdx();
        addOne(q);
        assertTrue(p.kickNeeded(old), "the device is idle: it wants the kick");
        int old2 = p.availIdx();
        q.add(Buf.out(buf, 1), Buf.in(buf + 0x8000, 1)); // slots 2 and 3; not kicked before
        assertFalse(p.kickNeeded(old2), "slot 1 was already announced");
        q.kick();
        assertEquals(EVENT_DESC << 16, p.deviceEvent(), "slot 0 of the second lap (wrap 0)");
        for (int i = 0; i < 3; i++) {
            assertTrue(q.poll() != null);
        }
        old = p.availIdx();
        q.add(Buf.out(buf, 1), Buf.in(buf + 0x8000, 1));
        assertTrue(p.kickNeeded(old));
        q.kick();
        assertEquals(EVENT_DESC << 16 | 2, p.deviceEvent());
        assertTrue(q.poll() != null);
        assertEquals(0, drv.status() & STATUS_DEVICE_NEEDS_RESET);
    }

    @Test
    void notificationsFollowEventIdxBothWaysOverManyLaps() {
        System.out.printf("PackedVirtqueueTest.notificationsFollowEventIdxBothWaysOverManyLaps: seed %d "
                + "(-Drivet.seed=%d)%n", SEED, SEED);
        SplittableRandom r = new SplittableRandom(SEED);
        DriverQueue q = up(bit(F_EVENT_IDX), 1 + r.nextInt(16));
        PackedDriverRing p = q.packed();
        int pending = 0; // made available, not yet seen by the device
        boolean announced = false; // buffers were added (and kick_prepare asked) since the device drained the ring
        int lastPrepare = p.availIdx();
        int laps = 0;
        boolean wrap = p.usedWrap();
        for (int i = 0; i < 5000; i++) {
            if (pending < q.size && r.nextInt(3) != 0) {
                int batch = 1 + r.nextInt(q.size - pending);
                for (int k = 0; k < batch; k++) {
                    addOne(q);
                }
                pending += batch;
                // The device drained the ring at the last kick and waits on the slot after it:
                // only the first batch since then covers it.
                boolean want = p.kickNeeded(lastPrepare);
                assertEquals(!announced, want, "kick wanted at step " + i + ", seed " + SEED);
                lastPrepare = p.availIdx();
                announced = true;
                if (want ? r.nextInt(4) != 0 : r.nextInt(8) == 0) {
                    q.kick();
                    pending = 0;
                    announced = false;
                    while (q.poll() != null) {
                        // take what the device returned
                    }
                    drv.takeInterrupt();
                }
                continue;
            }
            // Every used buffer is taken: enabling callbacks asks for the very next one.
            boolean enabled = r.nextBoolean();
            if (enabled) {
                p.enableCallbacks();
            } else {
                p.disableCallbacks();
            }
            boolean any = pending > 0;
            q.kick();
            pending = 0;
            announced = false;
            assertEquals(enabled && any, irq.level, "interrupt at step " + i + ", seed " + SEED);
            drv.takeInterrupt();
            while (q.poll() != null) {
                // take what the device returned
            }
            if (p.usedWrap() != wrap) {
                wrap = p.usedWrap();
                laps++;
            }
        }
        assertTrue(laps > 10, laps + " laps, seed " + SEED);
        assertEquals(0, drv.status() & STATUS_DEVICE_NEEDS_RESET, errors.toString());
    }

    // ---- a hostile driver ----

    /** After a protocol violation: needs reset, config interrupt, nothing used, no more processing; reset recovers. */
    void assertBroken(DriverQueue q, String why) {
        assertEquals(STATUS_DEVICE_NEEDS_RESET, drv.status() & STATUS_DEVICE_NEEDS_RESET, "status " + drv.status());
        assertTrue(irq.level);
        assertEquals(INT_CONFIG_CHANGE, drv.takeInterrupt() & INT_CONFIG_CHANGE);
        assertFalse(errors.isEmpty());
        String msg = errors.getLast();
        assertTrue(msg.contains(why) && msg.contains("needs reset"), msg);
        if (q != null) {
            assertNull(q.poll(), "nothing was used");
            q.add(Buf.out(buf, 1), Buf.in(buf + 0x8000, 1));
            q.kick();
            assertNull(q.poll(), "nothing is processed");
        }
        assertFalse(irq.level);
        // vm_reset and a fresh probe bring it back.
        DriverQueue fresh = up(0, 16);
        fresh.add(Buf.out(buf, 2), Buf.in(buf + 0x8000, 2));
        fresh.kick();
        assertEquals(2, fresh.poll().len());
        assertEquals(0, drv.status() & STATUS_DEVICE_NEEDS_RESET);
    }

    @Test
    void aListLongerThanTheRingIsRefused() {
        DriverQueue q = up(0, 4);
        PackedDriverRing p = q.packed();
        // All four slots available with NEXT, and slot 0 again in the next lap: no end in sight.
        p.addRaw(new Desc(buf, 1, 0, NEXT), new Desc(buf, 1, 0, NEXT), new Desc(buf, 1, 0, NEXT),
                new Desc(buf, 1, 0, NEXT), new Desc(buf, 1, 0, NEXT));
        q.kick();
        assertBroken(q, "longer than the queue size 4");
    }

    @Test
    void aListRunningIntoASlotNotMadeAvailableIsRefused() {
        DriverQueue q = up(0, 8);
        PackedDriverRing p = q.packed();
        // The driver claims a continuation it never wrote (slot 1 still zero: not available).
        p.writeDesc(p.ring, 0, buf, 1, 0, NEXT | p.availBits());
        q.kick();
        assertBroken(q, "continues into descriptor 1, which is not marked available");
    }

    @Test
    void aBufferIdNotBelowTheQueueSizeIsRefused() {
        DriverQueue q = up(0, 8);
        q.packed().addRaw(new Desc(buf + 0x8000, 1, 8, WRITE));
        q.kick();
        assertBroken(q, "has buffer ID 8, not below the queue size 8");
    }

    @Test
    void readableAfterWritableIsRefused() {
        DriverQueue q = up(0, 16);
        q.add(Buf.in(buf + 0x8000, 1), Buf.out(buf, 1));
        q.kick();
        assertBroken(q, "readable buffer after a device-writable");
    }

    @Test
    void readableAfterWritableInsideAnIndirectTableIsRefused() {
        DriverQueue q = up(bit(F_INDIRECT_DESC), 16);
        q.addIndirect(Buf.out(buf, 1), Buf.in(buf + 0x8000, 1), Buf.out(buf, 1));
        q.kick();
        assertBroken(q, "readable buffer after a device-writable");
    }

    @Test
    void aBufferOutsideRamIsRefused() {
        DriverQueue q = up(0, 16);
        q.add(Buf.out(0x1000_0000L, 8), Buf.in(buf + 0x8000, 8)); // the UART, not RAM
        q.kick();
        assertBroken(q, "outside RAM");
    }

    @Test
    void aBufferRunningPastTheEndOfRamIsRefused() {
        DriverQueue q = up(0, 16);
        q.add(Buf.out(buf, 8), Buf.in(ram.base() + ram.size() - 4, 8));
        q.kick();
        assertBroken(q, "outside RAM");
    }

    @Test
    void aBufferWhoseEndWrapsTheAddressSpaceIsRefused() {
        DriverQueue q = up(0, 16);
        q.add(Buf.out(-16L, 0xFFFF_FFF0L), Buf.in(buf + 0x8000, 8));
        q.kick();
        assertBroken(q, "outside RAM");
    }

    @Test
    void aBufferOfMoreThan4GiBIsRefused() {
        DriverQueue q = up(bit(F_INDIRECT_DESC), 16);
        long each = ram.size() - 0x2000; // over 4 MiB, so 1024 of them pass 4 GiB
        Buf[] bufs = new Buf[Virtqueue.MAX_INDIRECT];
        for (int i = 0; i < bufs.length; i++) {
            bufs[i] = Buf.out(ram.base() + 0x1000, each);
        }
        q.addIndirect(bufs);
        q.kick();
        assertBroken(q, "longer than 4 GiB");
    }

    @Test
    void indirectWithoutTheFeatureIsRefused() {
        DriverQueue q = up(0, 16);
        q.addIndirect(Buf.out(buf, 1), Buf.in(buf + 0x8000, 1));
        q.kick();
        assertBroken(q, "INDIRECT_DESC was not negotiated");
    }

    @Test
    void indirectWithNextIsRefused() {
        DriverQueue q = up(bit(F_INDIRECT_DESC), 16);
        long table = drv.alloc(16, 16);
        q.packed().writeDesc(table, 0, buf, 1, 0, 0);
        q.packed().addRaw(new Desc(table, 16, 0, INDIRECT | NEXT), new Desc(buf + 0x8000, 1, 0, WRITE));
        q.kick();
        assertBroken(q, "both INDIRECT and NEXT");
    }

    @Test
    void anIndirectDescriptorInsideAListIsRefused() {
        DriverQueue q = up(bit(F_INDIRECT_DESC), 16);
        long table = drv.alloc(16, 16);
        q.packed().writeDesc(table, 0, buf + 0x8000, 1, 0, WRITE);
        // 2.8.7: a list holds descriptors of one type; split rings allow this, packed ones do not.
        q.packed().addRaw(new Desc(buf, 1, 0, NEXT), new Desc(table, 16, 0, INDIRECT));
        q.kick();
        assertBroken(q, "indirect descriptor after a descriptor with NEXT");
    }

    @Test
    void anIndirectTableInsideAnIndirectTableIsRefused() {
        DriverQueue q = up(bit(F_INDIRECT_DESC), 16);
        PackedDriverRing p = q.packed();
        long inner = drv.alloc(16, 16);
        p.writeDesc(inner, 0, buf, 1, 0, 0);
        long outer = drv.alloc(16, 16);
        p.writeDesc(outer, 0, inner, 16, 0, INDIRECT);
        p.addRaw(new Desc(outer, 16, 0, INDIRECT));
        q.kick();
        assertBroken(q, "indirect descriptor inside an indirect table");
    }

    @Test
    void indirectTablesOfBadLengthAreRefused() {
        long[] lengths = {0, 24, 8, 16L * (Virtqueue.MAX_INDIRECT + 1)};
        for (long len : lengths) {
            errors.clear();
            DriverQueue q = up(bit(F_INDIRECT_DESC), 16);
            long table = drv.alloc(Math.max(len, 16), 16);
            q.packed().addRaw(new Desc(table, len, 0, INDIRECT));
            q.kick();
            assertBroken(q, "indirect table of " + len + " bytes");
        }
    }

    @Test
    void anIndirectTableOutsideRamIsRefused() {
        DriverQueue q = up(bit(F_INDIRECT_DESC), 16);
        q.packed().addRaw(new Desc(ram.base() + ram.size() - 16, 32, 0, INDIRECT));
        q.kick();
        assertBroken(q, "outside RAM");
    }

    @Test
    void sizesAboveTheMaximumAreRefusedAndAnyOtherIsFine() {
        for (int size : new int[] {0, 17, 0x10000, -1}) {
            errors.clear();
            drv.negotiate(bit(F_RING_PACKED));
            drv.write(QUEUE_SEL, 0);
            drv.write(QUEUE_NUM, size);
            drv.write(QUEUE_DESC_LOW, drv.alloc(16 * 16, 16));
            drv.write(QUEUE_DRIVER_LOW, drv.alloc(4, 4));
            drv.write(QUEUE_DEVICE_LOW, drv.alloc(4, 4));
            drv.write(QUEUE_READY, 1);
            assertEquals(0, drv.read(QUEUE_READY), "size " + size);
            drv.driverOk();
            assertBroken(null, "packed ring size " + size + " is not in 1..16");
        }
        for (int size : new int[] {1, 3, 7, 11, 15, 16}) {
            DriverQueue q = up(0, size);
            for (int i = 0; i < 3 * size; i++) {
                int id = q.add(Buf.in(buf + 0x8000, 2));
                q.kick();
                assertEquals(new Used(id, 0), q.poll(), "size " + size);
            }
        }
        assertEquals(0, drv.status() & STATUS_DEVICE_NEEDS_RESET, errors.toString());
    }

    @Test
    void ringsOutsideRamOrMisalignedAreRefused() {
        long d = drv.alloc(256, 16), a = drv.alloc(16, 16), u = drv.alloc(16, 16);
        long end = ram.base() + ram.size();
        long[][] layouts = {
                {0x1000, a, u}, {d, 0x1000, u}, {d, a, 0x1000},           // below RAM
                {end - 128, a, u}, {d, end - 2, u}, {d, a, end - 2},     // running off the end
                {d + 8, a, u}, {d, a + 2, u}, {d, a, u + 2},              // misaligned (2.8.10.1 table)
                {-256, a, u},                                              // wraps
        };
        for (long[] l : layouts) {
            errors.clear();
            drv.negotiate(bit(F_RING_PACKED));
            drv.queue(0, 16, l[0], l[1], l[2]);
            drv.write(QUEUE_SEL, 0);
            assertEquals(0, drv.read(QUEUE_READY));
            drv.driverOk();
            assertBroken(null, "queue 0:");
        }
    }
}
