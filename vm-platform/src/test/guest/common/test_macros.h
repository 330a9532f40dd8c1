/*
 * Self-checking macros for the assembly tests.
 *
 * Conventions
 *  - A test file is   #include "test_macros.h"
 *                     RVTEST_BEGIN("name")  ...checks...  RVTEST_PASS
 *  - The test number of a check is its source line (__LINE__).  On mismatch
 *    the program prints "name: FAIL at line L: got G expected E" and exits
 *    with code L (never 0).
 *  - Every check increments s10 (CHECKCNT) at run time and the assembler-time
 *    counter __nchecks.  RVTEST_PASS compares the two, so a check that is
 *    skipped (a wrong branch, a bad jump) also fails the program.  Checks must
 *    therefore run exactly once: no CHECK inside a loop.
 *  - Reserved registers: s10 (check counter), gp and tp (used by the fail
 *    path, never by tests).  sp may be used freely: the pass/fail paths
 *    reload it.
 *  - Results are normally produced in a0, expected values loaded into t6.
 */
#ifndef RIVET_TEST_MACROS_H
#define RIVET_TEST_MACROS_H

#include "encoding.h"

#define CHECKCNT s10

/* ---------------------------------------------------------------------- */
/* Core check                                                              */
/* ---------------------------------------------------------------------- */

.macro __CHECK line, got, exp
    .set __nchecks, __nchecks + 1
    addi    CHECKCNT, CHECKCNT, 1
    beq     \got, \exp, .Lcheck_ok\@
    mv      gp, \got
    mv      tp, \exp
    li      a0, \line
    j       __asm_fail
.Lcheck_ok\@:
.endm

/* Compare two registers. */
#define CHECK(got, exp) __CHECK __LINE__, got, exp
/* Compare a register with an immediate (uses t6). */
#define CHECK_IMM(got, value) li t6, value; CHECK(got, t6)
/* Unconditional failure (e.g. a path that must not be reached). */
#define FAIL_HERE li gp, 0; li tp, 1; li a0, __LINE__; j __asm_fail
/* Count a check that is proven by reaching this point (e.g. a taken branch). */
#define CHECK_REACHED li t6, 0; CHECK(zero, t6)

/* ---------------------------------------------------------------------- */
/* Program frame                                                           */
/* ---------------------------------------------------------------------- */

#define RVTEST_BEGIN(name)                       \
    .pushsection .rodata;                        \
__test_name: .asciz name;                        \
    .popsection;                                 \
    .set __nchecks, 0;                           \
    .text;                                       \
    .balign 4;                                   \
    .globl main;                                 \
    .type main, @function;                       \
main:                                            \
    li      CHECKCNT, 0;

#define RVTEST_PASS                              \
    li      t0, __nchecks;                       \
    bne     CHECKCNT, t0, __count_bad;           \
    la      sp, __stack_top;                     \
    mv      a0, CHECKCNT;                        \
    la      a1, __test_name;                     \
    call    __test_pass;                         \
__count_bad:                                     \
    la      sp, __stack_top;                     \
    mv      a0, CHECKCNT;                        \
    li      a1, __nchecks;                       \
    la      a2, __test_name;                     \
    call    __test_count_mismatch;               \
__asm_fail:                                      \
    la      sp, __stack_top;                     \
    mv      a1, gp;                              \
    mv      a2, tp;                              \
    la      a3, __test_name;                     \
    call    __test_fail;

/* ---------------------------------------------------------------------- */
/* Integer instruction checks                                              */
/* ---------------------------------------------------------------------- */

/* rd = inst(rs1, rs2) with rd, rs1, rs2 distinct */
#define TEST_RR(inst, result, v1, v2)            \
    li a1, v1; li a2, v2; inst a0, a1, a2;       \
    CHECK_IMM(a0, result)

/* rd == rs1 */
#define TEST_RR_D1(inst, result, v1, v2)         \
    li a1, v1; li a2, v2; inst a1, a1, a2;       \
    CHECK_IMM(a1, result)

/* rd == rs2 */
#define TEST_RR_D2(inst, result, v1, v2)         \
    li a1, v1; li a2, v2; inst a2, a1, a2;       \
    CHECK_IMM(a2, result)

/* rd == rs1 == rs2 */
#define TEST_RR_DSS(inst, result, v1)            \
    li a1, v1; inst a1, a1, a1;                  \
    CHECK_IMM(a1, result)

/* rs1 = x0 */
#define TEST_RR_Z1(inst, result, v2)             \
    li a2, v2; inst a0, zero, a2;                \
    CHECK_IMM(a0, result)

/* rs2 = x0 */
#define TEST_RR_Z2(inst, result, v1)             \
    li a1, v1; inst a0, a1, zero;                \
    CHECK_IMM(a0, result)

/* rd = x0: the write is discarded */
#define TEST_RR_ZD(inst, v1, v2)                 \
    li a1, v1; li a2, v2; inst zero, a1, a2;     \
    CHECK_IMM(zero, 0)

/* rd = inst(rs1, imm) */
#define TEST_IMM(inst, result, v1, imm)          \
    li a1, v1; inst a0, a1, imm;                 \
    CHECK_IMM(a0, result)

