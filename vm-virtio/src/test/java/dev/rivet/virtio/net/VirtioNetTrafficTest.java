package dev.rivet.virtio.net;

import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.devices.net.NetBackend;
import dev.rivet.virtio.GuestDriver;
import dev.rivet.virtio.GuestDriver.Buf;
import dev.rivet.virtio.GuestDriver.DriverQueue;
import dev.rivet.virtio.GuestDriver.Used;
import dev.rivet.virtio.GuestDriver.Wire;
import dev.rivet.virtio.Virtio;
import dev.rivet.virtio.mmio.VirtioMmio;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static dev.rivet.virtio.Virtio.bit;
import static dev.rivet.virtio.mmio.VirtioMmio.STATUS;
import static dev.rivet.virtio.net.VirtioNet.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * virtio-net with traffic both ways at once: a backend thread delivers numbered frames
 * (waiting for guestReady whenever the card refuses one) while the guest, on the test's
 * thread, takes frames off the receive ring, posts fresh buffers of random sizes and kicks
 * as Linux does (only when avail_event asks, under EVENT_IDX), and transmits through the
 * card's I/O thread, over split or packed rings. Seeded: the seed is printed; rerun with
 * {@code -Drivet.seed=N}.
 */
class VirtioNetTrafficTest {
    static final long SEED = Long.getLong("rivet.seed", new SplittableRandom().nextLong(1L << 40));
    static final byte[] MAC = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    static final int RING = 64;
    static final int SLOT = 2048;
    static final int SMALL_BUF = HDR_SIZE + 1518;
    static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(30);

    final GuestRam ram = new GuestRam(GuestDriver.RAM_BASE, GuestDriver.RAM_SIZE);
    final Wire irq = new Wire();
    final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    final ExecutorService io = Executors.newSingleThreadExecutor(r -> new Thread(r, "net-io"));
    final FakeBackend backend = new FakeBackend();
    final VirtioNet net = new VirtioNet(backend, MAC, io);
    final VirtioMmio mmio = new VirtioMmio(net, new DmaView(ram), irq, errors::add);
    final GuestDriver drv = new GuestDriver(ram, mmio, irq);
    final long[] rxSlots = new long[RING], txSlots = new long[RING];
    final AtomicReference<Throwable> feederFailure = new AtomicReference<>();
    final AtomicLong accepted = new AtomicLong();

    // The guest's state for the current driver instance.
    DriverQueue rx, tx;
    boolean mergeable, eventIdx;
    final Map<Integer, Long> rxBufs = new HashMap<>(), txBufs = new HashMap<>();
    final ArrayDeque<Long> freeRx = new ArrayDeque<>(), freeTx = new ArrayDeque<>();

    VirtioNetTrafficTest() {
        for (int i = 0; i < RING; i++) {
            rxSlots[i] = drv.alloc(SLOT, 64);
            txSlots[i] = drv.alloc(SLOT, 64);
        }
    }

    @AfterEach
    void close() throws InterruptedException {
        io.shutdownNow();
        assertTrue(io.awaitTermination(10, TimeUnit.SECONDS));
        ram.close();
    }

    /** Frame {@code seq}: its length and bytes follow from the number, so any frame can be checked on its own. */
    static byte[] numbered(int seq) {
        SplittableRandom r = new SplittableRandom(seq * 0x9E37_79B9L);
        byte[] f = new byte[r.nextInt(ETH_HEADER + 4, NetBackend.MAX_FRAME + 1)];
        r.nextBytes(f);
        System.arraycopy(MAC, 0, f, 0, 6);
        f[12] = (byte) 0x88;
        f[13] = (byte) 0xB5;
        ByteBuffer.wrap(f).putInt(ETH_HEADER, seq);
        return f;
    }

    static int seqOf(byte[] f) {
        return ByteBuffer.wrap(f).getInt(ETH_HEADER);
    }

    /**
     * virtnet_probe + virtnet_open: negotiate, set up the queues (packed rings, VirtIO 1.2
     * section 2.8, when {@code packed}), fill the receive ring, DRIVER_OK.
     */
    void up(boolean mergeable, boolean eventIdx, boolean packed) {
        this.mergeable = mergeable;
        this.eventIdx = eventIdx;
        long want = bit(F_MAC) | bit(F_STATUS) | bit(F_CSUM) | bit(Virtio.F_INDIRECT_DESC)
                | (mergeable ? bit(F_MRG_RXBUF) : 0) | (eventIdx ? bit(Virtio.F_EVENT_IDX) : 0)
                | (packed ? bit(Virtio.F_RING_PACKED) : 0);
        drv.negotiate(want);
        rx = drv.queue(RX_QUEUE, RING);
        tx = drv.queue(TX_QUEUE, RING);
        rxBufs.clear();
        txBufs.clear();
        freeRx.clear();
        freeTx.clear();
        for (int i = 0; i < RING; i++) {
            freeRx.add(rxSlots[i]);
            freeTx.add(txSlots[i]);
        }
        drv.driverOk();
    }

