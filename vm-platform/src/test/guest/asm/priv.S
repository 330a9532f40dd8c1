/*
 * Privilege modes without paging (privileged spec v1.12, chapters 3 and 4):
 * misa S/U, WARL masks of medeleg/mideleg/mie/mstatus.MPP, the sstatus,
 * sie and sip views, M -> S -> U switches with mret/sret and their status
 * stacks, exception delegation (medeleg), interrupt enabling, delegation and
 * priority with the software-writable pending bits (SSIP, STIP, SEIP),
 * wfi with a masked pending interrupt, mstatus.TSR/TW/TVM, illegal
 * privileged instructions in S and U, and the counter-enable rules.
 *
 * Satp stays Bare.  mip reads are masked to the S-level bits (QEMU's spike
 * board may have MTIP pending from its CLINT).  Checks run in M or S only,
 * never in U (U cannot print a failure).  Traps are caught by the recording
 * handlers of priv_frame.h (M_ARM / S_ARM name where execution resumes).
 *
 * QEMU_QUIRKS (run-on-qemu.sh only): QEMU 7.2's default CPU has the H
 * extension (and Sscofpmf), so more medeleg/mideleg/mie bits are writable
 * (medeleg[11] too); only the S/M bits of those are checked there.  It
 * keeps mstatus.MPP = 2 (not a mode: WARL).  It
 * also takes the lowest-numbered pending interrupt first (SSI before STI
 * before SEI) instead of the spec's SEI, SSI, STI, and an mret to S or U
 * does not clear mstatus.MPRV (privileged spec 1.12, 3.1.6.3).
 */
#include "test_macros.h"
#include "priv_frame.h"

#ifdef QEMU_QUIRKS
/* QEMU 7.2 (without AIA) takes the lowest-numbered pending interrupt first. */
#define PRIO_1 1
#define PRIO_2 5
#define PRIO_3 5
#else
/* Spec order: SEI, then SSI, then STI. */
#define PRIO_1 9
#define PRIO_2 1
#define PRIO_3 5
#endif

RVTEST_BEGIN("priv")
    PRIV_FRAME_INIT
    csrw    medeleg, zero
    csrw    mideleg, zero
    csrw    mie, zero
    csrw    mip, zero

    /* ---------------- misa, UXL/SXL, WARL masks ---------------- */
    csrr    a0, misa
    li      t2, (1 << 18) | (1 << 20)
    and     a1, a0, t2
    CHECK(a1, t2)                               /* S and U */
    csrr    a0, mstatus
    srli    a1, a0, 32
    andi    a1, a1, 0xf
    CHECK_IMM(a1, 0xa)                          /* UXL = SXL = 2 (64-bit) */
    li      t2, -1
    csrw    medeleg, t2
    csrr    a0, medeleg
    li      t3, 0xb3ff
    and     a1, a0, t3
    CHECK(a1, t3)                               /* 0-9, 12, 13, 15 delegable */
#ifndef QEMU_QUIRKS
    CHECK_IMM(a0, 0xb3ff)                       /* ecall from M (11) is not */
#endif
    csrw    medeleg, zero
    csrw    mideleg, t2
    csrr    a0, mideleg
    li      t3, 0xaaa
    and     a1, a0, t3
    CHECK_IMM(a1, S_INTS)                       /* S-level ones delegate, M-level not */
#ifndef QEMU_QUIRKS
    CHECK_IMM(a0, S_INTS)
#endif
    csrw    mideleg, zero
    csrw    mie, t2
    csrr    a0, mie
    li      t3, 0xbbb                           /* 0x444: the H extension's VS bits */
    and     a1, a0, t3
    CHECK_IMM(a1, 0xaaa)
#ifndef QEMU_QUIRKS
    CHECK_IMM(a0, 0xaaa)
#endif
    csrw    mie, zero
    /* MPP holds U, S and M */
    li      t2, MSTATUS_MPP
    csrc    mstatus, t2
    csrr    a0, mstatus
    and     a1, a0, t2
    CHECK_IMM(a1, MPP_U)
    li      t3, MPP_S
    csrs    mstatus, t3
    csrr    a0, mstatus
    and     a1, a0, t2
    CHECK_IMM(a1, MPP_S)
#ifndef QEMU_QUIRKS
    /* MPP = 2 is not a mode (WARL): the write leaves MPP alone */
    csrr    a0, mstatus
    li      t3, ~MSTATUS_MPP
    and     a0, a0, t3
    li      t3, 2 << 11
    or      a0, a0, t3
    csrw    mstatus, a0
    csrr    a0, mstatus
    and     a1, a0, t2
    CHECK_IMM(a1, MPP_S)
