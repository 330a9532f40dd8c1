package dev.rivet.core.fp;

import org.junit.jupiter.api.Test;

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
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Cases worked out by hand from the definitions (IEEE 754-2019 and the RISC-V F/D chapters), each
 * with its reasoning. These pin down the semantics themselves, which a differential test against a
 * reference written by the same hand cannot.
 */
class RvFloatHandWorkedTest {
    // binary32 constants
    static final int ONE = 0x3f800000;
    static final int M_ONE = 0xbf800000;
    static final int TWO = 0x40000000;
    static final int HALF = 0x3f000000;
    static final int P0 = 0;
    static final int N0 = 0x80000000;
    static final int MIN_SUB = 0x00000001; // 2^-149
    static final int MAX_SUB = 0x007fffff;
    static final int MIN_NORM = 0x00800000; // 2^-126
    static final int MAX = 0x7f7fffff; // (2 - 2^-23) * 2^127
    static final int INF = 0x7f800000;
    static final int N_INF = 0xff800000;
    static final int QNAN = 0x7fc00000; // the canonical NaN
    static final int QNAN_PAYLOAD = 0x7fc00123;
    static final int SNAN = 0x7f800001;
    // binary64 constants
    static final long D_ONE = 0x3ff0000000000000L;
    static final long D_P0 = 0;
    static final long D_N0 = 0x8000000000000000L;
    static final long D_MIN_SUB = 1; // 2^-1074
    static final long D_MIN_NORM = 0x0010000000000000L;
    static final long D_MAX = 0x7fefffffffffffffL;
    static final long D_INF = 0x7ff0000000000000L;
    static final long D_N_INF = 0xfff0000000000000L;
    static final long D_QNAN = 0x7ff8000000000000L;
    static final long D_SNAN = 0x7ff0000000000001L;

    static final int[] MODES = {RNE, RTZ, RDN, RUP, RMM};

    interface Call {
        long run(int rm, FpStatus st);
    }

    /** One mode: expect the result (as a long, int results sign-extended) and exactly these flags. */
    static void expect(String what, int rm, Call c, long want, int flags) {
        FpStatus st = new FpStatus();
        long got = c.run(rm, st);
        String where = what + " rm=" + RoundingMode.name(rm);
        assertEquals(Long.toHexString(want), Long.toHexString(got), where);
        assertEquals(FpFlags.toString(flags), FpFlags.toString(st.flags), where + " flags");
    }

    /** All five modes, results in the order RNE, RTZ, RDN, RUP, RMM, with the same flags. */
    static void modes(String what, Call c, int flags, long rne, long rtz, long rdn, long rup, long rmm) {
        long[] want = {rne, rtz, rdn, rup, rmm};
        for (int i = 0; i < 5; i++) {
            expect(what, MODES[i], c, want[i], flags);
        }
    }

    /** Every mode gives the same result and flags. */
    static void same(String what, Call c, long want, int flags) {
        modes(what, c, flags, want, want, want, want, want);
    }

    // ------------------------------------------------------------------ add / sub

    @Test
    void add32() {
        // 1 + 2^-24: exactly halfway between 1 and 1 + 2^-23 (ulp of 1 is 2^-23). RNE picks the
        // even significand (1.0); RTZ/RDN truncate; RUP and RMM (ties away) give 1 + 2^-23.
        modes("1 + 2^-24", (rm, st) -> RvFloat.add32(ONE, 0x33800000, rm, st), NX,
                ONE, ONE, ONE, 0x3f800001, 0x3f800001);
        // (1 + 2^-23) + 2^-24: halfway between 1 + 2^-23 (odd) and 1 + 2^-22 (even): RNE rounds up.
        modes("(1+2^-23) + 2^-24", (rm, st) -> RvFloat.add32(0x3f800001, 0x33800000, rm, st), NX,
                0x3f800002, 0x3f800001, 0x3f800001, 0x3f800002, 0x3f800002);
        // -1 - 2^-24: mirror image; RDN goes away from zero, RUP towards it.
        modes("-1 - 2^-24", (rm, st) -> RvFloat.add32(M_ONE, 0xb3800000, rm, st), NX,
                M_ONE, M_ONE, 0xbf800001, M_ONE, 0xbf800001);
        // 1 + 2^-25: below halfway, only the directed mode away from zero moves.
        modes("1 + 2^-25", (rm, st) -> RvFloat.add32(ONE, 0x33000000, rm, st), NX,
                ONE, ONE, ONE, 0x3f800001, ONE);
        // x + (-x) is +0 in every mode except RDN, where it is -0 (IEEE 754 6.3). Exact: no flags.
        modes("1.5 - 1.5", (rm, st) -> RvFloat.add32(0x3fc00000, 0xbfc00000, rm, st), 0,
                P0, P0, N0, P0, P0);
        modes("+0 + -0", (rm, st) -> RvFloat.add32(P0, N0, rm, st), 0, P0, P0, N0, P0, P0);
        same("-0 + -0", (rm, st) -> RvFloat.add32(N0, N0, rm, st), N0, 0);
        same("+0 + +0", (rm, st) -> RvFloat.add32(P0, P0, rm, st), P0, 0);
        // MAX + MAX = 2^129 - 2^104: overflows; RNE/RMM/RUP give inf, RTZ/RDN the largest finite.
        modes("MAX + MAX", (rm, st) -> RvFloat.add32(MAX, MAX, rm, st), OF | NX,
                INF, MAX, MAX, INF, INF);
        modes("-MAX - MAX", (rm, st) -> RvFloat.add32(MAX | N0, MAX | N0, rm, st), OF | NX,
                N_INF, MAX | N0, N_INF, MAX | N0, N_INF);
        // MAX + 2^103 (half an ulp of MAX): RNE rounds the tie to the even 2^128, i.e. overflows.
        // Under RTZ/RDN the unbounded-exponent result is MAX itself, so there is no overflow: NX
        // only. RUP rounds to 2^128 and overflows.
        expect("MAX + 2^103", RNE, (rm, st) -> RvFloat.add32(MAX, 0x73000000, rm, st), INF, OF | NX);
        expect("MAX + 2^103", RMM, (rm, st) -> RvFloat.add32(MAX, 0x73000000, rm, st), INF, OF | NX);
        expect("MAX + 2^103", RUP, (rm, st) -> RvFloat.add32(MAX, 0x73000000, rm, st), INF, OF | NX);
        expect("MAX + 2^103", RTZ, (rm, st) -> RvFloat.add32(MAX, 0x73000000, rm, st), MAX, NX);
        expect("MAX + 2^103", RDN, (rm, st) -> RvFloat.add32(MAX, 0x73000000, rm, st), MAX, NX);
        // Subnormal sums are exact: never UF (UF needs inexact).
        same("minsub + minsub", (rm, st) -> RvFloat.add32(MIN_SUB, MIN_SUB, rm, st), 2, 0);
        same("minnorm - minsub", (rm, st) -> RvFloat.add32(MIN_NORM, MIN_SUB | N0, rm, st), MAX_SUB, 0);
        // Infinities and NaNs: inf - inf is invalid; NaN results are always canonical; only
        // signaling NaNs raise NV.
        same("inf - inf", (rm, st) -> RvFloat.add32(INF, N_INF, rm, st), QNAN, NV);
        same("inf + 1", (rm, st) -> RvFloat.add32(INF, ONE, rm, st), INF, 0);
        same("qNaN(payload) + 1", (rm, st) -> RvFloat.add32(QNAN_PAYLOAD, ONE, rm, st), QNAN, 0);
        same("1 + sNaN", (rm, st) -> RvFloat.add32(ONE, SNAN, rm, st), QNAN, NV);
        same("-inf + qNaN", (rm, st) -> RvFloat.add32(N_INF, 0xffc00000, rm, st), QNAN, 0);
    }

