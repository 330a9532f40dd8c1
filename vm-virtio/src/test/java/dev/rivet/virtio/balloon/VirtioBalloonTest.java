package dev.rivet.virtio.balloon;

import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.virtio.GuestDriver;
import dev.rivet.virtio.GuestDriver.Buf;
import dev.rivet.virtio.GuestDriver.DriverQueue;
import dev.rivet.virtio.GuestDriver.Used;
import dev.rivet.virtio.GuestDriver.Wire;
import dev.rivet.virtio.Virtio;
import dev.rivet.virtio.balloon.VirtioBalloon.Options;
import dev.rivet.virtio.mmio.VirtioMmio;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static dev.rivet.virtio.Virtio.bit;
import static dev.rivet.virtio.balloon.VirtioBalloon.*;
import static dev.rivet.virtio.mmio.VirtioMmio.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * virtio-balloon driven the way Linux's drivers/virtio/virtio_balloon.c does: init_vqs
 * numbers the queues over the accepted features and primes the statsq before DRIVER_OK;
 * fill_balloon / leak_balloon send arrays of le32 page numbers and wait for the ack, then
 * update_balloon_size writes {@code actual}; stats_handle_request answers a returned stats
 * buffer with a fresh one; page reporting sends device-writable scatter-gather lists.
 */
class VirtioBalloonTest {
    static final long SEED = Long.getLong("rivet.seed", new SplittableRandom().nextLong(1L << 40));
    static final long PAGE = 4096;
    static final long RAM_PFNS = GuestDriver.RAM_SIZE / PAGE;
    static final long FIRST_PFN = GuestDriver.RAM_BASE / PAGE;
    /** What Linux 6.12 accepts from this device (it knows every balloon feature). */
    static final long LINUX = bit(F_STATS_VQ) | bit(F_DEFLATE_ON_OOM) | bit(F_REPORTING) | bit(Virtio.F_INDIRECT_DESC);
    static final Options EVERYTHING = new Options(true, true, true);
    static final Executor DIRECT = Runnable::run;

    final GuestRam ram = new GuestRam(GuestDriver.RAM_BASE, GuestDriver.RAM_SIZE);
    final Wire irq = new Wire();
    final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    final Set<Long> observed = ConcurrentHashMap.newKeySet();
    ExecutorService io;
    VirtioBalloon balloon;
    GuestDriver drv;
    /** Pages the tests give to the balloon: 64 pages, page-aligned, away from the rings. */
    long victims;

    @AfterEach
    void close() throws InterruptedException {
        if (io != null) {
            io.shutdownNow();
            assertTrue(io.awaitTermination(10, TimeUnit.SECONDS));
        }
        ram.close();
    }

    void attach(Options options, Executor executor) {
        balloon = new VirtioBalloon(executor, options);
        VirtioMmio mmio = new VirtioMmio(balloon, new DmaView(ram), irq, errors::add);
        drv = new GuestDriver(ram, mmio, irq);
        victims = drv.alloc(64 * PAGE, (int) PAGE);
        ram.setWriteObserver(observed::add);
    }

    long pfn(int victim) {
        return (victims >>> 12) + victim;
    }

    /** The guest side: Linux's virtio_balloon over the GuestDriver's virtio_mmio + virtio_ring. */
    final class Linux {
        final long features;
        final DriverQueue inflateq, deflateq, statsq, reportingq;
        final long pfns = drv.alloc(4L * 1024, 16);
        final long stats = drv.alloc(STAT_SIZE * 32L, 16);

        /** virtballoon_probe: negotiate, init_vqs (priming statsq with {@code initial}), DRIVER_OK. */
        Linux(long wanted, long[]... initial) {
            features = drv.negotiate(wanted);
            int index = 0; // find_vqs skips the queues of features not negotiated
            inflateq = drv.queue(index++, 64);
            deflateq = drv.queue(index++, 64);
            statsq = has(F_STATS_VQ) ? drv.queue(index++, 64) : null;
            reportingq = has(F_REPORTING) ? drv.queue(index++, 64) : null;
            if (statsq != null) {
                sendStats(initial);
            }
            drv.driverOk();
        }