#endif
    /* mret sets MPP to U, the least-privileged mode */
    li      t2, MPP_M
    csrs    mstatus, t2
    la      t0, 1f
    csrw    mepc, t0
    mret
1:  csrr    a0, mstatus
    li      t2, MSTATUS_MPP
    and     a1, a0, t2
    CHECK_IMM(a1, MPP_U)

    /* ---------------- sstatus is a view of mstatus ---------------- */
    csrr    s1, mstatus
    li      t2, MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR
    csrs    mstatus, t2
    csrr    a0, sstatus
    and     a1, a0, t2
    CHECK_IMM(a1, MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR)
    srli    a1, a0, 32
    andi    a1, a1, 0xf
    CHECK_IMM(a1, 2)                            /* UXL visible, SXL not */
    csrw    sstatus, zero
    csrr    a0, mstatus
    and     a1, a0, t2
    CHECK_IMM(a1, MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR)
    li      t3, MSTATUS_FS
    and     a1, a0, t3
    CHECK_IMM(a1, 0)                            /* FS is in sstatus */
    csrw    mstatus, s1
    csrr    a0, mstatus
    CHECK(a0, s1)

    /* ---------------- sie and sip are views through mideleg ---------------- */
    li      t2, 0xaaa
    csrw    mie, t2
    csrr    a0, sie
    CHECK_IMM(a0, 0)                            /* nothing delegated */
    li      t2, S_INTS
    csrw    mideleg, t2
    csrr    a0, sie
    CHECK_IMM(a0, S_INTS)
    csrw    sie, zero
    csrr    a0, mie
    CHECK_IMM(a0, 0x888)                        /* M-level enables untouched */
    csrw    mie, zero
    /* M sets SSIP and STIP (MIE = 0, and delegated ones never trap in M) */
    li      t2, SSIP | STIP
    csrw    mip, t2
    csrr    a0, mip
    andi    a0, a0, S_INTS
    CHECK_IMM(a0, SSIP | STIP)
    csrr    a0, sip
    CHECK_IMM(a0, SSIP | STIP)
    csrci   sip, SSIP                           /* SSIP is writable through sip */
    csrr    a0, mip
    andi    a0, a0, S_INTS
    CHECK_IMM(a0, STIP)
    csrsi   sip, SSIP
    li      t2, STIP
    csrc    sip, t2                             /* STIP is not */
    csrr    a0, mip
    andi    a0, a0, S_INTS
    CHECK_IMM(a0, SSIP | STIP)
    li      t2, SEIP
    csrs    mip, t2                             /* M may set SEIP */
    csrr    a0, sip
    CHECK_IMM(a0, S_INTS)
    csrw    mideleg, zero
    csrr    a0, sip
    CHECK_IMM(a0, 0)                            /* undelegated: invisible */
    csrw    mip, zero
    csrr    a0, mip
    andi    a0, a0, S_INTS
    CHECK_IMM(a0, 0)

    /* ---------------- mode switches, ecall, illegal accesses ---------------- */
    TRAP_IN_MODE(MPP_S, CAUSE_SUPERVISOR_ECALL, ecall)
    li      t2, MSTATUS_MPP
    and     a1, a6, t2
    CHECK_IMM(a1, MPP_S)                        /* trap from S: MPP = S */
    TRAP_IN_MODE(MPP_U, CAUSE_USER_ECALL, ecall)
    li      t2, MSTATUS_MPP
    and     a1, a6, t2
    CHECK_IMM(a1, MPP_U)
    TRAP_IN_MODE(MPP_M, CAUSE_MACHINE_ECALL, ecall)
    TRAP_IN_MODE(MPP_S, CAUSE_ILLEGAL_INSTRUCTION, csrr a0, mstatus)
    TRAP_IN_MODE(MPP_S, CAUSE_ILLEGAL_INSTRUCTION, csrr a0, mscratch)
    TRAP_IN_MODE(MPP_S, CAUSE_ILLEGAL_INSTRUCTION, mret)
    TRAP_IN_MODE(MPP_U, CAUSE_ILLEGAL_INSTRUCTION, csrr a0, sstatus)
    TRAP_IN_MODE(MPP_U, CAUSE_ILLEGAL_INSTRUCTION, csrr a0, sscratch)
    TRAP_IN_MODE(MPP_U, CAUSE_ILLEGAL_INSTRUCTION, sret)
    CHECK_ILLEGAL_TVAL(0x10200073)
    TRAP_IN_MODE(MPP_U, CAUSE_ILLEGAL_INSTRUCTION, mret)
    TRAP_IN_MODE(MPP_U, CAUSE_ILLEGAL_INSTRUCTION, wfi)
    TRAP_IN_MODE(MPP_U, CAUSE_ILLEGAL_INSTRUCTION, sfence.vma)
    /* S can use its own CSRs */
    RUN_IN_MODE(MPP_S, CAUSE_SUPERVISOR_ECALL, csrw sscratch, sp; csrr a0, sscratch; ecall)
    CHECK(a0, sp)

    /* ---------------- exception delegation ---------------- */
    li      t2, (1 << CAUSE_USER_ECALL) | (1 << CAUSE_ILLEGAL_INSTRUCTION) | (1 << CAUSE_BREAKPOINT)
    csrw    medeleg, t2
    M_ARM(.Ldeleg_done)
    ENTER(MPP_S, .Ldeleg_s)
