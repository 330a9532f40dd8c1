/*
 * RV64I control transfer: every conditional branch taken / not taken in both
 * directions with signed and unsigned edge values, jal / jalr link values,
 * jalr offsets, jalr with an odd target (bit 0 is cleared), jalr with rd == rs1,
 * and targets that are only 2-byte aligned (legal with the C extension).
 */
#include "test_macros.h"

/* Forward branch: a0 = 1 if taken, 0 if not; check against `taken`. */
.macro BR_FWD line, inst, v1, v2, taken
    li      a1, \v1
    li      a2, \v2
    li      a0, 7
    \inst   a1, a2, .Lt\@
    li      a0, 0
    j       .Le\@
.Lt\@:
    li      a0, 1
.Le\@:
    li      t6, \taken
    __CHECK \line, a0, t6
.endm

/* Backward branch. */
.macro BR_BWD line, inst, v1, v2, taken
    li      a0, 7
    j       .Lf\@
.Lb\@:
    li      a0, 1
    j       .Le\@
.Lf\@:
    li      a1, \v1
    li      a2, \v2
    \inst   a1, a2, .Lb\@
    li      a0, 0
.Le\@:
    li      t6, \taken
    __CHECK \line, a0, t6
.endm

#define BR(inst, v1, v2, taken)  BR_FWD __LINE__, inst, v1, v2, taken; BR_BWD __LINE__, inst, v1, v2, taken

RVTEST_BEGIN("rv64i_branch")

    /* beq / bne: all 64 bits compared */
    BR(beq, 0, 0, 1)
    BR(beq, 1, 1, 1)
    BR(beq, -1, -1, 1)
    BR(beq, 0, 1, 0)
    BR(beq, 1, 0, 0)
    BR(beq, -1, 1, 0)
    BR(beq, 0x100000000, 0, 0)
    BR(beq, 0xffffffff, -1, 0)
    BR(beq, 0x8000000000000000, 0x8000000000000000, 1)
    BR(bne, 0, 0, 0)
    BR(bne, -1, -1, 0)
    BR(bne, 0, 1, 1)
    BR(bne, 0x100000000, 0, 1)
    BR(bne, 0xffffffff, -1, 1)
    BR(bne, 0x8000000000000000, 0, 1)

    /* blt / bge: signed */
    BR(blt, 0, 1, 1)
    BR(blt, 1, 0, 0)
    BR(blt, -1, 1, 1)
    BR(blt, 1, -1, 0)
    BR(blt, -2, -1, 1)
    BR(blt, -1, -2, 0)
    BR(blt, 5, 5, 0)
    BR(blt, 0x8000000000000000, 0x7fffffffffffffff, 1)
    BR(blt, 0x7fffffffffffffff, 0x8000000000000000, 0)
    BR(blt, 0x80000000, 0x7fffffff, 0)      /* 64-bit compare */
    BR(bge, 0, 1, 0)
    BR(bge, 1, 0, 1)
    BR(bge, -1, 1, 0)
    BR(bge, 1, -1, 1)
    BR(bge, 5, 5, 1)
    BR(bge, -5, -5, 1)
    BR(bge, 0x8000000000000000, 0x7fffffffffffffff, 0)
    BR(bge, 0x7fffffffffffffff, 0x8000000000000000, 1)
    BR(bge, 0x80000000, 0x7fffffff, 1)

    /* bltu / bgeu: unsigned */
    BR(bltu, 0, 1, 1)
    BR(bltu, 1, 0, 0)
    BR(bltu, -1, 1, 0)
    BR(bltu, 1, -1, 1)
    BR(bltu, -2, -1, 1)
    BR(bltu, 5, 5, 0)
    BR(bltu, 0x8000000000000000, 0x7fffffffffffffff, 0)
    BR(bltu, 0x7fffffffffffffff, 0x8000000000000000, 1)
    BR(bltu, 0xffffffff, 0x100000000, 1)
    BR(bgeu, 0, 1, 0)
    BR(bgeu, 1, 0, 1)
    BR(bgeu, -1, 1, 1)
    BR(bgeu, 1, -1, 0)
    BR(bgeu, 5, 5, 1)
    BR(bgeu, 0, 0, 1)
    BR(bgeu, 0x8000000000000000, 0x7fffffffffffffff, 1)
    BR(bgeu, 0x7fffffffffffffff, 0x8000000000000000, 0)

    /* branches against x0 */
    li      a1, 0
    li      a0, 0
    beqz    a1, 1f
    li      a0, 1
1:  CHECK_IMM(a0, 0)
    li      a1, -1
    li      a0, 0
    bltz    a1, 1f
    li      a0, 1
1:  CHECK_IMM(a0, 0)
    li      a0, 0
    bgez    a1, 1f                  /* not taken */
    li      a0, 2
1:  CHECK_IMM(a0, 2)
    li      a0, 0
    bgtz    a1, 1f                  /* blt x0, a1: not taken */
    li      a0, 3
1:  CHECK_IMM(a0, 3)
    li      a0, 0
    bltu    zero, a1, 1f            /* taken: 0 <u 0xfff...f */
    li      a0, 4
