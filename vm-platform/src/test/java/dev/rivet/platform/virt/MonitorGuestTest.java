package dev.rivet.platform.virt;

import dev.rivet.platform.cli.Vmctl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.rivet.platform.virt.LinuxBootTest.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The monitor along the whole user path: {@code vmctl run --monitor PATH} boots the reference
 * guest with a user-mode network card and a balloon, and {@code vmctl monitor PATH ...}
 * (both in this JVM, through {@link Vmctl#execute}) drives it while busybox httpd serves a
 * file in the guest: a forward added at run time carries the file out intact (SHA-256), is
 * listed with its bound port, and is removed so the host port closes; {@code balloon} makes
 * the guest's MemTotal drop by exactly what the balloon took; {@code quit} ends vmctl with
 * status 0 and the socket file goes away. The guest runs on the host clock (vmctl's
 * default): its network timeouts must follow real time.
 */
class MonitorGuestTest {
    static final int GUEST_PORT = 8080;
    static final long RAM_MIB = 512, KEEP_MIB = 448;
    static final long WAIT_SECONDS = 900;

    record Outcome(int status, String out, String err) {
    }

    /** {@code vmctl monitor PATH words...}. */
    static Outcome monitor(Path socket, String... words) {
        List<String> args = new ArrayList<>(List.of("monitor", socket.toString()));
        args.addAll(List.of(words));
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Vmctl.execute(args.toArray(String[]::new), new ByteArrayInputStream(new byte[0]),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Outcome(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Outcome ok(Path socket, String... words) {
        Outcome o = monitor(socket, words);
        assertEquals(0, o.status(), String.join(" ", words) + ": " + o.err());
        assertEquals("", o.err());
        return o;
    }

    @Test
    void forwardsAndBalloonChangeWhileTheGuestRunsAndQuitEndsIt(@TempDir Path dir) throws Exception {
        Path initrd = dir.resolve("initrd.cpio.gz");
        byte[] base = Files.readAllBytes(GuestBoot.REFERENCE.resolve("initramfs.cpio.gz"));
        byte[] extra = new Cpio().file("vmtest.sh", ("#!/bin/sh\n" + """
                mem() { sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo; }
                ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up
                mkdir -p /tmp/www
                dd if=/dev/urandom of=/tmp/www/data bs=1024 count=1024 2>/dev/null
                echo "sum: $(sha256sum /tmp/www/data | cut -d' ' -f1)"
                before=$(mem)
                echo "before: $before"
                httpd -p %d -h /tmp/www && echo "httpd: up"
                while [ "$(mem)" -gt $((before - %d)) ]; do sleep 1; done
                echo "after: $(mem)"
                while true; do sleep 60; done
                """.formatted(GUEST_PORT, (RAM_MIB - KEEP_MIB) << 10)).getBytes(StandardCharsets.UTF_8), 0755).gzip();
        try (OutputStream o = Files.newOutputStream(initrd)) {
            o.write(base);
            o.write(extra);
        }
        Path socket = dir.resolve("monitor.sock");
        List<String> run = new ArrayList<>(List.of("run", "--kernel", GuestBoot.REFERENCE.resolve("Image").toString(),
                "--initrd", initrd.toString(), "--append", "console=ttyS0 vmtest=/vmtest.sh", "-m", RAM_MIB + "M",
                "--net", "user", "--balloon=pci", "--monitor", socket.toString()));
        String jit = System.getProperty("rivet.jit");
        if (jit != null) {
            run.add("--jit=" + jit);
        }
        ByteArrayOutputStream console = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream consoleStream = new PrintStream(new SynchronizedOutput(console), true, StandardCharsets.UTF_8);
        CompletableFuture<Integer> vmctl = new CompletableFuture<>();
        Thread t = new Thread(() -> vmctl.complete(Vmctl.execute(run.toArray(String[]::new),
                new ByteArrayInputStream(new byte[0]), consoleStream,
                new PrintStream(err, true, StandardCharsets.UTF_8))), "vmctl-run");
        t.setDaemon(true); // if quit never gets through, the test JVM still exits
        t.start();
        try {
            waitFor(console, "httpd: up", vmctl);
            List<String> status = ok(socket, "info", "status").out().lines().toList();
            assertTrue(status.contains("state: running"), status.toString());
            assertTrue(status.contains("balloon: yes") && status.contains("net-cards: 1"), status.toString());

            // A forward added at run time carries the guest's file out intact.
            String bound = ok(socket, "hostfwd_add", "tcp:127.0.0.1:0-:" + GUEST_PORT).out().strip();
            assertTrue(bound.matches("127\\.0\\.0\\.1:[0-9]+"), bound);
            int port = Integer.parseInt(bound.substring(bound.indexOf(':') + 1));
            assertEquals(field(text(console), "sum"), NetGuestTest.fetch("http://" + bound + "/data"),
                    "the guest's file, fetched through the forward");
            String net = ok(socket, "info", "network").out();
            assertTrue(net.contains("net0 hostfwd=tcp:127.0.0.1:0-:" + GUEST_PORT + " bound=" + bound), net);
            assertTrue(net.startsWith("net0 mac=52:54:00:12:34:56 transport=mmio guest=10.0.2.15"), net);
            assertTrue(net.matches("(?s).* tcp-opened=[1-9][0-9]* .*"), "the fetch counted: " + net);

            ok(socket, "hostfwd_remove", "tcp:127.0.0.1:" + port);
            awaitRefused(port);
            assertFalse(ok(socket, "info", "network").out().contains("hostfwd="));
            Outcome again = monitor(socket, "hostfwd_remove", "tcp:127.0.0.1:" + port);
            assertEquals(1, again.status());
            assertEquals("vmctl: net0 has no forward listening on tcp:127.0.0.1:" + port + "\n", again.err());

            // The balloon: the guest keeps 448 of its 512 MiB.
            ok(socket, "balloon", String.valueOf(KEEP_MIB));
            waitFor(console, "after:", vmctl);
            String c = text(console);
            long before = Long.parseLong(field(c, "before")), after = Long.parseLong(field(c, "after"));
            assertEquals((RAM_MIB - KEEP_MIB) << 10, before - after, "MemTotal (kB) drops by what the balloon took");
            String balloon = ok(socket, "info", "balloon").out();
            assertTrue(balloon.startsWith("actual: " + KEEP_MIB + " MiB\ntarget: " + KEEP_MIB + " MiB\n"), balloon);

            assertEquals("", ok(socket, "quit").out());
            assertEquals(0, vmctl.get(WAIT_SECONDS, TimeUnit.SECONDS), "quit ends vmctl as a poweroff does: "
                    + err.toString(StandardCharsets.UTF_8));
            assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "the socket goes with the machine");
            Outcome gone = monitor(socket, "info", "status");
            assertEquals(1, gone.status());
            assertTrue(gone.err().contains("no such socket"), gone.err());
        } finally {
            if (!vmctl.isDone()) {
                monitor(socket, "quit");
                vmctl.get(WAIT_SECONDS, TimeUnit.SECONDS);
            }
        }
    }

    /** The console collected so far. */
    static String text(ByteArrayOutputStream console) {
        synchronized (console) {
            return console.toString(StandardCharsets.UTF_8);
        }
    }

    static void waitFor(ByteArrayOutputStream console, String what, CompletableFuture<Integer> vmctl)
            throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!text(console).contains(what)) {
            String c = text(console);
            if (vmctl.isDone() || System.nanoTime() > end) {
                fail((vmctl.isDone() ? "vmctl ended (" + vmctl.join() + ")" : "timed out") + " waiting for '" + what
                        + "'; console:\n" + c.substring(Math.max(0, c.length() - 4000)));
            }
            Thread.sleep(50);
        }
    }

    /** Waits until nothing accepts on {@code port} (UserNet releases the socket at its loop's next turn). */
    static void awaitRefused(int port) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                if (System.nanoTime() > end) {
                    fail("port " + port + " still accepts connections after hostfwd_remove");
                }
            } catch (ConnectException e) {
                return;
            } catch (IOException e) {
                fail("port " + port + ": " + e);
            }
            Thread.sleep(20);
        }
    }

    /** The console sink: the guest writes from the hart thread while the test reads. */
    static final class SynchronizedOutput extends OutputStream {
        private final ByteArrayOutputStream target;

        SynchronizedOutput(ByteArrayOutputStream target) {
            this.target = target;
        }

        @Override
        public void write(int b) {
            synchronized (target) {
                target.write(b);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) {
            synchronized (target) {
                target.write(b, off, len);
            }
        }
    }
}
