/*
 * HTIF console and exit for Rivet's bare-metal guest tests.
 *
 * Every command: tohost = cmd; wait until fromhost != 0; fromhost = 0.
 * (The host takes the command and clears tohost; the program never waits for
 * tohost itself.)
 *
 * Output path (default): the blocking character device, device 1 command 1:
 *     tohost = (1 << 56) | (1 << 48) | ch
 * This works on Spike, every QEMU version with `-M spike`, and Rivet.
 *
 * With -DHTIF_USE_SYSCALL_PROXY a whole line goes out as one proxied
 * write(1, buf, len) system call (device 0 command 0, payload = address of a
 * 64-byte aligned `magic[8] = {64, 1, buf, len}`).  Spike and Rivet implement
 * it; QEMU 7.2 does not (it only logs "pk syscall proxy not supported"), and
 * QEMU >= 8.0 only for len == 1, so that variant cannot be checked on QEMU.
 *
 * Exit: tohost = (code << 1) | 1, then spin forever.
 */
#include "htif.h"

#define HTIF_DEV_CONSOLE   1ULL
#define HTIF_CMD_PUTC      1ULL
#define HTIF_TOHOST_CMD(dev, cmd, payload) (((dev) << 56) | ((cmd) << 48) | (payload))

#define LINE_MAX_LEN 256

static char line_buf[LINE_MAX_LEN];
static size_t line_len;

uint64_t htif_command(uint64_t cmd)
{
    tohost = cmd;
    uint64_t resp;
    while ((resp = fromhost) == 0) {
    }
    fromhost = 0;
    return resp;
}

#ifdef HTIF_USE_SYSCALL_PROXY
static volatile uint64_t magic_mem[8] __attribute__((aligned(64)));

static void htif_raw_write(const char *buf, size_t len)
{
    if (len == 0) {
        return;
    }
    magic_mem[0] = 64;            /* SYS_write */
    magic_mem[1] = 1;             /* fd = stdout */
    magic_mem[2] = (uintptr_t)buf;
    magic_mem[3] = len;
    __asm__ volatile("fence" ::: "memory");
    htif_command((uintptr_t)magic_mem);
}
#else
static void htif_raw_write(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        htif_command(HTIF_TOHOST_CMD(HTIF_DEV_CONSOLE, HTIF_CMD_PUTC, (uint8_t)buf[i]));
    }
}
#endif

void htif_flush(void)
{
    htif_raw_write(line_buf, line_len);
    line_len = 0;
}

void htif_putc(char c)
{
    line_buf[line_len++] = c;
    if (c == '\n' || line_len == LINE_MAX_LEN) {
        htif_flush();
    }
}

void htif_write(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        htif_putc(buf[i]);
    }
}

void htif_puts(const char *s)
{
    while (*s) {
        htif_putc(*s++);
    }
}

void htif_put_hex(uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--) {
        htif_putc("0123456789abcdef"[(v >> (4 * i)) & 0xf]);
    }
}

void htif_put_dec(uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0) {
        htif_putc(tmp[--n]);
    }
}

void htif_exit(uint64_t code)
{
    htif_flush();
    tohost = (code << 1) | 1;
    for (;;) {
    }
}

void _exit(int code)
{
    htif_exit((uint32_t)code);
}

static void put_name(const char *name)
{
    if (name != 0) {
        htif_puts(name);
        htif_puts(": ");
    }
}

void __test_pass(uint64_t checks, const char *name)
{
    put_name(name);
    htif_puts("PASS (");
    htif_put_dec(checks);
    htif_puts(" checks)\n");
    htif_exit(0);
}

void __test_fail(uint64_t line, uint64_t got, uint64_t expected, const char *name)
{
    put_name(name);
    htif_puts("FAIL at line ");
    htif_put_dec(line);
    htif_puts(": got 0x");
    htif_put_hex(got, 16);
    htif_puts(" expected 0x");
    htif_put_hex(expected, 16);
    htif_putc('\n');
    /* The exit code is the test number (= source line); never 0. */
    htif_exit(line != 0 ? line : 0xBAD);
}

void __test_count_mismatch(uint64_t executed, uint64_t expected, const char *name)
{
    put_name(name);
    htif_puts("FAIL: executed ");
    htif_put_dec(executed);
    htif_puts(" checks, the program has ");
    htif_put_dec(expected);
    htif_putc('\n');
    htif_exit(0xC0C0);
}

void __unexpected_trap(uint64_t mcause, uint64_t mepc, uint64_t mtval)
{
    htif_puts("FAIL: unexpected trap mcause=0x");
    htif_put_hex(mcause, 16);
    htif_puts(" mepc=0x");
    htif_put_hex(mepc, 16);
    htif_puts(" mtval=0x");
    htif_put_hex(mtval, 16);
    htif_putc('\n');
    htif_exit(0x1000EE | ((mcause & 0xff) << 8));
}