    @Test
    void sub32() {
        // 1 - 2^-25 is exactly halfway between 1 - 2^-24 (the float below 1, significand 0xffffff,
        // odd) and 1 (even): RNE and RMM give 1; RTZ/RDN give 1 - 2^-24.
        modes("1 - 2^-25", (rm, st) -> RvFloat.sub32(ONE, 0x33000000, rm, st), NX,
                ONE, 0x3f7fffff, 0x3f7fffff, ONE, ONE);
        // x - x = +0, except -0 under RDN.
        modes("2 - 2", (rm, st) -> RvFloat.sub32(TWO, TWO, rm, st), 0, P0, P0, N0, P0, P0);
        // -0 - +0 = -0 + -0 = -0 in every mode.
        same("-0 - +0", (rm, st) -> RvFloat.sub32(N0, P0, rm, st), N0, 0);
        // inf - inf is invalid; inf - (-inf) is inf.
        same("inf - inf", (rm, st) -> RvFloat.sub32(INF, INF, rm, st), QNAN, NV);
        same("inf - -inf", (rm, st) -> RvFloat.sub32(INF, N_INF, rm, st), INF, 0);
        // Exact cancellation of neighbours: (1 + 2^-23) - 1 = 2^-23.
        same("(1+2^-23) - 1", (rm, st) -> RvFloat.sub32(0x3f800001, ONE, rm, st), 0x34000000, 0);
    }

    @Test
    void add64() {
        // 0.1 + 0.2: 0x1.999999999999ap-4 + 0x1.999999999999ap-3 = 0x4.cccccccccccce p-4, i.e.
        // 0x1.3333333333333p-2 plus exactly half an ulp (the two bits shifted out are "10").
        // RNE: the last digit 3 is odd, so round up to ...334 (0.30000000000000004); RMM also up;
        // RTZ/RDN keep ...333 (0.29999999999999998); RUP ...334.
        modes("0.1 + 0.2", (rm, st) -> RvFloat.add64(0x3fb999999999999aL, 0x3fc999999999999aL, rm, st), NX,
                0x3fd3333333333334L, 0x3fd3333333333333L, 0x3fd3333333333333L,
                0x3fd3333333333334L, 0x3fd3333333333334L);
        // The same, negated: RDN now goes away from zero.
        modes("-0.1 - 0.2", (rm, st) -> RvFloat.add64(0xbfb999999999999aL, 0xbfc999999999999aL, rm, st), NX,
                0xbfd3333333333334L, 0xbfd3333333333333L, 0xbfd3333333333334L,
                0xbfd3333333333333L, 0xbfd3333333333334L);
        // 2^53 + 1: halfway between 2^53 and 2^53 + 2; RNE keeps the even 2^53.
        modes("2^53 + 1", (rm, st) -> RvFloat.add64(0x4340000000000000L, D_ONE, rm, st), NX,
                0x4340000000000000L, 0x4340000000000000L, 0x4340000000000000L,
                0x4340000000000001L, 0x4340000000000001L);
        // (2^53 + 2) + 1: halfway between 2^53+2 (odd significand) and 2^53+4: RNE rounds up.
        modes("(2^53+2) + 1", (rm, st) -> RvFloat.add64(0x4340000000000001L, D_ONE, rm, st), NX,
                0x4340000000000002L, 0x4340000000000001L, 0x4340000000000001L,
                0x4340000000000002L, 0x4340000000000002L);
        // MAX + 1: the exact sum is barely above MAX. Nearest modes and RTZ/RDN give MAX with NX
        // only (no overflow: the unbounded-exponent result is MAX); RUP rounds to 2^1024 even with
        // an unbounded exponent, so it overflows.
        Call maxPlusOne = (rm, st) -> RvFloat.add64(D_MAX, D_ONE, rm, st);
        expect("MAX + 1", RNE, maxPlusOne, D_MAX, NX);
        expect("MAX + 1", RTZ, maxPlusOne, D_MAX, NX);
        expect("MAX + 1", RDN, maxPlusOne, D_MAX, NX);
        expect("MAX + 1", RMM, maxPlusOne, D_MAX, NX);
        expect("MAX + 1", RUP, maxPlusOne, D_INF, OF | NX);
        // MAX + ulp(MAX) = 2^1024 exactly: every mode overflows (the unbounded result exceeds MAX).
        modes("MAX + 2^971", (rm, st) -> RvFloat.add64(D_MAX, 0x7ca0000000000000L, rm, st), OF | NX,
                D_INF, D_MAX, D_MAX, D_INF, D_INF);
        // Exact cancellation: +0, or -0 under RDN.
        modes("0.1 - 0.1", (rm, st) -> RvFloat.add64(0x3fb999999999999aL, 0xbfb999999999999aL, rm, st), 0,
                D_P0, D_P0, D_N0, D_P0, D_P0);
        // Subnormal + subnormal is exact.
        same("minsub + minsub", (rm, st) -> RvFloat.add64(D_MIN_SUB, D_MIN_SUB, rm, st), 2, 0);
        same("inf - inf", (rm, st) -> RvFloat.sub64(D_INF, D_INF, rm, st), D_QNAN, NV);
        same("sNaN + 0", (rm, st) -> RvFloat.add64(D_SNAN, D_P0, rm, st), D_QNAN, NV);
        same("qNaN(payload) + 0", (rm, st) -> RvFloat.add64(0xfff8000000000abcL, D_P0, rm, st), D_QNAN, 0);
        // 1 - 2^-54 is halfway between 1 - 2^-53 (odd) and 1 (even): nearest gives 1.
        modes("1 - 2^-54", (rm, st) -> RvFloat.sub64(D_ONE, 0x3c90000000000000L, rm, st), NX,
                D_ONE, 0x3fefffffffffffffL, 0x3fefffffffffffffL, D_ONE, D_ONE);
    }

    @Test
    void minusMaxMinusOne() {
        // -MAX - 1 under RDN mirrors MAX + 1 under RUP; under RUP it stays at -MAX with NX only.
        expect("-MAX - 1", RDN, (rm, st) -> RvFloat.sub64(D_MAX | D_N0, D_ONE, rm, st), D_N_INF, OF | NX);
        expect("-MAX - 1", RUP, (rm, st) -> RvFloat.sub64(D_MAX | D_N0, D_ONE, rm, st), D_MAX | D_N0, NX);
    }

    // ------------------------------------------------------------------ mul

    @Test
    void mul32() {
        // (1 + 2^-23)^2 = 1 + 2^-22 + 2^-46: a tiny bit above 1 + 2^-22.
        modes("(1+2^-23)^2", (rm, st) -> RvFloat.mul32(0x3f800001, 0x3f800001, rm, st), NX,
                0x3f800002, 0x3f800002, 0x3f800002, 0x3f800003, 0x3f800002);
        // 3 * fl(1/3) = 3 * 11184811 * 2^-25 = (2^25 + 1) * 2^-25 = 1 + 2^-25: a quarter ulp above 1.
        modes("3 * (1/3)", (rm, st) -> RvFloat.mul32(0x40400000, 0x3eaaaaab, rm, st), NX,
                ONE, ONE, ONE, 0x3f800001, ONE);
        // 2^-149 * 0.5 = 2^-150: halfway between 0 and the smallest subnormal. Tiny and inexact:
        // UF|NX in every mode. RNE picks the even 0; RMM and RUP go up to 2^-149.
        modes("minsub * 0.5", (rm, st) -> RvFloat.mul32(MIN_SUB, HALF, rm, st), UF | NX,
                P0, P0, P0, MIN_SUB, MIN_SUB);
        modes("-minsub * 0.5", (rm, st) -> RvFloat.mul32(MIN_SUB | N0, HALF, rm, st), UF | NX,
                N0, N0, MIN_SUB | N0, N0, MIN_SUB | N0);
        // 2^-126 * (1 - 2^-24) = 2^-126 - 2^-150. With an unbounded exponent this is exact (24
        // bits: 2^-127 * 1.11...1) and below 2^-126, so it is tiny; in the format it is halfway
        // between MAX_SUB (odd) and MIN_NORM (even). RNE gives MIN_NORM but still raises UF, as
        // tininess is judged before the subnormal rounding (after rounding to p bits).
        modes("minnorm * (1-2^-24)", (rm, st) -> RvFloat.mul32(MIN_NORM, 0x3f7fffff, rm, st), UF | NX,
                MIN_NORM, MAX_SUB, MAX_SUB, MIN_NORM, MIN_NORM);
        // (1 - 2^-13) * (2^-126 * (1 + 2^-13)) = 2^-126 * (1 - 2^-26). Rounded to 24 bits with an
        // unbounded exponent this is 2^-126 under RNE/RMM/RUP (a quarter of the 2^-150 spacing
        // away), so those results are not tiny: NX only. RTZ/RDN round to 2^-126 - 2^-150, tiny:
        // the result is MAX_SUB with UF|NX.
        Call c = (rm, st) -> RvFloat.mul32(0x3f7ff800, 0x00800400, rm, st);
        expect("2^-126(1-2^-26)", RNE, c, MIN_NORM, NX);
        expect("2^-126(1-2^-26)", RMM, c, MIN_NORM, NX);
        expect("2^-126(1-2^-26)", RUP, c, MIN_NORM, NX);
        expect("2^-126(1-2^-26)", RTZ, c, MAX_SUB, UF | NX);
        expect("2^-126(1-2^-26)", RDN, c, MAX_SUB, UF | NX);
        // 2^64 * 2^64 = 2^128 overflows.
        modes("2^64 * 2^64", (rm, st) -> RvFloat.mul32(0x5f800000, 0x5f800000, rm, st), OF | NX,
                INF, MAX, MAX, INF, INF);
        // Signs and specials.
        same("-0 * 5", (rm, st) -> RvFloat.mul32(N0, 0x40a00000, rm, st), N0, 0);
        same("0 * inf", (rm, st) -> RvFloat.mul32(P0, INF, rm, st), QNAN, NV);
        same("inf * -2", (rm, st) -> RvFloat.mul32(INF, 0xc0000000, rm, st), N_INF, 0);
        same("sNaN * 0", (rm, st) -> RvFloat.mul32(SNAN, P0, rm, st), QNAN, NV);
        same("qNaN * inf", (rm, st) -> RvFloat.mul32(QNAN_PAYLOAD, INF, rm, st), QNAN, 0);
        same("minsub * 2^23 exact", (rm, st) -> RvFloat.mul32(MIN_SUB, 0x4b000000, rm, st), MIN_NORM, 0);
    }

