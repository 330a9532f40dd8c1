/*
 * Zicsr / Zicntr: csrrw, csrrs, csrrc and the immediate forms (on mscratch),
 * returned old values, read-only CSRs (write attempt -> illegal instruction;
 * csrrs/csrrc with rs1 = x0 and csrrsi/csrrci with uimm = 0 do NOT write and
 * do not trap; csrrw(i) always writes), a non-existent CSR, counters that
 * increase, misa (RV64 with I, M, A, F, D, C), mhartid, mepc[0] = 0,
 * and the fcsr / frm / fflags aliasing.
 *
 * QEMU_QUIRKS (run-on-qemu.sh only): QEMU 7.2 does not clear mepc[0] on a
 * CSR write (privileged spec: "mepc[0] is always zero").
 * QEMU must run with -icount (run-on-qemu.sh does): without it minstret
 * follows host ticks, not retired instructions.
 */
#include "test_macros.h"

RVTEST_BEGIN("zicsr")
    TRAP_INIT

    /* ---------------- register forms on mscratch ---------------- */
    li      a1, 0x0123456789abcdef
    csrw    mscratch, a1
    csrr    a0, mscratch
    CHECK(a0, a1)
    li      a2, 0xfedcba9876543210
    csrrw   a0, mscratch, a2                /* returns the old value */
    CHECK(a0, a1)
    csrr    a0, mscratch
    CHECK(a0, a2)
    li      a2, 0x00000000000000ff
    csrrs   a0, mscratch, a2                /* set bits */
    CHECK_IMM(a0, 0xfedcba9876543210)
    csrr    a0, mscratch
    CHECK_IMM(a0, 0xfedcba98765432ff)
    li      a2, 0xf0000000000000f0
    csrrc   a0, mscratch, a2                /* clear bits */
    CHECK_IMM(a0, 0xfedcba98765432ff)
    csrr    a0, mscratch
    CHECK_IMM(a0, 0x0edcba987654320f)
    csrrs   a0, mscratch, zero              /* read only */
    CHECK_IMM(a0, 0x0edcba987654320f)
    csrrc   a0, mscratch, zero
    CHECK_IMM(a0, 0x0edcba987654320f)
    /* rd == rs1 */
    li      a3, -1
    csrrw   a3, mscratch, a3
    CHECK_IMM(a3, 0x0edcba987654320f)
    csrr    a0, mscratch
    CHECK_IMM(a0, -1)
    /* rd = x0 still writes */
    li      a3, 0x55
    csrrw   zero, mscratch, a3
    csrr    a0, mscratch
    CHECK_IMM(a0, 0x55)

    /* ---------------- immediate forms (5-bit zero-extended uimm) ---------------- */
    csrrwi  a0, mscratch, 31
    CHECK_IMM(a0, 0x55)
    csrr    a0, mscratch
    CHECK_IMM(a0, 31)
    csrrwi  a0, mscratch, 16                /* uimm[4] set: still zero-extended */
    csrr    a0, mscratch
    CHECK_IMM(a0, 16)
    li      a1, 0x8000000000000000
    csrw    mscratch, a1
    csrrsi  a0, mscratch, 0x11
    CHECK_IMM(a0, 0x8000000000000000)
    csrr    a0, mscratch
    CHECK_IMM(a0, 0x8000000000000011)
    csrrci  a0, mscratch, 0x1
    CHECK_IMM(a0, 0x8000000000000011)
    csrr    a0, mscratch
    CHECK_IMM(a0, 0x8000000000000010)
    csrrci  a0, mscratch, 0x1f
    csrr    a0, mscratch
    CHECK_IMM(a0, 0x8000000000000000)
    csrrsi  a0, mscratch, 0                 /* pure read */
    CHECK_IMM(a0, 0x8000000000000000)

    /* ---------------- read-only CSRs ---------------- */
    csrr    a0, mhartid
    CHECK_IMM(a0, 0)
    TEST_NO_TRAP(csrrs a0, mhartid, zero)
    TEST_NO_TRAP(csrrc a0, mvendorid, zero)
    TEST_NO_TRAP(csrrsi a0, marchid, 0)
    TEST_NO_TRAP(csrrci a0, mimpid, 0)
    TEST_NO_TRAP(csrr a0, cycle)
    TEST_NO_TRAP(csrr a0, instret)
    li      a1, 1
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrw mhartid, a1)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrrw a0, mvendorid, zero)  /* csrrw always writes */
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrrs a0, marchid, a1)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrrc a0, mimpid, a1)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrrwi a0, mhartid, 0)     /* csrrwi always writes */
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrrsi a0, mhartid, 1)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrrci a0, mhartid, 1)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrw cycle, a1)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrw instret, a1)
    /* the failed writes changed nothing */
    csrr    a0, mhartid
    CHECK_IMM(a0, 0)
    /* a non-existent CSR (0x0ff: unallocated standard user CSR) */
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrr a0, 0x0ff)
    /* a trapping csr instruction leaves rd unchanged */
    li      a0, 0x1234
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrrw a0, mhartid, a1)
    CHECK_IMM(a0, 0x1234)

    /* ---------------- misa ---------------- */
    csrr    a0, misa
    srli    a1, a0, 62
    CHECK_IMM(a1, 2)                        /* MXL = 2: RV64 */
    li      t2, (1 << 8) | (1 << 12) | (1 << 0) | (1 << 5) | (1 << 3) | (1 << 2)   /* I M A F D C */
    and     a1, a0, t2
    CHECK(a1, t2)
    li      t2, (1 << 4) | (1 << 6) | (1 << 16)   /* no E, no G bit (reserved), no Q */
    and     a1, a0, t2
    CHECK_IMM(a1, 0)

    /* ---------------- mepc[0] is always zero ---------------- */