    /** try_fill_recv: every free slot back in the ring, at a random size, then a kick if the device wants one. */
    void refill(SplittableRandom r) {
        int old = rx.availIdx();
        while (!freeRx.isEmpty()) {
            long a = freeRx.poll();
            int len = mergeable ? r.nextInt(HDR_SIZE, SLOT + 1) : SMALL_BUF;
            rxBufs.put(rx.add(Buf.in(a, len)), a);
        }
        VarHandle.fullFence(); // virtio_mb: publish the avail index before reading avail_event
        if (!eventIdx || rx.kickNeeded(old)) {
            rx.kick();
        }
    }

    /** receive_buf: one frame off the used ring, following num_buffers; null when none. */
    byte[] receive() {
        Used first = rx.poll();
        if (first == null) {
            return null;
        }
        ByteBuffer data = ByteBuffer.allocate(64 * 1024);
        Used u = first;
        int num = 1;
        for (int i = 0; i < num; i++) {
            if (i > 0) {
                u = rx.poll();
                assertTrue(u != null, "num_buffers " + num + " but only " + i + " buffers visible");
            }
            long a = rxBufs.remove(u.id());
            freeRx.add(a);
            byte[] b = drv.peek(a, u.len());
            if (i == 0) {
                assertTrue(b.length >= HDR_SIZE, "first buffer of " + b.length + " bytes");
                num = (b[HDR_NUM_BUFFERS] & 0xFF) | (b[HDR_NUM_BUFFERS + 1] & 0xFF) << 8;
                assertTrue(mergeable ? num >= 1 : num == 1, "num_buffers " + num);
                data.put(b, HDR_SIZE, b.length - HDR_SIZE);
            } else {
                data.put(b);
            }
        }
        return Arrays.copyOf(data.array(), data.position());
    }

    /** start_xmit of frame {@code seq} with the header pushed in front, if a slot is free (reclaiming finished ones first). */
    boolean transmit(int seq) {
        for (Used u; (u = tx.poll()) != null; ) {
            freeTx.add(txBufs.remove(u.id()));
        }
        if (freeTx.isEmpty()) {
            return false;
        }
        long a = freeTx.poll();
        byte[] f = numbered(seq);
        drv.poke(a, new byte[HDR_SIZE]);
        drv.poke(a + HDR_SIZE, f);
        int old = tx.availIdx();
        txBufs.put(tx.add(Buf.out(a, HDR_SIZE + f.length)), a);
        VarHandle.fullFence();
        if (!eventIdx || tx.kickNeeded(old)) {
            tx.kick();
        }
        return true;
    }

    /** The backend's side: delivers frames from {@code first} on, waiting for guestReady after each refusal. */
    Thread feeder(int first, int count, AtomicBoolean stop) {
        Thread t = new Thread(() -> {
            try {
                for (int i = first; i < first + count && !stop.get(); i++) {
                    byte[] f = numbered(i);
                    while (!backend.deliver(f)) {
                        if (!backend.readyPermits.tryAcquire(10, TimeUnit.SECONDS)) {
                            throw new AssertionError("frame " + i + " refused and no guestReady within 10 s");
                        }
                    }
                    accepted.incrementAndGet();
                }
            } catch (Throwable e) {
                feederFailure.set(e);
            }
        }, "backend");
        t.start();
        return t;
    }

    void checkFeeder(long deadline) {
        if (feederFailure.get() != null) {
            throw new AssertionError("backend thread failed", feederFailure.get());
        }
        if (System.nanoTime() > deadline) {
            fail("traffic stuck");
        }
    }

