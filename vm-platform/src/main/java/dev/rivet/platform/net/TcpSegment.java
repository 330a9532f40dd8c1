package dev.rivet.platform.net;

/**
 * A guest TCP segment (RFC 793 section 3.1 header; options from RFC 9293 section 3.2:
 * MSS, and window scale from RFC 7323) parsed in place. One instance is reused for every
 * segment, so parsing allocates nothing; it is valid only while the frame is handled.
 */
final class TcpSegment {
    static final int SRC_PORT = 0;
    static final int DST_PORT = 2;
    static final int SEQ = 4;
    static final int ACK_NUMBER = 8;
    static final int DATA_OFFSET = 12;
    static final int FLAGS = 13;
    static final int WINDOW = 14;
    static final int CHECKSUM = 16;
    static final int URGENT = 18;
    static final int HLEN = 20;

    static final int FIN = 0x01;
    static final int SYN = 0x02;
    static final int RST = 0x04;
    static final int PSH = 0x08;
    static final int ACK = 0x10;

    static final int OPT_END = 0;
    static final int OPT_NOP = 1;
    static final int OPT_MSS = 2;
    static final int OPT_WSCALE = 3;
    /** RFC 7323 section 2.3: shifts above 14 are treated as 14. */
    static final int MAX_WSCALE = 14;

    byte[] frame;
    int src;
    int dst;
    int srcPort;
    int dstPort;
    int seq;
    int ack;
    int flags;
    int window;
    int payload;
    int payloadLength;
    /** The MSS option's value, or -1. */
    int mss;
    /** The window scale option's shift, or -1. */
    int wscale;

    /**
     * Parses the segment at {@code off} ({@code length} bytes of IP payload). Returns false
     * when it is malformed; checksum errors are the caller's to count.
     */
    boolean parse(byte[] f, int off, int length, int srcIp, int dstIp) {
        if (length < HLEN) {
            return false;
        }
        int hlen = (f[off + DATA_OFFSET] >>> 4 & 0xf) * 4;
        if (hlen < HLEN || hlen > length) {
            return false;
        }
        frame = f;
        src = srcIp;
        dst = dstIp;
        srcPort = Packets.u16(f, off + SRC_PORT);
        dstPort = Packets.u16(f, off + DST_PORT);
        seq = Packets.i32(f, off + SEQ);
        ack = Packets.i32(f, off + ACK_NUMBER);
        flags = f[off + FLAGS] & 0x3f;
        window = Packets.u16(f, off + WINDOW);
        payload = off + hlen;
        payloadLength = length - hlen;
        mss = -1;
        wscale = -1;
        for (int p = off + HLEN, end = off + hlen; p < end; ) {
            int kind = f[p] & 0xff;
            if (kind == OPT_END) {
                break;
            }
            if (kind == OPT_NOP) {
                p++;
                continue;
            }
            if (p + 1 >= end) {
                return false;
            }
            int len = f[p + 1] & 0xff;
            if (len < 2 || p + len > end) {
                return false;
            }
            if (kind == OPT_MSS && len == 4) {
                mss = Packets.u16(f, p + 2);
            } else if (kind == OPT_WSCALE && len == 3) {
                wscale = Math.min(f[p + 2] & 0xff, MAX_WSCALE);
            }
            p += len;
        }
        return true;
    }

    boolean has(int flag) {
        return (flags & flag) != 0;
    }

    /** Sequence space the segment occupies: payload plus one for SYN and for FIN. */
    int sequenceLength() {
        return payloadLength + (has(SYN) ? 1 : 0) + (has(FIN) ? 1 : 0);
    }
}
