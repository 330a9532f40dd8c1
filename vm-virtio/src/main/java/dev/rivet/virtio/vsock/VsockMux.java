package dev.rivet.virtio.vsock;

import dev.rivet.core.bus.DmaException;
import dev.rivet.virtio.DescriptorChain;
import dev.rivet.virtio.QueueWorker;
import dev.rivet.virtio.VirtioContext;
import dev.rivet.virtio.Virtqueue;
import dev.rivet.virtio.VirtqueueException;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

import static dev.rivet.virtio.vsock.VirtioVsock.*;

/**
 * The connections of one activation of a {@link VirtioVsock} (from DRIVER_OK to reset):
 * stream sockets as VirtIO 1.2 section 5.10.6 describes them and as Linux's
 * net/vmw_vsock/virtio_transport_common.c drives them. The work on the queues is
 * {@link VsockTx}'s (packets from the guest) and {@link VsockRx}'s (the pump towards the
 * guest); this class holds what they share and the rules both apply to a connection.
 *
 * <ul>
 * <li>tx is processed whatever the state of rx (5.10.6.1): what the device owes the guest is
 *     kept outside the rings and bounded: a few flags per connection and a
 *     {@link RstBacklog} for packets that matched none.
 * <li>Guest data the host has not taken waits in the connection's {@link ByteRing}, bounded
 *     by the {@code buf_alloc} the device advertises; a CREDIT_UPDATE goes to the guest when
 *     the host has taken data and the guest's idea of our free space has dropped below half
 *     the buffer (at most 64 KiB), as Linux's receiver does. Every packet also carries it.
 * <li>Clean close (5.10.6.6): once the guest will neither send nor receive, or will not send
 *     and the host reached end-of-stream, the host end is closed and the device answers RST.
 *     A guest that breaks the protocol loses the connection (RST) with a guest-error log.
 * <li>The event queue carries one TRANSPORT_RESET after {@link #transportReset()}.
 * </ul>
 *
 * <p>Threads and locks: the queue workers run on the device's executor, holding their queue's
 * lock and then this mux's lock. Backend signals ({@link VsockConnection}) and host
 * connection requests only enqueue and kick the rx worker, never take a lock, so a backend
 * may signal from inside a stream call. The executor must run tasks on its own threads (not
 * directly on the caller's): a backend signal kicks the rx worker, which must not run inside
 * the tx worker's call into the backend.
 */
final class VsockMux {
    /** Largest payload in one packet to the guest (Linux's VIRTIO_VSOCK_MAX_PKT_BUF_SIZE). */
    static final int MAX_PAYLOAD = 64 * 1024;
    /** RSTs for unknown connections held while the guest posts no rx buffers. */
    static final int RST_BACKLOG = 64;
    /** Host ports given to host-initiated connections, as Firecracker does: [2^30, 2^31). */
    static final int HOST_PORT_FIRST = 1 << 30;
    static final int HOST_PORT_END = 1 << 31; // as unsigned: 2^31

    final VirtioContext ctx;
    final long guestCid;
    final VsockLimits limits;
    final VsockBackend backend;
    private final int creditThreshold;
    private final QueueWorker rxWorker;
    private final QueueWorker txWorker;
    private final QueueWorker eventWorker;

    final ReentrantLock lock = new ReentrantLock();
    final ConnTable conns;
    /** Connections with work for the pump, each at most once (its {@code queued} flag). */
    final ArrayDeque<VsockConn> ready;
    final RstBacklog rsts = new RstBacklog(RST_BACKLOG);
    private boolean rstDropLogged;
    private final ConcurrentLinkedQueue<VsockConn> signalled = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<VsockConn> incoming = new ConcurrentLinkedQueue<>();
    private final AtomicInteger incomingCount = new AtomicInteger();
    private volatile boolean closed;
    private volatile boolean resetEventOwed;
    private int nextHostPort = HOST_PORT_FIRST;
    /** Set under the lock when something was left for the pump. */
    private boolean wakeRx;

    private final DescriptorChain eventChain = new DescriptorChain();
    private final byte[] eventBytes = new byte[EVENT_SIZE];

