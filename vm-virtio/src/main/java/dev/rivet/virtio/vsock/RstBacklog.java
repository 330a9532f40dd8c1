package dev.rivet.virtio.vsock;

/**
 * RSTs the device owes the guest for packets that matched no connection (a connect to a
 * port nobody listens on, data for a connection that is gone), kept while the guest posts
 * no rx buffers: a fixed ring, so a guest that floods without reading costs a bounded
 * amount, and the excess is dropped. Each entry is the reply's source (CID, port), its
 * destination port and the type of the packet it answers (echoed, as Linux's
 * virtio_transport_reset_no_sock does, so that a socket of that type sees it). Not
 * thread-safe.
 */
final class RstBacklog {
    private final long[] srcCid;
    private final int[] srcPort;
    private final int[] dstPort;
    private final int[] type;
    private int head;
    private int count;

    RstBacklog(int capacity) {
        srcCid = new long[capacity];
        srcPort = new int[capacity];
        dstPort = new int[capacity];
        type = new int[capacity];
    }

    /** Queues the RST answering {@code h}; false (nothing queued) when full. */
    boolean add(VsockHeader h) {
        if (count == srcCid.length) {
            return false;
        }
        int i = (head + count++) % srcCid.length;
        srcCid[i] = h.dstCid;
        srcPort[i] = h.dstPort;
        dstPort[i] = h.srcPort;
        type[i] = h.type;
        return true;
    }

    boolean isEmpty() {
        return count == 0;
    }

    /** Fills {@code out} with the oldest RST (the guest's CID goes in by the caller). */
    void peek(VsockHeader out) {
        out.srcCid = srcCid[head];
        out.srcPort = srcPort[head];
        out.dstPort = dstPort[head];
        out.type = type[head];
        out.op = VirtioVsock.OP_RST;
        out.len = 0;
        out.flags = 0;
        out.bufAlloc = 0;
        out.fwdCnt = 0;
    }

    void pop() {
        head = (head + 1) % srcCid.length;
        count--;
    }

    void clear() {
        head = count = 0;
    }
}
