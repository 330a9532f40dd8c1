package dev.rivet.core.fp;

import dev.rivet.core.fp.ReferenceFloat.Fmt;
import dev.rivet.core.fp.ReferenceFloat.Res;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static dev.rivet.core.fp.ReferenceFloat.F32;
import static dev.rivet.core.fp.ReferenceFloat.F64;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Differential test of every {@link RvFloat} operation in every rounding mode against the exact
 * {@link ReferenceFloat}, on operands from {@link FpGen}. Results and flags must match bit for bit.
 *
 * <p>The seed is fixed by default so CI is repeatable; it is shown in each test's name and in
 * failure messages. Run with {@code -Drivet.seed=N} to replay a seed or {@code -Drivet.seed=random}
 * to explore, and with {@code -Drivet.fp.iterations=N} to change the work per operation.
 */
class RvFloatDifferentialTest {
    private static final long DEFAULT_SEED = 0x5eed_f10a_7L;
    private static final int ITERATIONS = Integer.getInteger("rivet.fp.iterations", 10000);

    interface Gen {
        long[] make(FpGen g);
    }

    interface Impl {
        long apply(long[] x, int rm, FpStatus st);
    }

    interface Ref {
        Res apply(long[] x, int rm);
    }

    /** One operation under test; operands and results are bit patterns or integers in longs. */
    record Op(String name, boolean usesRm, int arity, int iterations, Gen gen, Impl impl, Ref ref,
              Fmt[] operandFmts) {
        @Override
        public String toString() {
            return name;
        }
    }

    static long baseSeed() {
        String s = System.getProperty("rivet.seed");
        if (s == null || s.isBlank()) {
            return DEFAULT_SEED;
        }
        if (s.equals("random")) {
            return new SplittableRandom().nextLong();
        }
        return Long.decode(s);
    }

    static Stream<Arguments> cases() {
        long base = baseSeed();
        List<Op> ops = ops();
        return IntStream.range(0, ops.size()).mapToObj(i -> {
            // Each operation gets its own stream, so adding operations does not change the others.
            long seed = base + 0x9E3779B97F4A7C15L * (i + 1);
            return Arguments.of(ops.get(i), seed);
        });
    }

    @ParameterizedTest(name = "{0} seed={1}")
    @MethodSource("cases")
    void matchesReference(Op op, long seed) {
        FpGen g = new FpGen(seed);
        List<String> failures = new ArrayList<>();
        int[] modes = op.usesRm() ? new int[] {0, 1, 2, 3, 4} : new int[] {0};
        for (int i = 0; i < op.iterations() && failures.size() < 8; i++) {
            long[] x = op.gen().make(g);
            for (int k = 0; k < 2 * modes.length; k++) {
                // Each case twice: from clear flags, and with NX already raised (as in code that
                // has run an inexact operation before), where RNE has its own fast path.
                int rm = modes[k / 2];
                int before = k % 2 == 0 ? 0 : FpFlags.NX;
                FpStatus st = new FpStatus();
                st.flags = before;
                long got = op.impl().apply(x, rm, st);
                Res want = op.ref().apply(x, rm);
                if (got != want.bits() || st.flags != (want.flags() | before)) {
                    failures.add(String.format("%s rm=%s %s%s: expected %s flags=%s, got %s flags=%s",
                            op.name(), RoundingMode.name(rm), describe(x, op.operandFmts()),
                            before != 0 ? " (NX set before)" : "",
                            Long.toHexString(want.bits()), FpFlags.toString(want.flags() | before),
                            Long.toHexString(got), FpFlags.toString(st.flags)));
                }
            }
        }
        if (!failures.isEmpty()) {
            fail("seed=" + seed + " (rerun the whole class with -Drivet.seed=" + baseSeed() + ")\n"
                    + String.join("\n", failures));
        }
    }

    static Stream<Op> floatOps() {
        return ops().stream().filter(op -> op.operandFmts()[0] != null);
    }

