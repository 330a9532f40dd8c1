package dev.rivet.virtio.vsock;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The host end of one vsock stream connection, as the device uses it: non-blocking reads
 * and writes with readiness signalled through the connection's {@link VsockConnection}.
 * Called only on the device's I/O threads, one call at a time per stream.
 *
 * <p>The buffers passed in may be views of guest memory: use them only during the call.
 */
public interface VsockStream {
    /**
     * Reads into {@code dst}'s remaining space. Returns the number of bytes read; 0 when the
     * host has nothing right now (the backend then calls {@link VsockConnection#readable()}
     * once data or end-of-stream arrives); -1 at end of stream (the host will send no more).
     * Throws when the host end broke (the device resets the connection).
     */
    int read(ByteBuffer dst) throws IOException;

    /**
     * Writes as much of {@code src}'s remaining bytes as the host takes now, advancing its
     * position. Returns the number taken; fewer than offered means the host is full (the
     * backend then calls {@link VsockConnection#writable()} once it has room). Throws when the
     * host end broke or stopped reading for good.
     */
    int write(ByteBuffer src) throws IOException;

    /** The guest will send no more (it shut down its sending side and all its data was written). */
    void shutdownOutput();

    /**
     * The connection is over (either side reset it, both finished, the device was reset) or,
     * for a connection the host started, the guest refused it. Release the host end; no
     * method is called after this one.
     */
    void close();

    /**
     * A connection the host started ({@link VsockHost#connectToGuest}) was accepted by the
     * guest; {@code hostPort} is the port the device gave the host end. Called before any
     * read or write.
     */
    default void established(int hostPort) {
    }
}
