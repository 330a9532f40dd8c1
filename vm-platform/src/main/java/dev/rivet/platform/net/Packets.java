package dev.rivet.platform.net;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Byte-level helpers for the frames user-mode networking reads and writes: big-endian
 * field access, the Internet checksum (RFC 1071) and its TCP/UDP pseudo-header (RFC 793
 * section 3.1, RFC 768), and writers for the Ethernet II and IPv4 (RFC 791) headers.
 * IPv4 addresses are held as {@code int}s in network order (10.0.2.2 is 0x0a000202).
 */
final class Packets {
    static final int ETH_HLEN = 14;
    static final int ETH_DST = 0;
    static final int ETH_SRC = 6;
    static final int ETH_TYPE = 12;
    static final int ETHERTYPE_IPV4 = 0x0800;
    static final int ETHERTYPE_ARP = 0x0806;

    static final int IP_HLEN = 20;
    static final int IP_TOTAL_LENGTH = 2;
    static final int IP_ID = 4;
    static final int IP_FRAGMENT = 6;
    static final int IP_TTL = 8;
    static final int IP_PROTOCOL = 9;
    static final int IP_CHECKSUM = 10;
    static final int IP_SRC = 12;
    static final int IP_DST = 16;
    /** "More fragments" flag and the fragment offset mask in the flags/offset word. */
    static final int IP_MF = 0x2000;
    static final int IP_OFFSET_MASK = 0x1fff;
    static final int IP_DF = 0x4000;
    static final int PROTO_ICMP = 1;
    static final int PROTO_TCP = 6;
    static final int PROTO_UDP = 17;
    static final int DEFAULT_TTL = 64;

    static final int UDP_HLEN = 8;
    /** Ethernet payload the guest link carries: 1500-byte MTU. */
    static final int MTU = 1500;

    static final int BROADCAST_IP = 0xffffffff;
    static final byte[] BROADCAST_MAC = {-1, -1, -1, -1, -1, -1};

    private Packets() {
    }

    static int u8(byte[] b, int off) {
        return b[off] & 0xff;
    }

    static int u16(byte[] b, int off) {
        return (b[off] & 0xff) << 8 | (b[off + 1] & 0xff);
    }

    static int i32(byte[] b, int off) {
        return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
    }

    static void put16(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    static void put32(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    /** The unfolded one's-complement sum of {@code len} bytes, added to {@code sum}. */
    static long sum(byte[] b, int off, int len, long sum) {
        int end = off + (len & ~1);
        for (int i = off; i < end; i += 2) {
            sum += (b[i] & 0xff) << 8 | (b[i + 1] & 0xff);
        }
        if ((len & 1) != 0) {
            sum += (b[off + len - 1] & 0xff) << 8;
        }
        return sum;
    }

    /** The pseudo-header sum of TCP and UDP checksums. */
    static long pseudoSum(int src, int dst, int protocol, int length) {
        return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
    }

    /** Folds and complements a sum into the 16-bit checksum field value. */
    static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) (~sum & 0xffff);
    }

    /** The Internet checksum of {@code len} bytes: zero when a received header's checksum is right. */
    static int checksum(byte[] b, int off, int len) {
        return fold(sum(b, off, len, 0));
    }

    /** TCP/UDP checksum over the pseudo-header and {@code len} bytes at {@code off}. */
    static int transportChecksum(byte[] b, int off, int len, int src, int dst, int protocol) {
        return fold(sum(b, off, len, pseudoSum(src, dst, protocol, len)));
    }

    /** Writes an Ethernet II header; returns the offset of its payload. */
    static int writeEthernet(byte[] f, byte[] dst, byte[] src, int type) {
        System.arraycopy(dst, 0, f, ETH_DST, 6);
        System.arraycopy(src, 0, f, ETH_SRC, 6);
        put16(f, ETH_TYPE, type);
        return ETH_HLEN;
    }

    /**
     * Writes a 20-byte IPv4 header at {@code off} with its checksum, for a datagram of
     * {@code totalLength} bytes; {@code fragment} is the flags/offset word.
     */
    static void writeIpv4(byte[] f, int off, int protocol, int src, int dst, int totalLength, int id, int fragment) {
        f[off] = 0x45;
        f[off + 1] = 0;
        put16(f, off + IP_TOTAL_LENGTH, totalLength);
        put16(f, off + IP_ID, id);
        put16(f, off + IP_FRAGMENT, fragment);
        f[off + IP_TTL] = DEFAULT_TTL;
        f[off + IP_PROTOCOL] = (byte) protocol;
        put16(f, off + IP_CHECKSUM, 0);
        put32(f, off + IP_SRC, src);
        put32(f, off + IP_DST, dst);
        put16(f, off + IP_CHECKSUM, checksum(f, off, IP_HLEN));
    }

    static boolean isMulticastMac(byte[] f, int off) {
        return (f[off] & 1) != 0;
    }

    static boolean isBroadcastMac(byte[] f, int off) {
        for (int i = 0; i < 6; i++) {
            if (f[off + i] != -1) {
                return false;
            }
        }
        return true;
    }

    static boolean macEquals(byte[] f, int off, byte[] mac) {
        for (int i = 0; i < 6; i++) {
            if (f[off + i] != mac[i]) {
                return false;
            }
        }
        return true;
    }

    /** The host address of an IPv4 {@code int}. */
    static InetAddress inet(int ip) {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) (ip >>> 24), (byte) (ip >>> 16), (byte) (ip >>> 8), (byte) ip});
        } catch (UnknownHostException e) {
            throw new AssertionError("4 bytes are always an address", e);
        }
    }

    /** The {@code int} of an IPv4 address, or 0 for anything else (IPv6 has no guest-side form). */
    static int ip(InetAddress a) {
        if (!(a instanceof Inet4Address)) {
            return 0;
        }
        byte[] b = a.getAddress();
        return i32(b, 0);
    }

    /** A dotted-quad IPv4 address as an unsigned value, or -1 when {@code text} is not one. */
    static long parseIpv4(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return -1;
        }
        long ip = 0;
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return -1;
            }
            int v = Integer.parseInt(p);
            if (v > 255) {
                return -1;
            }
            ip = ip << 8 | v;
        }
        return ip;
    }

    static String ipString(int ip) {
        return (ip >>> 24) + "." + (ip >>> 16 & 0xff) + "." + (ip >>> 8 & 0xff) + "." + (ip & 0xff);
    }
}
