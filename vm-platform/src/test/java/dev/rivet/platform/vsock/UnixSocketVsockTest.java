package dev.rivet.platform.vsock;

import dev.rivet.platform.vsock.MiniGuest.Sock;
import dev.rivet.virtio.vsock.VirtioVsock;
import dev.rivet.virtio.vsock.VsockLimits;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static dev.rivet.virtio.vsock.VirtioVsock.SHUTDOWN_RCV;
import static dev.rivet.virtio.vsock.VirtioVsock.SHUTDOWN_SEND;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Firecracker-style Unix-socket host side with real sockets in a temporary directory,
 * the real virtio-vsock device, and a small guest ({@link MiniGuest}) playing Linux's
 * vsock transport. Host programs are plain blocking Unix-socket clients and servers on
 * their own threads.
 */
class UnixSocketVsockTest {
    static final long CID = 3;
    static final int MIB = 1 << 20;
    static final long SEED = Long.getLong("rivet.seed", new SplittableRandom().nextLong(1L << 40));

    @TempDir
    Path dir;
    Path uds;
    final ExecutorService io = Executors.newSingleThreadExecutor(r -> new Thread(r, "vsock-io"));
    final ExecutorService programs = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "host-program");
        t.setDaemon(true);
        return t;
    });
    UnixSocketVsock backend;
    VirtioVsock dev;
    MiniGuest guest;

    @BeforeEach
    void setUp() {
        System.out.printf("UnixSocketVsockTest: seed %d (-Drivet.seed=%d)%n", SEED, SEED);
        uds = dir.resolve("v.sock");
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        if (dev != null) {
            dev.close();
        }
        if (guest != null) {
            guest.close();
        }
        programs.shutdownNow();
        io.shutdownNow();
        assertTrue(io.awaitTermination(10, TimeUnit.SECONDS));
    }

    void start(Duration lineTimeout, Duration connectTimeout) throws IOException {
        backend = UnixSocketVsock.open(uds, lineTimeout, connectTimeout);
        dev = new VirtioVsock(CID, backend, io, new VsockLimits(64 * 1024, 16));
        guest = new MiniGuest(dev);
    }

    void start() throws IOException {
        start(UnixSocketVsock.LINE_TIMEOUT, UnixSocketVsock.CONNECT_TIMEOUT);
    }

    /** Runs the guest's poll loop until {@code cond} holds. */
    void guestUntil(BooleanSupplier cond, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!cond.getAsBoolean()) {
            guest.poll();
            assertFalse(guest.broken(), "device needs reset");
            if (System.nanoTime() > deadline) {
                fail("not within 30 s: " + what);
            }
            Thread.onSpinWait();
        }
    }

    static SocketChannel client(Path p) throws IOException {
        SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            c.connect(UnixDomainSocketAddress.of(p));
        } catch (IOException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /**
     * True when the peer closed without a line: end-of-stream, or a reset (the peer closed
     * with bytes of ours unread, which AF_UNIX reports as ECONNRESET).
     */
    static boolean closedWithoutLine(SocketChannel c) {
        try {
            return readLine(c) == null;
        } catch (IOException e) {
            return true;
        }
    }

    static void writeAll(SocketChannel c, byte[] b) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(b);
        while (bb.hasRemaining()) {
            c.write(bb);
        }
    }

    /** Reads one line byte by byte (so that no stream data after it is consumed); null at EOF. */
    static String readLine(SocketChannel c) throws IOException {
        StringBuilder sb = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        for (;;) {
            one.clear();
            if (c.read(one) < 0) {
                return sb.isEmpty() ? null : sb.toString();
            }
            char ch = (char) one.get(0);
            if (ch == '\n') {
                return sb.toString();
            }
            sb.append(ch);
        }
    }

    static byte[] readToEof(SocketChannel c) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer b = ByteBuffer.allocate(8192);
        while (c.read(b.clear()) >= 0) {
            out.write(b.array(), 0, b.position());
        }
        return out.toByteArray();
    }

    /** Runs a blocking host-program step with a bound, so that a regression fails instead of hanging. */
    <T> T within(java.util.concurrent.Callable<T> step) throws Exception {
        try {
            return programs.submit(step).get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("a host program was still blocked after 10 s", e);
        }
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** A host program: writes {@code data} then shuts its output down, and reads to end-of-stream. */
    record Program(Future<Void> writer, Future<byte[]> reader) {
    }

    Program exchange(SocketChannel c, byte[] data) {
        Future<Void> w = programs.submit(() -> {
            for (int off = 0; off < data.length; off += 8192) {
                writeAll(c, java.util.Arrays.copyOfRange(data, off, Math.min(data.length, off + 8192)));
            }
            c.shutdownOutput();
            return null;
        });
        return new Program(w, programs.submit(() -> readToEof(c)));
    }

    /**
     * The guest's side of a 1 MiB exchange: sends {@code out} then SHUTDOWN(SEND), reads to
     * the peer's SHUTDOWN. Once both sides have shut down, the device's RST may arrive in the
     * same poll as the last data (the data queued before it is still read): a reset before
     * that point fails the exchange.
     */
    byte[] guestExchange(Sock s, byte[] out) {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        int[] sent = {0};
        guestUntil(() -> {
            s.read(got, Integer.MAX_VALUE);
            boolean done = sent[0] == out.length && s.peerShutSend && s.queue.isEmpty();
            assertFalse(s.reset && !done, "reset during the exchange");
            if (sent[0] < out.length) {
                sent[0] += s.write(out, sent[0], out.length - sent[0]);
                if (sent[0] == out.length) {
                    s.shutdown(SHUTDOWN_SEND);
                }
            }
            return done;
        }, "1 MiB each way");
        return got.toByteArray();
    }

    void assertAllClosed() {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (dev.connectionCount() != 0 || backend.openStreams() != 0) {
            if (System.nanoTime() > deadline) {
                fail("still open: " + dev.connectionCount() + " connections, " + backend.openStreams() + " streams");
            }
            guest.poll();
            Thread.onSpinWait();
        }
    }

    // ---- host-initiated ----

    @Test
    void hostConnectReachesAGuestListenerAndCarriesAMebibyteEachWay() throws Exception {
        start();
        guest.listen(52);
        SocketChannel c = client(uds);
        writeAll(c, "CONNECT 52\nearly".getBytes(StandardCharsets.US_ASCII));
        Future<String> ok = programs.submit(() -> readLine(c));
        guestUntil(ok::isDone, "the guest accepts");
        assertEquals("OK " + (1 << 30), ok.get(), "OK with the host port the device gave");
        Sock s = guest.accept(52);
        ByteArrayOutputStream early = new ByteArrayOutputStream();
        guestUntil(() -> {
            s.read(early, 100);
            return early.size() >= 5;
        }, "early bytes");
        assertEquals("early", early.toString(StandardCharsets.US_ASCII), "bytes sent after the line come first");

        byte[] toGuest = random(MIB, SEED), toHost = random(MIB, SEED + 1);
        Program p = exchange(c, toGuest);
        byte[] gotByGuest = guestExchange(s, toHost);
        guestUntil(() -> s.reset, "RST once neither side sends");
        assertEquals(sha256(toGuest), sha256(gotByGuest), "seed " + SEED);
        assertEquals(sha256(toHost), sha256(p.reader().get(10, TimeUnit.SECONDS)), "seed " + SEED);
        p.writer().get(10, TimeUnit.SECONDS);
        c.close();
        assertAllClosed();
    }

    @Test
    void hostConnectToAPortNobodyListensOnIsClosed() throws Exception {
        start();
        try (SocketChannel c = client(uds)) {
            writeAll(c, "CONNECT 53\n".getBytes(StandardCharsets.US_ASCII));
            Future<String> line = programs.submit(() -> readLine(c));
            guestUntil(line::isDone, "the guest refuses");
            assertNull(line.get(), "closed without OK");
        }
        assertAllClosed();
    }

    @Test
    void badLinesAndSilentProgramsAreClosed() throws Exception {
        start(Duration.ofMillis(200), UnixSocketVsock.CONNECT_TIMEOUT);
        guest.listen(52);
        for (String bad : new String[] {"HELLO\n", "CONNECT\n", "CONNECT 5x\n", "CONNECT 4294967296\n",
            "connect 52\n", "CONNECT  52\n", "CONNECT 52" + " ".repeat(40)}) {
            try (SocketChannel c = client(uds)) {
                writeAll(c, bad.getBytes(StandardCharsets.US_ASCII));
                assertTrue(within(() -> closedWithoutLine(c)), "closed after '" + bad.strip() + "'");
            }
        }
        try (SocketChannel c = client(uds)) { // never sends a line
            assertNull(within(() -> readLine(c)), "closed after the line timeout");
        }
        assertEquals(0, guest.openSockets(), "none reached the guest");
        assertEquals(0, dev.connectionCount());
    }

    @Test
    void aGuestThatNeverAnswersIsGivenUpOn() throws Exception {
        start(UnixSocketVsock.LINE_TIMEOUT, Duration.ofMillis(200));
        try (SocketChannel c = client(uds)) {
            writeAll(c, "CONNECT 52\n".getBytes(StandardCharsets.US_ASCII));
            // The guest does not poll, so it never answers.
            assertNull(within(() -> readLine(c)), "closed once the guest did not answer in time");
        }
        guestUntil(() -> dev.connectionCount() == 0, "the device forgets it");
        assertEquals(0, backend.openStreams());
    }

    @Test
    void parsesConnectLinesStrictly() {
        assertEquals(52, UnixSocketVsock.parseConnect(b("CONNECT 52"), 10));
        assertEquals(52, UnixSocketVsock.parseConnect(b("CONNECT 52\r"), 11));
        assertEquals(0xFFFF_FFFFL, UnixSocketVsock.parseConnect(b("CONNECT 4294967295"), 18));
        for (String bad : new String[] {"CONNECT ", "CONNECT 4294967296", "CONNECT -1", "CONNECT 1 ", "CONNEC 1",
            "CONNECT 12345678901"}) {
            assertEquals(-1, UnixSocketVsock.parseConnect(b(bad), bad.length()), bad);
        }
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    // ---- guest-initiated ----

    @Test
    void guestConnectReachesTheHostListenerOnUdsPortAndCarriesAMebibyteEachWay() throws Exception {
        start();
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(Path.of(uds + "_5000")));
            Future<SocketChannel> accepted = programs.submit(listener::accept);
            Sock s = guest.connect(5000, 256 * 1024);
            guestUntil(() -> s.established || s.reset, "RESPONSE");
            assertTrue(s.established);
            SocketChannel c = accepted.get(10, TimeUnit.SECONDS);

            byte[] toGuest = random(MIB, SEED + 2), toHost = random(MIB, SEED + 3);
            Program p = exchange(c, toGuest);
            byte[] gotByGuest = guestExchange(s, toHost);
            guestUntil(() -> s.reset, "RST once neither side sends");
            assertArrayEquals(toGuest, gotByGuest, "seed " + SEED);
            assertEquals(sha256(toHost), sha256(p.reader().get(10, TimeUnit.SECONDS)), "seed " + SEED);
            c.close();
        }
        assertAllClosed();
    }

    @Test
    void guestConnectWithNobodyListeningGetsRst() throws IOException {
        start();
        Sock s = guest.connect(5001, 65536);
        guestUntil(() -> s.reset || s.established, "an answer");
        assertTrue(s.reset, "RST, as from a port nobody listens on");
        assertEquals(0, dev.connectionCount());
    }

    // ---- peers closing mid-transfer ----

    @Test
    void hostProgramClosingMidTransferResetsTheGuestSocket() throws Exception {
        start();
        guest.listen(52);
        SocketChannel c = client(uds);
        writeAll(c, "CONNECT 52\n".getBytes(StandardCharsets.US_ASCII));
        Future<String> ok = programs.submit(() -> readLine(c));
        guestUntil(ok::isDone, "accepted");
        Sock s = guest.accept(52);
        Future<Integer> partial = programs.submit(() -> {
            ByteBuffer b = ByteBuffer.allocate(100_000);
            while (b.hasRemaining()) {
                c.read(b);
            }
            c.close(); // mid-transfer, with more on its way
            return b.position();
        });
        byte[] out = random(MIB, SEED + 4);
        int[] sent = {0};
        guestUntil(() -> {
            if (!s.reset && sent[0] < out.length) {
                sent[0] += s.write(out, sent[0], out.length - sent[0]);
            }
            return s.reset;
        }, "the guest socket is reset");
        assertEquals(100_000, partial.get(10, TimeUnit.SECONDS));
        assertTrue(sent[0] < out.length, "stopped mid-transfer");
        assertAllClosed();
    }

    @Test
    void guestResettingMidTransferClosesTheHostProgramsSocket() throws Exception {
        start();
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(Path.of(uds + "_6000")));
            Future<SocketChannel> accepted = programs.submit(listener::accept);
            Sock s = guest.connect(6000, 64 * 1024);
            guestUntil(() -> s.established, "RESPONSE");
            SocketChannel c = accepted.get(10, TimeUnit.SECONDS);
            Program p = exchange(c, random(8 * MIB, SEED + 5)); // more than any socket buffer
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            guestUntil(() -> s.read(got, Integer.MAX_VALUE) >= 0 && got.size() >= 100_000, "100 kB");
            s.rst();
            Exception e = assertThrows(Exception.class, () -> p.writer().get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof IOException, "the program's write fails: " + e);
            try {
                p.reader().get(10, TimeUnit.SECONDS); // its reader sees end-of-stream...
            } catch (java.util.concurrent.ExecutionException r) {
                assertTrue(r.getCause() instanceof IOException, "...or a reset: " + r); // (ours unread)
            }
            c.close();
        }
        assertAllClosed();
    }

    @Test
    void aGuestGivingNoCreditStopsTheHostReadingAndItsWriterBlocks() throws Exception {
        start();
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(Path.of(uds + "_7000")));
            Future<SocketChannel> accepted = programs.submit(listener::accept);
            Sock s = guest.connect(7000, 128 * 1024);
            guestUntil(() -> s.established, "RESPONSE");
            SocketChannel c = accepted.get(10, TimeUnit.SECONDS);
            Program p = exchange(c, random(16 * MIB, SEED + 6));
            guestUntil(() -> s.rxBytes == 128 * 1024, "the guest's buffer fills");
            // The guest's application does not read: the device must not read the host further,
            // so the program's 16 MiB cannot all be written.
            for (int i = 0; i < 1000; i++) {
                guest.poll(); // MiniGuest fails the test if the device sends beyond the credit
            }
            assertFalse(p.writer().isDone(), "the host writer is held back by its full socket");
            assertEquals(128 * 1024, s.rxBytes);
            s.rst();
            c.close();
        }
        assertAllClosed();
    }

    // ---- lifecycle ----

    @Test
    void aStaleSocketIsReplacedButAFileOrALiveListenerIsNot() throws Exception {
        try (ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            stale.bind(UnixDomainSocketAddress.of(uds)); // listening: in use
            IOException e = assertThrows(IOException.class, () -> UnixSocketVsock.open(uds));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        } // closed, but the socket file stays: stale
        assertTrue(Files.exists(uds));
        UnixSocketVsock.open(uds).close();
        assertFalse(Files.exists(uds), "close() removes the socket");

        Path file = dir.resolve("file");
        Files.writeString(file, "data");
        IOException e = assertThrows(IOException.class, () -> UnixSocketVsock.open(file));
        assertTrue(e.getMessage().contains("not a socket"), e.getMessage());
        assertEquals("data", Files.readString(file), "never removed");
    }

    @Test
    void closeLeavesNoThreadsSocketsOrSocketFile() throws Exception {
        long fdsBefore = socketFds();
        start();
        guest.listen(52);
        SocketChannel in = client(uds);
        writeAll(in, "CONNECT 52\n".getBytes(StandardCharsets.US_ASCII));
        Future<String> ok = programs.submit(() -> readLine(in));
        guestUntil(ok::isDone, "accepted");
        assertTrue(ok.get().startsWith("OK "));
        SocketChannel out;
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(Path.of(uds + "_8000")));
            Future<SocketChannel> accepted = programs.submit(listener::accept);
            Sock s = guest.connect(8000, 65536);
            guestUntil(() -> s.established, "RESPONSE");
            out = accepted.get(10, TimeUnit.SECONDS);
        }
        assertEquals(2, backend.openStreams());
        Thread selector = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("vsock-uds " + uds)).findFirst().orElseThrow();

        dev.close(); // the machine shuts down: the device closes its backend
        assertFalse(selector.isAlive(), "close() returns once the selector thread is gone");
        assertFalse(Files.exists(uds), "the socket file is gone");
        assertEquals(0, backend.openStreams());
        assertEquals(0, within(() -> readToEof(in)).length, "host programs see end-of-stream");
        assertEquals(0, within(() -> readToEof(out)).length);
        in.close();
        out.close();
        assertThrows(IOException.class, () -> client(uds));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (socketFds() > fdsBefore) {
            if (System.nanoTime() > deadline) {
                fail("sockets left open: " + socketFds() + " > " + fdsBefore);
            }
            Thread.onSpinWait();
        }
        dev = null;
    }

    /** Open sockets, epoll and eventfd descriptors of this process (Linux /proc). */
    static long socketFds() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(p -> {
                try {
                    String t = Files.readSymbolicLink(p).toString();
                    return t.startsWith("socket:") || t.startsWith("anon_inode:");
                } catch (IOException e) {
                    return false; // closed while listing
                }
            }).count();
        }
    }
}
