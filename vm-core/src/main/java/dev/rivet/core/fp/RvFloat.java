package dev.rivet.core.fp;

import java.math.BigInteger;

import static dev.rivet.core.fp.FpFlags.DZ;
import static dev.rivet.core.fp.FpFlags.NV;
import static dev.rivet.core.fp.FpFlags.NX;
import static dev.rivet.core.fp.FpFlags.OF;
import static dev.rivet.core.fp.FpFlags.UF;
import static dev.rivet.core.fp.RoundingMode.RDN;
import static dev.rivet.core.fp.RoundingMode.RMM;
import static dev.rivet.core.fp.RoundingMode.RNE;
import static dev.rivet.core.fp.RoundingMode.RTZ;
import static dev.rivet.core.fp.RoundingMode.RUP;

/**
 * Exact IEEE 754 binary32/binary64 arithmetic with RISC-V semantics, on raw bit patterns.
 *
 * <p>Follows the RISC-V unprivileged ISA, chapters "F" (single precision) and "D" (double
 * precision): five rounding modes (section "Floating-Point Control and Status Register"), accrued
 * flags NV/DZ/OF/UF/NX, the canonical NaN and no NaN payload propagation ("NaN Generation and
 * Propagation"), tininess detected after rounding ("Subnormal Arithmetic"), fmin/fmax as IEEE
 * 754-2019 minimumNumber/maximumNumber, quiet feq and signaling flt/fle, NV for {@code fma(inf, 0,
 * qNaN)}, and the saturating float-to-integer conversions of table "Domains of float-to-integer
 * conversions". Everything else is IEEE 754-2019 (sections 4.3 rounding, 6.3 sign of zero sums, 7
 * exceptions).
 *
 * <p>Design: Java only rounds to nearest-even and raises no flags, so each operation
 *
 * <ul>
 *   <li>binary64: computes the round-to-nearest-even result {@code r} with Java arithmetic, then the
 *       exact sign of {@code exact - r} with error-free transformations ({@code Math.fma} product
 *       and quotient remainders, Fast2Sum/TwoSum, and for fma a Shewchuk grow-expansion). From that
 *       sign (and, for RMM only, a halfway test) the correctly rounded result in any mode is
 *       {@code r} or its neighbour, and NX is "residual != 0". This is valid only when the result
 *       is comfortably inside the normal range, where the residuals are representable; everything
 *       else (possible overflow, subnormal/underflowing results) takes an exact BigInteger path.
 *   <li>binary32: computes the result in double either exactly or rounded-to-odd (the double
 *       result nudged to the odd neighbour when the residual is non-zero). Rounding a
 *       round-to-odd value with at least p+2 bits once more gives the correctly rounded result in
 *       every mode (Boldo and Melquiond, "Emulation of FMA and correctly rounded sums: proved
 *       algorithms using rounding to odd", 2008), so there is no double-rounding error; the final
 *       double-to-float rounding is done on the bits, with integer arithmetic.
 * </ul>
 *
 * <p>Nothing on the fast paths allocates, boxes or throws. The class holds no mutable state;
 * flags are OR-ed into the caller's {@link FpStatus}.
 */
public final class RvFloat {
    public static final int CANONICAL_NAN_32 = 0x7fc00000;
    public static final long CANONICAL_NAN_64 = 0x7ff8000000000000L;

    private static final int SIGN32 = 0x80000000;
    private static final int ABS32 = 0x7fffffff;
    private static final int EXP32 = 0x7f800000;
    private static final int FRAC32 = 0x007fffff;
    private static final int QUIET32 = 0x00400000;
    private static final int MAX32 = 0x7f7fffff;

    private static final long SIGN64 = 0x8000000000000000L;
    private static final long ABS64 = 0x7fffffffffffffffL;
    private static final long EXP64 = 0x7ff0000000000000L;
    private static final long FRAC64 = 0x000fffffffffffffL;
    private static final long QUIET64 = 0x0008000000000000L;
    private static final long MAX64 = 0x7fefffffffffffffL;

    /**
     * Binary64 fast paths only run when the magnitudes involved are in [2^-960, 2^1023). Below,
     * a product or remainder error term could be smaller than the least subnormal (so Math.fma
     * would round it) and results could be tiny; at 2^1023 and above, stepping to the neighbour
     * or the TwoSum intermediates could overflow.
     */
    private static final long SAFE_LO64 = (long) (1023 - 960) << 52;
    private static final long SAFE_HI64 = (long) (1023 + 1023) << 52;

    private RvFloat() {}

    /**
     * The one state in which Java's own arithmetic is RISC-V's without more work: rounding to
     * nearest-even with NX already raised. Java rounds exactly like RNE; a result that is a
     * finite normal number above the smallest one cannot have overflowed, underflowed (not
     * even with tininess detected after rounding: a tiny exact value never rounds above
     * 2^-1022) or been invalid (those give infinities, zeros, subnormals or NaN, and an
     * infinite or NaN operand never gives a finite normal result), and the only flag left,
     * NX, is sticky and set. Compiled C code runs in this state nearly always, since its
     * first inexact operation sets NX and nothing clears it (section "Floating-Point Control
     * and Status Register" of the F chapter: the flags accrue).
     */
    private static boolean nearestWithInexact(int rm, FpStatus st) {
        return rm == RNE && (st.flags & NX) != 0;
    }

    /** A finite normal binary64 result above the smallest normal (see {@link #nearestWithInexact}). */
    private static boolean plain64(double r) {
        double m = Math.abs(r);
        return m > Double.MIN_NORMAL && m <= Double.MAX_VALUE;
    }

    /** The binary32 counterpart of {@link #plain64}. */
    private static boolean plain32(float r) {
        float m = Math.abs(r);
        return m > Float.MIN_NORMAL && m <= Float.MAX_VALUE;
    }

    /**
     * What the {@code *Plain64} methods return when Java's result is not {@linkplain #plain64
     * plain}: a NaN pattern, so never a plain result.
     */
    public static final long NOT_PLAIN64 = -1L;
    /** The binary32 counterpart of {@link #NOT_PLAIN64}. */
    public static final int NOT_PLAIN32 = -1;

    // The *Plain methods: an operation in Java arithmetic, its bits if the result is plain, else
    // NOT_PLAIN. In the state nearestWithInexact tests for (rm RNE, NX set) a plain result is the
    // whole answer, flags included, so the full operations start with them; compiled code calls
    // them directly under that test, inline (each stays under HotSpot's 35-byte inlining size),
    // and the full operation only when they return NOT_PLAIN.

    public static long addPlain64(long a, long b) {
        return plainBits64(Double.longBitsToDouble(a) + Double.longBitsToDouble(b));
    }

