package dev.rivet.virtio.blk;

import dev.rivet.core.bus.Bus;
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
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static dev.rivet.virtio.Virtio.bit;
import static dev.rivet.virtio.blk.VirtioBlk.*;
import static dev.rivet.virtio.mmio.VirtioMmio.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * virtio-blk driven the way Linux's drivers/block/virtio_blk.c does (virtblk_probe reads
 * the config; virtblk_add_req sends header, data and status as separate buffers), with the
 * device's I/O on its own executor thread and an in-memory disk behind it.
 */
class VirtioBlkTest {
    static final long SEED = Long.getLong("rivet.seed", new SplittableRandom().nextLong(1L << 40));
    static final int DISK = 1 << 20; // 2048 sectors
    static final long ALL = bit(F_SEG_MAX) | bit(F_BLK_SIZE) | bit(F_FLUSH) | bit(F_RO) | bit(F_DISCARD)
            | bit(F_WRITE_ZEROES) | bit(Virtio.F_INDIRECT_DESC) | bit(Virtio.F_EVENT_IDX);

    final GuestRam ram = new GuestRam(GuestDriver.RAM_BASE, GuestDriver.RAM_SIZE);
    final Wire irq = new Wire();
    final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    final ExecutorService io = Executors.newSingleThreadExecutor(r -> new Thread(r, "blk-io"));
    MemoryDisk disk;
    VirtioMmio mmio;
    GuestDriver drv;
    DriverQueue q;
    long hdr, status, data;

    @AfterEach
    void close() throws InterruptedException {
        io.shutdownNow();
        assertTrue(io.awaitTermination(10, TimeUnit.SECONDS));
        ram.close();
    }

    void attach(boolean readOnly, String serial) {
        disk = new MemoryDisk(DISK, readOnly, serial);
        mmio = new VirtioMmio(new VirtioBlk(disk, io), new DmaView(ram), irq, errors::add);
        drv = new GuestDriver(ram, mmio, irq);
        hdr = drv.alloc(16, 16);
        status = drv.alloc(16, 16);
        data = drv.alloc(64 * 1024, 4096);
    }

    /** Ring features to accept on top of the test's own: none (split rings); see {@link VirtioBlkPackedTest}. */
    long ringFeatures() {
        return 0;
    }

    /** virtblk_probe up to DRIVER_OK, accepting {@code wanted}. */
    void probe(boolean readOnly, long wanted) {
        attach(readOnly, "rivet-disk-0");
        drv.negotiate(wanted | ringFeatures());
        q = drv.queue(0, 128);
        drv.driverOk();
    }

    void probe() {
        probe(false, ALL);
    }

    void header(long at, int type, long sector) {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(type).putInt(0).putLong(sector);
        drv.poke(at, b.array());
    }

    /** Sends header, then {@code bufs}, then a 1-byte status; waits; returns the status. */
    int request(int type, long sector, Buf... bufs) {
        header(hdr, type, sector);
        drv.poke(status, new byte[] {(byte) 0xAA});
        Buf[] chain = new Buf[bufs.length + 2];
        chain[0] = Buf.out(hdr, 16);
        System.arraycopy(bufs, 0, chain, 1, bufs.length);
        chain[chain.length - 1] = Buf.in(status, 1);
        int head = q.add(chain);
        q.kick();
        Used u = q.await();
        assertEquals(head, u.id());
        long writable = Arrays.stream(chain).filter(Buf::writable).mapToLong(Buf::len).sum();
        assertEquals(writable, u.len(), "used length: every writable byte, status included");
        return drv.peek(status, 1)[0];
    }

    byte[] pattern(int n, int salt) {
        byte[] b = new byte[n];
        new SplittableRandom(salt).nextBytes(b);
        return b;
    }

    long cfg(int off, int size) {
        return Bus.readDevice(mmio, CONFIG + off, size);
    }

    // ---- configuration ----

