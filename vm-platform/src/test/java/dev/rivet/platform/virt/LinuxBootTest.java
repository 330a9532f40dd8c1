package dev.rivet.platform.virt;

import dev.rivet.platform.JitOptions;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Boots Linux on the virt board and checks the machine from inside the guest: the
 * guest's /init runs the {@code vmtest=} script and powers off.
 */
class LinuxBootTest {
    /** A value printed by the guest on a line of its own: {@code key: value}. */
    static String field(String console, String key) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(key) + ": (.*?)\\r?$").matcher(console);
        assertTrue(m.find(), "guest printed '" + key + ":'\n" + console);
        return m.group(1).trim();
    }

    /**
     * The whole boot with every compilable block JIT-compiled at its first execution (paging,
     * page faults, MMIO and the timer all reached from compiled code); the guest checks a
     * few things from inside.
     */
    @Test
    void bundledGuestBootsWithEveryBlockCompiled() throws Exception {
        GuestBoot g = new GuestBoot().vmtest("""
                echo "sum: $(seq 1 200 | awk '{s+=$1} END {print s}')"
                exit 5
                """);
        g.jit = JitOptions.ALWAYS;
        VirtMachine.Result r = g.run();
        String out = g.console();
        assertEquals(VirtMachine.Ending.POWEROFF, r.ending(), out);
        assertTrue(out.contains("vmtest: exit 5"), out);
        assertEquals("20100", field(out, "sum"));
        assertTrue(g.jitStats.matches("jit: [1-9][0-9]{2,} regions compiled \\([0-9]+ blocks\\), .* 0 failed, .*"), g.jitStats);
        assertEquals("", g.guestErrors.toString(), "no guest errors logged");
    }

    @Test
    void bundledGuestBootsAndTheMachineLooksRightFromInside() throws Exception {
        GuestBoot g = new GuestBoot().vmtest("""
                echo "uname-m: $(uname -m)"
                echo "isa: $(grep -m1 '^isa' /proc/cpuinfo | cut -d: -f2)"
                echo "mmu: $(grep -m1 '^mmu' /proc/cpuinfo | cut -d: -f2)"
                echo "date: $(date -u +%Y-%m-%d)"
                echo "rtc: $(cat /sys/class/rtc/rtc0/name 2>/dev/null)"
                u1=$(cut -d' ' -f1 /proc/uptime); sleep 1; u2=$(cut -d' ' -f1 /proc/uptime)
                echo "uptime: $u1 $u2"
                echo "fwcfg-rev: $(cat /sys/firmware/qemu_fw_cfg/rev 2>/dev/null)"
                echo "uart-irqs: $(grep ttyS0 /proc/interrupts | awk '{print $2}')"
                echo "hwclock: $(hwclock -r -u 2>&1 | awk '{print $2, $3, $5}')"
                exit 7
                """);
        VirtMachine.Result r = g.run();
        String out = g.console();
        assertEquals(VirtMachine.Ending.POWEROFF, r.ending(), out);
        assertTrue(out.contains("guest: booted"), out);
        assertTrue(out.contains("vmtest: exit 7"), "the script ran and its status was reported\n" + out);
        assertEquals("riscv64", field(out, "uname-m"));
        assertEquals("sv57", field(out, "mmu"));
        assertEquals("2026-11-21", field(out, "date"), "the RTC gives the guest the host-side date");
        assertTrue(field(out, "rtc").contains("goldfish"), out);
        String[] up = field(out, "uptime").split(" ");
        double u1 = Double.parseDouble(up[0]), u2 = Double.parseDouble(up[1]);
        assertTrue(u2 >= u1 + 0.9 && u2 < u1 + 5, "timer interrupts advance uptime across sleep 1: " + u1 + " -> " + u2);
        assertIsaMatches(field(out, "isa"));
        // fw_cfg probed through its device-tree node: revision = ID features (traditional + DMA).
        assertEquals("3", field(out, "fwcfg-rev"));
        // The console's interrupts went UART -> PLIC -> hart (the 8250 driver counts them).
        assertTrue(Long.parseLong(field(out, "uart-irqs")) > 0, out);
        assertEquals("Nov 21 2026", field(out, "hwclock"), "hwclock reads the goldfish RTC directly");
        assertEquals("", g.guestErrors.toString(), "no guest errors logged");
    }

    /**
     * /proc/cpuinfo lists what Linux 6.12 understood of our device tree: exactly our set,
     * plus the extensions it derives (Zca from C, Zcd from C+D), minus those this kernel
     * does not know yet (Svadu arrived in Linux 6.13).
     */
    static void assertIsaMatches(String isa) {
        assertTrue(isa.startsWith("rv64imafdc"), isa);
        Set<String> got = new TreeSet<>(Arrays.asList(isa.substring("rv64imafdc".length()).split("_")));
        got.remove("");
        Set<String> want = new TreeSet<>(CpuNodes.MULTI_LETTER);
        want.add("zca");
        want.add("zcd");
        want.remove("svadu");
        assertEquals(want, got, "extensions reported by Linux");
    }

    /**
     * With the deterministic clock a boot is a function of its inputs, whichever tier runs
     * the code: compiled regions stop at exactly the block boundaries where the interpreter
     * polls timers and interrupts, so a boot interpreted throughout and a boot whose hot code
     * was compiled in the background (installed at unpredictable moments) print the same
     * console to the byte, timestamps and interrupt counts included.
     */
    @Test
    void deterministicBootsPrintByteIdenticalConsolesInterpretedOrCompiled() throws Exception {
        String script = "cat /proc/uptime; head -c 64 /proc/interrupts; echo done\n";
        GuestBoot a = new GuestBoot().vmtest(script);
        GuestBoot b = new GuestBoot().vmtest(script);
        a.jit = JitOptions.OFF;
        b.jit = new JitOptions(JitOptions.Mode.ON, 200);
        a.run();
        b.run();
        assertTrue(a.console().contains("vmtest: exit 0"), a.console());
        assertTrue(b.jitStats.matches("jit: [1-9][0-9]+ regions compiled .*"), b.jitStats);
        assertEquals(a.console(), b.console());
    }

    @Test
    void rebootIsReportedAsAReset() throws Exception {
        GuestBoot g = new GuestBoot().vmtest("reboot -f\n");
        VirtMachine.Result r = g.run();
        assertEquals(VirtMachine.Ending.REBOOT, r.ending(), g.tail());
    }

    @Test
    void interactiveShell() throws Exception {
        GuestBoot g = new GuestBoot();
        try (GuestBoot.Running run = new GuestBoot.Running(g.machine())) {
            GuestBoot.waitFor(g, "guest: ready", 600);
            run.machine.input("echo answer-$((6*7))\n".getBytes(StandardCharsets.UTF_8));
            GuestBoot.waitFor(g, "answer-42", 120);
            run.machine.input("poweroff -f\n".getBytes(StandardCharsets.UTF_8));
            assertTrue(run.awaitEnd(120), "poweroff ends the run\n" + g.tail());
            assertEquals(VirtMachine.Ending.POWEROFF, run.result.ending());
        }
    }

    /** OpenSBI from Debian's opensbi package, started through the boot ROM like QEMU does. */
    @Test
    void bootsThroughOpenSbiFirmware() throws Exception {
        Path fw = Path.of("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin");
        assertTrue(Files.exists(fw), "OpenSBI is installed (Debian package opensbi; .ci/run installs it)");
        GuestBoot g = new GuestBoot().vmtest("echo \"uname-m: $(uname -m)\"\n");
        g.firmware = Files.readAllBytes(fw);
        VirtMachine.Result r = g.run();
        String out = g.console();
        assertTrue(out.contains("OpenSBI"), out);
        assertEquals("riscv64", field(out, "uname-m"));
        assertEquals(VirtMachine.Ending.POWEROFF, r.ending(), out);
    }

    /**
     * The team's reference guest (../shared/guest/riscv64) boots both ways too, and its PCI
     * driver enumerates the board's PCIe host.
     */
    @Test
    void referenceGuestBootsWithBuiltinSbiAndWithOpenSbi() throws Exception {
        for (boolean openSbi : new boolean[] {false, true}) {
            GuestBoot g = new GuestBoot().guest(GuestBoot.REFERENCE).vmtest("""
                    echo "uname-m: $(uname -m)"
                    echo "pci: $(lspci | tr '\\n' ';')"
                    dd if=/dev/zero of=/dev/null count=1 2>/dev/null; echo "dd: $?"
                    """);
            if (openSbi) {
                g.firmware = Files.readAllBytes(Path.of("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"));
            }
            VirtMachine.Result r = g.run();
            assertEquals("riscv64", field(g.console(), "uname-m"));
            // Linux's generic ECAM driver found the PCIe host and enumerated its bridge.
            assertEquals("00:00.0 Class 0600: 1b36:0008;", field(g.console(), "pci"), g.tail());
            // dd reads the clock through the vDSO (rdtime in user mode): Linux allows that
            // only once its SBI PMU driver has probed, which the built-in SBI must support.
            assertEquals("0", field(g.console(), "dd"), g.tail());
            assertEquals(openSbi, g.console().contains("OpenSBI"), g.tail());
            assertEquals(VirtMachine.Ending.POWEROFF, r.ending());
        }
    }
}
