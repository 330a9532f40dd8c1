/*
 * Network load and fault generator for the NetLoad* vmtests in the reference guest
 * (busybox has no tool that keeps hundreds of sockets open or floods a ring). Every
 * result is a "key: value" line the test reads; every wait is bounded by a socket
 * timeout, so a hang shows up as EAGAIN instead of a stuck guest.
 *
 *   netload conns IP PORT N BYTES    opens N TCP connections at once (non-blocking
 *                                    connects), then on each sends BYTES bytes (its index
 *                                    in the first two) and reads the echo back, then
 *                                    closes them all, every third (k % 3 == 2) with a reset
 *   netload reset-recv IP PORT       connects, sends one byte, reads until an error: prints which
 *   netload reset-send IP PORT       connects and writes until an error: prints which
 *   netload reset-accept PORT        accepts one connection, sends one byte, reads until an error
 *   netload send IP PORT BYTES       sends BYTES pseudo-random bytes, half-closes, prints
 *                                    "send-fnv: X" and the peer's reply line as "send-reply: ..."
 *   netload recv IP PORT             reads to end of stream: "recv-fnv: X", "recv-bytes: N"
 *   netload udpflood IP PORT MS SIZE sends SIZE-byte datagrams as fast as it can for MS
 *                                    milliseconds, reading whatever comes back meanwhile
 *   netload rawflood IF MS           sends raw Ethernet frames (a local experimental EtherType)
 *                                    to the gateway through AF_PACKET for MS milliseconds
 *   netload beat MS FILE             prints "beat: k" every MS milliseconds until FILE exists
 * X is the 64-bit FNV-1a hash of the bytes, in hex; the host side computes the same.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_packet.h>

/* Longest any single blocking call may wait before the program reports EAGAIN. */
#define IO_TIMEOUT_SECONDS 30
#define MAX_CONNS 1000
/* The gateway's MAC (QEMU's user-mode default, which Rivet's user networking copies). */
static const unsigned char GATEWAY_MAC[6] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};
/* IEEE 802 local experimental EtherType: nobody speaks it, the backend counts and drops it. */
#define RAW_ETHERTYPE 0x88b5

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

static const char *errname(int e) {
    switch (e) {
    case ECONNRESET: return "ECONNRESET";
    case EPIPE: return "EPIPE";
    case EAGAIN: return "EAGAIN";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ENOBUFS: return "ENOBUFS";
    default: return strerror(e);
    }
}

static long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

static struct sockaddr_in address(const char *ip, const char *port) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t) atoi(port))};
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
        fprintf(stderr, "bad address %s\n", ip);
        exit(2);
    }
    return a;
}

static void timeouts(int s) {
    struct timeval tv = {.tv_sec = IO_TIMEOUT_SECONDS};
    if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) die("SO_RCVTIMEO");
    if (setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0) die("SO_SNDTIMEO");
}

static int connect_to(const char *ip, const char *port) {
    struct sockaddr_in a = address(ip, port);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) die("socket");
    timeouts(s);
    if (connect(s, (struct sockaddr *) &a, sizeof a) < 0) die("connect");
    return s;
}

/*
 * The byte at position i of connection k's message: k in the first two bytes (big-endian,
 * so the peer knows which connection it serves), then a pattern distinct per connection.
 */
static unsigned char conn_byte(int k, long i) {
    if (i < 2) return (unsigned char) (i == 0 ? k >> 8 : k);
    return (unsigned char) (k * 131 + i * 7 + (i >> 8));
}