    @ParameterizedTest(name = "mergeable={0} eventIdx={1} packed={2}")
    @CsvSource({"true,true,false", "true,false,false", "false,true,false", "false,false,false",
            "true,true,true", "true,false,true", "false,true,true", "false,false,true"})
    void everyFrameArrivesIntactAndInOrderWhileTheGuestPostsAndTransmits(boolean mergeable, boolean eventIdx,
            boolean packed) throws InterruptedException {
        System.out.printf("VirtioNetTrafficTest.everyFrameArrives(mergeable=%b, eventIdx=%b, packed=%b): seed %d "
                + "(-Drivet.seed=%d)%n", mergeable, eventIdx, packed, SEED, SEED);
        SplittableRandom r = new SplittableRandom(SEED);
        int frames = 3000;
        up(mergeable, eventIdx, packed);
        refill(r);
        Thread feeder = feeder(0, frames, new AtomicBoolean());
        long deadline = System.nanoTime() + TIMEOUT_NS;
        int txSeq = 1_000_000;
        for (int next = 0; next < frames; ) {
            byte[] f = receive();
            if (f == null) {
                checkFeeder(deadline);
                if (!freeRx.isEmpty()) {
                    refill(r); // the refill work: a device waiting for room must get it
                }
                Thread.onSpinWait();
                continue;
            }
            assertArrayEquals(numbered(next), f, "frame " + next + " (got " + (f.length >= 18 ? seqOf(f) : -1) + ")");
            next++;
            if (r.nextInt(4) == 0) {
                refill(r); // the guest sometimes lets the ring run low
            }
            if (r.nextInt(3) == 0 && transmit(txSeq)) {
                txSeq++;
            }
            if (freeRx.size() > RING / 2) {
                refill(r); // virtnet_receive refills once half the ring is free
            }
        }
        feeder.join(10_000);
        checkFeeder(deadline);
        while (!txBufs.isEmpty()) {
            txBufs.remove(tx.await().id());
        }
        assertEquals(txSeq - 1_000_000, backend.sent.size());
        for (int i = 0; i < backend.sent.size(); i++) {
            assertArrayEquals(numbered(1_000_000 + i), backend.sent.get(i), "transmitted frame " + i);
        }
        assertTrue(errors.isEmpty(), errors.toString());
        VirtioNet.Stats s = net.stats();
        System.out.println("  " + s + ", guestReady " + backend.ready.get());
        assertEquals(frames, s.rxFrames());
        assertEquals(0, s.rxDropped());
        assertEquals(frames, accepted.get());
        assertEquals(backend.sent.size(), s.txFrames());
    }

    @Test
    void resetWhileTrafficFlowsLosesFramesButNeverCorruptsOrReordersThem() throws InterruptedException {
        System.out.printf("VirtioNetTrafficTest.resetWhileTrafficFlows: seed %d (-Drivet.seed=%d)%n", SEED, SEED);
        SplittableRandom r = new SplittableRandom(SEED);
        AtomicBoolean stop = new AtomicBoolean();
        Thread feeder = feeder(0, Integer.MAX_VALUE, stop);
        long deadline = System.nanoTime() + TIMEOUT_NS;
        int lastRx = -1;
        int txSeq = 0;
        int lastTxChecked = -1;
        int received = 0;
        for (int cycle = 0; cycle < 40; cycle++) {
            up(r.nextBoolean(), r.nextBoolean(), r.nextBoolean());
            refill(r);
            int want = r.nextInt(1, 60);
            for (int got = 0; got < want; ) {
                byte[] f = receive();
                if (f == null) {
                    checkFeeder(deadline);
                    if (!freeRx.isEmpty()) {
                        refill(r);
                    }
                    Thread.onSpinWait();
                    continue;
                }
                int seq = seqOf(f);
                assertArrayEquals(numbered(seq), f, "cycle " + cycle + ": frame " + seq + " intact");
                assertTrue(seq > lastRx, "cycle " + cycle + ": frame " + seq + " after " + lastRx);
                lastRx = seq;
                got++;
                received++;
                if (r.nextInt(3) == 0) {
                    refill(r);
                }
                if (r.nextInt(2) == 0 && transmit(txSeq)) {
                    txSeq++;
                }
                if (freeRx.size() > RING / 2) {
                    refill(r);
                }
            }
            assertEquals(0, drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET, "cycle " + cycle);
            drv.write(STATUS, 0); // frames in flight either way: whatever is not finished is lost
            assertEquals(0, drv.status());
            // What went out so far is intact and in order.
            List<byte[]> sent = List.copyOf(backend.sent);
            for (int i = lastTxChecked + 1; i < sent.size(); i++) {
                byte[] f = sent.get(i);
                assertArrayEquals(numbered(seqOf(f)), f);
                assertTrue(i == 0 || seqOf(f) > seqOf(sent.get(i - 1)), "transmit order");
            }
            lastTxChecked = sent.size() - 1;
        }
        stop.set(true);
        backend.readyPermits.release(); // in case it waits
        feeder.join(10_000);
        checkFeeder(deadline);
        assertTrue(errors.isEmpty(), errors.toString());
        VirtioNet.Stats s = net.stats();
        System.out.println("  " + s + ", guestReady " + backend.ready.get());
        assertTrue(s.rxFrames() >= received);
        assertEquals(accepted.get(), s.rxFrames() + s.rxDropped(), "every accepted frame was received or dropped");
    }
}
