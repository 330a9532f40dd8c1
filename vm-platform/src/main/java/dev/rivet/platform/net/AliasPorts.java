package dev.rivet.platform.net;

import java.util.function.IntPredicate;

/**
 * Ports on 10.0.2.2 handed to forwarded connections and forward sessions, from the IANA
 * dynamic range (RFC 6335 section 6: 49152-65535), round robin so a port just freed is not
 * reused at once, skipping ports still in use. The cursor is kept as an offset into the range
 * and wraps explicitly, so it stays valid however many ports are handed out (a plain counter
 * taken modulo the range goes negative after 2^31 and yields ports below the range).
 * Event-loop thread only.
 */
final class AliasPorts {
    static final int FIRST = 49152;
    static final int COUNT = 65536 - FIRST;

    /** Offset of the next port to try, always in [0, COUNT). */
    private int next;

    /** The next port {@code inUse} says is free, or -1 when every port of the range is taken. */
    int allocate(IntPredicate inUse) {
        for (int tried = 0; tried < COUNT; tried++) {
            int port = FIRST + next;
            next = next == COUNT - 1 ? 0 : next + 1;
            if (!inUse.test(port)) {
                return port;
            }
        }
        return -1;
    }
}
