/*
 * Virtual memory (privileged spec v1.12, chapter 4.3-4.5): Sv39 and Sv48
 * page tables built at run time, 4 KiB pages, a megapage and a gigapage
 * (the identity map of RAM that S runs from), a misaligned megapage, R/W/X
 * permissions, the hardware-managed A and D bits, page faults with stval,
 * non-canonical addresses, U pages and SUM, execute-only pages and MXR,
 * U-mode accesses to S pages, remapping a data page and a code page with
 * sfence.vma, switching between address spaces by satp, satp WARL, and MPRV
 * (M-mode loads and stores translated with MPP's privilege).
 *
 * Checks run in M or S (S reaches the HTIF mailbox through the identity
 * map).  Page faults are delegated to S except while in M.  Traps are caught
 * by the recording handlers of priv_frame.h.
 */
#include "test_macros.h"
#include "priv_frame.h"

#define PTE_V   0x01
#define PTE_R   0x02
#define PTE_W   0x04
#define PTE_X   0x08
#define PTE_U   0x10
#define PTE_A   0x40
#define PTE_D   0x80

#define CAUSE_FETCH_PAGE_FAULT 12
#define CAUSE_LOAD_PAGE_FAULT  13
#define CAUSE_STORE_PAGE_FAULT 15

#define SATP_SV39 (8 << 60)
#define SATP_SV48 (9 << 60)

/* Virtual addresses (Sv39 root index 1 -> pt_l1 -> pt_l0). */
#define VA_BASE     0x40000000
#define V_RW        (VA_BASE + 0x0000)   /* data_rw, R W, A and D clear */
#define V_RO        (VA_BASE + 0x1000)   /* data_ro, R */
#define V_XO        (VA_BASE + 0x2000)   /* code_xo, X only */
#define V_U         (VA_BASE + 0x3000)   /* data_u, R W U */
#define V_UX        (VA_BASE + 0x4000)   /* code_u, R X U */
#define V_INV       (VA_BASE + 0x5000)   /* nothing */
#define V_ALIAS     (VA_BASE + 0x6000)   /* data_rw, later data_ro */
#define V_RES       (VA_BASE + 0x7000)   /* data_ro with reserved PTE bit 54 */
#define V_WONLY     (VA_BASE + 0x8000)   /* data_ro, W without R: reserved */
#define V_FN        (VA_BASE + 0x9000)   /* code_one, later code_two */
#define V_MEGA      (VA_BASE + 0x200000) /* 2 MiB at MEGA_PA */
#define V_MEGA_BAD  (VA_BASE + 0x400000) /* 2 MiB at MEGA_PA + 4 KiB: misaligned */
#define MEGA_PA     0x82000000
#define V48_HIGH    0x0000400000000000   /* Sv48 only */
#define NONCANON39  0x0000004000000000
#define NONCANON48  0x0000800000000000

/* reg = the PTE of the page at label */
#define PTE_TO(reg, label, flags)    \
    la      reg, label;              \
    srli    reg, reg, 12;            \
    slli    reg, reg, 10;            \
    ori     reg, reg, flags;
/* table[index] = PTE of label (uses t2, t3) */
#define SET_PTE(table, index, label, flags) \
    PTE_TO(t2, label, flags)         \
    la      t3, table;               \
    sd      t2, (index) * 8(t3);
/* table[index] = leaf for physical address pa */
#define SET_PTE_PA(table, index, pa, flags) \
    li      t2, (((pa) >> 12) << 10) | (flags); \
    la      t3, table;               \
    sd      t2, (index) * 8(t3);

/* reg = the U virtual address of label in code_u (uses t3) */
#define U_VA(reg, label)             \
    la      reg, label;              \
    la      t3, code_u;              \
    sub     reg, reg, t3;            \
    li      t3, V_UX;                \
    add     reg, reg, t3;

/* In S: insn must trap into S with cause, sepc = insn, stval = a1. */
#define S_FAULT(cause, insn...)                          \
    S_ARM(RV_CAT(.Lsr_, __LINE__))                       \
RV_CAT(.Lsi_, __LINE__):                                 \
    insn;                                                \
RV_CAT(.Lsr_, __LINE__):                                 \
    LOAD_S                                               \
    CHECK_IMM(a3, cause);                                \
    la      t6, RV_CAT(.Lsi_, __LINE__);                 \
    CHECK(a4, t6);                                       \
    CHECK(a5, a1)
