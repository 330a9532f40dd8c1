package dev.rivet.platform.net;

/**
 * The gateway's ARP responder (RFC 826, Ethernet/IPv4 only): answers who-has requests for
 * the gateway and DNS addresses with {@link VirtualNetwork#GATEWAY_MAC}. Requests for other
 * addresses (the guest probing its own lease, other hosts on the subnet) get no answer,
 * which is what the guest expects on a network with nobody else on it.
 */
final class Arp {
    static final int LENGTH = 28;
    static final int HTYPE_ETHERNET = 1;
    static final int OP_REQUEST = 1;
    static final int OP_REPLY = 2;
    private static final int HTYPE = 0;
    private static final int PTYPE = 2;
    private static final int HLEN = 4;
    private static final int PLEN = 5;
    private static final int OPER = 6;
    private static final int SHA = 8;
    private static final int SPA = 14;
    private static final int THA = 18;
    private static final int TPA = 24;

    private final GuestLink link;
    private final Counters counters;

    Arp(GuestLink link, Counters counters) {
        this.link = link;
        this.counters = counters;
    }

    /** Handles the ARP packet at {@code off} in a guest frame of {@code length} bytes. */
    void receive(byte[] f, int off, int length) {
        if (length - off < LENGTH || Packets.u16(f, off + HTYPE) != HTYPE_ETHERNET
                || Packets.u16(f, off + PTYPE) != Packets.ETHERTYPE_IPV4 || f[off + HLEN] != 6 || f[off + PLEN] != 4) {
            counters.add(UserNetCounter.DROP_MALFORMED);
            return;
        }
        int target = Packets.i32(f, off + TPA);
        if (Packets.u16(f, off + OPER) != OP_REQUEST || !VirtualNetwork.isService(target)) {
            return;
        }
        byte[] r = link.frame();
        int a = Packets.writeEthernet(r, link.guestMac(), VirtualNetwork.GATEWAY_MAC, Packets.ETHERTYPE_ARP);
        Packets.put16(r, a + HTYPE, HTYPE_ETHERNET);
        Packets.put16(r, a + PTYPE, Packets.ETHERTYPE_IPV4);
        r[a + HLEN] = 6;
        r[a + PLEN] = 4;
        Packets.put16(r, a + OPER, OP_REPLY);
        System.arraycopy(VirtualNetwork.GATEWAY_MAC, 0, r, a + SHA, 6);
        Packets.put32(r, a + SPA, target);
        System.arraycopy(f, off + SHA, r, a + THA, 6);
        System.arraycopy(f, off + SPA, r, a + TPA, 4);
        link.send(a + LENGTH);
    }
}
