package dev.rivet.platform.net;

import java.nio.ByteBuffer;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The test guest's own frame builder and parser, written from the RFCs independently of
 * the backend's {@link Packets} so a shared mistake cannot hide: Ethernet II, ARP, IPv4,
 * ICMP, UDP, TCP and DHCP. Parsing a frame from the backend also checks every checksum in it.
 */
final class GuestFrames {
    static final byte[] GUEST_MAC = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    static final byte[] GATEWAY_MAC = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};
    static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};
    static final int GUEST_IP = ip("10.0.2.15");
    static final int GATEWAY_IP = ip("10.0.2.2");
    static final int DNS_IP = ip("10.0.2.3");

    static final int FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16;

    private GuestFrames() {
    }

    static int ip(String dotted) {
        String[] p = dotted.split("\\.");
        return Integer.parseInt(p[0]) << 24 | Integer.parseInt(p[1]) << 16 | Integer.parseInt(p[2]) << 8 | Integer.parseInt(p[3]);
    }

    static String dotted(int ip) {
        return (ip >>> 24) + "." + (ip >>> 16 & 255) + "." + (ip >>> 8 & 255) + "." + (ip & 255);
    }

    static int cksum(byte[] b, int off, int len, long sum) {
        for (int i = 0; i + 1 < len; i += 2) {
            sum += ((b[off + i] & 255) << 8) | (b[off + i + 1] & 255);
        }
        if ((len & 1) == 1) {
            sum += (b[off + len - 1] & 255) << 8;
        }
        while (sum > 0xffff) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) (~sum & 0xffff);
    }

    static long pseudo(int src, int dst, int proto, int len) {
        return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
    }

    // ---- building ---------------------------------------------------------------------

    static byte[] ethernet(byte[] dst, int type, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(14 + payload.length);
        b.put(dst).put(GUEST_MAC).putShort((short) type).put(payload);
        return b.array();
    }

    static byte[] arpRequest(int senderIp, int targetIp) {
        ByteBuffer b = ByteBuffer.allocate(28);
        b.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 1)
                .put(GUEST_MAC).putInt(senderIp).put(new byte[6]).putInt(targetIp);
        return ethernet(BROADCAST, 0x0806, b.array());
    }

    /** An IPv4 packet in a frame to the gateway; {@code flagsFragment} is the flags/offset word. */
    static byte[] ipv4(int proto, int src, int dst, byte[] l4, int flagsFragment, byte[] options) {
        int hlen = 20 + options.length;
        byte[] ip = new byte[hlen + l4.length];
        ByteBuffer b = ByteBuffer.wrap(ip);
        b.put((byte) (0x40 | hlen / 4)).put((byte) 0).putShort((short) ip.length).putShort((short) 0x1234)
                .putShort((short) flagsFragment).put((byte) 64).put((byte) proto).putShort((short) 0)
                .putInt(src).putInt(dst).put(options).put(l4);
        int c = cksum(ip, 0, hlen, 0);
        ip[10] = (byte) (c >>> 8);
        ip[11] = (byte) c;
        return ethernet(dst == 0xffffffff ? BROADCAST : GATEWAY_MAC, 0x0800, ip);
    }

    static byte[] ipv4(int proto, int src, int dst, byte[] l4) {
        return ipv4(proto, src, dst, l4, 0x4000, new byte[0]);
    }

    static byte[] icmpEcho(int src, int dst, int id, int seq, byte[] data) {
        byte[] m = new byte[8 + data.length];
        ByteBuffer.wrap(m).put((byte) 8).put((byte) 0).putShort((short) 0).putShort((short) id).putShort((short) seq).put(data);
        int c = cksum(m, 0, m.length, 0);
        m[2] = (byte) (c >>> 8);
        m[3] = (byte) c;
        return ipv4(1, src, dst, m);
    }

    static byte[] udpSegment(int src, int sport, int dst, int dport, byte[] data) {
        byte[] u = new byte[8 + data.length];
        ByteBuffer.wrap(u).putShort((short) sport).putShort((short) dport).putShort((short) u.length).putShort((short) 0).put(data);
        int c = cksum(u, 0, u.length, pseudo(src, dst, 17, u.length));
        if (c == 0) {
            c = 0xffff;
        }
        u[6] = (byte) (c >>> 8);
        u[7] = (byte) c;
        return u;
    }

    static byte[] udp(int src, int sport, int dst, int dport, byte[] data) {
        return ipv4(17, src, dst, udpSegment(src, sport, dst, dport, data));
    }

    static byte[] tcp(int src, int sport, int dst, int dport, int seq, int ack, int flags, int window, byte[] options,
                      byte[] data, int dataOff, int dataLen) {
        int hlen = 20 + options.length;
        byte[] t = new byte[hlen + dataLen];
        ByteBuffer.wrap(t).putShort((short) sport).putShort((short) dport).putInt(seq).putInt(ack)
                .put((byte) (hlen / 4 << 4)).put((byte) flags).putShort((short) window).putShort((short) 0)
                .putShort((short) 0).put(options).put(data, dataOff, dataLen);
        int c = cksum(t, 0, t.length, pseudo(src, dst, 6, t.length));
        t[16] = (byte) (c >>> 8);
        t[17] = (byte) c;
        return ipv4(6, src, dst, t);
    }

    static byte[] tcp(int src, int sport, int dst, int dport, int seq, int ack, int flags, int window) {
        return tcp(src, sport, dst, dport, seq, ack, flags, window, new byte[0], new byte[0], 0, 0);
    }

    /** MSS and window scale options, as a SYN carries them. */
    static byte[] synOptions(int mss, int wscale) {
        if (wscale < 0) {
            return new byte[] {2, 4, (byte) (mss >>> 8), (byte) mss};
        }
        return new byte[] {2, 4, (byte) (mss >>> 8), (byte) mss, 1, 3, 3, (byte) wscale};
    }

    /** A DHCP client message (RFC 2131 section 2) with the given options (code, length, value... without END). */
    static byte[] dhcp(int type, int xid, boolean broadcast, int ciaddr, byte[] mac, byte[] extraOptions) {
        ByteBuffer b = ByteBuffer.allocate(300);
        b.put((byte) 1).put((byte) 1).put((byte) 6).put((byte) 0).putInt(xid).putShort((short) 0)
                .putShort((short) (broadcast ? 0x8000 : 0)).putInt(ciaddr).putInt(0).putInt(0).putInt(0)
                .put(mac).put(new byte[10]).put(new byte[192]).putInt(0x63825363)
                .put((byte) 53).put((byte) 1).put((byte) type).put(extraOptions).put((byte) 255);
        return udp(ciaddr, 68, ciaddr == 0 ? 0xffffffff : GATEWAY_IP, 67, b.array());
    }

    // ---- parsing ----------------------------------------------------------------------

    /** A frame from the backend, fields decoded; checksums verified by {@link #parse}. */
    static final class Parsed {
        byte[] frame;
        byte[] dstMac;
        byte[] srcMac;
        int etherType;
        int ipOff;
        int proto;
        int src;
        int dst;
        int ipId;
        int fragment;
        int l4;
        int l4Length;
        int sport;
        int dport;
        int seq;
        int ack;
        int flags;
        int window;
        int mss = -1;
        int wscale = -1;
        int data;
        int dataLength;

        byte[] payload() {
            return Arrays.copyOfRange(frame, data, data + dataLength);
        }

        boolean isTcp() {
            return etherType == 0x0800 && proto == 6;
        }

        boolean isUdp() {
            return etherType == 0x0800 && proto == 17;
        }

        boolean has(int flag) {
            return (flags & flag) != 0;
        }

        boolean moreFragments() {
            return (fragment & 0x2000) != 0;
        }

        int fragmentOffset() {
            return (fragment & 0x1fff) * 8;
        }

        @Override
        public String toString() {
            if (isTcp()) {
                return "TCP " + dotted(src) + ":" + sport + " > " + dotted(dst) + ":" + dport + " flags=0x"
                        + Integer.toHexString(flags) + " seq=" + Integer.toUnsignedString(seq) + " ack="
                        + Integer.toUnsignedString(ack) + " win=" + window + " len=" + dataLength;
            }
            return "frame type=0x" + Integer.toHexString(etherType) + " proto=" + proto + " len=" + frame.length;
        }
    }

    static Parsed parse(byte[] f) {
        Parsed p = new Parsed();
        p.frame = f;
        assertTrue(f.length >= 14, "runt frame");
        p.dstMac = Arrays.copyOfRange(f, 0, 6);
        p.srcMac = Arrays.copyOfRange(f, 6, 12);
        p.etherType = (f[12] & 255) << 8 | (f[13] & 255);
        if (p.etherType != 0x0800) {
            p.data = 14;
            p.dataLength = f.length - 14;
            return p;
        }
        ByteBuffer b = ByteBuffer.wrap(f);
        p.ipOff = 14;
        int hlen = (f[14] & 15) * 4;
        int total = b.getShort(16) & 0xffff;
        assertEquals(20, hlen, "backend IPv4 headers have no options");
        assertTrue(14 + total <= f.length, "IPv4 total length within the frame");
        assertEquals(0, cksum(f, 14, hlen, 0), "IPv4 header checksum");
        p.ipId = b.getShort(18) & 0xffff;
        p.fragment = b.getShort(20) & 0xffff;
        p.proto = f[23] & 255;
        p.src = b.getInt(26);
        p.dst = b.getInt(30);
        p.l4 = 14 + hlen;
        p.l4Length = total - hlen;
        boolean fragmented = p.moreFragments() || p.fragmentOffset() != 0;
        if (fragmented) {
            p.data = p.l4;
            p.dataLength = p.l4Length;
            return p;
        }
        switch (p.proto) {
            case 1 -> {
                assertEquals(0, cksum(f, p.l4, p.l4Length, 0), "ICMP checksum");
                p.data = p.l4;
                p.dataLength = p.l4Length;
            }
            case 17 -> {
                assertEquals(0, cksum(f, p.l4, p.l4Length, pseudo(p.src, p.dst, 17, p.l4Length)), "UDP checksum");
                p.sport = b.getShort(p.l4) & 0xffff;
                p.dport = b.getShort(p.l4 + 2) & 0xffff;
                assertEquals(p.l4Length, b.getShort(p.l4 + 4) & 0xffff, "UDP length");
                p.data = p.l4 + 8;
                p.dataLength = p.l4Length - 8;
            }
            case 6 -> {
                assertEquals(0, cksum(f, p.l4, p.l4Length, pseudo(p.src, p.dst, 6, p.l4Length)), "TCP checksum");
                p.sport = b.getShort(p.l4) & 0xffff;
                p.dport = b.getShort(p.l4 + 2) & 0xffff;
                p.seq = b.getInt(p.l4 + 4);
                p.ack = b.getInt(p.l4 + 8);
                int thlen = (f[p.l4 + 12] >>> 4 & 15) * 4;
                p.flags = f[p.l4 + 13] & 0x3f;
                p.window = b.getShort(p.l4 + 14) & 0xffff;
                for (int o = p.l4 + 20; o < p.l4 + thlen; ) {
                    int kind = f[o] & 255;
                    if (kind == 0) {
                        break;
                    }
                    if (kind == 1) {
                        o++;
                        continue;
                    }
                    int len = f[o + 1] & 255;
                    if (kind == 2) {
                        p.mss = b.getShort(o + 2) & 0xffff;
                    } else if (kind == 3) {
                        p.wscale = f[o + 2] & 255;
                    }
                    o += len;
                }
                p.data = p.l4 + thlen;
                p.dataLength = p.l4Length - thlen;
            }
            default -> {
                p.data = p.l4;
                p.dataLength = p.l4Length;
            }
        }
        return p;
    }
}
