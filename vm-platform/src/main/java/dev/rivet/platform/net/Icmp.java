package dev.rivet.platform.net;

/**
 * ICMP (RFC 792) for the backend's own addresses: echo requests to the gateway or the DNS
 * address are answered with an echo reply carrying the same identifier, sequence number
 * and data. Echo to outside hosts would need raw or ping sockets, which Java lacks; such
 * requests and all other ICMP types are dropped and counted.
 */
final class Icmp {
    static final int TYPE_ECHO_REPLY = 0;
    static final int TYPE_ECHO_REQUEST = 8;
    static final int HEADER = 8;

    private final GuestLink link;
    private final Counters counters;

    Icmp(GuestLink link, Counters counters) {
        this.link = link;
        this.counters = counters;
    }

    /** Handles the ICMP message at {@code off} ({@code length} bytes) from {@code src} to {@code dst}. */
    void receive(byte[] f, int off, int length, int src, int dst) {
        if (length < HEADER) {
            counters.add(UserNetCounter.DROP_MALFORMED);
            return;
        }
        if (Packets.checksum(f, off, length) != 0) {
            counters.add(UserNetCounter.DROP_BAD_CHECKSUM);
            return;
        }
        if (f[off] != TYPE_ECHO_REQUEST || f[off + 1] != 0 || !VirtualNetwork.isService(dst)) {
            counters.add(UserNetCounter.DROP_UNSUPPORTED);
            return;
        }
        byte[] r = link.frame();
        int p = link.ipv4(Packets.PROTO_ICMP, dst, src, length);
        System.arraycopy(f, off, r, p, length);
        r[p] = TYPE_ECHO_REPLY;
        Packets.put16(r, p + 2, 0);
        Packets.put16(r, p + 2, Packets.checksum(r, p, length));
        // Counted before it is sent: whoever sees the reply must see it counted.
        counters.add(UserNetCounter.ICMP_ECHO_REPLIES);
        link.send(p + length);
    }
}