    VsockMux(VirtioContext ctx, Executor executor, long guestCid, VsockLimits limits, VsockBackend backend) {
        this.ctx = ctx;
        this.guestCid = guestCid;
        this.limits = limits;
        this.backend = backend;
        this.creditThreshold = Math.max(1, Math.min(MAX_PAYLOAD, limits.bufAlloc() / 2));
        this.conns = new ConnTable(limits.maxConnections());
        this.ready = new ArrayDeque<>(Math.min(limits.maxConnections(), 1024));
        VsockTx tx = new VsockTx(this);
        VsockRx rx = new VsockRx(this);
        this.rxWorker = new QueueWorker(executor, ctx, QUEUE_RX, rx::process);
        this.txWorker = new QueueWorker(executor, ctx, QUEUE_TX, q -> {
            tx.process(q);
            if (takeWakeRx()) {
                rxWorker.kick();
            }
        });
        this.eventWorker = new QueueWorker(executor, ctx, QUEUE_EVENT, this::processEvent);
    }

    void queueNotify(int index) {
        switch (index) {
            case QUEUE_RX -> rxWorker.kick();
            case QUEUE_TX -> txWorker.kick();
            case QUEUE_EVENT -> eventWorker.kick();
            default -> { }
        }
    }

    int connectionCount() {
        lock.lock();
        try {
            return conns.size();
        } finally {
            lock.unlock();
        }
    }

    // ---- host side: signals and host-initiated connections (any thread, lock-free) ----

    void signal(VsockConn c) {
        if (!closed && c.signalled.compareAndSet(false, true)) {
            signalled.add(c);
            rxWorker.kick();
        }
    }

    VsockConnection connectToGuest(int guestPort, VsockStream stream) {
        VsockConn c = new VsockConn(this, guestPort, 0, stream, limits.bufAlloc());
        if (closed || incomingCount.incrementAndGet() > limits.maxConnections()) {
            incomingCount.decrementAndGet();
            c.removed = true;
            closeQuietly(stream);
            return c;
        }
        incoming.add(c);
        if (closed) {
            drainIncoming(); // raced with close(): nobody else will look at the queue again
        } else {
            rxWorker.kick();
        }
        return c;
    }

    private void drainIncoming() {
        VsockConn c;
        while ((c = incoming.poll()) != null) {
            incomingCount.decrementAndGet();
            c.removed = true;
            closeQuietly(c.stream);
        }
    }

    /** Under the lock (rx worker): host-initiated connections enter the table, owing the guest a REQUEST. */
    void takeIncoming() {
        VsockConn c;
        while ((c = incoming.poll()) != null) {
            incomingCount.decrementAndGet();
            if (c.aborted || conns.size() >= limits.maxConnections()) {
                c.removed = true;
                closeStream(c);
                continue;
            }
            c.hostPort = allocateHostPort(c.guestPort);
            c.state = VsockConn.CONNECTING;
            c.requestOwed = true;
            c.peerCredit(0, 0); // no credit until the guest's RESPONSE says how much
            c.inTable = true;
            conns.put(c);
            ready(c);
        }
    }

    private int allocateHostPort(int guestPort) {
        for (;;) {
            int p = nextHostPort;
            nextHostPort = p + 1 == HOST_PORT_END ? HOST_PORT_FIRST : p + 1;
            if (conns.get(ConnTable.key(guestPort, p)) == null) {
                return p;
            }
        }
    }

    /** Under the lock (rx worker): connections the backend signalled get a turn. */
    void takeSignals() {
        VsockConn c;
        while ((c = signalled.poll()) != null) {
            c.signalled.set(false);
            if (c.inTable) {
                ready(c);
            }
        }
    }

    // ---- lifecycle ----

    /** Device reset or close: every connection's host end is closed; nothing is sent to the guest. */
    void close() {
        lock.lock();
        try {
            closed = true;
            dropAll();
        } finally {
            lock.unlock();
        }
        drainIncoming();
        signalled.clear();
    }

    /**
     * VIRTIO_VSOCK_EVENT_TRANSPORT_RESET (5.10.6.7): the guest drops its connections, so the
     * device drops its own (closing the host ends) and tells the guest on the event queue.
     */
    void transportReset() {
        lock.lock();
        try {
            dropAll();
        } finally {
            lock.unlock();
        }
        resetEventOwed = true;
        eventWorker.kick();
    }

    private void dropAll() {
        conns.forEach(this::remove);
        ready.clear();
        rsts.clear();
    }

