package dev.rivet.core.time;

/**
 * The machine's time base: the RISC-V {@code mtime} counter, in ticks of
 * {@link #FREQUENCY_HZ} (10 MHz, QEMU virt's timebase). Device code reads time only from
 * here, never from the host clock, so tests run on virtual time.
 */
public interface MachineClock {
    long FREQUENCY_HZ = 10_000_000L;

    /** Current mtime. Monotonic. */
    long mtime();

    /** Nanoseconds of guest time, for devices that speak in wall-clock units. */
    default long nanos() {
        return mtime() * (1_000_000_000L / FREQUENCY_HZ);
    }
}
