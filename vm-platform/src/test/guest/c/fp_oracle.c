/*
 * fp_oracle: a deterministic list of IEEE-754 operations, printed one per
 * line as
 *
 *     op mode a b -> result flags
 *
 * with operands and results as hex bit patterns and the exception flags
 * (fetestexcept after feclearexcept) as the fixed string "NV DZ OF UF NX",
 * absent flags written "--".  Any NaN result is printed as "nan": x86 and
 * RISC-V legitimately differ in NaN payloads and signs, and that is the only
 * normalisation.
 *
 * The same source is built for the host (x86-64, SSE arithmetic, glibc) and
 * for the RISC-V guest (picolibc).  Both must print byte-identical output.
 *
 * Build with -O0 -frounding-math -ffp-contract=off -fno-math-errno so that
 * the compiler neither folds, reorders, contracts nor wraps the operations.
 * Rounding modes: the four C ones (RISC-V RMM has no C equivalent; the
 * assembly test rvfd.S covers it).  Float -> int conversions are only done
 * where C defines them (in range); rvfd.S covers saturation.
 */
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifndef FP_ORACLE_RANDOM_CASES
#define FP_ORACLE_RANDOM_CASES 32
#endif

static const struct {
    int mode;
    const char *name;
} modes[] = {
    {FE_TONEAREST, "rne"},
    {FE_UPWARD, "rup"},
    {FE_DOWNWARD, "rdn"},
    {FE_TOWARDZERO, "rtz"},
};
#define NMODES ((int)(sizeof(modes) / sizeof(modes[0])))

static unsigned long lines;

/* ---- output ------------------------------------------------------------ */

static char line[256];
static int pos;

static void put_str(const char *s)
{
    while (*s) {
        line[pos++] = *s++;
    }
}

static void put_hex(uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--) {
        line[pos++] = "0123456789abcdef"[(v >> (4 * i)) & 0xf];
    }
}

static void put_flags(int f)
{
    put_str(f & FE_INVALID ? " NV" : " --");
    put_str(f & FE_DIVBYZERO ? " DZ" : " --");
    put_str(f & FE_OVERFLOW ? " OF" : " --");
    put_str(f & FE_UNDERFLOW ? " UF" : " --");
    put_str(f & FE_INEXACT ? " NX" : " --");
}

static void begin(const char *op, const char *mode)
{
    pos = 0;
    put_str(op);
    put_str(" ");
    put_str(mode);
}

static void end_line(void)
{
    line[pos++] = '\n';
    line[pos] = 0;
    fputs(line, stdout);
    lines++;
}

/* ---- bit casts ---------------------------------------------------------- */

static double d_of(uint64_t b) { double d; memcpy(&d, &b, 8); return d; }
static float f_of(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }
static uint64_t bits_d(double d) { uint64_t b; memcpy(&b, &d, 8); return b; }
static uint32_t bits_f(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }

static void put_d(double d)
{
    put_str(" ");
    if (d != d) {
        put_str("nan");
    } else {
        put_hex(bits_d(d), 16);
    }
}

static void put_f(float f)
{
    put_str(" ");
    if (f != f) {
        put_str("nan");
    } else {
        put_hex(bits_f(f), 8);
    }
}

static void put_arg_d(uint64_t b) { put_str(" "); put_hex(b, 16); }
static void put_arg_f(uint32_t b) { put_str(" "); put_hex(b, 8); }

static int is_nan_d(uint64_t b) { return ((b >> 52) & 0x7ff) == 0x7ff && (b & 0xfffffffffffffULL) != 0; }
static int is_nan_f(uint32_t b) { return ((b >> 23) & 0xff) == 0xff && (b & 0x7fffff) != 0; }
static int is_inf_d(uint64_t b) { return (b & 0x7fffffffffffffffULL) == 0x7ff0000000000000ULL; }
static int is_inf_f(uint32_t b) { return (b & 0x7fffffff) == 0x7f800000; }
static int is_zero_d(uint64_t b) { return (b & 0x7fffffffffffffffULL) == 0; }
static int is_zero_f(uint32_t b) { return (b & 0x7fffffff) == 0; }

