package dev.rivet.virtio;

import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.virtio.GuestDriver.Buf;
import dev.rivet.virtio.GuestDriver.DriverQueue;
import dev.rivet.virtio.GuestDriver.Used;
import dev.rivet.virtio.GuestDriver.Wire;
import dev.rivet.virtio.mmio.VirtioMmio;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static dev.rivet.virtio.Virtio.*;
import static dev.rivet.virtio.Virtqueue.*;
import static dev.rivet.virtio.mmio.VirtioMmio.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Split virtqueues (VirtIO 1.2 section 2.7) through the MMIO transport with the echo test
 * device: chains direct and indirect, index wrap-around, notification suppression, and a
 * hostile driver breaking each rule the device defends (each must end in
 * DEVICE_NEEDS_RESET with a config interrupt, nothing used, nothing more processed).
 */
class VirtqueueTest {
    final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    final GuestRam ram = new GuestRam(GuestDriver.RAM_BASE, GuestDriver.RAM_SIZE);
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

    DriverQueue up(long features, int size) {
        drv.negotiate(features);
        DriverQueue q = drv.queue(0, size);
        drv.driverOk();
        return q;
    }

    byte[] in(long off, int len) {
        return drv.peek(buf + off, len);
    }

    // ---- what a well-behaved driver gets ----

    @Test
    void readableAndWritableStreamsSpanDescriptors() {
        DriverQueue q = up(0, 16);
        int head = q.add(Buf.out(buf, 3), Buf.out(buf + 100, 5), Buf.out(buf + 200, 2),
                Buf.in(buf + 0x8000, 4), Buf.in(buf + 0x9000, 10));
        q.kick();
        assertEquals(new Used(head, 10), q.poll());
        byte[] expect = new byte[10];
        System.arraycopy(in(0, 3), 0, expect, 0, 3);
        System.arraycopy(in(100, 5), 0, expect, 3, 5);
        System.arraycopy(in(200, 2), 0, expect, 8, 2);
        byte[] got = new byte[10];
        System.arraycopy(in(0x8000, 4), 0, got, 0, 4);
        System.arraycopy(in(0x9000, 6), 0, got, 4, 6);
        assertArrayEquals(expect, got);
        assertEquals(List.of(String.format("chain %d: r0x%x+3 r0x%x+5 r0x%x+2 w0x%x+4 w0x%x+10", head, buf,
                buf + 100, buf + 200, buf + 0x8000, buf + 0x9000)), echo.chains);
    }

    @Test
    void indirectTablesWork() {
        DriverQueue q = up(bit(F_INDIRECT_DESC), 16);
        int head = q.addIndirect(Buf.out(buf, 8), Buf.out(buf + 8, 8), Buf.in(buf + 0x8000, 16));
        q.kick();
        assertEquals(new Used(head, 16), q.poll());
        assertArrayEquals(in(0, 16), in(0x8000, 16));
    }

    @Test
    void aDirectChainMayEndInAnIndirectTableWhoseWriteFlagIsIgnored() {
        DriverQueue q = up(bit(F_INDIRECT_DESC), 16);
        long table = drv.alloc(32, 16);
        drv.rawDesc(table, 0, buf + 4, 4, DESC_F_NEXT, 1);
        drv.rawDesc(table, 1, buf + 0x8000, 12, DESC_F_WRITE, 0);
        q.setDesc(0, buf, 4, DESC_F_NEXT, 1);
        q.setDesc(1, table, 32, DESC_F_INDIRECT | DESC_F_WRITE, 0); // 2.7.5.3.2: WRITE ignored here
        q.publish(0);
        q.kick();
        assertEquals(new Used(0, 8), q.poll());
        assertArrayEquals(in(0, 8), in(0x8000, 8));
    }

