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
 * A slow, obviously-correct model of RISC-V F/D arithmetic, used as the oracle of the differential
 * tests. Every finite value is turned into an exact rational number (BigInteger numerator and
 * denominator), the operation is done exactly, and the result is rounded straight from the IEEE
 * 754 definitions: round to p significant bits with the exponent range unbounded (which decides
 * tininess and overflow), then round to the format's actual quantum (which gives subnormals).
 * Square roots are rounded through integer square roots of the scaled radicand. It shares no code
 * with {@link RvFloat}.
 *
 * <p>All bit patterns are held in a long; binary32 ones in the low 32 bits (zero-extended).
 */
final class ReferenceFloat {
    private ReferenceFloat() {}

    /** A binary interchange format. */
    record Fmt(int p, int emin, int emax, int width) {
        int bias() {
            return emax;
        }

        int expBits() {
            return width - p;
        }

        long signBit() {
            return 1L << (width - 1);
        }

        long expMask() {
            return ((1L << expBits()) - 1) << (p - 1);
        }

        long fracMask() {
            return (1L << (p - 1)) - 1;
        }

        long mask() {
            return width == 64 ? -1L : (1L << width) - 1;
        }

        long inf(boolean neg) {
            return (neg ? signBit() : 0) | expMask();
        }

        long maxFinite(boolean neg) {
            return (neg ? signBit() : 0) | (expMask() - (1L << (p - 1))) | fracMask();
        }

        long zero(boolean neg) {
            return neg ? signBit() : 0;
        }

        long canonicalNaN() {
            return expMask() | 1L << (p - 2);
        }
    }

    static final Fmt F32 = new Fmt(24, -126, 127, 32);
    static final Fmt F64 = new Fmt(53, -1022, 1023, 64);

    /** An operation's result: bits (or integer / boolean as 0/1) and the flags it raises. */
    record Res(long bits, int flags) {}

    // ------------------------------------------------------------------ exact rationals

    /** num/den with den > 0; never normalised (each operation does one exact computation). */
    record Rat(BigInteger num, BigInteger den) {
        static Rat of(BigInteger n) {
            return new Rat(n, BigInteger.ONE);
        }

        Rat add(Rat o) {
            return new Rat(num.multiply(o.den).add(o.num.multiply(den)), den.multiply(o.den));
        }

        Rat mul(Rat o) {
            return new Rat(num.multiply(o.num), den.multiply(o.den));
        }

        Rat div(Rat o) {
            BigInteger n = num.multiply(o.den);
            BigInteger d = den.multiply(o.num);
            return d.signum() < 0 ? new Rat(n.negate(), d.negate()) : new Rat(n, d);
        }

        int signum() {
            return num.signum();
        }

        Rat abs() {
            return new Rat(num.abs(), den);
        }

        int compareTo(Rat o) {
            return num.multiply(o.den).compareTo(o.num.multiply(den));
        }
    }

    static boolean isNaN(long bits, Fmt f) {
        return (bits & f.expMask()) == f.expMask() && (bits & f.fracMask()) != 0;
    }

    static boolean isSNaN(long bits, Fmt f) {
        return isNaN(bits, f) && (bits & 1L << (f.p() - 2)) == 0;
    }

    static boolean isInf(long bits, Fmt f) {
        return (bits & f.expMask()) == f.expMask() && (bits & f.fracMask()) == 0;
    }

    static boolean isNeg(long bits, Fmt f) {
        return (bits & f.signBit()) != 0;
    }

    static boolean isZero(long bits, Fmt f) {
        return (bits & f.mask() & ~f.signBit()) == 0;
    }