    @Test
    void configurationSpaceDescribesTheDisk() {
        attach(false, "");
        assertEquals(Virtio.ID_BLOCK, drv.read(DEVICE_ID));
        long f = drv.offered();
        assertEquals(ALL & ~bit(F_RO), f & ALL, Long.toHexString(f));
        assertEquals(DISK / 512, cfg(CFG_CAPACITY, 4) | cfg(CFG_CAPACITY + 4, 4) << 32);
        assertEquals(SEG_MAX, cfg(CFG_SEG_MAX, 4));
        assertEquals(512, cfg(CFG_BLK_SIZE, 4));
        assertEquals(MAX_DISCARD_SECTORS, cfg(CFG_MAX_DISCARD_SECTORS, 4));
        assertEquals(MAX_SEGMENTS, cfg(CFG_MAX_DISCARD_SEG, 4));
        assertEquals(1, cfg(CFG_DISCARD_SECTOR_ALIGNMENT, 4));
        assertEquals(MAX_WRITE_ZEROES_SECTORS, cfg(CFG_MAX_WRITE_ZEROES_SECTORS, 4));
        assertEquals(MAX_SEGMENTS, cfg(CFG_MAX_WRITE_ZEROES_SEG, 4));
        assertEquals(1, cfg(CFG_WRITE_ZEROES_MAY_UNMAP, 1));
        drv.write(QUEUE_SEL, 0);
        assertEquals(QUEUE_SIZE, drv.read(QUEUE_NUM_MAX));
        cfg(CONFIG_SIZE, 4);
        assertTrue(errors.getLast().contains("0x13c"), errors.toString());
    }

    @Test
    void aReadOnlyDiskOffersRo() {
        attach(true, "");
        assertEquals(bit(F_RO), drv.offered() & bit(F_RO));
    }

    // ---- requests ----

    @Test
    void writeThenReadBackOnTheIoThread() {
        probe();
        byte[] a = pattern(4096, 1);
        drv.poke(data, a);
        assertEquals(S_OK, request(T_OUT, 8, Buf.out(data, 4096)));
        assertArrayEquals(a, Arrays.copyOfRange(disk.data, 8 * 512, 8 * 512 + 4096));
        drv.poke(data, new byte[4096]);
        assertEquals(S_OK, request(T_IN, 8, Buf.in(data, 4096)));
        assertArrayEquals(a, drv.peek(data, 4096));
        assertEquals(List.of("blk-io", "blk-io"), disk.threads, "I/O never runs on the hart thread");
        assertTrue(irq.level);
        assertEquals(Virtio.INT_USED_BUFFER, drv.takeInterrupt());
    }

    @Test
    void headerDataAndStatusMaySplitAnywhere() {
        probe();
        byte[] a = pattern(1536, 2);
        // Header in two pieces, data in three of odd sizes, status at the end of a longer buffer.
        header(hdr, T_OUT, 100);
        drv.poke(data, a);
        q.add(Buf.out(hdr, 10), Buf.out(hdr + 10, 6), Buf.out(data, 100), Buf.out(data + 100, 1000),
                Buf.out(data + 1100, 436), Buf.in(status, 1));
        q.kick();
        q.await();
        assertEquals(S_OK, drv.peek(status, 1)[0]);
        assertArrayEquals(a, Arrays.copyOfRange(disk.data, 100 * 512, 100 * 512 + 1536));

        // Read it back with the status byte at the end of the second data buffer.
        long in = drv.alloc(4096, 16);
        header(hdr, T_IN, 100);
        q.add(Buf.out(hdr, 16), Buf.in(in, 700), Buf.in(in + 700, 837));
        q.kick();
        assertEquals(1537, q.await().len());
        assertArrayEquals(a, drv.peek(in, 1536));
        assertEquals(S_OK, drv.peek(in + 1536, 1)[0]);
    }

    @Test
    void indirectRequestsWork() {
        probe();
        byte[] a = pattern(1024, 3);
        drv.poke(data, a);
        header(hdr, T_OUT, 0);
        q.addIndirect(Buf.out(hdr, 16), Buf.out(data, 512), Buf.out(data + 512, 512), Buf.in(status, 1));
        q.kick();
        q.await();
        assertEquals(S_OK, drv.peek(status, 1)[0]);
        assertArrayEquals(a, Arrays.copyOf(disk.data, 1024));
    }

    @Test
    void flushReachesTheDisk() {
        probe();
        assertEquals(S_OK, request(T_FLUSH, 0));
        assertEquals(1, disk.flushes);
        drv.poke(data, pattern(512, 4));
        assertEquals(S_OK, request(T_OUT, 0, Buf.out(data, 512)));
        assertEquals(1, disk.flushes, "write-back when the driver accepted FLUSH");
    }

    @Test
    void withoutTheFlushFeatureEveryWriteIsWrittenThrough() {
        probe(false, ALL & ~bit(F_FLUSH));
        drv.poke(data, pattern(512, 5));
        assertEquals(S_OK, request(T_OUT, 0, Buf.out(data, 512)));
        assertEquals(1, disk.flushes);
        assertEquals(List.of("write 0+512", "flush"), disk.calls);
    }

