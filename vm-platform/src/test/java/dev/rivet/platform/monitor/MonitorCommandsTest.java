package dev.rivet.platform.monitor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The command set against a machine without a guest ({@link FakeMachine}) whose user-mode
 * networks are real: forwards bind and release real host ports.
 */
class MonitorCommandsTest {
    final FakeMachine machine = new FakeMachine();
    final MonitorCommands commands = new MonitorCommands(machine);

    @AfterEach
    void close() {
        machine.close();
    }

    Reply ok(String line) {
        Reply r = commands.execute(line);
        assertTrue(r.isOk(), line + " -> " + r.finalLine());
        return r;
    }

    String error(String line) {
        Reply r = commands.execute(line);
        assertFalse(r.isOk(), line + " -> OK " + r.lines());
        assertTrue(r.lines().isEmpty(), "an error has no data lines: " + r.lines());
        return r.error();
    }

    void assertError(String line, String part) {
        String e = error(line);
        assertTrue(e.contains(part), line + " -> " + e);
    }

    static String field(List<String> lines, String key) {
        for (String l : lines) {
            if (l.startsWith(key + ": ")) {
                return l.substring(key.length() + 2);
            }
        }
        throw new AssertionError("no '" + key + "' in " + lines);
    }

    @Test
    void helpNamesEveryCommandAndEmptyLinesAreOk() {
        String help = String.join("\n", ok("help").lines());
        for (String c : List.of("info status", "info network", "info balloon", "info jit", "hostfwd_add",
                "hostfwd_remove", "balloon MIB", "quit")) {
            assertTrue(help.contains(c), c + " in\n" + help);
        }
        assertEquals(List.of(), ok("").lines());
        assertEquals(List.of(), ok(" \t ").lines());
    }

    @Test
    void infoStatusReportsTheMachine() {
        machine.card("user");
        List<String> s = ok("info status").lines();
        assertEquals("running", field(s, "state"));
        assertEquals("123456789", field(s, "instructions"));
        assertEquals("2.000 s", field(s, "uptime"));
        assertEquals("61.7", field(s, "mips"));
        assertEquals("512 MiB", field(s, "ram"));
        assertEquals("1", field(s, "net-cards"));
        assertEquals("yes", field(s, "balloon"));
        assertEquals(List.of("jit: off", "blocks: 7 translated"), ok("info jit").lines());
    }

    @Test
    void unknownAndMalformedCommandsAreOneLineErrors() {
        assertEquals("unknown command 'frobnicate' (try help)", error("frobnicate now"));
        assertError("info", "usage: info");
        assertError("info everything", "unknown info 'everything'");
        assertError("info status extra", "usage: info");
        assertError("quit now", "usage: quit");
        assertError("HELP", "unknown command");
        String longWord = "x".repeat(3000);
        String e = error(longWord);
        assertTrue(e.length() < 100, "a long word is not echoed whole: " + e.length());
        assertEquals(0, machine.quits.get());
    }