    /** The exact value of a finite encoding. */
    static Rat value(long bits, Fmt f) {
        long e = (bits & f.expMask()) >>> (f.p() - 1);
        long frac = bits & f.fracMask();
        BigInteger m;
        int exp;
        if (e == 0) {
            m = BigInteger.valueOf(frac);
            exp = f.emin() - (f.p() - 1);
        } else {
            m = BigInteger.valueOf(frac).setBit(f.p() - 1);
            exp = (int) e - f.bias() - (f.p() - 1);
        }
        if (isNeg(bits, f)) {
            m = m.negate();
        }
        return exp >= 0 ? Rat.of(m.shiftLeft(exp)) : new Rat(m, BigInteger.ONE.shiftLeft(-exp));
    }

    // ------------------------------------------------------------------ rounding

    /**
     * A positive real number that can be rounded: either a rational or the square root of one.
     * scaled(q) describes x / 2^q as its floor k, whether it is an integer, and the sign of
     * (x / 2^q - k - 1/2).
     */
    private record Positive(Rat r, boolean sqrt) {
        int floorLog2() {
            int l = floorLog2(r);
            return sqrt ? Math.floorDiv(l, 2) : l;
        }

        private static int floorLog2(Rat x) {
            int e = x.num().bitLength() - x.den().bitLength();
            // x lies in (2^(e-1), 2^(e+1)); it is below 2^e iff num < den * 2^e.
            boolean below = e >= 0
                    ? x.num().compareTo(x.den().shiftLeft(e)) < 0
                    : x.num().shiftLeft(-e).compareTo(x.den()) < 0;
            return below ? e - 1 : e;
        }

        /** {floor, exact ? 1 : 0, cmpHalf} of x / 2^q. */
        BigInteger[] scaled(int q) {
            int s = sqrt ? 2 * q : q; // sqrt(y) / 2^q = sqrt(y / 4^q)
            BigInteger n = s >= 0 ? r.num() : r.num().shiftLeft(-s);
            BigInteger d = s >= 0 ? r.den().shiftLeft(s) : r.den();
            if (!sqrt) {
                BigInteger[] qr = n.divideAndRemainder(d);
                int cmp = qr[1].shiftLeft(1).compareTo(d);
                return new BigInteger[] {qr[0], qr[1].signum() == 0 ? BigInteger.ONE : BigInteger.ZERO,
                    BigInteger.valueOf(cmp)};
            }
            BigInteger k = n.divide(d).sqrt(); // floor(sqrt(n/d)) = isqrt(floor(n/d))
            boolean exact = k.multiply(k).multiply(d).equals(n);
            BigInteger twoKPlus1 = k.shiftLeft(1).add(BigInteger.ONE);
            // x/2^q vs k + 1/2  <=>  n/d vs (k + 1/2)^2  <=>  4n vs (2k+1)^2 d
            int cmp = n.shiftLeft(2).compareTo(twoKPlus1.multiply(twoKPlus1).multiply(d));
            return new BigInteger[] {k, exact ? BigInteger.ONE : BigInteger.ZERO,
                BigInteger.valueOf(cmp)};
        }
    }

    /** Rounds a scaled magnitude (floor k, exactness, comparison with k + 1/2) to an integer. */
    private static BigInteger roundInt(BigInteger[] sc, boolean neg, int rm) {
        BigInteger k = sc[0];
        boolean exact = sc[1].signum() != 0;
        int cmpHalf = sc[2].intValue();
        if (exact) {
            return k;
        }
        boolean up = switch (rm) {
            case RNE -> cmpHalf > 0 || cmpHalf == 0 && k.testBit(0);
            case RTZ -> false;
            case RDN -> neg;
            case RUP -> !neg;
            case RMM -> cmpHalf >= 0;
            default -> throw new IllegalArgumentException("rm " + rm);
        };
        return up ? k.add(BigInteger.ONE) : k;
    }