    @Test
    void getIdReturnsTheSerialPadded() {
        probe();
        assertEquals(S_OK, request(T_GET_ID, 0, Buf.in(data, 20)));
        byte[] want = Arrays.copyOf("rivet-disk-0".getBytes(StandardCharsets.US_ASCII), 20);
        assertArrayEquals(want, drv.peek(data, 20));
    }

    @Test
    void aTwentyByteSerialHasNoTerminator() {
        attach(false, "0123456789abcdefghijKLMNOP");
        drv.negotiate(ALL | ringFeatures());
        q = drv.queue(0, 16);
        drv.driverOk();
        drv.poke(data, pattern(32, 6));
        byte[] after = drv.peek(data + 20, 4);
        assertEquals(S_OK, request(T_GET_ID, 0, Buf.in(data, 20)));
        assertEquals("0123456789abcdefghij", new String(drv.peek(data, 20), StandardCharsets.US_ASCII));
        assertArrayEquals(after, drv.peek(data + 20, 4), "nothing written past the buffer");
    }

    byte[] segment(long sector, int sectors, int flags) {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        return b.putLong(sector).putInt(sectors).putInt(flags).array();
    }

    @Test
    void discardAndWriteZeroes() {
        probe();
        Arrays.fill(disk.data, (byte) 0x55);
        drv.poke(data, segment(2, 4, 0));
        drv.poke(data + 16, segment(10, 1, 0));
        assertEquals(S_OK, request(T_DISCARD, 0, Buf.out(data, 32)));
        drv.poke(data, segment(20, 2, FLAG_UNMAP));
        assertEquals(S_OK, request(T_WRITE_ZEROES, 0, Buf.out(data, 16)));
        drv.poke(data, segment(30, 1, 0));
        assertEquals(S_OK, request(T_WRITE_ZEROES, 0, Buf.out(data, 16)));
        assertEquals(List.of("discard 1024+2048", "discard 5120+512", "zeroes 10240+1024 unmap", "zeroes 15360+512"),
                disk.calls);
        assertArrayEquals(new byte[1024], Arrays.copyOfRange(disk.data, 10240, 11264));
    }

    @Test
    void discardRefusesUnmapAndUnknownFlagsAndBadSegments() {
        probe();
        drv.poke(data, segment(2, 4, FLAG_UNMAP));
        assertEquals(S_UNSUPP, request(T_DISCARD, 0, Buf.out(data, 16)), "unmap on a discard (5.2.6.2)");
        drv.poke(data, segment(2, 4, 2));
        assertEquals(S_UNSUPP, request(T_WRITE_ZEROES, 0, Buf.out(data, 16)), "unknown flag");
        drv.poke(data, segment(2, 4, 0));
        drv.poke(data + 16, segment(DISK / 512, 1, 0)); // second segment off the end
        assertEquals(S_IOERR, request(T_DISCARD, 0, Buf.out(data, 32)));
        assertEquals(List.of(), disk.calls, "no segment carried out when one is bad");
        assertEquals(S_IOERR, request(T_DISCARD, 0, Buf.out(data, 24)), "not whole segments");
        assertEquals(S_IOERR, request(T_DISCARD, 0), "no segment");
        assertEquals(S_IOERR, request(T_DISCARD, 0, Buf.out(data, 16L * (MAX_SEGMENTS + 1))), "too many");
        drv.poke(data, segment(0, MAX_DISCARD_SECTORS + 1, 0));
        assertEquals(S_IOERR, request(T_DISCARD, 0, Buf.out(data, 16)), "too many sectors");
        assertEquals(List.of(), disk.calls);
    }

    @Test
    void discardWithoutTheFeatureIsUnsupported() {
        probe(false, ALL & ~bit(F_DISCARD) & ~bit(F_WRITE_ZEROES));
        drv.poke(data, segment(2, 4, 0));
        assertEquals(S_UNSUPP, request(T_DISCARD, 0, Buf.out(data, 16)));
        assertEquals(S_UNSUPP, request(T_WRITE_ZEROES, 0, Buf.out(data, 16)));
        assertEquals(List.of(), disk.calls);
    }

    @Test
    void unknownRequestTypesAreUnsupported() {
        probe();
        assertEquals(S_UNSUPP, request(T_GET_LIFETIME, 0, Buf.in(data, 16)));
        assertEquals(S_UNSUPP, request(T_SECURE_ERASE, 0, Buf.out(data, 16)));
        assertEquals(S_UNSUPP, request(99, 0));
        assertEquals(S_UNSUPP, request(-1, 0));
    }

