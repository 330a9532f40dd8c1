package dev.rivet.platform.vsock;

import dev.rivet.virtio.vsock.VsockConnection;
import dev.rivet.virtio.vsock.VsockStream;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The host end of one vsock connection in {@link UnixSocketVsock}: a non-blocking Unix
 * socket. Reads and writes happen on the device's thread; when a read finds nothing (or a
 * write finds no room) the socket's selection key is armed for that readiness, and the
 * selector thread disarms it and signals the device once. A host-initiated connection also
 * carries the bytes its program sent after the CONNECT line (delivered to the guest first)
 * and the {@code OK <port>} line (written to the program before any guest data).
 */
final class UdsStream implements VsockStream {
    private final UnixSocketVsock owner;
    private final SocketChannel ch;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile VsockConnection connection;
    private ByteBuffer early;
    /** "OK port\n" not yet written; guarded by this. */
    private ByteBuffer ok;
    /** Host-initiated and not yet accepted by the guest. */
    private volatile boolean waiting;
    volatile SelectionKey key;
    /** When a host-initiated connection stops waiting for the guest (selector thread). */
    long deadline;

    UdsStream(UnixSocketVsock owner, SocketChannel ch, VsockConnection connection, ByteBuffer early) {
        this.owner = owner;
        this.ch = ch;
        this.connection = connection;
        this.early = early;
        this.waiting = connection == null;
    }

    SocketChannel channel() {
        return ch;
    }

    VsockConnection connection() {
        return connection;
    }

    void connectedBy(VsockConnection c) {
        connection = c;
    }

    boolean waiting() {
        return waiting && !closed.get();
    }

    /** True the first time only. */
    boolean markClosed() {
        return closed.compareAndSet(false, true);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        ByteBuffer e = early;
        if (e != null) {
            int n = Math.min(e.remaining(), dst.remaining());
            dst.put(dst.position(), e, e.position(), n);
            dst.position(dst.position() + n);
            e.position(e.position() + n);
            if (!e.hasRemaining()) {
                early = null;
            }
            return n;
        }
        int n = ch.read(dst);
        if (n == 0) {
            arm(SelectionKey.OP_READ);
        }
        return n;
    }

    @Override
    public synchronized int write(ByteBuffer src) throws IOException {
        if (!flushOk()) {
            arm(SelectionKey.OP_WRITE);
            return 0;
        }
        int n = ch.write(src);
        if (src.hasRemaining()) {
            arm(SelectionKey.OP_WRITE);
        }
        return n;
    }

    /** Writes what is left of the OK line; true when none is left. */
    private synchronized boolean flushOk() throws IOException {
        if (ok == null) {
            return true;
        }
        ch.write(ok);
        if (ok.hasRemaining()) {
            return false;
        }
        ok = null;
        return true;
    }

    @Override
    public void shutdownOutput() {
        try {
            ch.shutdownOutput();
        } catch (IOException ignored) {
            // the program is gone; the next read or write tells the device
        }
    }

    @Override
    public void close() {
        owner.release(this);
    }

    @Override
    public void established(int hostPort) {
        synchronized (this) {
            ok = ByteBuffer.wrap(("OK " + Integer.toUnsignedString(hostPort) + "\n").getBytes(StandardCharsets.US_ASCII));
            try {
                if (!flushOk()) {
                    arm(SelectionKey.OP_WRITE); // finished by the selector thread, see ready()
                }
            } catch (IOException e) {
                // the program went away; the device's next read or write finds out
            }
        }
        waiting = false;
    }

    /** Selector thread: the armed readiness happened; disarm it and tell the device. */
    void ready(int ops) {
        VsockConnection c = connection;
        if ((ops & SelectionKey.OP_WRITE) != 0) {
            key.interestOpsAnd(~SelectionKey.OP_WRITE);
            try {
                flushOk();
            } catch (IOException ignored) {
                // the device's next write finds out
            }
            if (c != null) {
                c.writable();
            }
        }
        if ((ops & SelectionKey.OP_READ) != 0) {
            key.interestOpsAnd(~SelectionKey.OP_READ);
            if (c != null) {
                c.readable();
            }
        }
    }

    private void arm(int op) {
        SelectionKey k = key;
        if (k == null) {
            return;
        }
        try {
            k.interestOpsOr(op);
            owner.wakeup();
        } catch (CancelledKeyException ignored) {
            // closed meanwhile
        }
    }
}