    @Test
    void mul64() {
        // fl(0.1) * 3 = 0x4.cccccccccccce p-4: the same exact value as 0.1 + 0.2 (0.2 = 2 * 0.1),
        // a tie that RNE breaks upwards to the even ...334.
        modes("0.1 * 3", (rm, st) -> RvFloat.mul64(0x3fb999999999999aL, 0x4008000000000000L, rm, st), NX,
                0x3fd3333333333334L, 0x3fd3333333333333L, 0x3fd3333333333333L,
                0x3fd3333333333334L, 0x3fd3333333333334L);
        // fl(0.1) * 10 = 1 + 2^-54 exactly (3602879701896397 * 10 = 2^55 + 2): a quarter ulp above 1.
        modes("0.1 * 10", (rm, st) -> RvFloat.mul64(0x3fb999999999999aL, 0x4024000000000000L, rm, st), NX,
                D_ONE, D_ONE, D_ONE, 0x3ff0000000000001L, D_ONE);
        // (1 + 2^-52)^2 = 1 + 2^-51 + 2^-104.
        modes("(1+2^-52)^2", (rm, st) -> RvFloat.mul64(0x3ff0000000000001L, 0x3ff0000000000001L, rm, st), NX,
                0x3ff0000000000002L, 0x3ff0000000000002L, 0x3ff0000000000002L,
                0x3ff0000000000003L, 0x3ff0000000000002L);
        // (1 + 2^-26)(1 + 2^-27) = 1 + 2^-26 + 2^-27 + 2^-53: exactly halfway; the even side is
        // 1 + 2^-26 + 2^-27 (last bit 0), RMM goes up.
        modes("(1+2^-26)(1+2^-27)", (rm, st) -> RvFloat.mul64(0x3ff0000004000000L, 0x3ff0000002000000L, rm, st), NX,
                0x3ff0000006000000L, 0x3ff0000006000000L, 0x3ff0000006000000L,
                0x3ff0000006000001L, 0x3ff0000006000001L);
        // 2^-1074 * 0.5 = 2^-1075, halfway between 0 and the smallest subnormal.
        modes("minsub * 0.5", (rm, st) -> RvFloat.mul64(D_MIN_SUB, 0x3fe0000000000000L, rm, st), UF | NX,
                D_P0, D_P0, D_P0, D_MIN_SUB, D_MIN_SUB);
        // 2^-1022 * (1 - 2^-53): exact with p bits and below 2^-1022 (tiny), halfway in the format
        // between the largest subnormal and MIN_NORM: RNE gives MIN_NORM with UF|NX.
        modes("minnorm * (1-2^-53)", (rm, st) -> RvFloat.mul64(D_MIN_NORM, 0x3fefffffffffffffL, rm, st), UF | NX,
                D_MIN_NORM, 0x000fffffffffffffL, 0x000fffffffffffffL, D_MIN_NORM, D_MIN_NORM);
        // 2^512 * 2^512 overflows; -2^512 * 2^512 mirrors it.
        modes("2^512 * 2^512", (rm, st) -> RvFloat.mul64(0x5ff0000000000000L, 0x5ff0000000000000L, rm, st), OF | NX,
                D_INF, D_MAX, D_MAX, D_INF, D_INF);
        modes("-2^512 * 2^512", (rm, st) -> RvFloat.mul64(0xdff0000000000000L, 0x5ff0000000000000L, rm, st), OF | NX,
                D_N_INF, D_MAX | D_N0, D_N_INF, D_MAX | D_N0, D_N_INF);
        // 2^-600 * 2^-600 = 2^-1200, far below the smallest subnormal: 0 or 2^-1074 per direction.
        modes("2^-600 * 2^-600", (rm, st) -> RvFloat.mul64(0x1a70000000000000L, 0x1a70000000000000L, rm, st), UF | NX,
                D_P0, D_P0, D_P0, D_MIN_SUB, D_P0);
        same("0 * -inf", (rm, st) -> RvFloat.mul64(D_P0, D_N_INF, rm, st), D_QNAN, NV);
        same("-0 * -0", (rm, st) -> RvFloat.mul64(D_N0, D_N0, rm, st), D_P0, 0);
    }

    // ------------------------------------------------------------------ div

    @Test
    void div32() {
        // 1/3 = 1.0101...b * 2^-2: the 23 fraction bits are 0101...010 and the rest 1010... is
        // above half: nearest rounds up to 0x3eaaaaab; truncation gives 0x3eaaaaaa.
        modes("1/3", (rm, st) -> RvFloat.div32(ONE, 0x40400000, rm, st), NX,
                0x3eaaaaab, 0x3eaaaaaa, 0x3eaaaaaa, 0x3eaaaaab, 0x3eaaaaab);
        modes("-1/3", (rm, st) -> RvFloat.div32(M_ONE, 0x40400000, rm, st), NX,
                0xbeaaaaab, 0xbeaaaaaa, 0xbeaaaaab, 0xbeaaaaaa, 0xbeaaaaab);
        // 2/3 = 1.0101...b * 2^-1: fraction bits 0101...010 then 1010...: above half again.
        modes("2/3", (rm, st) -> RvFloat.div32(TWO, 0x40400000, rm, st), NX,
                0x3f2aaaab, 0x3f2aaaaa, 0x3f2aaaaa, 0x3f2aaaab, 0x3f2aaaab);
        same("6/3", (rm, st) -> RvFloat.div32(0x40c00000, 0x40400000, rm, st), TWO, 0);
        // Division by zero: DZ and a signed infinity; 0/0 is invalid; inf/0 is an exact inf.
        same("1/0", (rm, st) -> RvFloat.div32(ONE, P0, rm, st), INF, DZ);
        same("1/-0", (rm, st) -> RvFloat.div32(ONE, N0, rm, st), N_INF, DZ);
        same("-1/0", (rm, st) -> RvFloat.div32(M_ONE, P0, rm, st), N_INF, DZ);
        same("0/0", (rm, st) -> RvFloat.div32(P0, N0, rm, st), QNAN, NV);
        same("inf/0", (rm, st) -> RvFloat.div32(INF, P0, rm, st), INF, 0);
        same("inf/inf", (rm, st) -> RvFloat.div32(INF, N_INF, rm, st), QNAN, NV);
        same("1/-inf", (rm, st) -> RvFloat.div32(ONE, N_INF, rm, st), N0, 0);
        same("-0/5", (rm, st) -> RvFloat.div32(N0, 0x40a00000, rm, st), N0, 0);
        same("sNaN/0", (rm, st) -> RvFloat.div32(SNAN, P0, rm, st), QNAN, NV);
        // 2^-149 / 2 = 2^-150: the halfway underflow case again.
        modes("minsub / 2", (rm, st) -> RvFloat.div32(MIN_SUB, TWO, rm, st), UF | NX,
                P0, P0, P0, MIN_SUB, MIN_SUB);
        // MAX / 0.5 = 2 * MAX overflows.
        modes("MAX / 0.5", (rm, st) -> RvFloat.div32(MAX, HALF, rm, st), OF | NX,
                INF, MAX, MAX, INF, INF);
    }

