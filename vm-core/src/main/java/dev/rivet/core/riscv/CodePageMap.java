package dev.rivet.core.riscv;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One bit per 4 KiB page of RAM: set while translated code exists for that page.
 * Shared by all harts (and DMA) of a machine. A store to a marked page must invalidate
 * the code before it lands; harts never put a marked page into their write TLB.
 */
public final class CodePageMap {
    /** Told when a page's translated code must be dropped. */
    @FunctionalInterface
    public interface Invalidator {
        void invalidatePage(long physPage);
    }

    private final long ramBase;
    private final AtomicLongArray bits;
    private final long pages;
    private volatile Invalidator invalidator = page -> { };

    public CodePageMap(long ramBase, long ramSize) {
        this.ramBase = ramBase;
        this.pages = ramSize >>> 12;
        this.bits = new AtomicLongArray((int) ((pages + 63) >>> 6));
    }

    public void setInvalidator(Invalidator inv) {
        this.invalidator = inv;
    }

    private long index(long physAddr) {
        long p = (physAddr - ramBase) >>> 12;
        return Long.compareUnsigned(p, pages) < 0 ? p : -1;
    }

    /** Marks the page holding {@code physAddr} as containing code; no-op outside RAM. */
    public void mark(long physAddr) {
        long p = index(physAddr);
        if (p >= 0) {
            bits.getAndUpdate((int) (p >>> 6), w -> w | (1L << p));
        }
    }

    public boolean isCode(long physAddr) {
        long p = index(physAddr);
        return p >= 0 && (bits.get((int) (p >>> 6)) & (1L << p)) != 0;
    }

    /**
     * Called before a write to {@code physAddr}: if the page held code, clears the mark
     * and drops that code.
     */
    public void notifyWrite(long physAddr) {
        long p = index(physAddr);
        if (p < 0) {
            return;
        }
        long mask = 1L << p;
        long old = bits.getAndUpdate((int) (p >>> 6), w -> w & ~mask);
        if ((old & mask) != 0) {
            invalidator.invalidatePage(physAddr & ~0xFFFL);
        }
    }

    /** Clears every mark (after a full code flush). */
    public void clear() {
        for (int i = 0; i < bits.length(); i++) {
            bits.set(i, 0);
        }
    }
}
