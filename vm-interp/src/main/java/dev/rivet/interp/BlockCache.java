package dev.rivet.interp;

import dev.rivet.ir.IrBlock;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Translated blocks keyed by physical PC and mode bits. A small direct-mapped jump cache
 * indexed by virtual PC sits in front of the map, so the common lookup is one array load
 * and two compares; the map is only touched on a miss. Blocks are also indexed by the
 * physical pages they cover so a write to a code page drops exactly those blocks.
 */
public final class BlockCache {
    private static final int JUMP_BITS = 12;
    private static final int JUMP_MASK = (1 << JUMP_BITS) - 1;

    private final CachedBlock[] jump = new CachedBlock[1 << JUMP_BITS];
    private final Map<Long, CachedBlock> byKey = new HashMap<>();
    private final Map<Long, List<CachedBlock>> byPage = new HashMap<>();
    private long translations, invalidations, flushes;

    static long key(long physPc, int mode) {
        return physPc ^ ((long) mode << 58);
    }

    /** The jump-cache hit for {@code pc} in {@code mode}, or null. Allocation-free. */
    public CachedBlock probe(long pc, int mode) {
        CachedBlock cb = jump[(int) (pc >>> 1) & JUMP_MASK];
        if (cb != null && cb.pc == pc && cb.mode == mode && cb.valid) {
            return cb;
        }
        return null;
    }

    /** The block for a physical PC (slow path after a jump-cache miss), or null. */
    public CachedBlock find(long pc, long physPc, int mode) {
        CachedBlock cb = byKey.get(key(physPc, mode));
        if (cb != null && cb.pc == pc) {
            jump[(int) (pc >>> 1) & JUMP_MASK] = cb;
            return cb;
        }
        return null;
    }

    public CachedBlock insert(IrBlock b) {
        CachedBlock cb = new CachedBlock(b);
        CachedBlock old = byKey.put(key(b.physPc, b.mode), cb);
        if (old != null) {
            old.valid = false;
        }
        long first = b.physPc & ~0xFFFL;
        long last = (b.physPc + Math.max(b.byteLength, 1) - 1) & ~0xFFFL;
        byPage.computeIfAbsent(first, p -> new ArrayList<>()).add(cb);
        if (last != first) {
            byPage.computeIfAbsent(last, p -> new ArrayList<>()).add(cb);
        }
        jump[(int) (b.pc >>> 1) & JUMP_MASK] = cb;
        translations++;
        return cb;
    }

    /** Drops every block that covers bytes of the physical page {@code page}. */
    public void invalidatePage(long page) {
        List<CachedBlock> list = byPage.remove(page & ~0xFFFL);
        if (list == null) {
            return;
        }
        for (CachedBlock cb : list) {
            if (cb.valid) {
                cb.valid = false;
                byKey.remove(key(cb.block.physPc, cb.mode), cb);
                invalidations++;
            }
        }
    }

    /** Drops everything (fence.i, reset). */
    public void flush() {
        for (CachedBlock cb : byKey.values()) {
            cb.valid = false;
        }
        byKey.clear();
        byPage.clear();
        java.util.Arrays.fill(jump, null);
        flushes++;
    }

    public int size() {
        return byKey.size();
    }

    public long translations() {
        return translations;
    }

    public long invalidations() {
        return invalidations;
    }

    public long flushes() {
        return flushes;
    }
}
