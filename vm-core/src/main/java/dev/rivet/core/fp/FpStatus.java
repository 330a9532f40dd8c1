package dev.rivet.core.fp;

/**
 * Accumulated exception flags for one hart. {@link RvFloat} only ever ORs bits into
 * {@link #flags} (the flags are sticky, as {@code fflags} is); the CSR code clears them.
 */
public final class FpStatus {
    /** Bit set of {@link FpFlags}. */
    public int flags;
}
