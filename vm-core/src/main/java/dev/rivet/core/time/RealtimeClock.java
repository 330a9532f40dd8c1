package dev.rivet.core.time;

/** mtime follows the host's monotonic clock: the interactive default. */
public final class RealtimeClock implements MachineClock {
    private static final long NANOS_PER_TICK = 1_000_000_000L / FREQUENCY_HZ;
    private final long origin = System.nanoTime();

    @Override
    public long mtime() {
        return (System.nanoTime() - origin) / NANOS_PER_TICK;
    }

    /** Host nanoseconds until mtime reaches {@code deadline} (0 if already there). */
    public long nanosUntil(long deadline) {
        long ticks = deadline - mtime();
        return ticks <= 0 ? 0 : Math.min(ticks, Long.MAX_VALUE / NANOS_PER_TICK) * NANOS_PER_TICK;
    }
}