    @Test
    void div64() {
        // 1/3 = 0x3fd5555555555555 under nearest: 52 fraction bits 0101...0101, then 0101...:
        // below half, so truncation and nearest agree; RUP goes to ...556.
        modes("1/3", (rm, st) -> RvFloat.div64(D_ONE, 0x4008000000000000L, rm, st), NX,
                0x3fd5555555555555L, 0x3fd5555555555555L, 0x3fd5555555555555L,
                0x3fd5555555555556L, 0x3fd5555555555555L);
        // 1/10 = 1.1001 1001 ...b * 2^-4: the 52 fraction bits end ...1001 and the rest 1001...
        // is above half: nearest rounds up to the familiar 0x3fb999999999999a.
        modes("1/10", (rm, st) -> RvFloat.div64(D_ONE, 0x4024000000000000L, rm, st), NX,
                0x3fb999999999999aL, 0x3fb9999999999999L, 0x3fb9999999999999L,
                0x3fb999999999999aL, 0x3fb999999999999aL);
        modes("-1/10", (rm, st) -> RvFloat.div64(0xbff0000000000000L, 0x4024000000000000L, rm, st), NX,
                0xbfb999999999999aL, 0xbfb9999999999999L, 0xbfb999999999999aL,
                0xbfb9999999999999L, 0xbfb999999999999aL);
        same("1/0", (rm, st) -> RvFloat.div64(D_ONE, D_P0, rm, st), D_INF, DZ);
        same("-0/0", (rm, st) -> RvFloat.div64(D_N0, D_P0, rm, st), D_QNAN, NV);
        same("-inf/0", (rm, st) -> RvFloat.div64(D_N_INF, D_P0, rm, st), D_N_INF, 0);
        // 2^-1074 / 4 = 2^-1076: below half of the smallest subnormal.
        modes("minsub / 4", (rm, st) -> RvFloat.div64(D_MIN_SUB, 0x4010000000000000L, rm, st), UF | NX,
                D_P0, D_P0, D_P0, D_MIN_SUB, D_P0);
        // 2^1000 / 2^-100 = 2^1100 overflows.
        modes("2^1000 / 2^-100", (rm, st) -> RvFloat.div64(0x7e70000000000000L, 0x39b0000000000000L, rm, st), OF | NX,
                D_INF, D_MAX, D_MAX, D_INF, D_INF);
        // A subnormal quotient that is exact: 2^-1000 / 2^60 = 2^-1060. Exact tiny results do not
        // raise UF.
        same("2^-1000 / 2^60", (rm, st) -> RvFloat.div64(0x0170000000000000L, 0x43b0000000000000L, rm, st),
                1L << 14, 0);
    }

    // ------------------------------------------------------------------ sqrt

    @Test
    void sqrt32() {
        // sqrt(2) = 1.01101010000010011110011 0011...b: the bit after the 23 fraction bits is 0,
        // so nearest truncates to 0x3fb504f3.
        modes("sqrt(2)", (rm, st) -> RvFloat.sqrt32(TWO, rm, st), NX,
                0x3fb504f3, 0x3fb504f3, 0x3fb504f3, 0x3fb504f4, 0x3fb504f3);
        same("sqrt(4)", (rm, st) -> RvFloat.sqrt32(0x40800000, rm, st), TWO, 0);
        same("sqrt(0.25)", (rm, st) -> RvFloat.sqrt32(0x3e800000, rm, st), HALF, 0);
        // sqrt(-0) = -0 and sqrt(+0) = +0, no flags (IEEE 754 5.4.1).
        same("sqrt(-0)", (rm, st) -> RvFloat.sqrt32(N0, rm, st), N0, 0);
        same("sqrt(+0)", (rm, st) -> RvFloat.sqrt32(P0, rm, st), P0, 0);
        same("sqrt(-1)", (rm, st) -> RvFloat.sqrt32(M_ONE, rm, st), QNAN, NV);
        same("sqrt(-minsub)", (rm, st) -> RvFloat.sqrt32(MIN_SUB | N0, rm, st), QNAN, NV);
        same("sqrt(-inf)", (rm, st) -> RvFloat.sqrt32(N_INF, rm, st), QNAN, NV);
        same("sqrt(inf)", (rm, st) -> RvFloat.sqrt32(INF, rm, st), INF, 0);
        same("sqrt(qNaN)", (rm, st) -> RvFloat.sqrt32(QNAN_PAYLOAD, rm, st), QNAN, 0);
        same("sqrt(sNaN)", (rm, st) -> RvFloat.sqrt32(SNAN, rm, st), QNAN, NV);
        // sqrt(2^-149) = sqrt(2) * 2^-75: the sqrt(2) significand with biased exponent 52.
        modes("sqrt(minsub)", (rm, st) -> RvFloat.sqrt32(MIN_SUB, rm, st), NX,
                0x1a3504f3, 0x1a3504f3, 0x1a3504f3, 0x1a3504f4, 0x1a3504f3);
        // sqrt(2^-148) = 2^-74 exactly.
        same("sqrt(2^-148)", (rm, st) -> RvFloat.sqrt32(2, rm, st), 0x1a800000, 0);
    }

    @Test
    void sqrt64() {
        // sqrt(2) = 1.41421356237309504880...; 0x3ff6a09e667f3bcd = 1.41421356237309514547 is
        // the nearest (distance 0.97e-16 vs 1.25e-16 to ...bcc), and it is above the exact value.
        modes("sqrt(2)", (rm, st) -> RvFloat.sqrt64(0x4000000000000000L, rm, st), NX,
                0x3ff6a09e667f3bcdL, 0x3ff6a09e667f3bccL, 0x3ff6a09e667f3bccL,
                0x3ff6a09e667f3bcdL, 0x3ff6a09e667f3bcdL);
        // sqrt(2^-1074) = 2^-537 exactly (biased exponent 486).
        same("sqrt(minsub)", (rm, st) -> RvFloat.sqrt64(D_MIN_SUB, rm, st), 0x1e60000000000000L, 0);
        // sqrt(2^-1073) = sqrt(2) * 2^-537: the sqrt(2) significand again.
        modes("sqrt(2^-1073)", (rm, st) -> RvFloat.sqrt64(2, rm, st), NX,
                0x1e66a09e667f3bcdL, 0x1e66a09e667f3bccL, 0x1e66a09e667f3bccL,
                0x1e66a09e667f3bcdL, 0x1e66a09e667f3bcdL);
        same("sqrt(-0)", (rm, st) -> RvFloat.sqrt64(D_N0, rm, st), D_N0, 0);
        same("sqrt(-2)", (rm, st) -> RvFloat.sqrt64(0xc000000000000000L, rm, st), D_QNAN, NV);
        same("sqrt(9)", (rm, st) -> RvFloat.sqrt64(0x4022000000000000L, rm, st), 0x4008000000000000L, 0);
        same("sqrt(inf)", (rm, st) -> RvFloat.sqrt64(D_INF, rm, st), D_INF, 0);
        same("sqrt(sNaN)", (rm, st) -> RvFloat.sqrt64(D_SNAN, rm, st), D_QNAN, NV);
        // sqrt(MAX) is just below 2^512: 2^512 * (1 - 2^-54 - ...) rounds down to 2^512(1 - 2^-53).
        modes("sqrt(MAX)", (rm, st) -> RvFloat.sqrt64(D_MAX, rm, st), NX,
                0x5fefffffffffffffL, 0x5fefffffffffffffL, 0x5fefffffffffffffL,
                0x5ff0000000000000L, 0x5fefffffffffffffL);
    }

    // ------------------------------------------------------------------ fma