    public static long subPlain64(long a, long b) {
        return plainBits64(Double.longBitsToDouble(a) - Double.longBitsToDouble(b));
    }

    public static long mulPlain64(long a, long b) {
        return plainBits64(Double.longBitsToDouble(a) * Double.longBitsToDouble(b));
    }

    public static long divPlain64(long a, long b) {
        return plainBits64(Double.longBitsToDouble(a) / Double.longBitsToDouble(b));
    }

    public static long sqrtPlain64(long a) {
        return plainBits64(Math.sqrt(Double.longBitsToDouble(a)));
    }

    public static long fmaPlain64(long a, long b, long c) {
        return plainBits64(Math.fma(Double.longBitsToDouble(a), Double.longBitsToDouble(b), Double.longBitsToDouble(c)));
    }

    public static int addPlain32(int a, int b) {
        return plainBits32(Float.intBitsToFloat(a) + Float.intBitsToFloat(b));
    }

    public static int subPlain32(int a, int b) {
        return plainBits32(Float.intBitsToFloat(a) - Float.intBitsToFloat(b));
    }

    public static int mulPlain32(int a, int b) {
        return plainBits32(Float.intBitsToFloat(a) * Float.intBitsToFloat(b));
    }

    public static int divPlain32(int a, int b) {
        return plainBits32(Float.intBitsToFloat(a) / Float.intBitsToFloat(b));
    }

    /** A double square root of a binary32 value rounds correctly to binary32 (53 >= 2*24 + 2). */
    public static int sqrtPlain32(int a) {
        return plainBits32((float) Math.sqrt(Float.intBitsToFloat(a)));
    }

    public static int fmaPlain32(int a, int b, int c) {
        return plainBits32(Math.fma(Float.intBitsToFloat(a), Float.intBitsToFloat(b), Float.intBitsToFloat(c)));
    }

    private static long plainBits64(double r) {
        return plain64(r) ? Double.doubleToRawLongBits(r) : NOT_PLAIN64;
    }

    private static int plainBits32(float r) {
        return plain32(r) ? Float.floatToRawIntBits(r) : NOT_PLAIN32;
    }

    // ---------------------------------------------------------------------------------------
    // binary32 arithmetic: compute exactly or rounded-to-odd in double, then round on the bits
    // ---------------------------------------------------------------------------------------

    public static int add32(int a, int b, int rm, FpStatus st) {
        if (nearestWithInexact(rm, st)) {
            int r = addPlain32(a, b);
            if (r != NOT_PLAIN32) {
                return r;
            }
        }
        if ((a & EXP32) == EXP32 || (b & EXP32) == EXP32) {
            return addSpecial32(a, b, st);
        }
        double x = Float.intBitsToFloat(a);
        double y = Float.intBitsToFloat(b);
        double s = x + y;
        if (s == 0) {
            // All binary32 values are multiples of 2^-149, far above double's underflow, so a
            // zero double sum is an exact zero sum.
            return zeroSum(a < 0, b < 0, rm) ? SIGN32 : 0;
        }
        return narrow(toOdd(s, twoSumErr(x, y, s)), rm, st);
    }

    public static int sub32(int a, int b, int rm, FpStatus st) {
        return add32(a, b ^ SIGN32, rm, st);
    }

    public static int mul32(int a, int b, int rm, FpStatus st) {
        if (nearestWithInexact(rm, st)) {
            int r = mulPlain32(a, b);
            if (r != NOT_PLAIN32) {
                return r;
            }
        }
        if ((a & EXP32) == EXP32 || (b & EXP32) == EXP32) {
            return mulSpecial32(a, b, st);
        }
        // 24x24-bit products fit in 53 bits and 2^-298..2^256 is inside double's normal range:
        // the double product is exact (with the right sign of zero).
        double p = (double) Float.intBitsToFloat(a) * (double) Float.intBitsToFloat(b);
        return narrow(Double.doubleToRawLongBits(p), rm, st);
    }

    public static int div32(int a, int b, int rm, FpStatus st) {
        if (nearestWithInexact(rm, st)) {
            int r = divPlain32(a, b);
            if (r != NOT_PLAIN32) {
                return r;
            }
        }
        if ((a & EXP32) == EXP32 || (b & EXP32) == EXP32) {
            return divSpecial32(a, b, st);
        }
        if ((b & ABS32) == 0) {
            return divByZero32(a, b, st);
        }
        double x = Float.intBitsToFloat(a);
        double y = Float.intBitsToFloat(b);
        double q = x / y;
        // x - q*y is exactly representable (operands are far from double's underflow).
        double rem = Math.fma(-q, y, x);
        return narrow(toOdd(q, rem == 0 ? 0 : (rem > 0) == (y > 0) ? 1 : -1), rm, st);
    }

    public static int sqrt32(int a, int rm, FpStatus st) {
        if (nearestWithInexact(rm, st)) {
            int r = sqrtPlain32(a);
            if (r != NOT_PLAIN32) {
                return r;
            }
        }
        if ((a & ABS32) == 0) {
            return a; // sqrt(+-0) = +-0
        }
        if (a < 0 || (a & EXP32) == EXP32) {
            return sqrtSpecial32(a, st);
        }
        double x = Float.intBitsToFloat(a);
        double s = Math.sqrt(x);
        double rem = Math.fma(-s, s, x); // exact: x - s^2
        return narrow(toOdd(s, rem), rm, st);
    }

    public static int fma32(int a, int b, int c, int rm, FpStatus st) {
        if (nearestWithInexact(rm, st)) {
            int r = fmaPlain32(a, b, c);
            if (r != NOT_PLAIN32) {
                return r;
            }
        }
        if ((a & EXP32) == EXP32 || (b & EXP32) == EXP32 || (c & EXP32) == EXP32) {
            return fmaSpecial32(a, b, c, st);
        }
        double p = (double) Float.intBitsToFloat(a) * (double) Float.intBitsToFloat(b); // exact
        double z = Float.intBitsToFloat(c);
        double s = p + z;
        if (s == 0) {
            // Exact (multiples of 2^-298 cannot underflow in double). The product's sign is
            // that of the exact product, also when it is zero.
            return zeroSum(Double.doubleToRawLongBits(p) < 0, c < 0, rm) ? SIGN32 : 0;
        }
        return narrow(toOdd(s, twoSumErr(p, z, s)), rm, st);
    }

    // ---------------------------------------------------------------------------------------
    // binary64 arithmetic: Java's RNE result plus the exact sign of the residual
    // ---------------------------------------------------------------------------------------

