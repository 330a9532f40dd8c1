package dev.rivet.virtio.rng;

import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.virtio.GuestDriver;
import dev.rivet.virtio.GuestDriver.Buf;
import dev.rivet.virtio.GuestDriver.DriverQueue;
import dev.rivet.virtio.GuestDriver.Used;
import dev.rivet.virtio.GuestDriver.Wire;
import dev.rivet.virtio.Virtio;
import dev.rivet.virtio.mmio.VirtioMmio;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static dev.rivet.virtio.mmio.VirtioMmio.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** virtio-rng driven the way Linux's drivers/char/hw_random/virtio-rng.c does: one writable buffer per request. */
class VirtioRngTest {
    static final long SEED = Long.getLong("rivet.seed", new SplittableRandom().nextLong(1L << 40));

    final GuestRam ram = new GuestRam(GuestDriver.RAM_BASE, GuestDriver.RAM_SIZE);
    final Wire irq = new Wire();
    final List<String> errors = new ArrayList<>();
    VirtioMmio mmio;
    GuestDriver drv;

    @BeforeEach
    void setUp() {
        System.out.printf("VirtioRngTest: seed %d (-Drivet.seed=%d)%n", SEED, SEED);
        mmio = new VirtioMmio(new VirtioRng(new SplittableRandom(SEED)), new DmaView(ram), irq, errors::add);
        drv = new GuestDriver(ram, mmio, irq);
    }

    @AfterEach
    void close() {
        ram.close();
    }

    /** The bytes the seeded source produces, in 4 KiB draws as the device takes them. */
    static byte[] expected(int n) {
        SplittableRandom r = new SplittableRandom(SEED);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] block = new byte[4096];
        while (out.size() < n) {
            r.nextBytes(block);
            out.writeBytes(block);
        }
        return java.util.Arrays.copyOf(out.toByteArray(), n);
    }

    @Test
    void identityAndNoConfig() {
        assertEquals(Virtio.ID_ENTROPY, drv.read(DEVICE_ID));
        assertEquals(Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(Virtio.F_INDIRECT_DESC)
                | Virtio.bit(Virtio.F_EVENT_IDX) | Virtio.bit(Virtio.F_RING_PACKED), drv.offered());
        drv.read(CONFIG);
        assertTrue(errors.getLast().contains("0x100"), "no config space: " + errors);
        drv.write(QUEUE_SEL, 0);
        assertEquals(VirtioRng.QUEUE_SIZE, drv.read(QUEUE_NUM_MAX));
        drv.write(QUEUE_SEL, 1);
        assertEquals(0, drv.read(QUEUE_NUM_MAX), "one queue");
    }

    @Test
    void fillsEachWritableBufferWithFreshBytesFromTheSource() {
        drv.negotiate(0);
        DriverQueue q = drv.queue(0, 64);
        drv.driverOk();
        long buf = drv.alloc(0x4000, 16);
        int[] sizes = {32, 64, 5000, 1, 3000};
        byte[] want = expected(8097);
        int at = 0;
        for (int size : sizes) {
            int head = q.add(Buf.in(buf, size));
            q.kick();
            assertEquals(new Used(head, size), q.poll());
            assertArrayEquals(java.util.Arrays.copyOfRange(want, at, at + size), drv.peek(buf, size),
                    "request of " + size + " (seed " + SEED + ")");
            at += size;
            assertEquals(Virtio.INT_USED_BUFFER, drv.takeInterrupt());
        }
    }

    @Test
    void aChainOfSeveralBuffersAndAnIndirectOneAreFilledInOrder() {
        drv.negotiate(Virtio.bit(Virtio.F_INDIRECT_DESC));
        DriverQueue q = drv.queue(0, 64);
        drv.driverOk();
        long a = drv.alloc(64, 16), b = drv.alloc(64, 16);
        byte[] want = expected(100);
        int head = q.add(Buf.out(a, 16), Buf.in(a, 10), Buf.in(b, 40)); // the readable part is skipped
        q.addIndirect(Buf.in(b + 40, 20), Buf.in(a + 10, 30));
        q.kick();
        assertEquals(new Used(head, 50), q.poll());
        assertEquals(50, q.poll().len());
        assertArrayEquals(java.util.Arrays.copyOfRange(want, 0, 10), drv.peek(a, 10));
        assertArrayEquals(java.util.Arrays.copyOfRange(want, 10, 50), drv.peek(b, 40));
        assertArrayEquals(java.util.Arrays.copyOfRange(want, 50, 70), drv.peek(b + 40, 20));
        assertArrayEquals(java.util.Arrays.copyOfRange(want, 70, 100), drv.peek(a + 10, 30));
    }

    @Test
    void aHugeRequestIsCappedNotServedWhole() {
        drv.negotiate(0);
        DriverQueue q = drv.queue(0, 64);
        drv.driverOk();
        long buf = drv.alloc(1 << 20, 4096);
        q.add(Buf.in(buf, 1 << 20));
        q.kick();
        assertEquals(VirtioRng.MAX_BYTES_PER_REQUEST, q.poll().len());
        assertArrayEquals(new byte[16], drv.peek(buf + VirtioRng.MAX_BYTES_PER_REQUEST, 16), "nothing past the cap");
    }

    @Test
    void resetForgetsTheQueueAndTheDeviceComesBack() {
        drv.negotiate(0);
        DriverQueue q = drv.queue(0, 64);
        drv.driverOk();
        long buf = drv.alloc(64, 16);
        q.add(Buf.in(buf, 8));
        q.kick();
        assertEquals(8, q.poll().len());
        drv.write(STATUS, 0);
        drv.negotiate(0);
        DriverQueue q2 = drv.queue(0, 16);
        drv.driverOk();
        q2.add(Buf.in(buf, 8));
        q2.kick();
        assertEquals(8, q2.poll().len());
        assertArrayEquals(java.util.Arrays.copyOfRange(expected(16), 8, 16), drv.peek(buf, 8),
                "bytes are never handed out twice, reset or not");
    }
}