    @Test
    void fma32() {
        // a = 1 + 2^-12: a*a - 1 = 2^-11 + 2^-24 exactly (one rounding, exact result). A separate
        // multiply would first round a*a = 1 + 2^-11 + 2^-24 (a tie) to 1 + 2^-11 and give 2^-11.
        same("a*a - 1", (rm, st) -> RvFloat.fma32(0x3f800800, 0x3f800800, M_ONE, rm, st), 0x3a000400, 0);
        // a*a + 1 = 2 + 2^-11 + 2^-24: the 2^-24 is a quarter ulp in [2, 4).
        modes("a*a + 1", (rm, st) -> RvFloat.fma32(0x3f800800, 0x3f800800, ONE, rm, st), NX,
                0x40000800, 0x40000800, 0x40000800, 0x40000801, 0x40000800);
        // a*a + (-2^-11): 1 + 2^-24, exactly halfway in [1, 2): RNE keeps 1, RMM goes up.
        modes("a*a - 2^-11", (rm, st) -> RvFloat.fma32(0x3f800800, 0x3f800800, 0xba000000, rm, st), NX,
                ONE, ONE, ONE, 0x3f800001, 0x3f800001);
        // Exact zero results: 1*1 - 1 is +0, but -0 under RDN.
        modes("1*1 - 1", (rm, st) -> RvFloat.fma32(ONE, ONE, M_ONE, rm, st), 0, P0, P0, N0, P0, P0);
        // (+0 * 5) + (-0) = +0 + -0: +0, or -0 under RDN. (-0 * 5) + (-0) = -0 in every mode.
        modes("0*5 + -0", (rm, st) -> RvFloat.fma32(P0, 0x40a00000, N0, rm, st), 0, P0, P0, N0, P0, P0);
        same("-0*5 + -0", (rm, st) -> RvFloat.fma32(N0, 0x40a00000, N0, rm, st), N0, 0);
        same("0*5 + 3", (rm, st) -> RvFloat.fma32(P0, 0x40a00000, 0x40400000, rm, st), 0x40400000, 0);
        // RISC-V: inf * 0 + qNaN must raise NV (the product alone is invalid).
        same("inf*0 + qNaN", (rm, st) -> RvFloat.fma32(INF, P0, QNAN, rm, st), QNAN, NV);
        same("0*inf + qNaN", (rm, st) -> RvFloat.fma32(N0, N_INF, QNAN_PAYLOAD, rm, st), QNAN, NV);
        same("inf*0 + 1", (rm, st) -> RvFloat.fma32(INF, P0, ONE, rm, st), QNAN, NV);
        same("inf*1 - inf", (rm, st) -> RvFloat.fma32(INF, ONE, N_INF, rm, st), QNAN, NV);
        same("inf*2 + 1", (rm, st) -> RvFloat.fma32(INF, TWO, ONE, rm, st), INF, 0);
        same("1*1 + -inf", (rm, st) -> RvFloat.fma32(ONE, ONE, N_INF, rm, st), N_INF, 0);
        same("1*1 + qNaN", (rm, st) -> RvFloat.fma32(ONE, ONE, QNAN_PAYLOAD, rm, st), QNAN, 0);
        same("sNaN*1 + 1", (rm, st) -> RvFloat.fma32(SNAN, ONE, ONE, rm, st), QNAN, NV);
        // minsub * 0.5 - minsub = 2^-150 - 2^-149 = -2^-150, a tie between -0 and -minsub: RNE
        // gives -0 (even), RDN/RMM -minsub. Tiny and inexact: UF|NX.
        modes("minsub*0.5 - minsub", (rm, st) -> RvFloat.fma32(MIN_SUB, HALF, MIN_SUB | N0, rm, st), UF | NX,
                N0, N0, MIN_SUB | N0, N0, MIN_SUB | N0);
        // MAX * 2 - MAX = MAX exactly, although MAX * 2 alone would overflow.
        same("MAX*2 - MAX", (rm, st) -> RvFloat.fma32(MAX, TWO, MAX | N0, rm, st), MAX, 0);
    }

    @Test
    void fma64() {
        // fl(0.1) * 10 - 1 = 2^-54 exactly (see mul64), the rounding error of the product.
        same("0.1*10 - 1", (rm, st) -> RvFloat.fma64(0x3fb999999999999aL, 0x4024000000000000L, 0xbff0000000000000L, rm, st),
                0x3c90000000000000L, 0);
        // (1 + 2^-26)(1 + 2^-27) - 2^-26 = 1 + 2^-27 + 2^-53: halfway; 1 + 2^-27 is even.
        modes("(1+2^-26)(1+2^-27) - 2^-26", (rm, st) -> RvFloat.fma64(0x3ff0000004000000L, 0x3ff0000002000000L,
                0xbe50000000000000L, rm, st), NX,
                0x3ff0000002000000L, 0x3ff0000002000000L, 0x3ff0000002000000L,
                0x3ff0000002000001L, 0x3ff0000002000001L);
        // The same with every sign flipped: -(1 + 2^-27 + 2^-53).
        modes("-(1+2^-26)(1+2^-27) + 2^-26", (rm, st) -> RvFloat.fma64(0xbff0000004000000L, 0x3ff0000002000000L,
                0x3e50000000000000L, rm, st), NX,
                0xbff0000002000000L, 0xbff0000002000000L, 0xbff0000002000001L,
                0xbff0000002000000L, 0xbff0000002000001L);
        // 1*1 - 1: +0, or -0 under RDN.
        modes("1*1 - 1", (rm, st) -> RvFloat.fma64(D_ONE, D_ONE, 0xbff0000000000000L, rm, st), 0,
                D_P0, D_P0, D_N0, D_P0, D_P0);
        // (+0 * -5) + +0 = -0 + +0: +0, or -0 under RDN.
        modes("0*-5 + 0", (rm, st) -> RvFloat.fma64(D_P0, 0xc014000000000000L, D_P0, rm, st), 0,
                D_P0, D_P0, D_N0, D_P0, D_P0);
        same("inf*0 + qNaN", (rm, st) -> RvFloat.fma64(D_INF, D_P0, D_QNAN, rm, st), D_QNAN, NV);
        same("0*inf + sNaN", (rm, st) -> RvFloat.fma64(D_P0, D_INF, D_SNAN, rm, st), D_QNAN, NV);
        same("-inf*-1 - inf", (rm, st) -> RvFloat.fma64(D_N_INF, 0xbff0000000000000L, D_N_INF, rm, st), D_QNAN, NV);
        same("1*1 + qNaN", (rm, st) -> RvFloat.fma64(D_ONE, D_ONE, 0x7ff8000000000001L, rm, st), D_QNAN, 0);
        // 2^1000 * 2^100 - 2^1023 overflows (2^1100 - 2^1023 is far above MAX).
        modes("2^1000*2^100 - 2^1023", (rm, st) -> RvFloat.fma64(0x7e70000000000000L, 0x4630000000000000L,
                0xffe0000000000000L, rm, st), OF | NX, D_INF, D_MAX, D_MAX, D_INF, D_INF);
        // 2^1000 * 2^23 - MAX: the product 2^1023 would overflow if rounded up on its own; the sum
        // 2^1023 - (2^1024 - 2^971) = -(2^1023 - 2^971) = -2^1022 * (2 - 2^-51) is exact.
        same("2^1000*2^23 - MAX", (rm, st) -> RvFloat.fma64(0x7e70000000000000L, 0x4160000000000000L,
                D_MAX | D_N0, rm, st), 0xffdffffffffffffeL, 0);
        // minsub * 0.5 + minsub = 1.5 * 2^-1074: halfway between 2^-1074 and 2^-1073 (even).
        modes("minsub*0.5 + minsub", (rm, st) -> RvFloat.fma64(D_MIN_SUB, 0x3fe0000000000000L, D_MIN_SUB, rm, st),
                UF | NX, 2, 1, 1, 2, 2);
    }

    // ------------------------------------------------------------------ min / max / compare / classify