    /**
     * Every combination of special and boundary operands (for fma: every triple), in every
     * rounding mode. Random generation rarely hits exact combinations such as fma(inf, 0, qNaN).
     */
    @ParameterizedTest(name = "{0} specials")
    @MethodSource("floatOps")
    void specialCombinations(Op op) {
        long[] sp = specials(op.operandFmts()[0]);
        List<String> failures = new ArrayList<>();
        int[] modes = op.usesRm() ? new int[] {0, 1, 2, 3, 4} : new int[] {0};
        int n = sp.length;
        int total = op.arity() == 1 ? n : op.arity() == 2 ? n * n : n * n * n;
        for (int i = 0; i < total && failures.size() < 8; i++) {
            long[] x = switch (op.arity()) {
                case 1 -> new long[] {sp[i]};
                case 2 -> new long[] {sp[i / n], sp[i % n]};
                default -> new long[] {sp[i / (n * n)], sp[i / n % n], sp[i % n]};
            };
            for (int k = 0; k < 2 * modes.length; k++) {
                // Each case twice: from clear flags, and with NX already raised (as in code that
                // has run an inexact operation before), where RNE has its own fast path.
                int rm = modes[k / 2];
                int before = k % 2 == 0 ? 0 : FpFlags.NX;
                FpStatus st = new FpStatus();
                st.flags = before;
                long got = op.impl().apply(x, rm, st);
                Res want = op.ref().apply(x, rm);
                if (got != want.bits() || st.flags != (want.flags() | before)) {
                    failures.add(String.format("%s rm=%s %s%s: expected %s flags=%s, got %s flags=%s",
                            op.name(), RoundingMode.name(rm), describe(x, op.operandFmts()),
                            before != 0 ? " (NX set before)" : "",
                            Long.toHexString(want.bits()), FpFlags.toString(want.flags() | before),
                            Long.toHexString(got), FpFlags.toString(st.flags)));
                }
            }
        }
        if (!failures.isEmpty()) {
            fail(String.join("\n", failures));
        }
    }

    /** Zeros, subnormal and normal boundaries, 1, 2^31/2^63 boundaries, max, inf and NaNs. */
    static long[] specials(Fmt f) {
        boolean d = f == F64;
        long[] pos = d ? new long[] {
            0, 1, 0x000fffffffffffffL, 0x0010000000000000L, 0x3fe0000000000000L,
            0x3ff0000000000000L, 0x3ff8000000000000L, 0x41e0000000000000L, 0x43e0000000000000L,
            0x7fefffffffffffffL, 0x7ff0000000000000L,
        } : new long[] {
            0, 1, 0x007fffff, 0x00800000, 0x3f000000, 0x3f800000, 0x3fc00000, 0x4f000000,
            0x5f000000, 0x7f7fffff, 0x7f800000,
        };
        long sign = d ? 1L << 63 : 1L << 31;
        long[] nans = d ? new long[] {0x7ff8000000000000L, 0xfff8000000000123L, 0x7ff0000000000001L,
            0xfff4000000000000L} : new long[] {0x7fc00000, 0xffc00123L, 0x7f800001, 0xffa00000L};
        long[] all = new long[pos.length * 2 + nans.length];
        for (int i = 0; i < pos.length; i++) {
            all[2 * i] = pos[i];
            all[2 * i + 1] = pos[i] | sign;
        }
        System.arraycopy(nans, 0, all, pos.length * 2, nans.length);
        return all;
    }

    static String describe(long[] x, Fmt[] fmts) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < x.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            Fmt f = fmts[Math.min(i, fmts.length - 1)];
            if (f == F64) {
                sb.append(String.format("0x%016x (%s)", x[i], Double.longBitsToDouble(x[i])));
            } else if (f == F32) {
                sb.append(String.format("0x%08x (%s)", x[i], Float.intBitsToFloat((int) x[i])));
            } else {
                sb.append(String.format("0x%x (%d)", x[i], x[i]));
            }
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------ operand generators