#ifndef QEMU_QUIRKS     /* QEMU 7.2 keeps bit 0 of a value written to mepc */
    li      a1, 0x80001233
    csrw    mepc, a1
    csrr    a0, mepc
    CHECK_IMM(a0, 0x80001232)
#endif
    li      a1, 0x80001236
    csrw    mepc, a1
    csrr    a0, mepc
    CHECK_IMM(a0, 0x80001236)               /* IALIGN = 16: bit 1 kept */

    /* ---------------- mtvec holds a 4-byte-aligned base ---------------- */
    csrr    s1, mtvec
    la      a1, __test_trap_handler
    CHECK(s1, a1)
    li      a1, 0x80004000
    csrw    mtvec, a1
    csrr    a0, mtvec
    CHECK_IMM(a0, 0x80004000)
    csrw    mtvec, s1

    /* ---------------- mstatus.MIE toggling (mie = 0: no interrupt can fire) ---------------- */
    csrci   mstatus, MSTATUS_MIE
    csrrsi  a0, mstatus, MSTATUS_MIE
    andi    a0, a0, MSTATUS_MIE
    CHECK_IMM(a0, 0)
    csrr    a0, mstatus
    andi    a0, a0, MSTATUS_MIE
    CHECK_IMM(a0, MSTATUS_MIE)
    csrrci  a0, mstatus, MSTATUS_MIE
    andi    a0, a0, MSTATUS_MIE
    CHECK_IMM(a0, MSTATUS_MIE)
    csrr    a0, mstatus
    andi    a0, a0, MSTATUS_MIE
    CHECK_IMM(a0, 0)

    /* ---------------- counters increase ---------------- */
    csrr    s2, minstret
    csrr    s3, mcycle
    csrr    s4, instret
    csrr    s5, cycle
    li      t2, 200
1:  addi    t2, t2, -1
    bnez    t2, 1b
    csrr    a0, minstret
    sltu    a1, s2, a0
    CHECK_IMM(a1, 1)
    csrr    a0, mcycle
    sltu    a1, s3, a0
    CHECK_IMM(a1, 1)
    csrr    a0, instret
    sltu    a1, s4, a0
    CHECK_IMM(a1, 1)
    csrr    a0, cycle
    sltu    a1, s5, a0
    CHECK_IMM(a1, 1)
    /* minstret / mcycle are writable; they count on from the written value */
    li      a1, 0x100000000000
    csrw    minstret, a1
    csrr    a0, minstret
    sub     a0, a0, a1
    sltiu   a0, a0, 1000                    /* within a few instructions */
    CHECK_IMM(a0, 1)
    csrw    mcycle, a1
    csrr    a0, mcycle
    sub     a0, a0, a1
    li      t2, 100000000
    sltu    a0, a0, t2
    CHECK_IMM(a0, 1)

    /* ---------------- fcsr / frm / fflags aliasing ---------------- */
    csrwi   fcsr, 0
    li      a1, 0xe5                        /* frm = 7, fflags = 0x05 */
    csrw    fcsr, a1
    csrr    a0, frm
    CHECK_IMM(a0, 7)
    csrr    a0, fflags
    CHECK_IMM(a0, 0x05)
    csrr    a0, fcsr
    CHECK_IMM(a0, 0xe5)
    csrrwi  a0, frm, 3                      /* returns the old frm */
    CHECK_IMM(a0, 7)
    csrr    a0, fcsr
    CHECK_IMM(a0, 0x65)
    csrrwi  a0, fflags, 0x1a
    CHECK_IMM(a0, 0x05)
    csrr    a0, fcsr
    CHECK_IMM(a0, 0x7a)
    csrr    a0, frm
    CHECK_IMM(a0, 3)
    csrrsi  a0, fflags, 0x01
    CHECK_IMM(a0, 0x1a)
    csrrci  a0, fflags, 0x10
    CHECK_IMM(a0, 0x1b)
    csrr    a0, fcsr
    CHECK_IMM(a0, 0x6b)
    csrrs   a0, frm, zero
    CHECK_IMM(a0, 3)
    csrrci  a0, frm, 2
    csrr    a0, fcsr
    CHECK_IMM(a0, 0x2b)                     /* frm = 1 */
    csrrw   a0, fcsr, zero
    CHECK_IMM(a0, 0x2b)
    csrr    a0, frm
    CHECK_IMM(a0, 0)
    csrr    a0, fflags
    CHECK_IMM(a0, 0)
    /* an FP instruction's flags appear in fflags and fcsr */
    li      a1, 0x3ff0000000000000          /* 1.0 */
    li      a2, 0x4008000000000000          /* 3.0 */
    fmv.d.x fa1, a1
    fmv.d.x fa2, a2
    fdiv.d  fa0, fa1, fa2                   /* 1/3: inexact */
    csrr    a0, fflags
    CHECK_IMM(a0, FFLAG_NX)
    csrr    a0, fcsr
    CHECK_IMM(a0, FFLAG_NX)
    csrwi   fcsr, 0

RVTEST_PASS
RVTEST_TRAP_HANDLER
