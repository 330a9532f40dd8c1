package dev.rivet.virtio.balloon;

/**
 * Which 4 KiB pages of guest RAM are in the balloon: one bit per page of RAM, so the memory
 * this takes is fixed by the RAM size (1/32768 of it) whatever the guest sends, and a page
 * inflated twice is counted once.
 *
 * <p>Not thread-safe: the device holds this object's monitor while it applies a request,
 * since the inflate and deflate queues may be processed on different threads. The count is
 * volatile so the host can read it at any time.
 */
final class BalloonPages {
    static final int PAGE_SHIFT = 12;
    static final long PAGE_SIZE = 1L << PAGE_SHIFT;

    private final long base;
    private final long pages;
    private final long[] bits;
    private volatile long count;

    BalloonPages(long ramBase, long ramSize) {
        this.base = ramBase;
        this.pages = ramSize >>> PAGE_SHIFT;
        this.bits = new long[(int) ((pages + 63) >>> 6)];
    }

    /** Whether this tracks exactly the RAM {@code [ramBase, ramBase+ramSize)}. */
    boolean covers(long ramBase, long ramSize) {
        return base == ramBase && pages == ramSize >>> PAGE_SHIFT;
    }

    /**
     * The page index of the 4 KiB page at guest address {@code addr}, or -1 when that is not
     * a whole page of RAM (outside it, or not page-aligned relative to its base).
     */
    long index(long addr) {
        long off = addr - base;
        if ((off & (PAGE_SIZE - 1)) != 0) {
            return -1;
        }
        long i = off >>> PAGE_SHIFT;
        return Long.compareUnsigned(i, pages) < 0 ? i : -1;
    }

    /** Puts page {@code i} in the balloon; false if it already was. */
    boolean add(long i) {
        int w = (int) (i >>> 6);
        long m = 1L << i;
        if ((bits[w] & m) != 0) {
            return false;
        }
        bits[w] |= m;
        count++;
        return true;
    }

    /** Takes page {@code i} out of the balloon; false if it was not in it. */
    boolean remove(long i) {
        int w = (int) (i >>> 6);
        long m = 1L << i;
        if ((bits[w] & m) == 0) {
            return false;
        }
        bits[w] &= ~m;
        count--;
        return true;
    }

    /** Pages currently in the balloon. */
    long count() {
        return count;
    }

    /** Empties the balloon (device reset: the driver starts over with none). */
    void clear() {
        java.util.Arrays.fill(bits, 0);
        count = 0;
    }
}
