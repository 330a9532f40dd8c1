package dev.rivet.platform.baremetal;

import dev.rivet.ir.riscv.RiscvAssembler;
import dev.rivet.platform.boot.ElfLoader;
import dev.rivet.platform.boot.ElfSegment;
import dev.rivet.platform.boot.ElfTestWriter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded randomized differential test: random RV64 programs ({@link RandomProgram}: RV64I
 * incl. W forms, M, A, Zba/Zbb/Zbs/Zicond, loads/stores of every width incl. misaligned and
 * page-straddling ones, forward branches/jal/jalr, fence/fence.i) run on QEMU's
 * {@code spike} board and on Rivet's interpreter ({@link BareMetalMachine}); both print
 * x0..x31 and the 4 KiB scratch buffer through HTIF, and the outputs must be identical.
 *
 * <p>Where the QEMU cannot serve as the oracle, it runs a same-length equivalent sequence
 * instead (see {@link RandomProgram.Oracle}, probed at start): QEMU 7.2 has no Zicond, and
 * its ctzw counts all 64 bits when the low word is 0 (fixed in later QEMUs).
 *
 * <p>System properties:
 * <ul>
 *   <li>{@code rivet.seed}: seed of the first program (default: random, printed); program
 *       {@code i} uses {@code seed + i}. A failure names its seed: rerun it alone with
 *       {@code -Drivet.seed=S -Drivet.diff.programs=1};</li>
 *   <li>{@code rivet.diff.programs} (default 32), {@code rivet.diff.length} (random
 *       instruction groups per program, default 500);</li>
 *   <li>{@code rivet.qemu}: the {@code qemu-system-riscv64} binary (default: from PATH).</li>
 * </ul>
 * A missing QEMU fails the test (CI installs qemu-system-misc). On a mismatch the test runs
 * prefixes of the program to find the first diverging instruction group, and reports it with
 * its input values, the listing and (if binutils is installed) an objdump; the ELF and the
 * report are kept under {@code target/random-differential/}.
 */
class RandomDifferentialTest {
    static final long SEED = Long.getLong("rivet.seed", new SplittableRandom().nextLong(1L << 40));
    static final int PROGRAMS = Integer.getInteger("rivet.diff.programs", 32);
    static final int LENGTH = Integer.getInteger("rivet.diff.length", 500);
    static final long RIVET_BUDGET = 50_000_000L;
    static final long QEMU_TIMEOUT_SECONDS = 30;
    static final Path KEEP = Path.of("target", "random-differential");

    /** A run's exit status (-1: did not finish), console text and anything else worth showing. */
    record Output(int exitCode, String console, String diagnostics) {
        List<String> lines() {
            return console.lines().toList();
        }

        boolean sameAs(Output o) {
            return exitCode == o.exitCode && lines().equals(o.lines());
        }
    }

    private static String qemu;
    private static List<String> cpuArgs = List.of();
    private static RandomProgram.Oracle oracle;
    private static Path work;
    private static long qemuNanos, rivetNanos, programs, groupsRun;