    /** Seeded random lines of hostile bytes: always a reply, never an exception, never a quit. */
    @Test
    void randomLinesAlwaysGetAReply() {
        long seed = Long.getLong("rivet.seed", System.nanoTime());
        System.out.println("MonitorCommandsTest: seed " + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        machine.card("user");
        String[] words = {"info", "status", "network", "balloon", "jit", "hostfwd_add", "hostfwd_remove", "help",
                "net0", "net1", "tcp:127.0.0.1:0-:22", "udp::0-10.0.2.15:53", "tcp::", ":::", "-", "0", "99999999999",
                "-5", "\u0000", "\r", "\u001b[2J", "\uffff", "ERROR:", "OK"};
        for (int i = 0; i < 2000; i++) {
            StringBuilder b = new StringBuilder();
            int n = rnd.nextInt(5);
            for (int k = 0; k < n; k++) {
                if (rnd.nextInt(4) == 0) {
                    b.append((char) rnd.nextInt(0x110));
                } else {
                    b.append(words[rnd.nextInt(words.length)]);
                }
                b.append(rnd.nextBoolean() ? " " : "\t");
            }
            String line = b.toString();
            if (line.strip().startsWith("hostfwd_add")) {
                continue; // binding ports by the thousand proves nothing more
            }
            Reply r = commands.execute(line);
            assertNotNull(r, "seed " + seed + ": " + line);
            if (!r.isOk()) {
                assertFalse(r.error().chars().anyMatch(c -> c < 0x20), "seed " + seed + ": one printable line: "
                        + r.error());
            }
            for (String l : r.lines()) {
                assertFalse(Reply.isFinal(Reply.dataLine(l)), "seed " + seed + ": " + l);
            }
        }
        assertEquals(0, machine.quits.get(), "only 'quit' quits, and only after its reply");
    }

    @Test
    void aForwardAddedListensReportsItsAddressAndStopsWhenRemoved() throws Exception {
        machine.card("user");
        Reply added = ok("hostfwd_add tcp:127.0.0.1:0-:22");
        assertEquals(1, added.lines().size(), added.lines().toString());
        String bound = added.lines().getFirst();
        assertTrue(bound.matches("127\\.0\\.0\\.1:[1-9][0-9]*"), bound);
        int port = Integer.parseInt(bound.substring(bound.indexOf(':') + 1));
        new Socket(InetAddress.getLoopbackAddress(), port).close(); // it listens

        List<String> net = ok("info network").lines();
        assertEquals(2, net.size(), net.toString());
        assertTrue(net.get(0).startsWith("net0 mac=52:54:00:12:34:56 transport=mmio guest=10.0.2.15 tcp-connections="),
                net.get(0));
        assertEquals("net0 hostfwd=tcp:127.0.0.1:0-:22 bound=" + bound, net.get(1));

        ok("hostfwd_remove tcp:127.0.0.1:" + port);
        assertEquals(1, ok("info network").lines().size());
        awaitRefused(port);
        assertError("hostfwd_remove tcp:127.0.0.1:" + port, "no forward listening on tcp:127.0.0.1:"
                + port);
    }

    /**
     * Two forwards with the same spec (port 0) after one from the command line with that
     * spec too: each is shown with its own bound port (the command line's included), and
     * removing one by its port leaves the others listening.
     */
    @Test
    void forwardsWithTheSameSpecAreToldApartByTheirPorts() throws Exception {
        int fixed;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            fixed = free.getLocalPort();
        }
        machine.card("user,hostfwd=tcp:127.0.0.1:0-:80,hostfwd=tcp:127.0.0.1:" + fixed + "-:81");
        String a = ok("hostfwd_add tcp:127.0.0.1:0-:80").lines().getFirst();
        String b = ok("hostfwd_add net0 tcp:127.0.0.1:0-:80").lines().getFirst();
        assertFalse(a.equals(b));
        List<String> net = ok("info network").lines();
        String first = net.get(1);
        assertTrue(first.startsWith("net0 hostfwd=tcp:127.0.0.1:0-:80 bound=127.0.0.1:"), first);
        String s = first.substring(first.indexOf("bound=") + "bound=".length());
        assertFalse(s.equals(a) || s.equals(b) || port(s) == 0, "the command line's forward has its own port: " + s);
        new Socket(InetAddress.getLoopbackAddress(), port(s)).close();
        assertEquals(List.of("net0 hostfwd=tcp:127.0.0.1:0-:80 bound=" + s,
                "net0 hostfwd=tcp:127.0.0.1:" + fixed + "-:81 bound=127.0.0.1:" + fixed,
                "net0 hostfwd=tcp:127.0.0.1:0-:80 bound=" + a,
                "net0 hostfwd=tcp:127.0.0.1:0-:80 bound=" + b), net.subList(1, net.size()));

        ok("hostfwd_remove tcp::" + port(a)); // an empty address: the one forward on that port
        awaitRefused(port(a));
        new Socket(InetAddress.getLoopbackAddress(), port(b)).close();
        net = ok("info network").lines();
        assertEquals(List.of("net0 hostfwd=tcp:127.0.0.1:0-:80 bound=" + s,
                "net0 hostfwd=tcp:127.0.0.1:" + fixed + "-:81 bound=127.0.0.1:" + fixed,
                "net0 hostfwd=tcp:127.0.0.1:0-:80 bound=" + b), net.subList(1, net.size()));

        // The command line's forwards go too, by address and port, the port-0 one included.
        new Socket(InetAddress.getLoopbackAddress(), fixed).close();
        ok("hostfwd_remove tcp:127.0.0.1:" + fixed);
        awaitRefused(fixed);
        ok("hostfwd_remove tcp:127.0.0.1:" + port(s));
        awaitRefused(port(s));
        assertEquals(2, ok("info network").lines().size());
    }