    @Test
    void outOfRangeSectorsAreIoErrors() {
        probe();
        long last = DISK / 512 - 1;
        assertEquals(S_OK, request(T_IN, last, Buf.in(data, 512)));
        assertEquals(S_IOERR, request(T_IN, last, Buf.in(data, 1024)));
        assertEquals(S_IOERR, request(T_IN, last + 1, Buf.in(data, 512)));
        assertEquals(S_IOERR, request(T_OUT, last + 1, Buf.out(data, 512)));
        assertEquals(S_IOERR, request(T_IN, 1L << 55, Buf.in(data, 512)), "sector * 512 overflows");
        assertEquals(S_IOERR, request(T_IN, -1, Buf.in(data, 512)));
        assertEquals(S_IOERR, request(T_IN, (-1L >>> 9) + 1, Buf.in(data, 512)), "wraps to 0 when multiplied");
        assertEquals(List.of("read " + last * 512 + "+512"), disk.calls);
    }

    @Test
    void malformedRequestsAreIoErrors() {
        probe();
        assertEquals(S_IOERR, request(T_IN, 0, Buf.in(data, 100)), "not whole sectors");
        assertEquals(S_IOERR, request(T_OUT, 0, Buf.out(data, 513)), "not whole sectors");
        assertEquals(S_IOERR, request(T_OUT, 0, Buf.out(data, 512), Buf.in(data + 4096, 512)), "OUT with data in");
        assertEquals(S_IOERR, request(T_IN, 0, Buf.out(data, 512), Buf.in(data + 4096, 512)), "IN with data out");
        assertEquals(S_IOERR, request(T_FLUSH, 0, Buf.out(data, 512)), "FLUSH with data");
        // A header of 8 bytes.
        drv.poke(status, new byte[] {(byte) 0xAA});
        q.add(Buf.out(hdr, 8), Buf.in(status, 1));
        q.kick();
        assertEquals(1, q.await().len());
        assertEquals(S_IOERR, drv.peek(status, 1)[0]);
        assertEquals(List.of(), disk.calls);
        assertEquals(0, drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET, "a bad request is not a broken device");
    }