    @Test
    void indicesWrapAroundAt65536() {
        DriverQueue q = up(0, 4);
        for (int i = 0; i < 70_000; i++) {
            int head = q.add(Buf.out(buf + (i & 0xFF), 1), Buf.in(buf + 0x8000, 1));
            q.kick();
            assertEquals(new Used(head, 1), q.poll(), "request " + i);
            assertEquals(in(i & 0xFF, 1)[0], in(0x8000, 1)[0]);
            drv.takeInterrupt();
        }
        assertEquals(70_000 & 0xFFFF, q.usedIdx());
        assertEquals(0, drv.status() & STATUS_DEVICE_NEEDS_RESET);
    }

    @Test
    void noInterruptFlagSuppressesTheInterruptWithoutEventIdx() {
        DriverQueue q = up(0, 16);
        q.setAvailFlags(AVAIL_F_NO_INTERRUPT);
        q.add(Buf.out(buf, 1), Buf.in(buf + 0x8000, 1));
        q.kick();
        assertEquals(1, q.usedIdx());
        assertFalse(irq.level, "the driver asked for no interrupt");
        q.setAvailFlags(0);
        q.add(Buf.out(buf, 1), Buf.in(buf + 0x8000, 1));
        q.kick();
        assertTrue(irq.level);
    }

    @Test
    void usedEventDelaysTheInterruptUntilTheUsedIndexPassesIt() {
        DriverQueue q = up(bit(F_EVENT_IDX), 16);
        q.setAvailFlags(AVAIL_F_NO_INTERRUPT); // ignored with EVENT_IDX
        q.setUsedEvent(2); // "interrupt me when used idx goes past 2"
        for (int i = 1; i <= 3; i++) {
            q.add(Buf.out(buf, 1), Buf.in(buf + 0x8000, 1));
            q.kick();
            assertEquals(i, q.usedIdx());
            assertEquals(i == 3, irq.level, "interrupt after used entry " + i);
        }
        drv.takeInterrupt();
        q.setUsedEvent(3); // the next one
        q.add(Buf.out(buf, 1), Buf.in(buf + 0x8000, 1));
        q.kick();
        assertTrue(irq.level);
    }

