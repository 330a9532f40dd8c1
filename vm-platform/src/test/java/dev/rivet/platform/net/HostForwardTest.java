package dev.rivet.platform.net;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.rivet.platform.net.GuestFrames.GATEWAY_IP;
import static dev.rivet.platform.net.GuestFrames.GUEST_IP;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Layer 5 and 6: host-to-guest port forwards (TCP and UDP), added and removed at run time, and under restrict=on. */
class HostForwardTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private TestGuest guest;

    @AfterEach
    void stop() {
        if (guest != null) {
            guest.close();
        }
    }

    /** A guest "sshd" on port 22: sends {@code reply} bytes of the test stream and closes after the client does. */
    private GuestTcp[] listen22(long reply) {
        GuestTcp[] accepted = new GuestTcp[1];
        guest.listen(22, syn -> {
            GuestTcp t = new GuestTcp(guest, syn.dst, syn.dport, syn.src, syn.sport, 32 * 1024, 3, null, 0);
            t.sendTotal = reply;
            t.closeAfterSend = true;
            accepted[0] = t;
            return t;
        });
        return accepted;
    }

    private static byte[] stream(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = GuestTcp.streamByte(i);
        }
        return b;
    }

    /** A host client: connects, writes {@code send}, half-closes, reads everything. */
    private static CompletableFuture<byte[]> hostClient(int port, byte[] send) {
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                s.getOutputStream().write(send);
                s.shutdownOutput();
                result.complete(s.getInputStream().readAllBytes());
            } catch (IOException e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    @Test
    void tcpForwardCarriesAHostConnectionIntoTheGuest() throws Exception {
        guest = new TestGuest(UserNetOptions.parse("user,hostfwd=tcp:127.0.0.1:0-:22").withDns(null));
        assertEquals(1, guest.net.hostForwards().size());
        // The options' forward asked for port 0: add a second one to learn a port (the first is bound too).
        UserNet.ForwardHandle h = guest.net.addHostForward(HostForward.parse("tcp:127.0.0.1:0-:22"));
        GuestTcp[] accepted = listen22(300_000);
        CompletableFuture<byte[]> client = hostClient(h.localAddress().getPort(), stream(200_000));
        guest.pump(() -> accepted[0] != null && accepted[0].closed(), WAIT, "forwarded connection");
        GuestTcp t = accepted[0];
        assertEquals(GUEST_IP, t.localIp, "to the guest's DHCP address");
        assertEquals(GATEWAY_IP, t.remoteIp, "from 10.0.2.2");
        assertTrue(t.remotePort >= 49152, "from a port of the dynamic range");
        assertEquals(1460, t.lastPeerMss);
        assertEquals(TcpConnection.OUR_WSCALE, t.lastPeerWscale);
        assertEquals(200_000, t.received, "the host's bytes, each checked");
        assertArrayEquals(stream(300_000), client.get(10, TimeUnit.SECONDS), "the guest's reply, whole");
        long end = System.nanoTime() + WAIT.toNanos();
        while (guest.net.tcpConnections() > 0 && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        assertEquals(0, guest.net.tcpConnections());
    }

    @Test
    void forwardsGoToTheAddressDhcpGaveTheGuest() throws Exception {
        guest = new TestGuest(UserNetOptions.DEFAULT.withDns(null));
        // A second client takes .15; "our" guest gets .16.
        guest.send(GuestFrames.dhcp(1, 1, true, 0, new byte[] {2, 0, 0, 0, 0, 1}, new byte[0]));
        guest.await(f -> f.isUdp() && f.sport == 67, WAIT, "offer");
        byte[] req = java.nio.ByteBuffer.allocate(12).put((byte) 50).put((byte) 4).putInt(GUEST_IP + 1)
                .put((byte) 54).put((byte) 4).putInt(GATEWAY_IP).array();
        guest.send(GuestFrames.dhcp(3, 2, true, 0, GuestFrames.GUEST_MAC, req));
        guest.await(f -> f.isUdp() && f.sport == 67, WAIT, "ack");
        UserNet.ForwardHandle h = guest.net.addHostForward(HostForward.parse("tcp:127.0.0.1:0-:22"));
        GuestTcp[] accepted = listen22(10);
        CompletableFuture<byte[]> client = hostClient(h.localAddress().getPort(), stream(5));
        guest.pump(() -> accepted[0] != null && accepted[0].closed(), WAIT, "forwarded connection");
        assertEquals(GUEST_IP + 1, accepted[0].localIp);
        assertEquals(10, client.get(10, TimeUnit.SECONDS).length);
    }

    @Test
    void aGuestThatRefusesResetsTheHostClientAndRemovedForwardsStopListening() throws Exception {
        guest = new TestGuest(UserNetOptions.DEFAULT.withDns(null));
        HostForward spec = HostForward.parse("tcp:127.0.0.1:0-:2222");
        UserNet.ForwardHandle h = guest.net.addHostForward(spec);
        int port = h.localAddress().getPort();
        CompletableFuture<byte[]> client = hostClient(port, new byte[0]);
        GuestFrames.Parsed syn = guest.await(f -> f.isTcp() && f.has(GuestFrames.SYN), WAIT, "SYN to the guest");
        assertEquals(2222, syn.dport);
        // Nobody listens on 2222 in the guest: RST.
        guest.send(GuestFrames.tcp(GUEST_IP, 2222, GATEWAY_IP, syn.sport, 0, syn.seq + 1, GuestFrames.RST | GuestFrames.ACK, 0));
        Exception e = assertThrows(Exception.class, () -> {
            byte[] got = client.get(10, TimeUnit.SECONDS);
            if (got.length == 0) {
                throw new IOException("closed");
            }
        });
        assertTrue(e.getMessage() != null);
        assertEquals(1, guest.net.counter(UserNetCounter.TCP_RESETS_FROM_GUEST));
        h.close();
        TcpNatTest.assertThrowsConnect(port);
        assertTrue(guest.net.hostForwards().isEmpty());
        assertFalse(guest.net.removeHostForward(spec), "already gone");
    }

    @Test
    void removeHostForwardBySpec() throws Exception {
        guest = new TestGuest(UserNetOptions.DEFAULT.withDns(null));
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        HostForward spec = HostForward.parse("tcp:127.0.0.1:" + port + "-:22");
        guest.net.addHostForward(spec);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            assertTrue(s.isConnected());
        }
        assertTrue(guest.net.removeHostForward(spec));
        TcpNatTest.assertThrowsConnect(port);
    }

    @Test
    void aForwardThatCannotListenIsAOneLineError() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            guest = new TestGuest(UserNetOptions.DEFAULT.withDns(null));
            HostForward spec = HostForward.parse("tcp:127.0.0.1:" + taken.getLocalPort() + "-:22");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> guest.net.addHostForward(spec));
            assertTrue(e.getMessage().startsWith("hostfwd=tcp:127.0.0.1:" + taken.getLocalPort() + "-:22: cannot listen"),
                    e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
            // At start, the same failure closes the backend and is thrown from start().
            UserNet net = new UserNet(UserNetOptions.parse("user,hostfwd=tcp:127.0.0.1:" + taken.getLocalPort() + "-:22"), 1);
            assertThrows(IllegalStateException.class, () -> net.start(new TestGuestPort()));
            net.close();
        }
    }

    @Test
    void udpForwardRelaysBothWaysPerPeer() throws Exception {
        guest = new TestGuest(UserNetOptions.parse("user,restrict=on").withDns(null));
        UserNet.ForwardHandle h = guest.net.addHostForward(HostForward.parse("udp:127.0.0.1:0-:5353"));
        InetSocketAddress fwd = h.localAddress();
        try (DatagramSocket a = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             DatagramSocket b = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            a.setSoTimeout(5000);
            b.setSoTimeout(5000);
            a.send(new DatagramPacket("from a".getBytes(StandardCharsets.US_ASCII), 6, fwd));
            GuestFrames.Parsed fa = guest.await(GuestFrames.Parsed::isUdp, WAIT, "datagram from a");
            b.send(new DatagramPacket("from b".getBytes(StandardCharsets.US_ASCII), 6, fwd));
            GuestFrames.Parsed fb = guest.await(GuestFrames.Parsed::isUdp, WAIT, "datagram from b");
            assertEquals(GATEWAY_IP, fa.src);
            assertEquals(GUEST_IP, fa.dst);
            assertEquals(5353, fa.dport);
            assertEquals("from a", new String(fa.payload(), StandardCharsets.US_ASCII));
            assertTrue(fa.sport != fb.sport, "each host peer has its own port on 10.0.2.2");
            // The guest answers b first, then a; each answer reaches its own peer, from the forward's port.
            guest.send(GuestFrames.udp(GUEST_IP, 5353, GATEWAY_IP, fb.sport, "to b".getBytes(StandardCharsets.US_ASCII)));
            guest.send(GuestFrames.udp(GUEST_IP, 5353, GATEWAY_IP, fa.sport, "to a".getBytes(StandardCharsets.US_ASCII)));
            DatagramPacket ra = new DatagramPacket(new byte[100], 100);
            a.receive(ra);
            assertEquals("to a", new String(ra.getData(), 0, ra.getLength(), StandardCharsets.US_ASCII));
            assertEquals(fwd.getPort(), ra.getPort());
            DatagramPacket rb = new DatagramPacket(new byte[100], 100);
            b.receive(rb);
            assertEquals("to b", new String(rb.getData(), 0, rb.getLength(), StandardCharsets.US_ASCII));
            assertEquals(0, guest.net.counter(UserNetCounter.DROP_RESTRICTED), "forwards work under restrict=on");
        }
    }

    @Test
    void tcpForwardWorksUnderRestrict() throws Exception {
        guest = new TestGuest(UserNetOptions.parse("user,restrict=on").withDns(null));
        UserNet.ForwardHandle h = guest.net.addHostForward(HostForward.parse("tcp:127.0.0.1:0-:22"));
        GuestTcp[] accepted = listen22(1000);
        CompletableFuture<byte[]> client = hostClient(h.localAddress().getPort(), stream(1000));
        guest.pump(() -> accepted[0] != null && accepted[0].closed(), WAIT, "forwarded connection");
        assertArrayEquals(stream(1000), client.get(10, TimeUnit.SECONDS));
    }

    @Test
    void aSilentGuestGetsItsSynRetransmittedThenTheHostClientIsReset() throws Exception {
        UserNetOptions.Limits d = UserNetOptions.Limits.DEFAULT;
        guest = new TestGuest(UserNetOptions.DEFAULT.withDns(null).withLimits(new UserNetOptions.Limits(
                d.maxTcpConnections(), d.maxUdpFlows(), d.maxQueuedFrames(), d.maxPendingTransmit(), d.udpIdleTimeout(),
                d.tcpConnectTimeout(), d.tcpTimeWait(), 2)));
        UserNet.ForwardHandle h = guest.net.addHostForward(HostForward.parse("tcp:127.0.0.1:0-:22"));
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), h.localAddress().getPort())) {
            s.setSoTimeout(20_000);
            GuestFrames.Parsed first = guest.await(f -> f.isTcp() && f.has(GuestFrames.SYN), WAIT, "SYN");
            GuestFrames.Parsed again = guest.await(f -> f.isTcp() && f.has(GuestFrames.SYN), WAIT, "retransmitted SYN");
            assertEquals(first.seq, again.seq);
            InputStream in = s.getInputStream();
            assertThrows(IOException.class, () -> {
                if (in.read() < 0) {
                    throw new IOException("closed");
                }
            });
            assertEquals(1, guest.net.counter(UserNetCounter.TCP_ABORTED));
        }
    }

    /** A card that takes everything and is never read. */
    private static final class TestGuestPort implements dev.rivet.devices.net.NetPort {
        @Override
        public boolean deliver(java.nio.ByteBuffer frame) {
            return true;
        }

        @Override
        public byte[] mac() {
            return GuestFrames.GUEST_MAC.clone();
        }
    }
}
