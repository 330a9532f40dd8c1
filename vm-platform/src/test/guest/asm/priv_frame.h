/*
 * Trap framework for the privilege tests (priv.S, paging.S): constants,
 * mode switches and two recording trap handlers.
 *
 *  - A trap into M records mcause/mepc/mtval/mstatus and resumes in M, with
 *    MIE = 0 and MPRV = 0, at the label armed by M_ARM.  (MPRV is cleared
 *    because the handler's mret leaves MPP = U behind.)
 *  - A trap into S records scause/sepc/stval/sstatus and resumes in S at the
 *    label armed by S_ARM.
 *  - An unarmed trap fails the test (into S: the handler's ecall reaches M
 *    unarmed -> __crt0_trap).
 *  - On an interrupt the handlers disable every source (mie / sie = 0); the
 *    S handler also clears SSIP after a supervisor software interrupt.
 *
 * Install with PRIV_FRAME_INIT (mtvec, stvec, PMP entry 0 = everything RWX
 * for S and U: QEMU enforces PMP, Rivet does not) and emit the handlers once
 * with PRIV_FRAME_HANDLERS after RVTEST_PASS.  Register use: t0, t1 (and t6
 * and a3..a6 in the checking macros).
 */
#ifndef RIVET_PRIV_FRAME_H
#define RIVET_PRIV_FRAME_H

#define MSTATUS_SUM   (1 << 18)
#define MSTATUS_MXR   (1 << 19)
#define MSTATUS_TVM   (1 << 20)
#define MSTATUS_TW    (1 << 21)
#define MSTATUS_TSR   (1 << 22)
#define MPP_U         (0 << 11)
#define MPP_S         (1 << 11)
#define MPP_M         (3 << 11)
#define SSIP          (1 << 1)
#define STIP          (1 << 5)
#define SEIP          (1 << 9)
#define S_INTS        (SSIP | STIP | SEIP)
#define INTERRUPT     (1 << 63)

/* record layout */
#define M_RESUME  0
#define M_CAUSE   8
#define M_EPC     16
#define M_TVAL    24
#define M_STATUS  32
#define M_SAVE    40
#define S_RESUME  48
#define S_CAUSE   56
#define S_EPC     64
#define S_TVAL    72
#define S_STATUS  80
#define S_SAVE    88

/* The next trap into M resumes in M at label. */
#define M_ARM(label)                 \
    la      t1, rec;                 \
    la      t0, label;               \
    sd      t0, M_RESUME(t1);        \
    li      t0, -1;                  \
    sd      t0, M_CAUSE(t1);
/* The next trap into S resumes in S at label. */
#define S_ARM(label)                 \
    la      t1, rec;                 \
    la      t0, label;               \
    sd      t0, S_RESUME(t1);        \
    li      t0, -1;                  \
    sd      t0, S_CAUSE(t1);
/* From M: enter mode mpp at label with mret. */
#define ENTER(mpp, label)            \
    li      t0, MSTATUS_MPP;         \
    csrc    mstatus, t0;             \
    li      t0, mpp;                 \
    csrs    mstatus, t0;             \
    la      t0, label;               \
    csrw    mepc, t0;                \
    mret;
/* a3..a6 = cause, epc, tval, status of the last trap into M / S */
#define LOAD_M                       \
    la      t1, rec;                 \
    ld      a3, M_CAUSE(t1);         \
    ld      a4, M_EPC(t1);           \
    ld      a5, M_TVAL(t1);          \
    ld      a6, M_STATUS(t1);
#define LOAD_S                       \
    la      t1, rec;                 \
    ld      a3, S_CAUSE(t1);         \
    ld      a4, S_EPC(t1);           \
    ld      a5, S_TVAL(t1);          \
    ld      a6, S_STATUS(t1);
/* Run insn in mode mpp: it must trap to M with cause; mepc = its address. */
#define TRAP_IN_MODE(mpp, cause, insn...)               \
    M_ARM(RV_CAT(.Lres_, __LINE__))                     \
    ENTER(mpp, RV_CAT(.Lins_, __LINE__))                \
