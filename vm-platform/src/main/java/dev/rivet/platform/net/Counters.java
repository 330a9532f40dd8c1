package dev.rivet.platform.net;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The {@link UserNetCounter}s of one backend. Written on the event loop (and by
 * {@code transmit} for backlog drops), read from any thread.
 */
final class Counters {
    private final AtomicLongArray values = new AtomicLongArray(UserNetCounter.values().length);

    void add(UserNetCounter c) {
        values.incrementAndGet(c.ordinal());
    }

    /** Adds {@code n} (for the counters that count bytes). */
    void add(UserNetCounter c, long n) {
        values.addAndGet(c.ordinal(), n);
    }

    long get(UserNetCounter c) {
        return values.get(c.ordinal());
    }
}