    private static long[] unary(FpGen g, int w) {
        return new long[] {g.value(w)};
    }

    private static long[] binary(FpGen g, int w) {
        long a = g.value(w);
        long b = g.rnd.nextBoolean() ? g.related(w, a) : g.value(w);
        return g.rnd.nextBoolean() ? new long[] {a, b} : new long[] {b, a};
    }

    private static long[] sqrtInput(FpGen g, int w) {
        return new long[] {g.rnd.nextInt(5) < 2 ? g.nearSquare(w) : g.value(w)};
    }

    /** fma operands; the addend is often derived from the product to force cancellation and ties. */
    private static long[] ternary(FpGen g, int w) {
        long[] ab = binary(g, w);
        long a = ab[0];
        long b = ab[1];
        long c;
        long m = w == 64 ? -1L : 0xffffffffL;
        long sign = 1L << (w - 1);
        double prod = w == 64
                ? Double.longBitsToDouble(a) * Double.longBitsToDouble(b)
                : (double) Float.intBitsToFloat((int) a) * Float.intBitsToFloat((int) b);
        long prodBits = w == 64 ? Double.doubleToRawLongBits(prod)
                : Float.floatToRawIntBits((float) prod) & m;
        switch (g.rnd.nextInt(7)) {
            case 0 -> c = (prodBits ^ sign) + g.rnd.nextInt(-2, 3) & m; // massive cancellation
            case 1 -> { // the product's rounding error scale: halfway and sticky cases
                double scaled = Math.scalb(prod, -(w == 64 ? 53 : 24) + g.rnd.nextInt(-2, 3));
                long bits = w == 64 ? Double.doubleToRawLongBits(scaled)
                        : Float.floatToRawIntBits((float) scaled) & m;
                c = g.rnd.nextBoolean() ? bits ^ sign : bits;
            }
            case 2 -> c = g.related(w, a);
            default -> c = g.value(w);
        }
        return new long[] {a, b, c};
    }

    private static long[] conv(FpGen g, int w) {
        return new long[] {g.convInput(w)};
    }

    private static long[] ints(FpGen g, int w) {
        return new long[] {g.intValue(w)};
    }

    // ------------------------------------------------------------------ the operations

    private static final Fmt[] S = {F32};
    private static final Fmt[] D = {F64};
    private static final Fmt[] I = {null};

    private static int i32(long x) {
        return (int) x;
    }

    private static long u32(int x) {
        return x & 0xffffffffL;
    }

    private static long bool(boolean b) {
        return b ? 1 : 0;
    }

