package dev.rivet.platform.boot;

import static org.junit.jupiter.api.Assertions.*;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parses a program built by the real RISC-V cross toolchain and cross-checks symbols with
 * {@code nm}. Deliberately not skipped when the toolchain is missing: CI installs it, and a silent
 * skip would hide the only test against linker-produced ELF files.
 */
class ElfLoaderToolchainTest {
    private static final String CC = "riscv64-unknown-elf-gcc";
    private static final String NM = "riscv64-unknown-elf-nm";
    private static final long BASE = 0x8000_0000L;

    private static final String START_S = """
            .section .text.init, "ax"
            .globl _start
        _start:
            la sp, stack_top
            call main
        1:  j 1b
        """;

    private static final String MAIN_C = """
        volatile unsigned long tohost __attribute__((section(".tohost")));
        volatile unsigned long fromhost __attribute__((section(".tohost")));
        static volatile unsigned long counter = 41;
        unsigned long buffer[512];

        int main(void) {
            buffer[3] = counter + 1;
            tohost = (buffer[3] << 1) | 1;
            return 0;
        }
        """;

    private static final String LINK_LD = """
        OUTPUT_ARCH(riscv)
        ENTRY(_start)
        SECTIONS {
          . = 0x80000000;
          .text : { *(.text.init) *(.text .text.*) }
          .rodata : { *(.rodata .rodata.* .srodata .srodata.*) }
          . = ALIGN(0x1000);
          .tohost : { *(.tohost) }
          .data : { *(.data .data.* .sdata .sdata.*) }
          .bss : { *(.sbss .sbss.* .bss .bss.* COMMON) }
          . = ALIGN(16) + 0x1000;
          stack_top = .;
        }
        """;

    @Test
    void parsesCrossCompiledBareMetalProgram(@TempDir Path dir) throws Exception {
        Path cc = tool(CC);
        Files.writeString(dir.resolve("start.S"), START_S);
        Files.writeString(dir.resolve("main.c"), MAIN_C);
        Files.writeString(dir.resolve("link.ld"), LINK_LD);
        Path elf = dir.resolve("prog.elf");
        run(dir, cc.toString(), "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany", "-O2", "-ffreestanding",
                "-nostdlib", "-nostartfiles", "-static", "-T", "link.ld", "-o", "prog.elf", "start.S", "main.c");

        ElfImage image = ElfLoader.read(elf);

        assertEquals(BASE, image.entry());
        assertEquals(Optional.of(BASE), image.symbol("_start"));
        long tohost = image.symbol("tohost").orElseThrow();
        long fromhost = image.symbol("fromhost").orElseThrow();
        assertEquals(0, tohost & 0xfff, "tohost starts the page-aligned .tohost section");
        assertEquals(tohost + 8, fromhost);
        assertTrue(image.symbol("counter").isPresent(), "local (static) symbols are kept");

        ElfSegment text = segmentContaining(image, BASE);
        assertNotEquals(0, text.flags() & ElfSegment.PF_X, "entry segment is executable");
        assertEquals(0x17, text.data()[0] & 0x7f, "first instruction of _start is the auipc of 'la sp'");
        ElfSegment bss = segmentContaining(image, image.symbol("buffer").orElseThrow());
        assertTrue(bss.zeroFillSize() >= 512 * 8, "buffer[] lives in zero-filled memory: " + bss);

        // Every uniquely named defined symbol nm reports must match.
        Map<String, Long> fromNm = new HashMap<>();
        Set<String> duplicates = new HashSet<>();
        for (String line : run(dir, tool(NM).toString(), "prog.elf").lines().toList()) {
            String[] f = line.trim().split("\\s+");
            if (f.length != 3 || "Uwv".indexOf(f[1].charAt(0)) >= 0) {
                continue;
            }
            if (fromNm.put(f[2], Long.parseUnsignedLong(f[0], 16)) != null) {
                duplicates.add(f[2]);
            }
        }
        fromNm.keySet().removeAll(duplicates);
        assertTrue(fromNm.keySet().containsAll(List.of("_start", "main", "tohost", "fromhost", "counter", "buffer")),
                () -> "nm output lacks expected symbols: " + fromNm);
        fromNm.forEach((name, value) ->
                assertEquals(Optional.of(value), image.symbol(name), "symbol " + name + " vs nm"));
    }

    private static ElfSegment segmentContaining(ElfImage image, long addr) {
        return image.segments().stream()
                .filter(s -> Long.compareUnsigned(addr - s.physAddr(), s.memSize()) < 0)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no segment contains 0x" + Long.toHexString(addr)));
    }

    private static Path tool(String name) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(d.isEmpty() ? "." : d, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return fail(name + " not found on PATH: install the RISC-V cross toolchain "
                + "(Debian/Ubuntu: apt-get install gcc-riscv64-unknown-elf); CI installs it");
    }

    private static String run(Path dir, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", command) + " timed out");
        }
        assertEquals(0, p.exitValue(), () -> String.join(" ", command) + " failed:\n" + output);
        return output;
    }
}