    @Test
    void minMax() {
        FpStatus st = new FpStatus();
        // -0 is smaller than +0 for fmin/fmax, in either operand order.
        assertEquals(N0, RvFloat.min32(P0, N0, st));
        assertEquals(N0, RvFloat.min32(N0, P0, st));
        assertEquals(P0, RvFloat.max32(N0, P0, st));
        assertEquals(P0, RvFloat.max32(P0, N0, st));
        assertEquals(D_N0, RvFloat.min64(D_P0, D_N0, st));
        assertEquals(D_P0, RvFloat.max64(D_N0, D_P0, st));
        assertEquals(0, st.flags);
        // Ordinary values, infinities.
        assertEquals(M_ONE, RvFloat.min32(ONE, M_ONE, st));
        assertEquals(TWO, RvFloat.max32(TWO, ONE, st));
        assertEquals(N_INF, RvFloat.min32(N_INF, MAX | N0, st));
        assertEquals(0xc000000000000000L, RvFloat.min64(0xbff0000000000000L, 0xc000000000000000L, st));
        assertEquals(0, st.flags);
        // A single quiet NaN is ignored, without flags.
        assertEquals(ONE, RvFloat.min32(QNAN_PAYLOAD, ONE, st));
        assertEquals(ONE, RvFloat.max32(ONE, QNAN, st));
        assertEquals(D_ONE, RvFloat.max64(D_QNAN, D_ONE, st));
        assertEquals(0, st.flags);
        // A signaling NaN is also ignored, but raises NV.
        assertEquals(ONE, RvFloat.min32(SNAN, ONE, st));
        assertEquals(NV, st.flags);
        st.flags = 0;
        assertEquals(D_N_INF, RvFloat.max64(D_N_INF, D_SNAN, st));
        assertEquals(NV, st.flags);
        st.flags = 0;
        // Two NaNs give the canonical NaN (payloads are never propagated).
        assertEquals(QNAN, RvFloat.min32(QNAN_PAYLOAD, 0xffc00456, st));
        assertEquals(0, st.flags);
        assertEquals(D_QNAN, RvFloat.max64(D_SNAN, 0x7ff8000000000123L, st));
        assertEquals(NV, st.flags);
    }

    @Test
    void compare() {
        FpStatus st = new FpStatus();
        // -0 == +0; neither is less than the other.
        assertEquals(true, RvFloat.eq32(N0, P0, st));
        assertEquals(false, RvFloat.lt32(N0, P0, st));
        assertEquals(true, RvFloat.le32(P0, N0, st));
        assertEquals(true, RvFloat.eq64(D_P0, D_N0, st));
        assertEquals(true, RvFloat.lt32(N_INF, INF, st));
        assertEquals(false, RvFloat.lt32(ONE, ONE, st));
        assertEquals(true, RvFloat.le32(ONE, ONE, st));
        assertEquals(false, RvFloat.lt32(MIN_SUB, P0, st));
        assertEquals(true, RvFloat.lt64(D_MIN_SUB | D_N0, D_P0, st));
        assertEquals(0, st.flags);
        // feq is quiet: a quiet NaN gives false with no flags; a signaling NaN raises NV.
        assertEquals(false, RvFloat.eq32(QNAN, QNAN, st));
        assertEquals(false, RvFloat.eq64(D_QNAN, D_ONE, st));
        assertEquals(0, st.flags);
        assertEquals(false, RvFloat.eq32(SNAN, ONE, st));
        assertEquals(NV, st.flags);
        // flt/fle are signaling: any NaN raises NV.
        st.flags = 0;
        assertEquals(false, RvFloat.lt32(QNAN, ONE, st));
        assertEquals(NV, st.flags);
        st.flags = 0;
        assertEquals(false, RvFloat.le64(D_ONE, D_QNAN, st));
        assertEquals(NV, st.flags);
        st.flags = 0;
        assertEquals(false, RvFloat.le32(QNAN, QNAN, st));
        assertEquals(NV, st.flags);
    }

    @Test
    void classify() {
        int[][] cases32 = {
            {N_INF, 1 << 0}, {M_ONE, 1 << 1}, {MAX_SUB | N0, 1 << 2}, {N0, 1 << 3}, {P0, 1 << 4},
            {MIN_SUB, 1 << 5}, {MIN_NORM, 1 << 6}, {INF, 1 << 7}, {SNAN, 1 << 8}, {0xffbfffff, 1 << 8},
            {QNAN, 1 << 9}, {0xffc00001, 1 << 9}, {MAX | N0, 1 << 1},
        };
        for (int[] c : cases32) {
            assertEquals(c[1], RvFloat.classify32(c[0]), Integer.toHexString(c[0]));
        }
        long[][] cases64 = {
            {D_N_INF, 1 << 0}, {0xbff0000000000000L, 1 << 1}, {D_MIN_SUB | D_N0, 1 << 2},
            {D_N0, 1 << 3}, {D_P0, 1 << 4}, {0x000fffffffffffffL, 1 << 5}, {D_MIN_NORM, 1 << 6},
            {D_INF, 1 << 7}, {D_SNAN, 1 << 8}, {0x7ff7ffffffffffffL, 1 << 8}, {D_QNAN, 1 << 9},
            {0xfff8000000000000L, 1 << 9},
        };
        for (long[] c : cases64) {
            assertEquals(c[1], RvFloat.classify64(c[0]), Long.toHexString(c[0]));
        }
    }

    // ------------------------------------------------------------------ conversions

    @Test
    void floatToInt32() {
        // fcvt.w.s of 2^31: one past INT_MAX: NV, saturate to 0x7fffffff. -2^31 is exact.
        same("w.s(2^31)", (rm, st) -> RvFloat.cvtF32ToI32(0x4f000000, rm, st), 0x7fffffff, NV);
        same("w.s(-2^31)", (rm, st) -> RvFloat.cvtF32ToI32(0xcf000000, rm, st), Integer.MIN_VALUE, 0);
        same("w.s(NaN)", (rm, st) -> RvFloat.cvtF32ToI32(0xffc00000, rm, st), 0x7fffffff, NV);
        same("w.s(-inf)", (rm, st) -> RvFloat.cvtF32ToI32(N_INF, rm, st), Integer.MIN_VALUE, NV);
        same("w.s(inf)", (rm, st) -> RvFloat.cvtF32ToI32(INF, rm, st), 0x7fffffff, NV);
        // Ties: 2.5 -> 2 (even) or 3 (away); -2.5 -> -2 or -3; 0.5 -> 0 or 1; 1.5 -> 2 both ways.
        modes("w.s(2.5)", (rm, st) -> RvFloat.cvtF32ToI32(0x40200000, rm, st), NX, 2, 2, 2, 3, 3);
        modes("w.s(-2.5)", (rm, st) -> RvFloat.cvtF32ToI32(0xc0200000, rm, st), NX, -2, -2, -3, -2, -3);
        modes("w.s(0.5)", (rm, st) -> RvFloat.cvtF32ToI32(HALF, rm, st), NX, 0, 0, 0, 1, 1);
        modes("w.s(1.5)", (rm, st) -> RvFloat.cvtF32ToI32(0x3fc00000, rm, st), NX, 2, 1, 1, 2, 2);
        modes("w.s(-0.25)", (rm, st) -> RvFloat.cvtF32ToI32(0xbe800000, rm, st), NX, 0, 0, -1, 0, 0);
        same("w.s(-0)", (rm, st) -> RvFloat.cvtF32ToI32(N0, rm, st), 0, 0);
        // The largest float below 2^31 is 2^31 - 128: exact.
        same("w.s(2^31-128)", (rm, st) -> RvFloat.cvtF32ToI32(0x4effffff, rm, st), 0x7fffff80, 0);
        // fcvt.wu.s of -1.0: negative results are out of range: NV, 0.
        same("wu.s(-1)", (rm, st) -> RvFloat.cvtF32ToU32(M_ONE, rm, st), 0, NV);
        // fcvt.wu.s of -0.25: rounds to -0 = 0 (in range, NX) except RDN, which gives -1: NV, 0.
        for (int rm : new int[] {RNE, RTZ, RUP, RMM}) {
            expect("wu.s(-0.25)", rm, (m, st) -> RvFloat.cvtF32ToU32(0xbe800000, m, st), 0, NX);
        }
        expect("wu.s(-0.25)", RDN, (rm, st) -> RvFloat.cvtF32ToU32(0xbe800000, rm, st), 0, NV);
        // fcvt.wu.s of -0.5: RNE ties to 0 (NX); RMM ties away to -1 (NV).
        expect("wu.s(-0.5)", RNE, (rm, st) -> RvFloat.cvtF32ToU32(0xbf000000, rm, st), 0, NX);
        expect("wu.s(-0.5)", RMM, (rm, st) -> RvFloat.cvtF32ToU32(0xbf000000, rm, st), 0, NV);
        same("wu.s(NaN)", (rm, st) -> RvFloat.cvtF32ToU32(SNAN, rm, st), 0xffffffff, NV);
        same("wu.s(-inf)", (rm, st) -> RvFloat.cvtF32ToU32(N_INF, rm, st), 0, NV);
        same("wu.s(2^32)", (rm, st) -> RvFloat.cvtF32ToU32(0x4f800000, rm, st), 0xffffffff, NV);
        same("wu.s(2^32-256)", (rm, st) -> RvFloat.cvtF32ToU32(0x4f7fffff, rm, st), 0xffffff00, 0);
        same("wu.s(2^31)", (rm, st) -> RvFloat.cvtF32ToU32(0x4f000000, rm, st), 0x80000000, 0);
    }

