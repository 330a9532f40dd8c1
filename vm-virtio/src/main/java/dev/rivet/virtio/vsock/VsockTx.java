package dev.rivet.virtio.vsock;

import dev.rivet.core.bus.DmaException;
import dev.rivet.core.bus.DmaView;
import dev.rivet.virtio.DescriptorChain;
import dev.rivet.virtio.Virtqueue;
import dev.rivet.virtio.VirtqueueException;

import java.io.IOException;
import java.nio.ByteBuffer;

import static dev.rivet.virtio.vsock.VirtioVsock.*;

/**
 * The tx queue of a {@link VsockMux}: packets from the guest (VirtIO 1.2 section 5.10.6),
 * each chain a header then its payload, read as one stream whatever the descriptor layout.
 * Every chain is used at once (length 0), so tx never waits for rx (5.10.6.1); replies are
 * left to the pump as owed packets.
 *
 * <ul>
 * <li>From a CID other than the guest's: dropped with a guest-error log. To a CID other than
 *     the host's, or of a type other than STREAM: RST (5.10.6.2, .4).
 * <li>REQUEST to a host port: the backend opens the host end, or the guest gets a RST.
 * <li>RW: straight into the host stream, in place from guest memory; what the host does not
 *     take now goes to the connection's ring. A length beyond what the packet carries, or
 *     beyond what the device can hold for the connection, resets it.
 * <li>Any packet for a connection updates its view of the guest's credit; CREDIT_REQUEST is
 *     answered with CREDIT_UPDATE; SHUTDOWN flags are kept (permanent); RST forgets the
 *     connection without reply; anything else, or a packet out of place, resets it.
 * </ul>
 */
final class VsockTx {
    private final VsockMux mux;
    private final DmaView dma;
    private final DescriptorChain chain = new DescriptorChain();
    private final byte[] bytes = new byte[VsockHeader.SIZE];
    private final VsockHeader h = new VsockHeader();

    VsockTx(VsockMux mux) {
        this.mux = mux;
        this.dma = mux.ctx.dma();
    }

    /** Serves every available tx chain; runs on the executor with the tx queue lock held. */
    void process(Virtqueue q) throws VirtqueueException {
        boolean any = false;
        mux.lock.lock();
        try {
            while (q.pop(chain)) {
                handle();
                q.push(chain.head(), 0);
                any = true;
            }
        } catch (DmaException e) {
            throw new VirtqueueException("virtio-vsock: " + e.getMessage()); // pop checked every buffer
        } finally {
            mux.lock.unlock();
        }
        if (any) {
            mux.ctx.usedBuffers(QUEUE_TX);
        }
    }

    private void handle() throws DmaException {
        long readable = chain.readableBytes();
        if (readable < VsockHeader.SIZE) {
            mux.guestError("tx packet of %d readable bytes, shorter than the %d-byte header", readable,
                    VsockHeader.SIZE);
            return;
        }
        chain.readFrom(dma, 0, bytes, 0, VsockHeader.SIZE);
        h.decode(bytes);
        if (h.srcCid != mux.guestCid) {
            mux.guestError("tx packet from CID %d, not the guest's CID %d; dropped", h.srcCid, mux.guestCid);
            return;
        }
        if (h.dstCid != HOST_CID || h.type != TYPE_STREAM) {
            // Nothing but the host is reachable, and only stream sockets exist here.
            mux.rstUnknown(h);
            return;
        }
        VsockConn c = mux.conns.get(ConnTable.key(h.srcPort, h.dstPort));
        if (c == null) {
            if (h.op == OP_REQUEST) {
                accept();
            } else {
                mux.rstUnknown(h);
            }
            return;
        }
        if (h.op == OP_RST) {
            mux.remove(c); // the guest aborted, or answered our SHUTDOWN/RST; never answer a RST
            return;
        }
        if (c.rstOwed) {
            return; // already reset on our side; the guest hears so soon
        }
        c.peerCredit(h.bufAlloc, h.fwdCnt);
        switch (h.op) {
            case OP_RESPONSE -> established(c);
            case OP_RW -> receive(c, readable - VsockHeader.SIZE);
            case OP_CREDIT_UPDATE -> mux.ready(c); // the guest may have room for host data now
            case OP_CREDIT_REQUEST -> {
                c.creditOwed = true;
                mux.ready(c);
            }
            case OP_SHUTDOWN -> {
                if (c.state != VsockConn.ESTABLISHED) {
                    mux.protocolError(c, "SHUTDOWN before the connection was established");
                    return;
                }
                c.guestShutRcv |= (h.flags & SHUTDOWN_RCV) != 0;
                c.guestShutSend |= (h.flags & SHUTDOWN_SEND) != 0;
                mux.progressClose(c);
                mux.ready(c);
            }
            case OP_REQUEST -> mux.protocolError(c, "REQUEST for a connection that exists");
            default -> mux.protocolError(c, "unknown op " + h.op);
        }
    }

