/*
 * Machine-mode synchronous traps and mret (privileged spec, "Machine-Level
 * ISA"): ecall (cause 11, mtval 0), ebreak (cause 3, mtval 0 or pc), illegal
 * instruction (cause 2, mtval 0 or the instruction bits), load / store /
 * fetch access faults on unmapped addresses (causes 5 / 7 / 1, mtval = the
 * address), misaligned AMO (cause 6), FP instructions with mstatus.FS = Off
 * (cause 2), the mstatus MIE/MPIE/MPP stack on trap entry and on mret, and
 * vectored mtvec (exceptions still go to BASE).
 *
 * Unmapped addresses: 0x800..0x8ff (below the boot ROM at 0x1000 on QEMU's
 * spike and virt boards and on Rivet's board).
 *
 * QEMU_QUIRKS (run-on-qemu.sh only): QEMU 7.2 reports AMO faults as load
 * faults: a misaligned AMO as cause 4 instead of 6, an AMO to an unmapped
 * address as cause 5 instead of 7.
 */
#include "test_macros.h"

#ifdef QEMU_QUIRKS
#define AMO_MISALIGNED_CAUSE CAUSE_MISALIGNED_LOAD
#define AMO_ACCESS_CAUSE     CAUSE_LOAD_ACCESS
#else
#define AMO_MISALIGNED_CAUSE CAUSE_MISALIGNED_STORE
#define AMO_ACCESS_CAUSE     CAUSE_STORE_ACCESS
#endif

#define UNMAPPED 0x800

    .bss
    .balign 16
tbuf:
    .skip 64

RVTEST_BEGIN("traps")
    TRAP_INIT
    csrr    a0, mtvec
    la      t6, __test_trap_handler
    CHECK(a0, t6)                           /* direct mode, 256-byte aligned base */

    /* ---------------- ecall ---------------- */
    TEST_TRAP(CAUSE_MACHINE_ECALL, ecall)
    CHECK_IMM(a5, 0)                        /* mtval = 0 */
    /* trap entry: MPIE <- MIE, MIE <- 0, MPP <- M */
    csrsi   mstatus, MSTATUS_MIE            /* mie = 0: nothing can interrupt */
    TEST_TRAP(CAUSE_MACHINE_ECALL, ecall)
    la      t1, __trap_save
    ld      a0, TRAP_SAVE_STATUS(t1)
    andi    a1, a0, MSTATUS_MIE
    CHECK_IMM(a1, 0)
    andi    a1, a0, MSTATUS_MPIE
    CHECK_IMM(a1, MSTATUS_MPIE)
    li      t2, MSTATUS_MPP
    and     a1, a0, t2
    CHECK(a1, t2)                           /* MPP = 3 (M) */
    /* ... and mret restored MIE from MPIE */
    csrr    a0, mstatus
    andi    a1, a0, MSTATUS_MIE
    CHECK_IMM(a1, MSTATUS_MIE)
    csrci   mstatus, MSTATUS_MIE
    TEST_TRAP(CAUSE_MACHINE_ECALL, ecall)
    la      t1, __trap_save
    ld      a0, TRAP_SAVE_STATUS(t1)
    andi    a1, a0, MSTATUS_MPIE
    CHECK_IMM(a1, 0)                        /* MPIE <- MIE = 0 */
    /* a compressed-neighbour ecall: mepc is exact */
    .option push
    .option rvc
    c.nop
    TEST_TRAP(CAUSE_MACHINE_ECALL, ecall)
    .option pop

    /* ---------------- ebreak ---------------- */
    TEST_TRAP(CAUSE_BREAKPOINT, ebreak)
    /* mtval: 0 or the address of the ebreak */
    beqz    a5, 1f
    mv      t2, a4
    j       2f
1:  li      t2, 0
2:  CHECK(a5, t2)

    /* ---------------- illegal instruction ---------------- */
    /* opcode 1101011 is reserved in the base opcode map */
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, .word 0x1234506b)
    beqz    a5, 1f
    li      t2, 0x1234506b
    j       2f
1:  li      t2, 0
2:  CHECK(a5, t2)                           /* mtval: 0 or the instruction bits */
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, .word 0x00000000)
    CHECK_IMM(a5, 0)
    /* mret is fine in M-mode, but a CSR that does not exist is not */
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrr a0, 0x0ff)

    /* ---------------- FP disabled (mstatus.FS = Off) ---------------- */
    li      t2, MSTATUS_FS
    csrc    mstatus, t2
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, fadd.d fa0, fa1, fa2)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, fmv.x.d a0, fa0)
    la      a1, tbuf
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, fld fa0, 0(a1))
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrr a0, fcsr)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, csrr a0, fflags)
    li      t2, MSTATUS_FS
    csrs    mstatus, t2
    TEST_NO_TRAP(fadd.d fa0, fa1, fa2)

    /* ---------------- access faults ---------------- */
    li      a1, UNMAPPED + 8
    TEST_TRAP(CAUSE_LOAD_ACCESS, ld a0, 0(a1))
    CHECK(a5, a1)                           /* mtval = address */
    TEST_TRAP(CAUSE_LOAD_ACCESS, lbu a0, 3(a1))
    addi    t2, a1, 3
    CHECK(a5, t2)
    TEST_TRAP(CAUSE_LOAD_ACCESS, ld zero, 0(a1))    /* rd = x0 still faults */
    li      a0, 0x77
    TEST_TRAP(CAUSE_LOAD_ACCESS, lw a0, 16(a1))
    CHECK_IMM(a0, 0x77)                     /* rd not written */
    li      a2, 0x1234
    TEST_TRAP(CAUSE_STORE_ACCESS, sd a2, 0(a1))
    CHECK(a5, a1)
    TEST_TRAP(CAUSE_STORE_ACCESS, sb a2, 5(a1))
    addi    t2, a1, 5
    CHECK(a5, t2)
    la      a3, tbuf
    TEST_TRAP(AMO_ACCESS_CAUSE, amoadd.d a0, a2, (a1))     /* AMO: store/AMO fault */
    CHECK(a5, a1)

    /* instruction fetch from an unmapped address: mepc = mtval = target,
       and the jump itself completed (ra written) */
    li      a1, UNMAPPED
    TRAP_ARM(.Lfetch_resume)
