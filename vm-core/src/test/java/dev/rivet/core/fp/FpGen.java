package dev.rivet.core.fp;

import java.util.SplittableRandom;

/**
 * Random operand generator biased towards the cases where floating-point implementations break:
 * zeros, subnormals, the normal/subnormal boundary, values near overflow, infinities, quiet and
 * signaling NaNs, significands with few bits set or long runs of ones (which make exact results,
 * exact halfway points and carries), operand pairs that cancel exactly or nearly, and integer
 * boundaries for conversions. Binary32 values are returned zero-extended in a long.
 */
final class FpGen {
    final SplittableRandom rnd;

    FpGen(long seed) {
        rnd = new SplittableRandom(seed);
    }

    private static int p(int width) {
        return width == 64 ? 53 : 24;
    }

    private static int maxField(int width) {
        return width == 64 ? 0x7ff : 0xff;
    }

    private static int bias(int width) {
        return width == 64 ? 1023 : 127;
    }

    private static long mask(int width) {
        return width == 64 ? -1L : 0xffffffffL;
    }

    static long encode(int width, boolean neg, long field, long frac) {
        int p = p(width);
        long bits = field << (p - 1) | frac & ((1L << (p - 1)) - 1);
        return neg ? bits | 1L << (width - 1) : bits;
    }

    /** Significand fraction bits with structure: random, sparse, runs of ones, all ones, zero. */
    long frac(int width) {
        int n = p(width) - 1;
        long all = (1L << n) - 1;
        return switch (rnd.nextInt(8)) {
            case 0 -> 0;
            case 1 -> all;
            case 2 -> { // a few bits
                long f = 0;
                for (int i = rnd.nextInt(1, 4); i > 0; i--) {
                    f |= 1L << rnd.nextInt(n);
                }
                yield f;
            }
            case 3 -> { // a run of ones
                int lo = rnd.nextInt(n);
                int hi = rnd.nextInt(lo, n);
                yield (all >>> (n - 1 - hi)) & ~((1L << lo) - 1);
            }
            case 4 -> rnd.nextLong() & all & ~((1L << rnd.nextInt(n)) - 1); // low bits clear
            case 5 -> rnd.nextLong() & all | ((1L << rnd.nextInt(n)) - 1); // low bits set
            case 6 -> (rnd.nextBoolean() ? 0 : 1L << (n - 1)) | (rnd.nextBoolean() ? 1 : 0);
            default -> rnd.nextLong() & all;
        };
    }

    /** Special and boundary encodings. */
    long special(int width) {
        int p = p(width);
        long frac = (1L << (p - 1)) - 1;
        int mf = maxField(width);
        boolean neg = rnd.nextBoolean();
        return switch (rnd.nextInt(14)) {
            case 0 -> encode(width, neg, 0, 0); // zero
            case 1 -> encode(width, neg, 0, 1); // smallest subnormal
            case 2 -> encode(width, neg, 0, frac); // largest subnormal
            case 3 -> encode(width, neg, 1, 0); // smallest normal
            case 4 -> encode(width, neg, mf - 1, frac); // largest finite
            case 5 -> encode(width, neg, mf, 0); // infinity
            case 6 -> encode(width, neg, mf, 1L << (p - 2)); // quiet NaN (canonical when !neg)
            case 7 -> encode(width, neg, mf, 1L << (p - 2) | rnd.nextLong()); // quiet NaN payload
            case 8 -> encode(width, neg, mf, 1); // signaling NaN
            case 9 -> encode(width, neg, mf, rnd.nextLong() & (frac >>> 1) | 1); // sNaN payload
            case 10 -> encode(width, neg, bias(width), 0); // 1.0
            case 11 -> encode(width, neg, bias(width), rnd.nextInt(1, 4)); // 1 + few ulps
            case 12 -> encode(width, neg, bias(width) - 1, frac); // 1 - ulp/2
            default -> encode(width, neg, 0, rnd.nextLong() & frac); // random subnormal
        };
    }

    /** One operand. */
    long value(int width) {
        int mf = maxField(width);
        boolean neg = rnd.nextBoolean();
        return switch (rnd.nextInt(10)) {
            case 0 -> special(width);
            case 1 -> rnd.nextLong() & mask(width); // uniform bits (some NaNs and infinities)
            case 2 -> encode(width, neg, rnd.nextInt(0, 3), frac(width)); // tiny
            case 3 -> encode(width, neg, rnd.nextInt(mf - 3, mf), frac(width)); // huge
            case 4 -> encode(width, neg, rnd.nextInt(1, mf), frac(width)); // any finite
            default -> { // moderate magnitudes, where most arithmetic happens
                int b = bias(width);
                yield encode(width, neg, b + rnd.nextInt(-p(width) - 8, p(width) + 8), frac(width));
            }
        };
    }

