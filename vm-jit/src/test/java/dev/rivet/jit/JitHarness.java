package dev.rivet.jit;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.core.riscv.CodePageMap;
import dev.rivet.core.riscv.Hart;
import dev.rivet.interp.Interpreter;

/**
 * One hart with 1 MiB of RAM at 0x8000_0000 and an interpreter, optionally with the JIT
 * attached synchronously at threshold 0 (every compilable block runs compiled from its
 * first execution), its classes bound to this RAM; or with a given compiler.
 */
final class JitHarness implements AutoCloseable {
    static final long RAM = 0x8000_0000L;
    static final long CODE = RAM;
    static final long TRAP = RAM + 0x8000;
    static final long DATA = RAM + 0x10000;

    final GuestRam ram;
    final Bus bus;
    final Hart hart;
    final Interpreter interp;
    final JitCompiler jit;

    JitHarness(boolean jitOn) {
        this(jitOn, 1 << 20, null);
    }

    /** With {@code jit} attached synchronously at threshold 0. */
    JitHarness(JitCompiler jit) {
        this(jit, 0);
    }

    /** With {@code jit} attached synchronously at {@code threshold}. */
    JitHarness(JitCompiler jit, long threshold) {
        this(false, 1 << 20, null);
        this.jitAttached = jit;
        interp.setCompiler(jit.synchronous(), threshold);
    }

    /** A compiler attached by {@link #JitHarness(JitCompiler)}, shut down on close. */
    private JitCompiler jitAttached;

    /** With {@code ramSize} bytes of RAM and {@code setup} (may be null) mapping devices before the hart exists. */
    JitHarness(boolean jitOn, int ramSize, java.util.function.Consumer<Bus> setup) {
        ram = new GuestRam(RAM, ramSize);
        bus = new Bus(ram);
        if (setup != null) {
            setup.accept(bus);
        }
        hart = new Hart(0, bus, new CodePageMap(RAM, ramSize));
        interp = new Interpreter(hart);
        hart.reset(CODE);
        hart.mtvec = TRAP;
        jit = jitOn ? new JitCompiler(null, hart.ram) : null;
        if (jitOn) {
            interp.setCompiler(jit.synchronous(), 0);
        }
    }

    /**
     * x0-x31 and f0-f31: what two engines must agree on. The slots above (the one absorbing
     * writes to x0, the temporaries) are scratch within one guest instruction; the
     * interpreter leaves its last values there, compiled code does not write them back.
     */
    long[] architecturalRegs() {
        return java.util.Arrays.copyOf(hart.regs, Hart.DISCARD);
    }

    void put(long addr, int... words) {
        for (int k = 0; k < words.length; k++) {
            ram.write(addr - RAM + 4L * k, 4, words[k]);
        }
    }

    void put(long addr, byte[] bytes) {
        ram.load(addr, bytes, 0, bytes.length);
    }

    @Override
    public void close() {
        if (jit != null) {
            jit.shutdown();
        }
        if (jitAttached != null) {
            jitAttached.shutdown();
        }
        ram.close();
    }
}
