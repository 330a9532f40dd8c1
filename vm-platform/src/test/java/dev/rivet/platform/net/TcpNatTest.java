package dev.rivet.platform.net;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.CRC32;

import static dev.rivet.platform.net.GuestFrames.ACK;
import static dev.rivet.platform.net.GuestFrames.GATEWAY_IP;
import static dev.rivet.platform.net.GuestFrames.GUEST_IP;
import static dev.rivet.platform.net.GuestFrames.RST;
import static dev.rivet.platform.net.GuestFrames.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Layer 4: TCP NAT, driven by the in-test guest stack ({@link GuestTcp}) against real host
 * sockets: bulk transfer through a small window with loss, zero-window probing, half-close,
 * resets both ways, refusals, limits, many connections, and cleanup.
 */
class TcpNatTest {
    private static final Duration LONG = Duration.ofSeconds(120);
    private static final Duration WAIT = Duration.ofSeconds(10);
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private TestGuest guest;

    @AfterEach
    void stop() throws Exception {
        if (guest != null) {
            guest.close();
        }
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private HostServer server(HostServer.Behaviour b) throws IOException {
        HostServer s = new HostServer(b);
        closeables.add(s);
        return s;
    }

    private static UserNetOptions.Limits limits(int maxTcp, Duration timeWait) {
        UserNetOptions.Limits d = UserNetOptions.Limits.DEFAULT;
        return new UserNetOptions.Limits(maxTcp, d.maxUdpFlows(), d.maxQueuedFrames(), d.maxPendingTransmit(),
                d.udpIdleTimeout(), d.tcpConnectTimeout(), timeWait, d.tcpMaxRetries());
    }

    private TestGuest guest(UserNetOptions.Limits l) {
        guest = new TestGuest(UserNetOptions.DEFAULT.withDns(null).withLimits(l));
        return guest;
    }

    private GuestTcp client(int localPort, int port, int window, int wscale, SplittableRandom loss, double lossRate) {
        return new GuestTcp(guest, GUEST_IP, localPort, GATEWAY_IP, port, window, wscale, loss, lossRate);
    }

    private void awaitNoConnections() throws InterruptedException {
        long end = System.nanoTime() + WAIT.toNanos();
        while (guest.net.tcpConnections() > 0 && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        assertEquals(0, guest.net.tcpConnections(), "every connection object is gone");
    }

    @Test
    void tenMegabytesEchoedThroughASmallWindowWithLoss() throws Exception {
        long seed = System.nanoTime();
        System.out.println("tenMegabytesEchoedThroughASmallWindowWithLoss seed=" + seed);
        HostServer echo = server(HostServer.ECHO);
        guest(limits(16, Duration.ofMillis(100)));
        GuestTcp c = client(40000, echo.port(), 16 * 1024, -1, new SplittableRandom(seed), 0.01);
        c.sendTotal = 10L << 20;
        c.closeAfterSend = true;
        c.connect();
        guest.pump(() -> c.closed(), LONG, c);
        assertFalse(c.reset, "seed=" + seed);
        assertEquals(c.sendTotal, c.received, "every byte came back (each one checked in order)");
        CRC32 expected = new CRC32();
        for (long i = 0; i < c.sendTotal; i++) {
            expected.update(GuestTcp.streamByte(i));
        }
        assertEquals(expected.getValue(), c.receivedCrc.getValue());
        System.out.println("lost " + c.dropped + " segments; fast retransmits "
                + guest.net.counter(UserNetCounter.TCP_FAST_RETRANSMITS) + ", timeouts "
                + guest.net.counter(UserNetCounter.TCP_RETRANSMIT_TIMEOUTS) + ", guest retransmits " + c.retransmits);
        assertTrue(c.dropped > 0, "the wire lost segments");
        assertTrue(guest.net.counter(UserNetCounter.TCP_FAST_RETRANSMITS)
                + guest.net.counter(UserNetCounter.TCP_RETRANSMIT_TIMEOUTS) > 0, "and the backend resent them");
        assertTrue(echo.awaitFinished(1, WAIT.toMillis()));
        assertEquals(List.of("ok"), echo.endings, "the host saw an orderly close");
        awaitNoConnections();
    }

    @Test
    void synAckCarriesMssAndWindowScaleOnlyWhenOffered() throws Exception {
        HostServer echo = server(HostServer.ECHO);
        guest(limits(16, Duration.ZERO));
        GuestTcp scaled = client(40001, echo.port(), 65535, 5, null, 0);
        scaled.connect();
        GuestTcp plain = client(40002, echo.port(), 65535, -1, null, 0);
        plain.connect();
        guest.pump(() -> scaled.state == GuestTcp.State.ESTABLISHED && plain.state == GuestTcp.State.ESTABLISHED, WAIT, "handshakes");
        assertEquals(1460, scaled.lastPeerMss);
        assertEquals(TcpConnection.OUR_WSCALE, scaled.lastPeerWscale);
        assertEquals(1460, plain.lastPeerMss);
        assertEquals(-1, plain.lastPeerWscale, "no window scale unless the guest offered it (RFC 7323)");
        assertTrue(scaled.synWindow > 0 && plain.synWindow > 0);
        // With scaling, the guest may send a window's worth above 64 KiB.
        scaled.sendTotal = 1 << 20;
        scaled.closeAfterSend = true;
        plain.sendTotal = 1 << 20;
        plain.closeAfterSend = true;
        guest.pump(() -> scaled.closed() && plain.closed(), LONG, List.of(scaled, plain));
        assertEquals(1 << 20, scaled.received);
        assertEquals(1 << 20, plain.received);
        awaitNoConnections();
    }

    @Test
    void aZeroWindowIsProbedAndTheTransferResumes() throws Exception {
        int total = 1 << 20;
        HostServer source = server((s, in, out) -> {
            byte[] b = new byte[total];
            for (int i = 0; i < total; i++) {
                b[i] = GuestTcp.streamByte(i);
            }
            out.write(b);
            s.shutdownOutput();
            while (in.read() >= 0) {
                // wait for the guest's FIN
            }
        });
        guest(limits(16, Duration.ofMillis(200))); // the host closes first: TIME_WAIT, then cleanup
        GuestTcp c = client(40003, source.port(), 8192, -1, null, 0);
        c.appPaused = true;
        c.connect();
        guest.pump(() -> c.received == 8192, WAIT, c);
        long pausedUntil = System.nanoTime() + 1_500_000_000L;
        guest.pump(() -> System.nanoTime() > pausedUntil, WAIT, c);
        assertEquals(8192, c.received, "nothing past the closed window");
        c.resumeApp();
        c.closeAfterSend = true;
        guest.pump(() -> c.peerFin, LONG, c);
        assertEquals(total, c.received);
        guest.pump(c::closed, WAIT, c);
        awaitNoConnections();
    }

    @Test
    void aGuestWithoutReceiveBuffersSlowsTheTransferButLosesNothing() throws Exception {
        long seed = System.nanoTime();
        System.out.println("aGuestWithoutReceiveBuffersSlowsTheTransferButLosesNothing seed=" + seed);
        SplittableRandom outages = new SplittableRandom(seed);
        HostServer echo = server(HostServer.ECHO);
        guest(limits(16, Duration.ofMillis(50)));
        GuestTcp c = client(40010, echo.port(), 64 * 1024, 4, null, 0);
        c.sendTotal = 4L << 20;
        c.closeAfterSend = true;
        c.connect();
        long end = System.nanoTime() + LONG.toNanos();
        while (!c.closed()) {
            assertTrue(System.nanoTime() < end, c::toString);
            // The card runs out of buffers now and then; the backend queues, then holds TCP back.
            guest.receiveBuffers(false);
            long outage = System.nanoTime() + outages.nextInt(1, 20) * 1_000_000L;
            guest.pump(() -> System.nanoTime() > outage, WAIT, c);
            guest.receiveBuffers(true);
            long run = System.nanoTime() + outages.nextInt(1, 20) * 1_000_000L;
            guest.pump(() -> c.closed() || System.nanoTime() > run, WAIT, c);
        }
        assertFalse(c.reset, "seed=" + seed);
        assertEquals(c.sendTotal, c.received, "seed=" + seed);
        assertTrue(guest.net.counter(UserNetCounter.FRAMES_TO_GUEST) > 0);
        awaitNoConnections();
    }

    @Test
    void aStalledGuestReaderStopsTheHostWriter() throws Exception {
        long total = 64L << 20;
        java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
        HostServer source = server((s, in, out) -> {
            byte[] chunk = new byte[16 * 1024];
            for (long at = 0; at < total; at += chunk.length) {
                for (int i = 0; i < chunk.length; i++) {
                    chunk[i] = GuestTcp.streamByte(at + i);
                }
                out.write(chunk);
                written.addAndGet(chunk.length);
            }
            s.shutdownOutput();
            while (in.read() >= 0) {
                // until the guest's FIN
            }
        });
        guest(limits(16, Duration.ZERO));
        GuestTcp c = client(40011, source.port(), 16 * 1024, -1, null, 0);
        c.appPaused = true;
        c.connect();
        long pause = System.nanoTime() + 1_000_000_000L;
        guest.pump(() -> System.nanoTime() > pause, WAIT, c);
        long stalledAt = written.get();
        assertTrue(stalledAt < total / 2, "the host writer is held back while the guest does not read: " + stalledAt);
        c.resumeApp();
        c.closeAfterSend = true;
        guest.pump(c::closed, LONG, c);
        assertEquals(total, c.received);
    }

    @Test
    void aHostThatDoesNotReadClosesTheGuestsWindow() throws Exception {
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        HostServer lazy = server((s, in, out) -> {
            try {
                go.await();
            } catch (InterruptedException e) {
                throw new java.io.InterruptedIOException();
            }
            HostServer.ECHO.serve(s, in, out);
        });
        guest(limits(16, Duration.ZERO));
        GuestTcp c = client(40012, lazy.port(), 1 << 20, 4, null, 0);
        c.sendTotal = 64L << 20;
        c.closeAfterSend = true;
        c.connect();
        long pause = System.nanoTime() + 1_000_000_000L;
        guest.pump(() -> System.nanoTime() > pause, WAIT, c);
        assertTrue(c.sawZeroWindow, "the backend's window closed: " + c);
        assertTrue(c.acked() < c.sendTotal / 2, "the guest was held back: " + c.acked());
        go.countDown();
        guest.pump(c::closed, LONG, c);
        assertEquals(c.sendTotal, c.received);
    }

    @Test
    void halfCloseCarriesTheReplyAfterTheGuestsFin() throws Exception {
        HostServer sink = server((s, in, out) -> {
            long n = 0;
            byte[] b = new byte[8192];
            for (int r; (r = in.read(b)) > 0; ) {
                n += r;
            }
            out.write(("got " + n).getBytes(StandardCharsets.US_ASCII)); // after the guest's FIN
            s.shutdownOutput();
        });
        guest(limits(16, Duration.ofMillis(50)));
        GuestTcp c = client(40004, sink.port(), 65535, 2, null, 0);
        c.verifyStream = false;
        c.keepBytes = true;
        c.sendTotal = 100_000;
        c.closeAfterSend = true;
        c.connect();
        guest.pump(c::closed, LONG, c);
        assertEquals("got 100000", c.receivedBytes.toString(StandardCharsets.US_ASCII));
        assertTrue(sink.awaitFinished(1, WAIT.toMillis()));
        assertEquals(List.of("ok"), sink.endings);
        awaitNoConnections();
    }

    @Test
    void aHostResetMidTransferResetsTheGuest() throws Exception {
        HostServer rude = server((s, in, out) -> {
            out.write(new byte[64 * 1024]);
            in.read(); // the guest's first data byte
            s.setSoLinger(true, 0);
            s.close(); // RST
        });
        guest(limits(16, Duration.ZERO));
        GuestTcp c = client(40005, rude.port(), 4096, -1, null, 0);
        c.verifyStream = false;
        c.sendTotal = 10;
        c.connect();
        guest.pump(() -> c.reset, WAIT, c);
        assertTrue(guest.net.counter(UserNetCounter.TCP_RESETS_FROM_HOST) >= 1);
        awaitNoConnections();
    }

    /**
     * A host that writes a stream and then resets, while the guest's window is closed: the
     * backend has read the whole stream by then. On the wire those bytes came before the RST,
     * so the guest gets every one of them, in order, and then the RST at exactly its next
     * expected byte. Guest data sent meanwhile has nowhere to go and is not acknowledged.
     */
    @Test
    void aHostResetDeliversTheBytesReadBeforeItThenResetsTheGuest() throws Exception {
        int total = 100 * 1024; // below the backend's send buffer: it reads it all while the guest does not
        java.util.concurrent.CountDownLatch resetNow = new java.util.concurrent.CountDownLatch(1);
        HostServer rude = server(writeThenResetWhen(total, resetNow));
        guest(limits(16, Duration.ZERO));
        GuestTcp c = client(40020, rude.port(), 8192, -1, null, 0);
        c.appPaused = true;
        c.connect();
        guest.pump(() -> guest.net.counter(UserNetCounter.TCP_BYTES_FROM_HOST) == total && c.received == 8192, WAIT, c);
        resetNow.countDown();
        guest.pump(() -> guest.net.counter(UserNetCounter.TCP_RESETS_FROM_HOST) == 1, WAIT, c);
        assertFalse(c.reset, "the RST waits behind the data: " + c);
        c.sendTotal = 1000; // the guest writes to a peer that is gone
        c.resumeApp();
        guest.pump(() -> c.reset, WAIT, c);
        assertEquals(total, c.received, "every byte the backend read from the host (each one checked in order)");
        assertTrue(c.resetAtRcvNxt, "the RST is sequenced right after the data");
        assertEquals(0, c.acked(), "no guest data was acknowledged after the host was gone");
        assertEquals(1, guest.net.counter(UserNetCounter.TCP_RESETS_DEFERRED));
        assertEquals(0, guest.net.counter(UserNetCounter.TCP_RESETS_DEFERRED_EXPIRED));
        assertEquals(1, guest.net.counter(UserNetCounter.TCP_RESETS_FROM_HOST), "counted once");
        awaitNoConnections();
    }

    /** As above, but the guest never opens its window again: it gets its RST after the drain limit. */
    @Test
    void aGuestThatKeepsItsWindowClosedAfterAHostResetIsResetAfterTheDrainLimit() throws Exception {
        int total = 100 * 1024;
        java.util.concurrent.CountDownLatch resetNow = new java.util.concurrent.CountDownLatch(1);
        HostServer rude = server(writeThenResetWhen(total, resetNow));
        guest(limits(16, Duration.ZERO).withTcpResetDrain(Duration.ofMillis(500)));
        GuestTcp c = client(40021, rude.port(), 8192, -1, null, 0);
        c.appPaused = true;
        c.connect();
        guest.pump(() -> guest.net.counter(UserNetCounter.TCP_BYTES_FROM_HOST) == total && c.received == 8192, WAIT, c);
        resetNow.countDown();
        guest.pump(() -> c.reset, WAIT, c);
        assertEquals(8192, c.received);
        assertTrue(c.resetAtRcvNxt, "the RST is at the guest's next expected byte, not past a window probe");
        assertEquals(1, guest.net.counter(UserNetCounter.TCP_RESETS_DEFERRED));
        assertEquals(1, guest.net.counter(UserNetCounter.TCP_RESETS_DEFERRED_EXPIRED));
        awaitNoConnections();
    }

    /** Writes {@code total} bytes of the test stream, then resets the connection once {@code go} opens. */
    private static HostServer.Behaviour writeThenResetWhen(int total, java.util.concurrent.CountDownLatch go) {
        return (s, in, out) -> {
            byte[] b = new byte[total];
            for (int i = 0; i < total; i++) {
                b[i] = GuestTcp.streamByte(i);
            }
            out.write(b);
            try {
                go.await(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new java.io.InterruptedIOException();
            }
            s.setSoLinger(true, 0); // the close that follows sends RST
        };
    }

    @Test
    void aGuestResetResetsTheHostSocket() throws Exception {
        HostServer echo = server(HostServer.ECHO);
        guest(limits(16, Duration.ZERO));
        GuestTcp c = client(40006, echo.port(), 65535, -1, null, 0);
        c.sendTotal = 1000;
        c.connect();
        guest.pump(() -> c.received == 1000, WAIT, c);
        c.abort();
        assertTrue(echo.awaitFinished(1, WAIT.toMillis()));
        assertTrue(echo.endings.getFirst().toLowerCase().contains("reset"), "the host read a reset: " + echo.endings);
        assertEquals(1, guest.net.counter(UserNetCounter.TCP_RESETS_FROM_GUEST));
        awaitNoConnections();
    }

    @Test
    void aRefusedConnectIsAnsweredWithRst() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        guest(limits(16, Duration.ZERO));
        guest.send(GuestFrames.tcp(GUEST_IP, 40007, GATEWAY_IP, closedPort, 5000, 0, SYN, 8192,
                GuestFrames.synOptions(1460, -1), new byte[0], 0, 0));
        GuestFrames.Parsed r = guest.await(GuestFrames.Parsed::isTcp, WAIT, "RST");
        assertTrue(r.has(RST) && r.has(ACK), r.toString());
        assertEquals(5001, r.ack, "acknowledges the SYN");
        assertEquals(1, guest.net.counter(UserNetCounter.TCP_CONNECT_FAILED));
        awaitNoConnections();
    }

    @Test
    void segmentsForNoConnectionAreReset() {
        guest(limits(16, Duration.ZERO));
        guest.send(GuestFrames.tcp(GUEST_IP, 40008, GATEWAY_IP, 80, 100, 777, ACK, 8192));
        GuestFrames.Parsed r = guest.await(GuestFrames.Parsed::isTcp, WAIT, "RST");
        assertTrue(r.has(RST) && !r.has(ACK));
        assertEquals(777, r.seq, "RFC 9293 3.5.2: the reset takes its sequence number from the ACK");
        guest.send(GuestFrames.tcp(GUEST_IP, 40008, GATEWAY_IP, 80, 100, 0, RST, 0));
        assertTrue(guest.quiet(200), "a reset is never answered");
    }

    @Test
    void theConnectionTableIsBounded() throws Exception {
        HostServer echo = server(HostServer.ECHO);
        guest(limits(4, Duration.ZERO));
        List<GuestTcp> open = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            GuestTcp c = client(41000 + i, echo.port(), 8192, -1, null, 0);
            c.connect();
            open.add(c);
        }
        guest.pump(() -> open.stream().allMatch(c -> c.state == GuestTcp.State.ESTABLISHED), WAIT, open);
        GuestTcp fifth = client(41004, echo.port(), 8192, -1, null, 0);
        fifth.connect();
        guest.pump(() -> fifth.reset, WAIT, fifth);
        assertEquals(1, guest.net.counter(UserNetCounter.DROP_TCP_CONNECTION_LIMIT));
        assertEquals(4, guest.net.tcpConnections());
    }

    @Test
    void restrictRefusesOutboundConnections() throws Exception {
        HostServer echo = server(HostServer.ECHO);
        guest = new TestGuest(UserNetOptions.parse("user,restrict=on").withDns(null));
        GuestTcp c = client(40009, echo.port(), 8192, -1, null, 0);
        c.connect();
        guest.pump(() -> c.reset, WAIT, c);
        assertEquals(1, guest.net.counter(UserNetCounter.DROP_RESTRICTED));
        assertEquals(0, echo.accepted.get(), "no host connection was made");
    }

    /**
     * Each restriction against the host's loopback (10.0.2.2) and an outside address
     * (192.0.2.1, TEST-NET-1): refused ones get the RST restrict=on gives, counted, and no
     * host connection is tried; allowed ones reach the host (or fail to connect there).
     */
    @ParameterizedTest
    @EnumSource(UserNetOptions.Restrict.class)
    void theRestrictionDecidesWhichDestinationsTcpReaches(UserNetOptions.Restrict restrict) throws Exception {
        HostServer echo = server(HostServer.ECHO);
        UserNetOptions.Limits d = UserNetOptions.Limits.DEFAULT;
        guest = new TestGuest(UserNetOptions.DEFAULT.withDns(null).withRestrict(restrict).withLimits(
                new UserNetOptions.Limits(16, d.maxUdpFlows(), d.maxQueuedFrames(), d.maxPendingTransmit(),
                        d.udpIdleTimeout(), Duration.ofSeconds(2), Duration.ZERO, d.tcpMaxRetries())));
        GuestTcp loopback = client(40030, echo.port(), 8192, -1, null, 0);
        loopback.sendTotal = 1000;
        loopback.connect();
        guest.pump(() -> loopback.reset || loopback.received == 1000, WAIT, loopback);
        boolean loopbackAllowed = restrict != UserNetOptions.Restrict.ON;
        assertEquals(!loopbackAllowed, loopback.reset, restrict + ": " + loopback);
        assertEquals(loopbackAllowed ? 1 : 0, echo.accepted.get());
        assertEquals(loopbackAllowed ? 0 : 1, guest.net.counter(UserNetCounter.DROP_RESTRICTED));

        GuestTcp outside = new GuestTcp(guest, GUEST_IP, 40031, GuestFrames.ip("192.0.2.1"), echo.port(), 8192, -1, null, 0);
        outside.connect();
        guest.pump(() -> outside.reset, WAIT, outside);
        boolean outsideAllowed = restrict == UserNetOptions.Restrict.OFF;
        assertEquals(outsideAllowed ? 0 : 1, guest.net.counter(UserNetCounter.DROP_RESTRICTED) - (loopbackAllowed ? 0 : 1),
                restrict + ": the outside address is refused as restricted");
        assertEquals(outsideAllowed ? 1 : 0, guest.net.counter(UserNetCounter.TCP_CONNECT_FAILED),
                restrict + ": a host connect was tried (and failed: TEST-NET-1 is not routed)");
    }

    @Test
    void hundredsOfConcurrentConnectionsAreAllCleanedUp() throws Exception {
        int n = 300;
        HostServer echo = server(HostServer.ECHO);
        guest(limits(1024, Duration.ofMillis(50)));
        List<GuestTcp> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            GuestTcp c = client(42000 + i, echo.port(), 4096, i % 2 == 0 ? -1 : 1, null, 0);
            c.sendTotal = 3000 + i;
            c.closeAfterSend = true;
            c.connect();
            all.add(c);
        }
        guest.pump(() -> all.stream().allMatch(GuestTcp::closed), LONG, "300 connections");
        for (GuestTcp c : all) {
            assertFalse(c.reset, c.toString());
            assertEquals(c.sendTotal, c.received, c.toString());
        }
        assertTrue(echo.awaitFinished(n, WAIT.toMillis()), "every host socket closed: " + echo.finished);
        assertEquals(n, echo.endings.stream().filter("ok"::equals).count());
        awaitNoConnections();
        assertEquals(n, guest.net.counter(UserNetCounter.TCP_CONNECTIONS_OPENED));
    }

