package dev.rivet.interp;

import dev.rivet.ir.IrBlock;
import dev.rivet.ir.exec.CompiledBlock;
import dev.rivet.ir.exec.ExitLink;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Translated blocks keyed by physical PC and mode bits. A small direct-mapped jump cache
 * indexed by virtual PC sits in front of the map, so the common lookup is one array load
 * and two compares; the map is only touched on a miss. Blocks are also indexed by the
 * physical pages they cover so a write to a code page drops exactly those blocks.
 *
 * <p>What is keyed by <em>virtual</em> PC — the jump cache and the blocks' successor
 * links — is only valid while the hart's translations stay the same. {@link #newEpoch()}
 * (after satp writes and {@code sfence.vma}) empties the jump cache and makes every
 * successor link stale at once (links remember the epoch they were made in); the blocks
 * themselves, keyed by physical address, survive.
 */
public final class BlockCache {
    private static final int JUMP_BITS = 12;
    private static final int JUMP_MASK = (1 << JUMP_BITS) - 1;

    private final CachedBlock[] jump = new CachedBlock[1 << JUMP_BITS];
    private final Map<Long, CachedBlock> byKey = new HashMap<>();
    private final Map<Long, List<CachedBlock>> byPage = new HashMap<>();
    private long translations, invalidations, flushes, epochs, pageForgets;
    private int epoch;
    /** Compiled exits linked to their targets' code (see {@link ExitLink}); emptied together. */
    private final List<ExitLink> links = new ArrayList<>();

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

    /**
     * The block for a physical PC (slow path after a jump-cache miss), or null. The caller
     * checks {@link CachedBlock#physPage2} and then {@link #remember}s it.
     */
    public CachedBlock find(long pc, long physPc, int mode) {
        CachedBlock cb = byKey.get(key(physPc, mode));
        return cb != null && cb.pc == pc ? cb : null;
    }

    /** Puts a block found through {@link #find} into the jump cache. */
    public void remember(CachedBlock cb) {
        jump[(int) (cb.pc >>> 1) & JUMP_MASK] = cb;
    }

    /** Adds a block that lies within one page (or physically contiguous pages). */
    public CachedBlock insert(IrBlock b) {
        long last = (b.physPc + Math.max(b.byteLength, 1) - 1) & ~0xFFFL;
        return insert(b, last != (b.physPc & ~0xFFFL) ? last : -1);
    }

    /**
     * Adds a block; {@code physPage2} is the physical page of its bytes on the next
     * virtual page, or -1 when it stays within its first page.
     */
    public CachedBlock insert(IrBlock b, long physPage2) {
        CachedBlock cb = new CachedBlock(b, physPage2);
        cb.linkEpoch = epoch;
        CachedBlock old = byKey.put(key(b.physPc, b.mode), cb);
        if (old != null) {
            old.valid = false;
        }
        long first = b.physPc & ~0xFFFL;
        byPage.computeIfAbsent(first, p -> new ArrayList<>()).add(cb);
        if (physPage2 != -1 && physPage2 != first) {
            byPage.computeIfAbsent(physPage2 & ~0xFFFL, p -> new ArrayList<>()).add(cb);
        }
        jump[(int) (b.pc >>> 1) & JUMP_MASK] = cb;
        translations++;
        return cb;
    }

    /** A block that must not be kept (its fetch faulted): runs once, never found again. */
    static CachedBlock transientBlock(IrBlock b) {
        return new CachedBlock(b, -1);
    }

    /**
     * Links a compiled exit to the compiled code at {@code pc}, until the next
     * {@link #unlinkAll}: a new epoch, or any translated code dropped.
     */
    public void link(ExitLink l, long pc, CompiledBlock target) {
        if (l.target == null) {
            links.add(l);
        }
        l.pc = pc;
        l.target = target;
    }

    /** Empties every exit link. */
    private void unlinkAll() {
        for (ExitLink l : links) {
            l.target = null;
        }
        links.clear();
    }

    /** Exit links currently set (tests). */
    public int links() {
        return links.size();
    }

    /** The current translation epoch; successor links made in another one are stale. */
    public int epoch() {
        return epoch;
    }

    /**
     * Virtual-to-physical mappings changed: forget everything keyed by virtual PC (the jump
     * cache now, successor links lazily through the epoch). Translated blocks stay.
     */
    public void newEpoch() {
        java.util.Arrays.fill(jump, null);
        unlinkAll();
        epoch++;
        epochs++;
    }

    /**
     * One virtual page's mapping changed ({@code sfence.vma} with an address): the jump
     * cache forgets the blocks that start on it, and those on the page before it that run
     * onto it; successor links go stale (lazily, through a new epoch: a link may lead to
     * a block running onto the page) and exit links are emptied. The rest of the jump
     * cache stays, which is the point: Linux fences one page at a time thousands of times
     * per boot, and each whole-cache flush cost every later lookup a page walk and a map
     * probe.
     */
    public void forgetVirtualPage(long page) {
        long first = page & ~0xFFFL;
        for (int k = 0; k < jump.length; k++) {
            CachedBlock cb = jump[k];
            if (cb != null && (((cb.pc & ~0xFFFL) == first)
                    || (cb.physPage2 != -1 && (cb.pc & ~0xFFFL) == first - 0x1000))) {
                jump[k] = null;
            }
        }
        unlinkAll();
        epoch++;
        pageForgets++;
    }

    /** Pages forgotten one at a time ({@link #forgetVirtualPage}). */
    public long pageForgets() {
        return pageForgets;
    }

    /** Drops every block that covers bytes of the physical page {@code page}. */
    public void invalidatePage(long page) {
        List<CachedBlock> list = byPage.remove(page & ~0xFFFL);
        if (list == null) {
            return;
        }
        unlinkAll();
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
        unlinkAll();
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

    public long epochs() {
        return epochs;
    }
}