    @Test
    void doubleToInt() {
        // 2147483647.5: RNE ties to the even 2^31, which is out of range (NV, no NX); truncation
        // gives INT_MAX with NX.
        expect("w.d(2^31-0.5)", RTZ, (rm, st) -> RvFloat.cvtF64ToI32(0x41dfffffffe00000L, rm, st), 0x7fffffff, NX);
        expect("w.d(2^31-0.5)", RDN, (rm, st) -> RvFloat.cvtF64ToI32(0x41dfffffffe00000L, rm, st), 0x7fffffff, NX);
        expect("w.d(2^31-0.5)", RNE, (rm, st) -> RvFloat.cvtF64ToI32(0x41dfffffffe00000L, rm, st), 0x7fffffff, NV);
        expect("w.d(2^31-0.5)", RUP, (rm, st) -> RvFloat.cvtF64ToI32(0x41dfffffffe00000L, rm, st), 0x7fffffff, NV);
        expect("w.d(2^31-0.5)", RMM, (rm, st) -> RvFloat.cvtF64ToI32(0x41dfffffffe00000L, rm, st), 0x7fffffff, NV);
        // -2147483648.5: RNE ties to the even -2^31 (in range, NX); RDN and RMM give -2^31 - 1.
        expect("w.d(-2^31-0.5)", RNE, (rm, st) -> RvFloat.cvtF64ToI32(0xc1e0000000100000L, rm, st), Integer.MIN_VALUE, NX);
        expect("w.d(-2^31-0.5)", RTZ, (rm, st) -> RvFloat.cvtF64ToI32(0xc1e0000000100000L, rm, st), Integer.MIN_VALUE, NX);
        expect("w.d(-2^31-0.5)", RDN, (rm, st) -> RvFloat.cvtF64ToI32(0xc1e0000000100000L, rm, st), Integer.MIN_VALUE, NV);
        expect("w.d(-2^31-0.5)", RMM, (rm, st) -> RvFloat.cvtF64ToI32(0xc1e0000000100000L, rm, st), Integer.MIN_VALUE, NV);
        // 4294967295.5 to unsigned: truncation gives 0xffffffff (NX); nearest ties to 2^32 (NV).
        expect("wu.d(2^32-0.5)", RTZ, (rm, st) -> RvFloat.cvtF64ToU32(0x41efffffffff0000L, rm, st), 0xffffffff, NX);
        expect("wu.d(2^32-0.5)", RNE, (rm, st) -> RvFloat.cvtF64ToU32(0x41efffffffff0000L, rm, st), 0xffffffff, NV);
        // fcvt.l.d of 2^63: NV, LONG_MAX; -2^63 is exact; the next double below -2^63 is NV.
        same("l.d(2^63)", (rm, st) -> RvFloat.cvtF64ToI64(0x43e0000000000000L, rm, st), Long.MAX_VALUE, NV);
        same("l.d(-2^63)", (rm, st) -> RvFloat.cvtF64ToI64(0xc3e0000000000000L, rm, st), Long.MIN_VALUE, 0);
        same("l.d(-2^63-2^11)", (rm, st) -> RvFloat.cvtF64ToI64(0xc3e0000000000001L, rm, st), Long.MIN_VALUE, NV);
        same("l.d(2^63-2^10)", (rm, st) -> RvFloat.cvtF64ToI64(0x43dfffffffffffffL, rm, st), 0x7ffffffffffffc00L, 0);
        same("l.d(NaN)", (rm, st) -> RvFloat.cvtF64ToI64(D_QNAN, rm, st), Long.MAX_VALUE, NV);
        // fcvt.lu.d: 2^64 - 2^11 is the largest double below 2^64: exact. 2^64 is NV.
        same("lu.d(2^64-2^11)", (rm, st) -> RvFloat.cvtF64ToU64(0x43efffffffffffffL, rm, st), 0xfffffffffffff800L, 0);
        same("lu.d(2^64)", (rm, st) -> RvFloat.cvtF64ToU64(0x43f0000000000000L, rm, st), -1L, NV);
        same("lu.d(-1)", (rm, st) -> RvFloat.cvtF64ToU64(0xbff0000000000000L, rm, st), 0, NV);
        same("lu.d(-inf)", (rm, st) -> RvFloat.cvtF64ToU64(D_N_INF, rm, st), 0, NV);
        same("lu.d(NaN)", (rm, st) -> RvFloat.cvtF64ToU64(D_SNAN, rm, st), -1L, NV);
        modes("lu.d(2.5)", (rm, st) -> RvFloat.cvtF64ToU64(0x4004000000000000L, rm, st), NX, 2, 2, 2, 3, 3);
        // Tiny values: 2^-1074 rounds to 0 or (RUP) 1.
        modes("l.d(minsub)", (rm, st) -> RvFloat.cvtF64ToI64(D_MIN_SUB, rm, st), NX, 0, 0, 0, 1, 0);
        modes("l.d(-minsub)", (rm, st) -> RvFloat.cvtF64ToI64(D_MIN_SUB | D_N0, rm, st), NX, 0, 0, -1, 0, 0);
        // fcvt.l.s / fcvt.lu.s of 2^63 (0x5f000000): NV for signed, exact for unsigned.
        same("l.s(2^63)", (rm, st) -> RvFloat.cvtF32ToI64(0x5f000000, rm, st), Long.MAX_VALUE, NV);
        same("lu.s(2^63)", (rm, st) -> RvFloat.cvtF32ToU64(0x5f000000, rm, st), Long.MIN_VALUE, 0);
        same("l.s(-2^63)", (rm, st) -> RvFloat.cvtF32ToI64(0xdf000000, rm, st), Long.MIN_VALUE, 0);
    }

    @Test
    void intToFloat() {
        // 2^24 + 1 needs 25 bits: halfway between 2^24 and 2^24 + 2 (0x4b800001).
        modes("s.w(2^24+1)", (rm, st) -> RvFloat.cvtI32ToF32(16777217, rm, st), NX,
                0x4b800000, 0x4b800000, 0x4b800000, 0x4b800001, 0x4b800001);
        modes("s.w(-(2^24+1))", (rm, st) -> RvFloat.cvtI32ToF32(-16777217, rm, st), NX,
                0xcb800000, 0xcb800000, 0xcb800001, 0xcb800000, 0xcb800001);
        // 2^24 + 3: halfway between 2^24 + 2 (odd significand) and 2^24 + 4: RNE rounds up.
        modes("s.w(2^24+3)", (rm, st) -> RvFloat.cvtI32ToF32(16777219, rm, st), NX,
                0x4b800002, 0x4b800001, 0x4b800001, 0x4b800002, 0x4b800002);
        same("s.w(0)", (rm, st) -> RvFloat.cvtI32ToF32(0, rm, st), P0, 0);
        same("s.w(INT_MIN)", (rm, st) -> RvFloat.cvtI32ToF32(Integer.MIN_VALUE, rm, st), 0xcf000000, 0);
        // 0xffffffff = 2^32 - 1 unsigned: nearest rounds up to 2^32.
        modes("s.wu(2^32-1)", (rm, st) -> RvFloat.cvtU32ToF32(0xffffffff, rm, st), NX,
                0x4f800000, 0x4f7fffff, 0x4f7fffff, 0x4f800000, 0x4f800000);
        same("s.l(LONG_MIN)", (rm, st) -> RvFloat.cvtI64ToF32(Long.MIN_VALUE, rm, st), 0xdf000000, 0);
        // 2^63 + 2^39 = 2^63 (1 + 2^-24): a tie. 2^63 + 2^39 + 1: the low bit (below the 63 bits
        // kept when halving a 64-bit magnitude) breaks the tie upwards.
        modes("s.lu(2^63+2^39)", (rm, st) -> RvFloat.cvtU64ToF32(0x8000008000000000L, rm, st), NX,
                0x5f000000, 0x5f000000, 0x5f000000, 0x5f000001, 0x5f000001);
        modes("s.lu(2^63+2^39+1)", (rm, st) -> RvFloat.cvtU64ToF32(0x8000008000000001L, rm, st), NX,
                0x5f000001, 0x5f000000, 0x5f000000, 0x5f000001, 0x5f000001);
        // 2^53 + 1 to double: a tie, like 2^24 + 1 for float.
        modes("d.l(2^53+1)", (rm, st) -> RvFloat.cvtI64ToF64((1L << 53) + 1, rm, st), NX,
                0x4340000000000000L, 0x4340000000000000L, 0x4340000000000000L,
                0x4340000000000001L, 0x4340000000000001L);
        // 2^64 - 1 unsigned: nearest gives 2^64; truncation 2^64 - 2^11.
        modes("d.lu(2^64-1)", (rm, st) -> RvFloat.cvtU64ToF64(-1L, rm, st), NX,
                0x43f0000000000000L, 0x43efffffffffffffL, 0x43efffffffffffffL,
                0x43f0000000000000L, 0x43f0000000000000L);
        // 32-bit integers always fit in a double.
        same("d.w(-1)", (rm, st) -> RvFloat.cvtI32ToF64(-1, rm, st), 0xbff0000000000000L, 0);
        same("d.wu(0xffffffff)", (rm, st) -> RvFloat.cvtU32ToF64(-1, rm, st), 0x41efffffffe00000L, 0);
        same("d.w(INT_MIN)", (rm, st) -> RvFloat.cvtI32ToF64(Integer.MIN_VALUE, rm, st), 0xc1e0000000000000L, 0);
    }