        boolean has(int feature) {
            return (features & bit(feature)) != 0;
        }

        /** tell_host: one buffer of le32 page numbers, kick, wait for the ack. */
        Used tellHost(DriverQueue q, long... pageNumbers) {
            ByteBuffer b = ByteBuffer.allocate(4 * pageNumbers.length).order(ByteOrder.LITTLE_ENDIAN);
            for (long p : pageNumbers) {
                b.putInt((int) p);
            }
            drv.poke(pfns, b.array());
            int head = q.add(Buf.out(pfns, 4L * pageNumbers.length));
            q.kick();
            Used u = q.await();
            assertEquals(head, u.id());
            return u;
        }

        Used inflate(long... pageNumbers) {
            return tellHost(inflateq, pageNumbers);
        }

        Used deflate(long... pageNumbers) {
            return tellHost(deflateq, pageNumbers);
        }

        /** update_balloon_size. */
        void writeActual(long pages) {
            drv.write(CONFIG + CFG_ACTUAL, pages);
        }

        long numPages() {
            return drv.read(CONFIG + CFG_NUM_PAGES);
        }

        /** update_balloon_stats + virtqueue_add_outbuf + kick. */
        void sendStats(long[]... tagValue) {
            ByteBuffer b = ByteBuffer.allocate(STAT_SIZE * tagValue.length).order(ByteOrder.LITTLE_ENDIAN);
            for (long[] tv : tagValue) {
                b.putShort((short) tv[0]).putLong(tv[1]);
            }
            drv.poke(stats, b.array());
            statsq.add(Buf.out(stats, b.capacity()));
            statsq.kick();
        }
    }

    static Map<Integer, Long> map(long[]... tagValue) {
        Map<Integer, Long> m = new java.util.TreeMap<>();
        for (long[] tv : tagValue) {
            m.put((int) tv[0], tv[1]);
        }
        return m;
    }

    void fill(long addr, long len, int value) {
        byte[] b = new byte[(int) len];
        java.util.Arrays.fill(b, (byte) value);
        drv.poke(addr, b);
    }

    boolean allBytes(long addr, long len, int value) {
        for (byte x : drv.peek(addr, (int) len)) {
            if (x != (byte) value) {
                return false;
            }
        }
        return true;
    }

    void assertRunning() {
        assertEquals(0, drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET, "device broken: " + errors);
    }

    // ---- identity, features, queue layout ----

    @Test
    void identityFeaturesAndConfigSize() {
        attach(Options.DEFAULT, DIRECT);
        assertEquals(Virtio.ID_BALLOON, drv.read(DEVICE_ID));
        long core = bit(Virtio.F_VERSION_1) | bit(Virtio.F_INDIRECT_DESC) | bit(Virtio.F_EVENT_IDX)
                | bit(Virtio.F_RING_PACKED);
        assertEquals(core | bit(F_STATS_VQ) | bit(F_REPORTING), drv.offered(), "no DEFLATE_ON_OOM unless asked");
        attach(EVERYTHING, DIRECT);
        assertEquals(core | bit(F_STATS_VQ) | bit(F_REPORTING) | bit(F_DEFLATE_ON_OOM), drv.offered());
        attach(new Options(false, false, false), DIRECT);
        assertEquals(core, drv.offered(), "MUST_TELL_HOST, FREE_PAGE_HINT, PAGE_POISON are never offered");
        drv.read(CONFIG + CONFIG_SIZE);
        assertTrue(errors.getLast().contains("0x108"), "an 8-byte config space: " + errors);
    }

