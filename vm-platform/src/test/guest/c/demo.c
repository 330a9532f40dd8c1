/*
 * The demo that `vmctl run` runs when given nothing else: a greeting, an ASCII
 * Mandelbrot set (double-precision FP) and a sieve of Eratosthenes (integer and
 * memory work). The output is deterministic, so the same source built for the
 * host gives the exact text the guest must print.
 */
#include <stdio.h>
#include <string.h>

#define W 72
#define H 22
#define LIMIT 200000

static unsigned char composite[LIMIT + 1];

static void mandelbrot(void)
{
    static const char shades[] = " .:-=+*#%@";
    for (int y = 0; y < H; y++) {
        char line[W + 1];
        for (int x = 0; x < W; x++) {
            double cr = -2.2 + 3.0 * x / W;
            double ci = -1.2 + 2.4 * y / H;
            double zr = 0, zi = 0;
            int n = 0;
            while (n < 200 && zr * zr + zi * zi < 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2 * zr * zi + ci;
                zr = t;
                n++;
            }
            line[x] = n == 200 ? '@' : shades[n % 9];
        }
        line[W] = 0;
        printf("  %s\n", line);
    }
}

static int sieve(void)
{
    int count = 0;
    memset(composite, 0, sizeof composite);
    for (long i = 2; i <= LIMIT; i++) {
        if (!composite[i]) {
            count++;
            for (long j = i * i; j <= LIMIT; j += i)
                composite[j] = 1;
        }
    }
    return count;
}

int main(void)
{
    printf("hello from rivet: a bare-metal RV64GC program running on the Rivet interpreter\n\n");
    mandelbrot();
    printf("\n  primes below %d: %d\n", LIMIT, sieve());
    return 0;
}
