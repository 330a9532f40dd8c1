/*
 * sort_hash: a CPU-bound integer workload (also a benchmark).
 *
 * Per iteration: fill 1 MiB with xorshift bytes and hash it with FNV-1a 64,
 * fill 100 000 32-bit ints, qsort them, check the order, fold them into a
 * checksum, and look 1 000 values up with bsearch.
 *
 * ITERS (compile-time, default 1) sets the number of iterations.  The
 * program prints the result and exits 0 only if the order check passes and,
 * for the default ITERS, the result equals the value computed on the host
 * (x86-64) from the same source.  For other ITERS values compare the output
 * with the host build (make prints both).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef ITERS
#define ITERS 1
#endif

#define BUF_SIZE (1u << 20)
#define N_INTS 100000
#define N_LOOKUPS 1000

/* reference result for ITERS == 1 (x86-64 host build of this file) */
#define EXPECTED_ITERS_1 0x3309fe4ad32969caULL

static uint8_t buf[BUF_SIZE];
static int32_t arr[N_INTS];

static uint32_t xs_state;

static uint32_t xorshift32(void)
{
    uint32_t x = xs_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    xs_state = x;
    return x;
}

static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static uint64_t rotl(uint64_t v, int s)
{
    return (v << s) | (v >> (64 - s));
}

int main(void)
{
    uint64_t result = 0;
    for (int it = 0; it < ITERS; it++) {
        xs_state = 0x12345678u + (uint32_t)it * 0x9e3779b9u;

        for (size_t i = 0; i < BUF_SIZE; i += 4) {
            uint32_t v = xorshift32();
            buf[i] = (uint8_t)v;
            buf[i + 1] = (uint8_t)(v >> 8);
            buf[i + 2] = (uint8_t)(v >> 16);
            buf[i + 3] = (uint8_t)(v >> 24);
        }
        uint64_t h = fnv1a64(buf, BUF_SIZE);

        for (int i = 0; i < N_INTS; i++) {
            /* some duplicates: keep only 20 bits of entropy in every 8th value */
            uint32_t v = xorshift32();
            arr[i] = (int32_t)((i & 7) == 0 ? (v & 0xfffff) - 0x80000 : v);
        }
        qsort(arr, N_INTS, sizeof(arr[0]), cmp_i32);
        for (int i = 1; i < N_INTS; i++) {
            if (arr[i - 1] > arr[i]) {
                printf("sort_hash: FAIL: not sorted at %d\n", i);
                return 1;
            }
        }
        uint64_t s = 0;
        for (int i = 0; i < N_INTS; i++) {
            s = s * 31 + (uint64_t)(int64_t)arr[i];
        }
        uint64_t found = 0;
        for (int i = 0; i < N_LOOKUPS; i++) {
            int32_t key = arr[(xorshift32() % N_INTS)];
            if ((xorshift32() & 1) != 0) {
                key ^= 1;   /* probably absent */
            }
            const int32_t *p = bsearch(&key, arr, N_INTS, sizeof(arr[0]), cmp_i32);
            if (p != NULL) {
                if (*p != key) {
                    printf("sort_hash: FAIL: bsearch\n");
                    return 1;
                }
                found++;
            }
        }
        result = rotl(result, 7) ^ h ^ rotl(s, 17) ^ found;
        printf("iter %d: fnv1a=%08lx%08lx sum=%08lx%08lx found=%lu\n", it,
               (unsigned long)(h >> 32), (unsigned long)(h & 0xffffffffu),
               (unsigned long)(s >> 32), (unsigned long)(s & 0xffffffffu),
               (unsigned long)found);
    }
    printf("sort_hash: result=%08lx%08lx\n", (unsigned long)(result >> 32),
           (unsigned long)(result & 0xffffffffu));
#if ITERS == 1
    if (result != EXPECTED_ITERS_1) {
        printf("sort_hash: FAIL: expected %08lx%08lx\n",
               (unsigned long)(EXPECTED_ITERS_1 >> 32),
               (unsigned long)(EXPECTED_ITERS_1 & 0xffffffffu));
        return 1;
    }
#endif
    printf("sort_hash: PASS\n");
    return 0;
}