    /** A guest REQUEST to a host port: the backend opens the host end, or the guest gets a RST. */
    private void accept() {
        if (mux.conns.size() >= mux.limits.maxConnections()) {
            mux.guestError("connection from guest port %d to host port %d refused: %d connections is the limit",
                    h.srcPort & 0xFFFF_FFFFL, h.dstPort & 0xFFFF_FFFFL, mux.limits.maxConnections());
            mux.rstUnknown(h);
            return;
        }
        VsockConn c = new VsockConn(mux, h.srcPort, h.dstPort, null, mux.limits.bufAlloc());
        VsockStream s;
        try {
            s = mux.backend.connect(h.dstPort, h.srcPort, c);
        } catch (RuntimeException e) {
            s = null;
        }
        if (s == null) {
            mux.rstUnknown(h); // nobody listens there (5.10.6.6)
            return;
        }
        c.stream = s;
        c.peerCredit(h.bufAlloc, h.fwdCnt);
        c.state = VsockConn.ESTABLISHED;
        c.responseOwed = true;
        c.hostReadable = true;
        c.inTable = true;
        mux.conns.put(c);
        mux.ready(c);
    }

    /** The guest's RESPONSE to a host-initiated REQUEST. */
    private void established(VsockConn c) {
        if (c.state != VsockConn.CONNECTING) {
            mux.protocolError(c, "RESPONSE on an established connection");
            return;
        }
        c.state = VsockConn.ESTABLISHED;
        c.hostReadable = true;
        try {
            c.stream.established(c.hostPort);
        } catch (RuntimeException e) {
            mux.reset(c);
            return;
        }
        mux.ready(c);
    }

    /** VIRTIO_VSOCK_OP_RW from the guest: into the host stream, the rest into the connection's ring. */
    private void receive(VsockConn c, long carried) throws DmaException {
        long len = h.len & 0xFFFF_FFFFL;
        if (c.state != VsockConn.ESTABLISHED || c.guestShutSend) {
            mux.protocolError(c, "data after SHUTDOWN(SEND) or before the connection was established");
            return;
        }
        if (len > carried) {
            mux.protocolError(c, "RW of " + len + " bytes in a packet carrying " + carried);
            return;
        }
        if (len > c.unsent.room()) {
            mux.protocolError(c, "RW of " + len + " bytes beyond the credit given (" + c.unsent.room() + " bytes)");
            return;
        }
        c.rxCnt += (int) len;
        boolean direct = c.unsent.isEmpty();
        long skip = VsockHeader.SIZE;
        long left = len;
        for (int i = 0; i < chain.readableCount() && left > 0; i++) {
            long l = chain.readableLength(i);
            if (skip >= l) {
                skip -= l;
                continue;
            }
            int n = (int) Math.min(l - skip, left);
            ByteBuffer view = dma.readView(chain.readableAddress(i) + skip, n);
            skip = 0;
            left -= n;
            if (direct) {
                try {
                    c.fwdCnt += c.stream.write(view);
                } catch (IOException | RuntimeException e) {
                    mux.reset(c); // the host end is gone
                    return;
                }
                direct = !view.hasRemaining();
            }
            if (view.hasRemaining()) {
                c.unsent.put(view);
            }
        }
        mux.creditCheck(c);
    }
}