/* In S: insn must not trap. */
#define S_OK(insn...)                                    \
    S_ARM(RV_CAT(.Lsr_, __LINE__))                       \
    insn;                                                \
RV_CAT(.Lsr_, __LINE__):                                 \
    LOAD_S                                               \
    CHECK_IMM(a3, -1)
/* In M: set MPRV with MPP = mpp (and extra mstatus bits), run insn, clear
   MPRV; it must trap with cause (-1: must not trap), mtval = a1. */
#define MPRV_ACCESS(mpp, extra, cause, insn...)          \
    M_ARM(RV_CAT(.Lmr_, __LINE__))                       \
    li      t2, MSTATUS_MPP | MSTATUS_SUM | MSTATUS_MXR; \
    csrc    mstatus, t2;                                 \
    li      t2, MSTATUS_MPRV | (mpp) | (extra);          \
    csrs    mstatus, t2;                                 \
    insn;                                                \
    li      t2, MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR; \
    csrc    mstatus, t2;                                 \
RV_CAT(.Lmr_, __LINE__):                                 \
    LOAD_M                                               \
    CHECK_IMM(a3, cause);

    .bss
    .balign 4096
pt_root:    .skip 4096
pt_l1:      .skip 4096
pt_l0:      .skip 4096
pt48_root:  .skip 4096
pt48_l2:    .skip 4096
pt48_h2:    .skip 4096
pt48_h1:    .skip 4096
pt48_h0:    .skip 4096
data_rw:    .skip 4096
data_ro:    .skip 4096
data_u:     .skip 4096

RVTEST_BEGIN("paging")
    PRIV_FRAME_INIT
    li      t2, (1 << CAUSE_USER_ECALL) | (1 << CAUSE_FETCH_PAGE_FAULT) | (1 << CAUSE_LOAD_PAGE_FAULT) | (1 << CAUSE_STORE_PAGE_FAULT)
    csrw    medeleg, t2

    /* ---------------- page contents ---------------- */
    la      t3, data_rw
    li      t4, 0x1111
    sd      t4, 0(t3)
    la      t3, data_ro
    li      t4, 0x2222
    sd      t4, 0(t3)
    la      t3, data_u
    li      t4, 0x3333
    sd      t4, 0(t3)

    /* ---------------- Sv39 tables ---------------- */
    SET_PTE_PA(pt_root, 2, 0x80000000, PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | PTE_V)  /* gigapage: identity */
    SET_PTE(pt_root, 1, pt_l1, PTE_V)
    SET_PTE(pt_l1, 0, pt_l0, PTE_V)
    SET_PTE_PA(pt_l1, 1, MEGA_PA, PTE_R | PTE_W | PTE_A | PTE_D | PTE_V)
    SET_PTE_PA(pt_l1, 2, MEGA_PA + 0x1000, PTE_R | PTE_W | PTE_A | PTE_D | PTE_V)
    SET_PTE(pt_l0, 0, data_rw, PTE_R | PTE_W | PTE_V)
    SET_PTE(pt_l0, 1, data_ro, PTE_R | PTE_A | PTE_V)
    SET_PTE(pt_l0, 2, code_xo, PTE_X | PTE_A | PTE_V)
    SET_PTE(pt_l0, 3, data_u, PTE_R | PTE_W | PTE_U | PTE_A | PTE_D | PTE_V)
    SET_PTE(pt_l0, 4, code_u, PTE_R | PTE_X | PTE_U | PTE_A | PTE_V)
    SET_PTE(pt_l0, 6, data_rw, PTE_R | PTE_W | PTE_A | PTE_D | PTE_V)
    PTE_TO(t2, data_ro, PTE_R | PTE_A | PTE_V)
    li      t3, 1 << 54
    or      t2, t2, t3
    la      t3, pt_l0
    sd      t2, 7 * 8(t3)
    SET_PTE(pt_l0, 8, data_ro, PTE_W | PTE_A | PTE_D | PTE_V)
    SET_PTE(pt_l0, 9, code_one, PTE_R | PTE_X | PTE_A | PTE_V)
    /* ---------------- Sv48 tables: same low half, plus a 4 KiB page at V48_HIGH ---------------- */
    SET_PTE(pt48_root, 0, pt48_l2, PTE_V)
    SET_PTE(pt48_l2, 1, pt_l1, PTE_V)
    SET_PTE_PA(pt48_l2, 2, 0x80000000, PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | PTE_V)
    SET_PTE(pt48_root, 128, pt48_h2, PTE_V)
    SET_PTE(pt48_h2, 0, pt48_h1, PTE_V)
    SET_PTE(pt48_h1, 0, pt48_h0, PTE_V)
    SET_PTE(pt48_h0, 0, data_rw, PTE_R | PTE_W | PTE_A | PTE_D | PTE_V)

    la      t2, pt_root
    srli    t2, t2, 12
    li      t3, SATP_SV39
    or      s1, t2, t3                          /* s1 = Sv39 satp */
    la      t2, pt48_root
    srli    t2, t2, 12
    li      t3, SATP_SV48
    or      s2, t2, t3                          /* s2 = Sv48 satp */
    csrw    satp, s1
    sfence.vma
    csrr    a0, satp
    CHECK(a0, s1)
    /* M is not translated whatever satp says */
    la      t3, data_ro
    ld      a0, 0(t3)
    CHECK_IMM(a0, 0x2222)

    M_ARM(.Ls_done)
    ENTER(MPP_S, .Ls)