.Ldeleg_s:
    S_ARM(.Ldeleg_s1)
    la      t0, .Ldeleg_u
    csrw    sepc, t0
    li      t0, MSTATUS_SPP
    csrc    sstatus, t0
    li      t0, MSTATUS_SPIE
    csrs    sstatus, t0                         /* SIE = 1 in U (sie = 0: no interrupts) */
    sret
.Ldeleg_u:
    ecall                                       /* U -> S */
    ecall                                       /* not reached: would be a second trap */
.Ldeleg_s1:
    LOAD_S
    CHECK_IMM(a3, CAUSE_USER_ECALL)
    la      t6, .Ldeleg_u
    CHECK(a4, t6)
    CHECK_IMM(a5, 0)
    andi    a1, a6, MSTATUS_SPP
    CHECK_IMM(a1, 0)                            /* from U */
    andi    a1, a6, MSTATUS_SPIE
    CHECK_IMM(a1, MSTATUS_SPIE)                 /* SPIE <- SIE (1 in U) */
    andi    a1, a6, MSTATUS_SIE
    CHECK_IMM(a1, 0)                            /* SIE <- 0 */
    /* a delegated exception in S stays in S */
    S_ARM(.Ldeleg_s2)
.Ldeleg_ill:
    .word   0x0000106b                          /* reserved opcode: illegal */
.Ldeleg_s2:
    LOAD_S
    CHECK_IMM(a3, CAUSE_ILLEGAL_INSTRUCTION)
    la      t6, .Ldeleg_ill
    CHECK(a4, t6)
    CHECK_ILLEGAL_TVAL(0x0000106b)
    andi    a1, a6, MSTATUS_SPP
    CHECK_IMM(a1, MSTATUS_SPP)                  /* from S */
    S_ARM(.Ldeleg_s3)
.Ldeleg_brk:
    ebreak
.Ldeleg_s3:
    LOAD_S
    CHECK_IMM(a3, CAUSE_BREAKPOINT)
    la      t6, .Ldeleg_brk
    CHECK(a4, t6)
    csrr    a0, scause                          /* the S registers hold the same */
    CHECK_IMM(a0, CAUSE_BREAKPOINT)
    ecall                                       /* ecall from S is not delegated */
    ebreak
.Ldeleg_done:
    LOAD_M
    CHECK_IMM(a3, CAUSE_SUPERVISOR_ECALL)
    /* a delegated exception raised in M is taken in M */
    M_ARM(.Ldeleg_m)
    ebreak
.Ldeleg_m:
    LOAD_M
    CHECK_IMM(a3, CAUSE_BREAKPOINT)
    csrw    medeleg, zero

    /* ---------------- interrupts: delegated SSI in S, SIE = 1 ---------------- */
    li      t2, S_INTS
    csrw    mideleg, t2
    li      t2, SSIP
    csrw    mie, t2
    csrci   sstatus, MSTATUS_SIE
    M_ARM(.Lint1_m)
    ENTER(MPP_S, .Lint1_s)
.Lint1_s:
    S_ARM(.Lint1_taken)
    csrsi   sstatus, MSTATUS_SIE
    csrsi   sip, SSIP                           /* pending + enabled: taken now */
.Lint1_after:
    nop
