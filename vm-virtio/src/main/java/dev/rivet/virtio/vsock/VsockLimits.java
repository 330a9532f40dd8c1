package dev.rivet.virtio.vsock;

/**
 * How much host memory a guest may make the vsock device hold. {@code bufAlloc} is the
 * receive buffer the device advertises per connection (the {@code buf_alloc} of VirtIO 1.2
 * section 5.10.6.3): guest data the host has not taken yet is kept up to that much, and a
 * guest that sends beyond it loses the connection. {@code maxConnections} bounds live
 * connections (either direction, connecting and closing ones included); a connection
 * beyond it is refused. So guest data held by the device never exceeds
 * {@code bufAlloc * maxConnections}, and is allocated only while a host end is slower than
 * the guest.
 */
public record VsockLimits(int bufAlloc, int maxConnections) {
    /** Linux's own default socket buffer (256 KiB) and a generous connection count. */
    public static final VsockLimits DEFAULT = new VsockLimits(256 * 1024, 128);

    public static final int MAX_BUF_ALLOC = 64 << 20;
    public static final int MAX_CONNECTIONS = 65536;

    public VsockLimits {
        if (bufAlloc < 1 || bufAlloc > MAX_BUF_ALLOC) {
            throw new IllegalArgumentException("vsock buffer size must be 1.." + MAX_BUF_ALLOC + ": " + bufAlloc);
        }
        if (maxConnections < 1 || maxConnections > MAX_CONNECTIONS) {
            throw new IllegalArgumentException("vsock connection limit must be 1.." + MAX_CONNECTIONS + ": "
                    + maxConnections);
        }
    }
}
