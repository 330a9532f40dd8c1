package dev.rivet.platform.cli;

import dev.rivet.platform.baremetal.BareMetalMachine;
import dev.rivet.platform.boot.ElfFormatException;
import dev.rivet.platform.boot.ElfImage;
import dev.rivet.platform.boot.ElfLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code vmctl run}: boots a machine. For now: a bare-metal RV64GC program with HTIF. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run a guest. With no options, runs the bundled demo program.",
                "A bare-metal program (--bios) runs in M-mode with RAM at 0x80000000 and ends",
                "by writing (code<<1)|1 to its 'tohost' symbol (HTIF); vmctl exits with that code."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"N:the guest's own exit code", "1:the machine could not be built or run",
                "2:bad command line or unusable input file",
                "124:--max-instructions reached before the guest exited"})
final class RunCommand implements Callable<Integer> {
    static final int EXIT_BUDGET = 124;
    private static final String DEMO = "/dev/rivet/platform/demo/demo.elf";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.ParentCommand
    Vmctl vmctl;

    @Option(names = "--bios", paramLabel = "ELF",
            description = "Bare-metal RISC-V ELF program, loaded at its link addresses and started in M-mode.")
    Path bios;

    @Option(names = {"-m", "--memory"}, paramLabel = "SIZE", defaultValue = "128M",
            converter = SizeConverter.class,
            description = "Guest RAM size, e.g. 64M or 1G (default: ${DEFAULT-VALUE}).")
    long memory;

    @Option(names = "--max-instructions", paramLabel = "N",
            description = "Stop after about N guest instructions if the guest has not exited.")
    Long maxInstructions;

    @Option(names = "--stats", description = "Print instruction count, time and speed to stderr at the end.")
    boolean stats;

    @Override
    public Integer call() throws IOException {
        PrintStream err = vmctl.err;
        if (maxInstructions != null && maxInstructions <= 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--max-instructions must be positive");
        }
        ElfImage image;
        try {
            image = bios != null ? ElfLoader.read(bios) : demoImage();
        } catch (ElfFormatException e) {
            err.println("vmctl: " + Vmctl.oneLine(e)); // ElfLoader.read already names the file
            return Vmctl.EXIT_USAGE;
        } catch (NoSuchFileException | FileNotFoundException e) {
            err.println("vmctl: " + bios + ": no such file");
            return Vmctl.EXIT_USAGE;
        }
        BareMetalMachine m;
        try {
            m = new BareMetalMachine(image, memory, vmctl.console,
                    msg -> err.println("rivet: guest error: " + msg));
        } catch (IllegalArgumentException e) {
            err.println("vmctl: " + Vmctl.oneLine(e));
            return 1;
        }
        try (m) {
            if (!m.hasHtif()) {
                err.println("vmctl: warning: the program has no 'tohost' symbol, so it cannot end the run itself");
            }
            long t0 = System.nanoTime();
            BareMetalMachine.Result r = m.run(maxInstructions == null ? Long.MAX_VALUE : maxInstructions);
            long ns = System.nanoTime() - t0;
            vmctl.console.flush();
            if (stats) {
                err.printf("vmctl: %d instructions in %.3f s (%.1f MIPS), %d blocks translated%n",
                        r.instructions(), ns / 1e9, r.instructions() / (ns / 1e3),
                        m.interpreter().cache().translations());
            }
            if (r.exited()) {
                return r.exitCode();
            }
            err.printf("vmctl: stopped after %d instructions (--max-instructions %d); the guest did not exit%n",
                    r.instructions(), maxInstructions);
            return EXIT_BUDGET;
        }
    }

    private static ElfImage demoImage() throws IOException, ElfFormatException {
        try (InputStream in = RunCommand.class.getResourceAsStream(DEMO)) {
            if (in == null) {
                throw new IOException("the bundled demo program is missing from this build");
            }
            return ElfLoader.parse(in.readAllBytes());
        }
    }

    /** Parses sizes like {@code 4096}, {@code 64K}, {@code 128M}, {@code 2G}. */
    static final class SizeConverter implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String s) {
            String t = s.trim().toUpperCase();
            long mul = 1;
            if (t.endsWith("IB")) {
                t = t.substring(0, t.length() - 2);
            } else if (t.endsWith("B")) {
                t = t.substring(0, t.length() - 1);
            }
            if (!t.isEmpty()) {
                switch (t.charAt(t.length() - 1)) {
                    case 'K' -> mul = 1L << 10;
                    case 'M' -> mul = 1L << 20;
                    case 'G' -> mul = 1L << 30;
                    default -> mul = 1;
                }
                if (mul != 1) {
                    t = t.substring(0, t.length() - 1);
                }
            }
            long v;
            try {
                v = Math.multiplyExact(Long.parseLong(t), mul);
            } catch (NumberFormatException | ArithmeticException e) {
                throw new CommandLine.TypeConversionException("'" + s + "' is not a size (try 128M or 1G)");
            }
            if (v < (1 << 20) || v > (64L << 30) || (v & 0xFFF) != 0) {
                throw new CommandLine.TypeConversionException("'" + s + "': memory must be 1M to 64G in whole 4K pages");
            }
            return v;
        }
    }
}