/* rd == rs1 */
#define TEST_IMM_D1(inst, result, v1, imm)       \
    li a1, v1; inst a1, a1, imm;                 \
    CHECK_IMM(a1, result)

/* rd = inst(rs1) */
#define TEST_R(inst, result, v1)                 \
    li a1, v1; inst a0, a1;                      \
    CHECK_IMM(a0, result)

/* ---------------------------------------------------------------------- */
/* Expected traps                                                          */
/* ---------------------------------------------------------------------- */
/*
 * RVTEST_TRAP_HANDLER emits a machine-mode trap handler and its record
 * (place it once, after RVTEST_PASS).  TRAP_INIT points mtvec at it.
 * TEST_TRAP(cause, insn) runs `insn` expecting a synchronous trap: the handler
 * records mcause/mepc/mtval/mstatus and resumes right after `insn`; then the cause and
 * mepc (= address of insn) are checked.  If insn does not trap, the cause
 * check fails (the record holds -1).  Traps while no TEST_TRAP is armed go to
 * __crt0_trap ("unexpected trap").  The handler clobbers gp only (t0 is
 * saved and restored).  insn must not use t0, t1 or gp.
 */
#define TRAP_SAVE_T0     0
#define TRAP_SAVE_CAUSE  8
#define TRAP_SAVE_EPC    16
#define TRAP_SAVE_TVAL   24
#define TRAP_SAVE_RESUME 32
#define TRAP_SAVE_COUNT  40
#define TRAP_SAVE_STATUS 48

#define RVTEST_TRAP_HANDLER                      \
    .pushsection .bss;                           \
    .balign 64;                                  \
__trap_save: .skip 64;                           \
    .popsection;                                 \
    .balign 256;                                 \
__test_trap_handler:                             \
    la      gp, __trap_save;                     \
    sd      t0, TRAP_SAVE_T0(gp);                \
    csrr    t0, mstatus;                         \
    sd      t0, TRAP_SAVE_STATUS(gp);            \
    csrr    t0, mcause;                          \
    sd      t0, TRAP_SAVE_CAUSE(gp);             \
    csrr    t0, mepc;                            \
    sd      t0, TRAP_SAVE_EPC(gp);               \
    csrr    t0, mtval;                           \
    sd      t0, TRAP_SAVE_TVAL(gp);              \
    ld      t0, TRAP_SAVE_COUNT(gp);             \
    addi    t0, t0, 1;                           \
    sd      t0, TRAP_SAVE_COUNT(gp);             \
    ld      t0, TRAP_SAVE_RESUME(gp);            \
    bnez    t0, __trap_expected;                 \
    j       __crt0_trap;                         \
__trap_expected:                                 \
    csrw    mepc, t0;                            \
    sd      zero, TRAP_SAVE_RESUME(gp);          \
    ld      t0, TRAP_SAVE_T0(gp);                \
    mret;

#define TRAP_INIT                                \
    la      t0, __test_trap_handler;             \
    csrw    mtvec, t0;

#define _RV_CAT(a, b) a##b
#define RV_CAT(a, b) _RV_CAT(a, b)

/* Arm the handler: resume at `label`, record := -1. */
#define TRAP_ARM(label)                          \
    la      t1, __trap_save;                     \
    la      t0, label;                           \
    sd      t0, TRAP_SAVE_RESUME(t1);            \
    li      t0, -1;                              \
    sd      t0, TRAP_SAVE_CAUSE(t1);             \
    sd      t0, TRAP_SAVE_EPC(t1);               \
    sd      t0, TRAP_SAVE_TVAL(t1);

/* Disarm (if no trap happened) and load the record into a3 (cause),
   a4 (epc), a5 (tval). */
#define TRAP_LOAD_RECORD                         \
    la      t1, __trap_save;                     \
    sd      zero, TRAP_SAVE_RESUME(t1);          \
    ld      a3, TRAP_SAVE_CAUSE(t1);             \
    ld      a4, TRAP_SAVE_EPC(t1);               \
    ld      a5, TRAP_SAVE_TVAL(t1);

/* insn must trap with `cause`; mepc must be its address.
   Afterwards a3/a4/a5 hold mcause/mepc/mtval for further checks. */
#define TEST_TRAP(cause, insn...)                \
    TRAP_ARM(RV_CAT(.Ltrap_resume_, __LINE__))   \
RV_CAT(.Ltrap_insn_, __LINE__):                  \
    insn;                                        \
RV_CAT(.Ltrap_resume_, __LINE__):                \
    TRAP_LOAD_RECORD                             \
    CHECK_IMM(a3, cause);                        \
    la      t6, RV_CAT(.Ltrap_insn_, __LINE__);  \
    CHECK(a4, t6)

/* insn must NOT trap (and must run to completion). */
#define TEST_NO_TRAP(insn...)                    \
    TRAP_ARM(RV_CAT(.Ltrap_resume_, __LINE__))   \
    insn;                                        \
RV_CAT(.Ltrap_resume_, __LINE__):                \
    TRAP_LOAD_RECORD                             \
    CHECK_IMM(a3, -1)

#endif