/* ---- operand tables ----------------------------------------------------- */

static const uint64_t dvals[] = {
    0x0000000000000000ULL, /* +0 */
    0x8000000000000000ULL, /* -0 */
    0x0000000000000001ULL, /* min subnormal */
    0x000fffffffffffffULL, /* max subnormal */
    0x0010000000000000ULL, /* min normal */
    0x8010000000000001ULL, /* -(min normal + ulp) */
    0x3ff0000000000000ULL, /* 1 */
    0xbff0000000000000ULL, /* -1 */
    0x3ff0000000000001ULL, /* 1 + ulp */
    0x3fefffffffffffffULL, /* 1 - ulp/2 */
    0x3fb999999999999aULL, /* 0.1 */
    0x3fd5555555555555ULL, /* 1/3 */
    0x4008000000000000ULL, /* 3 */
    0x3ca0000000000000ULL, /* 2^-53: half an ulp of 1 */
    0x4330000000000001ULL, /* 2^52 + 1 */
    0x7fefffffffffffffULL, /* max finite */
    0x7fe0000000000000ULL, /* 2^1023 */
    0x7ff0000000000000ULL, /* +inf */
    0xfff0000000000000ULL, /* -inf */
    0x7ff8000000000000ULL, /* qNaN */
    0x7ff0000000000001ULL, /* sNaN */
};
#define NDVALS ((int)(sizeof(dvals) / sizeof(dvals[0])))

static const uint32_t fvals[] = {
    0x00000000, 0x80000000, 0x00000001, 0x007fffff, 0x00800000, 0x80800001,
    0x3f800000, 0xbf800000, 0x3f800001, 0x3f7fffff, 0x3dcccccd, 0x3eaaaaab,
    0x40400000, 0x33800000, 0x4b000001, 0x7f7fffff, 0x7f000000, 0x7f800000,
    0xff800000, 0x7fc00000, 0x7f800001,
};
#define NFVALS ((int)(sizeof(fvals) / sizeof(fvals[0])))

/* subset for the three-operand fma */
static const uint64_t dfma[] = {
    0x0000000000000000ULL, 0x8000000000000000ULL, 0x0010000000000000ULL,
    0x3ff0000000000001ULL, 0xbfd5555555555555ULL, 0x7fefffffffffffffULL,
    0x7ff0000000000000ULL, 0x7ff8000000000000ULL,
};
#define NDFMA ((int)(sizeof(dfma) / sizeof(dfma[0])))
static const uint32_t ffma[] = {
    0x00000000, 0x80000000, 0x00800000, 0x3f800001, 0xbeaaaaab, 0x7f7fffff,
    0x7f800000, 0x7fc00000,
};
#define NFFMA ((int)(sizeof(ffma) / sizeof(ffma[0])))

/* integers for int -> fp conversions */
static const int64_t ivals[] = {
    0, 1, -1, 3, -7, 16777217, -16777217, 16777219, 2147483647, -2147483647 - 1,
    9007199254740993LL, -9007199254740993LL, 9007199254740995LL,
    4611686018427387903LL, 0x7fffffffffffffffLL, -0x7fffffffffffffffLL - 1,
    0x123456789abcdef0LL, 0x0000000001000003LL, 0x4000004000000001LL,
};
#define NIVALS ((int)(sizeof(ivals) / sizeof(ivals[0])))

/* ---- deterministic pseudo-random operands ------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dULL;
}

/* random finite double: random mantissa and sign, exponent mostly moderate,
   sometimes near the subnormal or overflow range */
