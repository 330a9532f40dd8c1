package dev.rivet.benches;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.core.riscv.CodePageMap;
import dev.rivet.core.riscv.Hart;
import dev.rivet.interp.Interpreter;
import dev.rivet.jit.JitCompiler;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Interpreter throughput in guest instructions per second. Each invocation runs a guest
 * loop for {@link #BUDGET} instructions; the {@code instructions} counter (ops/s) divided
 * by 10^6 is guest MIPS.
 *
 * <pre>
 * ./mvnw -q -pl benches -am package -Dmaven.test.skip=true
 * java --enable-native-access=ALL-UNNAMED -jar benches/target/benchmarks.jar InterpreterBench
 * java --enable-native-access=ALL-UNNAMED -jar benches/target/benchmarks.jar InterpreterBench -p jit=off,on
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class InterpreterBench {
    static final long BUDGET = 1_000_000;

    @Param({"integer", "memory", "branchy", "fp"})
    public String workload;

    /**
     * {@code off}: interpreter only. {@code on}: every block the JIT accepts is compiled
     * (synchronously, at its first execution) and runs compiled; the rest is interpreted.
     */
    @Param({"off"})
    public String jit;

    JitCompiler compiler;

    GuestRam ram;
    Hart hart;
    Interpreter interp;

    /** Reported per second: guest instructions retired. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Retired {
        public long instructions;

        @Setup(Level.Iteration)
        public void clear() {
            instructions = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        ram = new GuestRam(GuestLoops.CODE, 16 << 20);
        byte[] code = switch (workload) {
            case "integer" -> GuestLoops.integer();
            case "memory" -> GuestLoops.memory();
            case "branchy" -> GuestLoops.branchy();
            case "fp" -> GuestLoops.floatingPoint();
            default -> throw new IllegalArgumentException(workload);
        };
        ram.load(GuestLoops.CODE, code, 0, code.length);
        Bus bus = new Bus(ram);
        hart = new Hart(0, bus, new CodePageMap(ram.base(), ram.size()));
        GuestLoops.start(hart);
        interp = new Interpreter(hart);
        if (jit.equals("on")) {
            compiler = new JitCompiler();
            interp.setCompiler(compiler.synchronous(), 0);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (compiler != null) {
            System.err.println(compiler.stats());
            compiler.shutdown();
        }
        ram.close();
    }

    @Benchmark
    public long run(Retired retired) {
        long before = hart.instret;
        interp.run(BUDGET);
        long n = hart.instret - before;
        retired.instructions += n;
        return n;
    }
}