    @Test
    void floatToFloat() {
        // fl64(0.1) to float: 1.10011001100110011001100 | 1100...b * 2^-4: above half, so nearest
        // rounds up to 0x3dcccccd.
        modes("s.d(0.1)", (rm, st) -> RvFloat.cvtF64ToF32(0x3fb999999999999aL, rm, st), NX,
                0x3dcccccd, 0x3dcccccc, 0x3dcccccc, 0x3dcccccd, 0x3dcccccd);
        modes("s.d(1e300)", (rm, st) -> RvFloat.cvtF64ToF32(0x7e37e43c8800759cL, rm, st), OF | NX,
                INF, MAX, MAX, INF, INF);
        // 2^-150: halfway between 0 and the smallest float subnormal.
        modes("s.d(2^-150)", (rm, st) -> RvFloat.cvtF64ToF32(0x3690000000000000L, rm, st), UF | NX,
                P0, P0, P0, MIN_SUB, MIN_SUB);
        // The smallest double: far below; only RUP gives the smallest float subnormal.
        modes("s.d(2^-1074)", (rm, st) -> RvFloat.cvtF64ToF32(D_MIN_SUB, rm, st), UF | NX,
                P0, P0, P0, MIN_SUB, P0);
        // 2^-126 (1 - 2^-25): with 24 bits and an unbounded exponent it is a tie between
        // 2^-126 - 2^-150 (odd) and 2^-126 (even); RNE/RMM round to 2^-126, so it is not tiny: NX
        // only, result MIN_NORM. RTZ/RDN give MAX_SUB and are tiny: UF|NX.
        Call c = (rm, st) -> RvFloat.cvtF64ToF32(0x380ffffff0000000L, rm, st);
        expect("s.d(2^-126(1-2^-25))", RNE, c, MIN_NORM, NX);
        expect("s.d(2^-126(1-2^-25))", RMM, c, MIN_NORM, NX);
        expect("s.d(2^-126(1-2^-25))", RUP, c, MIN_NORM, NX);
        expect("s.d(2^-126(1-2^-25))", RTZ, c, MAX_SUB, UF | NX);
        expect("s.d(2^-126(1-2^-25))", RDN, c, MAX_SUB, UF | NX);
        // 2^-126 (1 - 2^-24) is exact with 24 bits and tiny; in the format it is halfway between
        // MAX_SUB and MIN_NORM: UF|NX in every mode.
        modes("s.d(2^-126(1-2^-24))", (rm, st) -> RvFloat.cvtF64ToF32(0x380fffffe0000000L, rm, st), UF | NX,
                MIN_NORM, MAX_SUB, MAX_SUB, MIN_NORM, MIN_NORM);
        same("s.d(sNaN)", (rm, st) -> RvFloat.cvtF64ToF32(D_SNAN, rm, st), QNAN, NV);
        same("s.d(qNaN payload)", (rm, st) -> RvFloat.cvtF64ToF32(0x7ff8000000000123L, rm, st), QNAN, 0);
        same("s.d(-inf)", (rm, st) -> RvFloat.cvtF64ToF32(D_N_INF, rm, st), N_INF, 0);
        same("s.d(-0)", (rm, st) -> RvFloat.cvtF64ToF32(D_N0, rm, st), N0, 0);
        // Widening is exact: the smallest float subnormal is 2^-149 (biased exponent 874).
        FpStatus st = new FpStatus();
        assertEquals(0x36a0000000000000L, RvFloat.cvtF32ToF64(MIN_SUB, st));
        assertEquals(D_N0, RvFloat.cvtF32ToF64(N0, st));
        assertEquals(0x3ff0000000000000L, RvFloat.cvtF32ToF64(ONE, st));
        assertEquals(0x47efffffe0000000L, RvFloat.cvtF32ToF64(MAX, st));
        assertEquals(D_QNAN, RvFloat.cvtF32ToF64(QNAN_PAYLOAD, st));
        assertEquals(0, st.flags);
        assertEquals(D_QNAN, RvFloat.cvtF32ToF64(SNAN, st));
        assertEquals(NV, st.flags);
    }

    /**
     * Cases aimed at the fast paths' blind spots, where computing in Java doubles without an
     * exact residual would silently lose information.
     */
    @Test
    void fastPathBlindSpots() {
        // 2^60 - 2^-40 in binary32: the double sum rounds to exactly 2^60, so a naive double
        // computation looks exact. The true value is just below 2^60: NX, and RTZ/RDN must give
        // the float below 2^60 (0x5d7fffff).
        modes("2^60 - 2^-40", (rm, st) -> RvFloat.add32(0x5d800000, 0xab800000, rm, st), NX,
                0x5d800000, 0x5d7fffff, 0x5d7fffff, 0x5d800000, 0x5d800000);
        // (1 + 2^-52) * 2^-1000 (1 + 2^-52) = 2^-1000 (1 + 2^-51 + 2^-104): normal, not tiny, but
        // the product's rounding error 2^-1104 is below the smallest subnormal, so Math.fma cannot
        // represent it; the result must still be NX, and RUP must step up.
        modes("(1+2^-52) * 2^-1000(1+2^-52)", (rm, st) -> RvFloat.mul64(0x3ff0000000000001L, 0x0170000000000001L, rm, st), NX,
                0x0170000000000002L, 0x0170000000000002L, 0x0170000000000002L,
                0x0170000000000003L, 0x0170000000000002L);
        // 2^-1021 (1 + 2^-52) / (1.5 * 2^-1021) = (2/3)(1 + 2^-52). With D = 0x3fe5555555555555
        // (2/3 = D + ulp/3), the quotient is D + (5/3) ulp: nearest gives D + 2 ulp, truncation
        // D + 1 ulp. The remainder x - q*y is about -2^-1075, below the smallest subnormal.
        modes("2^-1021(1+2^-52) / 1.5*2^-1021", (rm, st) -> RvFloat.div64(0x0020000000000001L, 0x0028000000000000L, rm, st), NX,
                0x3fe5555555555557L, 0x3fe5555555555556L, 0x3fe5555555555556L,
                0x3fe5555555555557L, 0x3fe5555555555557L);
    }

    @Test
    void flagsAccumulate() {
        // Flags are sticky: operations OR into the status and never clear it.
        FpStatus st = new FpStatus();
        RvFloat.div32(ONE, P0, RNE, st);
        RvFloat.add32(ONE, 0x33800000, RNE, st);
        RvFloat.add32(ONE, ONE, RNE, st);
        assertEquals(DZ | NX, st.flags);
    }
}
