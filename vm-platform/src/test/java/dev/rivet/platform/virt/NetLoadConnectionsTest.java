package dev.rivet.platform.virt;

import dev.rivet.platform.net.UserNet;
import dev.rivet.platform.net.UserNetCounter;
import dev.rivet.platform.net.UserNetOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hundreds of guest TCP connections at once through user-mode NAT (issue 7, "Load and
 * faults"), over both transports: the guest opens {@value #CONNECTIONS} connections to a
 * host echo server at 10.0.2.2 with non-blocking connects, all in flight together, keeps
 * them all open while each carries a distinct message and its echo, then ends them in
 * three ways: a third close first, a third after the host closed first (the backend then
 * keeps TIME_WAIT), a third with a reset. Afterwards the host saw every connection open
 * at the same time and end as expected, and the backend's table is empty again while the
 * machine still runs: no connection object leaked. A second test fills a small table past
 * its limit and checks the excess is refused and the table recovers.
 */
class NetLoadConnectionsTest {
    static final int CONNECTIONS = 300;
    static final int BYTES = 1000;
    /** The connection table's size in the limit test, and how many the guest tries there. */
    static final int LIMIT = 100, OVER_LIMIT = 150;

    private EchoServer echo;

    @AfterEach
    void close() throws Exception {
        if (echo != null) {
            echo.close();
        }
    }

    @ParameterizedTest
    @EnumSource(VirtioSpec.Transport.class)
    void threeHundredConcurrentConnectionsOpenEchoAndEndWithoutLeaks(VirtioSpec.Transport t) throws Exception {
        echo = new EchoServer(BYTES);
        NetLoadGuest g = new NetLoadGuest(UserNetOptions.DEFAULT, t, """
                /netload conns 10.0.2.2 %d %d %d; echo "conns-exit: $?"
                """.formatted(echo.port(), CONNECTIONS, BYTES));
        try (GuestBoot.Running run = new GuestBoot.Running(g.boot.machine())) {
            g.waitFor("conns-exit:", 180);
            assertEquals("0", g.field("conns-exit"), g.boot.tail());
            assertEquals(Integer.toString(CONNECTIONS), g.field("conns-connected"), g.boot.tail());
            assertEquals(Integer.toString(CONNECTIONS), g.field("conns-echoed"), "every echo came back intact");
            assertEquals(Integer.toString(CONNECTIONS), g.field("conns-closed"));
            UserNet net = g.net();
            // The host-first third lingers for tcpTimeWait; then the table must be empty.
            g.awaitNoConnections();
            g.await(() -> echo.finished.get() == CONNECTIONS, 60, () -> echo.finished + " host sockets finished");
            assertEquals(CONNECTIONS, echo.accepted.get());
            assertEquals(CONNECTIONS, echo.maxOpen.get(), "all connections were open on the host at once");
            assertEquals(List.of(), echo.failures, "every host socket ended as its guest socket did");
            assertEquals(CONNECTIONS, net.counter(UserNetCounter.TCP_CONNECTIONS_OPENED));
            assertEquals(CONNECTIONS / 3, net.counter(UserNetCounter.TCP_RESETS_FROM_GUEST));
            for (UserNetCounter c : List.of(UserNetCounter.TCP_CONNECT_FAILED, UserNetCounter.DROP_TCP_CONNECTION_LIMIT,
                    UserNetCounter.TCP_ABORTED, UserNetCounter.TCP_RESETS_FROM_HOST)) {
                assertEquals(0, net.counter(c), c.name());
            }
            g.finish(run);
        }
    }

    /**
     * A table full of connections: with room for {@value #LIMIT}, the guest opens
     * {@value #OVER_LIMIT} at once; the excess is refused (the guest sees ECONNREFUSED, the
     * host no connection), the admitted ones carry their echoes, and once they are gone a
     * second batch of {@value #LIMIT} gets in whole: the table recovers.
     */
    @Test
    void aFullConnectionTableRefusesTheExcessAndRecovers() throws Exception {
        echo = new EchoServer(BYTES);
        UserNetOptions.Limits d = UserNetOptions.Limits.DEFAULT;
        UserNetOptions options = UserNetOptions.DEFAULT.withLimits(new UserNetOptions.Limits(LIMIT, d.maxUdpFlows(),
                d.maxQueuedFrames(), d.maxPendingTransmit(), d.udpIdleTimeout(), d.tcpConnectTimeout(),
                d.tcpTimeWait(), d.tcpMaxRetries()));
        NetLoadGuest g = new NetLoadGuest(options, VirtioSpec.Transport.MMIO, """
                /netload conns 10.0.2.2 %1$d %2$d %3$d 2>/tmp/refused; echo "conns-exit: $?"
                echo "refused: $(grep -c ECONNREFUSED /tmp/refused)"
                read -r next
                /netload conns 10.0.2.2 %1$d %4$d %3$d | sed 's/^conns-/again-/'
                """.formatted(echo.port(), OVER_LIMIT, BYTES, LIMIT));
        try (GuestBoot.Running run = new GuestBoot.Running(g.boot.machine())) {
            g.waitFor("refused:", 180);
            assertEquals("0", g.field("conns-exit"), g.boot.tail());
            assertEquals(Integer.toString(LIMIT), g.field("conns-connected"), g.boot.tail());
            assertEquals(Integer.toString(LIMIT), g.field("conns-echoed"), g.boot.tail());
            assertEquals(Integer.toString(OVER_LIMIT - LIMIT), g.field("refused"), g.boot.tail());
            UserNet net = g.net();
            g.awaitNoConnections();
            assertTrue(net.counter(UserNetCounter.DROP_TCP_CONNECTION_LIMIT) >= OVER_LIMIT - LIMIT,
                    "every refused SYN was counted");
            g.await(() -> echo.finished.get() == LIMIT, 60, () -> echo.finished + " host sockets finished");
            assertEquals(LIMIT, echo.maxOpen.get(), "the host saw only the admitted connections");
            run.machine.input("next\n".getBytes(StandardCharsets.US_ASCII));
            g.waitFor("again-closed:", 180);
            assertEquals(Integer.toString(LIMIT), g.field("again-connected"), "the table had room again\n"
                    + g.boot.tail());
            assertEquals(Integer.toString(LIMIT), g.field("again-echoed"), g.boot.tail());
            g.awaitNoConnections();
            g.await(() -> echo.finished.get() == 2 * LIMIT, 60, () -> echo.finished + " host sockets finished");
            assertEquals(2 * LIMIT, echo.accepted.get());
            assertEquals(List.of(), echo.failures, "every host socket ended as its guest socket did");
            assertEquals(0, net.counter(UserNetCounter.TCP_ABORTED));
            assertEquals(0, net.counter(UserNetCounter.TCP_RESETS_FROM_HOST));
            g.finish(run);
        }
    }

    /**
     * Echoes {@code bytes} bytes per connection, reading the guest's connection index k from
     * the first two. Then as the guest ends k: k % 3 == 0 waits for the guest's FIN,
     * k % 3 == 1 closes first and then waits for it, k % 3 == 2 expects a reset. Counts
     * connections open at once and records every ending that was not the expected one.
     */
    static final class EchoServer implements AutoCloseable {
        final ServerSocket server;
        final AtomicInteger accepted = new AtomicInteger();
        final AtomicInteger open = new AtomicInteger();
        final AtomicInteger maxOpen = new AtomicInteger();
        final AtomicInteger finished = new AtomicInteger();
        final List<String> failures = new CopyOnWriteArrayList<>();
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();
        private final Thread acceptor;

        EchoServer(int bytes) throws IOException {
            server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 2 * CONNECTIONS);
            acceptor = Thread.ofVirtual().start(() -> {
                while (!server.isClosed()) {
                    Socket s;
                    try {
                        s = server.accept();
                    } catch (IOException e) {
                        return;
                    }
                    accepted.incrementAndGet();
                    maxOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
                    sockets.add(s);
                    Thread.ofVirtual().start(() -> serve(s, bytes));
                }
            });
        }

        int port() {
            return server.getLocalPort();
        }

        private void serve(Socket s, int bytes) {
            int k = -1;
            try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                byte[] buf = new byte[bytes];
                int got = in.readNBytes(buf, 0, bytes);
                k = got >= 2 ? (buf[0] & 0xFF) << 8 | buf[1] & 0xFF : -1;
                out.write(buf, 0, got);
                out.flush();
                if (got != bytes) {
                    failures.add("connection " + k + ": " + got + " of " + bytes + " bytes");
                }
                if (k % 3 == 1) {
                    s.shutdownOutput(); // we close first
                }
                try {
                    int end = in.read();
                    if (k % 3 == 2 || end != -1) {
                        failures.add("connection " + k + ": " + (end == -1 ? "end of stream" : "more bytes")
                                + " where a " + (k % 3 == 2 ? "reset" : "FIN") + " was due");
                    }
                } catch (SocketException e) {
                    if (k % 3 != 2) {
                        failures.add("connection " + k + ": " + e);
                    }
                }
            } catch (IOException e) {
                failures.add("connection " + k + ": " + e);
            } finally {
                open.decrementAndGet();
                finished.incrementAndGet();
            }
        }

        @Override
        public void close() throws Exception {
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
            acceptor.join(10_000);
        }
    }
}
