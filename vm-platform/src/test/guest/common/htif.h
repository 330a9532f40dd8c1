/*
 * HTIF (host-target interface) console and exit, as implemented by Spike,
 * QEMU `-M spike` and Rivet.  See README.md for the protocol.
 */
#ifndef RIVET_GUEST_HTIF_H
#define RIVET_GUEST_HTIF_H

#include <stddef.h>
#include <stdint.h>

extern volatile uint64_t tohost;
extern volatile uint64_t fromhost;

/* Send one raw HTIF command and wait for the host's answer in fromhost. */
uint64_t htif_command(uint64_t cmd);

/* Console output.  Characters are buffered per line (see htif.c). */
void htif_putc(char c);
void htif_write(const char *buf, size_t len);
void htif_puts(const char *s);          /* no newline appended */
void htif_put_hex(uint64_t v, int digits);
void htif_put_dec(uint64_t v);
void htif_flush(void);

/* Exit with `code` (0 = pass).  Flushes the console first. */
__attribute__((noreturn)) void htif_exit(uint64_t code);

/* Hooks used by crt0.S and the assembly test macros. */
__attribute__((noreturn)) void _exit(int code);
__attribute__((noreturn)) void __test_pass(uint64_t checks, const char *name);
__attribute__((noreturn)) void __test_fail(uint64_t line, uint64_t got, uint64_t expected,
                                           const char *name);
__attribute__((noreturn)) void __test_count_mismatch(uint64_t executed, uint64_t expected,
                                                     const char *name);
__attribute__((noreturn)) void __unexpected_trap(uint64_t mcause, uint64_t mepc, uint64_t mtval);

#endif
