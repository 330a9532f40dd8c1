/*
 * fpkernel: a double-precision floating-point workload (also a benchmark).
 *
 * Per iteration, three kernels with iteration-dependent inputs:
 *   - n-body: NB bodies, NB_STEPS kick-drift steps of softened gravity
 *     (sub, mul, add, div, sqrt per pair); the total energy before and after
 *     must agree to 1e-3 (relative), which fails if the arithmetic is off;
 *   - Jacobi relaxation of a Poisson problem on a G x G grid (a 5-point
 *     stencil); the residual must shrink (the iteration matrix I - A/4 has a
 *     2-norm below 1 and commutes with A, so the residual's 2-norm cannot
 *     grow);
 *   - power iteration on a symmetric M x M matrix (mat-vec, dot products,
 *     division by the norm); for the converged eigenvector |Ax| must equal
 *     the Rayleigh quotient to 1e-9 (relative).
 * Every final value is folded into the checksum by its exact bit pattern, so
 * any rounding difference shows.
 *
 * Only +, -, *, / and sqrt are used: IEEE 754 rounds all five correctly, so
 * the results are the same on any conforming machine as long as the compiler
 * evaluates the same operations in the same order.  Hence -ffp-contract=off
 * on both sides (gcc would otherwise fuse a*b+c into fmadd.d on RISC-V, which
 * rounds once, but not on x86-64 without FMA) and -fno-math-errno (sqrt is
 * then the fsqrt.d / sqrtsd instruction, with no errno path).  Reductions
 * are not reassociated without -ffast-math, so vectorization on the host does
 * not change them.
 *
 * ITERS (compile-time, default 1) sets the number of iterations.  The
 * program prints the result bits in hex and exits 0 only if every self-check
 * passes and, for the default ITERS, the checksum equals the value computed
 * on the host (x86-64) from the same source.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifndef ITERS
#define ITERS 1
#endif

#define NB 32
#define NB_STEPS 300
#define G 64
#define SWEEPS 150
#define M 64
#define POWER_STEPS 150

/* reference checksum for ITERS == 1 (x86-64 host build of this file) */
#define EXPECTED_ITERS_1 0x3bd42db36ddf30c1ULL

static double px[NB], py[NB], pz[NB], vx[NB], vy[NB], vz[NB], mass[NB];
static double ax[NB], ay[NB], az[NB];
static double u[G][G], un[G][G], f[G][G];
static double a[M][M], x[M], y[M];

/* a 64-bit value as two printf arguments for "%08lx%08lx" (as in sort_hash.c) */
#define HEX(v) (unsigned long)((v) >> 32), (unsigned long)((v) & 0xffffffffu)

static uint64_t bits(double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof(v));
    return v;
}

static uint64_t fold(uint64_t sum, double d)
{
    return (sum << 5 | sum >> 59) ^ bits(d);
}

static double fabs_(double d)
{
    return d < 0 ? -d : d;
}

/* ---- n-body ------------------------------------------------------------ */

#define EPS2 0.05   /* softening: no singular pairs */
#define DT 0.001

static double energy(void)
{
    double e = 0.0;
    for (int i = 0; i < NB; i++) {
        e += 0.5 * mass[i] * (vx[i] * vx[i] + vy[i] * vy[i] + vz[i] * vz[i]);
        for (int j = i + 1; j < NB; j++) {
            double dx = px[i] - px[j], dy = py[i] - py[j], dz = pz[i] - pz[j];
            e -= mass[i] * mass[j] / sqrt(dx * dx + dy * dy + dz * dz + EPS2);
        }
    }
    return e;
}

static void nbody_step(void)
{
    for (int i = 0; i < NB; i++) {
        ax[i] = ay[i] = az[i] = 0.0;
    }
    for (int i = 0; i < NB; i++) {
        for (int j = i + 1; j < NB; j++) {
            double dx = px[i] - px[j], dy = py[i] - py[j], dz = pz[i] - pz[j];
            double d2 = dx * dx + dy * dy + dz * dz + EPS2;
            double inv3 = 1.0 / (d2 * sqrt(d2));
            double si = mass[j] * inv3, sj = mass[i] * inv3;
            ax[i] -= dx * si; ay[i] -= dy * si; az[i] -= dz * si;
            ax[j] += dx * sj; ay[j] += dy * sj; az[j] += dz * sj;
        }
    }
    for (int i = 0; i < NB; i++) {
        vx[i] += ax[i] * DT; vy[i] += ay[i] * DT; vz[i] += az[i] * DT;
        px[i] += vx[i] * DT; py[i] += vy[i] * DT; pz[i] += vz[i] * DT;
    }
}

/* ---- Jacobi ------------------------------------------------------------ */

#define H2 (1.0 / ((G - 1) * (G - 1)))

/* 2-norm of the residual of -Laplace(u) = f on the interior points */
static double residual(void)
{
    double s = 0.0;
    for (int i = 1; i < G - 1; i++) {
        for (int j = 1; j < G - 1; j++) {
            double r = f[i][j] * H2 - (4.0 * u[i][j] - u[i - 1][j] - u[i + 1][j] - u[i][j - 1] - u[i][j + 1]);
            s += r * r;
        }
    }
    return sqrt(s);
}

