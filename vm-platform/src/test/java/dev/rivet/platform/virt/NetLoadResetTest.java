package dev.rivet.platform.virt;

import com.sun.net.httpserver.HttpServer;
import dev.rivet.platform.net.HostForward;
import dev.rivet.platform.net.UserNet;
import dev.rivet.platform.net.UserNetCounter;
import dev.rivet.platform.net.UserNetOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Host peers that reset a connection mid-transfer (SO_LINGER 0 close), over both
 * transports: while the guest receives a stream; while it sends one; while it sends to a
 * host that stopped reading (the backend's window towards the guest is closed then); and
 * on a connection the host made into the guest through a port forward. Each time the
 * guest's read or write fails with ECONNRESET (or EPIPE for a write) instead of hanging
 * (its socket timeouts would report EAGAIN), the backend forgets the connection, and the
 * machine's networking keeps working: a following wget fetches a file intact.
 *
 * <p>A reset comes after the data the host sent before it, so a receiving guest reads
 * exactly the bytes the backend took from the host socket ({@link UserNetCounter#TCP_BYTES_FROM_HOST},
 * read while no other connection carries host data) before its read fails.
 */
class NetLoadResetTest {
    /** The host resets after writing, or after reading, at least this much. */
    static final int RESET_AFTER = 1 << 20;
    /** The stalled host reads this much, then stops reading for {@link #STALL_MILLIS} before it resets. */
    static final int STALL_AFTER = 64 * 1024;
    static final long STALL_MILLIS = 500;
    static final int GUEST_PORT = 8080;
    static final int FILE_BYTES = 256 * 1024;

    private final List<ServerSocket> servers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private HttpServer http;

    @AfterEach
    void close() throws Exception {
        for (ServerSocket s : servers) {
            s.close();
        }
        for (Thread t : threads) {
            t.join(10_000);
        }
        if (http != null) {
            http.stop(0);
        }
    }

    @ParameterizedTest
    @EnumSource(VirtioSpec.Transport.class)
    void hostResetsMidTransferFailTheGuestsReadsAndWritesAndNetworkingGoesOn(VirtioSpec.Transport t) throws Exception {
        AtomicLong written = new AtomicLong(), read = new AtomicLong(), stalledRead = new AtomicLong();
        AtomicLong forwardWritten = new AtomicLong();
        long resets, fromHostRecv, fromHostForward, deferred;
        ServerSocket toGuest = oneShot(s -> {
            expectGoByte(s, "to-guest");
            writeThenReset(s, written);
        });
        ServerSocket fromGuest = oneShot(s -> readThenReset(s, RESET_AFTER, 0, read));
        ServerSocket stalled = oneShot(s -> readThenReset(s, STALL_AFTER, STALL_MILLIS, stalledRead));
        byte[] file = new byte[FILE_BYTES];
        new SplittableRandom(0x7E57).nextBytes(file);
        startHttp(file);
        NetLoadGuest g = new NetLoadGuest(UserNetOptions.DEFAULT, t, """
                /netload reset-recv 10.0.2.2 %d
                /netload reset-send 10.0.2.2 %d
                /netload reset-send 10.0.2.2 %d | sed 's/^reset-send/stalled-send/'
                /netload reset-accept %d
                read -r next
                wget -q -O /tmp/after http://10.0.2.2:%d/data; echo "wget: $?"
                echo "after-sum: $(sha256sum /tmp/after | cut -d' ' -f1)"
                """.formatted(toGuest.getLocalPort(), fromGuest.getLocalPort(), stalled.getLocalPort(), GUEST_PORT,
                http.getAddress().getPort()));
        try (GuestBoot.Running run = new GuestBoot.Running(g.boot.machine())) {
            g.waitFor("listening: " + GUEST_PORT, 180);
            UserNet net = g.net();
            // Only reset-recv's connection has carried host bytes so far (the reset-send hosts never write).
            fromHostRecv = net.counter(UserNetCounter.TCP_BYTES_FROM_HOST);
            UserNet.ForwardHandle fwd = net.addHostForward(HostForward.parse("tcp:127.0.0.1:0-:" + GUEST_PORT));
            threads.add(Thread.ofVirtual().start(() -> {
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), fwd.localAddress().getPort())) {
                    expectGoByte(s, "forwarded");
                    writeThenReset(s, forwardWritten);
                } catch (IOException e) {
                    failures.add("forwarded: " + e);
                }
            }));
            g.waitFor("reset-accept-bytes:", 120);
            fromHostForward = net.counter(UserNetCounter.TCP_BYTES_FROM_HOST) - fromHostRecv;
            run.machine.input("next\n".getBytes(StandardCharsets.US_ASCII)); // now the wget
            g.waitFor("after-sum:", 120);
            g.awaitNoConnections();
            resets = net.counter(UserNetCounter.TCP_RESETS_FROM_HOST);
            deferred = net.counter(UserNetCounter.TCP_RESETS_DEFERRED);
            assertEquals(0, net.counter(UserNetCounter.TCP_RESETS_DEFERRED_EXPIRED), "the guest took every byte in time");
            g.finish(run);
        }
        for (Thread th : threads) {
            th.join(10_000);
        }
        assertEquals(List.of(), failures);

        assertEquals("ECONNRESET", g.field("reset-recv"), "the receiving guest saw the reset\n" + g.boot.tail());
        long received = Long.parseLong(g.field("reset-recv-bytes"));
        System.out.println("reset-recv: the host wrote " + written.get() + " bytes, the backend read " + fromHostRecv
                + ", the guest read " + received + "; reset-accept: " + forwardWritten.get() + " / " + fromHostForward
                + " / " + g.field("reset-accept-bytes") + "; resets deferred behind data: " + deferred);
        assertTrue(received > 0 && received <= written.get(),
                "the guest got part of the stream: " + received + " of " + written.get() + " written");
        assertEquals(fromHostRecv, received, "the guest read every byte the backend took from the host before its reset");

        assertTrue(Set.of("ECONNRESET", "EPIPE").contains(g.field("reset-send")),
                "the sending guest saw the reset: " + g.field("reset-send") + "\n" + g.boot.tail());
        long sent = Long.parseLong(g.field("reset-send-bytes"));
        assertTrue(sent >= read.get(), "the host read no more than the guest wrote: " + read.get() + " > " + sent);

        assertTrue(Set.of("ECONNRESET", "EPIPE").contains(g.field("stalled-send")),
                "the guest sending to a stalled host saw the reset: " + g.field("stalled-send") + "\n" + g.boot.tail());
        assertTrue(Long.parseLong(g.field("stalled-send-bytes")) >= stalledRead.get());

        assertEquals("ECONNRESET", g.field("reset-accept"), "the guest's server saw the reset\n" + g.boot.tail());
        long accepted = Long.parseLong(g.field("reset-accept-bytes"));
        assertTrue(accepted > 0 && accepted <= forwardWritten.get(),
                "the guest got part of the stream: " + accepted + " of " + forwardWritten.get() + " written");
        assertEquals(fromHostForward, accepted, "the guest's server read every byte the backend took from the host");

        assertEquals("0", g.field("wget"), g.boot.tail());
        assertEquals(NetGuestTest.sha256(file), g.field("after-sum"), "the file after the resets arrived intact");
        assertEquals(4, resets, "each reset was counted once");
    }

    interface Peer {
        void serve(Socket s) throws IOException, InterruptedException;
    }

    /** A server on 127.0.0.1 that serves one connection with {@code peer}; failures are collected. */
    private ServerSocket oneShot(Peer peer) throws IOException {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
        servers.add(server);
        threads.add(Thread.ofVirtual().start(() -> {
            try (Socket s = server.accept()) {
                peer.serve(s);
            } catch (IOException | InterruptedException e) {
                failures.add(server.getLocalPort() + ": " + e);
            }
        }));
        return server;
    }

    /** The guest sends one byte once connected: the stream (and the reset) starts only then. */
    private void expectGoByte(Socket s, String what) throws IOException {
        if (s.getInputStream().read() != 'g') {
            failures.add(what + ": no go byte from the guest");
        }
    }

    /** Writes a stream until {@link #RESET_AFTER} bytes went out, then resets. */
    private static void writeThenReset(Socket s, AtomicLong written) throws IOException {
        OutputStream out = s.getOutputStream();
        byte[] chunk = new byte[16 * 1024];
        new SplittableRandom(1).nextBytes(chunk);
        while (written.get() < RESET_AFTER) {
            out.write(chunk);
            written.addAndGet(chunk.length);
        }
        s.setSoLinger(true, 0); // the close sends RST
    }

    /** Reads at least {@code bytes}, stops reading for {@code stallMillis}, then resets. */
    private void readThenReset(Socket s, int bytes, long stallMillis, AtomicLong read)
            throws IOException, InterruptedException {
        InputStream in = s.getInputStream();
        byte[] buf = new byte[64 * 1024];
        for (int n; read.get() < bytes && (n = in.read(buf)) > 0; ) {
            read.addAndGet(n);
        }
        if (read.get() < bytes) {
            failures.add("the guest stopped sending after " + read.get() + " bytes");
        }
        Thread.sleep(stallMillis); // meanwhile the guest fills every buffer on the way and blocks
        s.setSoLinger(true, 0);
    }

    private void startHttp(byte[] body) throws IOException {
        http = NetGuestTest.serveData(body);
    }
}
