package dev.rivet.platform.net;

import java.util.HashMap;
import java.util.Map;

/**
 * The DHCP server of the virtual network (RFC 2131, options from RFC 2132), enough for
 * busybox {@code udhcpc}, systemd-networkd and dhclient: DISCOVER is answered with an OFFER,
 * REQUEST with an ACK (or a NAK for an address that is not the client's), RELEASE frees the
 * lease and INFORM gets the options without an address. Leases come from a pool of
 * {@link VirtualNetwork#DHCP_POOL_SIZE} addresses from 10.0.2.15, one per client hardware
 * address, and last as long as the backend (a lease time is announced so clients renew, and
 * renewals are granted).
 *
 * <p>Replies go where RFC 2131 section 4.1 says for a server without relay agents: to the
 * client's {@code ciaddr} when it has one, broadcast when the client set the BROADCAST flag
 * (or for a NAK), otherwise unicast to the offered address at the client's hardware address.
 */
final class DhcpServer {
    static final int SERVER_PORT = 67;
    static final int CLIENT_PORT = 68;

    static final int OP = 0;
    static final int HTYPE = 1;
    static final int HLEN = 2;
    static final int XID = 4;
    static final int FLAGS = 10;
    static final int CIADDR = 12;
    static final int YIADDR = 16;
    static final int SIADDR = 20;
    static final int GIADDR = 24;
    static final int CHADDR = 28;
    static final int COOKIE = 236;
    static final int OPTIONS = 240;
    static final int MAGIC_COOKIE = 0x63825363;
    static final int FLAG_BROADCAST = 0x8000;
    static final int BOOTREQUEST = 1;
    static final int BOOTREPLY = 2;
    /** BOOTP's minimum message (RFC 1542 section 2.1); some clients drop shorter replies. */
    static final int MIN_MESSAGE = 300;

    static final int OPT_PAD = 0;
    static final int OPT_SUBNET_MASK = 1;
    static final int OPT_ROUTER = 3;
    static final int OPT_DNS = 6;
    static final int OPT_BROADCAST_ADDRESS = 28;
    static final int OPT_REQUESTED_IP = 50;
    static final int OPT_LEASE_TIME = 51;
    static final int OPT_MESSAGE_TYPE = 53;
    static final int OPT_SERVER_ID = 54;
    static final int OPT_RENEWAL_TIME = 58;
    static final int OPT_REBINDING_TIME = 59;
    static final int OPT_END = 255;

    static final int DISCOVER = 1;
    static final int OFFER = 2;
    static final int REQUEST = 3;
    static final int DECLINE = 4;
    static final int ACK = 5;
    static final int NAK = 6;
    static final int RELEASE = 7;
    static final int INFORM = 8;

    /** Announced lease: a day, like QEMU; clients renew at half and rebind at 7/8 of it. */
    static final int LEASE_SECONDS = 86_400;

    private final GuestLink link;
    private final Counters counters;
    /** Client hardware address (48 bits) to leased address. */
    private final Map<Long, Integer> leases = new HashMap<>();
    /** The address most recently acknowledged: where forwarded connections go. */
    private int lastAcked;

    DhcpServer(GuestLink link, Counters counters) {
        this.link = link;
        this.counters = counters;
    }

    /** The guest's address: the last one acknowledged, or the first of the pool. */
    int guestAddress() {
        return lastAcked != 0 ? lastAcked : VirtualNetwork.DHCP_START;
    }

    /** Handles a BOOTP/DHCP message ({@code length} bytes at {@code off}) sent to port 67. */
    void receive(byte[] f, int off, int length) {
        if (length < OPTIONS || f[off + OP] != BOOTREQUEST || f[off + HTYPE] != Arp.HTYPE_ETHERNET
                || f[off + HLEN] != 6 || Packets.i32(f, off + COOKIE) != MAGIC_COOKIE) {
            counters.add(UserNetCounter.DROP_DHCP);
            return;
        }
        int type = -1, requested = 0, serverId = 0;
        int end = off + length;
        for (int p = off + OPTIONS; p < end; ) {
            int code = f[p] & 0xff;
            if (code == OPT_END) {
                break;
            }
            if (code == OPT_PAD) {
                p++;
                continue;
            }
            if (p + 2 > end || p + 2 + (f[p + 1] & 0xff) > end) {
                counters.add(UserNetCounter.DROP_DHCP);
                return;
            }
            int len = f[p + 1] & 0xff;
            int v = p + 2;
            if (code == OPT_MESSAGE_TYPE && len == 1) {
                type = f[v] & 0xff;
            } else if (code == OPT_REQUESTED_IP && len == 4) {
                requested = Packets.i32(f, v);
            } else if (code == OPT_SERVER_ID && len == 4) {
                serverId = Packets.i32(f, v);
            }
            p = v + len;
        }
        long mac = mac(f, off + CHADDR);
        int ciaddr = Packets.i32(f, off + CIADDR);
        switch (type) {
            case DISCOVER -> {
                int ip = lease(mac, requested);
                if (ip == 0) {
                    counters.add(UserNetCounter.DROP_DHCP);
                    return;
                }
                reply(f, off, OFFER, ip);
            }
            case REQUEST -> {
                if (serverId != 0 && serverId != VirtualNetwork.GATEWAY) {
                    return; // the client chose another server's offer
                }
                int wanted = requested != 0 ? requested : ciaddr;
                Integer held = leases.get(mac);
                int ip = held != null ? held : lease(mac, wanted);
                if (wanted == 0 || ip != wanted) {
                    reply(f, off, NAK, 0);
                    return;
                }
                lastAcked = ip;
                reply(f, off, ACK, ip);
            }
            case INFORM -> reply(f, off, ACK, 0);
            case RELEASE -> {
                Integer held = leases.get(mac);
                if (held != null && held == ciaddr) {
                    leases.remove(mac);
                }
            }
            case DECLINE -> leases.remove(mac);
            default -> counters.add(UserNetCounter.DROP_DHCP);
        }
    }

