package dev.rivet.jit;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.management.ObjectName;

/**
 * Keeps this tier's own compiler out of HotSpot's C2: a compiler directive, added once per
 * JVM through the {@code DiagnosticCommand} MBean (what {@code jcmd <pid>
 * Compiler.directives_add} does), excludes region lowering and ASM from C2, so HotSpot
 * compiles them with C1 only.
 *
 * <p>Why: in the first seconds of a run C2 is the bottleneck. On the two-core benchmark host
 * it was busy for 3.7 s of a 4.1 s run, and regions run slowly (HotSpot's bytecode
 * interpreter, then C1 code) until their C2 code arrives. A quarter of that C2 time went to
 * this tier's own lowering code and ASM, which run a few hundred times per run: C1 code
 * serves them well enough, and the regions reach C2 sooner (docs/BENCHMARKS.md, "Plain FP
 * paths and the lowering kept out of C2").
 *
 * <p>Best effort: without the management module or with the directive stack full, nothing
 * changes but speed, so failures are logged and ignored. The directive is JVM-wide, hence
 * the once-per-JVM guard.
 */
final class HostCompilerHints {
    private static final Logger LOG = Logger.getLogger(HostCompilerHints.class.getName());
    private static final AtomicBoolean APPLIED = new AtomicBoolean();

    /** Directive syntax: HotSpot's "Compiler Control" (JEP 165); patterns are class.method with * at either end. */
    static final String DIRECTIVE = """
            [ { match: ["dev/rivet/jit/RegionLowering*.*", "dev/rivet/jit/JitCompiler*.*", "org/objectweb/asm*.*"],
                c2: { Exclude: true } } ]
            """;

    private HostCompilerHints() {
    }

    /** Adds the directive unless this JVM already has it; true if it was added by this call. */
    static boolean applyOnce() {
        if (!APPLIED.compareAndSet(false, true)) {
            return false;
        }
        Path file = null;
        try {
            file = Files.createTempFile("rivet-c2-", ".json");
            Files.writeString(file, DIRECTIVE);
            Object result = ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesAdd",
                    new Object[] {new String[] {file.toString()}}, new String[] {String[].class.getName()});
            String text = String.valueOf(result);
            if (!text.contains("1 compiler directives added")) {
                LOG.fine(() -> "compiler directive not added: " + text.strip());
                return false;
            }
            return true;
        } catch (Exception | LinkageError e) {
            LOG.log(Level.FINE, "compiler directive not added", e);
            return false;
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (java.io.IOException ignored) {
                    // a leftover temp file in the temp directory; nothing to do about it
                }
            }
        }
    }
}