    /** A second operand related to the first: cancelling, nearby, aligned for halfway cases. */
    long related(int width, long a) {
        long sign = 1L << (width - 1);
        long m = mask(width);
        int p = p(width);
        long field = (a >>> (p - 1)) & maxField(width);
        return switch (rnd.nextInt(9)) {
            case 0 -> a ^ sign; // exact cancellation
            case 1 -> a; // x op x
            case 2 -> (a ^ sign) + rnd.nextInt(-3, 4) & m; // near cancellation
            case 3 -> a + rnd.nextInt(-3, 4) & m; // a few ulps away
            case 4 -> { // same significand, exponent moved: differences of ~p bits give halfway sums
                long nf = field - rnd.nextInt(-2, p + 4);
                if (nf <= 0 || nf >= maxField(width)) {
                    yield value(width);
                }
                long frac = a & ((1L << (p - 1)) - 1);
                yield encode(width, rnd.nextBoolean(), nf, frac);
            }
            case 5 -> { // a power of two near a's ulp: halfway and sticky cases for add
                long nf = field - p + rnd.nextInt(-2, 3);
                yield nf > 0 ? encode(width, rnd.nextBoolean(), nf, 0)
                        : encode(width, rnd.nextBoolean(), 0, 1L << rnd.nextInt(p - 1));
            }
            case 6 -> encode(width, rnd.nextBoolean(), rnd.nextInt(1, maxField(width)), 0); // power of two
            default -> value(width);
        };
    }

    /** Values near integer boundaries, for float-to-integer conversions. */
    long convInput(int width) {
        int p = p(width);
        int b = bias(width);
        boolean neg = rnd.nextBoolean();
        switch (rnd.nextInt(6)) {
            case 0, 1 -> { // 2^k +- a few ulps, k at the interesting boundaries
                int[] ks = {31, 32, 63, 64, 30, 52, 53, 23, 24};
                int k = ks[rnd.nextInt(ks.length)];
                long base = encode(width, neg, b + k, 0);
                return base + rnd.nextInt(-3, 4) & mask(width);
            }
            case 2 -> { // n + {0, 1/4, 1/2, 3/4} for small n
                double v = rnd.nextInt(-4, 5) + rnd.nextInt(4) * 0.25;
                return width == 64 ? Double.doubleToRawLongBits(v)
                        : Float.floatToRawIntBits((float) v) & 0xffffffffL;
            }
            case 3 -> { // random magnitude in [2^-3, 2^66)
                return encode(width, neg, b + rnd.nextInt(-3, 66), frac(width)) & mask(width);
            }
            case 4 -> { // fractional bits exactly at the binary point +- 1
                int k = rnd.nextInt(0, Math.min(p + 2, 66));
                return encode(width, neg, b + k, frac(width));
            }
            default -> {
                return value(width);
            }
        }
    }

    /** Integers for integer-to-float conversions: boundaries, p+1-bit ties, random. */
    long intValue(int width) {
        return switch (rnd.nextInt(7)) {
            case 0 -> rnd.nextLong();
            case 1 -> rnd.nextInt(-40, 41);
            case 2 -> { // just around 2^k
                long base = 1L << rnd.nextInt(64);
                yield (rnd.nextBoolean() ? base : -base) + rnd.nextInt(-3, 4);
            }
            case 3 -> { // p+1 or p+2 significant bits (ties and near-ties for binary32 and binary64)
                int bits = (rnd.nextBoolean() ? 25 : 54) + rnd.nextInt(0, 2);
                long v = (1L << (bits - 1)) | (rnd.nextLong() & ((1L << (bits - 1)) - 1));
                v |= rnd.nextBoolean() ? 1 : 0;
                int shift = rnd.nextInt(0, 64 - bits + 1);
                long r = v << shift;
                yield rnd.nextBoolean() ? -r : r;
            }
            case 4 -> new long[] {Long.MIN_VALUE, Long.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE,
                0xffffffffL, -1L, 0, 1L << 63 | 1, 0xffffffffffffff00L}[rnd.nextInt(9)];
            case 5 -> rnd.nextLong() >> rnd.nextInt(64);
            default -> rnd.nextLong() & ~((1L << rnd.nextInt(40)) - 1);
        } & (width == 64 ? -1L : 0xffffffffL);
    }

    /** An exact square (or a few ulps from one), for square roots. */
    long nearSquare(int width) {
        int p = p(width);
        long r = rnd.nextLong(1, 1L << (p / 2)); // root with at most p/2 bits: exact square
        double sq = (double) r * r;
        int e = rnd.nextInt(-60, 60) * 2;
        long bits = width == 64 ? Double.doubleToRawLongBits(Math.scalb(sq, e))
                : Float.floatToRawIntBits((float) Math.scalb(sq, e)) & 0xffffffffL;
        return bits + (rnd.nextInt(4) == 0 ? rnd.nextInt(-2, 3) : 0) & mask(width);
    }
}
