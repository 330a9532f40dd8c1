/*
 * Zifencei: self-modifying code.  After a store to an instruction and a
 * fence.i, the hart must fetch the new instruction (Unprivileged ISA,
 * "Zifencei").  Every patched instruction is executed at least once before it
 * is patched, so an emulator that caches decoded / translated code must
 * invalidate it.  What a hart fetches *without* fence.i is not specified and
 * not tested.
 *
 * Encodings used:  addi a0, zero, k  = (k << 20) | 0x00000513
 *                  addi a0, a0, k    = (k << 20) | 0x00050513
 *                  c.li a0, k        = 0x4501 | (k << 2)        (0 <= k < 32)
 */
#include "test_macros.h"

#define ADDI_A0_ZERO(k)  (((k) << 20) | 0x00000513)
#define ADDI_A0_A0(k)    (((k) << 20) | 0x00050513)
#define C_LI_A0(k)       (0x4501 | ((k) << 2))
#define RET_INSN         0x00008067          /* jalr x0, 0(ra) */

    .bss
    .balign 4096
codebuf:
    .skip 256

    .text
    .option norvc

RVTEST_BEGIN("fence_i")

    /* ---------------- 1. patch a function that has already run ---------------- */
    call    .Lfunc1
    CHECK_IMM(a0, 1)
    call    .Lfunc1
    CHECK_IMM(a0, 1)
    la      t0, .Lfunc1
    li      t1, ADDI_A0_ZERO(2)
    sw      t1, 0(t0)
    fence.i
    call    .Lfunc1
    CHECK_IMM(a0, 2)
    li      t1, ADDI_A0_ZERO(-7 & 0xfff)
    sw      t1, 0(t0)
    fence.i
    call    .Lfunc1
    CHECK_IMM(a0, -7)

    /* ---------------- 2. rewrite an immediate on every iteration ---------------- */
    /* sum over i < 5000 of (i mod 2048), the immediate patched each time */
    li      s1, 0                           /* i */
    li      s2, 5000
    li      s3, 0                           /* sum */
    la      s4, .Lfunc2
1:  andi    t2, s1, 0x7ff
    slli    t2, t2, 20
    li      t1, ADDI_A0_A0(0)
    or      t1, t1, t2
    sw      t1, 0(s4)
    fence.i
    li      a0, 0
    call    .Lfunc2
    add     s3, s3, a0
    addi    s1, s1, 1
    bne     s1, s2, 1b
    CHECK_IMM(s3, 4600412)

    /* ---------------- 3. patch the next instruction of the running code ---------------- */
    li      s5, 3
2:  la      t0, 3f
    li      t1, ADDI_A0_ZERO(4)
    sw      t1, 0(t0)
    fence.i
3:  addi    a0, zero, 1                     /* replaced before it executes */
    addi    s5, s5, -1
    bnez    s5, 2b                          /* run the patched block again */
    CHECK_IMM(a0, 4)

    /* ---------------- 4. code generated into a fresh buffer ---------------- */
    la      t0, codebuf
    li      t1, ADDI_A0_ZERO(100)
    sw      t1, 0(t0)
    li      t1, ADDI_A0_A0(23)
    sw      t1, 4(t0)
    li      t1, RET_INSN
    sw      t1, 8(t0)
    fence.i
    jalr    ra, 0(t0)
    CHECK_IMM(a0, 123)
    jalr    ra, 0(t0)
    CHECK_IMM(a0, 123)
    /* regenerate: different code at the same address */
    li      t1, ADDI_A0_ZERO(-1 & 0xfff)
    sw      t1, 0(t0)
    li      t1, ADDI_A0_A0(-2 & 0xfff)
    sw      t1, 4(t0)
    fence.i
    jalr    ra, 0(t0)
    CHECK_IMM(a0, -3)
    /* the code is written with byte stores this time */
    li      t1, ADDI_A0_ZERO(0x55)
    sb      t1, 0(t0)
    srli    t1, t1, 8
    sb      t1, 1(t0)
    srli    t1, t1, 8
    sb      t1, 2(t0)
    srli    t1, t1, 8
    sb      t1, 3(t0)
    fence.i
    jalr    ra, 0(t0)
    CHECK_IMM(a0, 0x53)                     /* 0x55 + (-2) */

    /* ---------------- 5. patch a compressed instruction ---------------- */
    call    .Lfunc3
    CHECK_IMM(a0, 5)
    la      t0, .Lfunc3
    li      t1, C_LI_A0(9)
    sh      t1, 0(t0)
    fence.i
    call    .Lfunc3
    CHECK_IMM(a0, 9)

    /* ---------------- 6. patch a hot function (called many times first) ---------------- */
    li      s1, 20000
4:  call    .Lfunc4
    addi    s1, s1, -1
    bnez    s1, 4b
    CHECK_IMM(a0, 11)
    la      t0, .Lfunc4
    li      t1, ADDI_A0_ZERO(12)
    sw      t1, 0(t0)
    fence.i
    call    .Lfunc4
    CHECK_IMM(a0, 12)

    j       .Ldone

.Lfunc1:
    addi    a0, zero, 1
    ret
.Lfunc2:
    addi    a0, a0, 0
    ret
    .option push
    .option rvc
    .balign 4
.Lfunc3:
    c.li    a0, 5
    c.jr    ra
    .option pop
    .balign 4
.Lfunc4:
    addi    a0, zero, 11
    ret

.Ldone:
RVTEST_PASS
