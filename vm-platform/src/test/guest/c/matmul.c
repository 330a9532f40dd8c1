/*
 * matmul: a floating-point workload (also a benchmark).
 *
 * 64x64 double matrices: C = A * B, then B = C scaled by 1/max|C|, repeated
 * ITERS times (compile-time, default 4).  The checksum folds the exact bit
 * patterns of every element of the final C, so any rounding difference shows.
 * Built with -ffp-contract=off (no fused multiply-add) so that the result is
 * the same on the x86-64 host; for the default ITERS the program checks it
 * against the host's value and exits 1 on a mismatch.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifndef ITERS
#define ITERS 4
#endif

#define N 64

/* reference checksum for ITERS == 4 (x86-64 host build of this file) */
#define EXPECTED_ITERS_4 0xc3766fe6a02e1f9bULL

static double a[N][N], b[N][N], c[N][N];

static uint64_t bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

int main(void)
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            a[i][j] = (double)((i * 37 + j * 11) % 23) / 7.0 - 1.5;
            b[i][j] = (double)((i * 13 + j * 29) % 31) / 9.0 - 1.75 + (i == j ? 0.5 : 0.0);
        }
    }
    for (int it = 0; it < ITERS; it++) {
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                double s = 0.0;
                for (int k = 0; k < N; k++) {
                    s += a[i][k] * b[k][j];
                }
                c[i][j] = s;
            }
        }
        double mx = 0.0;
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                double v = fabs(c[i][j]);
                if (v > mx) {
                    mx = v;
                }
            }
        }
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                b[i][j] = c[i][j] / mx;
            }
        }
    }
    uint64_t sum = 0;
    double trace = 0.0;
    for (int i = 0; i < N; i++) {
        trace += c[i][i];
        for (int j = 0; j < N; j++) {
            sum = (sum << 5 | sum >> 59) ^ bits(c[i][j]);
        }
    }
    uint64_t tb = bits(trace);
    printf("matmul: %dx%d x%d trace=%08lx%08lx checksum=%08lx%08lx\n", N, N, ITERS,
           (unsigned long)(tb >> 32), (unsigned long)(tb & 0xffffffffu),
           (unsigned long)(sum >> 32), (unsigned long)(sum & 0xffffffffu));
#if ITERS == 4
    if (sum != EXPECTED_ITERS_4) {
        printf("matmul: FAIL: expected %08lx%08lx\n",
               (unsigned long)(EXPECTED_ITERS_4 >> 32),
               (unsigned long)(EXPECTED_ITERS_4 & 0xffffffffu));
        return 1;
    }
#endif
    printf("matmul: PASS\n");
    return 0;
}
