/*
 * crt0 for Rivet's bare-metal guest test programs (machine mode, hart 0).
 *
 * Sets up gp, sp, tp, a default trap vector and the FPU, zeroes .bss, calls
 * main(0, 0) and passes its return value to _exit() (see htif.c).
 * Also defines the HTIF mailbox symbols `tohost` / `fromhost` that QEMU's
 * `-M spike`, Spike and Rivet look up in the ELF symbol table.
 */
#include "encoding.h"

    .section .text.init, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, __stack_top
    la      tp, __tls_base

    /* Only hart 0 runs the program; any other hart parks in wfi. */
    csrr    t0, mhartid
    bnez    t0, .Lpark

    la      t0, __crt0_trap
    csrw    mtvec, t0
    csrw    mie, zero

    /* FPU on (mstatus.FS = Dirty), fcsr = 0 (RNE, no flags). */
    li      t0, MSTATUS_FS
    csrs    mstatus, t0
    csrwi   fcsr, 0

    /* Zero .bss (and the .tbss image right before it). */
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:
    li      a0, 0
    li      a1, 0
    call    main
    call    _exit
.Lpark:
    wfi
    j       .Lpark
    .size _start, . - _start

/*
 * Default trap handler: every trap that a test did not expect ends the
 * program with a message and exit code 0x100000 | (mcause & 0xff) << 8 | 0xEE.
 */
    .text
    .balign 4
    .globl __crt0_trap
    .type __crt0_trap, @function
__crt0_trap:
    la      sp, __stack_top
    csrr    a0, mcause
    csrr    a1, mepc
    csrr    a2, mtval
    call    __unexpected_trap
1:  j       1b
    .size __crt0_trap, . - __crt0_trap

/*
 * HTIF mailbox.  Each word is 8 bytes (QEMU insists on st_size == 8) and
 * 64-byte aligned, in its own section `.tohost`.
 */
    .section .tohost, "aw", @progbits
    .balign 64
    .globl tohost
    .type tohost, @object
    .size tohost, 8
tohost:
    .dword 0
    .balign 64
    .globl fromhost
    .type fromhost, @object
    .size fromhost, 8
fromhost:
    .dword 0
    .balign 64