    @Test
    void forwardErrorsNameTheProblem() throws Exception {
        assertError("hostfwd_add tcp:127.0.0.1:0-:22", "no user-mode network card");
        machine.card("user").card("user");
        assertError("hostfwd_add", "usage: hostfwd_add");
        assertError("hostfwd_add net0 tcp::0-:22 extra", "usage: hostfwd_add");
        assertError("hostfwd_add net7 tcp:127.0.0.1:0-:22", "no network card 'net7' (net0 to net1)");
        assertError("hostfwd_add tcp:127.0.0.1:0", "expected [tcp|udp]");
        assertError("hostfwd_add sctp:127.0.0.1:0-:22", "protocol 'sctp'");
        assertError("hostfwd_add tcp:localhost:0-:22", "not a dotted IPv4 address");
        assertError("hostfwd_add tcp:127.0.0.1:0-:70000", "out of range");
        assertError("hostfwd_add tcp:127.0.0.1:0-192.168.1.1:22", "not in the guest network");
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String e = error("hostfwd_add tcp:127.0.0.1:" + taken.getLocalPort() + "-:22");
            assertTrue(e.contains("cannot listen"), e);
        }
        assertError("hostfwd_remove", "usage: hostfwd_remove");
        assertError("hostfwd_remove tcp:127.0.0.1:0", "out of range 1-65535");
        assertError("hostfwd_remove tcp:127.0.0.1:x", "not a number");
        assertError("hostfwd_remove tcp:127.0.0.256:22", "not a dotted IPv4 address");
        assertError("hostfwd_remove tcp:127.0.0.1:22-", "not a number");
        assertError("hostfwd_remove tcp:127.0.0.1:22-:22", "expected [tcp|udp]");
        assertError("hostfwd_remove tcp:127.0.0.1", "expected [tcp|udp]");
        assertError("hostfwd_remove net1 udp::5353", "net1 has no forward");
        // A forward on net1 is net1's, not net0's.
        String u = ok("hostfwd_add net1 udp:127.0.0.1:0-:53").lines().getFirst();
        assertError("hostfwd_remove udp:127.0.0.1:" + port(u), "net0 has no forward");
        assertError("hostfwd_remove net1 tcp:127.0.0.1:" + port(u), "no forward");
        ok("hostfwd_remove net1 udp:127.0.0.1:" + port(u));
    }

    @Test
    void closedNetworksRefuseCleanly() {
        machine.card("user");
        machine.nets.getFirst().close();
        assertError("hostfwd_add tcp:127.0.0.1:0-:22", "closed");
        assertError("hostfwd_remove tcp:127.0.0.1:2222", "no forward");
        assertEquals(1, ok("info network").lines().size());
    }

    @Test
    void balloonSetsTheMemoryTheGuestKeeps() {
        Reply r = ok("balloon 448");
        assertEquals(List.of("target: 448 MiB (16384 pages in the balloon)"), r.lines());
        assertEquals(16384, machine.balloon.target);
        List<String> info = ok("info balloon").lines();
        assertEquals("448 MiB", field(info, "actual"));
        assertEquals("448 MiB", field(info, "target"));
        assertEquals("512 MiB", field(info, "ram"));
        assertEquals("actual=16384 target=16384", field(info, "balloon-pages"));
        assertEquals(String.valueOf(300L << 20), field(info, "stat free-memory"));
        assertEquals("18446744073709551615", field(info, "stat total-memory"));
        assertEquals(1, machine.balloon.refreshes.get(), "info balloon asks for fresh statistics");
        ok("balloon 512");
        assertEquals(0, machine.balloon.target, "all of RAM: an empty balloon");
        for (String bad : List.of("balloon 0", "balloon 513", "balloon -1", "balloon 1e3", "balloon 99999999999999",
                "balloon", "balloon 1 2", "balloon 256M")) {
            error(bad);
        }
        assertEquals(0, machine.balloon.target, "no bad command changed the target");
        machine.balloon = null;
        assertError("balloon 256", "no balloon");
        assertError("info balloon", "no balloon");
        assertEquals("no", field(ok("info status").lines(), "balloon"));
    }

    @Test
    void quitStopsTheMachineOnlyAfterItsReply() {
        Reply r = ok("quit");
        assertEquals(0, machine.quits.get(), "not before the reply is written");
        assertNotNull(r.after());
        r.after().run();
        assertEquals(1, machine.quits.get());
        assertEquals("stopping", field(ok("info status").lines(), "state"));
    }

    static int port(String address) {
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    }

    /**
     * Waits until nothing accepts on {@code port}. UserNet releases the socket at its event
     * loop's next turn, so a connect right after the removal may still be accepted.
     */
    static void awaitRefused(int port) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                if (System.nanoTime() > end) {
                    fail("port " + port + " still accepts connections after its forward was removed");
                }
            } catch (ConnectException e) {
                return;
            } catch (IOException e) {
                fail("port " + port + ": " + e);
            }
            Thread.sleep(20);
        }
    }
}