    @TestFactory
    Stream<DynamicTest> rivetMatchesQemu() throws Exception {
        qemu = findQemu();
        work = Files.createTempDirectory("rivet-random-diff");
        oracle = probeQemu();
        System.out.printf("RandomDifferentialTest: seeds %d..%d (%d programs x %d groups), QEMU %s%s, Zicond %s%s%n",
                SEED, SEED + PROGRAMS - 1, PROGRAMS, LENGTH, qemu, cpuArgs.isEmpty() ? "" : " " + String.join(" ", cpuArgs),
                oracle.zicond() ? "native" : "checked against sltu/sub/and (the QEMU has no Zicond)",
                oracle.ctzwBug() ? ", ctzw checked against ctz (the QEMU's ctzw counts 64 bits when the low word is 0)" : "");
        return LongStream.range(0, PROGRAMS).mapToObj(i -> {
            long seed = SEED + i;
            return DynamicTest.dynamicTest("seed " + seed, () -> check(seed));
        });
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (programs > 0) {
            System.out.printf("RandomDifferentialTest: %d programs, %d random groups, QEMU %.1f s, Rivet %.1f s%n",
                    programs, groupsRun, qemuNanos / 1e9, rivetNanos / 1e9);
        }
        if (work != null) {
            try (Stream<Path> s = Files.walk(work)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    // ---- one program

    static void check(long seed) throws Exception {
        RandomProgram p = new RandomProgram(seed, LENGTH, oracle);
        RandomProgram.Built full = p.build();
        long t0 = System.nanoTime();
        Output q = runQemu(p.build(full.groups(), true).elf());
        long t1 = System.nanoTime();
        Output r = runRivet(full.elf());
        qemuNanos += t1 - t0;
        rivetNanos += System.nanoTime() - t1;
        programs++;
        groupsRun += full.groups();
        if (q.sameAs(r)) {
            if (q.exitCode() != 0 || q.lines().size() != RandomProgram.DUMP_LINES) {
                fail("seed " + seed + ": both machines agree but the program did not end normally (a generator bug?)\n"
                        + describe("QEMU", q) + p.listing(full));
            }
            return;
        }
        fail(report(p, full, q, r));
    }

    /** The failure message: differences, the first diverging group, the listing; also kept on disk. */
    static String report(RandomProgram p, RandomProgram.Built full, Output q, Output r) throws Exception {
        long seed = p.seed;
        StringBuilder sb = new StringBuilder();
        sb.append("seed ").append(seed).append(": Rivet differs from QEMU (rerun alone: -Drivet.seed=").append(seed)
                .append(" -Drivet.diff.programs=1 -Drivet.diff.length=").append(LENGTH).append(")\n");
        sb.append(differences(q, r));

        // Find a k where the first k groups agree and the first k+1 differ: group k diverges,
        // and the k-group program's dump is the state right before it.
        Output[] lo = runBoth(p, 0);
        if (!lo[0].sameAs(lo[1])) {
            sb.append("\nThe program differs even with no random instructions (register set-up or the dump):\n")
                    .append(differences(lo[0], lo[1]));
        } else {
            int good = 0, bad = full.groups();
            Output[] badOut = {q, r};
            while (bad - good > 1) {
                int mid = (good + bad) >>> 1;
                Output[] o = runBoth(p, mid);
                if (o[0].sameAs(o[1])) {
                    good = mid;
                    lo = o;
                } else {
                    bad = mid;
                    badOut = o;
                }
            }
            RandomProgram.Built prefix = p.build(bad, false);
            RandomProgram.Group g = p.groups.get(good);
            sb.append("\nFirst diverging instruction group (the first ").append(good)
                    .append(" groups agree, the first ").append(bad).append(" do not):\n  ")
                    .append(p.groupLine(prefix, good)).append('\n');
            List<String> before = lo[0].lines();
            if (before.size() == RandomProgram.DUMP_LINES) {
                sb.append("  inputs:");
                for (int reg : g.reads()) {
                    sb.append(" x").append(reg).append(" = 0x").append(before.get(reg));
                }
                if (g.memOff() >= 0) {
                    sb.append(String.format(" address = SCRATCH+0x%x = 0x%x;", g.memOff(), RandomProgram.SCRATCH + g.memOff()));
                    for (int line = 32 + g.memOff() / 8; line <= 32 + (g.memOff() + g.memWidth() - 1) / 8; line++) {
                        sb.append(' ').append(RandomProgram.lineName(line)).append(" = 0x").append(before.get(line));
                    }
                }
                sb.append('\n');
            }
            sb.append("  results (QEMU vs Rivet):\n").append(differences(badOut[0], badOut[1]).indent(2));
            Files.createDirectories(KEEP);
            Files.write(KEEP.resolve("seed-" + seed + "-prefix-" + bad + ".elf"), prefix.elf());
            Files.write(KEEP.resolve("seed-" + seed + "-prefix-" + bad + "-qemu.elf"), p.build(bad, true).elf());
        }

        Files.createDirectories(KEEP);
        Path elf = KEEP.resolve("seed-" + seed + ".elf");
        Files.write(elf, full.elf());
        Files.write(KEEP.resolve("seed-" + seed + "-qemu.elf"), p.build(full.groups(), true).elf());
        sb.append("\nELFs kept in ").append(KEEP.toAbsolutePath()).append(" (seed-").append(seed)
                .append(".elf for Rivet, -qemu.elf for QEMU, -prefix-* for the shortest failing prefix)\n\nListing:\n")
                .append(p.listing(full));
        String dis = objdump(full.text());
        if (dis != null) {
            sb.append("\nobjdump:\n").append(dis);
        }
        Files.writeString(KEEP.resolve("seed-" + seed + ".txt"), sb);
        return sb.toString();
    }

    /** The first {@code k} groups on QEMU and on Rivet. */
    static Output[] runBoth(RandomProgram p, int k) throws Exception {
        return new Output[] {runQemu(p.build(k, true).elf()), runRivet(p.build(k, false).elf())};
    }

    /** The differing dump lines, or both raw outputs when the runs did not end alike. */
    static String differences(Output q, Output r) {
        StringBuilder sb = new StringBuilder();
        List<String> a = q.lines(), b = r.lines();
        boolean wellFormed = q.exitCode() == 0 && r.exitCode() == 0
                && a.size() == RandomProgram.DUMP_LINES && b.size() == RandomProgram.DUMP_LINES;
        if (!wellFormed) {
            return describe("QEMU", q) + describe("Rivet", r);
        }
        int shown = 0;
        for (int line = 0; line < RandomProgram.DUMP_LINES; line++) {
            if (!a.get(line).equals(b.get(line)) && shown++ < 40) {
                sb.append(String.format("  %-20s QEMU 0x%s  Rivet 0x%s%n", RandomProgram.lineName(line), a.get(line), b.get(line)));
            }
        }
        if (shown > 40) {
            sb.append("  ... ").append(shown - 40).append(" more\n");
        }
        return sb.toString();
    }

    static String describe(String who, Output o) {
        String console = o.console();
        if (console.length() > 4000) {
            console = console.substring(0, 4000) + "\n...(" + console.length() + " chars)";
        }
        return who + ": exit code " + o.exitCode() + (o.diagnostics().isEmpty() ? "" : ", " + o.diagnostics().strip())
                + "\n" + who + " output:\n" + console.indent(2);
    }

    // ---- the two machines

    static Output runRivet(byte[] elf) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringBuilder errors = new StringBuilder();
        try (BareMetalMachine m = new BareMetalMachine(ElfLoader.parse(elf), 16 << 20, out,
                msg -> errors.append("guest error: ").append(msg).append('\n'))) {
            BareMetalMachine.Result res = m.run(RIVET_BUDGET);
            String console = out.toString(StandardCharsets.ISO_8859_1);
            if (!res.exited()) {
                errors.append(String.format("did not exit within %d instructions (%s), pc=0x%x%n",
                        RIVET_BUDGET, res.reason(), m.hart().pc));
                return new Output(-1, console, errors.toString());
            }
            return new Output(res.exitCode(), console, errors.toString());
        } catch (Exception | Error e) {
            StringWriter sw = new StringWriter();
            e.printStackTrace(new PrintWriter(sw));
            return new Output(-2, out.toString(StandardCharsets.ISO_8859_1), "exception: " + sw);
        }
    }

    static Output runQemu(byte[] elf) throws IOException, InterruptedException {
        return runQemu(elf, cpuArgs);
    }

    static Output runQemu(byte[] elf, List<String> extraArgs) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory(work, "run");
        Path file = dir.resolve("prog.elf"), out = dir.resolve("stdout"), err = dir.resolve("stderr");
        Files.write(file, elf);
        List<String> cmd = new ArrayList<>(List.of(qemu, "-M", "spike", "-nographic", "-bios", "none", "-kernel", file.toString()));
        cmd.addAll(extraArgs);
        Process proc = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        int exit;
        String note = "";
        if (proc.waitFor(QEMU_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            exit = proc.exitValue();
        } else {
            proc.destroyForcibly().waitFor();
            exit = -1;
            note = "timed out after " + QEMU_TIMEOUT_SECONDS + " s; ";
        }
        Output o = new Output(exit, Files.readString(out, StandardCharsets.ISO_8859_1),
                note + Files.readString(err, StandardCharsets.ISO_8859_1));
        Files.delete(file);
        Files.delete(out);
        Files.delete(err);
        Files.delete(dir);
        return o;
    }

    static String findQemu() {
        String configured = System.getProperty("rivet.qemu");
        if (configured != null) {
            if (!Files.isExecutable(Path.of(configured))) {
                fail("-Drivet.qemu=" + configured + " is not an executable file");
            }
            return configured;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "qemu-system-riscv64");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        fail("qemu-system-riscv64 is not installed (not on PATH): the random differential test needs it as its oracle. "
                + "Install it (Debian/Ubuntu: apt-get install qemu-system-misc) or point -Drivet.qemu=/path/to/qemu-system-riscv64 at one.");
        throw new AssertionError();
    }

    /**
     * What this QEMU can be trusted with. Zicond: only if it runs czero.eqz without trapping
     * (QEMU 7.2 has no Zicond; 8.x has it as a CPU option). ctzw: QEMU 7.2 counts all 64 bits
     * when the low word is 0 (its trans_ctzw zero-extends the operand only for 32-bit
     * operation length; later QEMUs set it), so probe ctzw(1 << 36): 32 is right, 36 is the bug.
     */
    static RandomProgram.Oracle probeQemu() throws IOException, InterruptedException {
        Output plain = runQemu(probeProgram(a -> a.emit(RiscvAssembler.addi(5, 0, 0))), List.of());
        if (plain.exitCode() != 0) {
            fail("QEMU cannot run a trivial program:\n" + describe("QEMU", plain));
        }
        boolean zicond = false;
        byte[] czero = probeProgram(a -> a.emit(RiscvAssembler.r(0x33, 5, 5, 6, 7, 0x07), RiscvAssembler.addi(5, 0, 0)));
        for (List<String> args : List.of(List.of("-cpu", "rv64,zicond=true"), List.<String>of())) {
            if (runQemu(czero, args).exitCode() == 0) {
                zicond = true;
                cpuArgs = args;
                break;
            }
        }
        Output ctzw = runQemu(probeProgram(a -> a.li(6, 1L << 36).emit(RiscvAssembler.r(0x1B, 5, 1, 6, 1, 0x30))), cpuArgs);
        if (ctzw.exitCode() != 32 && ctzw.exitCode() != 36) {
            fail("QEMU's ctzw probe ended unexpectedly:\n" + describe("QEMU", ctzw));
        }
        return new RandomProgram.Oracle(zicond, ctzw.exitCode() != 32);
    }

    /** mtvec = trap (exit 127); {@code body}; exit with status x5. */
    static byte[] probeProgram(java.util.function.Consumer<RiscvAssembler> body) {
        RiscvAssembler asm = new RiscvAssembler();
        asm.emitTo("main", off -> RiscvAssembler.jal(0, off));
        asm.li(6, RandomProgram.TOHOST).emit(RiscvAssembler.addi(7, 0, 127 << 1 | 1), RiscvAssembler.sd(7, 6, 0),
                RiscvAssembler.jal(0, 0));
        asm.label("main");
        asm.li(5, RandomProgram.TEXT + 4).emit(RiscvAssembler.csrrw(0, RandomProgram.MTVEC, 5));
        body.accept(asm);
        asm.li(6, RandomProgram.TOHOST).emit(RiscvAssembler.slli(5, 5, 1), RiscvAssembler.ori(5, 5, 1),
                RiscvAssembler.sd(5, 6, 0), RiscvAssembler.jal(0, 0));
        byte[] text = asm.assemble();
        byte[] elf = new ElfTestWriter()
                .entry(RandomProgram.TEXT)
                .load(ElfSegment.PF_R | ElfSegment.PF_X, RandomProgram.TEXT, RandomProgram.TEXT, text, text.length)
                .load(ElfSegment.PF_R | ElfSegment.PF_W, RandomProgram.DATA, RandomProgram.DATA,
                        new byte[RandomProgram.DATA_SIZE], RandomProgram.DATA_SIZE)
                .symbol("tohost", RandomProgram.TOHOST, ElfTestWriter.STB_GLOBAL, ElfTestWriter.STT_OBJECT)
                .symbol("fromhost", RandomProgram.FROMHOST, ElfTestWriter.STB_GLOBAL, ElfTestWriter.STT_OBJECT)
                .build();
        RandomProgram.setSymbolSize(elf, "tohost", 8);
        RandomProgram.setSymbolSize(elf, "fromhost", 8);
        return elf;
    }

    /**
     * A disassembly of the code if binutils for RISC-V is installed, else null. Raw binaries
     * disassemble as plain rv64gc, so the words are reassembled with {@code .insn} into an
     * object file that records Zba/Zbb/Zbs in its attributes (binutils 2.40 has no Zicond:
     * czero shows as {@code .4byte}; the listing has it).
     */
    static String objdump(byte[] text) {
        for (String prefix : List.of("riscv64-unknown-elf-", "riscv64-linux-gnu-")) {
            try {
                Path dir = Files.createTempDirectory(work, "objdump");
                Path src = dir.resolve("code.S"), obj = dir.resolve("code.o");
                StringBuilder sb = new StringBuilder(".option norvc\n.text\n");
                java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(text).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                for (int at = 0; at < text.length; at += 4) {
                    sb.append(String.format(".insn 0x%08x%n", b.getInt(at)));
                }
                Files.writeString(src, sb);
                if (tool(prefix + "as", "-march=rv64gc_zba_zbb_zbs", "-o", obj.toString(), src.toString()) != null) {
                    String dis = tool(prefix + "objdump", "-d", "-M", "numeric,no-aliases",
                            "--adjust-vma=0x" + Long.toHexString(RandomProgram.TEXT), obj.toString());
                    if (dis != null) {
                        return dis;
                    }
                }
            } catch (IOException | InterruptedException e) {
                // try the next toolchain
            }
        }
        return null;
    }

    /** Runs a tool; its output, or null if it is missing or fails. */
    private static String tool(String... cmd) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.waitFor() == 0 ? out : null;
        } catch (IOException e) {
            return null;
        }
    }
}