static uint64_t rand_d(void)
{
    uint64_t r = rng();
    uint64_t sign = r & 0x8000000000000000ULL;
    uint64_t mant = rng() & 0xfffffffffffffULL;
    int sel = (int)(r & 7);
    uint64_t exp;
    if (sel == 0) {
        exp = (r >> 8) % 60;                       /* subnormal / tiny */
    } else if (sel == 1) {
        exp = 2046 - (r >> 8) % 40;                /* huge */
    } else {
        exp = 1023 - 40 + (r >> 8) % 80;           /* moderate */
    }
    return sign | (exp << 52) | mant;
}

static uint32_t rand_f(void)
{
    uint64_t r = rng();
    uint32_t sign = (uint32_t)(r >> 32) & 0x80000000u;
    uint32_t mant = (uint32_t)rng() & 0x7fffff;
    int sel = (int)(r & 7);
    uint32_t exp;
    if (sel == 0) {
        exp = (uint32_t)((r >> 8) % 30);
    } else if (sel == 1) {
        exp = 254 - (uint32_t)((r >> 8) % 20);
    } else {
        exp = 127 - 20 + (uint32_t)((r >> 8) % 40);
    }
    return sign | (exp << 23) | mant;
}

/* ---- double operations -------------------------------------------------- */

static void op2_d(const char *op, int m, uint64_t ab, uint64_t bb)
{
    volatile double a = d_of(ab), b = d_of(bb);
    volatile double r;
    feclearexcept(FE_ALL_EXCEPT);
    switch (op[0]) {
    case 'a': r = a + b; break;
    case 's': r = a - b; break;
    case 'm': r = a * b; break;
    default:  r = a / b; break;
    }
    int fl = fetestexcept(FE_ALL_EXCEPT);
    begin(op, modes[m].name);
    put_arg_d(ab);
    put_arg_d(bb);
    put_str(" ->");
    put_d(r);
    put_flags(fl);
    end_line();
}

static void op2_f(const char *op, int m, uint32_t ab, uint32_t bb)
{
    volatile float a = f_of(ab), b = f_of(bb);
    volatile float r;
    feclearexcept(FE_ALL_EXCEPT);
    switch (op[0]) {
    case 'a': r = a + b; break;
    case 's': r = a - b; break;
    case 'm': r = a * b; break;
    default:  r = a / b; break;
    }
    int fl = fetestexcept(FE_ALL_EXCEPT);
    begin(op, modes[m].name);
    put_arg_f(ab);
    put_arg_f(bb);
    put_str(" ->");
    put_f(r);
    put_flags(fl);
    end_line();
}

static void sqrt_d(int m, uint64_t ab)
{
    volatile double a = d_of(ab);
    volatile double r;
    feclearexcept(FE_ALL_EXCEPT);
    r = sqrt(a);
    int fl = fetestexcept(FE_ALL_EXCEPT);
    begin("sqrt.d", modes[m].name);
    put_arg_d(ab);
    put_str(" ->");
    put_d(r);
    put_flags(fl);
    end_line();
}

static void sqrt_f(int m, uint32_t ab)
{
    volatile float a = f_of(ab);
    volatile float r;
    feclearexcept(FE_ALL_EXCEPT);
    r = sqrtf(a);
    int fl = fetestexcept(FE_ALL_EXCEPT);
    begin("sqrt.s", modes[m].name);
    put_arg_f(ab);
    put_str(" ->");
    put_f(r);
    put_flags(fl);
    end_line();
}

/* IEEE 754 leaves the invalid flag for inf * 0 + qNaN to the implementation
   (RISC-V raises it); those triples are skipped. */
static int fma_skip_d(uint64_t a, uint64_t b, uint64_t c)
{
    return is_nan_d(c) && ((is_inf_d(a) && is_zero_d(b)) || (is_zero_d(a) && is_inf_d(b)));
}

static int fma_skip_f(uint32_t a, uint32_t b, uint32_t c)
{
    return is_nan_f(c) && ((is_inf_f(a) && is_zero_f(b)) || (is_zero_f(a) && is_inf_f(b)));
}