    /** The client's lease, else {@code wanted} when it is a free pool address, else the lowest free one; 0 if none. */
    private int lease(long mac, int wanted) {
        Integer held = leases.get(mac);
        if (held != null) {
            return held;
        }
        int ip = inPool(wanted) && !leases.containsValue(wanted) ? wanted : 0;
        for (int i = 0; ip == 0 && i < VirtualNetwork.DHCP_POOL_SIZE; i++) {
            int candidate = VirtualNetwork.DHCP_START + i;
            if (!leases.containsValue(candidate)) {
                ip = candidate;
            }
        }
        if (ip != 0) {
            leases.put(mac, ip);
        }
        return ip;
    }

    private static boolean inPool(int ip) {
        return ip - VirtualNetwork.DHCP_START >= 0 && ip - VirtualNetwork.DHCP_START < VirtualNetwork.DHCP_POOL_SIZE;
    }

    private static long mac(byte[] f, int off) {
        long m = 0;
        for (int i = 0; i < 6; i++) {
            m = m << 8 | (f[off + i] & 0xff);
        }
        return m;
    }

    /** Sends an OFFER, ACK or NAK answering the request at {@code off}; {@code yiaddr} 0 for NAK and INFORM. */
    private void reply(byte[] req, int off, int type, int yiaddr) {
        byte[] r = link.frame();
        int ciaddr = Packets.i32(req, off + CIADDR);
        boolean broadcast = type == NAK || (ciaddr == 0 && (Packets.u16(req, off + FLAGS) & FLAG_BROADCAST) != 0);
        int dstIp = broadcast ? Packets.BROADCAST_IP : ciaddr != 0 ? ciaddr : yiaddr;
        byte[] dstMac = broadcast ? Packets.BROADCAST_MAC : chaddr(req, off);

        int m = Packets.ETH_HLEN + Packets.IP_HLEN + Packets.UDP_HLEN;
        java.util.Arrays.fill(r, m, m + MIN_MESSAGE + 64, (byte) 0);
        r[m + OP] = BOOTREPLY;
        r[m + HTYPE] = Arp.HTYPE_ETHERNET;
        r[m + HLEN] = 6;
        System.arraycopy(req, off + XID, r, m + XID, 4);
        System.arraycopy(req, off + FLAGS, r, m + FLAGS, 2);
        if (type != NAK) {
            System.arraycopy(req, off + CIADDR, r, m + CIADDR, 4);
        }
        Packets.put32(r, m + YIADDR, yiaddr);
        Packets.put32(r, m + SIADDR, type == NAK ? 0 : VirtualNetwork.GATEWAY);
        System.arraycopy(req, off + GIADDR, r, m + GIADDR, 4);
        System.arraycopy(req, off + CHADDR, r, m + CHADDR, 16);
        Packets.put32(r, m + COOKIE, MAGIC_COOKIE);
        int p = m + OPTIONS;
        p = option8(r, p, OPT_MESSAGE_TYPE, type);
        p = option32(r, p, OPT_SERVER_ID, VirtualNetwork.GATEWAY);
        if (type != NAK) {
            if (yiaddr != 0) {
                p = option32(r, p, OPT_LEASE_TIME, LEASE_SECONDS);
                p = option32(r, p, OPT_RENEWAL_TIME, LEASE_SECONDS / 2);
                p = option32(r, p, OPT_REBINDING_TIME, LEASE_SECONDS / 8 * 7);
            }
            p = option32(r, p, OPT_SUBNET_MASK, VirtualNetwork.NETMASK);
            p = option32(r, p, OPT_ROUTER, VirtualNetwork.GATEWAY);
            p = option32(r, p, OPT_DNS, VirtualNetwork.DNS);
            p = option32(r, p, OPT_BROADCAST_ADDRESS, VirtualNetwork.BROADCAST);
        }
        r[p++] = (byte) OPT_END;
        int messageLength = Math.max(p - m, MIN_MESSAGE);
        int u = Packets.writeEthernet(r, dstMac, VirtualNetwork.GATEWAY_MAC, Packets.ETHERTYPE_IPV4) + Packets.IP_HLEN;
        Packets.writeIpv4(r, Packets.ETH_HLEN, Packets.PROTO_UDP, VirtualNetwork.GATEWAY, dstIp,
                Packets.IP_HLEN + Packets.UDP_HLEN + messageLength, link.nextIpId(), 0);
        Udp.writeHeader(r, u, SERVER_PORT, CLIENT_PORT, messageLength, VirtualNetwork.GATEWAY, dstIp);
        counters.add(UserNetCounter.DHCP_REPLIES); // before sending: whoever sees the reply sees it counted
        link.send(u + Packets.UDP_HLEN + messageLength);
    }

    private static byte[] chaddr(byte[] req, int off) {
        byte[] mac = new byte[6];
        System.arraycopy(req, off + CHADDR, mac, 0, 6);
        return mac;
    }

    private static int option8(byte[] r, int p, int code, int value) {
        r[p] = (byte) code;
        r[p + 1] = 1;
        r[p + 2] = (byte) value;
        return p + 3;
    }

    private static int option32(byte[] r, int p, int code, int value) {
        r[p] = (byte) code;
        r[p + 1] = 4;
        Packets.put32(r, p + 2, value);
        return p + 6;
    }
}