    @Test
    void availEventTellsTheDriverWhenToNotify() {
        DriverQueue q = up(bit(F_EVENT_IDX), 16);
        q.add(Buf.out(buf, 1), Buf.in(buf + 0x8000, 1));
        q.add(Buf.out(buf, 1), Buf.in(buf + 0x8000, 1));
        q.kick();
        assertEquals(2, q.usedIdx());
        assertEquals(2, q.availEvent(), "the device published where it stopped");
        int old = q.availIdx();
        q.add(Buf.out(buf, 1), Buf.in(buf + 0x8000, 1));
        assertTrue(q.kickNeeded(old), "the device is idle: it wants the kick");
        q.kick();
        assertEquals(3, q.availEvent());
        assertEquals(3, q.usedIdx());
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
            assertEquals(0, q.usedIdx(), "nothing was used");
            // A good chain now is not processed.
            q.add(Buf.out(buf, 1), Buf.in(buf + 0x8000, 1));
            q.kick();
            assertEquals(0, q.usedIdx());
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
    void aDescriptorLoopIsRefused() {
        DriverQueue q = up(0, 16);
        q.setDesc(0, buf, 1, DESC_F_NEXT, 1);
        q.setDesc(1, buf, 1, DESC_F_NEXT, 2);
        q.setDesc(2, buf, 1, DESC_F_NEXT, 0);
        q.publish(0);
        q.kick();
        assertBroken(q, "a loop");
    }

    @Test
    void aDescriptorPointingAtItselfIsRefused() {
        DriverQueue q = up(0, 16);
        q.setDesc(5, buf + 0x8000, 1, DESC_F_NEXT | DESC_F_WRITE, 5);
        q.publish(5);
        q.kick();
        assertBroken(q, "a loop");
    }

    @Test
    void nextBeyondTheTableIsRefused() {
        DriverQueue q = up(0, 16);
        q.setDesc(0, buf, 1, DESC_F_NEXT, 16);
        q.publish(0);
        q.kick();
        assertBroken(q, "next = 16 beyond");
    }

    @Test
    void aHeadBeyondTheQueueIsRefused() {
        DriverQueue q = up(0, 16);
        q.publish(0xFFFF);
        q.kick();
        assertBroken(q, "names descriptor 65535");
    }

    @Test
    void anAvailIndexTooFarAheadIsRefused() {
        DriverQueue q = up(0, 16);
        q.setAvailIdx(17);
        q.kick();
        assertBroken(q, "17 entries ahead");
    }

    @Test
    void anAvailIndexRunningBackwardsIsRefused() {
        DriverQueue q = up(0, 16);
        q.add(Buf.out(buf, 1), Buf.in(buf + 0x8000, 1));
        q.kick();
        assertEquals(1, q.usedIdx());
        q.setAvailIdx(0); // 65535 ahead of the device
        q.kick();
        assertEquals(STATUS_DEVICE_NEEDS_RESET, drv.status() & STATUS_DEVICE_NEEDS_RESET);
        assertTrue(errors.getLast().contains("65535 entries ahead"), errors.getLast());
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
    void readableInAnIndirectTableAfterWritableInTheDirectChainIsRefused() {
        DriverQueue q = up(bit(F_INDIRECT_DESC), 16);
        long table = drv.alloc(16, 16);
        drv.rawDesc(table, 0, buf, 4, 0, 0);
        q.setDesc(0, buf + 0x8000, 4, DESC_F_NEXT | DESC_F_WRITE, 1);
        q.setDesc(1, table, 16, DESC_F_INDIRECT, 0);
        q.publish(0);
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
        long end = GuestDriver.RAM_BASE + GuestDriver.RAM_SIZE;
        q.add(Buf.out(buf, 8), Buf.in(end - 4, 8));
        q.kick();
        assertBroken(q, "outside RAM");
    }

    @Test
    void aBufferWhoseEndWrapsTheAddressSpaceIsRefused() {
        DriverQueue q = up(0, 16);
        q.add(Buf.out(-16L, 0xFFFF_FFF0L), Buf.in(buf + 0x8000, 8));
        q.kick();
        assertBroken(q, "outside RAM");
        DriverQueue q2 = drv.queue(1, 8);
        q2.add(Buf.out(GuestDriver.RAM_BASE + 64, 0xFFFF_FFFFL), Buf.in(buf + 0x8000, 8));
        q2.kick();
        assertEquals(STATUS_DEVICE_NEEDS_RESET, drv.status() & STATUS_DEVICE_NEEDS_RESET);
    }

    @Test
    void indirectWithoutTheFeatureIsRefused() {
        DriverQueue q = up(0, 16);
        q.addIndirect(Buf.out(buf, 1), Buf.in(buf + 0x8000, 1));
        q.kick();
        assertBroken(q, "INDIRECT_DESC was not negotiated");
    }

    @Test
    void anIndirectTableInsideAnIndirectTableIsRefused() {
        DriverQueue q = up(bit(F_INDIRECT_DESC), 16);
        long inner = drv.alloc(16, 16);
        drv.rawDesc(inner, 0, buf, 1, 0, 0);
        long outer = drv.alloc(16, 16);
        drv.rawDesc(outer, 0, inner, 16, DESC_F_INDIRECT, 0);
        q.setDesc(0, outer, 16, DESC_F_INDIRECT, 0);
        q.publish(0);
        q.kick();
        assertBroken(q, "indirect descriptor inside an indirect table");
    }

    @Test
    void indirectWithNextIsRefused() {
        DriverQueue q = up(bit(F_INDIRECT_DESC), 16);
        long table = drv.alloc(16, 16);
        drv.rawDesc(table, 0, buf, 1, 0, 0);
        q.setDesc(0, table, 16, DESC_F_INDIRECT | DESC_F_NEXT, 1);
        q.setDesc(1, buf + 0x8000, 1, DESC_F_WRITE, 0);
        q.publish(0);
        q.kick();
        assertBroken(q, "both INDIRECT and NEXT");
    }

    @Test
    void indirectTablesOfBadLengthAreRefused() {
        long[] lengths = {0, 24, 8, 16L * (MAX_INDIRECT + 1)};
        for (long len : lengths) {
            errors.clear();
            DriverQueue q = up(bit(F_INDIRECT_DESC), 16);
            long table = drv.alloc(Math.max(len, 16), 16);
            q.setDesc(0, table, len, DESC_F_INDIRECT, 0);
            q.publish(0);
            q.kick();
            assertBroken(q, "indirect table of " + len + " bytes");
        }
    }

    @Test
    void anIndirectTableOutsideRamIsRefused() {
        DriverQueue q = up(bit(F_INDIRECT_DESC), 16);
        q.setDesc(0, GuestDriver.RAM_BASE + GuestDriver.RAM_SIZE - 16, 32, DESC_F_INDIRECT, 0);
        q.publish(0);
        q.kick();
        assertBroken(q, "outside RAM");
    }

    @Test
    void aLoopInsideAnIndirectTableIsRefused() {
        DriverQueue q = up(bit(F_INDIRECT_DESC), 16);
        long table = drv.alloc(32, 16);
        drv.rawDesc(table, 0, buf, 1, DESC_F_NEXT, 1);
        drv.rawDesc(table, 1, buf, 1, DESC_F_NEXT, 0);
        q.setDesc(0, table, 32, DESC_F_INDIRECT, 0);
        q.publish(0);
        q.kick();
        assertBroken(q, "a loop");
    }

    @Test
    void nextBeyondAnIndirectTableIsRefused() {
        DriverQueue q = up(bit(F_INDIRECT_DESC), 16);
        long table = drv.alloc(32, 16);
        drv.rawDesc(table, 0, buf, 1, DESC_F_NEXT, 2);
        q.setDesc(0, table, 32, DESC_F_INDIRECT, 0);
        q.publish(0);
        q.kick();
        assertBroken(q, "next = 2 beyond its table of 2");
    }

    @Test
    void queueSizesThatAreNotAPowerOfTwoOrTooLargeAreRefused() {
        for (int size : new int[] {0, 6, 32, 0x10000, -1}) {
            errors.clear();
            drv.negotiate(0);
            drv.queue(0, 16, drv.alloc(16 * 16, 16), drv.alloc(64, 2), drv.alloc(256, 4)); // then reprogram:
            drv.write(QUEUE_READY, 0);
            drv.write(QUEUE_NUM, size);
            drv.write(QUEUE_READY, 1);
            assertEquals(0, drv.read(QUEUE_READY), "size " + size);
            drv.driverOk();
            assertBroken(null, "is not a power of two");
        }
    }

    @Test
    void ringsOutsideRamOrMisalignedAreRefused() {
        long d = drv.alloc(256, 16), a = drv.alloc(64, 16), u = drv.alloc(256, 16);
        long end = GuestDriver.RAM_BASE + GuestDriver.RAM_SIZE;
        long[][] layouts = {
                {0x1000, a, u}, {d, 0x1000, u}, {d, a, 0x1000},            // below RAM
                {end - 128, a, u}, {d, end - 8, u}, {d, a, end - 64},      // running off the end
                {d + 8, a, u}, {d, a + 1, u}, {d, a, u + 2},               // misaligned (2.7.10 table)
                {-256, a, u},                                               // wraps
        };
        for (long[] l : layouts) {
            errors.clear();
            drv.negotiate(0);
            drv.queue(0, 16, l[0], l[1], l[2]);
            drv.write(QUEUE_SEL, 0);
            assertEquals(0, drv.read(QUEUE_READY));
            drv.driverOk();
            assertBroken(null, String.format("queue 0:"));
        }
    }
}