static void fma_d(int m, uint64_t ab, uint64_t bb, uint64_t cb)
{
    volatile double a = d_of(ab), b = d_of(bb), c = d_of(cb);
    volatile double r;
    feclearexcept(FE_ALL_EXCEPT);
    r = fma(a, b, c);
    int fl = fetestexcept(FE_ALL_EXCEPT);
    begin("fma.d", modes[m].name);
    put_arg_d(ab);
    put_arg_d(bb);
    put_arg_d(cb);
    put_str(" ->");
    put_d(r);
    put_flags(fl);
    end_line();
}

static void fma_f(int m, uint32_t ab, uint32_t bb, uint32_t cb)
{
    volatile float a = f_of(ab), b = f_of(bb), c = f_of(cb);
    volatile float r;
    feclearexcept(FE_ALL_EXCEPT);
    r = fmaf(a, b, c);
    int fl = fetestexcept(FE_ALL_EXCEPT);
    begin("fma.s", modes[m].name);
    put_arg_f(ab);
    put_arg_f(bb);
    put_arg_f(cb);
    put_str(" ->");
    put_f(r);
    put_flags(fl);
    end_line();
}

/* compares do not depend on the rounding mode: run once */
static void cmp_d(uint64_t ab, uint64_t bb)
{
    volatile double a = d_of(ab), b = d_of(bb);
    volatile int r;
    const char *names[3] = {"eq.d", "lt.d", "le.d"};
    for (int k = 0; k < 3; k++) {
        feclearexcept(FE_ALL_EXCEPT);
        if (k == 0) {
            r = a == b;
        } else if (k == 1) {
            r = a < b;
        } else {
            r = a <= b;
        }
        int fl = fetestexcept(FE_ALL_EXCEPT);
        begin(names[k], "any");
        put_arg_d(ab);
        put_arg_d(bb);
        put_str(" -> ");
        put_hex((uint64_t)r, 1);
        put_flags(fl);
        end_line();
    }
}

static void cmp_f(uint32_t ab, uint32_t bb)
{
    volatile float a = f_of(ab), b = f_of(bb);
    volatile int r;
    const char *names[3] = {"eq.s", "lt.s", "le.s"};
    for (int k = 0; k < 3; k++) {
        feclearexcept(FE_ALL_EXCEPT);
        if (k == 0) {
            r = a == b;
        } else if (k == 1) {
            r = a < b;
        } else {
            r = a <= b;
        }
        int fl = fetestexcept(FE_ALL_EXCEPT);
        begin(names[k], "any");
        put_arg_f(ab);
        put_arg_f(bb);
        put_str(" -> ");
        put_hex((uint64_t)r, 1);
        put_flags(fl);
        end_line();
    }
}

/* ---- conversions -------------------------------------------------------- */

