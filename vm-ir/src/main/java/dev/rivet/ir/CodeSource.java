package dev.rivet.ir;

/** Where a frontend reads guest code from (the hart's fetch path). */
@FunctionalInterface
public interface CodeSource {
    /**
     * The 16-bit instruction parcel at virtual address {@code va} (0..0xFFFF), or
     * {@code -1 - cause} when the fetch faults with exception {@code cause}.
     */
    int parcel(long va);
}
