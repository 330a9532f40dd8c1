package dev.rivet.platform.net;

/**
 * The addresses of the network the guest sees, QEMU's user-mode defaults (QEMU docs,
 * "Network options", {@code -netdev user}): 10.0.2.0/24, the gateway and host at 10.0.2.2,
 * the DNS forwarder at 10.0.2.3, DHCP handing out 10.0.2.15 onwards. The gateway answers ARP
 * with QEMU's MAC 52:55:0a:00:02:02 for both service addresses, so a guest configured for
 * QEMU finds the same neighbours here.
 */
final class VirtualNetwork {
    static final int NETWORK = 0x0a000200;
    static final int NETMASK = 0xffffff00;
    static final int BROADCAST = NETWORK | ~NETMASK;
    static final int GATEWAY = 0x0a000202;
    static final int DNS = 0x0a000203;
    static final int DHCP_START = 0x0a00020f;
    /** Leases DHCP hands out, like QEMU's pool of 16. */
    static final int DHCP_POOL_SIZE = 16;
    static final byte[] GATEWAY_MAC = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};
    /** The host's loopback address, which the guest reaches as {@link #GATEWAY}. */
    static final int HOST_LOOPBACK = 0x7f000001;
    static final int DNS_PORT = 53;

    private VirtualNetwork() {
    }

    static boolean inNetwork(int ip) {
        return (ip & NETMASK) == NETWORK;
    }

    /** An address the backend itself answers for (ARP, ICMP echo). */
    static boolean isService(int ip) {
        return ip == GATEWAY || ip == DNS;
    }

    /** Limited (255.255.255.255) or directed (10.0.2.255) broadcast. */
    static boolean isBroadcast(int ip) {
        return ip == Packets.BROADCAST_IP || ip == BROADCAST;
    }

    static boolean isMulticast(int ip) {
        return (ip >>> 28) == 0xe;
    }
}
