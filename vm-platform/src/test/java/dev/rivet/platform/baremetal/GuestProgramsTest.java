package dev.rivet.platform.baremetal;

import dev.rivet.core.bus.GuestErrorLog;
import dev.rivet.jit.CodeCache;
import dev.rivet.platform.JitOptions;
import dev.rivet.platform.boot.ElfLoader;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs the project's own bare-metal guest programs (src/test/guest, compiled during the
 * build by the RISC-V cross compiler) on the interpreter. Each self-checking program exits
 * through HTIF with 0 on success or the number of the first failing check.
 */
class GuestProgramsTest {
    static final Path GUEST = Path.of("target", "guest");
    static final long BUDGET = 2_000_000_000L;

    record Run(int exitCode, String console, long instructions) {
    }

    /**
     * The boots of a JIT run share one code cache, as a test library that boots the same
     * guest again and again should: each region is compiled once per test JVM.
     */
    static final CodeCache SHARED_CODE = new CodeCache(CodeCache.DEFAULT_MEMORY_ENTRIES, null);
    /**
     * The JIT setting for the ordinary runs: off unless {@code -Drivet.jit=on|always} (to
     * run the whole suite on the JIT by hand).
     */
    static final JitOptions JIT = switch (System.getProperty("rivet.jit", "off")) {
        case "on" -> JitOptions.ON.withCache(SHARED_CODE);
        case "always" -> JitOptions.ALWAYS.withCache(SHARED_CODE);
        default -> JitOptions.OFF;
    };

    static Run run(Path elf) throws Exception {
        return run(elf, JIT);
    }