    @Test
    void aRequestWithoutAStatusByteBreaksTheDevice() {
        probe();
        header(hdr, T_IN, 0);
        q.add(Buf.out(hdr, 16), Buf.out(data, 512));
        q.kick();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!irq.level && System.nanoTime() < deadline) { // status first, then the interrupt
            Thread.onSpinWait();
        }
        assertEquals(Virtio.STATUS_DEVICE_NEEDS_RESET, drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET);
        assertEquals(Virtio.INT_CONFIG_CHANGE, drv.takeInterrupt());
        assertTrue(errors.getLast().contains("no status byte"), errors.toString());
    }

    @Test
    void aReadOnlyDiskRefusesWritesButReads() {
        probe(true, ALL);
        disk.data[0] = 42;
        drv.poke(data, pattern(512, 7));
        assertEquals(S_IOERR, request(T_OUT, 0, Buf.out(data, 512)));
        drv.poke(data, segment(0, 1, 0));
        assertEquals(S_IOERR, request(T_DISCARD, 0, Buf.out(data, 16)));
        assertEquals(S_IOERR, request(T_WRITE_ZEROES, 0, Buf.out(data, 16)));
        assertEquals(S_OK, request(T_IN, 0, Buf.in(data, 512)));
        assertEquals(42, drv.peek(data, 1)[0]);
        assertEquals(List.of("read 0+512"), disk.calls);
    }

    @Test
    void backendErrorsAreIoErrors() {
        probe();
        disk.fail = true;
        assertEquals(S_IOERR, request(T_IN, 0, Buf.in(data, 512)));
        assertEquals(S_IOERR, request(T_OUT, 0, Buf.out(data, 512)));
        assertEquals(S_IOERR, request(T_FLUSH, 0));
        disk.fail = false;
        assertEquals(S_OK, request(T_FLUSH, 0));
        assertTrue(errors.stream().anyMatch(e -> e.contains("disk on fire")), errors.toString());
    }

    @Test
    void resetInTheMiddleOfIoWaitsForTheRequestAndDropsTheRest() throws Exception {
        probe();
        disk.gate = new CountDownLatch(1);
        header(hdr, T_IN, 0);
        long hdr2 = drv.alloc(16, 16);
        header(hdr2, T_IN, 1);
        q.add(Buf.out(hdr, 16), Buf.in(data, 512), Buf.in(status, 1));
        q.add(Buf.out(hdr2, 16), Buf.in(data + 512, 512), Buf.in(status + 1, 1));
        q.kick();
        assertTrue(disk.entered.await(10, TimeUnit.SECONDS));

        Thread hart = new Thread(() -> drv.write(STATUS, 0), "hart");
        hart.start();
        hart.join(200);
        assertTrue(hart.isAlive(), "reset must wait for the request in progress");
        disk.gate.countDown();
        hart.join(10_000);
        assertFalse(hart.isAlive());
        assertEquals(0, drv.status());
        assertFalse(irq.level);
        Thread.sleep(50);
        assertEquals(List.of("read 0+512"), disk.calls, "the second request was not started after reset");

        // The device works again after a fresh probe.
        disk.gate = null;
        drv.negotiate(ALL | ringFeatures());
        q = drv.queue(0, 16);
        drv.driverOk();
        assertEquals(S_OK, request(T_IN, 3, Buf.in(data, 512)));
    }

    @Test
    void manyRequestsRacingTheIoThreadAllComplete() {
        System.out.printf("VirtioBlkTest.manyRequestsRacingTheIoThreadAllComplete: seed %d (-Drivet.seed=%d)%n",
                SEED, SEED);
        SplittableRandom r = new SplittableRandom(SEED);
        boolean eventIdx = r.nextBoolean();
        probe(false, eventIdx ? ALL : ALL & ~bit(Virtio.F_EVENT_IDX));
        byte[] model = new byte[DISK];
        int slots = 16;
        long[] hdrs = new long[slots];
        long[] bufs = new long[slots];
        long[] stats = new long[slots];
        for (int i = 0; i < slots; i++) {
            hdrs[i] = drv.alloc(16, 16);
            bufs[i] = drv.alloc(4096, 4096);
            stats[i] = drv.alloc(1, 1);
        }
        int[] kind = new int[128];
        long[] sectorOf = new long[128];
        int[] slotOf = new int[128];
        boolean[] busy = new boolean[slots];
        int submitted = 0, completed = 0, total = 3000;
        int lastKickIdx = q.availIdx();
        while (completed < total) {
            // Submit while there is a free slot and work left.
            int free = -1;
            for (int i = 0; i < slots; i++) {
                if (!busy[i]) {
                    free = i;
                    break;
                }
            }
            if (free >= 0 && submitted < total && r.nextInt(3) != 0) {
                int sectors = 1 + r.nextInt(8);
                long sector = r.nextLong(DISK / 512 - sectors);
                boolean write = r.nextInt(4) == 0;
                if (write) {
                    // Reads in flight were checked against the disk before this write: drain them first.
                    while (completed < submitted) {
                        completed += check(q.await(), kind, sectorOf, slotOf, busy, stats, bufs, model);
                    }
                    byte[] d = new byte[sectors * 512];
                    r.nextBytes(d);
                    drv.poke(bufs[free], d);
                    System.arraycopy(d, 0, model, (int) sector * 512, d.length);
                }
                header(hdrs[free], write ? T_OUT : T_IN, sector);
                int head = q.add(Buf.out(hdrs[free], 16), write ? Buf.out(bufs[free], sectors * 512L)
                        : Buf.in(bufs[free], sectors * 512L), Buf.in(stats[free], 1));
                kind[head] = write ? sectors : -sectors;
                sectorOf[head] = sector;
                slotOf[head] = free;
                busy[free] = true;
                submitted++;
                if (!eventIdx || q.kickNeeded(lastKickIdx)) {
                    q.kick();
                }
                lastKickIdx = q.availIdx();
                if (write) {
                    // Writes finish before anything else is sent, so reads see a defined disk.
                    Used u = q.await();
                    completed += check(u, kind, sectorOf, slotOf, busy, stats, bufs, model);
                }
            } else {
                Used u = q.poll();
                if (u == null) {
                    if (submitted == completed) {
                        continue;
                    }
                    if (eventIdx) {
                        q.setUsedEvent(q.usedIdx());
                    }
                    Thread.onSpinWait();
                    continue;
                }
                completed += check(u, kind, sectorOf, slotOf, busy, stats, bufs, model);
            }
        }
        assertNull(q.poll());
        assertArrayEquals(model, disk.data, "seed " + SEED);
        assertEquals(0, drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET);
    }

    private int check(Used u, int[] kind, long[] sectorOf, int[] slotOf, boolean[] busy, long[] stats, long[] bufs,
            byte[] model) {
        int slot = slotOf[u.id()];
        assertEquals(S_OK, drv.peek(stats[slot], 1)[0], "seed " + SEED);
        if (kind[u.id()] < 0) {
            int len = -kind[u.id()] * 512;
            int at = (int) sectorOf[u.id()] * 512;
            assertArrayEquals(Arrays.copyOfRange(model, at, at + len), drv.peek(bufs[slot], len), "seed " + SEED);
        }
        busy[slot] = false;
        return 1;
    }
}