    /** Rounds (-1)^neg * x (x > 0) to format f per IEEE 754 with RISC-V (after-rounding) tininess. */
    private static Res round(Positive x, boolean neg, Fmt f, int rm) {
        int p = f.p();
        int e = x.floorLog2();
        // 1. Unbounded exponent range, p bits: decides overflow and tininess.
        BigInteger ku = roundInt(x.scaled(e - (p - 1)), neg, rm);
        int eu = ku.bitLength() > p ? e + 1 : e; // carry to 2^p bumps the exponent
        if (eu > f.emax()) {
            boolean toInf = switch (rm) {
                case RNE, RMM -> true;
                case RTZ -> false;
                case RDN -> neg;
                case RUP -> !neg;
                default -> throw new IllegalArgumentException();
            };
            return new Res(toInf ? f.inf(neg) : f.maxFinite(neg), OF | NX);
        }
        boolean tiny = eu < f.emin();
        // 2. The actual quantum: 2^(max(e, emin) - (p-1)).
        int q = Math.max(e, f.emin()) - (p - 1);
        BigInteger[] sc = x.scaled(q);
        boolean inexact = sc[1].signum() == 0;
        BigInteger k = roundInt(sc, neg, rm);
        int flags = inexact ? (tiny ? NX | UF : NX) : 0;
        if (k.signum() == 0) {
            return new Res(f.zero(neg), flags);
        }
        if (k.bitLength() > p) { // carried to 2^p: 2^(p-1) * 2^(q+1)
            k = k.shiftRight(1);
            q++;
        }
        long bits;
        if (k.bitLength() == p) {
            long biased = q + (p - 1) + f.bias();
            bits = biased << (p - 1) | (k.longValue() - (1L << (p - 1)));
        } else {
            if (q != f.emin() - (p - 1)) {
                throw new AssertionError("subnormal with wrong quantum");
            }
            bits = k.longValue();
        }
        return new Res(f.zero(neg) | bits, flags);
    }

    private static Res round(Rat x, Fmt f, int rm) {
        return round(new Positive(x.abs(), false), x.signum() < 0, f, rm);
    }

    private static Res nanResult(Fmt f, boolean invalid) {
        return new Res(f.canonicalNaN(), invalid ? NV : 0);
    }

    /** Sign of an exact zero sum x + y (IEEE 754 6.3). */
    private static long zeroSum(boolean xZeroNeg, boolean xZero, boolean yZeroNeg, boolean yZero,
                                Fmt f, int rm) {
        if (xZero && yZero && xZeroNeg == yZeroNeg) {
            return f.zero(xZeroNeg);
        }
        return f.zero(rm == RDN);
    }

    // ------------------------------------------------------------------ arithmetic

    static Res add(long a, long b, Fmt f, int rm) {
        if (isNaN(a, f) || isNaN(b, f)) {
            return nanResult(f, isSNaN(a, f) || isSNaN(b, f));
        }
        if (isInf(a, f) && isInf(b, f)) {
            return isNeg(a, f) == isNeg(b, f) ? new Res(a, 0) : nanResult(f, true);
        }
        if (isInf(a, f)) {
            return new Res(a, 0);
        }
        if (isInf(b, f)) {
            return new Res(b, 0);
        }
        Rat s = value(a, f).add(value(b, f));
        if (s.signum() == 0) {
            return new Res(zeroSum(isNeg(a, f), isZero(a, f), isNeg(b, f), isZero(b, f), f, rm), 0);
        }
        return round(s, f, rm);
    }

    static Res sub(long a, long b, Fmt f, int rm) {
        return add(a, b ^ f.signBit(), f, rm);
    }

    static Res mul(long a, long b, Fmt f, int rm) {
        if (isNaN(a, f) || isNaN(b, f)) {
            return nanResult(f, isSNaN(a, f) || isSNaN(b, f));
        }
        boolean neg = isNeg(a, f) != isNeg(b, f);
        if (isInf(a, f) || isInf(b, f)) {
            return isZero(a, f) || isZero(b, f) ? nanResult(f, true) : new Res(f.inf(neg), 0);
        }
        if (isZero(a, f) || isZero(b, f)) {
            return new Res(f.zero(neg), 0);
        }
        return round(value(a, f).mul(value(b, f)), f, rm);
    }

