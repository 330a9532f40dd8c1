package dev.rivet.platform.cli;

import dev.rivet.platform.boot.ElfTestWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** vmctl as a user meets it: exit statuses and one-line messages, never a stack trace. */
class VmctlTest {
    record Outcome(int status, String out, String err) {
    }

    static Outcome vmctl(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Vmctl.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Outcome(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static void assertNoStackTrace(Outcome o) {
        assertFalse(o.err().contains("\tat ") || o.err().contains("Exception"), o.err());
    }

    static final Path GUEST = Path.of("target", "guest");

    @Test
    void runsABareMetalProgramAndExitsWithItsCode() {
        Outcome o = vmctl("run", "--bios", GUEST.resolve("hello.elf").toString());
        assertEquals(0, o.status(), o.err());
        assertTrue(o.out().contains("hello from rivet"), o.out());
    }

    @Test
    void noArgumentsRunsTheBundledDemo() {
        Outcome o = vmctl("run");
        assertEquals(0, o.status(), o.err());
        assertTrue(o.out().contains("hello from rivet"), o.out());
    }

    @Test
    void maxInstructionsBoundsARunAndSaysSo() throws Exception {
        Outcome o = vmctl("run", "--bios", GUEST.resolve("hello.elf").toString(), "--max-instructions", "100");
        assertEquals(RunCommand.EXIT_BUDGET, o.status());
        assertTrue(o.err().contains("stopped after"), o.err());
        assertTrue(o.err().contains("--max-instructions 100"), o.err());
    }

    @Test
    void missingFileIsOneLine(@TempDir Path dir) {
        Outcome o = vmctl("run", "--bios", dir.resolve("nope.elf").toString());
        assertEquals(Vmctl.EXIT_USAGE, o.status());
        assertTrue(o.err().contains("no such file"), o.err());
        assertEquals(1, o.err().lines().count(), o.err());
    }

    @Test
    void hostBinaryIsRejectedAsTheWrongMachine() {
        Outcome o = vmctl("run", "--bios", "/bin/true");
        assertEquals(Vmctl.EXIT_USAGE, o.status());
        assertEquals("vmctl: /bin/true: ELF machine is x86-64 (62), expected RISC-V (243)", o.err().strip());
    }

    @Test
    void garbageFileIsRejected(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("junk.elf");
        Files.write(f, new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0});
        Outcome o = vmctl("run", "--bios", f.toString());
        assertEquals(Vmctl.EXIT_USAGE, o.status());
        assertNoStackTrace(o);
        assertEquals(1, o.err().lines().count(), o.err());
    }

    @Test
    void badFlagsAndValuesAreUsageErrors() {
        for (String[] args : new String[][] {
                {"run", "--frobnicate"},
                {"run", "--memory", "lots"},
                {"run", "--memory", "12"},
                {"run", "--max-instructions", "-5"},
                {"fly"},
                {}}) {
            Outcome o = vmctl(args);
            assertEquals(Vmctl.EXIT_USAGE, o.status(), String.join(" ", args) + ": " + o.err());
            assertNoStackTrace(o);
            assertTrue(o.err().startsWith("vmctl: "), o.err());
        }
    }

    @Test
    void programOutsideRamIsAClearError(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("low.elf");
        Files.write(f, new ElfTestWriter().entry(0x1000)
                .load(5, 0x1000, 0x1000, ElfTestWriter.pattern(64, 1), 64).build());
        Outcome o = vmctl("run", "--bios", f.toString());
        assertEquals(1, o.status());
        assertTrue(o.err().contains("outside RAM"), o.err());
        assertEquals(1, o.err().lines().count(), o.err());
    }
}