    @ParameterizedTest(name = "offered stats={0} reporting={1}")
    @CsvSource({"true,true,4", "true,false,3", "false,true,3", "false,false,2"})
    void oneQueuePerOfferedFeature(boolean stats, boolean reporting, int queues) {
        attach(new Options(stats, false, reporting), DIRECT);
        for (int i = 0; i < queues; i++) {
            drv.write(QUEUE_SEL, i);
            assertEquals(QUEUE_SIZE, drv.read(QUEUE_NUM_MAX), "queue " + i);
        }
        drv.write(QUEUE_SEL, queues);
        assertEquals(0, drv.read(QUEUE_NUM_MAX), "no queue " + queues);
    }

    /**
     * The trap of 5.5.2: Linux numbers queues over the features it accepted, so reporting_vq
     * is 2 when the statistics queue is not negotiated and 3 when it is.
     */
    @ParameterizedTest(name = "driver accepts stats={0}: reporting_vq is {1}")
    @CsvSource({"false,2", "true,3"})
    void reportingQueueIndexFollowsTheNegotiatedFeatures(boolean acceptStats, int reportingIndex) {
        attach(EVERYTHING, DIRECT);
        long wanted = acceptStats ? LINUX : LINUX & ~bit(F_STATS_VQ);
        Linux linux = new Linux(wanted, new long[] {BalloonStats.MEMFREE, 1});
        assertEquals(reportingIndex, linux.reportingq.index);
        fill(victims, 4 * PAGE, 0x5A);
        observed.clear();
        int head = linux.reportingq.add(Buf.in(victims, 2 * PAGE), Buf.in(victims + 3 * PAGE, PAGE));
        linux.reportingq.kick();
        assertEquals(new Used(head, 0), linux.reportingq.poll());
        assertTrue(allBytes(victims, 2 * PAGE, 0) && allBytes(victims + 3 * PAGE, PAGE, 0), "reported pages discarded");
        assertTrue(allBytes(victims + 2 * PAGE, PAGE, 0x5A), "the page between was not reported");
        assertTrue(observed.containsAll(List.of(victims, victims + PAGE, victims + 3 * PAGE)));
        assertFalse(observed.contains(victims + 2 * PAGE));
        if (acceptStats) {
            assertNull(linux.statsq.poll(), "the stats buffer is held, not returned");
            assertEquals(Map.of(BalloonStats.MEMFREE, 1L), balloon.latestStats().values());
        }
        assertEquals(0, balloon.inflatedPages(), "reporting is not inflation");
        assertRunning();
        assertTrue(errors.isEmpty(), errors.toString());
    }

    @Test
    void aReportOfPartPagesOrDeviceReadableBuffersDiscardsOnlyTheWholePages() {
        attach(Options.DEFAULT, DIRECT);
        Linux linux = new Linux(LINUX, new long[] {BalloonStats.MEMFREE, 1});
        fill(victims, 8 * PAGE, 0x44);
        int head = linux.reportingq.add(Buf.out(victims, PAGE), Buf.in(victims + PAGE + 512, PAGE),
                Buf.in(victims + 3 * PAGE, PAGE / 2), Buf.in(victims + 5 * PAGE, 2 * PAGE));
        linux.reportingq.kick();
        assertEquals(new Used(head, 0), linux.reportingq.poll());
        assertTrue(allBytes(victims, 5 * PAGE, 0x44), "readable, misaligned and partial buffers are not discarded");
        assertTrue(allBytes(victims + 5 * PAGE, 2 * PAGE, 0), "the whole pages are");
        assertTrue(errors.getLast().contains("3 buffers are not device-writable whole 4 KiB pages"), errors.toString());
        assertRunning();
    }

    @Test
    void aDriverNotifyingAQueueItsFeaturesDoNotUseIsLoggedNotServed() {
        attach(EVERYTHING, DIRECT);
        drv.negotiate(0); // neither stats nor reporting: only queues 0 and 1 are in use
        drv.queue(0, 16);
        drv.queue(1, 16);
        DriverQueue stray = drv.queue(3, 16); // where a fixed-index driver would put reporting_vq
        drv.driverOk();
        stray.add(Buf.in(victims, PAGE));
        stray.kick();
        assertNull(stray.poll());
        assertTrue(errors.getLast().contains("queue 3"), errors.toString());
        assertRunning();
    }