    private void processEvent(Virtqueue q) throws VirtqueueException {
        boolean any = false;
        try {
            while (resetEventOwed && q.pop(eventChain)) {
                if (eventChain.writableBytes() < EVENT_SIZE) {
                    guestError("event buffer at descriptor %d has %d writable bytes, less than an event",
                            eventChain.head(), eventChain.writableBytes());
                    q.push(eventChain.head(), 0);
                } else {
                    Arrays.fill(eventBytes, (byte) 0); // le32 id = TRANSPORT_RESET (0)
                    eventChain.writeTo(ctx.dma(), 0, eventBytes, 0, EVENT_SIZE);
                    q.push(eventChain.head(), EVENT_SIZE);
                    resetEventOwed = false;
                }
                any = true;
            }
        } catch (DmaException e) {
            throw new VirtqueueException("virtio-vsock: " + e.getMessage());
        }
        if (any) {
            ctx.usedBuffers(QUEUE_EVENT);
        }
    }

    // ---- rules for one connection (under the lock) ----

    /** Tells the guest about freed space once its view of it is getting low (and there is news). */
    void creditCheck(VsockConn c) {
        if (c.fwdCnt == c.lastSentFwdCnt) {
            return;
        }
        long guestView = limits.bufAlloc() - ((c.rxCnt - c.lastSentFwdCnt) & 0xFFFF_FFFFL);
        if (guestView < creditThreshold) {
            c.creditOwed = true;
            ready(c);
        }
    }

    /** Moves a closing connection on: half-close the host end, or finish with a RST. */
    void progressClose(VsockConn c) {
        if (c.rstOwed || !c.unsent.isEmpty()) {
            return;
        }
        if (c.guestShutSend && !c.outputShut) {
            c.outputShut = true;
            try {
                c.stream.shutdownOutput();
            } catch (RuntimeException e) {
                reset(c);
                return;
            }
        }
        // Nothing more either way: the RST completes the clean disconnect, after the
        // SHUTDOWN the guest is still owed (the host's EOF), so the guest sees the host
        // close its side before the connection goes, whichever side finished first.
        if (c.guestShutSend && (c.guestShutRcv || c.hostEof) && c.shutdownOwed == 0) {
            reset(c);
        }
    }

    void protocolError(VsockConn c, String what) {
        guestError("%s: %s; connection reset", c, what);
        reset(c);
    }

    /** Closes the host end and owes the guest a RST; the connection goes once it is sent. */
    void reset(VsockConn c) {
        closeStream(c);
        c.unsent.release();
        c.rstOwed = true;
        c.requestOwed = c.responseOwed = c.creditOwed = false;
        c.shutdownOwed = 0;
        ready(c);
    }

    /** Forgets the connection now, closing its host end. */
    void remove(VsockConn c) {
        closeStream(c);
        c.unsent.release();
        if (c.inTable) {
            conns.remove(c);
            c.inTable = false;
        }
        c.removed = true;
    }

    void closeStream(VsockConn c) {
        if (!c.streamClosed && c.stream != null) {
            c.streamClosed = true;
            closeQuietly(c.stream);
        }
    }

    static void closeQuietly(VsockStream s) {
        try {
            s.close();
        } catch (RuntimeException e) {
            // the backend's problem; the connection is gone either way
        }
    }

    /** Gives {@code c} a turn in the pump. */
    void ready(VsockConn c) {
        if (!c.queued && !c.removed) {
            c.queued = true;
            ready.add(c);
            wakeRx = true;
        }
    }

    /** Owes the guest a RST for a packet that matched no connection (never for a RST). */
    void rstUnknown(VsockHeader h) {
        if (h.op == OP_RST) {
            return; // never answer a RST with a RST
        }
        if (rsts.add(h)) {
            wakeRx = true;
        } else if (!rstDropLogged) {
            rstDropLogged = true;
            guestError("%d RST replies waiting for rx buffers; further ones dropped", RST_BACKLOG);
        }
    }

    /** The pump sent every owed RST: log again at the next overflow. */
    void rstsDrained() {
        rstDropLogged = false;
    }

    private boolean takeWakeRx() {
        lock.lock();
        try {
            boolean w = wakeRx;
            wakeRx = false;
            return w;
        } finally {
            lock.unlock();
        }
    }

    void clearWakeRx() {
        wakeRx = false;
    }

    void guestError(String fmt, Object... args) {
        ctx.log().guestError("virtio-vsock: " + String.format(fmt, args));
    }
}
