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
 * The rx queue of a {@link VsockMux}: the pump that fills the guest's receive buffers. It
 * runs whenever the guest posts buffers, a host stream becomes readable or writable, a host
 * program connects, or tx left replies. RSTs for unknown connections go first (replies to the
 * guest's own packets); then the connections with work get one turn each, round-robin:
 * host-side work first (guest data the host can take now, aborts), then owed control
 * packets (RST, REQUEST, RESPONSE), at most one data packet, SHUTDOWN and CREDIT_UPDATE.
 *
 * <p>Host data is read straight into the guest's buffer, and only as much as the guest's
 * credit ({@code peer_buf_alloc - (tx_cnt - peer_fwd_cnt)}) and the buffer allow: with no
 * credit the host stream is simply not read, and its writer blocks. A buffer popped for data
 * that did not come (the host had nothing after all) is held for the next packet, since a
 * chain cannot be given back. Buffers too short for a header are used empty with a log; one
 * with room for a header only serves control packets.
 */
final class VsockRx {
    private static final int DONE = 0, MORE = 1, BLOCKED = 2;

    private final VsockMux mux;
    private final DmaView dma;
    private final DescriptorChain chain = new DescriptorChain();
    private final byte[] bytes = new byte[VsockHeader.SIZE];
    private final VsockHeader out = new VsockHeader();
    /** {@link #chain} holds a popped chain not used yet. */
    private boolean held;
    private int pushed;

    VsockRx(VsockMux mux) {
        this.mux = mux;
        this.dma = mux.ctx.dma();
    }

    /** Runs the pump; on the executor with the rx queue lock held. */
    void process(Virtqueue q) throws VirtqueueException {
        pushed = 0;
        mux.lock.lock();
        try {
            mux.takeIncoming();
            mux.takeSignals();
            pump(q);
        } catch (DmaException e) {
            throw new VirtqueueException("virtio-vsock: " + e.getMessage()); // pop checked every buffer
        } finally {
            mux.lock.unlock();
        }
        if (pushed > 0) {
            mux.ctx.usedBuffers(QUEUE_RX);
        }
    }

    private void pump(Virtqueue q) throws VirtqueueException, DmaException {
        while (!mux.rsts.isEmpty()) {
            if (!takeChain(q)) {
                return; // replies to the guest's own packets first, so wait for buffers
            }
            mux.rsts.peek(out);
            out.dstCid = mux.guestCid;
            send(q, 0);
            mux.rsts.pop();
        }
        mux.rstsDrained();
        VsockConn c;
        while ((c = mux.ready.poll()) != null) {
            c.queued = false;
            int r = service(c, q, false);
            if (r != DONE) {
                mux.ready(c);
            }
            if (r == BLOCKED) {
                break;
            }
        }
        // Out of rx buffers: the rest still get their host-side work (taking guest data to
        // the host, aborts), so that nothing waits on the guest that need not.
        for (int n = mux.ready.size(); n > 0; n--) {
            c = mux.ready.poll();
            c.queued = false;
            if (service(c, q, true) != DONE) {
                mux.ready(c);
            }
        }
        mux.clearWakeRx();
    }

    /** One turn for one connection: host-side work, owed control packets, at most one data packet. */
    private int service(VsockConn c, Virtqueue q, boolean noChains) throws VirtqueueException, DmaException {
        if (c.removed) {
            return DONE;
        }
        if (c.aborted && !c.rstOwed) {
            mux.reset(c);
        }
        if (!c.rstOwed && !c.unsent.isEmpty()) {
            flush(c);
        }
        mux.progressClose(c);
        if (c.rstOwed) {
            if (noChains || !takeChain(q)) {
                return BLOCKED;
            }
            control(q, c, OP_RST, 0);
            mux.remove(c);
            return DONE;
        }
        if (c.requestOwed || c.responseOwed) {
            if (noChains || !takeChain(q)) {
                return BLOCKED;
            }
            control(q, c, c.requestOwed ? OP_REQUEST : OP_RESPONSE, 0);
            c.requestOwed = c.responseOwed = false;
        }
        if (wantsData(c)) {
            if (noChains || !takeChain(q)) {
                return BLOCKED;
            }
            if (data(q, c)) {
                return MORE; // maybe more to read: back of the queue, for fairness
            }
            if (c.rstOwed) {
                return service(c, q, noChains);
            }
        }
        if (c.shutdownOwed != 0) {
            if (noChains || !takeChain(q)) {
                return BLOCKED;
            }
            control(q, c, OP_SHUTDOWN, c.shutdownOwed);
            c.shutdownOwed = 0;
            mux.progressClose(c);
            if (c.rstOwed) {
                return service(c, q, noChains);
            }
        }
        if (c.creditOwed) {
            if (noChains || !takeChain(q)) {
                return BLOCKED;
            }
            control(q, c, OP_CREDIT_UPDATE, 0);
        }
        return DONE;
    }

    private static boolean wantsData(VsockConn c) {
        return c.state == VsockConn.ESTABLISHED && c.hostReadable && !c.hostEof && !c.guestShutRcv
                && c.credit() > 0;
    }

    /** Offers the connection's buffered guest data to the host again. */
    private void flush(VsockConn c) {
        int n;
        try {
            n = c.unsent.drainTo(c.stream);
        } catch (IOException | RuntimeException e) {
            mux.reset(c);
            return;
        }
        c.fwdCnt += n;
        mux.creditCheck(c);
    }

    /**
     * Reads host data straight into the held chain, as much as the guest's credit and the
     * buffer allow, and sends it. Returns true when the chain was used.
     */
    private boolean data(Virtqueue q, VsockConn c) throws VirtqueueException, DmaException {
        long room = Math.min(chain.writableBytes() - VsockHeader.SIZE, VsockMux.MAX_PAYLOAD);
        int want = (int) Math.min(room, c.credit());
        if (want == 0) {
            // Room for a header only: good for control packets, not for data.
            mux.guestError("rx buffer at descriptor %d has no room for data after the header; used empty",
                    chain.head());
            useEmpty(q);
            return true; // the next buffer may do
        }
        c.hostReadable = false; // cleared before reading, so a readiness signal from now on is kept
        int total = 0;
        boolean eof = false;
        long skip = VsockHeader.SIZE;
        try {
            for (int i = 0; i < chain.writableCount() && total < want; i++) {
                long l = chain.writableLength(i);
                if (skip >= l) {
                    skip -= l;
                    continue;
                }
                int n = (int) Math.min(l - skip, want - total);
                ByteBuffer view = dma.writeView(chain.writableAddress(i) + skip, n);
                skip = 0;
                int r = c.stream.read(view);
                if (r < 0) {
                    eof = true;
                    break;
                }
                total += r;
                if (r < n) {
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            mux.reset(c);
            return false;
        }
        if (total > 0) {
            c.hostReadable = true; // no "nothing now" seen yet: read again next turn
            control(q, c, OP_RW, 0, total);
            c.txCnt += total;
        }
        if (eof) {
            c.hostEof = true;
            c.shutdownOwed |= SHUTDOWN_SEND;
            mux.progressClose(c);
        }
        return total > 0;
    }

    /** Pops an rx chain unless one is held; buffers too short for a header are used empty. */
    private boolean takeChain(Virtqueue q) throws VirtqueueException {
        while (!held) {
            if (!q.pop(chain)) {
                return false;
            }
            if (chain.writableBytes() < VsockHeader.SIZE) {
                mux.guestError("rx buffer at descriptor %d has %d writable bytes, less than a header; used empty",
                        chain.head(), chain.writableBytes());
                q.push(chain.head(), 0);
                pushed++;
                continue;
            }
            held = true;
        }
        return true;
    }

    private void useEmpty(Virtqueue q) throws VirtqueueException {
        q.push(chain.head(), 0);
        held = false;
        pushed++;
    }

    private void control(Virtqueue q, VsockConn c, int op, int flags) throws VirtqueueException, DmaException {
        control(q, c, op, flags, 0);
    }

    /** Writes a header for {@code c}, with our current credit, into the held chain and uses it. */
    private void control(Virtqueue q, VsockConn c, int op, int flags, int payload)
            throws VirtqueueException, DmaException {
        out.srcCid = HOST_CID;
        out.srcPort = c.hostPort;
        out.dstCid = mux.guestCid;
        out.dstPort = c.guestPort;
        out.len = payload;
        out.type = TYPE_STREAM;
        out.op = op;
        out.flags = flags;
        out.bufAlloc = mux.limits.bufAlloc();
        out.fwdCnt = c.fwdCnt;
        c.lastSentFwdCnt = c.fwdCnt;
        c.creditOwed = false; // every packet carries buf_alloc and fwd_cnt
        send(q, payload);
    }

    private void send(Virtqueue q, int payload) throws VirtqueueException, DmaException {
        out.encode(bytes);
        chain.writeTo(dma, 0, bytes, 0, VsockHeader.SIZE);
        q.push(chain.head(), VsockHeader.SIZE + payload);
        held = false;
        pushed++;
    }
}