    public static long add64(long a, long b, int rm, FpStatus st) {
        if (nearestWithInexact(rm, st)) {
            long r = addPlain64(a, b);
            if (r != NOT_PLAIN64) {
                return r;
            }
        }
        if ((a & EXP64) == EXP64 || (b & EXP64) == EXP64) {
            return addSpecial64(a, b, st);
        }
        double x = Double.longBitsToDouble(a);
        double y = Double.longBitsToDouble(b);
        double s = x + y;
        long sb = Double.doubleToRawLongBits(s);
        long sabs = sb & ABS64;
        if (sabs == 0) {
            // A sum of doubles that is (near) zero is exact: it is a multiple of 2^-1074.
            return zeroSum(a < 0, b < 0, rm) ? SIGN64 : 0;
        }
        if (sabs >= SAFE_HI64) {
            return addSlow64(a, b, rm, st);
        }
        // Fast2Sum needs the larger magnitude first; the error is exact for any finite inputs
        // whose sum does not overflow. Inexact sums are never tiny (an inexact sum is at least
        // 2^-1021 in magnitude), so there is no underflow to detect here.
        double err = (a & ABS64) >= (b & ABS64) ? y - (s - x) : x - (s - y);
        if (err == 0) {
            return sb;
        }
        boolean up = err > 0;
        return finish64(sb, up, rm == RMM && isHalfway64(sb, up, err), rm, st);
    }

    public static long sub64(long a, long b, int rm, FpStatus st) {
        return add64(a, b ^ SIGN64, rm, st);
    }

    public static long mul64(long a, long b, int rm, FpStatus st) {
        if (nearestWithInexact(rm, st)) {
            long r = mulPlain64(a, b);
            if (r != NOT_PLAIN64) {
                return r;
            }
        }
        if ((a & EXP64) == EXP64 || (b & EXP64) == EXP64) {
            return mulSpecial64(a, b, st);
        }
        double x = Double.longBitsToDouble(a);
        double y = Double.longBitsToDouble(b);
        double p = x * y;
        long pb = Double.doubleToRawLongBits(p);
        long pabs = pb & ABS64;
        if (pabs >= SAFE_LO64 && pabs < SAFE_HI64) {
            // ulp(x)*ulp(y) > |xy| * 2^-106 >= 2^-1066, so the product error is representable.
            double pe = Math.fma(x, y, -p);
            if (pe == 0) {
                return pb;
            }
            boolean up = pe > 0;
            return finish64(pb, up, rm == RMM && isHalfway64(pb, up, pe), rm, st);
        }
        if ((a & ABS64) == 0 || (b & ABS64) == 0) {
            return pb; // exact signed zero
        }
        return mulSlow64(a, b, rm, st);
    }

    public static long div64(long a, long b, int rm, FpStatus st) {
        if (nearestWithInexact(rm, st)) {
            long r = divPlain64(a, b);
            if (r != NOT_PLAIN64) {
                return r;
            }
        }
        if ((a & EXP64) == EXP64 || (b & EXP64) == EXP64) {
            return divSpecial64(a, b, st);
        }
        if ((b & ABS64) == 0) {
            return divByZero64(a, b, st);
        }
        if ((a & ABS64) == 0) {
            return (a ^ b) & SIGN64;
        }
        double x = Double.longBitsToDouble(a);
        double y = Double.longBitsToDouble(b);
        double q = x / y;
        long qb = Double.doubleToRawLongBits(q);
        long qabs = qb & ABS64;
        if (qabs >= SAFE_LO64 && qabs < SAFE_HI64 && (a & ABS64) >= SAFE_LO64) {
            // x - q*y is representable since |q*y| ~ |x| >= 2^-960. A quotient of two p-bit
            // numbers is never exactly a (p+1)-bit midpoint in the normal range, so no RMM tie.
            double rem = Math.fma(-q, y, x);
            if (rem == 0) {
                return qb;
            }
            return finish64(qb, (rem > 0) == (y > 0), false, rm, st);
        }
        return divSlow64(a, b, rm, st);
    }

    public static long sqrt64(long a, int rm, FpStatus st) {
        if (nearestWithInexact(rm, st)) {
            long r = sqrtPlain64(a);
            if (r != NOT_PLAIN64) {
                return r;
            }
        }
        if ((a & ABS64) == 0) {
            return a; // sqrt(+-0) = +-0
        }
        if (a < 0 || (a & EXP64) == EXP64) {
            return sqrtSpecial64(a, st);
        }
        // Square roots are never tiny and never overflow. Small inputs are scaled by 2^108 (exact)
        // so that the remainder x - s^2 is representable; the root is then scaled by 2^-54, exact
        // because it is at least 2^-483. A root is never a midpoint, so no RMM tie.
        boolean scaled = (a & ABS64) < SAFE_LO64;
        double x = Double.longBitsToDouble(a);
        if (scaled) {
            x *= 0x1p108;
        }
        double s = Math.sqrt(x);
        double rem = Math.fma(-s, s, x);
        long sb = Double.doubleToRawLongBits(s);
        if (rem != 0) {
            sb = finish64(sb, rem > 0, false, rm, st);
        }
        if (scaled) {
            sb = Double.doubleToRawLongBits(Double.longBitsToDouble(sb) * 0x1p-54);
        }
        return sb;
    }

