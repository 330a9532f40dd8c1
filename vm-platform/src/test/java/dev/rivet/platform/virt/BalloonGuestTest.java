package dev.rivet.platform.virt;

import dev.rivet.virtio.balloon.BalloonStats;
import dev.rivet.virtio.balloon.VirtioBalloon;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static dev.rivet.platform.virt.LinuxBootTest.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * virtio-balloon as the reference guest's virtio_balloon driver uses it, over both
 * transports: the host asks for 64 MiB, the guest gives it (MemTotal drops by that much,
 * the device counts the pages), then the host lets it go and MemTotal comes back; the
 * guest answers a statistics request. The vmtest script waits on a typed line at each
 * step, so nothing depends on timing.
 */
class BalloonGuestTest {
    static final long TARGET_PAGES = (64L << 20) / 4096;

    @ParameterizedTest
    @EnumSource(VirtioSpec.Transport.class)
    void inflateAndDeflateShowInTheGuestsMemTotal(VirtioSpec.Transport t) throws Exception {
        GuestBoot g = new GuestBoot().guest(GuestBoot.REFERENCE).device(() -> new VirtioSpec.Balloon(false, t));
        g.vmtest("""
                mem() { sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo; }
                echo "before: $(mem)"
                read -r go; echo "inflated: $(mem)"
                read -r go; echo "deflated: $(mem)"
                """);
        try (GuestBoot.Running run = new GuestBoot.Running(g.machine())) {
            VirtioBalloon balloon = run.machine.balloon();
            GuestBoot.waitFor(g, "before:", 600);
            balloon.setTargetPages(TARGET_PAGES);
            awaitActual(balloon, TARGET_PAGES, g);
            assertEquals(TARGET_PAGES, balloon.inflatedPages());
            BalloonStats stats = balloon.requestStats().get(120, TimeUnit.SECONDS);
            assertTrue(stats.named().containsKey("free-memory"), stats.named().toString());
            run.machine.input("go\n".getBytes(StandardCharsets.US_ASCII));
            GuestBoot.waitFor(g, "inflated:", 600);
            balloon.setTargetPages(0);
            awaitActual(balloon, 0, g);
            run.machine.input("go\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(run.awaitEnd(600), g.tail());
            assertEquals(VirtMachine.Ending.POWEROFF, run.result.ending(), g.tail());
        }
        String c = g.console();
        long before = Long.parseLong(field(c, "before"));
        long inflated = Long.parseLong(field(c, "inflated"));
        long deflated = Long.parseLong(field(c, "deflated"));
        assertEquals(64L << 10, before - inflated, "MemTotal (kB) drops by the balloon's 64 MiB\n" + g.tail());
        assertEquals(before, deflated, "and comes back");
    }

    /** Polls the driver's {@code actual} (it inflates in steps on its own worker). */
    static void awaitActual(VirtioBalloon b, long pages, GuestBoot g) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(600);
        while (b.actualPages() != pages) {
            if (System.nanoTime() > end) {
                fail("balloon actual " + b.actualPages() + " never reached " + pages + "; console:\n" + g.tail());
            }
            Thread.sleep(20);
        }
    }
}
