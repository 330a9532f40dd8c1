package dev.rivet.platform;

import dev.rivet.interp.Interpreter;
import dev.rivet.jit.CodeCache;
import dev.rivet.jit.JitCompiler;

/**
 * Whether and when a machine JIT-compiles guest code.
 *
 * @param mode      {@link Mode#OFF}: interpret only; {@link Mode#ON}: compile blocks on a
 *                  background thread once they ran {@code threshold} times;
 *                  {@link Mode#ALWAYS}: compile every block at its first execution on the
 *                  hart's own thread (slow to start, reproducible; for testing the JIT)
 * @param threshold executions before a block is compiled in {@link Mode#ON}
 * @param cache     the code cache consulted before compiling, or null (machines that share
 *                  one share the lowered bytecode; in {@link Mode#ALWAYS} also the classes)
 *
 * <p>Code compiled because it got hot ({@link Mode#ON}), and every class of a compiler with
 * no cache to share, is bound to its machine's RAM (see {@link JitCompiler}): each machine
 * defines its own hot classes, and HotSpot compiles each access with the RAM as a
 * constant. {@link Mode#ALWAYS} with a cache compiles every block a guest runs, cold or
 * hot; there, one class per region serves every machine that shares the cache, which
 * spares each later machine HotSpot's warm-up on tens of thousands of classes.
 */
public record JitOptions(Mode mode, long threshold, CodeCache cache) {
    public enum Mode { OFF, ON, ALWAYS }

    /**
     * Measured on Linux boots and the C workloads (docs/BENCHMARKS.md): at 1,000 a boot
     * compiles ~900 regions that mostly run too few times to pay for HotSpot's warm-up and is
     * clearly slower than the interpreter; at 20,000 the reference guest boots a little faster
     * than with the interpreter, and the workloads, whose loops run millions of times, lose
     * about 5% against 4,000.
     */
    public static final long DEFAULT_THRESHOLD = 20_000;
    public static final JitOptions OFF = new JitOptions(Mode.OFF, DEFAULT_THRESHOLD);
    public static final JitOptions ON = new JitOptions(Mode.ON, DEFAULT_THRESHOLD);
    public static final JitOptions ALWAYS = new JitOptions(Mode.ALWAYS, 0);

    public JitOptions(Mode mode, long threshold) {
        this(mode, threshold, null);
    }

    /** The same options with {@code cache} (null: none). */
    public JitOptions withCache(CodeCache cache) {
        return new JitOptions(mode, threshold, cache);
    }

    public JitOptions {
        if (mode == null) {
            throw new IllegalArgumentException("mode is null");
        }
        if (threshold < 0) {
            throw new IllegalArgumentException("JIT threshold must not be negative");
        }
    }

    /** Attaches a new compiler to {@code interp} as configured; returns it (null when off). */
    public JitCompiler attach(Interpreter interp) {
        return attach(interp, null);
    }

    /**
     * As {@link #attach(Interpreter)}, and with a code cache on disk starts a warm start for
     * the guest named by {@code profile} (see {@link GuestProfile}; null: none). The machine
     * calls {@link JitCompiler#saveHotList()} when it closes.
     */
    public JitCompiler attach(Interpreter interp, String profile) {
        if (mode == Mode.OFF) {
            return null;
        }
        boolean shared = mode == Mode.ALWAYS && cache != null;
        JitCompiler jit = new JitCompiler(cache, shared ? null : interp.hart().ram);
        if (profile != null && mode == Mode.ON) {
            jit.warmStart(profile);
        }
        if (mode == Mode.ALWAYS) {
            interp.setCompiler(jit.synchronous(), 0);
        } else {
            interp.setCompiler(jit, threshold);
        }
        return jit;
    }
}