.Lfetch_jump:
    jalr    ra, 0(a1)
.Lfetch_resume:
    TRAP_LOAD_RECORD
    CHECK_IMM(a3, CAUSE_FETCH_ACCESS)
    CHECK(a4, a1)
    CHECK(a5, a1)
    la      t2, .Lfetch_jump
    addi    t2, t2, 4
    CHECK(ra, t2)

    /* ---------------- misaligned AMO ---------------- */
    la      a1, tbuf
    addi    a1, a1, 4
    TEST_TRAP(AMO_MISALIGNED_CAUSE, amoswap.d a0, a2, (a1))
    CHECK(a5, a1)

    /* ---------------- mret ---------------- */
    /* MPIE = 1, MIE = 0, MPP = M, mepc = target: after mret MIE = 1,
       MPIE = 1, MPP = U (least-privileged supported mode), pc = mepc */
    li      t2, MSTATUS_MPP
    csrs    mstatus, t2
    li      t2, MSTATUS_MPIE
    csrs    mstatus, t2
    csrci   mstatus, MSTATUS_MIE
    la      t2, .Lmret1
    csrw    mepc, t2
    li      a0, 0
    mret
    li      a0, 1                           /* skipped */
.Lmret1:
    CHECK_IMM(a0, 0)
    csrr    a0, mstatus
    andi    a1, a0, MSTATUS_MIE
    CHECK_IMM(a1, MSTATUS_MIE)
    andi    a1, a0, MSTATUS_MPIE
    CHECK_IMM(a1, MSTATUS_MPIE)
    li      t2, MSTATUS_MPP
    and     a1, a0, t2
    /* Privileged spec 3.3.2: mret sets MPP to the least-privileged supported
       mode: U when misa.U is set, otherwise M. */
    csrr    t3, misa
    srli    t3, t3, 20                      /* bit 'U' - 'A' */
    andi    t3, t3, 1
    li      t4, MSTATUS_MPP
    beqz    t3, 1f
    li      t4, 0
1:  CHECK(a1, t4)
    /* MPIE = 0, MIE = 1: after mret MIE = 0, MPIE = 1 */
    li      t2, MSTATUS_MPP
    csrs    mstatus, t2
    li      t2, MSTATUS_MPIE
    csrc    mstatus, t2
    csrsi   mstatus, MSTATUS_MIE
    la      t2, .Lmret2
    csrw    mepc, t2
    mret
    FAIL_HERE
.Lmret2:
    csrr    a0, mstatus
    andi    a1, a0, MSTATUS_MIE
    CHECK_IMM(a1, 0)
    andi    a1, a0, MSTATUS_MPIE
    CHECK_IMM(a1, MSTATUS_MPIE)
    /* mret to a 2-mod-4 address (legal with C) */
    li      t2, MSTATUS_MPP
    csrs    mstatus, t2
    la      t2, .Lmret3
    csrw    mepc, t2
    li      a0, 5
    mret
    .option push
    .option rvc
    .balign 4
    c.nop
.Lmret3:
    c.addi  a0, 1
    .option pop
    CHECK_IMM(a0, 6)
    la      t2, .Lmret3
    andi    t2, t2, 3
    CHECK_IMM(t2, 2)

    /* ---------------- vectored mtvec: exceptions go to BASE ---------------- */
    la      t2, .Lvec_table
    ori     t2, t2, 1
    csrw    mtvec, t2
    csrr    a0, mtvec
    CHECK(a0, t2)                           /* vectored mode is supported */
    TEST_TRAP(CAUSE_MACHINE_ECALL, ecall)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, .word 0x1234506b)
    li      a1, UNMAPPED
    TEST_TRAP(CAUSE_LOAD_ACCESS, ld a0, 0(a1))
    TRAP_INIT                               /* back to direct mode */
    TEST_TRAP(CAUSE_BREAKPOINT, ebreak)

RVTEST_PASS

    /* vector table: entry 0 (exceptions) -> the normal handler; an entry
       selected by the cause (wrong for exceptions) fails the test */
    .option push
    .option norvc
    .balign 256
.Lvec_table:
    j       __test_trap_handler
    .rept 15
    j       .Lvec_wrong
    .endr
.Lvec_wrong:
    FAIL_HERE
    .option pop

RVTEST_TRAP_HANDLER
