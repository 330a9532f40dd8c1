package dev.rivet.platform.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;

/**
 * UDP (RFC 768) on the guest side: checks guest datagrams and routes them to DHCP, the DNS
 * forwarder, a port-forward session or outbound NAT; and writes datagrams to the guest,
 * splitting those larger than the MTU into IPv4 fragments (RFC 791 section 2.3) the guest
 * reassembles, so a large DNS answer arrives whole.
 */
final class Udp {
    static final int SRC_PORT = 0;
    static final int DST_PORT = 2;
    static final int LENGTH = 4;
    static final int CHECKSUM = 6;
    /** Largest UDP payload in one IPv4 datagram. */
    static final int MAX_PAYLOAD = 65_535 - Packets.IP_HLEN - Packets.UDP_HLEN;
    /** Fragment payloads are multiples of 8 bytes (the offset field's unit). */
    private static final int FRAGMENT_PAYLOAD = (Packets.MTU - Packets.IP_HLEN) & ~7;

    private final GuestLink link;
    private final Counters counters;
    private final DhcpServer dhcp;
    private final UserNetOptions.Restrict restrict;
    private UdpNat nat;
    /** Whole outgoing datagram (UDP header and payload) before it is cut into frames. */
    private final byte[] datagram = new byte[Packets.UDP_HLEN + MAX_PAYLOAD];

    Udp(GuestLink link, Counters counters, DhcpServer dhcp, UserNetOptions.Restrict restrict) {
        this.link = link;
        this.counters = counters;
        this.dhcp = dhcp;
        this.restrict = restrict;
    }

    /** Where datagrams for hosts go; set once, right after construction (the NAT sends through this class). */
    void route(UdpNat nat) {
        this.nat = nat;
    }

    /**
     * Host datagram sockets read into buffers that hold the largest datagram: Netty's
     * default of 2 KiB would silently truncate, say, a large DNS answer.
     */
    static RecvByteBufAllocator receiveAllocator() {
        return new FixedRecvByteBufAllocator(MAX_PAYLOAD);
    }

    /** Writes a UDP header at {@code off} for {@code payloadLength} bytes already in place after it, with its checksum. */
    static void writeHeader(byte[] f, int off, int srcPort, int dstPort, int payloadLength, int src, int dst) {
        int length = Packets.UDP_HLEN + payloadLength;
        Packets.put16(f, off + SRC_PORT, srcPort);
        Packets.put16(f, off + DST_PORT, dstPort);
        Packets.put16(f, off + LENGTH, length);
        Packets.put16(f, off + CHECKSUM, 0);
        int sum = Packets.transportChecksum(f, off, length, src, dst, Packets.PROTO_UDP);
        Packets.put16(f, off + CHECKSUM, sum == 0 ? 0xffff : sum);
    }

    /** Handles the UDP datagram at {@code off} ({@code length} bytes of IP payload) from {@code src} to {@code dst}. */
    void receive(byte[] f, int off, int length, int src, int dst) {
        if (length < Packets.UDP_HLEN || Packets.u16(f, off + LENGTH) < Packets.UDP_HLEN
                || Packets.u16(f, off + LENGTH) > length) {
            counters.add(UserNetCounter.DROP_MALFORMED);
            return;
        }
        length = Packets.u16(f, off + LENGTH);
        if (Packets.u16(f, off + CHECKSUM) != 0 && Packets.transportChecksum(f, off, length, src, dst, Packets.PROTO_UDP) != 0) {
            counters.add(UserNetCounter.DROP_BAD_CHECKSUM);
            return;
        }
        int srcPort = Packets.u16(f, off + SRC_PORT);
        int dstPort = Packets.u16(f, off + DST_PORT);
        int data = off + Packets.UDP_HLEN;
        int dataLength = length - Packets.UDP_HLEN;
        if (dstPort == DhcpServer.SERVER_PORT && (dst == VirtualNetwork.GATEWAY || VirtualNetwork.isBroadcast(dst))) {
            dhcp.receive(f, data, dataLength);
            return;
        }
        if (!VirtualNetwork.inNetwork(src) || VirtualNetwork.isBroadcast(dst) || VirtualNetwork.isMulticast(dst)) {
            counters.add(UserNetCounter.DROP_NOT_FOR_US);
            return;
        }
        if (dst == VirtualNetwork.DNS) {
            if (dstPort == VirtualNetwork.DNS_PORT) {
                nat.fromGuest(f, data, dataLength, src, srcPort, dst, dstPort, true);
            } else {
                counters.add(UserNetCounter.DROP_NOT_FOR_US);
            }
            return;
        }
        if (dst == VirtualNetwork.GATEWAY && nat.toForward(f, data, dataLength, src, srcPort, dstPort)) {
            return;
        }
        if (VirtualNetwork.inNetwork(dst) && dst != VirtualNetwork.GATEWAY) {
            counters.add(UserNetCounter.DROP_NOT_FOR_US);
            return;
        }
        if (!restrict.allows(dst)) {
            counters.add(UserNetCounter.DROP_RESTRICTED);
            return;
        }
        nat.fromGuest(f, data, dataLength, src, srcPort, dst, dstPort, false);
    }

    /** Sends {@code payload}'s readable bytes to the guest as a datagram from {@code src:srcPort}. */
    void toGuest(int src, int srcPort, int dst, int dstPort, ByteBuf payload) {
        int n = payload.readableBytes();
        if (n > MAX_PAYLOAD) {
            counters.add(UserNetCounter.DROP_UDP);
            return;
        }
        payload.getBytes(payload.readerIndex(), datagram, Packets.UDP_HLEN, n);
        writeHeader(datagram, 0, srcPort, dstPort, n, src, dst);
        int total = Packets.UDP_HLEN + n;
        int id = link.nextIpId();
        byte[] fr = link.frame();
        for (int at = 0; at < total; at += FRAGMENT_PAYLOAD) {
            int len = Math.min(FRAGMENT_PAYLOAD, total - at);
            boolean more = at + len < total;
            int ip = Packets.writeEthernet(fr, link.guestMac(), VirtualNetwork.GATEWAY_MAC, Packets.ETHERTYPE_IPV4);
            int fragment = (more ? Packets.IP_MF : 0) | (at >>> 3);
            Packets.writeIpv4(fr, ip, Packets.PROTO_UDP, src, dst, Packets.IP_HLEN + len, id,
                    total <= FRAGMENT_PAYLOAD ? Packets.IP_DF : fragment);
            System.arraycopy(datagram, at, fr, ip + Packets.IP_HLEN, len);
            if (!link.send(ip + Packets.IP_HLEN + len)) {
                counters.add(UserNetCounter.DROP_UDP);
                return;
            }
        }
    }
}