static void jacobi_sweep(void)
{
    for (int i = 1; i < G - 1; i++) {
        for (int j = 1; j < G - 1; j++) {
            un[i][j] = 0.25 * (u[i - 1][j] + u[i + 1][j] + u[i][j - 1] + u[i][j + 1] + f[i][j] * H2);
        }
    }
    for (int i = 1; i < G - 1; i++) {
        memcpy(&u[i][1], &un[i][1], (G - 2) * sizeof(double));
    }
}

/* ---- power iteration --------------------------------------------------- */

static double dot(const double *p, const double *q, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++) {
        s += p[i] * q[i];
    }
    return s;
}

static void matvec(void)
{
    for (int i = 0; i < M; i++) {
        y[i] = dot(a[i], x, M);
    }
}

int main(void)
{
    uint64_t sum = 0;
    for (int it = 0; it < ITERS; it++) {
        /* n-body: bodies on a lattice-ish cloud with small swirling velocities */
        for (int i = 0; i < NB; i++) {
            px[i] = (double)((i * 37 + it * 11) % 101) / 50.0 - 1.0;
            py[i] = (double)((i * 53 + it * 7) % 97) / 48.0 - 1.0;
            pz[i] = (double)((i * 29 + it * 5) % 89) / 44.0 - 1.0;
            vx[i] = -py[i] * 0.1;
            vy[i] = px[i] * 0.1;
            vz[i] = (double)(i % 5 - 2) * 0.01;
            mass[i] = 0.1 + (double)((i + it) % 7) / 80.0;
        }
        double e0 = energy();
        for (int s = 0; s < NB_STEPS; s++) {
            nbody_step();
        }
        double e1 = energy();
        if (!(fabs_(e1 - e0) <= 1e-3 * fabs_(e0))) {
            printf("fpkernel: FAIL: n-body energy drift e0=%08lx%08lx e1=%08lx%08lx\n",
                   HEX(bits(e0)), HEX(bits(e1)));
            return 1;
        }

        /* Jacobi: a parabola on one edge, zero on the others, a point-ish source */
        for (int i = 0; i < G; i++) {
            for (int j = 0; j < G; j++) {
                u[i][j] = 0.0;
                f[i][j] = (i - G / 2) * (i - G / 2) + (j - G / 3) * (j - G / 3) < 16 ? 50.0 + it : 0.0;
            }
        }
        for (int j = 0; j < G; j++) {
            u[0][j] = (double)(j * (G - 1 - j)) / ((G - 1) * (G - 1) / 4.0);
        }
        jacobi_sweep();
        double r0 = residual();
        for (int s = 1; s < SWEEPS; s++) {
            jacobi_sweep();
        }
        double r1 = residual();
        if (!(r1 < r0)) {
            printf("fpkernel: FAIL: Jacobi residual did not shrink r0=%08lx%08lx r1=%08lx%08lx\n",
                   HEX(bits(r0)), HEX(bits(r1)));
            return 1;
        }

        /* power iteration: a symmetric, diagonally heavy matrix */
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < M; j++) {
                int d = i > j ? i - j : j - i;
                a[i][j] = 1.0 / (1.0 + d) + (i == j ? (double)((i * 7 + it) % 11) / 4.0 : 0.0);
            }
            x[i] = 1.0;
        }
        double lambda = 0.0, norm = 0.0;
        for (int s = 0; s < POWER_STEPS; s++) {
            matvec();
            lambda = dot(x, y, M) / dot(x, x, M);
            norm = sqrt(dot(y, y, M));
            for (int i = 0; i < M; i++) {
                x[i] = y[i] / norm;
            }
        }
        if (!(fabs_(norm - lambda) <= 1e-9 * lambda)) {
            printf("fpkernel: FAIL: power iteration did not converge lambda=%08lx%08lx norm=%08lx%08lx\n",
                   HEX(bits(lambda)), HEX(bits(norm)));
            return 1;
        }

        uint64_t s = 0;
        for (int i = 0; i < NB; i++) {
            s = fold(s, px[i]); s = fold(s, py[i]); s = fold(s, pz[i]);
            s = fold(s, vx[i]); s = fold(s, vy[i]); s = fold(s, vz[i]);
        }
        for (int i = 0; i < G; i++) {
            for (int j = 0; j < G; j++) {
                s = fold(s, u[i][j]);
            }
        }
        for (int i = 0; i < M; i++) {
            s = fold(s, x[i]);
        }
        s = fold(fold(fold(s, e1), r1), lambda);
        sum = (sum << 7 | sum >> 57) ^ s;
        printf("iter %d: energy=%08lx%08lx residual=%08lx%08lx lambda=%08lx%08lx bits=%08lx%08lx\n", it,
               HEX(bits(e1)), HEX(bits(r1)), HEX(bits(lambda)), HEX(s));
    }
    printf("fpkernel: %d bodies x%d, %dx%d Jacobi x%d, %dx%d power x%d, x%d checksum=%08lx%08lx\n",
           NB, NB_STEPS, G, G, SWEEPS, M, M, POWER_STEPS, ITERS,
           HEX(sum));
#if ITERS == 1
    if (sum != EXPECTED_ITERS_1) {
        printf("fpkernel: FAIL: expected %08lx%08lx\n",
               (unsigned long)(EXPECTED_ITERS_1 >> 32),
               (unsigned long)(EXPECTED_ITERS_1 & 0xffffffffu));
        return 1;
    }
#endif
    printf("fpkernel: PASS\n");
    return 0;
}