    static Run run(Path elf, JitOptions jit) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringBuilder errors = new StringBuilder();
        try (BareMetalMachine m = new BareMetalMachine(ElfLoader.read(elf), 64 << 20, out,
                msg -> errors.append(msg).append('\n'), jit)) {
            assertTrue(m.hasHtif(), elf + " has a tohost symbol");
            BareMetalMachine.Result r = m.run(BUDGET);
            String console = out.toString(StandardCharsets.UTF_8);
            if (!r.exited()) {
                fail(elf.getFileName() + " did not exit within " + BUDGET + " instructions; pc=0x"
                        + Long.toHexString(m.hart().pc) + "\n" + console);
            }
            assertEquals("", errors.toString(), "guest errors logged");
            if (jit.mode() == JitOptions.Mode.ALWAYS) {
                assertTrue(m.jit().compiledBlocks() > 0, "blocks compiled");
                assertEquals(0, m.jit().failedBlocks(), "blocks that failed to load");
            }
            return new Run(r.exitCode(), console, r.instructions());
        }
    }

    static List<Path> programs(String glob) throws IOException {
        if (!Files.isDirectory(GUEST)) {
            fail("guest programs were not built: " + GUEST.toAbsolutePath()
                    + " is missing (the build runs 'make' in src/test/guest; it needs gcc-riscv64-unknown-elf and picolibc-riscv64-unknown-elf)");
        }
        try (Stream<Path> s = Files.list(GUEST)) {
            return s.filter(p -> p.getFileSystem().getPathMatcher("glob:" + glob).matches(p.getFileName()))
                    .sorted().toList();
        }
    }

    /** Every assembly test program: exit code 0 means every check in it passed. */
    @TestFactory
    Stream<DynamicTest> assemblyTestPrograms() throws IOException {
        List<Path> elfs = programs("*.elf").stream()
                .filter(p -> Files.exists(Path.of("src/test/guest/asm", p.getFileName().toString().replace(".elf", ".S"))))
                .toList();
        assertFalse(elfs.isEmpty(), "no assembly test programs found");
        return elfs.stream().map(elf -> DynamicTest.dynamicTest(elf.getFileName().toString(), () -> {
            Run r = run(elf);
            assertEquals(0, r.exitCode(), () -> elf.getFileName() + " failed check #" + r.exitCode() + "\n" + r.console());
        }));
    }

    /**
     * The same self-checking programs with every compilable block JIT-compiled at its first
     * execution: the JIT must pass every check the interpreter passes.
     */
    @TestFactory
    Stream<DynamicTest> testProgramsPassUnderJitAlways() throws IOException {
        List<Path> elfs = programs("*.elf").stream()
                .filter(p -> Files.exists(Path.of("src/test/guest/asm", p.getFileName().toString().replace(".elf", ".S"))))
                .toList();
        Stream<DynamicTest> asm = elfs.stream().map(elf -> DynamicTest.dynamicTest(elf.getFileName().toString(), () -> {
            Run r = run(elf, JitOptions.ALWAYS);
            assertEquals(0, r.exitCode(), () -> elf.getFileName() + " failed check #" + r.exitCode() + "\n" + r.console());
        }));
        Stream<DynamicTest> c = Stream.of("demo", "sort_hash", "matmul", "strings", "fpkernel").map(name -> DynamicTest.dynamicTest(name, () -> {
            Run r = run(GUEST.resolve(name + ".elf"), JitOptions.ALWAYS);
            assertEquals(0, r.exitCode(), r.console());
            assertEquals(Files.readString(GUEST.resolve(name + ".expected")), r.console());
        }));
        return Stream.concat(asm, c);
    }

    @Test
    void helloPrintsAndExitsZero() throws Exception {
        Run r = run(GUEST.resolve("hello.elf"));
        assertEquals(0, r.exitCode());
        assertEquals("hello from rivet\n", r.console());
    }

    @Test
    void helloThroughTheSyscallProxyPrintsTheSame() throws Exception {
        Run r = run(GUEST.resolve("hello_proxy.elf"));
        assertEquals(0, r.exitCode());
        assertEquals("hello from rivet\n", r.console());
    }

    /** C workloads print exactly what the same source prints when built for the host. */
    @TestFactory
    Stream<DynamicTest> cProgramsPrintWhatTheHostBuildPrints() {
        return Stream.of("demo", "sort_hash", "matmul", "strings", "fpkernel").map(name -> DynamicTest.dynamicTest(name, () -> {
            Run r = run(GUEST.resolve(name + ".elf"));
            assertEquals(0, r.exitCode(), r.console());
            assertEquals(Files.readString(GUEST.resolve(name + ".expected")), r.console());
        }));
    }

    /**
     * {@code vmctl run} with no arguments runs a committed binary (so a fresh clone needs no
     * cross compiler); it must still print exactly what c/demo.c prints on the host.
     */
    @Test
    void bundledDemoMatchesItsSource(@TempDir Path dir) throws Exception {
        Path elf = dir.resolve("demo.elf");
        try (var in = BareMetalMachine.class.getResourceAsStream("/dev/rivet/platform/demo/demo.elf")) {
            assertTrue(in != null, "bundled demo resource");
            Files.copy(in, elf);
        }
        Run r = run(elf);
        assertEquals(0, r.exitCode());
        assertEquals(Files.readString(GUEST.resolve("demo.expected")), r.console(),
                "bundled demo is stale: run 'make -C vm-platform/src/test/guest demo-resource'");
    }

    /**
     * The FP oracle: the same C program compiled for this x86-64 host and for the guest
     * prints the result bits and exception flags of thousands of operations in every IEEE
     * rounding mode; the guest's output must equal the host's byte for byte.
     */
    @Test
    void fpOracleMatchesTheHostBitForBit() throws Exception {
        String expected = Files.readString(GUEST.resolve("fp_oracle.expected"));
        assertTrue(expected.lines().count() > 1000, "oracle output is substantial");
        Run r = run(GUEST.resolve("fp_oracle.elf"));
        assertEquals(0, r.exitCode());
        List<String> want = expected.lines().toList();
        List<String> got = r.console().lines().toList();
        for (int i = 0; i < Math.min(want.size(), got.size()); i++) {
            if (!want.get(i).equals(got.get(i))) {
                fail("line " + (i + 1) + " differs\n  host:  " + want.get(i) + "\n  guest: " + got.get(i));
            }
        }
        assertEquals(want.size(), got.size(), "line count");
    }

    /**
     * Machines of one JVM that share a code cache (a test suite booting the same guest again
     * and again) compile each region once: the later machines take every region from it.
     */
    @Test
    void machinesSharingACodeCacheCompileEachRegionOnce(@TempDir Path dir) throws Exception {
        Path elf = dir.resolve("demo.elf");
        try (var in = BareMetalMachine.class.getResourceAsStream("/dev/rivet/platform/demo/demo.elf")) {
            Files.copy(in, elf);
        }
        CodeCache shared = new CodeCache(CodeCache.DEFAULT_MEMORY_ENTRIES, null);
        JitOptions jit = JitOptions.ALWAYS.withCache(shared);
        String firstConsole = null;
        long firstMisses = 0;
        for (int machine = 0; machine < 3; machine++) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (BareMetalMachine m = new BareMetalMachine(ElfLoader.read(elf), 64 << 20, out, GuestErrorLog.SILENT, jit)) {
                assertTrue(m.run(BUDGET).exited());
                long compiled = m.jit().compiledBlocks();
                assertTrue(compiled > 10, m.jit().stats());
                if (machine == 0) {
                    firstConsole = out.toString(StandardCharsets.UTF_8);
                    firstMisses = shared.misses();
                    assertEquals(compiled, firstMisses + m.jit().cachedRegions(), m.jit().stats());
                } else {
                    assertEquals(firstConsole, out.toString(StandardCharsets.UTF_8));
                    assertEquals(compiled, m.jit().cachedRegions(), m.jit().stats());
                    assertEquals(firstMisses, shared.misses(), "nothing compiled again");
                }
            }
        }
    }
}
