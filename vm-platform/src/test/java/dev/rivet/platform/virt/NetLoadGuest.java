package dev.rivet.platform.virt;

import dev.rivet.platform.net.UserNet;
import dev.rivet.platform.net.UserNetCounter;
import dev.rivet.platform.net.UserNetOptions;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the NetLoad* vmtests share: the reference guest with the static load generator
 * (src/test/guest/linux/netload.c) in its initramfs and a virtio-net card on a fresh
 * {@link UserNet}; the vmtest script first takes a DHCP lease, then runs the test's own
 * lines, then waits for a line on the console before powering off, so the test can look
 * at the backend while it still runs. The guest clock follows the host's: with the
 * deterministic clock an idle guest would skip its timeouts before the host could answer.
 */
final class NetLoadGuest {
    static final Path PROGRAM = Path.of("target", "guest", "linux", "netload");
    /** The lease every test expects: QEMU's user-mode defaults. */
    static final String LEASE = "10.0.2.15 10.0.2.2 10.0.2.3";

    private static final String PROLOGUE = NetGuestTest.DHCP_SCRIPT + """
            ifconfig eth0 up
            udhcpc -i eth0 -n -q -t 5 -s /tmp/dhcp.sh 2>/dev/null | grep lease
            """;
    private static final String EPILOGUE = """
            echo "script: finished"
            read -r go; echo "done: $go"
            """;

    final GuestBoot boot;
    private volatile UserNet net;

    NetLoadGuest(UserNetOptions options, VirtioSpec.Transport transport, String script) throws Exception {
        boot = new GuestBoot().guest(GuestBoot.REFERENCE)
                .device(() -> {
                    net = new UserNet(options);
                    return new VirtioSpec.Net(net, VirtioSpec.Net.defaultMac(0), transport);
                })
                .file("netload", Files.readAllBytes(PROGRAM))
                .vmtest(PROLOGUE + script + EPILOGUE);
        boot.deterministic = false;
    }

    /** The backend of the machine built last. */
    UserNet net() {
        return net;
    }

    String console() {
        return boot.console();
    }

    String field(String key) {
        return LinuxBootTest.field(boot.console(), key);
    }

    /** Waits for {@code text} on the console; fails with the console's tail after {@code seconds}. */
    void waitFor(String text, long seconds) throws Exception {
        GuestBoot.waitFor(boot, text, seconds);
    }

    /**
     * Polls {@code done} until true; fails after {@code seconds} saying {@code what}, with
     * the backend's counters and the console's tail.
     */
    void await(BooleanSupplier done, long seconds, Supplier<String> what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > end) {
                fail("timed out: " + what.get() + "\n" + counters() + "\nconsole:\n" + boot.tail());
            }
            Thread.sleep(20);
        }
    }

    /**
     * Waits until the backend's TCP table is empty (closed connections linger for
     * {@link UserNetOptions.Limits#tcpTimeWait} at most): no connection object leaked.
     */
    void awaitNoConnections() throws InterruptedException {
        UserNet n = net;
        await(() -> n.tcpConnections() == 0, 30, () -> n.tcpConnections() + " connections still in the table");
    }

    /** The backend's non-zero counters, for failure messages. */
    String counters() {
        UserNet n = net;
        if (n == null) {
            return "no backend";
        }
        StringBuilder b = new StringBuilder("counters:");
        for (UserNetCounter c : UserNetCounter.values()) {
            if (n.counter(c) != 0) {
                b.append(' ').append(c).append('=').append(n.counter(c));
            }
        }
        return b.toString();
    }

    /** After the test's lines ran: checks the lease, lets the script end and the guest power off. */
    void finish(GuestBoot.Running run) throws Exception {
        waitFor("script: finished", 120);
        assertEquals(LEASE, field("lease"), boot.tail());
        run.machine.input("bye\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(run.awaitEnd(60), boot.tail());
        assertEquals(VirtMachine.Ending.POWEROFF, run.result.ending(), boot.tail());
        assertEquals("bye", field("done"), boot.tail());
    }
}
