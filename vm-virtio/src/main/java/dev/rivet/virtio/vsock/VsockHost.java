package dev.rivet.virtio.vsock;

/**
 * The device as its {@link VsockBackend} sees it (given to {@link VsockBackend#start}):
 * its guest's address and the way to start connections to ports the guest listens on.
 * Thread-safe; never blocks.
 */
public interface VsockHost {
    /** The guest's context ID (the device's {@code guest_cid}). */
    long guestCid();

    /**
     * Asks the guest to accept a connection on its port {@code guestPort}, with {@code stream}
     * as the host end. The device later calls {@link VsockStream#established} (then reads and
     * writes it) if the guest accepts, or {@link VsockStream#close} if it refuses, if the
     * device is not running, or if there are too many connections. Returns the device's handle
     * for the connection's readiness signals (and for giving up with
     * {@link VsockConnection#abort()}, e.g. after a timeout).
     */
    VsockConnection connectToGuest(int guestPort, VsockStream stream);
}
