package dev.rivet.platform.monitor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The control socket as clients meet it: a real Unix socket in a temporary directory, a machine without a guest. */
class MonitorServerTest {
    @TempDir
    Path dir;
    Path socket;
    final FakeMachine machine = new FakeMachine();
    MonitorServer server;

    MonitorServer serve() throws IOException {
        socket = dir.resolve("monitor.sock");
        server = MonitorServer.bind(socket);
        server.serve(new MonitorCommands(machine));
        return server;
    }

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
        machine.close();
    }

    @Test
    void aClientGetsEachReplyEndedByOkOrError() throws Exception {
        serve();
        try (MonitorClient c = new MonitorClient(socket)) {
            List<String> status = c.command("info status");
            assertEquals("state: running", status.getFirst());
            assertEquals("OK", status.getLast());
            assertEquals(List.of("ERROR: unknown command 'bogus' (try help)"), c.command("bogus"));
            assertEquals(List.of("OK"), c.command(""));
            assertEquals(List.of("target: 256 MiB (65536 pages in the balloon)", "OK"), c.command("balloon 256\r"));
            // Two commands in one write: two replies, in order.
            c.send("balloon 300\ninfo balloon\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals("OK", c.reply().getLast());
            assertEquals("actual: 300 MiB", c.reply().getFirst());
        }
    }

    /** Whatever a reply's lines hold, a client reading to the first OK or ERROR line reads exactly that reply. */
    @Test
    void dataLinesNeverPassForTheFinalLine() throws Exception {
        serve();
        machine.jitStats = List.of("OK", "ERROR: not really", "carriage\rreturn", "nul\u0000byte");
        try (MonitorClient c = new MonitorClient(socket)) {
            assertEquals(List.of(" OK", " ERROR: not really", "carriage?return", "nul?byte", "OK"), c.command("info jit"));
            assertEquals("OK", c.command("info status").getLast(), "and the next reply is the next command's");
        }
    }

    @Test
    void theSocketIsTheOwnersAndGoesAwayWithTheServer() throws Exception {
        serve();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        server.close();
        assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS));
        assertThrows(IOException.class, () -> new MonitorClient(socket));
    }

    @Test
    void manyClientsAtOnceEachGetTheirOwnReplies() throws Exception {
        serve();
        int clients = 12, rounds = 40;
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            int mib = 100 + i;
            done.add(CompletableFuture.runAsync(() -> {
                try (MonitorClient c = new MonitorClient(socket)) {
                    for (int r = 0; r < rounds; r++) {
                        assertEquals(List.of("target: " + mib + " MiB (" + ((512 - mib) * 256) + " pages in the balloon)",
                                "OK"), c.command("balloon " + mib));
                        assertEquals("OK", c.command("info status").getLast());
                        assertEquals("ERROR: unknown command 'x" + mib + "' (try help)", c.command("x" + mib).getLast());
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, r -> Thread.ofVirtual().start(r)));
        }
        for (CompletableFuture<Void> f : done) {
            f.get(120, TimeUnit.SECONDS);
        }
    }

    @Test
    void anOverlongLineIsRefusedAndTheConnectionStaysUsable() throws Exception {
        serve();
        try (MonitorClient c = new MonitorClient(socket)) {
            byte[] huge = new byte[1 << 20];
            java.util.Arrays.fill(huge, (byte) 'q');
            huge[huge.length - 1] = '\n';
            // Written while the server answers: the reply comes as soon as the bound is passed.
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    c.send(huge);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            }, r -> Thread.ofVirtual().start(r));
            assertEquals(List.of("ERROR: line longer than " + MonitorServer.MAX_LINE + " bytes"), c.reply());
            sent.get(60, TimeUnit.SECONDS);
            assertEquals("OK", c.command("info status").getLast(), "one error for the long line, then service");
        }
        assertEquals(0, machine.quits.get(), "a long run of q's is not quit");
    }

    @Test
    void aClientThatLeavesMidCommandHarmsNothing() throws Exception {
        serve();
        try (MonitorClient c = new MonitorClient(socket)) {
            c.send("quit".getBytes(StandardCharsets.US_ASCII)); // no newline: never a whole command
        }
        try (MonitorClient c = new MonitorClient(socket)) {
            // Many commands, then gone without reading a reply.
            c.send("info network\nhelp\n".repeat(2000).getBytes(StandardCharsets.US_ASCII));
        }
        try (MonitorClient c = new MonitorClient(socket)) {
            assertEquals("state: running", c.command("info status").getFirst());
        }
        assertEquals(0, machine.quits.get());
        awaitClients(0);
    }

    @Test
    void quitRepliesThenStopsTheMachine() throws Exception {
        serve();
        try (MonitorClient c = new MonitorClient(socket)) {
            assertEquals(List.of("OK"), c.command("quit"));
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (machine.quits.get() == 0) {
                if (System.nanoTime() > end) {
                    fail("quit never reached the machine");
                }
                Thread.sleep(10);
            }
        }
    }

    @Test
    void clientsPastTheLimitAreToldAndClosed() throws Exception {
        serve();
        List<MonitorClient> held = new ArrayList<>();
        try {
            for (int i = 0; i < MonitorServer.MAX_CLIENTS; i++) {
                MonitorClient c = new MonitorClient(socket);
                held.add(c);
                assertEquals("OK", c.command("").getLast()); // served: it counts
            }
            try (MonitorClient extra = new MonitorClient(socket)) {
                try {
                    extra.send("help\n".getBytes(StandardCharsets.US_ASCII)); // served, it would get the list
                } catch (IOException e) {
                    // the server may have closed it already: its refusal is still there to read
                }
                assertEquals(List.of("ERROR: too many monitor clients (" + MonitorServer.MAX_CLIENTS + ")"), extra.reply());
                String after;
                try {
                    after = extra.in.readLine();
                } catch (IOException e) {
                    after = null; // reset: the server closed with our "help" unread
                }
                assertEquals(null, after, "and closed");
            }
        } finally {
            for (MonitorClient c : held) {
                c.close();
            }
        }
        awaitClients(0);
        try (MonitorClient c = new MonitorClient(socket)) {
            assertEquals("OK", c.command("help").getLast(), "room again once they left");
        }
    }

    @Test
    void closingTheServerDisconnectsItsClients() throws Exception {
        serve();
        try (MonitorClient c = new MonitorClient(socket)) {
            assertEquals("OK", c.command("").getLast());
            server.close();
            assertEquals(null, c.in.readLine());
        }
    }

    @Test
    void aFileThatIsNotASocketIsRefusedAndKept() throws Exception {
        Path file = Files.writeString(dir.resolve("notes"), "keep me");
        IOException e = assertThrows(IOException.class, () -> MonitorServer.bind(file));
        assertEquals(file + " exists and is not a socket (remove it or choose another path)", e.getMessage());
        assertEquals("keep me", Files.readString(file));
        Path sub = Files.createDirectory(dir.resolve("sub"));
        assertTrue(assertThrows(IOException.class, () -> MonitorServer.bind(sub)).getMessage().contains("not a socket"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), file);
        assertTrue(assertThrows(IOException.class, () -> MonitorServer.bind(link)).getMessage().contains("not a socket"));
        assertEquals("keep me", Files.readString(file));
        Path nowhere = dir.resolve("missing").resolve("m.sock");
        assertTrue(assertThrows(IOException.class, () -> MonitorServer.bind(nowhere)).getMessage()
                .startsWith(nowhere + ": cannot listen: "));
    }

    @Test
    void aStaleSocketIsReplacedAndALiveOneIsNot() throws Exception {
        Path p = dir.resolve("m.sock");
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(p));
        } // closed, its file left behind: what a crashed process leaves
        assertTrue(Files.exists(p, LinkOption.NOFOLLOW_LINKS));
        try (MonitorServer s = MonitorServer.bind(p)) {
            s.serve(new MonitorCommands(machine));
            try (MonitorClient c = new MonitorClient(p)) {
                assertEquals("OK", c.command("info status").getLast());
            }
            IOException e = assertThrows(IOException.class, () -> MonitorServer.bind(p));
            assertEquals(p + " is in use: a running program listens on it", e.getMessage());
            try (MonitorClient c = new MonitorClient(p)) {
                assertEquals("OK", c.command("info status").getLast(), "the refused second server took nothing");
            }
        }
        assertFalse(Files.exists(p, LinkOption.NOFOLLOW_LINKS));
    }

    /** A socket that replaced the server's own (another machine took the path) is not the server's to remove. */
    @Test
    void closeLeavesASocketThatReplacedItsOwn() throws Exception {
        serve();
        Files.delete(socket);
        try (ServerSocketChannel other = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            other.bind(UnixDomainSocketAddress.of(socket));
            server.close();
            assertTrue(Files.exists(socket, LinkOption.NOFOLLOW_LINKS));
        }
    }

    void awaitClients(int n) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (server.clientCount() != n) {
            if (System.nanoTime() > end) {
                fail(server.clientCount() + " clients, expected " + n);
            }
            Thread.sleep(10);
        }
    }
}
