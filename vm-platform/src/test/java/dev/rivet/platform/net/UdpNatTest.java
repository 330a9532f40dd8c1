package dev.rivet.platform.net;

import org.junit.jupiter.api.AfterEach;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.socket.nio.NioDatagramChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static dev.rivet.platform.net.GuestFrames.DNS_IP;
import static dev.rivet.platform.net.GuestFrames.GATEWAY_IP;
import static dev.rivet.platform.net.GuestFrames.GUEST_IP;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Layer 3: UDP through NAT to real host sockets, DNS forwarding, flow expiry and limits, restrict=on. */
class UdpNatTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private TestGuest guest;
    private DatagramSocket server;
    private Thread serverThread;
    /** What the host server received: payload and the sender. */
    private final LinkedBlockingQueue<DatagramPacket> serverGot = new LinkedBlockingQueue<>();

    /** A host UDP server on 127.0.0.1 that records each datagram and answers with {@code answer(payload)}. */
    private int startServer(java.util.function.UnaryOperator<byte[]> answer) throws Exception {
        server = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        serverThread = Thread.ofVirtual().start(() -> {
            byte[] buf = new byte[65536];
            while (!server.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    server.receive(p);
                    byte[] data = Arrays.copyOf(p.getData(), p.getLength());
                    serverGot.add(new DatagramPacket(data, data.length, p.getSocketAddress()));
                    byte[] r = answer.apply(data);
                    if (r != null) {
                        server.send(new DatagramPacket(r, r.length, p.getSocketAddress()));
                    }
                } catch (Exception e) {
                    return;
                }
            }
        });
        return server.getLocalPort();
    }

    @AfterEach
    void stop() throws Exception {
        if (guest != null) {
            guest.close();
        }
        if (server != null) {
            server.close();
            serverThread.join();
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] echo(byte[] in) {
        byte[] out = new byte[in.length + 5];
        System.arraycopy(ascii("echo:"), 0, out, 0, 5);
        System.arraycopy(in, 0, out, 5, in.length);
        return out;
    }

    @Test
    void echoThroughNatToTheHostLoopback() throws Exception {
        int port = startServer(UdpNatTest::echo);
        guest = new TestGuest(UserNetOptions.DEFAULT.withDns(null));
        guest.send(GuestFrames.udp(GUEST_IP, 40000, GATEWAY_IP, port, ascii("hello")));
        GuestFrames.Parsed r = guest.await(GuestFrames.Parsed::isUdp, WAIT, "echo");
        assertEquals(GATEWAY_IP, r.src, "10.0.2.2 stands for the host's 127.0.0.1");
        assertEquals(port, r.sport);
        assertEquals(GUEST_IP, r.dst);
        assertEquals(40000, r.dport);
        assertArrayEquals(ascii("echo:hello"), r.payload());
        DatagramPacket got = serverGot.poll(1, TimeUnit.SECONDS);
        assertArrayEquals(ascii("hello"), got.getData());
        // A second datagram from the same guest port uses the same host socket (same source port on the host).
        guest.send(GuestFrames.udp(GUEST_IP, 40000, GATEWAY_IP, port, ascii("again")));
        guest.await(GuestFrames.Parsed::isUdp, WAIT, "second echo");
        assertEquals(got.getSocketAddress(), serverGot.poll(1, TimeUnit.SECONDS).getSocketAddress());
        assertEquals(1, guest.net.udpFlows());
        assertEquals(1, guest.net.counter(UserNetCounter.UDP_FLOWS_OPENED));
    }

    @Test
    void anyHostPeerCanAnswerTheGuestsFlow() throws Exception {
        int port = startServer(in -> null);
        guest = new TestGuest(UserNetOptions.DEFAULT.withDns(null));
        guest.send(GuestFrames.udp(GUEST_IP, 40001, GATEWAY_IP, port, ascii("ping")));
        DatagramPacket got = serverGot.poll(5, TimeUnit.SECONDS);
        try (DatagramSocket other = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            other.send(new DatagramPacket(ascii("from elsewhere"), 14, got.getSocketAddress()));
            GuestFrames.Parsed r = guest.await(GuestFrames.Parsed::isUdp, WAIT, "reply from another port");
            assertEquals(GATEWAY_IP, r.src);
            assertEquals(other.getLocalPort(), r.sport, "like slirp: one socket per guest port, replies from anywhere");
            assertArrayEquals(ascii("from elsewhere"), r.payload());
        }
    }

    @Test
    void dnsQueriesGoToTheConfiguredResolverAndAnswersComeFromTheDnsAddress() throws Exception {
        int port = startServer(q -> {
            byte[] a = q.clone();
            a[2] |= (byte) 0x80; // QR: a response
            return a;
        });
        guest = new TestGuest(UserNetOptions.DEFAULT.withDns(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)));
        byte[] query = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1};
        guest.send(GuestFrames.udp(GUEST_IP, 33333, DNS_IP, 53, query));
        GuestFrames.Parsed r = guest.await(GuestFrames.Parsed::isUdp, WAIT, "DNS answer");
        assertEquals(DNS_IP, r.src);
        assertEquals(53, r.sport);
        assertEquals(33333, r.dport);
        byte[] expected = query.clone();
        expected[2] |= (byte) 0x80;
        assertArrayEquals(expected, r.payload());
        assertArrayEquals(query, serverGot.poll(1, TimeUnit.SECONDS).getData(), "the resolver got the query unchanged");
        // Another port on 10.0.2.3 is nothing.
        guest.send(GuestFrames.udp(GUEST_IP, 33333, DNS_IP, 54, query));
        assertTrue(guest.quiet(200));
    }

    @Test
    void answersLargerThanTheMtuArriveAsFragments() throws Exception {
        byte[] big = new byte[4000];
        for (int i = 0; i < big.length; i++) {
            big[i] = GuestTcp.streamByte(i);
        }
        int port = startServer(q -> big);
        guest = new TestGuest(UserNetOptions.DEFAULT.withDns(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)));
        guest.send(GuestFrames.udp(GUEST_IP, 33334, DNS_IP, 53, ascii("q")));
        // Reassemble as the guest's IP layer would (RFC 791): fragments carry 8-byte-unit offsets.
        ByteArrayOutputStream whole = new ByteArrayOutputStream();
        int id = -1;
        boolean more = true;
        int frames = 0;
        while (more) {
            GuestFrames.Parsed f = guest.await(p -> p.etherType == 0x0800 && p.proto == 17, WAIT, "fragment");
            assertTrue(f.frame.length <= 1514);
            if (id < 0) {
                id = f.ipId;
            }
            assertEquals(id, f.ipId, "one datagram");
            assertEquals(whole.size(), f.fragmentOffset(), "in order, no gaps");
            whole.write(f.frame, f.l4, f.l4Length);
            more = f.moreFragments();
            frames++;
        }
        assertEquals(3, frames);
        byte[] udp = whole.toByteArray();
        assertEquals(8 + big.length, udp.length);
        assertEquals(0, GuestFrames.cksum(udp, 0, udp.length, GuestFrames.pseudo(DNS_IP, GUEST_IP, 17, udp.length)),
                "the UDP checksum covers the reassembled datagram");
        assertArrayEquals(big, Arrays.copyOfRange(udp, 8, udp.length));
    }

    @Test
    void idleFlowsExpireAndTheTableIsBounded() throws Exception {
        int port = startServer(UdpNatTest::echo);
        UserNetOptions.Limits d = UserNetOptions.Limits.DEFAULT;
        guest = new TestGuest(UserNetOptions.DEFAULT.withDns(null).withLimits(new UserNetOptions.Limits(d.maxTcpConnections(),
                4, d.maxQueuedFrames(), d.maxPendingTransmit(), Duration.ofMillis(200), d.tcpConnectTimeout(), d.tcpTimeWait(),
                d.tcpMaxRetries())));
        for (int i = 0; i < 6; i++) {
            guest.send(GuestFrames.udp(GUEST_IP, 41000 + i, GATEWAY_IP, port, ascii("x" + i)));
        }
        for (int i = 0; i < 4; i++) {
            guest.await(GuestFrames.Parsed::isUdp, WAIT, "echo " + i);
        }
        assertNull(guest.next(200), "only four flows fit");
        assertEquals(2, guest.net.counter(UserNetCounter.DROP_UDP_FLOW_LIMIT));
        long end = System.nanoTime() + WAIT.toNanos();
        while (guest.net.udpFlows() > 0 && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        assertEquals(0, guest.net.udpFlows(), "idle flows closed");
        assertEquals(4, guest.net.counter(UserNetCounter.UDP_FLOWS_EXPIRED));
        guest.send(GuestFrames.udp(GUEST_IP, 41005, GATEWAY_IP, port, ascii("later")));
        assertArrayEquals(ascii("echo:later"), guest.await(GuestFrames.Parsed::isUdp, WAIT, "new flow").payload());
    }

    @Test
    void restrictDropsOutboundUdpButKeepsDnsAndDhcp() throws Exception {
        int port = startServer(UdpNatTest::echo);
        InetSocketAddress resolver = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        guest = new TestGuest(UserNetOptions.parse("user,restrict=on").withDns(resolver));
        guest.send(GuestFrames.udp(GUEST_IP, 40000, GATEWAY_IP, port, ascii("leak?")));
        guest.send(GuestFrames.udp(GUEST_IP, 40000, GuestFrames.ip("192.0.2.1"), 9, ascii("leak?")));
        assertTrue(guest.quiet(300));
        assertNull(serverGot.poll(100, TimeUnit.MILLISECONDS), "nothing left the guest network");
        assertEquals(2, guest.net.counter(UserNetCounter.DROP_RESTRICTED));
        guest.send(GuestFrames.udp(GUEST_IP, 40000, DNS_IP, 53, ascii("query")));
        assertArrayEquals(ascii("echo:query"), guest.await(GuestFrames.Parsed::isUdp, WAIT, "DNS").payload());
        guest.send(GuestFrames.dhcp(1, 1, true, 0, GuestFrames.GUEST_MAC, new byte[0]));
        guest.await(f -> f.isUdp() && f.sport == 67, WAIT, "DHCP offer");
    }

    /**
     * Each restriction against the host's loopback (10.0.2.2), an outside address
     * (192.0.2.1, TEST-NET-1) and the DNS forwarder: refused datagrams are dropped and
     * counted as restrict=on drops them, without a host socket; DNS works under all three.
     */
    @ParameterizedTest
    @EnumSource(UserNetOptions.Restrict.class)
    void theRestrictionDecidesWhichDestinationsUdpReaches(UserNetOptions.Restrict restrict) throws Exception {
        int port = startServer(UdpNatTest::echo);
        InetSocketAddress resolver = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        guest = new TestGuest(UserNetOptions.DEFAULT.withDns(resolver).withRestrict(restrict));
        boolean loopbackAllowed = restrict != UserNetOptions.Restrict.ON;
        guest.send(GuestFrames.udp(GUEST_IP, 40000, GATEWAY_IP, port, ascii("loopback")));
        if (loopbackAllowed) {
            assertArrayEquals(ascii("echo:loopback"), guest.await(GuestFrames.Parsed::isUdp, WAIT, "echo").payload());
            assertArrayEquals(ascii("loopback"), serverGot.poll(5, TimeUnit.SECONDS).getData());
        } else {
            assertTrue(guest.quiet(300));
            assertNull(serverGot.poll(100, TimeUnit.MILLISECONDS), "nothing reached the host");
        }
        assertEquals(loopbackAllowed ? 0 : 1, guest.net.counter(UserNetCounter.DROP_RESTRICTED), restrict.name());
        assertEquals(loopbackAllowed ? 1 : 0, guest.net.udpFlows());

        guest.send(GuestFrames.udp(GUEST_IP, 40001, GuestFrames.ip("192.0.2.1"), 9, ascii("outside")));
        int flows = guest.net.udpFlows(); // runs on the event loop after the datagram was handled
        boolean outsideAllowed = restrict == UserNetOptions.Restrict.OFF;
        assertEquals((loopbackAllowed ? 1 : 0) + (outsideAllowed ? 1 : 0), flows,
                restrict + ": a host socket only for an allowed destination");
        assertEquals((loopbackAllowed ? 0 : 1) + (outsideAllowed ? 0 : 1), guest.net.counter(UserNetCounter.DROP_RESTRICTED),
                restrict.name());

        guest.send(GuestFrames.udp(GUEST_IP, 40002, DNS_IP, 53, ascii("query")));
        GuestFrames.Parsed a = guest.await(GuestFrames.Parsed::isUdp, WAIT, "DNS answer");
        assertEquals(DNS_IP, a.src);
        assertArrayEquals(ascii("echo:query"), a.payload());
    }

    /**
     * A host peer blasts datagrams at a guest that has no receive buffers. The backend
     * queues frames for it until half its queue is used, then stops reading the host socket
     * (the host kernel drops the overflow, at no cost to us) instead of reading, copying and
     * dropping each datagram. When the guest takes the queue back, reading resumes: frames
     * arrive in order and later datagrams get through.
     */
    @Test
    void aBlastAtAGuestWithoutReceiveBuffersStopsTheReadingInsteadOfDroppingWhatIsRead() throws Exception {
        int port = startServer(in -> null);
        guest = new TestGuest(UserNetOptions.DEFAULT.withDns(null));
        guest.send(GuestFrames.udp(GUEST_IP, 40200, GATEWAY_IP, port, ascii("open")));
        java.net.SocketAddress flow = serverGot.poll(5, TimeUnit.SECONDS).getSocketAddress();
        int limit = UserNetOptions.Limits.DEFAULT.maxQueuedFrames();
        int n = 4 * limit;
        guest.receiveBuffers(false);
        try (DatagramSocket blaster = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            byte[] d = new byte[1000];
            for (int i = 0; i < n; i++) {
                java.nio.ByteBuffer.wrap(d).putInt(0, i);
                blaster.send(new DatagramPacket(d, d.length, flow));
            }
            long end = System.nanoTime() + WAIT.toNanos();
            while (guest.net.queuedFrames() < limit / 2 && System.nanoTime() < end) {
                Thread.sleep(5);
            }
            Thread.sleep(200); // whatever the backend still does with the blast, it does now
            assertEquals(limit / 2, guest.net.queuedFrames(), "reading stopped at half the queue");
            assertEquals(0, guest.net.counter(UserNetCounter.DROP_GUEST_QUEUE_FULL), "no datagram was read only to be dropped");
            assertEquals(1, guest.net.counter(UserNetCounter.UDP_READS_PAUSED));

            guest.receiveBuffers(true);
            List<Integer> got = new ArrayList<>();
            for (GuestFrames.Parsed f; (f = guest.next(300)) != null; ) {
                got.add(java.nio.ByteBuffer.wrap(f.payload()).getInt(0));
            }
            assertTrue(got.size() >= limit / 2, "the queue and what the host kernel kept: " + got.size());
            for (int i = 1; i < got.size(); i++) {
                assertTrue(got.get(i) > got.get(i - 1), "in order: " + got);
            }
            java.nio.ByteBuffer.wrap(d).putInt(0, n);
            blaster.send(new DatagramPacket(d, d.length, flow));
            GuestFrames.Parsed later = guest.await(GuestFrames.Parsed::isUdp, WAIT, "a datagram sent after the blast");
            assertEquals(n, java.nio.ByteBuffer.wrap(later.payload()).getInt(0), "reading resumed");
            assertEquals(0, guest.net.counter(UserNetCounter.DROP_GUEST_QUEUE_FULL));
            assertEquals(0, guest.net.queuedFrames());

            // The cost of a sustained blast while the guest takes nothing (a figure, not asserted).
            guest.receiveBuffers(false);
            Thread loop = eventLoopThread();
            java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
            long cpu0 = loop == null ? 0 : mx.getThreadCpuTime(loop.threadId());
            long framesBefore = guest.net.counter(UserNetCounter.DROP_GUEST_QUEUE_FULL) + guest.net.queuedFrames();
            long sent = 0;
            long blastEnd = System.nanoTime() + 1_000_000_000L;
            while (System.nanoTime() < blastEnd) {
                for (int i = 0; i < 32; i++, sent++) {
                    blaster.send(new DatagramPacket(d, d.length, flow));
                }
                Thread.sleep(1);
            }
            long cpu = loop == null ? -1 : (mx.getThreadCpuTime(loop.threadId()) - cpu0) / 1_000_000;
            long taken = guest.net.counter(UserNetCounter.DROP_GUEST_QUEUE_FULL) + guest.net.queuedFrames() - framesBefore;
            System.out.println("UDP blast of " + sent + " datagrams in 1 s at a guest without buffers: event loop CPU "
                    + cpu + " ms, datagrams read " + taken + " (queued " + guest.net.queuedFrames() + ", dropped "
                    + guest.net.counter(UserNetCounter.DROP_GUEST_QUEUE_FULL) + "), read pauses "
                    + guest.net.counter(UserNetCounter.UDP_READS_PAUSED));
        }
    }

    /** The backend's event loop thread, if exactly one is alive (for a CPU figure). */
    private static Thread eventLoopThread() {
        List<Thread> loops = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("rivet-usernet") && t.isAlive()).toList();
        return loops.size() == 1 ? loops.getFirst() : null;
    }

    /**
     * Host datagram sockets on a host network that cannot keep up: after the first flush
     * nothing is flushed any more, so what is written piles up in Netty's write buffer until
     * the channel is no longer writable, as when the kernel's send buffer stays full.
     */
    private static NioDatagramChannel stalledAfterFirstSend() {
        NioDatagramChannel ch = new NioDatagramChannel();
        ch.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
            private boolean flushed;

            @Override
            public void flush(ChannelHandlerContext ctx) {
                if (!flushed) {
                    flushed = true;
                    ctx.flush();
                }
            }
        });
        return ch;
    }

    @Test
    void guestDatagramsForAHostSocketThatCannotTakeMoreAreDroppedNotQueued() throws Exception {
        int port = startServer(UdpNatTest::echo);
        guest = new TestGuest(UserNetOptions.DEFAULT.withDns(null), UdpNatTest::stalledAfterFirstSend);
        guest.send(GuestFrames.udp(GUEST_IP, 40300, GATEWAY_IP, port, ascii("first")));
        assertArrayEquals(ascii("echo:first"), guest.await(GuestFrames.Parsed::isUdp, WAIT, "echo").payload());
        int n = 200;
        for (int i = 0; i < n; i++) {
            guest.send(GuestFrames.udp(GUEST_IP, 40300, GATEWAY_IP, port, new byte[1000]));
        }
        assertEquals(1, guest.net.udpFlows()); // on the event loop, after the datagrams
        long dropped = guest.net.counter(UserNetCounter.DROP_UDP_HOST_BACKLOG);
        assertTrue(dropped >= n / 2 && dropped < n, "Netty's write buffer took what fits under its high water mark,"
                + " the rest was dropped: " + dropped + " of " + n);
        assertEquals(0, guest.net.counter(UserNetCounter.DROP_UDP));
    }

    @Test
    void guestRepliesThroughAForwardThatCannotTakeMoreAreDroppedNotQueued() throws Exception {
        guest = new TestGuest(UserNetOptions.DEFAULT.withDns(null), UdpNatTest::stalledAfterFirstSend);
        UserNet.ForwardHandle fwd = guest.net.addHostForward(HostForward.parse("udp:127.0.0.1:0-:5000"));
        try (DatagramSocket peer = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            peer.setSoTimeout(5000);
            peer.send(new DatagramPacket(ascii("hi"), 2, fwd.localAddress()));
            GuestFrames.Parsed in = guest.await(GuestFrames.Parsed::isUdp, WAIT, "forwarded datagram");
            int n = 200;
            for (int i = 0; i < n; i++) {
                guest.send(GuestFrames.udp(GUEST_IP, 5000, GATEWAY_IP, in.sport, new byte[1000]));
            }
            assertEquals(1, guest.net.udpFlows());
            long dropped = guest.net.counter(UserNetCounter.DROP_UDP_HOST_BACKLOG);
            assertTrue(dropped >= n / 2 && dropped < n, "dropped " + dropped + " of " + n);
            DatagramPacket first = new DatagramPacket(new byte[2000], 2000);
            peer.receive(first);
            assertEquals(1000, first.getLength(), "the first reply went out before the host link stalled");
        }
    }

    @Test
    void badUdpChecksumsAreDropped() throws Exception {
        int port = startServer(UdpNatTest::echo);
        guest = new TestGuest(UserNetOptions.DEFAULT.withDns(null));
        byte[] f = GuestFrames.udp(GUEST_IP, 40000, GATEWAY_IP, port, ascii("hello"));
        f[f.length - 1] ^= 0x40;
        guest.send(f);
        assertTrue(guest.quiet(200));
        assertEquals(1, guest.net.counter(UserNetCounter.DROP_BAD_CHECKSUM));
        try {
            assertNull(serverGot.poll(100, TimeUnit.MILLISECONDS));
        } catch (Exception e) {
            throw new SocketTimeoutException();
        }
    }
}
