package dev.rivet.jit;

import dev.rivet.aot.CacheKey;
import dev.rivet.ir.IrBlock;
import dev.rivet.ir.exec.BlockCompiler;
import dev.rivet.ir.exec.CompiledBlock;
import dev.rivet.ir.exec.Region;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The JIT tier: lowers a region of IR blocks to one hidden class with ASM, on one
 * background daemon thread fed by a bounded queue. The thread stops after a few idle
 * seconds and starts again on demand, so a machine that is dropped leaves nothing
 * running; no state is static. Hidden classes are defined non-strongly (unloadable once
 * the block that holds the instance is dropped).
 *
 * <p>Blocks of a region with ops this tier does not lower (FP arithmetic, atomics,
 * CSR/trap/privileged ops) are left out of it, and a region whose method would exceed
 * {@link #MAX_CODE_SIZE} bytes is cut down until it fits; jumps to blocks left out become
 * exits. When the entry block itself cannot be lowered the region is rejected and stays
 * interpreted.
 *
 * <p>Given its machine's RAM, the compiler defines every class with that segment as class
 * data, which the generated code loads as a constant: HotSpot then folds the segment's
 * base, size and kind into each access instead of loading and checking them (measured in
 * docs/BENCHMARKS.md). Such classes serve only that machine; the code cache's memory layer
 * keeps class bytes, so another machine defines its own class without lowering again.
 * Without a RAM segment the classes read RAM from the hart and one class serves every
 * machine that shares the code cache (a test JVM compiling every block of the same guest
 * again and again).
 */
public final class JitCompiler implements BlockCompiler {
    /** No generated method reaches HotSpot's 8000-byte huge-method limit (it would never be compiled). */
    public static final int MAX_CODE_SIZE = 7000;
    /**
     * Regions grow to about this many bytes of bytecode, and a single block may go up to
     * {@link #MAX_CODE_SIZE}. Measured (docs/BENCHMARKS.md): regions of up to 1,000 bytes ran
     * the C workloads faster than 2,500 or 7,000, because HotSpot compiles large methods
     * late, compiles one OSR version per loop in them, and redoes it all after every
     * uncommon trap; and faster than 500, where the exits cost more. Since loads and
     * stores in loops probe the TLB inline (about 85 bytes each), 1,000 bytes held only
     * 10-20 guest instructions: 1,500 ran the steady state 5-10% faster at the same
     * warm-up, 2,000 and more cost warm-up (session 10 in docs/BENCHMARKS.md).
     */
    public static final int REGION_TARGET_SIZE = 1500;
    private static final int QUEUE = 4096;

    private final MethodHandles.Lookup lookup = MethodHandles.lookup();
    private final ThreadPoolExecutor worker;
    private final AtomicLong compiled = new AtomicLong(), rejected = new AtomicLong(),
            bytes = new AtomicLong(), nanos = new AtomicLong(), dropped = new AtomicLong(),
            failed = new AtomicLong(), regionBlocks = new AtomicLong(), fromCache = new AtomicLong();
    /** The code cache consulted before compiling, or null. */
    private final CodeCache cache;
    /** The RAM the classes are bound to (see the class comment), or null: shareable classes. */
    private final MemorySegment ram;

    public JitCompiler() {
        this(null, null);
    }

    /** A compiler of shareable classes that first looks regions up in {@code cache} (may be null: none). */
    public JitCompiler(CodeCache cache) {
        this(cache, null);
    }

    /**
     * A compiler that first looks regions up in {@code cache} (may be null: none) and binds
     * its classes to {@code ram}, the RAM of the one machine it compiles for (null: it
     * defines shareable classes).
     */
    public JitCompiler(CodeCache cache, MemorySegment ram) {
        this.cache = cache;
        this.ram = ram;
        worker = new ThreadPoolExecutor(1, 1, 5, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), r -> {
            // The worker applies the compiler hints first: off the hart's thread, since
            // the management server they go through takes about 0.2 s of CPU to start.
            Thread t = new Thread(() -> {
                HostCompilerHints.applyOnce();
                r.run();
            }, "rivet-jit");
            t.setDaemon(true);
            return t;
        }, (r, ex) -> dropped.incrementAndGet());
        worker.allowCoreThreadTimeOut(true);
    }

    /**
     * Asynchronous: queues the region (dropped when the queue is full) and returns. A
     * region whose compile throws (a bug in this tier) stays in the interpreter, counted
     * as failed and logged once, instead of ending the worker's task with a stack trace on
     * the user's terminal; {@link #compile(Region)} and {@link #synchronous()} still throw,
     * for the tests.
     */
    @Override
    public void request(Region region, Consumer<CompiledBlock> install) {
        worker.execute(() -> {
            try {
                CompiledBlock c = compile(region);
                if (c != null) {
                    install.accept(c);
                }
            } catch (RuntimeException e) {
                failed.incrementAndGet();
                if (failureLogged.compareAndSet(false, true)) {
                    LOG.warning("JIT: the region at 0x" + Long.toHexString(region.entry().pc)
                            + " was not compiled (" + e + "); it runs in the interpreter");
                }
                LOG.log(Level.FINE, "JIT compile failure", e);
            }
        });
    }

    private static final Logger LOG = Logger.getLogger(JitCompiler.class.getName());
    private final java.util.concurrent.atomic.AtomicBoolean failureLogged = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * A compiler that compiles on the caller's thread and installs before returning: for
     * tests and {@code --jit=always}, where every block should run compiled from its
     * first execution and runs must be reproducible.
     */
    public BlockCompiler synchronous() {
        return new BlockCompiler() {
            @Override
            public void request(Region region, Consumer<CompiledBlock> install) {
                CompiledBlock c = compile(region);
                if (c != null) {
                    install.accept(c);
                }
            }

            @Override
            public Region.Layout warmRegion(long physPc, int mode) {
                return JitCompiler.this.warmRegion(physPc, mode);
            }
        };
    }

    /** Compiles one block on its own (a region of one). */
    public CompiledBlock compile(IrBlock block) {
        return compile(Region.of(block));
    }

    /**
     * Compiles a region now, or takes it from the code cache (memory, then disk) when one is
     * attached; null when it is rejected (counted).
     */
    public CompiledBlock compile(Region region) {
        long t0 = System.nanoTime();
        try {
            CacheKey key = cache != null ? CodeCache.key(region) : null;
            CodeCache.Entry e = key != null ? cache.memoryGet(key) : null;
            if (e == null && key != null) {
                CodeCache.Payload p = CodeCache.parse(cache.diskGet(key));
                e = p == null ? null : CodeCache.Entry.of(p);
            }
            Class<?> type = e == null ? null : typeOf(key, e);
            if (type == null) {
                // Not cached, or cached bytes that do not define (the JVM verifies them):
                // compile afresh.
                RegionLowering l = lowerToFit(region);
                if (l == null) {
                    rejected.incrementAndGet();
                    return null;
                }
                type = define(l.bytes);
                e = shareable(new CodeCache.Entry(l.bytes, null, l.codeSize, l.blockCount()), type);
                if (key != null) {
                    cache.missed();
                    cache.putDisk(key, CodeCache.payload(l.bytes, l.codeSize, l.blockCount(),
                            CodeCache.Recipe.of(region)));
                }
            } else {
                fromCache.incrementAndGet();
                e = shareable(e, type);
            }
            if (key != null) {
                cache.putMemory(key, e);
                hot.put(CodeCache.Recipe.spot(region.entry().physPc, region.entry().mode), key);
            }
            CompiledBlock c = (CompiledBlock) type.getConstructor().newInstance();
            compiled.incrementAndGet();
            regionBlocks.addAndGet(e.blockCount());
            bytes.addAndGet(e.codeSize());
            return c;
        } catch (ReflectiveOperationException | LinkageError e) {
            failed.incrementAndGet();
            return null;
        } finally {
            nanos.addAndGet(System.nanoTime() - t0);
        }
    }

    // ---------------------------------------------------------------------------------
    // Warm start: the regions installed in a run are remembered per guest (the disk
    // cache's hot list for a profile the board derives from the guest's images); the next
    // run of that guest loads their classes on a background thread and tells the
    // interpreter which regions to request as soon as their entry is first translated.

    /** The region key last installed per code spot this run, in first-install order. */
    private final Map<Long, CacheKey> hot = Collections.synchronizedMap(new LinkedHashMap<>());
    /** Recipes of the regions preloaded for a warm start, by code spot. */
    private final Map<Long, Region.Layout> warm = new ConcurrentHashMap<>();
    private final AtomicLong preloaded = new AtomicLong();
    /** Keys the warm start loaded, in list order (kept in the next hot list). */
    private final Queue<CacheKey> loadedKeys = new ConcurrentLinkedQueue<>();
    /** A hot list keeps at most this many regions (the memory layer's default size). */
    static final int MAX_HOT_REGIONS = CodeCache.DEFAULT_MEMORY_ENTRIES;
    private volatile Thread preloader;

    @Override
    public Region.Layout warmRegion(long physPc, int mode) {
        return warm.isEmpty() ? null : warm.get(CodeCache.Recipe.spot(physPc, mode));
    }

    /**
     * Starts loading, on a background daemon thread, the classes of the regions that were
     * hot when the guest named by {@code profile} last ran; each becomes available to
     * {@link #warmRegion} once loaded. Does nothing without a disk cache that can be read.
     */
    public void warmStart(String profile) {
        this.profile = profile;
        if (cache == null || cache.disk() == null || !cache.disk().mode().canRead()) {
            return;
        }
        Thread t = new Thread(() -> preload(profile), "rivet-jit-preload");
        t.setDaemon(true);
        preloader = t;
        t.start();
    }

    private void preload(String profile) {
        for (CacheKey key : cache.disk().hotList(profile)) {
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
            CodeCache.Entry e = cache.memoryGet(key);
            CodeCache.Payload p = CodeCache.parse(cache.disk().get(key));
            if (p == null) {
                continue;
            }
            if (e == null) {
                e = CodeCache.Entry.of(p);
            }
            // Defined here, off the hart's thread and ahead of need; compile() takes it.
            Class<?> type = typeOf(key, e);
            if (type == null) {
                continue;
            }
            if (ram != null) {
                preloadedClasses.put(key, type);
            }
            cache.putMemory(key, shareable(e, type));
            warm.put(CodeCache.Recipe.spot(p.recipe().physPc(), p.recipe().mode()), p.recipe().layout());
            loadedKeys.add(key);
            preloaded.incrementAndGet();
        }
    }

    /** Waits for the warm-start loader (tests). */
    public void awaitWarmStart() throws InterruptedException {
        Thread t = preloader;
        if (t != null) {
            t.join();
        }
    }

    private volatile String profile;

    /**
     * Stores the regions installed in this run as the hot list of the profile given to
     * {@link #warmStart}, for the next run. Does nothing without a profile or a writable disk
     * cache.
     */
    public void saveHotList() {
        String profile = this.profile;
        if (profile == null || cache == null || cache.disk() == null || !cache.disk().mode().canWrite()) {
            return;
        }
        // This run's regions first, then those of the last list this run did not reach
        // (a boot's timing varies; a region hot last time is likely hot next time).
        LinkedHashSet<CacheKey> keys;
        synchronized (hot) {
            keys = new LinkedHashSet<>(hot.values());
        }
        keys.addAll(loadedKeys);
        if (!keys.isEmpty()) {
            cache.disk().putHotList(profile, new ArrayList<>(keys).subList(0, Math.min(keys.size(), MAX_HOT_REGIONS)));
        }
    }

    /** Region classes loaded ahead by {@link #warmStart}. */
    public long preloadedRegions() {
        return preloaded.get();
    }

    /** Classes {@link #preload} defined for this compiler's RAM, until {@link #compile} takes them. */
    private final Map<CacheKey, Class<?>> preloadedClasses = new ConcurrentHashMap<>();

    /** Defines {@code classBytes}, bound to this compiler's RAM when it has one. */
    private Class<?> define(byte[] classBytes) throws IllegalAccessException {
        return (ram == null ? lookup.defineHiddenClass(classBytes, true)
                : lookup.defineHiddenClassWithClassData(classBytes, ram, true)).lookupClass();
    }

    /** {@code e} with {@code type} as its shareable class, when this compiler makes shareable classes and it has none. */
    private CodeCache.Entry shareable(CodeCache.Entry e, Class<?> type) {
        return ram == null && e.shared() == null ? e.withShared(type) : e;
    }

    /**
     * The class to run a cached region with: the shared one when this compiler makes
     * shareable classes and there is one, else one preloaded or defined now from the cached
     * bytes. Null when the bytes do not define (the JVM verifies them: a disk payload that
     * passed the cache's checksum but fails here is compiled afresh).
     */
    private Class<?> typeOf(CacheKey key, CodeCache.Entry e) {
        if (ram == null && e.shared() != null) {
            return e.shared();
        }
        Class<?> pre = ram != null && key != null ? preloadedClasses.remove(key) : null;
        if (pre != null) {
            return pre;
        }
        try {
            return define(e.bytes());
        } catch (LinkageError | IllegalArgumentException | IllegalAccessException ex) {
            return null;
        }
    }

    /**
     * The lowering of as much of the region as fits: blocks that cannot be lowered are left
     * out, then the longest prefix of the rest (in the order the dispatcher found them) that
     * stays within {@link #REGION_TARGET_SIZE} bytes; the entry block alone may take up to
     * {@link #MAX_CODE_SIZE}, and if it does not fit with its loads and stores probing the TLB
     * inline, it is lowered alone with calls for them. Null when the entry cannot be lowered
     * or is too large even so.
     */
    static RegionLowering lowerToFit(Region region) {
        IrBlock entry = region.entry();
        if (RegionLowering.unsupported(entry) != null) {
            return null;
        }
        // Blocks this tier cannot lower stay out (jumps to them leave the region), and so do
        // the copies made for a call in such a block.
        List<IrBlock> blocks = new ArrayList<>();
        int[] inlinedAt = new int[region.size()], index = new int[region.size()];
        for (int k = 0; k < region.size(); k++) {
            IrBlock b = region.blocks().get(k);
            int site = region.inlinedAt(k);
            index[k] = -1;
            if ((b == entry || RegionLowering.unsupported(b) == null) && (site < 0 || index[site] >= 0)) {
                index[k] = blocks.size();
                inlinedAt[blocks.size()] = site < 0 ? -1 : index[site];
                blocks.add(b);
            }
        }
        RegionLowering best = RegionLowering.lower(blocks.subList(0, 1));
        if (best.bytes == null || best.codeSize > MAX_CODE_SIZE) {
            RegionLowering compact = RegionLowering.lower(blocks.subList(0, 1), true);
            return compact.bytes != null && compact.codeSize <= MAX_CODE_SIZE ? compact : null;
        }
        if (blocks.size() > 1 && best.bodySize <= REGION_TARGET_SIZE) {
            RegionLowering all = RegionLowering.lower(blocks, Arrays.copyOf(inlinedAt, blocks.size()));
            if (all.bytes != null && all.bodySize <= REGION_TARGET_SIZE && all.codeSize <= MAX_CODE_SIZE) {
                return all; // the common case: it all fits
            }
        }
        // Binary search for the longest prefix within the target size (a call's copies
        // follow it, so a prefix never holds a copy without its call).
        int lo = 2, hi = best.bodySize <= REGION_TARGET_SIZE ? blocks.size() - 1 : 1;
        while (lo <= hi) {
            int n = (lo + hi) >>> 1;
            RegionLowering l = RegionLowering.lower(blocks.subList(0, n), Arrays.copyOf(inlinedAt, n));
            if (l.bytes != null && l.bodySize <= REGION_TARGET_SIZE && l.codeSize <= MAX_CODE_SIZE) {
                best = l;
                lo = n + 1;
            } else {
                hi = n - 1;
            }
        }
        return best;
    }

    /** Why this tier would not compile {@code block} on its own, or null if it would. For tests and tools. */
    public static String rejection(IrBlock block) {
        String why = RegionLowering.unsupported(block);
        if (why != null) {
            return why;
        }
        return lowerToFit(Region.of(block)) == null ? "method too large" : null;
    }

    /** The class bytes this compiler would define for {@code block} alone (null if rejected). */
    public static byte[] classBytes(IrBlock block) {
        return classBytes(Region.of(block));
    }

    /** The class bytes this compiler would define for {@code region} (null if rejected). */
    public static byte[] classBytes(Region region) {
        RegionLowering l = lowerToFit(region);
        return l == null ? null : l.bytes;
    }

    /** Regions installed from the code cache instead of compiled (included in {@link #compiledBlocks}). */
    public long cachedRegions() {
        return fromCache.get();
    }

    /** Regions compiled (each one class). */
    public long compiledBlocks() {
        return compiled.get();
    }

    /** Blocks inside the compiled regions (a block in two regions counts twice). */
    public long regionBlocks() {
        return regionBlocks.get();
    }

    public long rejectedBlocks() {
        return rejected.get();
    }

    /** Bytecode bytes of the generated {@code run} methods. */
    public long bytecodeBytes() {
        return bytes.get();
    }

    public long compileNanos() {
        return nanos.get();
    }

    /** Requests dropped because the queue was full. */
    public long droppedRequests() {
        return dropped.get();
    }

    /** Regions that failed to define, link or compile (a code generator bug; should stay 0). */
    public long failedBlocks() {
        return failed.get();
    }

    /** Requests still waiting. */
    public int queued() {
        return worker.getQueue().size();
    }

    public String stats() {
        String s = String.format("jit: %d regions compiled (%d blocks), %d rejected, %d failed, %d dropped, %d bytecode bytes,"
                + " %.1f ms compiling", compiledBlocks(), regionBlocks(), rejectedBlocks(), failedBlocks(),
                droppedRequests(), bytecodeBytes(), compileNanos() / 1e6);
        return cache == null ? s : s + "; " + fromCache.get() + " from the " + cache.stats()
                + (preloaded.get() > 0 ? "; " + preloaded.get() + " preloaded for a warm start" : "");
    }

    /** Stops the worker thread (queued requests are discarded). */
    public void shutdown() {
        worker.shutdownNow();
        Thread t = preloader;
        if (t != null) {
            t.interrupt();
        }
    }
}