    static Res div(long a, long b, Fmt f, int rm) {
        if (isNaN(a, f) || isNaN(b, f)) {
            return nanResult(f, isSNaN(a, f) || isSNaN(b, f));
        }
        boolean neg = isNeg(a, f) != isNeg(b, f);
        if (isInf(a, f)) {
            return isInf(b, f) ? nanResult(f, true) : new Res(f.inf(neg), 0);
        }
        if (isInf(b, f)) {
            return new Res(f.zero(neg), 0);
        }
        if (isZero(b, f)) {
            return isZero(a, f) ? nanResult(f, true) : new Res(f.inf(neg), DZ);
        }
        if (isZero(a, f)) {
            return new Res(f.zero(neg), 0);
        }
        return round(value(a, f).div(value(b, f)), f, rm);
    }

    static Res sqrt(long a, Fmt f, int rm) {
        if (isNaN(a, f)) {
            return nanResult(f, isSNaN(a, f));
        }
        if (isZero(a, f)) {
            return new Res(a, 0);
        }
        if (isNeg(a, f)) {
            return nanResult(f, true);
        }
        if (isInf(a, f)) {
            return new Res(a, 0);
        }
        return round(new Positive(value(a, f), true), false, f, rm);
    }

    static Res fma(long a, long b, long c, Fmt f, int rm) {
        boolean infTimesZero = isInf(a, f) && isZero(b, f) || isZero(a, f) && isInf(b, f);
        if (isNaN(a, f) || isNaN(b, f) || isNaN(c, f)) {
            // RISC-V: inf * 0 + qNaN still raises NV.
            return nanResult(f, isSNaN(a, f) || isSNaN(b, f) || isSNaN(c, f) || infTimesZero);
        }
        if (infTimesZero) {
            return nanResult(f, true);
        }
        boolean prodNeg = isNeg(a, f) != isNeg(b, f);
        if (isInf(a, f) || isInf(b, f)) {
            if (isInf(c, f) && isNeg(c, f) != prodNeg) {
                return nanResult(f, true);
            }
            return new Res(f.inf(prodNeg), 0);
        }
        if (isInf(c, f)) {
            return new Res(c, 0);
        }
        boolean prodZero = isZero(a, f) || isZero(b, f);
        Rat s = value(a, f).mul(value(b, f)).add(value(c, f));
        if (s.signum() == 0) {
            return new Res(zeroSum(prodNeg, prodZero, isNeg(c, f), isZero(c, f), f, rm), 0);
        }
        return round(s, f, rm);
    }

    // ------------------------------------------------------------------ min / max / compare

    static Res minMax(long a, long b, Fmt f, boolean max) {
        int flags = isSNaN(a, f) || isSNaN(b, f) ? NV : 0;
        if (isNaN(a, f) && isNaN(b, f)) {
            return new Res(f.canonicalNaN(), flags);
        }
        if (isNaN(a, f)) {
            return new Res(b, flags);
        }
        if (isNaN(b, f)) {
            return new Res(a, flags);
        }
        int cmp = compareFinite(a, b, f);
        if (cmp == 0) {
            // Equal values: only +0/-0 differ, and -0 is the smaller one (IEEE 754-2019 9.6).
            boolean aNeg = isNeg(a, f);
            return new Res((aNeg != max) ? a : b, flags);
        }
        return new Res((cmp < 0) != max ? a : b, flags);
    }

    /** Numeric comparison of non-NaN values, infinities included. */
    private static int compareFinite(long a, long b, Fmt f) {
        int ra = rank(a, f);
        int rb = rank(b, f);
        if (ra != 0 || rb != 0) {
            return Integer.compare(ra, rb);
        }
        return value(a, f).compareTo(value(b, f));
    }

