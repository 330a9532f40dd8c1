package dev.rivet.platform.net;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
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