static void cvt_from_d(int m, uint64_t ab)
{
    volatile double a = d_of(ab);
    double x = d_of(ab);
    int fl;
    /* double -> float in the current mode */
    {
        volatile float r;
        feclearexcept(FE_ALL_EXCEPT);
        r = (float)a;
        fl = fetestexcept(FE_ALL_EXCEPT);
        begin("cvt.s.d", modes[m].name);
        put_arg_d(ab);
        put_str(" ->");
        put_f(r);
        put_flags(fl);
        end_line();
    }
    if (x != x || x >= 4611686018427387904.0 || x <= -4611686018427387904.0) {
        return;   /* conversions to integers: only where C defines them */
    }
    {
        volatile long r;
        feclearexcept(FE_ALL_EXCEPT);
        r = lrint(a);                             /* current rounding mode */
        fl = fetestexcept(FE_ALL_EXCEPT);
        begin("lrint.d", modes[m].name);
        put_arg_d(ab);
        put_str(" -> ");
        put_hex((uint64_t)r, 16);
        put_flags(fl);
        end_line();
    }
    {
        volatile long long r;
        feclearexcept(FE_ALL_EXCEPT);
        r = llrint(a);
        fl = fetestexcept(FE_ALL_EXCEPT);
        begin("llrint.d", modes[m].name);
        put_arg_d(ab);
        put_str(" -> ");
        put_hex((uint64_t)r, 16);
        put_flags(fl);
        end_line();
    }
    {
        volatile int64_t r;
        feclearexcept(FE_ALL_EXCEPT);
        r = (int64_t)a;                           /* truncation */
        fl = fetestexcept(FE_ALL_EXCEPT);
        begin("trunc.l.d", modes[m].name);
        put_arg_d(ab);
        put_str(" -> ");
        put_hex((uint64_t)r, 16);
        put_flags(fl);
        end_line();
    }
    if (x > -1.0) {
        volatile uint64_t r;
        feclearexcept(FE_ALL_EXCEPT);
        r = (uint64_t)a;
        fl = fetestexcept(FE_ALL_EXCEPT);
        begin("trunc.lu.d", modes[m].name);
        put_arg_d(ab);
        put_str(" -> ");
        put_hex(r, 16);
        put_flags(fl);
        end_line();
    }
    if (x > -2147483649.0 && x < 2147483648.0) {
        volatile int32_t r;
        feclearexcept(FE_ALL_EXCEPT);
        r = (int32_t)a;
        fl = fetestexcept(FE_ALL_EXCEPT);
        begin("trunc.w.d", modes[m].name);
        put_arg_d(ab);
        put_str(" -> ");
        put_hex((uint32_t)r, 8);
        put_flags(fl);
        end_line();
    }
    if (x > -1.0 && x < 4294967296.0) {
        volatile uint32_t r;
        feclearexcept(FE_ALL_EXCEPT);
        r = (uint32_t)a;
        fl = fetestexcept(FE_ALL_EXCEPT);
        begin("trunc.wu.d", modes[m].name);
        put_arg_d(ab);
        put_str(" -> ");
        put_hex(r, 8);
        put_flags(fl);
        end_line();
    }
}

static void cvt_from_f(int m, uint32_t ab)
{
    volatile float a = f_of(ab);
    float x = f_of(ab);
    int fl;
    {
        volatile double r;
        feclearexcept(FE_ALL_EXCEPT);
        r = (double)a;                            /* always exact */
        fl = fetestexcept(FE_ALL_EXCEPT);
        begin("cvt.d.s", modes[m].name);
        put_arg_f(ab);
        put_str(" ->");
        put_d(r);
        put_flags(fl);
        end_line();
    }
    if (x != x || x >= 4611686018427387904.0f || x <= -4611686018427387904.0f) {
        return;
    }
    {
        volatile long r;
        feclearexcept(FE_ALL_EXCEPT);
        r = lrintf(a);
        fl = fetestexcept(FE_ALL_EXCEPT);
        begin("lrint.s", modes[m].name);
        put_arg_f(ab);
        put_str(" -> ");
        put_hex((uint64_t)r, 16);
        put_flags(fl);
        end_line();
    }
    {
        volatile int64_t r;
        feclearexcept(FE_ALL_EXCEPT);
        r = (int64_t)a;
        fl = fetestexcept(FE_ALL_EXCEPT);
        begin("trunc.l.s", modes[m].name);
        put_arg_f(ab);
        put_str(" -> ");
        put_hex((uint64_t)r, 16);
        put_flags(fl);
        end_line();
    }
    if (x > -1.0f) {
        volatile uint64_t r;
        feclearexcept(FE_ALL_EXCEPT);
        r = (uint64_t)a;
        fl = fetestexcept(FE_ALL_EXCEPT);
        begin("trunc.lu.s", modes[m].name);
        put_arg_f(ab);
        put_str(" -> ");
        put_hex(r, 16);
        put_flags(fl);
        end_line();
    }
    if (x > -2147483904.0f && x < 2147483648.0f) {
        volatile int32_t r;
        feclearexcept(FE_ALL_EXCEPT);
        r = (int32_t)a;
        fl = fetestexcept(FE_ALL_EXCEPT);
        begin("trunc.w.s", modes[m].name);
        put_arg_f(ab);
        put_str(" -> ");
        put_hex((uint32_t)r, 8);
        put_flags(fl);
        end_line();
    }
    if (x > -1.0f && x < 4294967296.0f) {
        volatile uint32_t r;
        feclearexcept(FE_ALL_EXCEPT);
        r = (uint32_t)a;
        fl = fetestexcept(FE_ALL_EXCEPT);
        begin("trunc.wu.s", modes[m].name);
        put_arg_f(ab);
        put_str(" -> ");
        put_hex(r, 8);
        put_flags(fl);
        end_line();
    }
}