    @Test
    void closeReleasesEveryHostSocketAndTheThread() throws Exception {
        HostServer echo = server(HostServer.ECHO);
        guest(limits(64, Duration.ZERO));
        List<GuestTcp> all = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            GuestTcp c = client(43000 + i, echo.port(), 8192, -1, null, 0);
            c.sendTotal = 100;
            c.connect();
            all.add(c);
        }
        guest.pump(() -> all.stream().allMatch(c -> c.received == 100), WAIT, all);
        UserNet.ForwardHandle fwd = guest.net.addHostForward(HostForward.parse("tcp:127.0.0.1:0-:22"));
        guest.send(GuestFrames.udp(GUEST_IP, 40000, GATEWAY_IP, echo.port(), new byte[1]));
        assertEquals(20, guest.net.tcpConnections());
        guest.close();
        assertTrue(echo.awaitFinished(20, WAIT.toMillis()), "every host connection ended: " + echo.finished);
        assertThrowsConnect(fwd.localAddress().getPort());
        assertEquals(0, guest.net.tcpConnections());
        guest.close(); // idempotent
        long end = System.nanoTime() + WAIT.toNanos();
        while (Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith("rivet-usernet"))
                && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        assertFalse(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith("rivet-usernet")),
                "the event loop thread ended");
    }

    /**
     * Asserts nobody listens on {@code port} any more. Java's NIO frees a listening socket
     * registered with a selector only at the selector's next turn, so the check retries briefly.
     */
    static void assertThrowsConnect(int port) throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (true) {
            try (java.net.Socket s = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
                if (System.nanoTime() > end) {
                    throw new AssertionError("port " + port + " still accepts");
                }
            } catch (IOException expected) {
                return; // refused: nobody listens
            }
            Thread.sleep(10);
        }
    }
}