static int do_conns(const char *ip, const char *port, int n, int bytes) {
    if (n < 1 || n > MAX_CONNS || bytes < 2 || bytes > 65536) {
        fprintf(stderr, "conns: 1..%d connections of 2..65536 bytes\n", MAX_CONNS);
        return 2;
    }
    static int fd[MAX_CONNS];
    static struct pollfd p[MAX_CONNS];
    struct sockaddr_in a = address(ip, port);
    for (int k = 0; k < n; k++) {
        fd[k] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd[k] < 0) die("socket");
        if (connect(fd[k], (struct sockaddr *) &a, sizeof a) < 0 && errno != EINPROGRESS) die("connect");
    }
    /* Every connect is in flight at once; wait for all of them. */
    int connected = 0, failed = 0;
    long deadline = now_ms() + IO_TIMEOUT_SECONDS * 1000L;
    for (int k = 0; k < n; k++) p[k] = (struct pollfd) {.fd = fd[k], .events = POLLOUT};
    while (connected + failed < n && now_ms() < deadline) {
        if (poll(p, (nfds_t) n, 1000) < 0) die("poll");
        for (int k = 0; k < n; k++) {
            if (p[k].fd < 0 || !p[k].revents) continue;
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(fd[k], SOL_SOCKET, SO_ERROR, &err, &len);
            if (err) {
                fprintf(stderr, "conn %d: %s\n", k, errname(err));
                failed++;
            } else {
                connected++;
            }
            p[k].fd = -1;
        }
    }
    printf("conns-connected: %d\n", connected);
    fflush(stdout);
    /* All open: each sends its message, then every echo is read back and compared. */
    unsigned char *buf = malloc((size_t) bytes);
    if (!buf) die("malloc");
    int echoed = 0;
    for (int k = 0; k < n; k++) {
        int fl = fcntl(fd[k], F_GETFL);
        fcntl(fd[k], F_SETFL, fl & ~O_NONBLOCK);
        timeouts(fd[k]);
        for (int i = 0; i < bytes; i++) buf[i] = conn_byte(k, i);
        if (write(fd[k], buf, (size_t) bytes) != bytes) fprintf(stderr, "conn %d: write: %s\n", k, errname(errno));
    }
    for (int k = 0; k < n; k++) {
        int got = 0, ok = 1;
        while (got < bytes) {
            ssize_t r = read(fd[k], buf, (size_t) (bytes - got));
            if (r <= 0) {
                fprintf(stderr, "conn %d: read: %s\n", k, r == 0 ? "eof" : errname(errno));
                ok = 0;
                break;
            }
            for (ssize_t i = 0; i < r; i++) ok &= buf[i] == conn_byte(k, got + i);
            got += (int) r;
        }
        echoed += ok;
    }
    printf("conns-echoed: %d\n", echoed);
    /* Every third connection is reset instead of closed (SO_LINGER 0). */
    int closed = 0;
    for (int k = 0; k < n; k++) {
        if (k % 3 == 2) {
            struct linger l = {.l_onoff = 1, .l_linger = 0};
            if (setsockopt(fd[k], SOL_SOCKET, SO_LINGER, &l, sizeof l) < 0) die("SO_LINGER");
        }
        closed += close(fd[k]) == 0;
    }
    printf("conns-closed: %d\n", closed);
    free(buf);
    return 0;
}

static int do_reset_recv(const char *ip, const char *port) {
    int s = connect_to(ip, port);
    static unsigned char buf[65536];
    /* One byte first: the peer starts its stream (and later resets) only once we are connected. */
    if (write(s, "g", 1) != 1) die("write");
    long total = 0;
    ssize_t r;
    while ((r = read(s, buf, sizeof buf)) > 0) total += r;
    printf("reset-recv: %s\nreset-recv-bytes: %ld\n", r == 0 ? "eof" : errname(errno), total);
    close(s);
    return 0;
}

static int do_reset_accept(const char *port) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0) die("socket");
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = address("0.0.0.0", port);
    if (bind(l, (struct sockaddr *) &a, sizeof a) < 0) die("bind");
    if (listen(l, 1) < 0) die("listen");
    printf("listening: %s\n", port);
    int s = accept(l, NULL, NULL);
    if (s < 0) die("accept");
    timeouts(s);
    if (write(s, "g", 1) != 1) die("write"); /* as reset-recv: the peer starts now */
    static unsigned char buf[65536];
    long total = 0;
    ssize_t r;
    while ((r = read(s, buf, sizeof buf)) > 0) total += r;
    printf("reset-accept: %s\nreset-accept-bytes: %ld\n", r == 0 ? "eof" : errname(errno), total);
    close(s);
    close(l);
    return 0;
}

static int do_reset_send(const char *ip, const char *port) {
    int s = connect_to(ip, port);
    static unsigned char buf[65536];
    memset(buf, 0x5a, sizeof buf);
    long total = 0;
    ssize_t w;
    while ((w = write(s, buf, sizeof buf)) > 0) total += w;
    printf("reset-send: %s\nreset-send-bytes: %ld\n", w == 0 ? "zero" : errname(errno), total);
    close(s);
    return 0;
}

static int do_send(const char *ip, const char *port, long bytes) {
    int s = connect_to(ip, port);
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
            if (w <= 0) {
                printf("send-error: %s\n", errname(errno));
                return 1;
            }
            off += (size_t) w;
        }
        left -= (long) n;
    }
    if (shutdown(s, SHUT_WR) < 0) die("shutdown");
    printf("send-fnv: %016llx\n", (unsigned long long) h);
    char line[128];
    size_t got = 0;
    for (ssize_t r; got < sizeof line - 1 && (r = read(s, line + got, sizeof line - 1 - got)) > 0;) got += (size_t) r;
    line[got] = 0;
    line[strcspn(line, "\n")] = 0;
    printf("send-reply: %s\n", line);
    close(s);
    return 0;
}

