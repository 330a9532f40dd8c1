/*
 * A vsock peer for vmtests in the reference guest (busybox has no AF_VSOCK tool).
 *   vsock connect CID PORT BYTES  connects, sends BYTES pseudo-random bytes, half-closes,
 *                                 prints "sent-fnv: X" and the peer's reply line as "reply: ..."
 *   vsock listen PORT             accepts one connection, reads to end of stream, prints
 *                                 "recv-fnv: X" and "recv-bytes: N", and answers "X\n"
 * X is the 64-bit FNV-1a hash of the bytes, in hex; the host side computes the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h> /* after sys/socket.h: it uses struct sockaddr */

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

static int do_connect(unsigned cid, unsigned port, long bytes) {
    int s = socket(AF_VSOCK, SOCK_STREAM, 0);
    if (s < 0) die("socket");
    struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port};
    if (connect(s, (struct sockaddr *) &a, sizeof a) < 0) die("connect");
    static unsigned char buf[65536];
    uint64_t h = 0xcbf29ce484222325ull, x = 0x9E3779B97F4A7C15ull;
    for (long left = bytes; left > 0;) {
        size_t n = left < (long) sizeof buf ? (size_t) left : sizeof buf;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            buf[i] = (unsigned char) x;
        }
        h = fnv(h, buf, n);
        for (size_t off = 0; off < n;) {
            ssize_t w = write(s, buf + off, n - off);
            if (w <= 0) die("write");
            off += (size_t) w;
        }
        left -= (long) n;
    }
    if (shutdown(s, SHUT_WR) < 0) die("shutdown");
    printf("sent-fnv: %016llx\n", (unsigned long long) h);
    char line[128];
    size_t got = 0;
    for (ssize_t r; got < sizeof line - 1 && (r = read(s, line + got, sizeof line - 1 - got)) > 0;) got += (size_t) r;
    line[got] = 0;
    line[strcspn(line, "\n")] = 0;
    printf("reply: %s\n", line);
    close(s);
    return 0;
}

static int do_listen(unsigned port) {
    int l = socket(AF_VSOCK, SOCK_STREAM, 0);
    if (l < 0) die("socket");
    struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
    if (bind(l, (struct sockaddr *) &a, sizeof a) < 0) die("bind");
    if (listen(l, 1) < 0) die("listen");
    printf("listening: %u\n", port);
    fflush(stdout);
    int s = accept(l, NULL, NULL);
    if (s < 0) die("accept");
    static unsigned char buf[65536];
    uint64_t h = 0xcbf29ce484222325ull;
    long total = 0;
    for (ssize_t r; (r = read(s, buf, sizeof buf)) > 0;) {
        h = fnv(h, buf, (size_t) r);
        total += r;
    }
    printf("recv-fnv: %016llx\nrecv-bytes: %ld\n", (unsigned long long) h, total);
    char line[32];
    int n = snprintf(line, sizeof line, "%016llx\n", (unsigned long long) h);
    if (write(s, line, (size_t) n) != n) die("write");
    close(s);
    close(l);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && !strcmp(argv[1], "connect")) {
        return do_connect((unsigned) strtoul(argv[2], 0, 0), (unsigned) strtoul(argv[3], 0, 0), atol(argv[4]));
    }
    if (argc == 3 && !strcmp(argv[1], "listen")) {
        return do_listen((unsigned) strtoul(argv[2], 0, 0));
    }
    fprintf(stderr, "usage: vsock connect CID PORT BYTES | vsock listen PORT\n");
    return 2;
}
