package dev.rivet.platform.monitor;

import dev.rivet.platform.cli.Vmctl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code vmctl monitor} as a user or a script runs it, against a server with a machine without a guest. */
class VmctlMonitorTest {
    record Outcome(int status, String out, String err) {
    }

    @TempDir
    Path dir;
    final FakeMachine machine = new FakeMachine();
    MonitorServer server;
    Path socket;

    void serve() throws Exception {
        socket = dir.resolve("m.sock");
        server = MonitorServer.bind(socket);
        server.serve(new MonitorCommands(machine));
    }

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
        machine.close();
    }

    static Outcome vmctl(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        InputStream in = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
        int status = Vmctl.execute(args, in, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Outcome(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static void assertOneLineNoTrace(Outcome o) {
        assertEquals(1, o.err().lines().count(), o.err());
        assertFalse(o.err().contains("\tat ") || o.err().contains("Exception"), o.err());
    }

    @Test
    void oneCommandPrintsItsReplyWithoutTheOk() throws Exception {
        serve();
        machine.card("user");
        Outcome o = vmctl("", "monitor", socket.toString(), "hostfwd_add", "tcp:127.0.0.1:0-:22");
        assertEquals(0, o.status(), o.err());
        assertTrue(o.out().matches("127\\.0\\.0\\.1:[0-9]+\n"), o.out());
        assertEquals("", o.err());
        Outcome info = vmctl("", "monitor", socket.toString(), "info", "network");
        assertEquals(0, info.status());
        assertTrue(info.out().contains("net0 hostfwd=tcp:127.0.0.1:0-:22 bound=" + o.out().strip()), info.out());
        assertFalse(info.out().contains("OK"), info.out());
    }

    @Test
    void aFailedCommandIsItsMessageOnStderrAndStatusOne() throws Exception {
        serve();
        Outcome o = vmctl("", "monitor", socket.toString(), "balloon", "9999");
        assertEquals(1, o.status());
        assertEquals("", o.out());
        assertEquals("vmctl: balloon: 9999 MiB is outside 1-512 (the guest's RAM)\n", o.err());
        // Words that look like options are the command's, not vmctl's.
        Outcome dash = vmctl("", "monitor", socket.toString(), "balloon", "-5");
        assertEquals(1, dash.status());
        assertEquals("vmctl: balloon: '-5' is not a number of MiB\n", dash.err());
        Outcome nl = vmctl("", "monitor", socket.toString(), "info\nquit");
        assertEquals(1, nl.status());
        assertEquals("vmctl: a monitor command is one line\n", nl.err());
        assertEquals(0, machine.quits.get());
    }

    @Test
    void withoutACommandItReadsStandardInputLineByLine() throws Exception {
        serve();
        Outcome o = vmctl("balloon 256\n\ninfo balloon\nnonsense\ninfo status\n", "monitor", socket.toString());
        assertEquals(1, o.status(), "one command failed: " + o.err());
        assertTrue(o.out().startsWith("target: 256 MiB (65536 pages in the balloon)\nactual: 256 MiB\n"), o.out());
        assertTrue(o.out().contains("state: running"), "the commands after the failure ran: " + o.out());
        assertEquals("vmctl: unknown command 'nonsense' (try help)\n", o.err());
        Outcome clean = vmctl("info status\r\nhelp\n", "monitor", socket.toString());
        assertEquals(0, clean.status(), clean.err());
        Outcome longLine = vmctl("x".repeat(10_000) + "\ninfo status\n", "monitor", socket.toString());
        assertEquals(1, longLine.status());
        assertTrue(longLine.err().contains("longer than 4096 bytes; not sent"), longLine.err());
        assertTrue(longLine.out().contains("state: running"), longLine.out());
    }

    @Test
    void quitEndsWithOkAndStatusZero() throws Exception {
        serve();
        Outcome o = vmctl("", "monitor", socket.toString(), "quit");
        assertEquals(0, o.status(), o.err());
        assertEquals("", o.out());
    }

    @Test
    void anUnreachableMonitorIsOneClearLine() throws Exception {
        Path missing = dir.resolve("nothing.sock");
        Outcome o = vmctl("", "monitor", missing.toString(), "info", "status");
        assertEquals(1, o.status());
        assertEquals("vmctl: " + missing + ": no such socket (is a machine running with --monitor " + missing + "?)\n",
                o.err());

        Path stale = dir.resolve("stale.sock");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(stale));
        }
        Outcome refused = vmctl("", "monitor", stale.toString(), "info", "status");
        assertEquals(1, refused.status());
        assertEquals("vmctl: " + stale + ": connection refused (no machine is listening there)\n", refused.err());

        Path file = Files.writeString(dir.resolve("file"), "x");
        Outcome notSocket = vmctl("", "monitor", file.toString(), "help");
        assertEquals(1, notSocket.status());
        assertOneLineNoTrace(notSocket);

        Outcome usage = vmctl("", "monitor");
        assertEquals(Vmctl.EXIT_USAGE, usage.status(), usage.err());
    }

    @Test
    void runRefusesAMonitorPathItCannotUse() throws Exception {
        Path file = Files.writeString(dir.resolve("busy"), "x");
        Outcome o = vmctl("", "run", "--monitor", file.toString());
        assertEquals(Vmctl.EXIT_USAGE, o.status(), o.err());
        assertEquals("vmctl: --monitor: " + file + " exists and is not a socket (remove it or choose another path)\n",
                o.err());
        assertEquals("x", Files.readString(file));
        Outcome bare = vmctl("", "run", "--demo", "--monitor", dir.resolve("m.sock").toString());
        assertEquals(Vmctl.EXIT_USAGE, bare.status());
        assertTrue(bare.err().contains("--monitor works with Linux machines"), bare.err());
    }
}
