package dev.rivet.ir.riscv;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the RISC-V cross binutils ({@code riscv64-unknown-elf-as}, {@code objcopy},
 * {@code objdump}) for tests. A missing tool fails the test loudly: these tests are the
 * independent check on the decoder's encodings and must not be skipped silently.
 */
final class Asm {
    private Asm() {
    }

    static final String PREFIX = "riscv64-unknown-elf-";
    /** Everything binutils 2.40 knows of what we implement (it predates Zicond: use .insn). */
    static final String MARCH = "rv64gc_zba_zbb_zbs_zicsr_zifencei_zihintpause";

    /** Assembles {@code source} (a whole .s file) and returns the raw bytes of .text. */
    static byte[] assemble(String source) {
        try {
            Path dir = Files.createTempDirectory("rivet-asm");
            try {
                Path s = dir.resolve("t.s"), o = dir.resolve("t.o"), bin = dir.resolve("t.bin");
                Files.writeString(s, ".option norelax\n" + source + "\n");
                run(dir, PREFIX + "as", "-march=" + MARCH, "-o", o.toString(), s.toString());
                run(dir, PREFIX + "objcopy", "-O", "binary", "-j", ".text", o.toString(), bin.toString());
                return Files.readAllBytes(bin);
            } finally {
                deleteTree(dir);
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Assembles one instruction per line, each expected to be {@code width} bytes; returns the encodings. */
    static int[] encodings(List<String> lines, int width, boolean rvc) {
        String src = (rvc ? "" : ".option norvc\n") + String.join("\n", lines);
        byte[] bytes = assemble(src);
        if (bytes.length != lines.size() * width) {
            throw new AssertionError("assembled " + bytes.length + " bytes for " + lines.size() + " instructions of "
                    + width + " bytes: some instruction has an unexpected size");
        }
        int[] out = new int[lines.size()];
        for (int i = 0; i < out.length; i++) {
            int v = 0;
            for (int k = width - 1; k >= 0; k--) {
                v = v << 8 | (bytes[i * width + k] & 0xFF);
            }
            out[i] = v;
        }
        return out;
    }

    /**
     * Disassembles instructions (16-bit parcels or 32-bit words; ISA {@link #MARCH}, no
     * aliases) and returns one "mnemonic operands" string per instruction, in order. Unknown
     * encodings come back as ".2byte"/".4byte" (binutils' way of saying "not an
     * instruction"). Words whose low five bits are 11111 (longer formats) are not accepted.
     */
    static List<String> disassemble(int[] insns) {
        try {
            Path dir = Files.createTempDirectory("rivet-objdump");
            try {
                // Emit the words with .insn in an object assembled with our -march, so that
                // objdump decodes them as code with exactly that ISA (from the ELF attributes).
                StringBuilder src = new StringBuilder();
                for (int w : insns) {
                    long v = (w & 3) == 3 ? w & 0xFFFFFFFFL : w & 0xFFFF;
                    src.append(".insn 0x").append(Long.toHexString(v)).append('\n');
                }
                Path s = dir.resolve("t.s"), o = dir.resolve("t.o");
                Files.writeString(s, src.toString());
                run(dir, PREFIX + "as", "-march=" + MARCH, "-o", o.toString(), s.toString());
                String out = run(dir, PREFIX + "objdump", "-d", "-M", "no-aliases", "-z", o.toString());
                List<String> res = new ArrayList<>();
                for (String line : out.split("\n")) {
                    // "   4:\t5678                \tc.lw\ta4,108(a2)"
                    String[] parts = line.split("\t");
                    if (parts.length >= 3 && parts[0].trim().matches("[0-9a-f]+:")) {
                        StringBuilder sb = new StringBuilder(parts[2].trim());
                        for (int k = 3; k < parts.length; k++) {
                            sb.append(' ').append(parts[k].trim());
                        }
                        res.add(sb.toString());
                    }
                }
                if (res.size() != insns.length) {
                    throw new AssertionError("objdump listed " + res.size() + " instructions for " + insns.length);
                }
                return res;
            } finally {
                deleteTree(dir);
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static String run(Path dir, String... cmd) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("cannot run " + cmd[0] + " (install the RISC-V cross binutils, e.g. the Debian "
                    + "package binutils-riscv64-unknown-elf): " + e.getMessage(), e);
        }
        byte[] out = p.getInputStream().readAllBytes();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(cmd[0] + " timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed (" + p.exitValue() + "):\n" + text);
        }
        return text;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