    // ---- target and actual ----

    @Test
    void aTargetSetBeforeTheDriverIsReadAtProbeAndALaterOneRaisesAConfigInterrupt() {
        attach(Options.DEFAULT, DIRECT);
        balloon.setTargetPages(100);
        assertFalse(irq.level, "nobody to tell yet");
        Linux linux = new Linux(LINUX);
        assertEquals(100, linux.numPages(), "towards_target at probe");
        assertEquals(0, drv.takeInterrupt());
        int generation = (int) drv.read(CONFIG_GENERATION);

        balloon.setTargetPages(300);
        assertTrue(irq.level);
        assertEquals(Virtio.INT_CONFIG_CHANGE, drv.takeInterrupt());
        assertFalse(irq.level);
        assertEquals(300, linux.numPages());
        assertEquals(300, balloon.targetPages());
        assertTrue(drv.read(CONFIG_GENERATION) != generation, "generation moves with the change");

        balloon.setTargetPages(300);
        assertFalse(irq.level, "no change, no interrupt");
        balloon.setTargetPages(0xFFFF_FFFFL);
        assertEquals(0xFFFF_FFFFL, linux.numPages());
        assertThrows(IllegalArgumentException.class, () -> balloon.setTargetPages(-1));
        assertThrows(IllegalArgumentException.class, () -> balloon.setTargetPages(1L << 32));
        assertEquals(0xFFFF_FFFFL, balloon.targetPages());
    }

    @Test
    void theDriverWritesActualButNotNumPages() {
        attach(Options.DEFAULT, DIRECT);
        Linux linux = new Linux(LINUX);
        balloon.setTargetPages(7);
        linux.writeActual(0x1234_5678L);
        assertEquals(0x1234_5678L, balloon.actualPages());
        assertEquals(0x1234_5678L, drv.read(CONFIG + CFG_ACTUAL));
        dev.rivet.core.bus.Bus.writeDevice(drv.mmio, CONFIG + CFG_ACTUAL + 3, 1, 0xAB); // byte-wise, as legacy PCI did
        assertEquals(0xAB34_5678L, balloon.actualPages());
        assertEquals(0x5678, dev.rivet.core.bus.Bus.readDevice(drv.mmio, CONFIG + CFG_ACTUAL, 2));
        int before = errors.size();
        drv.write(CONFIG + CFG_NUM_PAGES, 99);
        assertEquals(before + 1, errors.size());
        assertTrue(errors.getLast().contains("read-only"), errors.toString());
        assertEquals(7, linux.numPages());
        assertEquals(7, balloon.targetPages());
    }

    // ---- inflate and deflate ----

    @Test
    void inflatedPagesAreDiscardedReadZeroAndTheWriteObserverSawThem() {
        attach(Options.DEFAULT, DIRECT);
        Linux linux = new Linux(LINUX);
        for (int i = 0; i < 8; i++) {
            fill(victims + i * PAGE, PAGE, 0x10 + i);
        }
        observed.clear();
        Used u = linux.inflate(pfn(5), pfn(1), pfn(2), pfn(3)); // 1-3 consecutive, 5 alone
        assertEquals(0, u.len(), "the device writes nothing into an inflate buffer");
        for (int i = 0; i < 8; i++) {
            boolean in = i == 1 || i == 2 || i == 3 || i == 5;
            assertTrue(allBytes(victims + i * PAGE, PAGE, in ? 0 : 0x10 + i), "page " + i);
            assertEquals(in, observed.contains(victims + i * PAGE), "observer told of page " + i);
        }
        assertEquals(4, balloon.inflatedPages());
        linux.writeActual(4);
        assertEquals(4, balloon.actualPages());
        assertEquals(Virtio.INT_USED_BUFFER, drv.takeInterrupt());
        assertTrue(errors.isEmpty(), errors.toString());
    }

