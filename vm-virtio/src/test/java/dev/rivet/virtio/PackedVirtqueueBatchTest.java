package dev.rivet.virtio;

import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.virtio.GuestDriver.Buf;
import dev.rivet.virtio.GuestDriver.DriverQueue;
import dev.rivet.virtio.GuestDriver.Used;
import dev.rivet.virtio.GuestDriver.Wire;
import dev.rivet.virtio.PackedDriverRing.Desc;
import dev.rivet.virtio.VirtqueueBatchTest.ManualDevice;
import dev.rivet.virtio.mmio.VirtioMmio;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;

import static dev.rivet.virtio.PackedDriverRing.*;
import static dev.rivet.virtio.Virtio.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A packed ring's device side driven by hand, as devices that hold buffers do: buffers
 * returned out of order (each used descriptor moves the used position on by the slots its
 * buffer took, 2.8.6), {@link Virtqueue#unpop}, and {@link Virtqueue#fill}/{@link
 * Virtqueue#flush} publishing several used descriptors so that the driver sees all or none
 * (2.8.9, multi-buffer requests), plus a device holding buffers against a driver that
 * reuses them. The driver is {@link PackedDriverRing}.
 */
class PackedVirtqueueBatchTest {
    static final long SEED = Long.getLong("rivet.seed", new SplittableRandom().nextLong(1L << 40));

    final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    final GuestRam ram = new GuestRam(GuestDriver.RAM_BASE, GuestDriver.RAM_SIZE);
    final ManualDevice dev = new ManualDevice();
    final DescriptorChain chain = new DescriptorChain();
    GuestDriver drv;
    DriverQueue q;
    PackedDriverRing p;
    Virtqueue vq;
    long buf;

    @BeforeEach
    void setUp() {
        drv = new GuestDriver(ram, new VirtioMmio(dev, new DmaView(ram), new Wire(), errors::add), new Wire());
        buf = drv.alloc(0x8000, 16);
    }

    @AfterEach
    void close() {
        ram.close();
    }

    void up(long features, int size) {
        drv.negotiate(features | bit(F_RING_PACKED));
        q = drv.queue(0, size);
        drv.driverOk();
        p = q.packed();
        vq = dev.ctx.queue(0);
        assertTrue(vq.packed());
    }

    /** A buffer of {@code slots} descriptors, the last one writable (64 bytes at {@code i}). */
    int addList(int i, int slots) {
        Buf[] bufs = new Buf[slots];
        for (int k = 0; k < slots - 1; k++) {
            bufs[k] = Buf.out(buf + 64L * i, 8);
        }
        bufs[slots - 1] = Buf.in(buf + 64L * i, 64);
        return q.add(bufs);
    }

    int pop() throws VirtqueueException {
        assertTrue(vq.pop(chain));
        return chain.head();
    }

    @Test
    void buffersReturnedOutOfOrderSkipTheSlotsEachOneTook() throws VirtqueueException {
        up(0, 8);
        int a = addList(0, 3), b = addList(1, 1), c = addList(2, 2); // slots 0-2, 3, 4-5
        assertEquals(a, pop());
        assertEquals(b, pop());
        assertEquals(c, pop());
        assertFalse(vq.pop(chain));
        vq.push(c, 20); // at slot 0, over a's first descriptor; the used position moves 2 on
        vq.push(a, 10); // at slot 2
        vq.push(b, 5);  // at slot 5
        assertEquals(a, drv.u16(p.ring + 16 * 2 + 12));
        assertEquals(b, drv.u16(p.ring + 16 * 5 + 12));
        assertEquals(new Used(c, 20), q.poll());
        assertEquals(new Used(a, 10), q.poll());
        assertEquals(new Used(b, 5), q.poll());
        assertNull(q.poll());
        assertEquals(6 | EVENT_WRAP, vq.usedIndex());
        // The ring goes on: slots 6, 7 and 0 (wrapping) for the next list.
        int d = addList(3, 3);
        assertEquals(d, pop());
        assertEquals(1, vq.lastAvailIndex(), "slot 1, wrap counter 0");
        vq.push(d, 1);
        assertEquals(new Used(d, 1), q.poll());
        assertEquals(1, vq.usedIndex());
        assertTrue(errors.isEmpty(), errors.toString());
    }

    @Test
    void unpopHandsTheSameBuffersOutAgain() throws VirtqueueException {
        up(0, 8);
        int a = addList(0, 2), b = addList(1, 3), c = addList(2, 1);
        assertEquals(a, pop());
        assertEquals(b, pop());
        assertEquals(c, pop());
        assertFalse(vq.pop(chain));
        vq.unpop(2);
        assertEquals(2 | EVENT_WRAP, vq.lastAvailIndex(), "back at b's first slot");
        assertEquals(b, pop(), "the first buffer put back comes out first");
        assertEquals(buf + 64, chain.writableAddress(0));
        assertEquals(2, chain.readableCount());
        assertEquals(c, pop());
        vq.push(a, 1);
        vq.push(b, 2);
        vq.push(c, 3);
        assertEquals(new Used(a, 1), q.poll());
        assertEquals(new Used(b, 2), q.poll());
        assertEquals(new Used(c, 3), q.poll());
        assertTrue(errors.isEmpty(), errors.toString());
    }

    @Test
    void unpopAfterReturningAnEarlierBufferPutsBackOnlyTheLaterOnes() throws VirtqueueException {
        up(0, 4);
        int a = addList(0, 2), b = addList(1, 2); // the whole ring
        assertEquals(a, pop());
        assertEquals(b, pop());
        vq.push(a, 7); // over a's slot 0
        assertEquals(new Used(a, 7), q.poll());
        vq.unpop(1);
        assertEquals(b, pop(), "b's slots were not written over");
        assertEquals(buf + 64, chain.writableAddress(0));
        int c = addList(2, 2); // slots 0 and 1 of the second lap
        assertEquals(c, pop());
        vq.push(c, 1); // at slot 2: the used position is past a only
        vq.push(b, 2);
        assertEquals(new Used(c, 1), q.poll());
        assertEquals(new Used(b, 2), q.poll());
    }

    @Test
    void unpopWithEventIdxLeavesTheDeviceEventAskingForTheNextBuffer() throws VirtqueueException {
        up(bit(F_EVENT_IDX), 8);
        addList(0, 2);
        assertTrue(vq.pop(chain));
        assertFalse(vq.pop(chain), "empty: publishes where it waits");
        assertEquals(EVENT_DESC << 16 | EVENT_WRAP | 2, p.deviceEvent());
        vq.unpop(1);
        int old = p.availIdx();
        addList(1, 1);
        assertTrue(p.kickNeeded(old), "the driver notifies when it adds the next buffer");
        assertTrue(vq.pop(chain));
        assertTrue(vq.pop(chain));
        assertFalse(vq.pop(chain));
        assertEquals(EVENT_DESC << 16 | EVENT_WRAP | 3, p.deviceEvent());
    }

    @Test
    void fillIsInvisibleUntilFlushPublishesAllAtOnce() throws VirtqueueException {
        up(0, 8);
        int a = addList(0, 2), b = addList(1, 1), c = addList(2, 3);
        for (int i = 0; i < 3; i++) {
            pop();
        }
        vq.fill(2, c, 30);
        vq.fill(0, a, 10);
        vq.fill(1, b, 20);
        assertNull(q.poll(), "nothing visible before flush");
        assertEquals(0, q.usedIdx());
        vq.flush(3);
        assertEquals(3, q.usedIdx());
        assertEquals(6 | EVENT_WRAP, vq.usedIndex());
        assertEquals(new Used(a, 10), q.poll());
        assertEquals(new Used(b, 20), q.poll());
        assertEquals(new Used(c, 30), q.poll());
    }

    @Test
    void aFlushedBatchAppearsWholeAtEveryStepOfItsWriting() throws VirtqueueException {
        up(0, 5);
        for (int round = 0; round < 12; round++) { // the batch straddles the end of the ring in some rounds
            int n = 1 + round % 3;
            int[] ids = new int[n];
            for (int i = 0; i < n; i++) {
                ids[i] = addList(i, 1 + (round + i) % 2);
            }
            for (int i = 0; i < n; i++) {
                assertEquals(ids[i], pop());
            }
            List<Used> expect = new ArrayList<>();
            for (int i = n - 1; i >= 0; i--) { // returned in reverse: a device finishing the last first
                vq.fill(n - 1 - i, ids[i], 100 * round + i);
                expect.add(new Used(ids[i], 100 * round + i));
            }
            List<Integer> seen = new ArrayList<>();
            String at = "round " + round;
            // Before every single store of the flush, the driver looks: all of the batch or none of it.
            ram.setWriteObserver(page -> {
                List<Used> now = p.peekUsed();
                seen.add(now.size());
                assertTrue(now.isEmpty() || now.equals(expect), at + ": the driver saw " + now);
            });
            vq.flush(n);
            ram.setWriteObserver(null);
            assertEquals(3 * n, seen.size(), at + ": id, len and flags of each");
            assertEquals(expect, p.peekUsed(), at);
            for (Used u : expect) {
                assertEquals(u, q.poll(), at);
            }
        }
    }

    @Test
    void aDeviceCannotReturnOrPutBackWhatItDoesNotHold() throws VirtqueueException {
        up(0, 8);
        int a = addList(0, 1), b = addList(1, 2);
        assertEquals(a, pop());
        assertThrows(IllegalArgumentException.class, () -> vq.unpop(2));
        assertThrows(IllegalArgumentException.class, () -> vq.unpop(-1));
        assertThrows(IllegalArgumentException.class, () -> vq.fill(1, a, 0), "one buffer held");
        assertThrows(IllegalArgumentException.class, () -> vq.fill(0, b, 0), "b was not popped");
        assertThrows(IllegalArgumentException.class, () -> vq.flush(2));
        assertEquals(b, pop());
        vq.fill(0, a, 0);
        vq.fill(1, a, 0);
        assertThrows(IllegalArgumentException.class, () -> vq.flush(2), "a returned twice");
        vq.fill(1, b, 0);
        vq.push(a, 0); // element 0 is a; b waits at what is now element 0
        assertThrows(IllegalArgumentException.class, () -> vq.unpop(2), "a was returned");
        vq.flush(1);
        assertEquals(new Used(a, 0), q.poll());
        assertEquals(new Used(b, 0), q.poll());
        assertThrows(IllegalArgumentException.class, () -> vq.push(b, 0), "pushed twice");
        addList(2, 1);
        pop();
        vq.push(chain.head(), 0);
        assertThrows(IllegalArgumentException.class, () -> vq.unpop(1), "the last one popped was returned");
        assertTrue(errors.isEmpty(), errors.toString());
    }

    // ---- a driver reusing what the device holds ----

    @Test
    void aBufferIdStillInFlightIsRefused() throws VirtqueueException {
        up(0, 8);
        int a = addList(0, 1);
        pop();
        p.addRaw(new Desc(buf + 64, 64, a, WRITE));
        VirtqueueException e = assertThrows(VirtqueueException.class, () -> vq.pop(chain));
        assertTrue(e.getMessage().contains("buffer ID " + a + ", which is still in use"), e.getMessage());
    }

    @Test
    void slotsTheDeviceHoldsCannotBeMadeAvailableAgain() throws VirtqueueException {
        up(0, 4);
        addList(0, 1);
        addList(1, 3); // the whole ring
        pop();
        pop();
        // The driver never got them back, yet writes slot 0 as available in the second lap.
        p.addRaw(new Desc(buf, 8, 3, 0));
        VirtqueueException e = assertThrows(VirtqueueException.class, () -> vq.pop(chain));
        assertTrue(e.getMessage().contains("runs into descriptors the device has not returned (4 of 4 in use)"),
                e.getMessage());
    }

    @Test
    void aListLongerThanTheSlotsTheDeviceDoesNotHoldIsRefused() throws VirtqueueException {
        up(0, 4);
        addList(0, 2);
        pop();
        vq.push(chain.head(), 0);
        q.poll();
        addList(1, 1);
        pop(); // holds slot 2
        // Slots 3, 0 and 1 are free; a list over all of them and then slot 2 again.
        p.addRaw(new Desc(buf, 8, 0, NEXT), new Desc(buf, 8, 0, NEXT), new Desc(buf, 8, 0, NEXT),
                new Desc(buf, 8, 0, 0));
        VirtqueueException e = assertThrows(VirtqueueException.class, () -> vq.pop(chain));
        assertTrue(e.getMessage().contains("runs into descriptors the device has not returned"), e.getMessage());
    }

    // ---- everything at once ----

    @Test
    void randomPopsUnpopsAndOutOfOrderReturnsOverManyLaps() throws VirtqueueException {
        System.out.printf("PackedVirtqueueBatchTest.randomPopsUnpopsAndOutOfOrderReturnsOverManyLaps: seed %d "
                + "(-Drivet.seed=%d)%n", SEED, SEED);
        SplittableRandom r = new SplittableRandom(SEED);
        boolean indirect = r.nextBoolean();
        up((indirect ? bit(F_INDIRECT_DESC) : 0) | (r.nextBoolean() ? bit(F_EVENT_IDX) : 0), 1 + r.nextInt(16));
        String why = "size " + q.size + ", indirect " + indirect + ", seed " + SEED;
        Map<Integer, String> expectChain = new HashMap<>();
        Map<Integer, Long> writableOf = new HashMap<>();
        Map<Integer, Integer> slotsOf = new HashMap<>();
        ArrayDeque<Integer> notPopped = new ArrayDeque<>(); // made available, in ring order
        List<Integer> held = new ArrayList<>();
        List<Integer> popOrder = new ArrayList<>(); // ids popped, -1 where one was returned since
        ArrayDeque<Used> expectUsed = new ArrayDeque<>();
        int freeSlots = q.size;
        int returned = 0;
        int laps = 0;
        boolean wrap = p.usedWrap();
        for (int step = 0; returned < 20_000; step++) {
            assertTrue(step < 1_000_000, "stuck after " + returned + " buffers returned, " + why);
            switch (r.nextInt(5)) {
                case 0, 1 -> { // the driver adds a buffer
                    if (freeSlots == 0) {
                        break;
                    }
                    boolean viaTable = indirect && r.nextInt(3) == 0;
                    int descs = 1 + r.nextInt(viaTable ? 6 : Math.min(4, freeSlots));
                    int readable = r.nextInt(descs + 1);
                    Buf[] bufs = new Buf[descs];
                    StringBuilder sb = new StringBuilder();
                    long writable = 0;
                    for (int k = 0; k < descs; k++) {
                        long at = buf + r.nextInt(0x7000);
                        long len = 1 + r.nextInt(256);
                        bufs[k] = k < readable ? Buf.out(at, len) : Buf.in(at, len);
                        sb.append(k < readable ? " r" : " w").append(String.format("0x%x+%d", at, len));
                        writable += k < readable ? 0 : len;
                    }
                    int id = viaTable ? q.addIndirect(bufs) : q.add(bufs);
                    freeSlots -= viaTable ? 1 : descs;
                    slotsOf.put(id, viaTable ? 1 : descs);
                    expectChain.put(id, "chain " + id + ":" + sb);
                    writableOf.put(id, writable);
                    notPopped.addLast(id);
                }
                case 2 -> { // the device takes some
                    for (int k = r.nextInt(4); k >= 0; k--) {
                        boolean got = vq.pop(chain);
                        assertEquals(!notPopped.isEmpty(), got, why);
                        if (!got) {
                            break;
                        }
                        int id = notPopped.removeFirst();
                        assertEquals(expectChain.get(id), chain.toString(), why);
                        held.add(id);
                        popOrder.add(id);
                    }
                }
                case 3 -> { // the device returns some, in any order, one by one or as a batch
                    if (held.isEmpty()) {
                        break;
                    }
                    Collections.shuffle(held, new Random(r.nextLong()));
                    int n = 1 + r.nextInt(held.size());
                    List<Integer> back = new ArrayList<>(held.subList(0, n));
                    held.subList(0, n).clear();
                    boolean batch = r.nextBoolean();
                    int[] order = r.ints(0, 1 << 20).limit(n).toArray();
                    Integer[] offsets = new Integer[n];
                    for (int i = 0; i < n; i++) {
                        offsets[i] = i;
                    }
                    Arrays.sort(offsets, (x, y) -> Integer.compare(order[x], order[y]));
                    long[] lens = new long[n];
                    for (int i = 0; i < n; i++) {
                        lens[i] = r.nextLong(writableOf.get(back.get(i)) + 1);
                        expectUsed.addLast(new Used(back.get(i), (int) lens[i]));
                    }
                    for (int id : back) {
                        popOrder.replaceAll(x -> x == id ? -1 : x);
                    }
                    if (batch) {
                        for (int i : offsets) {
                            vq.fill(i, back.get(i), lens[i]);
                        }
                        int first = r.nextInt(n + 1);
                        vq.flush(first);
                        vq.flush(n - first);
                    } else {
                        for (int i = 0; i < n; i++) {
                            vq.push(back.get(i), lens[i]);
                        }
                    }
                }
                default -> { // the device puts back the last few it took and still holds
                    int trailing = 0;
                    while (trailing < popOrder.size() && popOrder.get(popOrder.size() - 1 - trailing) >= 0) {
                        trailing++;
                    }
                    if (trailing == 0) {
                        break;
                    }
                    int m = 1 + r.nextInt(trailing);
                    vq.unpop(m);
                    for (int i = 0; i < m; i++) {
                        int id = popOrder.removeLast();
                        held.remove((Integer) id);
                        notPopped.addFirst(id);
                    }
                }
            }
            for (Used u; (u = q.poll()) != null; ) {
                assertEquals(expectUsed.removeFirst(), u, why);
                freeSlots += slotsOf.get(u.id());
                returned++;
            }
            if (held.isEmpty()) {
                popOrder.clear();
            }
            if (p.usedWrap() != wrap) {
                wrap = p.usedWrap();
                laps++;
            }
        }
        assertTrue(expectUsed.isEmpty(), why);
        assertTrue(laps > 100, laps + " laps, " + why);
        assertTrue(errors.isEmpty(), errors.toString());
    }
}