RV_CAT(.Lins_, __LINE__):                               \
    insn;                                               \
    ebreak;                                             \
RV_CAT(.Lres_, __LINE__):                               \
    LOAD_M                                              \
    CHECK_IMM(a3, cause);                               \
    la      t6, RV_CAT(.Lins_, __LINE__);               \
    CHECK(a4, t6)
/* Run insns in mode mpp: the last one must trap to M with cause. */
#define RUN_IN_MODE(mpp, cause, insns...)               \
    M_ARM(RV_CAT(.Lres_, __LINE__))                     \
    ENTER(mpp, RV_CAT(.Lins_, __LINE__))                \
RV_CAT(.Lins_, __LINE__):                               \
    insns;                                              \
    ebreak;                                             \
RV_CAT(.Lres_, __LINE__):                               \
    LOAD_M                                              \
    CHECK_IMM(a3, cause)
/* a5 (tval of an illegal instruction) is 0 or the instruction's bits. */
#define CHECK_ILLEGAL_TVAL(bits)     \
    beqz    a5, 1f;                  \
    li      t6, bits;                \
    j       2f;                      \
1:  li      t6, 0;                   \
2:  CHECK(a5, t6)


#define PRIV_FRAME_INIT              \
    li      t0, -1;                  \
    csrw    pmpaddr0, t0;            \
    li      t0, 0x1f;                \
    csrw    pmpcfg0, t0;             \
    la      t0, m_handler;           \
    csrw    mtvec, t0;               \
    la      t0, s_handler;           \
    csrw    stvec, t0;

/* The two handlers and their record (emit once, after RVTEST_PASS). */
.macro PRIV_FRAME_HANDLERS
    .pushsection .bss
    .balign 64
rec:
    .skip   128
    .popsection

    .balign 4
m_handler:
    csrw    mscratch, t0
    la      t0, rec
    sd      t1, M_SAVE(t0)
    csrr    t1, mcause
    sd      t1, M_CAUSE(t0)
    csrr    t1, mepc
    sd      t1, M_EPC(t0)
    csrr    t1, mtval
    sd      t1, M_TVAL(t0)
    csrr    t1, mstatus
    sd      t1, M_STATUS(t0)
    csrr    t1, mcause
    bgez    t1, 1f
    csrw    mie, zero                   /* interrupt: silence every source */
1:  ld      t1, M_RESUME(t0)
    beqz    t1, 2f
    csrw    mepc, t1
    sd      zero, M_RESUME(t0)
    li      t1, MSTATUS_MPP
    csrs    mstatus, t1                 /* resume in M ... */
    li      t1, MSTATUS_MPIE | MSTATUS_MPRV
    csrc    mstatus, t1                 /* ... with MIE = 0 and MPRV = 0 */
    ld      t1, M_SAVE(t0)
    csrr    t0, mscratch
    mret
2:  j       __crt0_trap

    .balign 4
s_handler:
    csrw    sscratch, t0
    la      t0, rec
    sd      t1, S_SAVE(t0)
    csrr    t1, scause
    sd      t1, S_CAUSE(t0)
    csrr    t1, sepc
    sd      t1, S_EPC(t0)
    csrr    t1, stval
    sd      t1, S_TVAL(t0)
    csrr    t1, sstatus
    sd      t1, S_STATUS(t0)
    csrr    t1, scause
    bgez    t1, 1f
    csrw    sie, zero                   /* interrupt: silence every source */
    slli    t1, t1, 1
    addi    t1, t1, -2
    bnez    t1, 1f
    csrci   sip, SSIP                   /* and clear SSIP if that was it */
1:  ld      t1, S_RESUME(t0)
    beqz    t1, 2f
    csrw    sepc, t1
    sd      zero, S_RESUME(t0)
    li      t1, MSTATUS_SPP
    csrs    sstatus, t1                 /* resume in S */
    ld      t1, S_SAVE(t0)
    csrr    t0, sscratch
    sret
2:  ecall                               /* unexpected: ends in M's fail path */
.endm

#endif