    public static long fma64(long a, long b, long c, int rm, FpStatus st) {
        if (nearestWithInexact(rm, st)) {
            long r = fmaPlain64(a, b, c);
            if (r != NOT_PLAIN64) {
                return r;
            }
        }
        if ((a & EXP64) == EXP64 || (b & EXP64) == EXP64 || (c & EXP64) == EXP64) {
            return fmaSpecial64(a, b, c, st);
        }
        if ((a & ABS64) == 0 || (b & ABS64) == 0) {
            // The product is an exact signed zero.
            if ((c & ABS64) != 0) {
                return c;
            }
            return zeroSum((a ^ b) < 0, c < 0, rm) ? SIGN64 : 0;
        }
        if ((c & ABS64) == 0) {
            // Adding a zero to a non-zero exact product changes nothing, even the sign of an
            // underflowed result.
            return mul64(a, b, rm, st);
        }
        double x = Double.longBitsToDouble(a);
        double y = Double.longBitsToDouble(b);
        double z = Double.longBitsToDouble(c);
        double r = Math.fma(x, y, z);
        long rb = Double.doubleToRawLongBits(r);
        long rabs = rb & ABS64;
        double p = x * y;
        long pabs = Double.doubleToRawLongBits(p) & ABS64;
        if (pabs >= SAFE_LO64 && pabs < SAFE_HI64 && (c & ABS64) < SAFE_HI64
                && rabs < SAFE_HI64 && (rabs >= SAFE_LO64 || rabs == 0)) {
            if (rabs == 0) {
                // x*y and z are multiples of 2^-1074, so a zero result is an exact cancellation
                // of two non-zero values.
                return rm == RDN ? SIGN64 : 0;
            }
            // x*y = p + pe exactly. The residual x*y + z - r = pe + p + z - r is summed exactly
            // into a non-overlapping expansion (Shewchuk, "Adaptive Precision Floating-Point
            // Arithmetic", Grow-Expansion); its sign is the sign of its largest component.
            double pe = Math.fma(x, y, -p);
            double q1 = z + pe;
            double h0 = twoSumErr(z, pe, q1);
            double q2 = q1 + p;
            double h1 = twoSumErr(q1, p, q2);
            // expansion [h0, h1, q2] == x*y + z; now add -r
            double t1 = -r + h0;
            double g0 = twoSumErr(-r, h0, t1);
            double t2 = t1 + h1;
            double g1 = twoSumErr(t1, h1, t2);
            double t3 = t2 + q2;
            double g2 = twoSumErr(t2, q2, t3);
            // expansion [g0, g1, g2, t3] == x*y + z - r
            double top = t3 != 0 ? t3 : g2 != 0 ? g2 : g1 != 0 ? g1 : g0;
            if (top == 0) {
                return rb;
            }
            boolean up = top > 0;
            boolean tie = false;
            if (rm == RMM) {
                // Halfway iff residual - (neighbour - r)/2 == 0: grow the expansion once more.
                long nb = up == (rb >= 0) ? rb + 1 : rb - 1;
                double h = (Double.longBitsToDouble(nb) - r) * 0.5;
                double u1 = -h + g0;
                double k0 = twoSumErr(-h, g0, u1);
                double u2 = u1 + g1;
                double k1 = twoSumErr(u1, g1, u2);
                double u3 = u2 + g2;
                double k2 = twoSumErr(u2, g2, u3);
                double u4 = u3 + t3;
                double k3 = twoSumErr(u3, t3, u4);
                tie = u4 == 0 && k3 == 0 && k2 == 0 && k1 == 0 && k0 == 0;
            }
            return finish64(rb, up, tie, rm, st);
        }
        return fmaSlow64(a, b, c, rm, st);
    }

    // ---------------------------------------------------------------------------------------
    // min / max / compare / classify
    // ---------------------------------------------------------------------------------------

    /** fmin.s: IEEE 754-2019 minimumNumber, -0 < +0, one NaN gives the other operand. */
    public static int min32(int a, int b, FpStatus st) {
        return minMax32(a, b, false, st);
    }

    public static int max32(int a, int b, FpStatus st) {
        return minMax32(a, b, true, st);
    }

    public static long min64(long a, long b, FpStatus st) {
        return minMax64(a, b, false, st);
    }

    public static long max64(long a, long b, FpStatus st) {
        return minMax64(a, b, true, st);
    }

    private static int minMax32(int a, int b, boolean max, FpStatus st) {
        boolean an = isNaN32(a);
        boolean bn = isNaN32(b);
        if (an || bn) {
            if (isSNaN32(a) || isSNaN32(b)) {
                st.flags |= NV;
            }
            return an && bn ? CANONICAL_NAN_32 : an ? b : a;
        }
        // Map sign-magnitude to a two's complement order in which -0 < +0.
        int ka = a ^ ((a >> 31) & ABS32);
        int kb = b ^ ((b >> 31) & ABS32);
        return (ka < kb) != max ? a : b;
    }

    private static long minMax64(long a, long b, boolean max, FpStatus st) {
        boolean an = isNaN64(a);
        boolean bn = isNaN64(b);
        if (an || bn) {
            if (isSNaN64(a) || isSNaN64(b)) {
                st.flags |= NV;
            }
            return an && bn ? CANONICAL_NAN_64 : an ? b : a;
        }
        long ka = a ^ ((a >> 63) & ABS64);
        long kb = b ^ ((b >> 63) & ABS64);
        return (ka < kb) != max ? a : b;
    }

    /** feq.s: quiet comparison, NV only for signaling NaNs. */
    public static boolean eq32(int a, int b, FpStatus st) {
        if (isNaN32(a) || isNaN32(b)) {
            if (isSNaN32(a) || isSNaN32(b)) {
                st.flags |= NV;
            }
            return false;
        }
        return a == b || ((a | b) & ABS32) == 0;
    }

    /** flt.s: signaling comparison, NV for any NaN. */
    public static boolean lt32(int a, int b, FpStatus st) {
        if (isNaN32(a) || isNaN32(b)) {
            st.flags |= NV;
            return false;
        }
        return Float.intBitsToFloat(a) < Float.intBitsToFloat(b);
    }

    /** fle.s: signaling comparison, NV for any NaN. */
    public static boolean le32(int a, int b, FpStatus st) {
        if (isNaN32(a) || isNaN32(b)) {
            st.flags |= NV;
            return false;
        }
        return Float.intBitsToFloat(a) <= Float.intBitsToFloat(b);
    }

    public static boolean eq64(long a, long b, FpStatus st) {
        if (isNaN64(a) || isNaN64(b)) {
            if (isSNaN64(a) || isSNaN64(b)) {
                st.flags |= NV;
            }
            return false;
        }
        return a == b || ((a | b) & ABS64) == 0;
    }

    public static boolean lt64(long a, long b, FpStatus st) {
        if (isNaN64(a) || isNaN64(b)) {
            st.flags |= NV;
            return false;
        }
        return Double.longBitsToDouble(a) < Double.longBitsToDouble(b);
    }

    public static boolean le64(long a, long b, FpStatus st) {
        if (isNaN64(a) || isNaN64(b)) {
            st.flags |= NV;
            return false;
        }
        return Double.longBitsToDouble(a) <= Double.longBitsToDouble(b);
    }

    /**
     * fclass.s: bit 0 -inf, 1 negative normal, 2 negative subnormal, 3 -0, 4 +0, 5 positive
     * subnormal, 6 positive normal, 7 +inf, 8 signaling NaN, 9 quiet NaN.
     */
    public static int classify32(int a) {
        int exp = a & EXP32;
        int frac = a & FRAC32;
        boolean neg = a < 0;
        if (exp == EXP32) {
            if (frac == 0) {
                return neg ? 1 : 1 << 7;
            }
            return (a & QUIET32) != 0 ? 1 << 9 : 1 << 8;
        }
        if (exp == 0) {
            if (frac == 0) {
                return neg ? 1 << 3 : 1 << 4;
            }
            return neg ? 1 << 2 : 1 << 5;
        }
        return neg ? 1 << 1 : 1 << 6;
    }

    public static int classify64(long a) {
        long exp = a & EXP64;
        long frac = a & FRAC64;
        boolean neg = a < 0;
        if (exp == EXP64) {
            if (frac == 0) {
                return neg ? 1 : 1 << 7;
            }
            return (a & QUIET64) != 0 ? 1 << 9 : 1 << 8;
        }
        if (exp == 0) {
            if (frac == 0) {
                return neg ? 1 << 3 : 1 << 4;
            }
            return neg ? 1 << 2 : 1 << 5;
        }
        return neg ? 1 << 1 : 1 << 6;
    }