    private static int rank(long bits, Fmt f) {
        return isInf(bits, f) ? (isNeg(bits, f) ? -1 : 1) : 0;
    }

    /** kind: 0 feq, 1 flt, 2 fle. */
    static Res compare(long a, long b, Fmt f, int kind) {
        if (isNaN(a, f) || isNaN(b, f)) {
            boolean nv = kind == 0 ? isSNaN(a, f) || isSNaN(b, f) : true;
            return new Res(0, nv ? NV : 0);
        }
        int cmp = compareFinite(a, b, f);
        boolean r = switch (kind) {
            case 0 -> cmp == 0;
            case 1 -> cmp < 0;
            default -> cmp <= 0;
        };
        return new Res(r ? 1 : 0, 0);
    }

    static int classify(long a, Fmt f) {
        boolean neg = isNeg(a, f);
        if (isNaN(a, f)) {
            return isSNaN(a, f) ? 1 << 8 : 1 << 9;
        }
        if (isInf(a, f)) {
            return neg ? 1 << 0 : 1 << 7;
        }
        if (isZero(a, f)) {
            return neg ? 1 << 3 : 1 << 4;
        }
        Rat minNormal = new Rat(BigInteger.ONE, BigInteger.ONE.shiftLeft(-f.emin()));
        boolean subnormal = value(a, f).abs().compareTo(minNormal) < 0;
        if (subnormal) {
            return neg ? 1 << 2 : 1 << 5;
        }
        return neg ? 1 << 1 : 1 << 6;
    }

    // ------------------------------------------------------------------ conversions

    static Res convert(long a, Fmt from, Fmt to, int rm) {
        if (isNaN(a, from)) {
            return nanResult(to, isSNaN(a, from));
        }
        if (isInf(a, from)) {
            return new Res(to.inf(isNeg(a, from)), 0);
        }
        if (isZero(a, from)) {
            return new Res(to.zero(isNeg(a, from)), 0);
        }
        return round(value(a, from), to, rm);
    }

    /**
     * Float to integer in [min, max]: round per rm; NaN or out of range raises NV and saturates
     * (NaN to max); NX only for an in-range inexact result. The result is returned as the
     * integer's two's complement bits in a long.
     */
    static Res toInt(long a, Fmt f, BigInteger min, BigInteger max, int rm) {
        if (isNaN(a, f)) {
            return new Res(max.longValue(), NV);
        }
        if (isInf(a, f)) {
            return new Res((isNeg(a, f) ? min : max).longValue(), NV);
        }
        Rat v = value(a, f);
        boolean neg = v.signum() < 0;
        BigInteger[] sc = new Positive(v.abs(), false).scaled(0);
        if (v.signum() == 0) {
            return new Res(0, 0);
        }
        BigInteger mag = roundInt(sc, neg, rm);
        BigInteger r = neg ? mag.negate() : mag;
        if (r.compareTo(min) < 0) {
            return new Res(min.longValue(), NV);
        }
        if (r.compareTo(max) > 0) {
            return new Res(max.longValue(), NV);
        }
        return new Res(r.longValue(), sc[1].signum() == 0 ? NX : 0);
    }

    static Res fromInt(BigInteger v, Fmt f, int rm) {
        if (v.signum() == 0) {
            return new Res(0, 0);
        }
        return round(Rat.of(v), f, rm);
    }

    static final BigInteger I32_MIN = BigInteger.valueOf(Integer.MIN_VALUE);
    static final BigInteger I32_MAX = BigInteger.valueOf(Integer.MAX_VALUE);
    static final BigInteger U32_MAX = BigInteger.ONE.shiftLeft(32).subtract(BigInteger.ONE);
    static final BigInteger I64_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    static final BigInteger I64_MAX = BigInteger.valueOf(Long.MAX_VALUE);
    static final BigInteger U64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    static BigInteger unsigned(long v) {
        return new BigInteger(Long.toUnsignedString(v));
    }
}
