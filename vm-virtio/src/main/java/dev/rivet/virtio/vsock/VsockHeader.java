package dev.rivet.virtio.vsock;

/**
 * {@code struct virtio_vsock_hdr} (VirtIO 1.2 section 5.10.6), 44 bytes little-endian:
 *
 * <pre>
 * le64 src_cid; le64 dst_cid; le32 src_port; le32 dst_port; le32 len;
 * le16 type; le16 op; le32 flags; le32 buf_alloc; le32 fwd_cnt;
 * </pre>
 *
 * A mutable holder reused for every packet; the u32 fields stay in {@code int}s and are
 * compared unsigned where it matters.
 */
final class VsockHeader {
    static final int SIZE = 44;

    static final int SRC_CID = 0;
    static final int DST_CID = 8;
    static final int SRC_PORT = 16;
    static final int DST_PORT = 20;
    static final int LEN = 24;
    static final int TYPE = 28;
    static final int OP = 30;
    static final int FLAGS = 32;
    static final int BUF_ALLOC = 36;
    static final int FWD_CNT = 40;

    long srcCid;
    long dstCid;
    int srcPort;
    int dstPort;
    int len;
    int type;
    int op;
    int flags;
    int bufAlloc;
    int fwdCnt;

    void decode(byte[] b) {
        srcCid = le64(b, SRC_CID);
        dstCid = le64(b, DST_CID);
        srcPort = le32(b, SRC_PORT);
        dstPort = le32(b, DST_PORT);
        len = le32(b, LEN);
        type = le16(b, TYPE);
        op = le16(b, OP);
        flags = le32(b, FLAGS);
        bufAlloc = le32(b, BUF_ALLOC);
        fwdCnt = le32(b, FWD_CNT);
    }

    void encode(byte[] b) {
        put(b, SRC_CID, srcCid, 8);
        put(b, DST_CID, dstCid, 8);
        put(b, SRC_PORT, srcPort, 4);
        put(b, DST_PORT, dstPort, 4);
        put(b, LEN, len, 4);
        put(b, TYPE, type, 2);
        put(b, OP, op, 2);
        put(b, FLAGS, flags, 4);
        put(b, BUF_ALLOC, bufAlloc, 4);
        put(b, FWD_CNT, fwdCnt, 4);
    }

    @Override
    public String toString() {
        return String.format("%d:%d -> %d:%d op %d type %d len %d flags %d buf_alloc %d fwd_cnt %d", srcCid,
                srcPort & 0xFFFF_FFFFL, dstCid, dstPort & 0xFFFF_FFFFL, op, type, len & 0xFFFF_FFFFL, flags,
                bufAlloc & 0xFFFF_FFFFL, fwdCnt & 0xFFFF_FFFFL);
    }

    private static void put(byte[] b, int off, long v, int n) {
        for (int i = 0; i < n; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }

    private static int le16(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8;
    }

    private static int le32(byte[] b, int off) {
        return le16(b, off) | le16(b, off + 2) << 16;
    }

    private static long le64(byte[] b, int off) {
        return (le32(b, off) & 0xFFFF_FFFFL) | (long) le32(b, off + 4) << 32;
    }
}