    @Test
    void deflateIsBookkeepingTheGuestMayReuseThePagesAtOnce() {
        attach(Options.DEFAULT, DIRECT);
        Linux linux = new Linux(LINUX);
        linux.inflate(pfn(0), pfn(1), pfn(2), pfn(3));
        // Without MUST_TELL_HOST the guest may use a page before the deflate is acknowledged (5.5.6.1).
        fill(victims + PAGE, PAGE, 0x77);
        observed.clear();
        Used u = linux.deflate(pfn(1), pfn(2));
        assertEquals(0, u.len());
        assertTrue(allBytes(victims + PAGE, PAGE, 0x77), "deflate leaves the page alone");
        assertTrue(allBytes(victims + 2 * PAGE, PAGE, 0), "a deflated page reads zero (5.5.6.2 allows it)");
        assertFalse(observed.contains(victims + PAGE) || observed.contains(victims + 2 * PAGE));
        assertEquals(2, balloon.inflatedPages());
        linux.inflate(pfn(1));
        assertEquals(3, balloon.inflatedPages(), "a deflated page can be inflated again");
        assertTrue(errors.isEmpty(), errors.toString());
    }

    @Test
    void hostilePageNumbersAreLoggedAndSkippedAndTheDeviceKeepsGoing() {
        attach(Options.DEFAULT, DIRECT);
        Linux linux = new Linux(LINUX);
        fill(victims, 4 * PAGE, 0x33);
        byte[] lastPage = drv.peek(GuestDriver.RAM_BASE + GuestDriver.RAM_SIZE - PAGE, (int) PAGE);
        linux.inflate(0, 0xFFFF_FFFFL, FIRST_PFN - 1, FIRST_PFN + RAM_PFNS, pfn(0));
        assertEquals(1, balloon.inflatedPages());
        assertTrue(errors.getLast().contains("4 page numbers (e.g. 0x0) are not RAM"), errors.toString());
        assertArrayEquals(lastPage, drv.peek(GuestDriver.RAM_BASE + GuestDriver.RAM_SIZE - PAGE, (int) PAGE));

        linux.inflate(pfn(0), pfn(1), pfn(1));
        assertEquals(2, balloon.inflatedPages(), "a page counts once however often it is inflated");
        assertTrue(errors.getLast().contains("2 pages (e.g. page number 0x" + Long.toHexString(pfn(0))
                + ") were already in the balloon"), errors.toString());

        linux.deflate(pfn(3), pfn(0), pfn(0), 0xFFFF_FFFFL);
        assertEquals(1, balloon.inflatedPages());
        assertTrue(errors.stream().anyMatch(e -> e.contains("were not in the balloon")), errors.toString());
        assertTrue(allBytes(victims + 3 * PAGE, PAGE, 0x33), "deflating a page that was never inflated does nothing");

        // A ragged buffer: the whole page numbers are used, the 2 bytes after them are not.
        drv.poke(linux.pfns, ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN).putInt((int) pfn(2)).array());
        linux.inflateq.add(Buf.out(linux.pfns, 6));
        linux.inflateq.kick();
        assertEquals(0, linux.inflateq.await().len());
        assertEquals(2, balloon.inflatedPages());
        assertTrue(errors.getLast().contains("6 bytes, only the first 1 page numbers taken"), errors.toString());

