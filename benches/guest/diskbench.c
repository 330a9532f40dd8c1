/*
 * In-guest disk throughput with direct I/O (O_DIRECT: the guest page cache is bypassed, so
 * every byte crosses the virtio-blk queue): sequential write and read in 1 MiB requests,
 * then random 4 KiB reads and writes at queue depth 1. Prints one "key: value" line per
 * figure, for benches/guest-disk.sh. Static build: riscv64-linux-gnu-gcc -static -O2.
 *   diskbench DEVICE [SEQ_MIB] [RANDOM_OPS]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

/* xorshift64*: a fixed sequence of offsets, the same in every run and on every emulator. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_random(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: diskbench DEVICE [SEQ_MIB] [RANDOM_OPS]\n");
        return 2;
    }
    long seq_mib = argc > 2 ? atol(argv[2]) : 64;
    long ops = argc > 3 ? atol(argv[3]) : 2000;
    int fd = open(argv[1], O_RDWR | O_DIRECT);
    if (fd < 0) die("open");
    uint64_t size;
    if (ioctl(fd, BLKGETSIZE64, &size) < 0) die("BLKGETSIZE64");
    if ((uint64_t) seq_mib << 20 > size) seq_mib = size >> 20;
    const size_t big = 1 << 20, small = 4096;
    unsigned char *buf;
    if (posix_memalign((void **) &buf, 4096, big)) die("posix_memalign");
    for (size_t i = 0; i < big; i++) buf[i] = (unsigned char) (i * 7 + 1);

    double t = now();
    for (long i = 0; i < seq_mib; i++)
        if (pwrite(fd, buf, big, (off_t) i * big) != (ssize_t) big) die("sequential write");
    if (fsync(fd)) die("fsync");
    double w = now() - t;
    printf("seq-write-MBps: %.1f\n", seq_mib / w * 1.048576);

    t = now();
    for (long i = 0; i < seq_mib; i++)
        if (pread(fd, buf, big, (off_t) i * big) != (ssize_t) big) die("sequential read");
    double r = now() - t;
    printf("seq-read-MBps: %.1f\n", seq_mib / r * 1.048576);

    uint64_t blocks = ((uint64_t) seq_mib << 20) / small;
    t = now();
    for (long i = 0; i < ops; i++)
        if (pread(fd, buf, small, (off_t) (next_random() % blocks) * small) != (ssize_t) small) die("random read");
    double rr = now() - t;
    printf("rand-read-IOPS: %.0f\n", ops / rr);

    t = now();
    for (long i = 0; i < ops; i++)
        if (pwrite(fd, buf, small, (off_t) (next_random() % blocks) * small) != (ssize_t) small) die("random write");
    double rw = now() - t;
    printf("rand-write-IOPS: %.0f\n", ops / rw);
    close(fd);
    return 0;
}
