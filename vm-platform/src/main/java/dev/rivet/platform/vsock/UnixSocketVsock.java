package dev.rivet.platform.vsock;

import dev.rivet.platform.internal.UnixSockets;
import dev.rivet.virtio.vsock.VsockBackend;
import dev.rivet.virtio.vsock.VsockConnection;
import dev.rivet.virtio.vsock.VsockHost;
import dev.rivet.virtio.vsock.VsockStream;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The host side of virtio-vsock the way Firecracker does it (its docs/vsock.md, "hybrid
 * vsock"): guest AF_VSOCK ports map onto host AF_UNIX sockets around one path, {@code uds}.
 *
 * <ul>
 * <li>Host-initiated: the backend listens on {@code uds}. A host program connects and writes
 *     {@code CONNECT <port>\n}; the guest is asked to accept on that port; if it does, the
 *     program reads {@code OK <host port>\n} (the port the device gave the host end) and the
 *     connection is a raw byte stream to the guest from then on. If the guest refuses, or does
 *     not answer within {@link #CONNECT_TIMEOUT}, the program's connection is closed; so is
 *     one that sends anything but a valid line within {@link #LINE_TIMEOUT}.
 * <li>Guest-initiated: a guest connect to host CID 2, port P, connects to the Unix socket
 *     {@code <uds>_P}, where a host program listens; nobody there means a RST to the guest.
 * </ul>
 *
 * <p>One selector thread serves every socket: it accepts, reads CONNECT lines, and turns
 * readiness into the device's {@link VsockConnection} signals. Reads and writes of data
 * happen on the device's thread, non-blocking; interest in a socket's readiness is armed only
 * when the device found it empty (or full), so a connection the guest gives no credit is not
 * read and its host writer blocks in its socket buffer. {@link #close()} stops the thread,
 * closes every socket and removes {@code uds}.
 */
public final class UnixSocketVsock implements VsockBackend {
    /** How long a host program has to send its CONNECT line. */
    public static final Duration LINE_TIMEOUT = Duration.ofSeconds(5);
    /** How long the guest has to accept a host-initiated connection (Firecracker's 2 s). */
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /** Longest CONNECT line: "CONNECT 4294967295\r\n" with room to spare. */
    public static final int MAX_LINE = 32;
    /** Host programs connected to {@code uds} that have not sent their line yet. */
    public static final int MAX_HANDSHAKES = 64;

    private static final byte[] CONNECT = "CONNECT ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final Path uds;
    private final ServerSocketChannel server;
    private final Selector selector;
    private final long lineTimeout;
    private final long connectTimeout;
    private final Set<UdsStream> open = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean closing;
    private volatile VsockHost host;
    private Thread thread;

    // Selector thread only.
    private final ArrayDeque<Handshake> handshakes = new ArrayDeque<>();
    private final ArrayDeque<UdsStream> awaitingGuest = new ArrayDeque<>();
    private int liveHandshakes;

    private UnixSocketVsock(Path uds, ServerSocketChannel server, Selector selector, Duration lineTimeout,
            Duration connectTimeout) {
        this.uds = uds;
        this.server = server;
        this.selector = selector;
        this.lineTimeout = lineTimeout.toNanos();
        this.connectTimeout = connectTimeout.toNanos();
    }

    /** Listens on {@code uds} (replacing a stale socket nobody listens on); the thread starts with the device. */
    public static UnixSocketVsock open(Path uds) throws IOException {
        return open(uds, LINE_TIMEOUT, CONNECT_TIMEOUT);
    }

    /** As {@link #open(Path)}, with other host-protocol timeouts. */
    public static UnixSocketVsock open(Path uds, Duration lineTimeout, Duration connectTimeout) throws IOException {
        Objects.requireNonNull(uds, "uds");
        ServerSocketChannel server = bind(uds);
        Selector selector = null;
        try {
            selector = Selector.open();
            server.configureBlocking(false);
            UnixSocketVsock b = new UnixSocketVsock(uds, server, selector, lineTimeout, connectTimeout);
            server.register(selector, SelectionKey.OP_ACCEPT, b);
            return b;
        } catch (IOException | RuntimeException e) {
            server.close();
            if (selector != null) {
                selector.close();
            }
            Files.deleteIfExists(uds);
            throw e;
        }
    }

    private static ServerSocketChannel bind(Path uds) throws IOException {
        UnixSockets.clearStale(uds);
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            s.bind(UnixDomainSocketAddress.of(uds));
        } catch (IOException | RuntimeException e) {
            s.close();
            throw new IOException("cannot listen on " + uds + ": " + e.getMessage(), e);
        }
        return s;
    }

    public Path uds() {
        return uds;
    }

    /** Host ends currently open (either direction); for monitoring and tests. */
    public int openStreams() {
        return open.size();
    }

    @Override
    public void start(VsockHost device) {
        if (host != null) {
            throw new IllegalStateException("already started");
        }
        host = Objects.requireNonNull(device, "device");
        Thread t = new Thread(this::run, "vsock-uds " + uds);
        t.setDaemon(true); // never keeps the JVM alive; close() stops it
        synchronized (this) {
            if (closed.get()) {
                return;
            }
            thread = t;
            t.start();
        }
    }

    @Override
    public VsockStream connect(int hostPort, int guestPort, VsockConnection connection) {
        if (closing) {
            return null;
        }
        Path target = Path.of(uds + "_" + Integer.toUnsignedString(hostPort));
        SocketChannel ch = null;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.configureBlocking(false);
            if (!ch.connect(UnixDomainSocketAddress.of(target))) {
                ch.close(); // a Unix socket connects at once or not at all
                return null;
            }
            UdsStream s = new UdsStream(this, ch, connection, null);
            s.key = ch.register(selector, 0, s); // throws once the selector is closed
            open.add(s);
            if (closing) { // raced with close(): its cleanup may have missed this one
                release(s);
                return null;
            }
            return s;
        } catch (IOException | RuntimeException e) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // nothing was sent on it
                }
            }
            return null; // refused, no such socket, backlog full, or we are closing
        }
    }

    /** Closes one host end (the device is done with it, or it timed out); idempotent. */
    void release(UdsStream s) {
        if (!s.markClosed()) {
            return;
        }
        open.remove(s);
        SelectionKey k = s.key;
        if (k != null) {
            k.cancel();
        }
        try {
            s.channel().close();
        } catch (IOException ignored) {
            // already broken
        }
        wakeup(); // a registered channel's socket is really closed at the next select
    }

    void wakeup() {
        try {
            selector.wakeup();
        } catch (ClosedSelectorException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        closing = true;
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t == null) {
            cleanup();
            return;
        }
        wakeup();
        if (t == Thread.currentThread()) {
            return; // the loop sees closing and cleans up on its way out
        }
        boolean interrupted = false;
        while (t.isAlive()) {
            try {
                t.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- the selector thread ----

    private void run() {
        try {
            while (!closing) {
                selector.select(this::ready, nextTimeoutMillis());
                expire(System.nanoTime());
            }
        } catch (IOException | ClosedSelectorException e) {
            // the selector broke: nothing can be served, so close everything below
        } finally {
            cleanup();
        }
    }

    private void ready(SelectionKey key) {
        try {
            Object a = key.attachment();
            if (a == this) {
                accept();
            } else if (a instanceof Handshake h) {
                h.readable();
            } else if (a instanceof UdsStream s) {
                s.ready(key.readyOps());
            }
        } catch (CancelledKeyException e) {
            // closed by the device meanwhile
        }
    }

    private void accept() {
        for (;;) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (IOException e) {
                return;
            }
            if (ch == null) {
                return;
            }
            if (liveHandshakes >= MAX_HANDSHAKES || host == null) {
                closeQuietly(ch);
                continue;
            }
            try {
                ch.configureBlocking(false);
                Handshake h = new Handshake(ch, System.nanoTime() + lineTimeout);
                h.key = ch.register(selector, SelectionKey.OP_READ, h);
                handshakes.add(h);
                liveHandshakes++;
            } catch (IOException | RuntimeException e) {
                closeQuietly(ch);
            }
        }
    }

    private long nextTimeoutMillis() {
        long next = Long.MAX_VALUE;
        if (!handshakes.isEmpty()) {
            next = handshakes.peek().deadline;
        }
        if (!awaitingGuest.isEmpty()) {
            next = Math.min(next, awaitingGuest.peek().deadline);
        }
        if (next == Long.MAX_VALUE) {
            return 0; // no deadline: wait for readiness or a wakeup
        }
        return Math.max(1, (next - System.nanoTime() + 999_999) / 1_000_000);
    }

    /** Handshakes and host-initiated connections past their deadlines are given up. */
    private void expire(long now) {
        while (!handshakes.isEmpty() && (handshakes.peek().done || handshakes.peek().deadline - now <= 0)) {
            Handshake h = handshakes.poll();
            if (!h.done) {
                h.fail();
            }
        }
        while (!awaitingGuest.isEmpty() && awaitingGuest.peek().deadline - now <= 0) {
            UdsStream s = awaitingGuest.poll();
            if (s.waiting()) {
                s.connection().abort(); // the device resets its side towards the guest
                release(s);
            }
        }
    }

    private void cleanup() {
        for (UdsStream s : open.toArray(new UdsStream[0])) {
            release(s);
        }
        try {
            for (SelectionKey k : selector.keys()) {
                closeQuietly(k.channel());
            }
        } catch (ClosedSelectorException ignored) {
            // already closed
        }
        closeQuietly(server);
        try {
            selector.close();
        } catch (IOException ignored) {
            // nothing more to release
        }
        handshakes.clear();
        awaitingGuest.clear();
        try {
            Files.deleteIfExists(uds);
        } catch (IOException ignored) {
            // someone removed or replaced it; not ours to fight over
        }
    }

    private static void closeQuietly(java.nio.channels.Channel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    /**
     * Parses {@code CONNECT <port>} (an optional CR before the LF is tolerated): the port as
     * an unsigned 32-bit value, or -1.
     */
    static long parseConnect(byte[] line, int len) {
        if (len > 0 && line[len - 1] == '\r') {
            len--;
        }
        if (len <= CONNECT.length || len > CONNECT.length + 10) {
            return -1;
        }
        for (int i = 0; i < CONNECT.length; i++) {
            if (line[i] != CONNECT[i]) {
                return -1;
            }
        }
        long port = 0;
        for (int i = CONNECT.length; i < len; i++) {
            int d = line[i] - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            port = port * 10 + d;
        }
        return port > 0xFFFF_FFFFL ? -1 : port;
    }

    /** A host program connected to {@code uds} that has not sent its CONNECT line yet. */
    private final class Handshake {
        final SocketChannel ch;
        final long deadline;
        final ByteBuffer line = ByteBuffer.allocate(MAX_LINE);
        SelectionKey key;
        boolean done;

        Handshake(SocketChannel ch, long deadline) {
            this.ch = ch;
            this.deadline = deadline;
        }

        void readable() {
            int n;
            try {
                n = ch.read(line);
            } catch (IOException e) {
                n = -1;
            }
            if (n < 0) {
                fail();
                return;
            }
            byte[] b = line.array();
            int end = line.position();
            int nl = -1;
            for (int i = 0; i < end; i++) {
                if (b[i] == '\n') {
                    nl = i;
                    break;
                }
            }
            if (nl < 0) {
                if (!line.hasRemaining()) {
                    fail(); // no LF within MAX_LINE bytes: not our protocol
                }
                return;
            }
            long port = parseConnect(b, nl);
            if (port < 0) {
                fail();
                return;
            }
            finish();
            // Bytes the program sent after its line go to the guest first.
            ByteBuffer early = end > nl + 1 ? ByteBuffer.wrap(java.util.Arrays.copyOfRange(b, nl + 1, end)) : null;
            UdsStream s = new UdsStream(UnixSocketVsock.this, ch, null, early);
            s.key = key;
            s.deadline = System.nanoTime() + connectTimeout;
            open.add(s);
            key.interestOps(0);
            key.attach(s);
            awaitingGuest.add(s);
            s.connectedBy(host.connectToGuest((int) port, s));
        }

        void fail() {
            finish();
            key.cancel();
            closeQuietly(ch);
        }

        private void finish() {
            if (!done) {
                done = true;
                liveHandshakes--;
            }
        }
    }
}
