/*
 * In-guest TCP throughput and connection rate against benches/guest-net.sh's host server
 * (reached through user-mode networking at 10.0.2.2): download and upload BYTES, then
 * CONNS sequential connect/close round trips. Prints one "key: value" line per figure.
 * Static build: riscv64-linux-gnu-gcc -static -O2.
 *   netbench HOST PORT [MIB] [CONNS]
 * Protocol: the client sends one line, "D n" (server sends n bytes and closes), "U n"
 * (server reads n bytes, answers "ok\n") or "C" (server answers "ok\n" and closes).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in server;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

static int dial(const char *line) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) die("socket");
    if (connect(s, (struct sockaddr *) &server, sizeof server) < 0) die("connect");
    size_t n = strlen(line);
    if (write(s, line, n) != (ssize_t) n) die("write");
    return s;
}

static void expect_ok(int s) {
    char b[8];
    ssize_t r = read(s, b, sizeof b);
    if (r < 3 || memcmp(b, "ok\n", 3)) {
        fprintf(stderr, "no ok from the server\n");
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: netbench HOST PORT [MIB] [CONNS]\n");
        return 2;
    }
    server.sin_family = AF_INET;
    server.sin_port = htons((unsigned short) atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) die("address");
    long bytes = (argc > 3 ? atol(argv[3]) : 32) << 20;
    long conns = argc > 4 ? atol(argv[4]) : 200;
    static char buf[1 << 16];
    char line[64];

    snprintf(line, sizeof line, "D %ld\n", bytes);
    double t = now();
    int s = dial(line);
    long got = 0;
    for (ssize_t r; (r = read(s, buf, sizeof buf)) > 0;) got += r;
    close(s);
    double d = now() - t;
    if (got != bytes) { fprintf(stderr, "download: %ld of %ld bytes\n", got, bytes); return 1; }
    printf("download-MBps: %.1f\n", bytes / d / 1e6);

    snprintf(line, sizeof line, "U %ld\n", bytes);
    memset(buf, 0x5A, sizeof buf);
    t = now();
    s = dial(line);
    for (long left = bytes; left > 0;) {
        ssize_t w = write(s, buf, left < (long) sizeof buf ? (size_t) left : sizeof buf);
        if (w <= 0) die("upload");
        left -= w;
    }
    expect_ok(s);
    close(s);
    d = now() - t;
    printf("upload-MBps: %.1f\n", bytes / d / 1e6);

    t = now();
    for (long i = 0; i < conns; i++) {
        s = dial("C\n");
        expect_ok(s);
        close(s);
    }
    d = now() - t;
    printf("connections-per-s: %.0f\n", conns / d);
    return 0;
}
