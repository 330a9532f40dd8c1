package dev.rivet.ir.exec;

import dev.rivet.ir.IrBlock;

import java.util.Arrays;
import java.util.List;

/**
 * What the dispatcher hands a compiler: an entry block plus further blocks, all in the
 * entry's virtual page and mode, that it reached from there through direct jumps. Within
 * one page the virtual-to-physical mapping is the same for every block, so jumps between
 * them need no check; and a write to that page drops the entry block, and with it the
 * region's code.
 *
 * <p>Some blocks may be private copies of a small function's blocks for one call site
 * ({@code inlinedAt}): the call goes to the copy, and the copy's return goes back to the
 * block after the call. Every block of a loop that calls a function so stays on a loop
 * with a single way in, the shape a JVM compiler optimises, where sharing the function's
 * blocks between its callers would give the loop further entries.
 *
 * @param blocks the entry block first; no two with the same PC, except copies
 * @param inlinedAt per block, -1, or for a copy the index of the block whose final call it
 *     belongs to (an earlier block that is no copy); no two copies for one call with the
 *     same PC
 */
public record Region(List<IrBlock> blocks, int[] inlinedAt) {
    public Region {
        if (blocks.isEmpty()) {
            throw new IllegalArgumentException("empty region");
        }
        blocks = List.copyOf(blocks);
        if (inlinedAt.length != blocks.size()) {
            throw new IllegalArgumentException("inlinedAt has " + inlinedAt.length + " entries for " + blocks.size() + " blocks");
        }
        inlinedAt = inlinedAt.clone();
        if (!Layout.valid(inlinedAt)) {
            throw new IllegalArgumentException("bad call sites " + Arrays.toString(inlinedAt));
        }
    }

    /** A region without copies. */
    public Region(List<IrBlock> blocks) {
        this(blocks, none(blocks.size()));
    }

    private static int[] none(int n) {
        int[] a = new int[n];
        Arrays.fill(a, -1);
        return a;
    }

    /**
     * What rebuilds a region from blocks translated again (a warm start): the virtual PCs
     * of its blocks in order, and {@link #inlinedAt} for each.
     */
    public record Layout(long[] pcs, int[] inlinedAt) {
        public Layout {
            if (pcs.length != inlinedAt.length || !valid(inlinedAt)) {
                throw new IllegalArgumentException("malformed region layout");
            }
        }

        public static Layout of(Region r) {
            long[] pcs = new long[r.size()];
            for (int k = 0; k < pcs.length; k++) {
                pcs[k] = r.blocks.get(k).pc;
            }
            return new Layout(pcs, r.inlinedAt.clone()); // the region's array stays its own
        }

        /** Whether {@code inlinedAt} is well formed for a region (see {@link Region}). */
        public static boolean valid(int[] inlinedAt) {
            for (int k = 0; k < inlinedAt.length; k++) {
                int at = inlinedAt[k];
                if (at != -1 && (k == 0 || at < 0 || at >= k || inlinedAt[at] != -1)) {
                    return false;
                }
            }
            return inlinedAt.length > 0;
        }
    }

    /** A region of one block. */
    public static Region of(IrBlock block) {
        return new Region(List.of(block));
    }

    public IrBlock entry() {
        return blocks.getFirst();
    }

    public int size() {
        return blocks.size();
    }

    /** The call site block {@code k} is a copy for, or -1. */
    public int inlinedAt(int k) {
        return inlinedAt[k];
    }

    @Override
    public int[] inlinedAt() {
        return inlinedAt.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Region r && blocks.equals(r.blocks) && Arrays.equals(inlinedAt, r.inlinedAt);
    }

    @Override
    public int hashCode() {
        return blocks.hashCode() * 31 + Arrays.hashCode(inlinedAt);
    }

    @Override
    public String toString() {
        return "Region" + blocks + Arrays.toString(inlinedAt);
    }
}