    // ---------------------------------------------------------------------------------------
    // float <-> float conversions
    // ---------------------------------------------------------------------------------------

    /** fcvt.s.d: rounds per rm; NaN gives the canonical NaN (NV for sNaN). */
    public static int cvtF64ToF32(long a, int rm, FpStatus st) {
        if ((a & EXP64) == EXP64) {
            if ((a & FRAC64) == 0) {
                return (int) (a >>> 32) & SIGN32 | EXP32;
            }
            if (isSNaN64(a)) {
                st.flags |= NV;
            }
            return CANONICAL_NAN_32;
        }
        return narrow(a, rm, st);
    }

    /** fcvt.d.s: always exact; NaN gives the canonical NaN (NV for sNaN). */
    public static long cvtF32ToF64(int a, FpStatus st) {
        if (isNaN32(a)) {
            if (isSNaN32(a)) {
                st.flags |= NV;
            }
            return CANONICAL_NAN_64;
        }
        return Double.doubleToRawLongBits(Float.intBitsToFloat(a));
    }

    // ---------------------------------------------------------------------------------------
    // float -> integer conversions (RISC-V saturating semantics)
    // ---------------------------------------------------------------------------------------

    /** Marks a rounded magnitude of 2^64 or more (never a real result: see roundToIntMag). */
    private static final long INT_OVERFLOW = -1L;

    public static int cvtF32ToI32(int a, int rm, FpStatus st) {
        return (int) toInt((a & EXP32) == EXP32, (a & FRAC32) != 0, a < 0, sig32(a), exp32(a), rm,
                Integer.MAX_VALUE, Integer.MIN_VALUE, st);
    }

    public static int cvtF32ToU32(int a, int rm, FpStatus st) {
        return (int) toUInt((a & EXP32) == EXP32, (a & FRAC32) != 0, a < 0, sig32(a), exp32(a), rm,
                0xffffffffL, st);
    }

    public static long cvtF32ToI64(int a, int rm, FpStatus st) {
        return toInt((a & EXP32) == EXP32, (a & FRAC32) != 0, a < 0, sig32(a), exp32(a), rm,
                Long.MAX_VALUE, Long.MIN_VALUE, st);
    }

    public static long cvtF32ToU64(int a, int rm, FpStatus st) {
        return toUInt((a & EXP32) == EXP32, (a & FRAC32) != 0, a < 0, sig32(a), exp32(a), rm,
                -1L, st);
    }

    public static int cvtF64ToI32(long a, int rm, FpStatus st) {
        return (int) toInt((a & EXP64) == EXP64, (a & FRAC64) != 0, a < 0, sig64(a), exp64(a), rm,
                Integer.MAX_VALUE, Integer.MIN_VALUE, st);
    }

    public static int cvtF64ToU32(long a, int rm, FpStatus st) {
        return (int) toUInt((a & EXP64) == EXP64, (a & FRAC64) != 0, a < 0, sig64(a), exp64(a), rm,
                0xffffffffL, st);
    }

    public static long cvtF64ToI64(long a, int rm, FpStatus st) {
        return toInt((a & EXP64) == EXP64, (a & FRAC64) != 0, a < 0, sig64(a), exp64(a), rm,
                Long.MAX_VALUE, Long.MIN_VALUE, st);
    }

    public static long cvtF64ToU64(long a, int rm, FpStatus st) {
        return toUInt((a & EXP64) == EXP64, (a & FRAC64) != 0, a < 0, sig64(a), exp64(a), rm,
                -1L, st);
    }

    /**
     * Signed conversion of (-1)^neg * sig * 2^exp. Out of range (after rounding) and NaN raise NV
     * and saturate: NaN and too-large positive values give max, too-large negative values min.
     * NX is raised for an in-range inexact result only.
     */
    private static long toInt(boolean special, boolean nan, boolean neg, long sig, int exp, int rm,
                              long max, long min, FpStatus st) {
        if (special) {
            st.flags |= NV;
            return nan || !neg ? max : min;
        }
        long mag = roundToIntMag(sig, exp, neg, rm);
        // Compare magnitudes unsigned: |min| = -min as an unsigned number (2^31 or 2^63).
        if (Long.compareUnsigned(mag, neg ? -min : max) > 0) {
            st.flags |= NV;
            return neg ? min : max;
        }
        if (isFractional(sig, exp)) {
            st.flags |= NX;
        }
        return neg ? -mag : mag;
    }

    /** Unsigned conversion: like {@link #toInt}, with every negative non-zero result out of range. */
    private static long toUInt(boolean special, boolean nan, boolean neg, long sig, int exp, int rm,
                               long max, FpStatus st) {
        if (special) {
            st.flags |= NV;
            return nan || !neg ? max : 0;
        }
        long mag = roundToIntMag(sig, exp, neg, rm);
        if (neg ? mag != 0 : Long.compareUnsigned(mag, max) > 0 || mag == INT_OVERFLOW) {
            st.flags |= NV;
            return neg ? 0 : max;
        }
        if (isFractional(sig, exp)) {
            st.flags |= NX;
        }
        return mag;
    }

    /**
     * Rounds sig * 2^exp (sig < 2^53) to an integer magnitude per rm, where neg is the sign of the
     * value (it matters for RDN/RUP). Returns the magnitude as an unsigned long, or
     * {@link #INT_OVERFLOW} (2^64 - 1) if it is 2^64 or more; 2^64 - 1 itself cannot be a result,
     * because every binary64 value at or above 2^53 is an integer and the largest one below 2^64
     * is 2^64 - 2^11.
     */
    private static long roundToIntMag(long sig, int exp, boolean neg, int rm) {
        if (exp >= 0) {
            if (64 - Long.numberOfLeadingZeros(sig) + exp > 64) {
                return INT_OVERFLOW;
            }
            return sig << exp;
        }
        int sh = -exp;
        if (sh >= 64) {
            // |value| < 2^53 * 2^-64 < 1/2: only a directed rounding away from zero gives 1.
            return sig != 0 && (rm == RUP && !neg || rm == RDN && neg) ? 1 : 0;
        }
        long q = sig >>> sh;
        long rem = sig & ((1L << sh) - 1);
        if (rem == 0) {
            return q;
        }
        long half = 1L << (sh - 1);
        boolean up = switch (rm) {
            case RTZ -> false;
            case RDN -> neg;
            case RUP -> !neg;
            case RMM -> rem >= half;
            default -> rem > half || rem == half && (q & 1) != 0;
        };
        return up ? q + 1 : q;
    }

    private static boolean isFractional(long sig, int exp) {
        return exp < 0 && (exp <= -64 ? sig != 0 : (sig & ((1L << -exp) - 1)) != 0);
    }

