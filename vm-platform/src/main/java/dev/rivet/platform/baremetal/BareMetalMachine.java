package dev.rivet.platform.baremetal;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.GuestErrorLog;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.core.riscv.CodePageMap;
import dev.rivet.core.riscv.Hart;
import dev.rivet.interp.Interpreter;
import dev.rivet.jit.JitCompiler;
import dev.rivet.platform.GuestProfile;
import dev.rivet.platform.JitOptions;
import dev.rivet.platform.boot.ElfImage;
import dev.rivet.platform.boot.ElfSegment;
import dev.rivet.platform.htif.Htif;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * A minimal machine for bare-metal programs, like Spike or QEMU's {@code spike} board: one
 * RV64GC hart in M-mode, RAM at {@link #RAM_BASE}, and HTIF through the program's
 * {@code tohost}/{@code fromhost} symbols. The program is loaded at its link addresses
 * and starts at its ELF entry point.
 */
public final class BareMetalMachine implements AutoCloseable {
    public static final long RAM_BASE = 0x8000_0000L;

    /** What happened to a run. */
    public record Result(Integer exitCode, long instructions, Interpreter.StopReason reason) {
        public boolean exited() {
            return exitCode != null;
        }
    }

    private final GuestRam ram;
    private final Hart hart;
    private final Interpreter interpreter;
    private final Htif htif;
    /** The JIT tier, or null when it is off. */
    private final JitCompiler jit;

    /**
     * Builds the machine and loads {@code image}.
     *
     * @throws IllegalArgumentException with a one-line message when the image does not
     *         fit in RAM
     */
    public BareMetalMachine(ElfImage image, long ramSize, OutputStream console, GuestErrorLog log) {
        this(image, ramSize, console, log, JitOptions.OFF);
    }

    /** As above, with the JIT configured by {@code jitOptions}. */
    public BareMetalMachine(ElfImage image, long ramSize, OutputStream console, GuestErrorLog log,
                            JitOptions jitOptions) {
        this.ram = new GuestRam(RAM_BASE, ramSize);
        try {
            for (ElfSegment s : image.segments()) {
                if (!ram.contains(s.physAddr(), Math.max(1, s.memSize()))) {
                    throw new IllegalArgumentException(String.format(
                            "program segment at 0x%x (%d bytes) lies outside RAM 0x%x-0x%x; link it at 0x%x or give more --memory",
                            s.physAddr(), s.memSize(), RAM_BASE, RAM_BASE + ramSize - 1, RAM_BASE));
                }
                ram.load(s.physAddr(), s.data(), 0, s.data().length);
            }
            Bus bus = new Bus(ram);
            bus.setGuestErrorLog(log);
            bus.freeze();
            CodePageMap codePages = new CodePageMap(RAM_BASE, ramSize);
            ram.setWriteObserver(codePages::notifyWrite);
            this.hart = new Hart(0, bus, codePages);
            hart.reset(image.entry());
            this.interpreter = new Interpreter(hart);
            this.jit = jitOptions.attach(interpreter, jitOptions.cache() == null ? null : profile(image, ramSize));
            Optional<Long> to = image.symbol("tohost");
            Optional<Long> from = image.symbol("fromhost");
            if (to.isPresent() && ram.contains(to.get(), 8)) {
                this.htif = new Htif(hart, ram, to.get(), from.orElse(0L), console, log);
                htif.attach();
            } else {
                this.htif = null;
            }
        } catch (RuntimeException e) {
            ram.close();
            throw e;
        }
    }

    /** The warm-start profile of a program: its loaded segments and entry point. */
    private static String profile(ElfImage image, long ramSize) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (ElfSegment s : image.segments()) {
            all.writeBytes(ByteBuffer.allocate(16).putLong(s.physAddr()).putLong(s.memSize()).array());
            all.writeBytes(s.data());
        }
        all.writeBytes(ByteBuffer.allocate(8).putLong(image.entry()).array());
        return GuestProfile.of("baremetal", ramSize, all.toByteArray());
    }

    /** True when the program has a {@code tohost} symbol, i.e. it can end its own run. */
    public boolean hasHtif() {
        return htif != null;
    }

    public Hart hart() {
        return hart;
    }

    /** The JIT compiler (for its counters), or null when the JIT is off. */
    public JitCompiler jit() {
        return jit;
    }

    public Interpreter interpreter() {
        return interpreter;
    }

    /** Runs until the program exits through HTIF or {@code maxInstructions} retire. */
    public Result run(long maxInstructions) {
        Interpreter.StopReason why = interpreter.run(maxInstructions);
        return new Result(htif == null ? null : htif.exitCode(), hart.instret, why);
    }

    @Override
    public void close() {
        if (jit != null) {
            jit.saveHotList();
            jit.shutdown();
        }
        ram.close();
    }
}