static void cvt_from_int(int m, int64_t v)
{
    volatile int64_t i = v;
    volatile uint64_t u = (uint64_t)v;
    volatile int32_t i32 = (int32_t)(uint32_t)(uint64_t)v;
    volatile uint32_t u32 = (uint32_t)(uint64_t)v;
    int fl;
#define CVT_LINE(opname, expr, putter, argbits, argdigits)   \
    do {                                                   \
        feclearexcept(FE_ALL_EXCEPT);                      \
        r = (expr);                                        \
        fl = fetestexcept(FE_ALL_EXCEPT);                  \
        begin(opname, modes[m].name);                      \
        put_str(" ");                                      \
        put_hex(argbits, argdigits);                       \
        put_str(" ->");                                    \
        putter(r);                                         \
        put_flags(fl);                                     \
        end_line();                                        \
    } while (0)
    {
        volatile double r;
        CVT_LINE("cvt.d.l", (double)i, put_d, (uint64_t)v, 16);
        CVT_LINE("cvt.d.lu", (double)u, put_d, (uint64_t)v, 16);
        CVT_LINE("cvt.d.w", (double)i32, put_d, (uint32_t)(uint64_t)v, 8);
        CVT_LINE("cvt.d.wu", (double)u32, put_d, (uint32_t)(uint64_t)v, 8);
    }
    {
        volatile float r;
        CVT_LINE("cvt.s.l", (float)i, put_f, (uint64_t)v, 16);
        CVT_LINE("cvt.s.lu", (float)u, put_f, (uint64_t)v, 16);
        CVT_LINE("cvt.s.w", (float)i32, put_f, (uint32_t)(uint64_t)v, 8);
        CVT_LINE("cvt.s.wu", (float)u32, put_f, (uint32_t)(uint64_t)v, 8);
    }
#undef CVT_LINE
}