    // ---------------------------------------------------------------------------------------
    // integer -> float conversions
    // ---------------------------------------------------------------------------------------

    public static int cvtI32ToF32(int v, int rm, FpStatus st) {
        return fromInt32(v < 0, Math.abs((long) v), rm, st);
    }

    public static int cvtU32ToF32(int v, int rm, FpStatus st) {
        return fromInt32(false, v & 0xffffffffL, rm, st);
    }

    public static int cvtI64ToF32(long v, int rm, FpStatus st) {
        return fromInt32(v < 0, v < 0 ? -v : v, rm, st); // -MIN_VALUE is 2^63 read unsigned
    }

    public static int cvtU64ToF32(long v, int rm, FpStatus st) {
        return fromInt32(false, v, rm, st);
    }

    public static long cvtI32ToF64(int v, int rm, FpStatus st) {
        return Double.doubleToRawLongBits(v); // always exact; 0 gives +0
    }

    public static long cvtU32ToF64(int v, int rm, FpStatus st) {
        return Double.doubleToRawLongBits(v & 0xffffffffL); // always exact
    }

    public static long cvtI64ToF64(long v, int rm, FpStatus st) {
        return fromInt64(v < 0, v < 0 ? -v : v, rm, st);
    }

    public static long cvtU64ToF64(long v, int rm, FpStatus st) {
        return fromInt64(false, v, rm, st);
    }

    /** mag is an unsigned 64-bit magnitude. */
    private static int fromInt32(boolean neg, long mag, int rm, FpStatus st) {
        if (mag >= 0 && mag < 1L << 24) {
            int bits = Float.floatToRawIntBits(mag); // exact
            return neg ? bits | SIGN32 : bits;
        }
        return (int) packUnsigned(neg, mag, false, rm, st);
    }

    private static long fromInt64(boolean neg, long mag, int rm, FpStatus st) {
        if (mag >= 0 && mag < 1L << 53) {
            long bits = Double.doubleToRawLongBits(mag); // exact
            return neg ? bits | SIGN64 : bits;
        }
        return packUnsigned(neg, mag, true, rm, st);
    }

    private static long packUnsigned(boolean neg, long mag, boolean dbl, int rm, FpStatus st) {
        if (mag < 0) {
            // Bit 63 set: halve, keeping the dropped bit as a sticky bit (p+2 bits remain).
            return roundPack(neg, mag >>> 1, 1, (mag & 1) != 0, dbl, rm, st);
        }
        return roundPack(neg, mag, 0, false, dbl, rm, st);
    }

    // ---------------------------------------------------------------------------------------
    // Rounding helpers
    // ---------------------------------------------------------------------------------------

    /**
     * Error of the double sum s = fl(a + b) (Knuth's TwoSum): a + b - s exactly, for any finite
     * a and b whose sum and intermediates do not overflow.
     */
    private static double twoSumErr(double a, double b, double s) {
        double bv = s - a;
        return (a - (s - bv)) + (b - bv);
    }

    /**
     * Rounds to odd: given d = RNE(v) and the sign of v - d, returns the bits of the double
     * adjacent to v (or v itself if exact) whose last significand bit is 1. Only used where v is
     * comfortably inside double's normal range.
     */
    private static long toOdd(double d, double residual) {
        long db = Double.doubleToRawLongBits(d);
        if (residual != 0 && (db & 1) == 0) {
            // d is non-zero here. Sign-magnitude: +1 on the bits grows the magnitude.
            db += (residual > 0) == (db >= 0) ? 1 : -1;
        }
        return db;
    }

    /**
     * Completes a binary64 fast path: rb is RNE(v) (finite, normal, |rb| < 2^1023), v != rb, and
     * {@code up} tells whether v > rb. Sets NX and steps to the neighbour when rm requires.
     */
    private static long finish64(long rb, boolean up, boolean tie, int rm, FpStatus st) {
        st.flags |= NX;
        boolean magUp = up == (rb >= 0); // stepping towards v grows the magnitude
        boolean step = switch (rm) {
            case RTZ -> !magUp;
            case RDN -> !up;
            case RUP -> up;
            case RMM -> tie && magUp; // RNE picked the smaller-magnitude side of a tie
            default -> false;
        };
        return step ? (magUp ? rb + 1 : rb - 1) : rb;
    }

    /** True if rb + err is exactly halfway between rb and its neighbour in err's direction. */
    private static boolean isHalfway64(long rb, boolean up, double err) {
        long nb = up == (rb >= 0) ? rb + 1 : rb - 1;
        double gap = Math.abs(Double.longBitsToDouble(nb) - Double.longBitsToDouble(rb));
        return Math.abs(err) * 2 == gap;
    }

    /**
     * Rounds a double that is exact or rounded-to-odd to binary32 per rm, on the bits. The fast
     * path covers results in [2^-125, 2^127), where neither underflow nor overflow is possible
     * even after rounding; the rest goes through {@link #roundPack}.
     */
    private static int narrow(long db, int rm, FpStatus st) {
        int e = (int) (db >>> 52) & 0x7ff;
        if (e >= 1023 - 125 && e < 1023 + 127) {
            int neg = (int) (db >>> 32) & SIGN32;
            int fb = neg | (e - 1023 + 127) << 23 | (int) (db >>> 29) & FRAC32;
            long low = db & 0x1fffffffL; // the 29 bits that binary32 drops
            if (low == 0) {
                return fb;
            }
            st.flags |= NX;
            long half = 0x10000000L;
            boolean inc = switch (rm) {
                case RTZ -> false;
                case RDN -> neg != 0;
                case RUP -> neg == 0;
                case RMM -> low >= half;
                default -> low > half || low == half && (fb & 1) != 0;
            };
            return inc ? fb + 1 : fb; // a carry into the exponent field is the right result
        }
        if ((db & ABS64) == 0) {
            return (int) (db >>> 32) & SIGN32;
        }
        return (int) roundPack(db < 0, sig64(db), exp64(db), false, false, rm, st);
    }