.Lint1_taken:
    LOAD_S
    li      t6, INTERRUPT | 1
    CHECK(a3, t6)
    la      t6, .Lint1_after
    CHECK(a4, t6)                               /* sepc = the next instruction */
    CHECK_IMM(a5, 0)
    andi    a1, a6, MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_SPP
    CHECK_IMM(a1, MSTATUS_SPIE | MSTATUS_SPP)
    csrr    a0, sip
    CHECK_IMM(a0, 0)                            /* the handler cleared SSIP */

    /* SIE = 0 in S: a pending delegated interrupt waits ... */
    csrci   sstatus, MSTATUS_SIE
    S_ARM(.Lint2_wrong)
    li      t2, SSIP
    csrw    sie, t2
    csrsi   sip, SSIP
    nop
.Lint2_wrong:
    LOAD_S
    CHECK_IMM(a3, -1)
    /* ... and is taken as soon as S drops to U (SIE does not matter below S) */
    S_ARM(.Lint2_taken)
    la      t0, .Lint2_u
    csrw    sepc, t0
    li      t0, MSTATUS_SPP
    csrc    sstatus, t0
    sret
.Lint2_u:
    nop
    ebreak
.Lint2_taken:
    LOAD_S
    li      t6, INTERRUPT | 1
    CHECK(a3, t6)
    la      t6, .Lint2_u
    CHECK(a4, t6)
    andi    a1, a6, MSTATUS_SPP
    CHECK_IMM(a1, 0)
    ecall
.Lint1_m:
    LOAD_M
    CHECK_IMM(a3, CAUSE_SUPERVISOR_ECALL)

    /* ---------------- priority among S-level interrupts: SEI, SSI, STI ---------------- */
    li      t2, S_INTS
    csrw    mip, t2                             /* delegated: never taken in M */
    csrw    mie, t2
    csrsi   mstatus, MSTATUS_MIE
    nop
    csrci   mstatus, MSTATUS_MIE
    csrci   sstatus, MSTATUS_SIE
    M_ARM(.Lprio_m)
    ENTER(MPP_S, .Lprio_s)
.Lprio_s:
    S_ARM(.Lprio_1)
    csrsi   sstatus, MSTATUS_SIE
    nop
.Lprio_1:
    LOAD_S
    li      t6, INTERRUPT | PRIO_1
    CHECK(a3, t6)
    S_ARM(.Lprio_2)
    li      t2, SSIP | STIP
    csrs    sie, t2                             /* SEIE stays off; SIE = 1 after sret */
    nop
.Lprio_2:
    LOAD_S
    li      t6, INTERRUPT | PRIO_2
    CHECK(a3, t6)
    S_ARM(.Lprio_3)
    li      t2, STIP
    csrs    sie, t2
    nop
.Lprio_3:
    LOAD_S
    li      t6, INTERRUPT | PRIO_3
    CHECK(a3, t6)
    ecall
.Lprio_m:
    LOAD_M
    CHECK_IMM(a3, CAUSE_SUPERVISOR_ECALL)
    csrw    mip, zero

    /* ---------------- an M-level interrupt is taken in S whatever MIE says ---------------- */
    csrw    mideleg, zero
    li      t2, SSIP
    csrw    mie, t2
    csrw    mip, t2                             /* for M; MIE = 0 in M: waits */
    M_ARM(.Lmint_wrong)
    nop
.Lmint_wrong:
    LOAD_M
    CHECK_IMM(a3, -1)
    /* wfi completes with a pending enabled interrupt even though it is masked */
    wfi
    CHECK_REACHED
    M_ARM(.Lmint_taken)
    li      t2, SSIP
    csrw    mie, t2
    ENTER(MPP_S, .Lmint_s)
.Lmint_s:
    nop
    ecall
.Lmint_taken:
    LOAD_M
    li      t6, INTERRUPT | 1
    CHECK(a3, t6)
    la      t6, .Lmint_s
    CHECK(a4, t6)
    li      t2, MSTATUS_MPP
    and     a1, a6, t2
    CHECK_IMM(a1, MPP_S)
    /* in M with MIE = 1 it is taken right after the enabling instruction */
    li      t2, SSIP
    csrw    mie, t2
    M_ARM(.Lmint_m)
    csrsi   mstatus, MSTATUS_MIE
.Lmint_after:
    nop