static int do_recv(const char *ip, const char *port) {
    int s = connect_to(ip, port);
    static unsigned char buf[65536];
    uint64_t h = 0xcbf29ce484222325ull;
    long total = 0;
    ssize_t r;
    while ((r = read(s, buf, sizeof buf)) > 0) {
        h = fnv(h, buf, (size_t) r);
        total += r;
    }
    if (r < 0) printf("recv-error: %s\n", errname(errno));
    printf("recv-fnv: %016llx\nrecv-bytes: %ld\n", (unsigned long long) h, total);
    close(s);
    return 0;
}

static int do_udpflood(const char *ip, const char *port, long ms, int size) {
    if (size < 1 || size > 65507) {
        fprintf(stderr, "udpflood: size 1..65507\n");
        return 2;
    }
    struct sockaddr_in a = address(ip, port);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) die("socket");
    static unsigned char buf[65536];
    memset(buf, 0xa5, sizeof buf);
    long sent = 0, errors = 0, received = 0;
    long end = now_ms() + ms;
    while (now_ms() < end) {
        if (sendto(s, buf, (size_t) size, 0, (struct sockaddr *) &a, sizeof a) == size) sent++;
        else errors++;
        /* A bounded number of reads: a peer sending faster than we read must not keep us here. */
        for (int i = 0; i < 16 && recv(s, buf, sizeof buf, MSG_DONTWAIT) > 0; i++) received++;
    }
    printf("udp-sent: %ld\nudp-errors: %ld\nudp-received: %ld\n", sent, errors, received);
    close(s);
    return 0;
}

static int do_rawflood(const char *ifname, long ms) {
    int s = socket(AF_PACKET, SOCK_RAW, htons(RAW_ETHERTYPE));
    if (s < 0) die("socket(AF_PACKET)");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    if (ioctl(s, SIOCGIFINDEX, &ifr) < 0) die("SIOCGIFINDEX");
    int index = ifr.ifr_ifindex;
    if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0) die("SIOCGIFHWADDR");
    unsigned char frame[1514];
    memset(frame, 0x3c, sizeof frame);
    memcpy(frame, GATEWAY_MAC, 6);
    memcpy(frame + 6, ifr.ifr_hwaddr.sa_data, 6);
    frame[12] = RAW_ETHERTYPE >> 8;
    frame[13] = RAW_ETHERTYPE & 0xff;
    struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_protocol = htons(RAW_ETHERTYPE), .sll_ifindex = index,
                             .sll_halen = 6};
    memcpy(to.sll_addr, GATEWAY_MAC, 6);
    long sent = 0, errors = 0, k = 0;
    long end = now_ms() + ms;
    for (; now_ms() < end; k++) {
        /* Sizes from the shortest frame to a full one, so every ring slot size is used. */
        size_t len = 60 + (size_t) (k * 97 % (sizeof frame - 59));
        if (sendto(s, frame, len, 0, (struct sockaddr *) &to, sizeof to) == (ssize_t) len) sent++;
        else errors++;
    }
    printf("raw-sent: %ld\nraw-errors: %ld\n", sent, errors);
    close(s);
    return 0;
}

static int do_beat(long ms, const char *stop) {
    struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L};
    for (long k = 1; access(stop, F_OK) != 0; k++) {
        printf("beat: %ld\n", k);
        fflush(stdout);
        nanosleep(&t, NULL);
    }
    return 0;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN); /* a write to a reset connection reports EPIPE instead of killing us */
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *cmd = argc > 1 ? argv[1] : "";
    if (argc == 6 && !strcmp(cmd, "conns")) return do_conns(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
    if (argc == 4 && !strcmp(cmd, "reset-recv")) return do_reset_recv(argv[2], argv[3]);
    if (argc == 4 && !strcmp(cmd, "reset-send")) return do_reset_send(argv[2], argv[3]);
    if (argc == 3 && !strcmp(cmd, "reset-accept")) return do_reset_accept(argv[2]);
    if (argc == 5 && !strcmp(cmd, "send")) return do_send(argv[2], argv[3], atol(argv[4]));
    if (argc == 4 && !strcmp(cmd, "recv")) return do_recv(argv[2], argv[3]);
    if (argc == 6 && !strcmp(cmd, "udpflood")) return do_udpflood(argv[2], argv[3], atol(argv[4]), atoi(argv[5]));
    if (argc == 4 && !strcmp(cmd, "rawflood")) return do_rawflood(argv[2], atol(argv[3]));
    if (argc == 4 && !strcmp(cmd, "beat")) return do_beat(atol(argv[2]), argv[3]);
    fprintf(stderr, "usage: netload conns IP PORT N BYTES | reset-recv IP PORT | reset-send IP PORT |\n"
                    "       reset-accept PORT |\n"
                    "       send IP PORT BYTES | recv IP PORT | udpflood IP PORT MS SIZE | rawflood IF MS |\n"
                    "       beat MS FILE\n");
    return 2;
}