    /**
     * The general rounding routine: rounds (-1)^neg * (sig + s) * 2^exp, where 0 < sig < 2^63 and
     * s is 0 if !sticky and some value strictly between 0 and 1 if sticky, to binary64 (dbl) or
     * binary32, with subnormals, overflow per rm, tininess after rounding and all flags. Returns
     * the raw bits (binary32 in the low 32 bits).
     */
    private static long roundPack(boolean neg, long sig, int exp, boolean sticky, boolean dbl,
                                  int rm, FpStatus st) {
        int p = dbl ? 53 : 24;
        int emin = dbl ? -1022 : -126;
        int bias = dbl ? 1023 : 127;
        int maxField = dbl ? 2047 : 255;
        long signBit = neg ? (dbl ? SIGN64 : 0x80000000L) : 0;
        // Normalise the leading bit to bit 62. The sticky fraction goes into bit 0 (round to
        // odd), which is at least 10 bits below any rounding position used below.
        int lz = Long.numberOfLeadingZeros(sig) - 1;
        sig <<= lz;
        exp -= lz;
        if (sticky) {
            sig |= 1;
        }
        int e = exp + 62; // exponent of the leading bit
        boolean tiny = false;
        if (e < emin) {
            // Tininess after rounding: round to p bits as if the exponent range were unbounded.
            long qn = roundShift(sig, 63 - p, rm, neg);
            tiny = (qn >>> p) == 0 || e + 1 < emin;
        }
        int shift = e >= emin ? 63 - p : 63 - p + (emin - e);
        long q = roundShift(sig, shift, rm, neg);
        boolean inexact = shift >= 64 || (sig & ((1L << shift) - 1)) != 0;
        if (inexact) {
            st.flags |= tiny ? NX | UF : NX;
        }
        if (q == 0) {
            return signBit; // underflow to zero
        }
        int qexp = exp + shift; // value is q * 2^qexp
        if ((q >>> p) != 0) {
            q >>>= 1; // rounding carried out to 2^p: exact halving
            qexp++;
        }
        long biased = (q >>> (p - 1)) != 0 ? (long) qexp + (p - 1) + bias : 0;
        if (biased >= maxField) {
            return overflow(neg, dbl, rm, st);
        }
        return signBit | biased << (p - 1) | q & ((1L << (p - 1)) - 1);
    }

    /** Rounds sig / 2^shift (sig < 2^63, shift >= 1) to an integer per rm. */
    private static long roundShift(long sig, int shift, int rm, boolean neg) {
        if (shift >= 64) {
            // 0 < value < 1/2
            return rm == RUP && !neg || rm == RDN && neg ? 1 : 0;
        }
        long q = sig >>> shift;
        long rem = sig & ((1L << shift) - 1);
        if (rem == 0) {
            return q;
        }
        long half = 1L << (shift - 1);
        boolean up = switch (rm) {
            case RTZ -> false;
            case RDN -> neg;
            case RUP -> !neg;
            case RMM -> rem >= half;
            default -> rem > half || rem == half && (q & 1) != 0;
        };
        return up ? q + 1 : q;
    }

    /** The result of an overflowing operation (IEEE 754 7.4): inf or the largest finite number. */
    private static long overflow(boolean neg, boolean dbl, int rm, FpStatus st) {
        st.flags |= OF | NX;
        boolean toInf = switch (rm) {
            case RTZ -> false;
            case RDN -> neg;
            case RUP -> !neg;
            default -> true;
        };
        long mag = toInf ? (dbl ? EXP64 : EXP32) : (dbl ? MAX64 : MAX32);
        return neg ? mag | (dbl ? SIGN64 : 0x80000000L) : mag;
    }

    /**
     * Sign of an exact zero sum (IEEE 754 6.3): x + x keeps the sign of x when both addends are
     * zeros of the same sign; otherwise +0, except -0 when rounding down. Returns true for -0.
     */
    private static boolean zeroSum(boolean negA, boolean negB, int rm) {
        return negA == negB ? negA : rm == RDN;
    }

    /** Exact rounding of a BigInteger magnitude: keeps 63 bits and folds the rest into sticky. */
    private static long roundBig(boolean neg, BigInteger mag, int exp, boolean sticky, boolean dbl,
                                 int rm, FpStatus st) {
        int n = mag.bitLength();
        if (n > 63) {
            int sh = n - 63;
            sticky |= mag.getLowestSetBit() < sh;
            return roundPack(neg, mag.shiftRight(sh).longValue(), exp + sh, sticky, dbl, rm, st);
        }
        return roundPack(neg, mag.longValue(), exp, sticky, dbl, rm, st);
    }

    // ---------------------------------------------------------------------------------------
    // binary64 slow paths: exact BigInteger arithmetic (near overflow, tiny results)
    // ---------------------------------------------------------------------------------------

    /** Significand including the implicit bit; value = sig * 2^exp. */
    private static long sig64(long b) {
        long f = b & FRAC64;
        return (b & EXP64) == 0 ? f : f | 1L << 52;
    }

    private static int exp64(long b) {
        int e = (int) (b >>> 52) & 0x7ff;
        return (e == 0 ? 1 : e) - 1075;
    }

    private static long sig32(int b) {
        int f = b & FRAC32;
        return (b & EXP32) == 0 ? f : f | 1 << 23;
    }

    private static int exp32(int b) {
        int e = (b >>> 23) & 0xff;
        return (e == 0 ? 1 : e) - 150;
    }

    private static BigInteger signedSig64(long b) {
        BigInteger m = BigInteger.valueOf(sig64(b));
        return b < 0 ? m.negate() : m;
    }

    private static long addSlow64(long a, long b, int rm, FpStatus st) {
        int ea = exp64(a);
        int eb = exp64(b);
        int e = Math.min(ea, eb);
        BigInteger sum = signedSig64(a).shiftLeft(ea - e).add(signedSig64(b).shiftLeft(eb - e));
        if (sum.signum() == 0) {
            return zeroSum(a < 0, b < 0, rm) ? SIGN64 : 0;
        }
        return roundBig(sum.signum() < 0, sum.abs(), e, false, true, rm, st);
    }

    private static long mulSlow64(long a, long b, int rm, FpStatus st) {
        BigInteger prod = BigInteger.valueOf(sig64(a)).multiply(BigInteger.valueOf(sig64(b)));
        return roundBig((a ^ b) < 0, prod, exp64(a) + exp64(b), false, true, rm, st);
    }

    private static long divSlow64(long a, long b, int rm, FpStatus st) {
        // 2^128 * sigA / sigB has at least 75 bits, plenty for rounding to 53 with a sticky bit.
        BigInteger[] qr = BigInteger.valueOf(sig64(a)).shiftLeft(128)
                .divideAndRemainder(BigInteger.valueOf(sig64(b)));
        return roundBig((a ^ b) < 0, qr[0], exp64(a) - exp64(b) - 128, qr[1].signum() != 0, true,
                rm, st);
    }

    private static long fmaSlow64(long a, long b, long c, int rm, FpStatus st) {
        // Both the product and c are non-zero here.
        BigInteger prod = BigInteger.valueOf(sig64(a)).multiply(BigInteger.valueOf(sig64(b)));
        if ((a ^ b) < 0) {
            prod = prod.negate();
        }
        int ep = exp64(a) + exp64(b);
        int ec = exp64(c);
        int e = Math.min(ep, ec);
        BigInteger sum = prod.shiftLeft(ep - e).add(signedSig64(c).shiftLeft(ec - e));
        if (sum.signum() == 0) {
            return rm == RDN ? SIGN64 : 0;
        }
        return roundBig(sum.signum() < 0, sum.abs(), e, false, true, rm, st);
    }

