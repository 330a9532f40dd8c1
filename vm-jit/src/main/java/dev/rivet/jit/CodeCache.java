package dev.rivet.jit;

import dev.rivet.aot.CacheKey;
import dev.rivet.aot.DiskCache;
import dev.rivet.aot.MemoryCache;
import dev.rivet.ir.IrBlock;
import dev.rivet.ir.exec.Region;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The JIT's view of the two-layer code cache: compiled regions by content. Layer 1 holds
 * class bytes and, once a compiler of shareable classes has defined it, the class (the
 * generated code keeps no state, so one such class serves every hart and every machine of
 * the JVM that shares this cache; a class bound to one machine's RAM is not kept here, see
 * {@link JitCompiler}); layer 2, optional, holds class bytes on disk across runs and
 * processes.
 *
 * <p>The key is a SHA-256 over the region's IR — every op, operand, immediate and
 * instruction position of every block, with its PC, mode bits and byte length — plus the IR
 * and code-generator versions. The IR is a function of the guest instruction bytes and the
 * mode they were decoded in, and the class a function of the IR, so a hit runs exactly the
 * code the compiler would have produced for those guest bytes; a guest that rewrote its code
 * decodes to other IR and misses. Disk entries are checksummed and echo their key
 * ({@link DiskCache}); the JVM verifies every class it defines.
 */
public final class CodeCache {
    /** Bump when {@link RegionLowering} emits different code for the same IR. */
    public static final int CODEGEN_VERSION = 12;
    /** Bump when the decoder's IR for the same guest bytes changes. */
    public static final int IR_VERSION = 1;
    /** The on-disk payload format: counters, the region's recipe, class bytes (see {@link #payload}). */
    public static final int FORMAT_VERSION = 3;
    /** Layer-1 bound: regions kept (their bytes, and shareable classes) for reuse. */
    public static final int DEFAULT_MEMORY_ENTRIES = 20_000;

    /**
     * A compiled region as cached: its class bytes, the shareable class defined from them
     * (null until a compiler of shareable classes needs it) and what the compiler counts.
     */
    record Entry(byte[] bytes, Class<?> shared, int codeSize, int blockCount) {
        static Entry of(Payload p) {
            return new Entry(p.classBytes(), null, p.codeSize(), p.blockCount());
        }

        Entry withShared(Class<?> type) {
            return new Entry(bytes, type, codeSize, blockCount);
        }
    }

    private final MemoryCache<Entry> memory;
    private final DiskCache disk;
    private final AtomicLong memoryHits = new AtomicLong(), diskHits = new AtomicLong(), misses = new AtomicLong();

    /** A cache with {@code memoryEntries} loaded classes and, if {@code disk} is not null, a disk layer. */
    public CodeCache(int memoryEntries, DiskCache disk) {
        this.memory = new MemoryCache<>(memoryEntries);
        this.disk = disk;
    }

    /** The content key of a region (see the class comment). */
    public static CacheKey key(Region region) {
        CacheKey.Builder b = CacheKey.builder()
                .putString("rivet-jit-region")
                .putInt(IR_VERSION)
                .putInt(CODEGEN_VERSION)
                .putInt(region.size());
        for (int k = 0; k < region.size(); k++) {
            IrBlock blk = region.blocks().get(k);
            b.putInt(region.inlinedAt(k));
            b.putLong(blk.pc).putInt(blk.mode).putInt(blk.insnCount).putInt(blk.byteLength).putInt(blk.size());
            ByteBuffer buf = ByteBuffer.allocate(blk.size() * 16);
            for (int i = 0; i < blk.size(); i++) {
                buf.putInt(blk.code[i]).putLong(blk.imm[i]).putInt(blk.pos[i]);
            }
            b.putBytes(buf.array());
        }
        return b.build();
    }

    Entry memoryGet(CacheKey key) {
        Entry e = memory.get(key);
        if (e != null) {
            memoryHits.incrementAndGet();
        }
        return e;
    }

    /** Class bytes with their counters from the disk layer, or null. */
    byte[] diskGet(CacheKey key) {
        if (disk == null) {
            return null;
        }
        byte[] payload = disk.get(key);
        if (payload != null) {
            diskHits.incrementAndGet();
        }
        return payload;
    }

    void missed() {
        misses.incrementAndGet();
    }

    void putMemory(CacheKey key, Entry e) {
        memory.put(key, e);
    }

    void putDisk(CacheKey key, byte[] payload) {
        if (disk != null && disk.mode().canWrite()) {
            disk.put(key, payload);
        }
    }

    /**
     * What a warm start needs to rebuild a region before its entry gets hot: where the entry
     * is (physical PC and mode bits) and the region's layout (the virtual PCs of its blocks,
     * entry first, and which are copies of a called function).
     */
    record Recipe(long physPc, int mode, Region.Layout layout) {
        static Recipe of(Region region) {
            return new Recipe(region.entry().physPc, region.entry().mode, Region.Layout.of(region));
        }

        /** The key of a code spot, as the warm-start table uses it. */
        static long spot(long physPc, int mode) {
            return physPc ^ ((long) mode << 58);
        }
    }

    /** A disk payload taken apart; null parts when it is malformed. */
    record Payload(int codeSize, int blockCount, Recipe recipe, byte[] classBytes) {
    }

    /**
     * Disk payload: codeSize, blockCount, the recipe (physPc, mode, n, n PCs, n call sites,
     * see {@code Region.inlinedAt}), then the class bytes.
     */
    static byte[] payload(byte[] classBytes, int codeSize, int blockCount, Recipe r) {
        long[] pcs = r.layout().pcs();
        int[] at = r.layout().inlinedAt();
        ByteBuffer b = ByteBuffer.allocate(24 + 12 * pcs.length + classBytes.length)
                .putInt(codeSize).putInt(blockCount).putLong(r.physPc()).putInt(r.mode()).putInt(pcs.length);
        for (long pc : pcs) {
            b.putLong(pc);
        }
        for (int k : at) {
            b.putInt(k);
        }
        return b.put(classBytes).array();
    }

    /**
     * Reads a payload back, or null if it does not parse. The disk layer checksums entries,
     * so this only guards against a payload written by a different (buggy) writer.
     */
    static Payload parse(byte[] payload) {
        if (payload == null || payload.length < 24) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(payload);
        int codeSize = b.getInt(), blockCount = b.getInt();
        long physPc = b.getLong();
        int mode = b.getInt(), n = b.getInt();
        if (n <= 0 || n > b.remaining() / 12) {
            return null;
        }
        long[] pcs = new long[n];
        for (int i = 0; i < n; i++) {
            pcs[i] = b.getLong();
        }
        int[] at = new int[n];
        for (int i = 0; i < n; i++) {
            at[i] = b.getInt();
        }
        if (!b.hasRemaining() || !Region.Layout.valid(at)) {
            return null;
        }
        byte[] cls = new byte[b.remaining()];
        b.get(cls);
        return new Payload(codeSize, blockCount, new Recipe(physPc, mode, new Region.Layout(pcs, at)), cls);
    }

    public long memoryHits() {
        return memoryHits.get();
    }

    public long diskHits() {
        return diskHits.get();
    }

    public long misses() {
        return misses.get();
    }

    public DiskCache disk() {
        return disk;
    }

    public String stats() {
        return String.format("code cache: %d memory hits, %d disk hits, %d misses%s", memoryHits(), diskHits(), misses(),
                disk == null ? "" : " (" + disk.directory() + ", " + disk.mode().spelling() + ")");
    }
}
