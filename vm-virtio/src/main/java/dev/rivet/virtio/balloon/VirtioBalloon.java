package dev.rivet.virtio.balloon;

import dev.rivet.core.bus.DmaException;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.virtio.DescriptorChain;
import dev.rivet.virtio.QueueWorker;
import dev.rivet.virtio.Virtio;
import dev.rivet.virtio.VirtioContext;
import dev.rivet.virtio.VirtioDevice;
import dev.rivet.virtio.Virtqueue;
import dev.rivet.virtio.VirtqueueException;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The traditional memory balloon, virtio-balloon (VirtIO 1.2 section 5.5): device ID 5, as
 * Linux's drivers/virtio/virtio_balloon.c drives it. The host sets a target number of 4 KiB
 * pages ({@link #setTargetPages}); the driver inflates the balloon by handing over pages it
 * will not touch, and deflates it by taking them back, and writes how many it holds to
 * {@code actual}.
 *
 * <p>Virtqueues (5.5.2) are numbered in order over the queues that exist for the
 * <em>negotiated</em> features, as Linux's find_vqs numbers them: inflateq 0, deflateq 1,
 * then statsq if VIRTIO_BALLOON_F_STATS_VQ, then reporting_vq if VIRTIO_BALLOON_F_REPORTING,
 * so reporting_vq is 2 without statistics and 3 with them. (The 1.2 text lists fixed
 * numbers 0-4; implementations never followed it, and a correction to "indexes assigned
 * sequentially for existing queues" was proposed on the virtio lists in 2025.) Free page hinting (which would
 * come between them), PAGE_POISON and MUST_TELL_HOST are not offered; DEFLATE_ON_OOM is
 * offered only when the host asks for it, and needs nothing from the device.
 *
 * <ul>
 * <li>Inflate: each le32 page number names the 4 KiB page at {@code pfn << 12}; the device
 *     frees the host memory behind it ({@link GuestRam#discard}, which also drops code
 *     translated from it) before acknowledging, as 5.5.6.2 allows. Deflate is bookkeeping
 *     only: the pages read as zero when the guest uses them again. A page number outside
 *     RAM, one inflated twice, or one deflated that is not in the balloon is a guest error,
 *     logged once per request and skipped. The device keeps one bit per page of RAM
 *     ({@link #inflatedPages}), so its memory is bounded whatever the guest sends.
 * <li>Statistics (5.5.6.3): the device keeps the driver's stats buffer and gives it back
 *     to ask for a fresh one ({@link #requestStats}); each buffer that arrives becomes
 *     {@link #latestStats}. Unknown tags are ignored.
 * <li>Free page reporting (5.5.6.7): each device-writable buffer of a report is a free
 *     range of whole pages, discarded like an inflated page and acknowledged.
 * </ul>
 *
 * <p>Configuration (5.5.4): {@code num_pages} (the host's target, read-only to the driver)
 * and {@code actual} (written by the driver); the fields of the features not offered are
 * absent, so the space is 8 bytes. A new target raises a configuration change notification
 * when the driver is running; otherwise the driver reads it when it starts, and it is kept
 * across device resets (a rebooted guest inflates to the same target).
 *
 * <p>Threads: queues are processed on the executor given at construction, one thread per
 * queue at a time ({@link QueueWorker}); the host methods may be called from any thread.
 */
public final class VirtioBalloon implements VirtioDevice {
    // Feature bits (5.5.3).
    public static final int F_MUST_TELL_HOST = 0;
    public static final int F_STATS_VQ = 1;
    public static final int F_DEFLATE_ON_OOM = 2;
    public static final int F_FREE_PAGE_HINT = 3;
    public static final int F_PAGE_POISON = 4;
    public static final int F_REPORTING = 5;

    // struct virtio_balloon_config (5.5.4), up to the fields of features not offered.
    public static final int CFG_NUM_PAGES = 0;
    public static final int CFG_ACTUAL = 4;
    public static final int CONFIG_SIZE = 8;

    /** Page numbers count 4 KiB pages whatever the guest's page size (5.5.6). */
    public static final int PFN_SHIFT = BalloonPages.PAGE_SHIFT;
    public static final int QUEUE_SIZE = 128;
    /** Page numbers taken from one inflate or deflate buffer (Linux sends at most 256); more are ignored. */
    public static final int MAX_PFNS_PER_REQUEST = 1 << 16;
    /** Statistics entries read from one statsq buffer (Linux 6.12 sends 16); more are ignored. */
    public static final int MAX_STATS = 64;
    /** {@code struct virtio_balloon_stat}: le16 tag, le64 val, packed. */
    public static final int STAT_SIZE = 10;

    private static final String NO_STATS = "the driver did not accept VIRTIO_BALLOON_F_STATS_VQ";
    /** Page numbers read from guest memory at a time. */
    private static final int PFN_BATCH = 256;
    private static final VarHandle LE16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LE32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LE64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /**
     * What the host offers: the statistics queue (as QEMU, on by default), deflate on OOM
     * (off by default: the guest may then take pages back under memory pressure whatever
     * the target), and free page reporting (on by default: free guest memory goes back to
     * the host without a target).
     */
    public record Options(boolean statsQueue, boolean deflateOnOom, boolean freePageReporting) {
        public static final Options DEFAULT = new Options(true, false, true);
    }

    /** What one activation negotiated: which queue plays which part. */
    private record Session(VirtioContext context, QueueWorker[] workers, int statsQueue, int reportingQueue) {
    }

    private final Executor executor;
    private final Options options;
    private final int queueCount;

    // One handler per role, each with its own scratch: different queues may be processed at once.
    private final PfnQueue inflater = new PfnQueue(true);
    private final PfnQueue deflater = new PfnQueue(false);
    private final StatsQueue stats = new StatsQueue();
    private final ReportingQueue reporter = new ReportingQueue();

    private volatile int targetPages;
    private volatile int actual;
    private volatile Session session;
    private volatile BalloonPages pages;

    public VirtioBalloon(Executor executor) {
        this(executor, Options.DEFAULT);
    }

    public VirtioBalloon(Executor executor, Options options) {
        this.executor = Objects.requireNonNull(executor, "executor");
        this.options = Objects.requireNonNull(options, "options");
        this.queueCount = 2 + (options.statsQueue ? 1 : 0) + (options.freePageReporting ? 1 : 0);
    }

    // ---- host side (any thread) ----

    /**
     * Asks the guest to hold {@code pages} 4 KiB pages in the balloon ({@code num_pages}).
     * Sends a configuration change notification if the driver is running and the target
     * changed; otherwise the driver reads it when it starts.
     */
    public void setTargetPages(long pages) {
        if (pages < 0 || pages > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("balloon target must be 0..2^32-1 pages: " + pages);
        }
        int old = targetPages;
        targetPages = (int) pages;
        Session s = session;
        if (s != null && old != (int) pages) {
            s.context.configChanged();
        }
    }

    /** The target the host set ({@code num_pages}). */
    public long targetPages() {
        return targetPages & 0xFFFF_FFFFL;
    }

    /** What the driver last wrote to {@code actual}: the pages it says are in the balloon. */
    public long actualPages() {
        return actual & 0xFFFF_FFFFL;
    }

    /** The pages the device has seen inflated and not deflated since the last reset. */
    public long inflatedPages() {
        BalloonPages p = pages;
        return p == null ? 0 : p.count();
    }

    /** The statistics the driver sent last, or {@link BalloonStats#NONE}. */
    public BalloonStats latestStats() {
        return stats.latest;
    }

    /**
     * Asks the driver for fresh statistics (5.5.6.3): gives back the stats buffer the device
     * holds, and returns a future completed (on another thread) with the next statistics
     * the driver sends. Calls before those arrive share one future. Before the driver
     * starts, the future waits for its first buffer; it fails at once when the statistics
     * queue is not offered or the running driver did not accept it.
     */
    public CompletableFuture<BalloonStats> requestStats() {
        if (!options.statsQueue) {
            return CompletableFuture.failedFuture(new IllegalStateException("the statistics queue is not offered"));
        }
        Session s = session;
        if (s != null && s.statsQueue < 0) {
            return CompletableFuture.failedFuture(new IllegalStateException(NO_STATS));
        }
        CompletableFuture<BalloonStats> f = stats.pending();
        if (s != null) {
            stats.giveBack(s.context, s.context.queue(s.statsQueue));
        }
        return f;
    }

    // ---- VirtioDevice ----

    @Override
    public int deviceId() {
        return Virtio.ID_BALLOON;
    }

    @Override
    public String name() {
        return "virtio-balloon";
    }

    @Override
    public long deviceFeatures() {
        long f = 0;
        if (options.statsQueue) {
            f |= Virtio.bit(F_STATS_VQ);
        }
        if (options.deflateOnOom) {
            f |= Virtio.bit(F_DEFLATE_ON_OOM);
        }
        if (options.freePageReporting) {
            f |= Virtio.bit(F_REPORTING);
        }
        return f;
    }

    @Override
    public int queueCount() {
        return queueCount;
    }

    @Override
    public int maxQueueSize(int index) {
        return QUEUE_SIZE;
    }

    @Override
    public int configSize() {
        return CONFIG_SIZE;
    }

    @Override
    public long readConfig(int offset, int size) {
        long config = (targetPages & 0xFFFF_FFFFL) | (long) actual << 32;
        return (config >>> (8 * offset)) & (-1L >>> (64 - 8 * size));
    }

    /** Only {@code actual} is the driver's to write (any width: legacy drivers wrote it byte by byte, 5.5.6.2.1). */
    @Override
    public boolean writeConfig(int offset, int size, long value) {
        if (offset < CFG_ACTUAL) {
            return false;
        }
        int shift = 8 * (offset - CFG_ACTUAL);
        long mask = (-1L >>> (64 - 8 * size)) << shift;
        synchronized (this) { // two harts writing halves of actual at once
            actual = (int) ((actual & ~mask) | ((value << shift) & mask));
        }
        return true;
    }

    @Override
    public void activate(VirtioContext ctx) {
        GuestRam ram = ctx.dma().ram();
        BalloonPages p = pages;
        if (p == null || !p.covers(ram.base(), ram.size())) {
            pages = new BalloonPages(ram.base(), ram.size());
        }
        QueueWorker[] workers = new QueueWorker[queueCount];
        workers[0] = new QueueWorker(executor, ctx, 0, q -> inflater.serve(ctx, q));
        workers[1] = new QueueWorker(executor, ctx, 1, q -> deflater.serve(ctx, q));
        int next = 2;
        int statsQueue = -1, reportingQueue = -1;
        if (ctx.hasFeature(F_STATS_VQ)) {
            statsQueue = next++;
            workers[statsQueue] = new QueueWorker(executor, ctx, statsQueue, q -> stats.serve(ctx, q));
        }
        if (ctx.hasFeature(F_REPORTING)) {
            reportingQueue = next++;
            workers[reportingQueue] = new QueueWorker(executor, ctx, reportingQueue, q -> reporter.serve(ctx, q));
        }
        session = new Session(ctx, workers, statsQueue, reportingQueue);
        if (statsQueue < 0) {
            stats.refusePending();
        }
    }

    @Override
    public void queueNotify(int index) {
        Session s = session;
        if (s == null) {
            return;
        }
        QueueWorker w = s.workers[index];
        if (w == null) {
            s.context.log().guestError(String.format("virtio-balloon: notification for queue %d, which the "
                    + "negotiated features do not use (queues are numbered over the features accepted)", index));
            return;
        }
        w.kick();
    }

    /** Called with every queue stopped: the driver starts over with an empty balloon. */
    @Override
    public void reset() {
        session = null;
        actual = 0;
        stats.forgetBuffer();
        BalloonPages p = pages;
        if (p != null) {
            synchronized (p) {
                p.clear();
            }
        }
    }

    // ---- queues ----

    private static VirtqueueException dmaError(DmaException e) {
        return new VirtqueueException("virtio-balloon: " + e.getMessage()); // pop checked every buffer
    }

    /** inflateq or deflateq: arrays of le32 page numbers in the device-readable buffers. */
    private final class PfnQueue {
        private final boolean inflate;
        private final DescriptorChain chain = new DescriptorChain();
        private final byte[] buf = new byte[4 * PFN_BATCH];

        PfnQueue(boolean inflate) {
            this.inflate = inflate;
        }

        void serve(VirtioContext ctx, Virtqueue q) throws VirtqueueException {
            boolean any = false;
            while (q.pop(chain)) {
                try {
                    apply(ctx);
                } catch (DmaException e) {
                    throw dmaError(e);
                }
                q.push(chain.head(), 0);
                any = true;
            }
            if (any) {
                ctx.usedBuffers(q.index());
            }
        }

        private void apply(VirtioContext ctx) throws DmaException {
            String what = inflate ? "inflate" : "deflate";
            long bytes = chain.readableBytes();
            long n = Math.min(bytes / 4, MAX_PFNS_PER_REQUEST);
            if (bytes != 4 * n) {
                guestError(ctx, "%s request at descriptor %d: %d bytes, only the first %d page numbers taken",
                        what, chain.head(), bytes, n);
            }
            GuestRam ram = ctx.dma().ram();
            BalloonPages p = pages;
            long bad = 0, badExample = 0, repeated = 0, repeatedExample = 0;
            synchronized (p) {
                // Consecutive pages are discarded as one range: one madvise, not one per page.
                long runStart = 0, runEnd = 0;
                for (long done = 0; done < n; ) {
                    int k = (int) Math.min(PFN_BATCH, n - done);
                    chain.readFrom(ctx.dma(), 4 * done, buf, 0, 4 * k);
                    for (int j = 0; j < k; j++) {
                        long pfn = (int) LE32.get(buf, 4 * j) & 0xFFFF_FFFFL;
                        long addr = pfn << PFN_SHIFT;
                        long i = p.index(addr);
                        if (i < 0) {
                            if (bad++ == 0) {
                                badExample = pfn;
                            }
                        } else if (inflate ? !p.add(i) : !p.remove(i)) {
                            if (repeated++ == 0) {
                                repeatedExample = pfn;
                            }
                        } else if (inflate) {
                            if (addr != runEnd || runEnd == runStart) {
                                discard(ram, runStart, runEnd);
                                runStart = addr;
                                runEnd = addr;
                            }
                            runEnd += BalloonPages.PAGE_SIZE;
                        }
                    }
                    done += k;
                }
                discard(ram, runStart, runEnd);
            }
            if (bad > 0) {
                guestError(ctx, "%s request at descriptor %d: %d page numbers (e.g. 0x%x) are not RAM; skipped",
                        what, chain.head(), bad, badExample);
            }
            if (repeated > 0) {
                guestError(ctx, "%s request at descriptor %d: %d pages (e.g. page number 0x%x) were %s; skipped",
                        what, chain.head(), repeated, repeatedExample,
                        inflate ? "already in the balloon" : "not in the balloon");
            }
        }
    }

    /**
     * statsq (5.5.6.3): the device holds the driver's one buffer and returns it to ask for
     * the next. The held head is touched only under the queue's lock (or at reset, when
     * nothing processes the queue).
     */
    private final class StatsQueue {
        private final DescriptorChain chain = new DescriptorChain();
        private final byte[] buf = new byte[STAT_SIZE * MAX_STATS];
        private volatile int held = -1;
        private volatile BalloonStats latest = BalloonStats.NONE;
        private long sequence; // guarded by this
        private CompletableFuture<BalloonStats> pending; // guarded by this

        void serve(VirtioContext ctx, Virtqueue q) throws VirtqueueException {
            boolean returned = false;
            while (q.pop(chain)) {
                if (held >= 0) {
                    // The driver may have only one buffer here; hand the older back, keep the newer.
                    guestError(ctx, "stats buffer at descriptor %d while the device holds %d; the older "
                            + "is given back", chain.head(), held);
                    q.push(held, 0);
                    returned = true;
                }
                held = chain.head();
                try {
                    receive(ctx);
                } catch (DmaException e) {
                    throw dmaError(e);
                }
            }
            if (returned) {
                ctx.usedBuffers(q.index());
            }
        }

        private void receive(VirtioContext ctx) throws DmaException {
            long bytes = chain.readableBytes();
            int n = (int) Math.min(bytes / STAT_SIZE, MAX_STATS);
            if (bytes != (long) STAT_SIZE * n) {
                guestError(ctx, "stats buffer at descriptor %d: %d bytes, only the first %d entries of %d bytes "
                        + "taken", chain.head(), bytes, n, STAT_SIZE);
            }
            chain.readFrom(ctx.dma(), 0, buf, 0, STAT_SIZE * n);
            Map<Integer, Long> values = new HashMap<>();
            for (int i = 0; i < n; i++) {
                int tag = (short) LE16.get(buf, STAT_SIZE * i) & 0xFFFF;
                if (BalloonStats.recognised(tag)) {
                    values.put(tag, (long) LE64.get(buf, STAT_SIZE * i + 2));
                }
            }
            BalloonStats s;
            CompletableFuture<BalloonStats> waiting;
            synchronized (this) {
                s = new BalloonStats(++sequence, values);
                latest = s;
                waiting = pending;
                pending = null;
            }
            if (waiting != null) {
                // Not on this thread: it holds the queue lock, and the caller's code may block.
                waiting.completeAsync(() -> s);
            }
        }

        synchronized CompletableFuture<BalloonStats> pending() {
            if (pending == null) {
                pending = new CompletableFuture<>();
            }
            return pending;
        }

        /** The running driver has no statistics queue: nobody waiting will get an answer. */
        void refusePending() {
            CompletableFuture<BalloonStats> f;
            synchronized (this) {
                f = pending;
                pending = null;
            }
            if (f != null) {
                f.completeExceptionally(new IllegalStateException(NO_STATS));
            }
        }

        /** Returns the held buffer so the driver sends fresh statistics; nothing if it has none here. */
        void giveBack(VirtioContext ctx, Virtqueue q) {
            q.lock().lock();
            try {
                int h = held;
                if (h >= 0 && q.active()) {
                    held = -1;
                    q.push(h, 0);
                    ctx.usedBuffers(q.index());
                }
            } catch (VirtqueueException e) {
                ctx.deviceError(e.getMessage());
            } finally {
                q.lock().unlock();
            }
        }

        void forgetBuffer() {
            held = -1;
        }
    }

    /** reporting_vq (5.5.6.7): device-writable buffers, each a range of free pages. */
    private final class ReportingQueue {
        private final DescriptorChain chain = new DescriptorChain();

        void serve(VirtioContext ctx, Virtqueue q) throws VirtqueueException {
            GuestRam ram = ctx.dma().ram();
            boolean any = false;
            while (q.pop(chain)) {
                int bad = chain.readableCount(); // Linux reports with device-writable buffers only
                for (int i = 0; i < chain.writableCount(); i++) {
                    long addr = chain.writableAddress(i);
                    long len = chain.writableLength(i);
                    if ((((addr - ram.base()) | len) & (BalloonPages.PAGE_SIZE - 1)) != 0) {
                        bad++;
                    } else {
                        ram.discard(addr, len); // pop checked the range is RAM
                    }
                }
                if (bad > 0) {
                    guestError(ctx, "free page report at descriptor %d: %d buffers are not device-writable whole "
                            + "4 KiB pages; skipped", chain.head(), bad);
                }
                q.push(chain.head(), 0);
                any = true;
            }
            if (any) {
                ctx.usedBuffers(q.index());
            }
        }
    }

    /** Frees the pages of {@code [from, to)}, if any; {@link BalloonPages#index} checked them. */
    private static void discard(GuestRam ram, long from, long to) {
        if (to > from) {
            ram.discard(from, to - from);
        }
    }

    private static void guestError(VirtioContext ctx, String fmt, Object... args) {
        ctx.log().guestError("virtio-balloon: " + String.format(fmt, args));
    }
}
