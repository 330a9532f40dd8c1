package dev.rivet.virtio.p9;

/**
 * A request that fails with a Linux errno, answered with Rlerror. Thrown on the guest's
 * ordinary error paths, so it carries no stack trace.
 */
final class P9Error extends RuntimeException {
    private final int errno;

    P9Error(int errno, String why) {
        super(why, null, false, false);
        this.errno = errno;
    }

    P9Error(int errno) {
        this(errno, "errno " + errno);
    }

    int errno() {
        return errno;
    }
}
