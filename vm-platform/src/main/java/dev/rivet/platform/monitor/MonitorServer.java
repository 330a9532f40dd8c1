package dev.rivet.platform.monitor;

import dev.rivet.platform.internal.UnixSockets;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The monitor's control socket: a Unix domain stream socket at a path, served one line at a
 * time ({@link MonitorCommands}). Each client gets a virtual thread; up to
 * {@link #MAX_CLIENTS} at once, the next is told so and closed.
 *
 * <p>The protocol: a client writes one command per line (LF, optionally CR LF, UTF-8);
 * each gets a reply of zero or more lines and then a final line, {@code OK} or
 * {@code ERROR: <message>}, so a script reads until it sees one of those. A line longer
 * than {@link #MAX_LINE} bytes is answered with an error without being kept; a command cut
 * off by a disconnect is not carried out. No greeting: the first line a client reads
 * answers its first command.
 *
 * <p>The socket file: {@link #bind} refuses a path that holds anything but a socket, and
 * one that a live program listens on; a socket nobody listens on (left by a process that
 * died) is replaced. The socket is made readable and writable by its owner only (Linux
 * checks write permission on connect). {@link #close} removes it, unless it has been
 * replaced by another since.
 */
public final class MonitorServer implements AutoCloseable {
    /** Longest command line, in bytes. */
    public static final int MAX_LINE = 4096;
    /** Clients served at once. */
    public static final int MAX_CLIENTS = 16;
    /** How long {@link #close} waits for commands in progress to finish. */
    private static final long CLOSE_WAIT_MILLIS = 5_000;
    /** How long accepting pauses after a failure that is not the socket closing. */
    private static final long ACCEPT_RETRY_MILLIS = 100;

    private final Path path;
    private final ServerSocketChannel server;
    /** The socket file as bound, to tell it from one that replaced it. */
    private final Object fileKey;
    private final Set<SocketChannel> clients = ConcurrentHashMap.newKeySet();
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean serving = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();

    private MonitorServer(Path path, ServerSocketChannel server, Object fileKey) {
        this.path = path;
        this.server = server;
        this.fileKey = fileKey;
    }

    /**
     * Listens on {@code path}; clients wait in the backlog until {@link #serve}.
     *
     * @throws IOException with a one-line message naming the path and the problem
     */
    public static MonitorServer bind(Path path) throws IOException {
        Objects.requireNonNull(path, "path");
        UnixSockets.clearStale(path);
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            s.bind(UnixDomainSocketAddress.of(path));
        } catch (IOException | RuntimeException e) {
            s.close();
            throw new IOException(path + ": cannot listen: " + reason(e), e);
        }
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            Object key = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            return new MonitorServer(path, s, key);
        } catch (IOException | RuntimeException e) {
            s.close();
            Files.deleteIfExists(path);
            throw new IOException(path + ": cannot set up the socket: " + reason(e), e);
        }
    }


    private static String reason(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    public Path path() {
        return path;
    }

    /** Starts accepting clients, each served by {@code commands}; once. */
    public void serve(MonitorCommands commands) {
        Objects.requireNonNull(commands, "commands");
        if (!serving.compareAndSet(false, true)) {
            throw new IllegalStateException("already serving");
        }
        start("rivet-monitor-accept", () -> acceptLoop(commands));
    }

    /** Clients connected now. */
    public int clientCount() {
        return clients.size();
    }

    private void start(String name, Runnable body) {
        Thread t = Thread.ofVirtual().name(name).unstarted(() -> {
            try {
                body.run();
            } finally {
                threads.remove(Thread.currentThread());
            }
        });
        threads.add(t);
        t.start();
    }

    private void acceptLoop(MonitorCommands commands) {
        while (!closed.get()) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (ClosedChannelException e) { // also AsynchronousCloseException: close() ran
                return;
            } catch (IOException e) {
                pause(); // out of file descriptors, say: try again shortly rather than spin
                continue;
            }
            if (clients.size() >= MAX_CLIENTS || closed.get()) {
                refuse(c);
                continue;
            }
            clients.add(c);
            if (closed.get()) { // close() may have swept the set before the add
                clients.remove(c);
                refuse(c);
                continue;
            }
            start("rivet-monitor-client", () -> session(c, commands));
        }
    }

    private static void pause() {
        try {
            Thread.sleep(ACCEPT_RETRY_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void refuse(SocketChannel c) {
        try (c) {
            c.write(ByteBuffer.wrap((Reply.ERROR_PREFIX + "too many monitor clients (" + MAX_CLIENTS + ")\n")
                    .getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            // gone already
        }
    }

    /** One client: read a line, carry it out, reply; until it disconnects or the server closes. */
    private void session(SocketChannel c, MonitorCommands commands) {
        try (c) {
            LineReader in = new LineReader(Channels.newInputStream(c), MAX_LINE);
            OutputStream out = new BufferedOutputStream(Channels.newOutputStream(c));
            while (!closed.get()) {
                Reply reply;
                try {
                    String line = in.readLine();
                    if (line == null) {
                        return;
                    }
                    reply = commands.execute(line);
                } catch (LineReader.LineTooLongException e) {
                    reply = Reply.error(e.getMessage());
                }
                try {
                    write(out, reply);
                } finally {
                    if (reply.after() != null) {
                        reply.after().run();
                    }
                }
            }
        } catch (IOException e) {
            // The client went away (or the server closed its socket): nothing to clean up
            // beyond the socket; whatever its last command did stands.
        } finally {
            clients.remove(c);
        }
    }

    private static void write(OutputStream out, Reply reply) throws IOException {
        StringBuilder b = new StringBuilder();
        for (String l : reply.lines()) {
            b.append(Reply.dataLine(l)).append('\n');
        }
        b.append(reply.finalLine()).append('\n');
        out.write(b.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /**
     * Stops listening, disconnects every client, waits a little for commands in progress,
     * and removes the socket file (if it is still this server's).
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (SocketChannel c : clients) {
            try {
                c.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MILLIS);
        for (Thread t : threads) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            try {
                t.join(Duration.ofNanos(left));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        try {
            Object key = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            if (fileKey == null ? UnixSockets.isSocket(path) : fileKey.equals(key)) {
                Files.delete(path);
            }
        } catch (IOException e) {
            // gone already, or not ours to remove
        }
    }
}