.Ls:
    /* ---------------- loads and stores through 4 KiB pages ---------------- */
    li      a1, V_RW
    ld      a0, 0(a1)
    CHECK_IMM(a0, 0x1111)
    la      t3, pt_l0
    ld      a0, 0(t3)
    andi    a0, a0, PTE_A | PTE_D
    CHECK_IMM(a0, PTE_A)                        /* the load set A, not D */
    li      a2, 0x4444
    sd      a2, 8(a1)
    ld      a0, 0(t3)
    andi    a0, a0, PTE_A | PTE_D
    CHECK_IMM(a0, PTE_A | PTE_D)                /* the store set D */
    la      t3, data_rw
    ld      a0, 8(t3)
    CHECK_IMM(a0, 0x4444)                       /* through the identity map */
    li      a1, V_ALIAS
    ld      a0, 8(a1)
    CHECK_IMM(a0, 0x4444)                       /* and through the alias */
    li      a1, V_RO
    ld      a0, 0(a1)
    CHECK_IMM(a0, 0x2222)

    /* ---------------- page faults ---------------- */
    li      a1, V_RO
    S_FAULT(CAUSE_STORE_PAGE_FAULT, sd a2, 0(a1))
    andi    a1, a6, MSTATUS_SPP
    CHECK_IMM(a1, MSTATUS_SPP)                  /* from S */
    li      a1, V_RO + 0x10
    S_FAULT(CAUSE_STORE_PAGE_FAULT, amoadd.d a0, a2, (a1))
    li      a1, V_INV + 0x18
    S_FAULT(CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
    li      a1, V_INV + 0x7
    S_FAULT(CAUSE_STORE_PAGE_FAULT, sb a2, 0(a1))
    li      a1, V_WONLY
    S_FAULT(CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
    S_FAULT(CAUSE_STORE_PAGE_FAULT, sd a2, 0(a1))
    li      a1, V_RES
    S_FAULT(CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
    li      a1, NONCANON39
    S_FAULT(CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
    li      a1, V48_HIGH
    S_FAULT(CAUSE_STORE_PAGE_FAULT, sd a2, 0(a1))
    /* a load that runs off a mapped page onto an invalid one */
    li      a1, V_ALIAS - 4
    S_FAULT(CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))  /* V_INV ends right at V_ALIAS */
    /* instruction fetch from an invalid page: sepc = stval = the target */
    S_ARM(.Lfi_res)
    li      a1, V_INV
.Lfi_jump:
    jalr    ra, 0(a1)
.Lfi_res:
    LOAD_S
    CHECK_IMM(a3, CAUSE_FETCH_PAGE_FAULT)
    CHECK(a4, a1)
    CHECK(a5, a1)
    la      t6, .Lfi_jump + 4
    CHECK(ra, t6)                               /* the jump itself completed */
    /* ... and from a page that is readable but not executable */
    S_ARM(.Lfr_res)
    li      a1, V_RO
    jalr    ra, 0(a1)
.Lfr_res:
    LOAD_S
    CHECK_IMM(a3, CAUSE_FETCH_PAGE_FAULT)
    CHECK(a5, a1)

    /* ---------------- megapages ---------------- */
    li      a1, V_MEGA + 0x12340
    li      a2, 0x5555
    sd      a2, 0(a1)
    li      t3, MEGA_PA + 0x12340
    ld      a0, 0(t3)
    CHECK_IMM(a0, 0x5555)
    li      a1, V_MEGA + 0x1FFFF8
    sd      a2, 0(a1)
    ld      a0, 0(a1)
    CHECK(a0, a2)
    li      a1, V_MEGA_BAD + 0x2000
    S_FAULT(CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))

    /* ---------------- execute-only pages and MXR ---------------- */
    li      a1, V_XO
    S_FAULT(CAUSE_LOAD_PAGE_FAULT, lw a0, 0(a1))
    li      a0, 0
    jalr    ra, 0(a1)                           /* executable */
    CHECK_IMM(a0, 0x5a)
    li      t2, MSTATUS_MXR
    csrs    sstatus, t2
    lw      a0, 0(a1)                           /* MXR: readable */
    la      t3, code_xo
    lw      t4, 0(t3)
    CHECK(a0, t4)
    S_FAULT(CAUSE_STORE_PAGE_FAULT, sw a0, 0(a1)) /* but not writable */
    li      t2, MSTATUS_MXR
    csrc    sstatus, t2
    S_FAULT(CAUSE_LOAD_PAGE_FAULT, lw a0, 0(a1))  /* MXR cleared again */

    /* ---------------- U pages and SUM ---------------- */
    li      a1, V_U
    S_FAULT(CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
    S_FAULT(CAUSE_STORE_PAGE_FAULT, sd a0, 0(a1))
    li      t2, MSTATUS_SUM
    csrs    sstatus, t2
    ld      a0, 0(a1)
    CHECK_IMM(a0, 0x3333)
    li      a2, 0x3334
    sd      a2, 16(a1)
    S_ARM(.Lsux_res)                            /* S never executes U pages */
    li      a1, V_UX
    jalr    ra, 0(a1)
.Lsux_res:
    LOAD_S
    CHECK_IMM(a3, CAUSE_FETCH_PAGE_FAULT)
    CHECK(a5, a1)
    li      t2, MSTATUS_SUM
    csrc    sstatus, t2
    li      a1, V_U + 16
    S_FAULT(CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))  /* SUM cleared again */
    la      t3, data_u
    ld      a0, 16(t3)
    CHECK_IMM(a0, 0x3334)

    /* ---------------- U mode ---------------- */
    /* U reads and writes its page, then ecalls (delegated to S) */
    S_ARM(.Lu1)
    li      a0, 0
    U_VA(t2, u_data)
    csrw    sepc, t2
    li      t2, MSTATUS_SPP
    csrc    sstatus, t2
    sret
.Lu1:
    LOAD_S
    CHECK_IMM(a3, CAUSE_USER_ECALL)
    U_VA(t6, u_data_ecall)
    CHECK(a4, t6)                               /* sepc: a virtual address */
    CHECK_IMM(a0, 0x3334)
    la      t3, data_u
    ld      a0, 8(t3)
    CHECK_IMM(a0, 0x3334)                       /* U's store */
    /* U touching an S page faults into S with SPP = U */
    S_ARM(.Lu2)
    U_VA(t2, u_s_load)
    csrw    sepc, t2
    li      t2, MSTATUS_SPP
    csrc    sstatus, t2
    sret
.Lu2:
    LOAD_S
    CHECK_IMM(a3, CAUSE_LOAD_PAGE_FAULT)
    li      t6, V_RW
    CHECK(a5, t6)
    U_VA(t6, u_s_load_ld)
    CHECK(a4, t6)
    andi    a0, a6, MSTATUS_SPP
    CHECK_IMM(a0, 0)
    /* U fetching from an S page (the identity map) */
    S_ARM(.Lu3)
    la      a1, .Lu3
    csrw    sepc, a1
    li      t2, MSTATUS_SPP
    csrc    sstatus, t2
    sret
.Lu3:
    LOAD_S
    CHECK_IMM(a3, CAUSE_FETCH_PAGE_FAULT)
    CHECK(a4, a1)
    CHECK(a5, a1)

    /* ---------------- remapping with sfence.vma ---------------- */
    li      a1, V_FN
    jalr    ra, 0(a1)
    mv      s3, a0
    jalr    ra, 0(a1)
    add     s3, s3, a0                          /* 1 + 1 */
    SET_PTE(pt_l0, 9, code_two, PTE_R | PTE_X | PTE_A | PTE_V)
    SET_PTE(pt_l0, 6, data_ro, PTE_R | PTE_A | PTE_V)
    sfence.vma
    li      a1, V_FN
    jalr    ra, 0(a1)
    mv      s4, a0
    CHECK_IMM(s3, 2)
    CHECK_IMM(s4, 2)                            /* the new code */
    li      a1, V_ALIAS
    ld      a0, 0(a1)
    CHECK_IMM(a0, 0x2222)                       /* the new data */
    S_FAULT(CAUSE_STORE_PAGE_FAULT, sd a0, 0(a1)) /* with the new permissions */
    /* sfence.vma by address */
    SET_PTE(pt_l0, 6, data_rw, PTE_R | PTE_W | PTE_A | PTE_D | PTE_V)
    li      a1, V_ALIAS
    sfence.vma a1, zero
    ld      a0, 0(a1)
    CHECK_IMM(a0, 0x1111)

    /* ---------------- Sv48 ---------------- */
    csrw    satp, s2
    sfence.vma
    csrr    a0, satp
    CHECK(a0, s2)
    li      a1, V48_HIGH
    ld      a0, 0(a1)
    CHECK_IMM(a0, 0x1111)
    li      a1, V_RW + 8
    ld      a0, 0(a1)
    CHECK_IMM(a0, 0x4444)                       /* the shared lower levels */
    li      a1, NONCANON48
    S_FAULT(CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
    li      a1, -NONCANON48                     /* canonical, but nothing mapped */
    S_FAULT(CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
    /* satp: an unsupported mode is ignored entirely */
    li      t2, (11 << 60) | 5
    csrw    satp, t2
    csrr    a0, satp
    CHECK(a0, s2)
    csrw    satp, s1                            /* back to Sv39: V48_HIGH is gone */
    sfence.vma
    li      a1, V48_HIGH
    S_FAULT(CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
    ecall
.Ls_done:
    LOAD_M
    CHECK_IMM(a3, CAUSE_SUPERVISOR_ECALL)

    /* ---------------- MPRV: M loads/stores with MPP's translation ---------------- */
    li      a1, V_RO
    MPRV_ACCESS(MPP_S, 0, -1, ld a0, 0(a1))
    CHECK_IMM(a0, 0x2222)
    MPRV_ACCESS(MPP_S, 0, CAUSE_STORE_PAGE_FAULT, sd a0, 0(a1))   /* not delegated from M */
    CHECK(a5, a1)
    li      a1, V_U
    MPRV_ACCESS(MPP_S, 0, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
    CHECK(a5, a1)
    MPRV_ACCESS(MPP_S, MSTATUS_SUM, -1, ld a0, 0(a1))
    CHECK_IMM(a0, 0x3333)
    MPRV_ACCESS(MPP_U, 0, -1, ld a0, 0(a1))
    CHECK_IMM(a0, 0x3333)
    li      a1, V_RO
    MPRV_ACCESS(MPP_U, 0, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(a1))
    li      a1, V_XO
    MPRV_ACCESS(MPP_S, 0, CAUSE_LOAD_PAGE_FAULT, lw a0, 0(a1))
    MPRV_ACCESS(MPP_S, MSTATUS_MXR, -1, lw a0, 0(a1))
    la      t3, code_xo
    lw      t4, 0(t3)
    CHECK(a0, t4)
    la      a1, data_ro
    MPRV_ACCESS(MPP_M, 0, -1, ld a0, 0(a1))     /* MPP = M: untranslated */
    CHECK_IMM(a0, 0x2222)
    csrw    satp, zero

RVTEST_PASS

PRIV_FRAME_HANDLERS

/* ---------------- code pages ---------------- */
    .pushsection .text.pages, "ax", @progbits
    .balign 4096
code_xo:                                        /* mapped execute-only at V_XO */
    li      a0, 0x5a
    ret
    .balign 4096
code_one:
    li      a0, 1
    ret
    .balign 4096
code_two:
    li      a0, 2
    ret
    .balign 4096
code_u:                                         /* mapped for U at V_UX */
u_data:
    li      t2, V_U
    ld      a0, 0(t2)
    addi    a0, a0, 1
    sd      a0, 8(t2)
u_data_ecall:
    ecall
u_s_load:
    li      t2, V_RW
u_s_load_ld:
    ld      a1, 0(t2)
    ecall
    .balign 4096
    .popsection
