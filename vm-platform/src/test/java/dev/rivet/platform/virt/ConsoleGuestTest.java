package dev.rivet.platform.virt;

import dev.rivet.virtio.console.ConsolePort;
import dev.rivet.virtio.console.PortHandler;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static dev.rivet.platform.virt.LinuxBootTest.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * virtio-console as the reference guest's virtio_console driver uses it, over both
 * transports: the guest's console on {@code hvc0} (its output on the machine console,
 * typed input read by the vmtest script), and a named port carrying data both ways.
 */
class ConsoleGuestTest {
    static final String PORT = "org.rivet.test.0";

    /** Boots with {@code console=hvc0}: /dev/console is the virtio console, and a typed line reaches the script. */
    @ParameterizedTest
    @EnumSource(VirtioSpec.Transport.class)
    void theGuestConsoleRunsOnHvc0(VirtioSpec.Transport t) throws Exception {
        GuestBoot g = new GuestBoot().guest(GuestBoot.REFERENCE).device(() -> new VirtioSpec.Console(t));
        g.append = "console=hvc0";
        g.vmtest("""
                echo "active: $(cat /sys/class/tty/console/active)"
                read -r line; echo "typed: $line"
                """);
        try (GuestBoot.Running run = new GuestBoot.Running(g.machine())) {
            // Typed once the console is open (earlier input goes where a real tty's does: nowhere).
            GuestBoot.waitFor(g, "active:", 600);
            run.machine.input("hello over hvc0\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(run.awaitEnd(600), g.tail());
            assertEquals(VirtMachine.Ending.POWEROFF, run.result.ending(), g.tail());
        }
        String c = g.console();
        assertEquals("hvc0", field(c, "active"), g.tail());
        assertEquals("hello over hvc0", field(c, "typed"), g.tail());
    }

    /**
     * A named port: the guest finds it by name in sysfs, reads a line the host sent before
     * the guest opened the port, and writes a line the host receives.
     */
    @ParameterizedTest
    @EnumSource(VirtioSpec.Transport.class)
    void aNamedPortCarriesDataBothWays(VirtioSpec.Transport t) throws Exception {
        ByteArrayOutputStream fromGuest = new ByteArrayOutputStream();
        PortHandler handler = data -> {
            synchronized (fromGuest) {
                while (data.hasRemaining()) {
                    fromGuest.write(data.get());
                }
            }
        };
        GuestBoot g = new GuestBoot().guest(GuestBoot.REFERENCE)
                .device(() -> new VirtioSpec.Console(Map.of(PORT, handler), t));
        g.vmtest("""
                for p in /sys/class/virtio-ports/*; do echo "port-$(basename $p): $(cat $p/name)"; done
                dev=/dev/$(basename $(dirname $(grep -l %s /sys/class/virtio-ports/*/name)))
                read -r line < $dev; echo "from-host: $line"
                echo "hello host" > $dev; echo "write: $?"
                """.formatted(PORT));
        try (GuestBoot.Running run = new GuestBoot.Running(g.machine())) {
            ConsolePort port = run.machine.virtioConsole().port(PORT);
            port.setHostConnected(true);
            assertEquals(13, port.send(ByteBuffer.wrap("hello guest\n\n".getBytes(StandardCharsets.US_ASCII))));
            assertTrue(run.awaitEnd(600), g.tail());
            assertEquals(VirtMachine.Ending.POWEROFF, run.result.ending(), g.tail());
        }
        String c = g.console();
        assertEquals(PORT, field(c, "port-vport0p1"), g.tail());
        assertEquals("hello guest", field(c, "from-host"), g.tail());
        assertEquals("0", field(c, "write"), g.tail());
        synchronized (fromGuest) {
            assertEquals("hello host\n", fromGuest.toString(StandardCharsets.US_ASCII));
        }
    }
}