1:  CHECK_IMM(a0, 0)
    li      a0, 0
    bgeu    zero, a1, 1f            /* not taken */
    li      a0, 5
1:  CHECK_IMM(a0, 5)
    li      a0, 0
    beq     zero, zero, 1f          /* always */
    li      a0, 6
1:  CHECK_IMM(a0, 0)

    /* ---------------- jal ---------------- */
    li      a0, 0
.Ljal1:
    jal     ra, .Ljal1_t
    li      a0, 1                   /* skipped */
.Ljal1_t:
    CHECK_IMM(a0, 0)
    la      t0, .Ljal1
    addi    t0, t0, 4
    CHECK(ra, t0)

    /* jal with another rd; backward target */
    j       .Ljal2_f
.Ljal2_b:
    la      t0, .Ljal2
    addi    t0, t0, 4
    CHECK(t1, t0)
    j       .Ljal2_done
.Ljal2_f:
    li      t1, 0
.Ljal2:
    jal     t1, .Ljal2_b
    FAIL_HERE
.Ljal2_done:

    /* jal x0 does not write a register */
    li      a0, 5
    jal     zero, 1f
    li      a0, 6
1:  CHECK_IMM(a0, 5)
    CHECK_IMM(zero, 0)

    /* ---------------- jalr ---------------- */
    la      t0, .Ljalr1_t
.Ljalr1:
    jalr    ra, 0(t0)
    FAIL_HERE
.Ljalr1_t:
    la      t1, .Ljalr1
    addi    t1, t1, 4
    CHECK(ra, t1)

    /* positive offset */
    la      t0, .Ljalr2_t
    addi    t0, t0, -16
.Ljalr2:
    jalr    a5, 16(t0)
    FAIL_HERE
.Ljalr2_t:
    la      t1, .Ljalr2
    addi    t1, t1, 4
    CHECK(a5, t1)

    /* negative offset */
    la      t0, .Ljalr3_t
    addi    t0, t0, 100
.Ljalr3:
    jalr    a5, -100(t0)
    FAIL_HERE
.Ljalr3_t:
    la      t1, .Ljalr3
    addi    t1, t1, 4
    CHECK(a5, t1)

    /* odd target address: bit 0 of (rs1 + imm) is cleared */
    la      t0, .Ljalr4_t
    addi    t0, t0, 1
.Ljalr4:
    jalr    a5, 0(t0)
    FAIL_HERE
.Ljalr4_t:
    la      t1, .Ljalr4
    addi    t1, t1, 4
    CHECK(a5, t1)

    /* odd immediate, even register */
    la      t0, .Ljalr5_t
    addi    t0, t0, -2
.Ljalr5:
    jalr    a5, 3(t0)
    FAIL_HERE
.Ljalr5_t:
    CHECK_REACHED

    /* rd == rs1: the target uses the old value of rs1 */
    la      t0, .Ljalr6_t
.Ljalr6:
    jalr    t0, 0(t0)
    FAIL_HERE
.Ljalr6_t:
    la      t1, .Ljalr6
    addi    t1, t1, 4
    CHECK(t0, t1)

    /* jalr x0 (ret) writes nothing; return through a call */
    li      a0, 0
    call    .Lsub_inc
    call    .Lsub_inc
    CHECK_IMM(a0, 2)

    /* far call through auipc + jalr */
.Lfar:
    auipc   t0, %pcrel_hi(.Lfar_t)
    jalr    ra, %pcrel_lo(.Lfar)(t0)
    j       .Lfar_after
.Lfar_t:
    la      t1, .Lfar
    addi    t1, t1, 8
    CHECK(ra, t1)
    ret
.Lfar_after:
    CHECK_REACHED

    /* ---------------- targets that are only 2-byte aligned ---------------- */
    .option push
    .option rvc
    la      t0, .Lhalf_t
    li      a0, 0
    andi    t1, t0, 3
    CHECK_IMM(t1, 2)                /* really a 2-mod-4 address */
    jalr    ra, 0(t0)
    j       .Lhalf_done
    .balign 4
    c.nop
.Lhalf_t:                           /* 4n + 2 */
    addi    a0, a0, 1               /* a 32-bit instruction at a 2-mod-4 address */
    ret
.Lhalf_done:
    CHECK_IMM(a0, 1)
    /* branch to a 2-mod-4 target */
    li      a0, 0
    beqz    a0, .Lhalf_b
    FAIL_HERE
    .balign 4
    c.nop
.Lhalf_b:
    addi    a0, a0, 9
    CHECK_IMM(a0, 9)
    .option pop

    /* ---------------- a counted loop (backward branches, many iterations) ---------------- */
    li      a0, 0
    li      a1, 1000
1:  addi    a0, a0, 3
    addi    a1, a1, -1
    bnez    a1, 1b
    CHECK_IMM(a0, 3000)

    j       .Lend
.Lsub_inc:
    addi    a0, a0, 1
    jalr    zero, 0(ra)
.Lend:
RVTEST_PASS
