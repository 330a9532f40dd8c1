package dev.rivet.virtio.vsock;

/**
 * The device's end of one connection as its {@link VsockBackend} sees it: how the backend
 * reports that a {@link VsockStream} is ready again. Thread-safe, never blocks, never calls
 * back into the stream: the device does the work later on its own I/O thread.
 */
public interface VsockConnection {
    /** The stream has data or end-of-stream for a read that returned 0. */
    void readable();

    /** The stream has room again after a write that took less than offered. */
    void writable();

    /**
     * The host gives the connection up (a connect that timed out, a host error found outside
     * a read or write): the device resets it towards the guest and closes the stream.
     */
    void abort();
}