.Lmint_m:
    csrci   mstatus, MSTATUS_MIE
    LOAD_M
    li      t6, INTERRUPT | 1
    CHECK(a3, t6)
    la      t6, .Lmint_after
    CHECK(a4, t6)
    csrw    mip, zero

    /* ---------------- TSR, TW, TVM ---------------- */
    li      t2, MSTATUS_TSR | MSTATUS_TW | MSTATUS_TVM
    csrs    mstatus, t2
    TRAP_IN_MODE(MPP_S, CAUSE_ILLEGAL_INSTRUCTION, sret)
    CHECK_ILLEGAL_TVAL(0x10200073)
    TRAP_IN_MODE(MPP_S, CAUSE_ILLEGAL_INSTRUCTION, wfi)
    CHECK_ILLEGAL_TVAL(0x10500073)
    TRAP_IN_MODE(MPP_S, CAUSE_ILLEGAL_INSTRUCTION, sfence.vma)
    CHECK_ILLEGAL_TVAL(0x12000073)
    TRAP_IN_MODE(MPP_S, CAUSE_ILLEGAL_INSTRUCTION, csrr a0, satp)
    CHECK_ILLEGAL_TVAL(0x18002573)
    TRAP_IN_MODE(MPP_S, CAUSE_ILLEGAL_INSTRUCTION, csrw satp, zero)
    li      t2, MSTATUS_TSR | MSTATUS_TW | MSTATUS_TVM
    csrc    mstatus, t2
    /* without them: satp and sfence.vma are fine in S, and so is sret */
    RUN_IN_MODE(MPP_S, CAUSE_SUPERVISOR_ECALL, csrr a0, satp; sfence.vma; csrw satp, zero; ecall)
    M_ARM(.Lsret_m)
    ENTER(MPP_S, .Lsret_s)
.Lsret_s:
    /* sret back to S: SIE <- SPIE (0), SPIE <- 1, SPP <- U */
    li      t0, MSTATUS_SPP | MSTATUS_SIE
    csrs    sstatus, t0
    li      t0, MSTATUS_SPIE
    csrc    sstatus, t0
    la      t0, .Lsret_s2
    csrw    sepc, t0
    sret
    ebreak
.Lsret_s2:
    csrr    a0, sstatus
    andi    a1, a0, MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_SPP
    CHECK_IMM(a1, MSTATUS_SPIE)
    ecall
.Lsret_m:
    LOAD_M
    CHECK_IMM(a3, CAUSE_SUPERVISOR_ECALL)
    /* mret below M clears MPRV; mret to M keeps it */
    li      t2, MSTATUS_MPRV
    csrs    mstatus, t2
    TRAP_IN_MODE(MPP_S, CAUSE_SUPERVISOR_ECALL, ecall)
#ifndef QEMU_QUIRKS     /* QEMU 7.2 leaves MPRV set */
    li      t2, MSTATUS_MPRV
    and     a1, a6, t2
    CHECK_IMM(a1, 0)
#endif
    li      t2, MSTATUS_MPRV
    csrc    mstatus, t2
    li      t2, MSTATUS_MPRV | MSTATUS_MPP
    csrs    mstatus, t2
    la      t0, 1f
    csrw    mepc, t0
    mret
1:  csrr    a0, mstatus
    li      t2, MSTATUS_MPRV
    csrc    mstatus, t2
    and     a1, a0, t2
    CHECK_IMM(a1, MSTATUS_MPRV)

    /* ---------------- counter enables ---------------- */
    csrw    mcounteren, zero
    csrw    scounteren, zero
    TRAP_IN_MODE(MPP_S, CAUSE_ILLEGAL_INSTRUCTION, rdcycle a0)
    TRAP_IN_MODE(MPP_S, CAUSE_ILLEGAL_INSTRUCTION, rdinstret a0)
    TRAP_IN_MODE(MPP_U, CAUSE_ILLEGAL_INSTRUCTION, rdcycle a0)
    csrwi   mcounteren, 5                       /* CY, IR */
    RUN_IN_MODE(MPP_S, CAUSE_SUPERVISOR_ECALL, rdcycle a0; rdinstret a0; ecall)
    TRAP_IN_MODE(MPP_U, CAUSE_ILLEGAL_INSTRUCTION, rdcycle a0)   /* scounteren = 0 */
    csrwi   scounteren, 5
    RUN_IN_MODE(MPP_U, CAUSE_USER_ECALL, rdcycle a0; rdinstret a0; ecall)
    csrwi   mcounteren, 1                       /* U needs both enables */
    TRAP_IN_MODE(MPP_U, CAUSE_ILLEGAL_INSTRUCTION, rdinstret a0)
    TRAP_IN_MODE(MPP_S, CAUSE_ILLEGAL_INSTRUCTION, rdinstret a0)
    csrw    mcounteren, zero
    csrw    scounteren, zero

RVTEST_PASS

PRIV_FRAME_HANDLERS
