package dev.rivet.virtio.vsock;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One stream connection between a guest port and a host port: its state, both directions'
 * credit counters (VirtIO 1.2 section 5.10.6.3) and the packets the device owes the guest
 * for it. Everything but the readiness signals is touched only under the
 * {@link VsockMux}'s lock.
 */
final class VsockConn implements VsockConnection {
    /** CONNECTING: the host started it and the guest has not answered the REQUEST yet. */
    static final int CONNECTING = 0, ESTABLISHED = 1;

    private final VsockMux mux;
    final int guestPort;
    /** Given by the guest (guest-initiated) or allocated when the table takes it (host-initiated). */
    int hostPort;
    /** The host end; set once, before the connection enters the table. */
    VsockStream stream;
    int state;

    // Host to guest: what we sent and what the guest told us of its receive buffer.
    int txCnt;
    int peerBufAlloc;
    int peerFwdCnt;

    // Guest to host: what the guest sent, what the host took, what the guest last heard of it.
    int rxCnt;
    int fwdCnt;
    int lastSentFwdCnt;
    /** Guest data the host has not taken yet; bounded by the credit we advertise. */
    final ByteRing unsent;

    boolean guestShutRcv;
    boolean guestShutSend;
    boolean hostEof;
    boolean outputShut;

    // Packets owed to the guest.
    boolean requestOwed;
    boolean responseOwed;
    boolean creditOwed;
    boolean rstOwed;
    int shutdownOwed;

    boolean inTable;
    boolean removed;
    boolean streamClosed;
    /** In the mux's ready queue. */
    boolean queued;

    // Signals from the backend's threads.
    volatile boolean hostReadable;
    volatile boolean aborted;
    final AtomicBoolean signalled = new AtomicBoolean();

    VsockConn(VsockMux mux, int guestPort, int hostPort, VsockStream stream, int bufAlloc) {
        this.mux = mux;
        this.guestPort = guestPort;
        this.hostPort = hostPort;
        this.stream = stream;
        this.unsent = new ByteRing(bufAlloc);
    }

    long key() {
        return ConnTable.key(guestPort, hostPort);
    }

    /** Payload bytes the guest can take now: peer_buf_alloc - (tx_cnt - peer_fwd_cnt), never below 0. */
    long credit() {
        long inFlight = (txCnt - peerFwdCnt) & 0xFFFF_FFFFL;
        return Math.max(0, (peerBufAlloc & 0xFFFF_FFFFL) - inFlight);
    }

    /** Every packet of a stream carries the sender's buffer space (5.10.6.3). */
    void peerCredit(int bufAlloc, int fwdCnt) {
        peerBufAlloc = bufAlloc;
        peerFwdCnt = fwdCnt;
    }

    @Override
    public void readable() {
        hostReadable = true;
        mux.signal(this);
    }

    @Override
    public void writable() {
        mux.signal(this);
    }

    @Override
    public void abort() {
        aborted = true;
        mux.signal(this);
    }

    @Override
    public String toString() {
        return "guest port " + Integer.toUnsignedString(guestPort) + " <-> host port "
                + Integer.toUnsignedString(hostPort);
    }
}