    static List<Op> ops() {
        int n = ITERATIONS;
        int cheap = n * 2; // operations whose reference is cheap or has no rounding modes
        List<Op> ops = new ArrayList<>();
        // binary32 arithmetic
        ops.add(new Op("add32", true, 2, n, g -> binary(g, 32),
                (x, rm, st) -> u32(RvFloat.add32(i32(x[0]), i32(x[1]), rm, st)),
                (x, rm) -> ReferenceFloat.add(x[0], x[1], F32, rm), S));
        ops.add(new Op("sub32", true, 2, n, g -> binary(g, 32),
                (x, rm, st) -> u32(RvFloat.sub32(i32(x[0]), i32(x[1]), rm, st)),
                (x, rm) -> ReferenceFloat.sub(x[0], x[1], F32, rm), S));
        ops.add(new Op("mul32", true, 2, n, g -> binary(g, 32),
                (x, rm, st) -> u32(RvFloat.mul32(i32(x[0]), i32(x[1]), rm, st)),
                (x, rm) -> ReferenceFloat.mul(x[0], x[1], F32, rm), S));
        ops.add(new Op("div32", true, 2, n, g -> binary(g, 32),
                (x, rm, st) -> u32(RvFloat.div32(i32(x[0]), i32(x[1]), rm, st)),
                (x, rm) -> ReferenceFloat.div(x[0], x[1], F32, rm), S));
        ops.add(new Op("sqrt32", true, 1, n, g -> sqrtInput(g, 32),
                (x, rm, st) -> u32(RvFloat.sqrt32(i32(x[0]), rm, st)),
                (x, rm) -> ReferenceFloat.sqrt(x[0], F32, rm), S));
        ops.add(new Op("fma32", true, 3, n, g -> ternary(g, 32),
                (x, rm, st) -> u32(RvFloat.fma32(i32(x[0]), i32(x[1]), i32(x[2]), rm, st)),
                (x, rm) -> ReferenceFloat.fma(x[0], x[1], x[2], F32, rm), S));
        // binary64 arithmetic
        ops.add(new Op("add64", true, 2, n, g -> binary(g, 64),
                (x, rm, st) -> RvFloat.add64(x[0], x[1], rm, st),
                (x, rm) -> ReferenceFloat.add(x[0], x[1], F64, rm), D));
        ops.add(new Op("sub64", true, 2, n, g -> binary(g, 64),
                (x, rm, st) -> RvFloat.sub64(x[0], x[1], rm, st),
                (x, rm) -> ReferenceFloat.sub(x[0], x[1], F64, rm), D));
        ops.add(new Op("mul64", true, 2, n, g -> binary(g, 64),
                (x, rm, st) -> RvFloat.mul64(x[0], x[1], rm, st),
                (x, rm) -> ReferenceFloat.mul(x[0], x[1], F64, rm), D));
        ops.add(new Op("div64", true, 2, n, g -> binary(g, 64),
                (x, rm, st) -> RvFloat.div64(x[0], x[1], rm, st),
                (x, rm) -> ReferenceFloat.div(x[0], x[1], F64, rm), D));
        ops.add(new Op("sqrt64", true, 1, n, g -> sqrtInput(g, 64),
                (x, rm, st) -> RvFloat.sqrt64(x[0], rm, st),
                (x, rm) -> ReferenceFloat.sqrt(x[0], F64, rm), D));
        ops.add(new Op("fma64", true, 3, n, g -> ternary(g, 64),
                (x, rm, st) -> RvFloat.fma64(x[0], x[1], x[2], rm, st),
                (x, rm) -> ReferenceFloat.fma(x[0], x[1], x[2], F64, rm), D));
        // min / max / compare / classify (no rounding mode)
        ops.add(new Op("min32", false, 2, cheap, g -> binary(g, 32),
                (x, rm, st) -> u32(RvFloat.min32(i32(x[0]), i32(x[1]), st)),
                (x, rm) -> ReferenceFloat.minMax(x[0], x[1], F32, false), S));
        ops.add(new Op("max32", false, 2, cheap, g -> binary(g, 32),
                (x, rm, st) -> u32(RvFloat.max32(i32(x[0]), i32(x[1]), st)),
                (x, rm) -> ReferenceFloat.minMax(x[0], x[1], F32, true), S));
        ops.add(new Op("min64", false, 2, cheap, g -> binary(g, 64),
                (x, rm, st) -> RvFloat.min64(x[0], x[1], st),
                (x, rm) -> ReferenceFloat.minMax(x[0], x[1], F64, false), D));
        ops.add(new Op("max64", false, 2, cheap, g -> binary(g, 64),
                (x, rm, st) -> RvFloat.max64(x[0], x[1], st),
                (x, rm) -> ReferenceFloat.minMax(x[0], x[1], F64, true), D));
        ops.add(new Op("eq32", false, 2, cheap, g -> binary(g, 32),
                (x, rm, st) -> bool(RvFloat.eq32(i32(x[0]), i32(x[1]), st)),
                (x, rm) -> ReferenceFloat.compare(x[0], x[1], F32, 0), S));
        ops.add(new Op("lt32", false, 2, cheap, g -> binary(g, 32),
                (x, rm, st) -> bool(RvFloat.lt32(i32(x[0]), i32(x[1]), st)),
                (x, rm) -> ReferenceFloat.compare(x[0], x[1], F32, 1), S));
        ops.add(new Op("le32", false, 2, cheap, g -> binary(g, 32),
                (x, rm, st) -> bool(RvFloat.le32(i32(x[0]), i32(x[1]), st)),
                (x, rm) -> ReferenceFloat.compare(x[0], x[1], F32, 2), S));
        ops.add(new Op("eq64", false, 2, cheap, g -> binary(g, 64),
                (x, rm, st) -> bool(RvFloat.eq64(x[0], x[1], st)),
                (x, rm) -> ReferenceFloat.compare(x[0], x[1], F64, 0), D));
        ops.add(new Op("lt64", false, 2, cheap, g -> binary(g, 64),
                (x, rm, st) -> bool(RvFloat.lt64(x[0], x[1], st)),
                (x, rm) -> ReferenceFloat.compare(x[0], x[1], F64, 1), D));
        ops.add(new Op("le64", false, 2, cheap, g -> binary(g, 64),
                (x, rm, st) -> bool(RvFloat.le64(x[0], x[1], st)),
                (x, rm) -> ReferenceFloat.compare(x[0], x[1], F64, 2), D));
        ops.add(new Op("classify32", false, 1, cheap, g -> unary(g, 32),
                (x, rm, st) -> RvFloat.classify32(i32(x[0])),
                (x, rm) -> new Res(ReferenceFloat.classify(x[0], F32), 0), S));
        ops.add(new Op("classify64", false, 1, cheap, g -> unary(g, 64),
                (x, rm, st) -> RvFloat.classify64(x[0]),
                (x, rm) -> new Res(ReferenceFloat.classify(x[0], F64), 0), D));
        // float <-> float
        ops.add(new Op("cvtF64ToF32", true, 1, n, g -> unary(g, 64),
                (x, rm, st) -> u32(RvFloat.cvtF64ToF32(x[0], rm, st)),
                (x, rm) -> ReferenceFloat.convert(x[0], F64, F32, rm), D));
        ops.add(new Op("cvtF32ToF64", false, 1, cheap, g -> unary(g, 32),
                (x, rm, st) -> RvFloat.cvtF32ToF64(i32(x[0]), st),
                (x, rm) -> ReferenceFloat.convert(x[0], F32, F64, rm), S));
        // float -> integer
        ops.add(new Op("cvtF32ToI32", true, 1, n, g -> conv(g, 32),
                (x, rm, st) -> RvFloat.cvtF32ToI32(i32(x[0]), rm, st),
                (x, rm) -> ReferenceFloat.toInt(x[0], F32, ReferenceFloat.I32_MIN, ReferenceFloat.I32_MAX, rm), S));
        ops.add(new Op("cvtF32ToU32", true, 1, n, g -> conv(g, 32),
                (x, rm, st) -> u32(RvFloat.cvtF32ToU32(i32(x[0]), rm, st)),
                (x, rm) -> ReferenceFloat.toInt(x[0], F32, BigInteger.ZERO, ReferenceFloat.U32_MAX, rm), S));
        ops.add(new Op("cvtF32ToI64", true, 1, n, g -> conv(g, 32),
                (x, rm, st) -> RvFloat.cvtF32ToI64(i32(x[0]), rm, st),
                (x, rm) -> ReferenceFloat.toInt(x[0], F32, ReferenceFloat.I64_MIN, ReferenceFloat.I64_MAX, rm), S));
        ops.add(new Op("cvtF32ToU64", true, 1, n, g -> conv(g, 32),
                (x, rm, st) -> RvFloat.cvtF32ToU64(i32(x[0]), rm, st),
                (x, rm) -> ReferenceFloat.toInt(x[0], F32, BigInteger.ZERO, ReferenceFloat.U64_MAX, rm), S));
        ops.add(new Op("cvtF64ToI32", true, 1, n, g -> conv(g, 64),
                (x, rm, st) -> RvFloat.cvtF64ToI32(x[0], rm, st),
                (x, rm) -> ReferenceFloat.toInt(x[0], F64, ReferenceFloat.I32_MIN, ReferenceFloat.I32_MAX, rm), D));
        ops.add(new Op("cvtF64ToU32", true, 1, n, g -> conv(g, 64),
                (x, rm, st) -> u32(RvFloat.cvtF64ToU32(x[0], rm, st)),
                (x, rm) -> ReferenceFloat.toInt(x[0], F64, BigInteger.ZERO, ReferenceFloat.U32_MAX, rm), D));
        ops.add(new Op("cvtF64ToI64", true, 1, n, g -> conv(g, 64),
                (x, rm, st) -> RvFloat.cvtF64ToI64(x[0], rm, st),
                (x, rm) -> ReferenceFloat.toInt(x[0], F64, ReferenceFloat.I64_MIN, ReferenceFloat.I64_MAX, rm), D));
        ops.add(new Op("cvtF64ToU64", true, 1, n, g -> conv(g, 64),
                (x, rm, st) -> RvFloat.cvtF64ToU64(x[0], rm, st),
                (x, rm) -> ReferenceFloat.toInt(x[0], F64, BigInteger.ZERO, ReferenceFloat.U64_MAX, rm), D));
        // integer -> float
        ops.add(new Op("cvtI32ToF32", true, 1, n, g -> ints(g, 32),
                (x, rm, st) -> u32(RvFloat.cvtI32ToF32(i32(x[0]), rm, st)),
                (x, rm) -> ReferenceFloat.fromInt(BigInteger.valueOf(i32(x[0])), F32, rm), I));
        ops.add(new Op("cvtU32ToF32", true, 1, n, g -> ints(g, 32),
                (x, rm, st) -> u32(RvFloat.cvtU32ToF32(i32(x[0]), rm, st)),
                (x, rm) -> ReferenceFloat.fromInt(BigInteger.valueOf(x[0] & 0xffffffffL), F32, rm), I));
        ops.add(new Op("cvtI64ToF32", true, 1, n, g -> ints(g, 64),
                (x, rm, st) -> u32(RvFloat.cvtI64ToF32(x[0], rm, st)),
                (x, rm) -> ReferenceFloat.fromInt(BigInteger.valueOf(x[0]), F32, rm), I));
        ops.add(new Op("cvtU64ToF32", true, 1, n, g -> ints(g, 64),
                (x, rm, st) -> u32(RvFloat.cvtU64ToF32(x[0], rm, st)),
                (x, rm) -> ReferenceFloat.fromInt(ReferenceFloat.unsigned(x[0]), F32, rm), I));
        ops.add(new Op("cvtI32ToF64", true, 1, n, g -> ints(g, 32),
                (x, rm, st) -> RvFloat.cvtI32ToF64(i32(x[0]), rm, st),
                (x, rm) -> ReferenceFloat.fromInt(BigInteger.valueOf(i32(x[0])), F64, rm), I));
        ops.add(new Op("cvtU32ToF64", true, 1, n, g -> ints(g, 32),
                (x, rm, st) -> RvFloat.cvtU32ToF64(i32(x[0]), rm, st),
                (x, rm) -> ReferenceFloat.fromInt(BigInteger.valueOf(x[0] & 0xffffffffL), F64, rm), I));
        ops.add(new Op("cvtI64ToF64", true, 1, n, g -> ints(g, 64),
                (x, rm, st) -> RvFloat.cvtI64ToF64(x[0], rm, st),
                (x, rm) -> ReferenceFloat.fromInt(BigInteger.valueOf(x[0]), F64, rm), I));
        ops.add(new Op("cvtU64ToF64", true, 1, n, g -> ints(g, 64),
                (x, rm, st) -> RvFloat.cvtU64ToF64(x[0], rm, st),
                (x, rm) -> ReferenceFloat.fromInt(ReferenceFloat.unsigned(x[0]), F64, rm), I));
        return ops;
    }
}