        // Nothing readable at all, and a writable buffer the device has no use for.
        linux.inflateq.add(Buf.in(victims + 3 * PAGE, 16));
        linux.inflateq.kick();
        assertEquals(0, linux.inflateq.await().len());
        assertTrue(allBytes(victims + 3 * PAGE, PAGE, 0x33));
        assertEquals(2, balloon.inflatedPages());
        assertRunning();
    }

    @Test
    void anOversizedRequestIsCutAtTheLimit() {
        attach(Options.DEFAULT, DIRECT);
        Linux linux = new Linux(LINUX);
        long n = MAX_PFNS_PER_REQUEST + 1L;
        long big = drv.alloc(4 * n, 16);
        ByteBuffer b = ByteBuffer.allocate((int) (4 * n)).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) {
            b.putInt((int) (i == n - 1 ? pfn(9) : 0xFFFF_FFF0L)); // only the last is a real page
        }
        drv.poke(big, b.array());
        linux.inflateq.add(Buf.out(big, 4 * n));
        linux.inflateq.kick();
        assertEquals(0, linux.inflateq.await().len());
        assertEquals(0, balloon.inflatedPages(), "the page number past the limit was not taken");
        assertTrue(errors.stream().anyMatch(e -> e.contains("only the first " + MAX_PFNS_PER_REQUEST)),
                errors.toString());
        assertRunning();
    }

    /** A random stream of inflates and deflates, good and bad page numbers, against a model of the balloon. */
    @Test
    void randomInflateAndDeflateKeepsTheCountOfAModel() {
        System.out.printf("VirtioBalloonTest: seed %d (-Drivet.seed=%d)%n", SEED, SEED);
        SplittableRandom r = new SplittableRandom(SEED);
        attach(Options.DEFAULT, DIRECT);
        Linux linux = new Linux(LINUX);
        fill(victims, 64 * PAGE, 0xEE);
        Set<Long> model = new HashSet<>();
        Set<Long> everInflated = new HashSet<>();
        for (int round = 0; round < 200; round++) {
            boolean inflate = r.nextBoolean();
            long[] pfns = new long[1 + r.nextInt(40)];
            for (int i = 0; i < pfns.length; i++) {
                pfns[i] = switch (r.nextInt(4)) {
                    case 0 -> r.nextLong(FIRST_PFN); // below RAM
                    case 1 -> FIRST_PFN + RAM_PFNS + r.nextLong((1L << 32) - FIRST_PFN - RAM_PFNS); // above it
                    default -> pfn(r.nextInt(64));
                };
                if (pfns[i] >= FIRST_PFN && pfns[i] < FIRST_PFN + RAM_PFNS) {
                    if (inflate) {
                        model.add(pfns[i]);
                        everInflated.add(pfns[i]);
                    } else {
                        model.remove(pfns[i]);
                    }
                }
            }
            if (inflate) {
                linux.inflate(pfns);
            } else {
                linux.deflate(pfns);
            }
            assertEquals(model.size(), balloon.inflatedPages(), "round " + round + " (seed " + SEED + ")");
            for (long p : pfns) {
                if (model.contains(p)) {
                    assertTrue(allBytes(p << 12, PAGE, 0), "round " + round + ": page number 0x"
                            + Long.toHexString(p) + " is in the balloon but not discarded (seed " + SEED + ")");
                }
            }
        }
        for (int i = 0; i < 64; i++) {
            boolean discarded = everInflated.contains(pfn(i));
            assertTrue(allBytes(victims + i * PAGE, PAGE, discarded ? 0 : 0xEE), "page " + i + " (seed " + SEED + ")");
        }
        assertRunning();
    }

    // ---- statistics ----

    @Test
    void statisticsRoundTrip() throws Exception {
        attach(Options.DEFAULT, DIRECT);
        Linux linux = new Linux(LINUX, new long[] {BalloonStats.MEMFREE, 1 << 20},
                new long[] {BalloonStats.MEMTOT, 4 << 20}, new long[] {99, 5},
                new long[] {BalloonStats.DIRECT_RECLAIM, 7});
        BalloonStats first = balloon.latestStats();
        assertEquals(1, first.sequence(), "the buffer primed at probe is read once the driver is running");
        assertEquals(map(new long[] {BalloonStats.MEMFREE, 1 << 20}, new long[] {BalloonStats.MEMTOT, 4 << 20},
                new long[] {BalloonStats.DIRECT_RECLAIM, 7}), first.values(), "tag 99 ignored (5.5.6.3)");
        assertEquals(Map.of("free-memory", 1L << 20, "total-memory", 4L << 20, "direct-reclaims", 7L), first.named());
        assertNull(linux.statsq.poll(), "the device keeps the buffer");

        CompletableFuture<BalloonStats> f = balloon.requestStats();
        assertSame(f, balloon.requestStats(), "requests before the answer share it");
        Used used = linux.statsq.poll();
        assertEquals(0, used.len());
        assertNull(linux.statsq.poll(), "the buffer is given back once");
        assertEquals(Virtio.INT_USED_BUFFER, drv.takeInterrupt());
        assertFalse(f.isDone());

        linux.sendStats(new long[] {BalloonStats.MEMFREE, 123}, new long[] {BalloonStats.AVAIL, 456});
        BalloonStats second = f.get(10, TimeUnit.SECONDS);
        assertEquals(2, second.sequence());
        assertEquals(123, second.get(BalloonStats.MEMFREE).getAsLong());
        assertEquals(456, second.get(BalloonStats.AVAIL).getAsLong());
        assertTrue(second.get(BalloonStats.MEMTOT).isEmpty());
        assertSame(second, balloon.latestStats());
        assertRunning();
    }

    @Test
    void statisticsWithoutTheQueueFailAtOnce() {
        attach(new Options(false, false, true), DIRECT);
        ExecutionException e = assertThrows(ExecutionException.class, () -> balloon.requestStats().get());
        assertInstanceOf(IllegalStateException.class, e.getCause());

        attach(Options.DEFAULT, DIRECT);
        CompletableFuture<BalloonStats> early = balloon.requestStats();
        new Linux(LINUX & ~bit(F_STATS_VQ));
        assertThrows(ExecutionException.class, () -> early.get(10, TimeUnit.SECONDS),
                "waiting for a driver that has no statsq");
        assertThrows(ExecutionException.class, () -> balloon.requestStats().get());
        assertEquals(BalloonStats.NONE, balloon.latestStats());
    }

    @Test
    void aRequestBeforeTheDriverIsAnsweredByItsFirstBuffer() throws Exception {
        attach(Options.DEFAULT, DIRECT);
        CompletableFuture<BalloonStats> f = balloon.requestStats();
        new Linux(LINUX, new long[] {BalloonStats.SWAP_IN, 3});
        assertEquals(Map.of(BalloonStats.SWAP_IN, 3L), f.get(10, TimeUnit.SECONDS).values());
    }

    @Test
    void hostileStatsBuffersAreBoundedAndASecondBufferReturnsTheFirst() {
        attach(Options.DEFAULT, DIRECT);
        Linux linux = new Linux(LINUX, new long[] {BalloonStats.MEMFREE, 1});
        int firstHead = 0;
        // A second buffer while the device holds one (the driver may have one there at most).
        linux.sendStats(new long[] {BalloonStats.MEMFREE, 2});
        assertEquals(firstHead, linux.statsq.poll().id(), "the older buffer is given back");
        assertNull(linux.statsq.poll());
        assertEquals(2, balloon.latestStats().get(BalloonStats.MEMFREE).getAsLong());
        assertTrue(errors.getLast().contains("while the device holds"), errors.toString());

        // A ragged buffer with far more entries than allowed: the first MAX_STATS are read.
        long n = MAX_STATS + 10;
        long big = drv.alloc(STAT_SIZE * n + 3, 16);
        ByteBuffer b = ByteBuffer.allocate((int) (STAT_SIZE * n + 3)).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) {
            b.putShort((short) BalloonStats.CACHES).putLong(i);
        }
        drv.poke(big, b.array());
        linux.statsq.add(Buf.out(big, b.capacity()));
        linux.statsq.kick();
        assertEquals(MAX_STATS - 1, balloon.latestStats().get(BalloonStats.CACHES).getAsLong(),
                "the last entry read wins");
        assertTrue(errors.getLast().contains("only the first " + MAX_STATS + " entries"), errors.toString());
        assertRunning();
    }

    // ---- reset ----

    @Test
    void resetEmptiesTheBalloonAndForgetsActualButKeepsTheTarget() {
        attach(Options.DEFAULT, DIRECT);
        balloon.setTargetPages(50);
        Linux linux = new Linux(LINUX, new long[] {BalloonStats.MEMFREE, 1});
        linux.inflate(pfn(0), pfn(1), pfn(2));
        linux.writeActual(3);
        CompletableFuture<BalloonStats> pending = balloon.requestStats();
        linux.statsq.poll();

        drv.write(STATUS, 0);
        assertEquals(0, balloon.inflatedPages());
        assertEquals(0, balloon.actualPages());
        assertEquals(50, balloon.targetPages());
        assertFalse(pending.isDone());

        Linux again = new Linux(LINUX, new long[] {BalloonStats.MEMFREE, 9});
        assertEquals(50, again.numPages(), "the rebooted guest sees the same target");
        assertEquals(0, drv.read(CONFIG + CFG_ACTUAL));
        again.inflate(pfn(0), pfn(1));
        assertEquals(2, balloon.inflatedPages());
        assertEquals(9, pending.join().get(BalloonStats.MEMFREE).getAsLong(), "answered by the new driver");
        assertTrue(errors.isEmpty(), "nothing looked inflated twice: " + errors);
    }

    // ---- threads ----

    /**
     * The whole Linux loop with the device on its own thread: the host moves the target from
     * another thread; on each config interrupt the driver fills or leaks the balloon 256
     * pages at a time and writes actual, until actual matches the target.
     */
    @Test
    void followsTheTargetUpAndDownWithTheDeviceOnItsOwnThread() throws Exception {
        io = Executors.newSingleThreadExecutor(r -> new Thread(r, "balloon-io"));
        attach(Options.DEFAULT, io);
        long pool = drv.alloc(600 * PAGE, (int) PAGE);
        Linux linux = new Linux(LINUX, new long[] {BalloonStats.MEMFREE, 1});
        List<Long> inBalloon = new ArrayList<>();
        long[] targets = {600, 100, 357, 0};
        for (long target : targets) {
            Thread host = new Thread(() -> balloon.setTargetPages(target), "host");
            host.start();
            host.join();
            assertEquals(Virtio.INT_CONFIG_CHANGE, drv.takeInterrupt() & Virtio.INT_CONFIG_CHANGE);
            long want = linux.numPages();
            while (inBalloon.size() != want) { // update_balloon_size_func
                int n = (int) Math.min(256, Math.abs(want - inBalloon.size()));
                long[] batch = new long[n];
                if (want > inBalloon.size()) {
                    for (int i = 0; i < n; i++) {
                        batch[i] = (pool >>> 12) + inBalloon.size();
                        inBalloon.add(batch[i]);
                    }
                    linux.inflate(batch);
                } else {
                    for (int i = 0; i < n; i++) {
                        batch[i] = inBalloon.removeLast();
                    }
                    linux.deflate(batch);
                }
                linux.writeActual(inBalloon.size());
            }
            assertEquals(target, balloon.actualPages());
            assertEquals(target, balloon.inflatedPages());
        }
        CompletableFuture<BalloonStats> f = balloon.requestStats();
        linux.statsq.await();
        linux.sendStats(new long[] {BalloonStats.MEMFREE, 42});
        assertEquals(42, f.get(10, TimeUnit.SECONDS).get(BalloonStats.MEMFREE).getAsLong());
        assertRunning();
        assertTrue(errors.isEmpty(), errors.toString());
    }
}