    // ---------------------------------------------------------------------------------------
    // Special operands (NaN, infinity, division by zero)
    // ---------------------------------------------------------------------------------------

    private static boolean isNaN32(int a) {
        return (a & ABS32) > EXP32;
    }

    private static boolean isSNaN32(int a) {
        return isNaN32(a) && (a & QUIET32) == 0;
    }

    private static boolean isInf32(int a) {
        return (a & ABS32) == EXP32;
    }

    private static boolean isNaN64(long a) {
        return (a & ABS64) > EXP64;
    }

    private static boolean isSNaN64(long a) {
        return isNaN64(a) && (a & QUIET64) == 0;
    }

    private static boolean isInf64(long a) {
        return (a & ABS64) == EXP64;
    }

    /** At least one operand is NaN: NV if any is signaling; the result is the canonical NaN. */
    private static int nan32(int a, int b, FpStatus st) {
        if (isSNaN32(a) || isSNaN32(b)) {
            st.flags |= NV;
        }
        return CANONICAL_NAN_32;
    }

    private static long nan64(long a, long b, FpStatus st) {
        if (isSNaN64(a) || isSNaN64(b)) {
            st.flags |= NV;
        }
        return CANONICAL_NAN_64;
    }

    private static int invalid32(FpStatus st) {
        st.flags |= NV;
        return CANONICAL_NAN_32;
    }

    private static long invalid64(FpStatus st) {
        st.flags |= NV;
        return CANONICAL_NAN_64;
    }

    private static int addSpecial32(int a, int b, FpStatus st) {
        if (isNaN32(a) || isNaN32(b)) {
            return nan32(a, b, st);
        }
        if (isInf32(a) && isInf32(b) && (a ^ b) < 0) {
            return invalid32(st); // inf - inf
        }
        return isInf32(a) ? a : b;
    }

    private static long addSpecial64(long a, long b, FpStatus st) {
        if (isNaN64(a) || isNaN64(b)) {
            return nan64(a, b, st);
        }
        if (isInf64(a) && isInf64(b) && (a ^ b) < 0) {
            return invalid64(st);
        }
        return isInf64(a) ? a : b;
    }

    private static int mulSpecial32(int a, int b, FpStatus st) {
        if (isNaN32(a) || isNaN32(b)) {
            return nan32(a, b, st);
        }
        if ((a & ABS32) == 0 || (b & ABS32) == 0) {
            return invalid32(st); // 0 * inf
        }
        return (a ^ b) & SIGN32 | EXP32;
    }

    private static long mulSpecial64(long a, long b, FpStatus st) {
        if (isNaN64(a) || isNaN64(b)) {
            return nan64(a, b, st);
        }
        if ((a & ABS64) == 0 || (b & ABS64) == 0) {
            return invalid64(st);
        }
        return (a ^ b) & SIGN64 | EXP64;
    }

    private static int divSpecial32(int a, int b, FpStatus st) {
        if (isNaN32(a) || isNaN32(b)) {
            return nan32(a, b, st);
        }
        if (isInf32(a)) {
            // inf / inf is invalid; inf / finite (zero included) is an exact infinity, no DZ.
            return isInf32(b) ? invalid32(st) : (a ^ b) & SIGN32 | EXP32;
        }
        return (a ^ b) & SIGN32; // finite / inf = signed zero
    }

    private static long divSpecial64(long a, long b, FpStatus st) {
        if (isNaN64(a) || isNaN64(b)) {
            return nan64(a, b, st);
        }
        if (isInf64(a)) {
            return isInf64(b) ? invalid64(st) : (a ^ b) & SIGN64 | EXP64;
        }
        return (a ^ b) & SIGN64;
    }

    private static int divByZero32(int a, int b, FpStatus st) {
        if ((a & ABS32) == 0) {
            return invalid32(st); // 0 / 0
        }
        st.flags |= DZ;
        return (a ^ b) & SIGN32 | EXP32;
    }

    private static long divByZero64(long a, long b, FpStatus st) {
        if ((a & ABS64) == 0) {
            return invalid64(st);
        }
        st.flags |= DZ;
        return (a ^ b) & SIGN64 | EXP64;
    }

    /** a is negative non-zero, infinite or NaN. */
    private static int sqrtSpecial32(int a, FpStatus st) {
        if (isNaN32(a)) {
            return nan32(a, a, st);
        }
        if (a < 0) {
            return invalid32(st); // sqrt of a negative number, -inf included
        }
        return a; // +inf
    }

    private static long sqrtSpecial64(long a, FpStatus st) {
        if (isNaN64(a)) {
            return nan64(a, a, st);
        }
        if (a < 0) {
            return invalid64(st);
        }
        return a;
    }

    /**
     * At least one fma operand is infinite or NaN. RISC-V requires NV for inf * 0 even when the
     * addend is a quiet NaN, so that check comes before NaN propagation.
     */
    private static int fmaSpecial32(int a, int b, int c, FpStatus st) {
        boolean infTimesZero = isInf32(a) && (b & ABS32) == 0 || (a & ABS32) == 0 && isInf32(b);
        if (isNaN32(a) || isNaN32(b) || isNaN32(c)) {
            if (isSNaN32(a) || isSNaN32(b) || isSNaN32(c) || infTimesZero) {
                st.flags |= NV;
            }
            return CANONICAL_NAN_32;
        }
        if (infTimesZero) {
            return invalid32(st);
        }
        if (isInf32(a) || isInf32(b)) {
            int prodSign = (a ^ b) & SIGN32;
            if (isInf32(c) && (c & SIGN32) != prodSign) {
                return invalid32(st); // inf - inf
            }
            return prodSign | EXP32;
        }
        return c; // finite product + infinite c
    }

    private static long fmaSpecial64(long a, long b, long c, FpStatus st) {
        boolean infTimesZero = isInf64(a) && (b & ABS64) == 0 || (a & ABS64) == 0 && isInf64(b);
        if (isNaN64(a) || isNaN64(b) || isNaN64(c)) {
            if (isSNaN64(a) || isSNaN64(b) || isSNaN64(c) || infTimesZero) {
                st.flags |= NV;
            }
            return CANONICAL_NAN_64;
        }
        if (infTimesZero) {
            return invalid64(st);
        }
        if (isInf64(a) || isInf64(b)) {
            long prodSign = (a ^ b) & SIGN64;
            if (isInf64(c) && (c & SIGN64) != prodSign) {
                return invalid64(st);
            }
            return prodSign | EXP64;
        }
        return c;
    }
}