int main(void)
{
    static const char *const ops2_d[] = {"add.d", "sub.d", "mul.d", "div.d"};
    static const char *const ops2_f[] = {"add.s", "sub.s", "mul.s", "div.s"};

    printf("fp_oracle v1\n");
    for (int m = 0; m < NMODES; m++) {
        fesetround(modes[m].mode);

        /* every pair of special operands */
        for (int o = 0; o < 4; o++) {
            for (int i = 0; i < NDVALS; i++) {
                for (int j = 0; j < NDVALS; j++) {
                    op2_d(ops2_d[o], m, dvals[i], dvals[j]);
                }
            }
            for (int i = 0; i < NFVALS; i++) {
                for (int j = 0; j < NFVALS; j++) {
                    op2_f(ops2_f[o], m, fvals[i], fvals[j]);
                }
            }
        }
        for (int i = 0; i < NDVALS; i++) {
            sqrt_d(m, dvals[i]);
        }
        for (int i = 0; i < NFVALS; i++) {
            sqrt_f(m, fvals[i]);
        }
        for (int i = 0; i < NDFMA; i++) {
            for (int j = 0; j < NDFMA; j++) {
                for (int k = 0; k < NDFMA; k++) {
                    if (!fma_skip_d(dfma[i], dfma[j], dfma[k])) {
                        fma_d(m, dfma[i], dfma[j], dfma[k]);
                    }
                }
            }
        }
        for (int i = 0; i < NFFMA; i++) {
            for (int j = 0; j < NFFMA; j++) {
                for (int k = 0; k < NFFMA; k++) {
                    if (!fma_skip_f(ffma[i], ffma[j], ffma[k])) {
                        fma_f(m, ffma[i], ffma[j], ffma[k]);
                    }
                }
            }
        }

        /* conversions */
        for (int i = 0; i < NDVALS; i++) {
            cvt_from_d(m, dvals[i]);
        }
        for (int i = 0; i < NFVALS; i++) {
            cvt_from_f(m, fvals[i]);
        }
        static const uint64_t dconv[] = {
            0x4004000000000000ULL, 0xc004000000000000ULL, 0x3ff8000000000000ULL, 0xbff8000000000000ULL,
            0x3fe0000000000000ULL, 0xbfe0000000000000ULL, 0x3fe0000000000001ULL, 0x41dfffffffe00000ULL,
            0x41efffffffffffffULL, 0x43dfffffffffffffULL, 0x43e0000000000000ULL, 0x43efffffffffffffULL,
            0xc1e0000000200000ULL, 0x3690000000000000ULL, 0x3698000000000000ULL, 0x47effffff0000000ULL,
            0x380fffffffffffffULL, 0x36a8000000000000ULL, 0x7e37e43c8800759cULL,
        };
        for (int i = 0; i < (int)(sizeof(dconv) / sizeof(dconv[0])); i++) {
            cvt_from_d(m, dconv[i]);
        }
        static const uint32_t fconv[] = {
            0x40200000, 0xc0200000, 0x3fc00000, 0xbfc00000, 0x3f000000, 0xbf000000,
            0x4effffff, 0x4f000000, 0x4f7fffff, 0x4f800000, 0x5effffff, 0x5f000000,
            0x5f7fffff, 0xcf000000, 0xceffffff,
        };
        for (int i = 0; i < (int)(sizeof(fconv) / sizeof(fconv[0])); i++) {
            cvt_from_f(m, fconv[i]);
        }
        for (int i = 0; i < NIVALS; i++) {
            cvt_from_int(m, ivals[i]);
        }

        /* pseudo-random operands: the same sequence in every mode */
        rng_state = 0x9e3779b97f4a7c15ULL;
        for (int n = 0; n < FP_ORACLE_RANDOM_CASES; n++) {
            uint64_t a = rand_d(), b = rand_d(), c = rand_d();
            uint32_t fa = rand_f(), fb = rand_f(), fc = rand_f();
            for (int o = 0; o < 4; o++) {
                op2_d(ops2_d[o], m, a, b);
                op2_f(ops2_f[o], m, fa, fb);
            }
            sqrt_d(m, a & 0x7fffffffffffffffULL);
            sqrt_f(m, fa & 0x7fffffff);
            fma_d(m, a, b, c);
            fma_f(m, fa, fb, fc);
            /* near-cancellation: c close to -a*b */
            {
                volatile double pa = d_of(a), pb = d_of(b);
                fesetround(FE_TONEAREST);
                double p = pa * pb;
                fesetround(modes[m].mode);
                uint64_t pc = bits_d(-p) ^ (rng() & 3);
                if (!is_nan_d(pc)) {
                    fma_d(m, a, b, pc);
                }
            }
            cvt_from_d(m, a);
            cvt_from_f(m, fa);
            cvt_from_int(m, (int64_t)rng() >> (rng() & 63));
        }
    }
    fesetround(FE_TONEAREST);

    /* compares (mode independent) */
    for (int i = 0; i < NDVALS; i++) {
        for (int j = 0; j < NDVALS; j++) {
            cmp_d(dvals[i], dvals[j]);
        }
    }
    for (int i = 0; i < NFVALS; i++) {
        for (int j = 0; j < NFVALS; j++) {
            cmp_f(fvals[i], fvals[j]);
        }
    }

    printf("fp_oracle: %lu lines\n", lines);
    return 0;
}
