package dev.rivet.virtio.vsock;

import java.io.Closeable;

/**
 * The host side of a virtio-vsock device ({@link VirtioVsock}): where the guest's stream
 * connections to the host (CID 2) end up, and where host programs start connections to
 * ports the guest listens on. Implementations live with the host backends (vm-platform's
 * Unix-socket backend, in the style of Firecracker); the device sees only this interface.
 *
 * <p>Every connection's host end is a {@link VsockStream} the device reads and writes without
 * blocking; the backend tells the device through the connection's {@link VsockConnection}
 * when a stream that had nothing to give (or no room) is ready again. The device never
 * buffers more than the credit it advertised to the guest, and stops reading a host stream
 * while the guest gives no credit, so a slow side pushes back on the other instead of
 * filling memory.
 */
public interface VsockBackend extends Closeable {
    /**
     * Connects the backend to the device; called once by the device's constructor, before any
     * other method. From then on the backend may start connections to the guest
     * ({@link VsockHost#connectToGuest}) from any thread.
     */
    void start(VsockHost device);

    /**
     * The guest connects to host port {@code hostPort} from its port {@code guestPort}.
     * Returns the host end of the new connection, or null to refuse it (the guest gets a
     * RST, as from a port nobody listens on). Called on the device's I/O thread: it must not
     * block for long (a local socket connect is fine, a remote one is not). {@code connection}
     * is the device's handle for this connection's readiness signals.
     */
    VsockStream connect(int hostPort, int guestPort, VsockConnection connection);

    /** Stops accepting host connections and releases host sockets and threads; idempotent. */
    @Override
    void close();
}
