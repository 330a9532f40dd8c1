/*
 * RV64C: every compressed instruction, forced with explicit `c.` mnemonics,
 * with immediate edge values (sign extension, maximum offsets), link values
 * of c.jalr (pc + 2), c.ebreak, the all-zero illegal instruction, and control
 * flow through 32-bit instructions at 2-mod-4 addresses, including one that
 * straddles a 4 KiB page boundary.
 */
#include "test_macros.h"

    .bss
    .balign 4096
cbuf:
    .skip 2048

    .option rvc

RVTEST_BEGIN("rvc")
    TRAP_INIT

    /* ---------------- quadrant 1: constants and arithmetic ---------------- */
    c.li    a0, 31
    CHECK_IMM(a0, 31)
    c.li    a0, -32
    CHECK_IMM(a0, 0xffffffffffffffe0)
    c.li    a0, 0
    CHECK_IMM(a0, 0)
    c.lui   a0, 1
    CHECK_IMM(a0, 0x1000)
    c.lui   a0, 0x1f
    CHECK_IMM(a0, 0x1f000)
    c.lui   a0, 0xfffe0                     /* nzimm[17] set: sign-extended */
    CHECK_IMM(a0, 0xfffffffffffe0000)
    c.lui   t0, 0xfffff
    CHECK_IMM(t0, 0xfffffffffffff000)

    li      a0, 100
    c.addi  a0, 31
    CHECK_IMM(a0, 131)
    c.addi  a0, -32
    CHECK_IMM(a0, 99)
    li      a0, 0x7fffffffffffffff
    c.addi  a0, 1
    CHECK_IMM(a0, 0x8000000000000000)
    li      t2, -1
    c.addi  t2, 1                           /* any register */
    CHECK_IMM(t2, 0)
    c.nop
    CHECK_IMM(t2, 0)

    li      a0, 0x123456780000ffff
    c.addiw a0, 0                           /* sext.w */
    CHECK_IMM(a0, 0x000000000000ffff)
    li      a0, 0x7fffffff
    c.addiw a0, 1
    CHECK_IMM(a0, 0xffffffff80000000)
    li      a0, 0x80000000
    c.addiw a0, -1
    CHECK_IMM(a0, 0x7fffffff)
    li      s2, 0xffffffff
    c.addiw s2, 0
    CHECK_IMM(s2, -1)

    li      a0, 1
    c.slli  a0, 63
    CHECK_IMM(a0, 0x8000000000000000)
    li      a0, 0x00000000ffffffff
    c.slli  a0, 32
    CHECK_IMM(a0, 0xffffffff00000000)
    li      t3, 3
    c.slli  t3, 1                           /* any register */
    CHECK_IMM(t3, 6)
    li      a0, 0x8000000000000000
    c.srli  a0, 63
    CHECK_IMM(a0, 1)
    li      a0, 0x8000000000000000
    c.srli  a0, 32
    CHECK_IMM(a0, 0x80000000)
    li      a0, 0x8000000000000000
    c.srai  a0, 63
    CHECK_IMM(a0, -1)
    li      a0, 0x8000000000000000
    c.srai  a0, 1
    CHECK_IMM(a0, 0xc000000000000000)
    li      a0, 0x7ff0000000000000
    c.srai  a0, 52
    CHECK_IMM(a0, 0x7ff)
    li      a0, 0x123456789abcdef0
    c.andi  a0, -32                         /* imm = ...ffe0 */
    CHECK_IMM(a0, 0x123456789abcdee0)
    li      a0, 0x123456789abcdef0
    c.andi  a0, 31
    CHECK_IMM(a0, 0x10)
    li      a0, 0x123456789abcdef0
    c.andi  a0, 0
    CHECK_IMM(a0, 0)

    li      a0, 10
    li      a1, 3
    c.sub   a0, a1
    CHECK_IMM(a0, 7)
    li      a0, 0
    li      a1, 1
    c.sub   a0, a1
    CHECK_IMM(a0, -1)
    li      a0, 0xff00ff00ff00ff00
    li      a1, 0x0ff00ff00ff00ff0
    c.xor   a0, a1
    CHECK_IMM(a0, 0xf0f0f0f0f0f0f0f0)
    li      a0, 0xff00ff00ff00ff00
    c.or    a0, a1
    CHECK_IMM(a0, 0xfff0fff0fff0fff0)
    li      a0, 0xff00ff00ff00ff00
    c.and   a0, a1
    CHECK_IMM(a0, 0x0f000f000f000f00)
    li      s0, 0x80000000
    li      s1, 1
    c.subw  s0, s1
    CHECK_IMM(s0, 0x7fffffff)
    li      s0, 0x1234567800000000
    c.subw  s0, s1
    CHECK_IMM(s0, -1)
    li      a5, 0x7fffffff
    li      a4, 1
    c.addw  a5, a4
    CHECK_IMM(a5, 0xffffffff80000000)
    li      a5, 0xffffffff00000005
    li      a4, 0x0000000100000006
    c.addw  a5, a4
    CHECK_IMM(a5, 11)

    /* ---------------- quadrant 2: mv / add ---------------- */
    li      t5, 0x5555aaaa5555aaaa
    c.mv    a0, t5
    CHECK(a0, t5)
    li      s3, 0x1000000000000001
    li      s4, 0x7000000000000001
    c.add   s3, s4
    CHECK_IMM(s3, 0x8000000000000002)

    /* ---------------- compressed loads and stores (x8..x15 and sp based) ---------------- */
    la      s0, cbuf
    li      a1, 0x8765432112345678
    c.sd    a1, 0(s0)
    c.sd    a1, 248(s0)                     /* max c.sd offset */
    li      a2, 0x89abcdef
    c.sw    a2, 124(s0)                     /* max c.sw offset */
    c.sw    a2, 8(s0)
    c.ld    a3, 0(s0)
    CHECK(a3, a1)
    c.ld    a3, 248(s0)
    CHECK(a3, a1)
    c.lw    a4, 124(s0)
    CHECK_IMM(a4, 0xffffffff89abcdef)       /* c.lw sign-extends */
    c.lw    a4, 8(s0)
    CHECK_IMM(a4, 0xffffffff89abcdef)
    c.lw    a4, 4(s0)
    CHECK_IMM(a4, 0xffffffff87654321)
    c.lw    a4, 0(s0)
    CHECK_IMM(a4, 0x12345678)
    ld      a0, 120(s0)                     /* c.sw wrote only 4 bytes */
    CHECK_IMM(a0, 0x89abcdef00000000)

    la      sp, cbuf
    addi    sp, sp, 512
    li      t4, 0x0102030405060708
    c.sdsp  t4, 504(sp)                     /* max */
    c.sdsp  t4, 0(sp)
    li      t5, 0xfffffff0
    c.swsp  t5, 252(sp)                     /* max */
    c.swsp  t5, 4(sp)
    c.ldsp  a0, 504(sp)
    CHECK(a0, t4)
    c.ldsp  t1, 0(sp)                       /* any rd */
    CHECK_IMM(t1, 0xfffffff005060708)
    c.lwsp  a0, 252(sp)
    CHECK_IMM(a0, 0xfffffffffffffff0)
    c.lwsp  a0, 0(sp)
    CHECK_IMM(a0, 0x05060708)
    ld      a0, 248(sp)
    CHECK_IMM(a0, 0xfffffff000000000)

    /* FP loads / stores */
    li      a1, 0x400921fb54442d18          /* pi */
    la      s1, cbuf
    sd      a1, 248(s1)
    sd      a1, 16(s1)
    c.fld   fa0, 248(s1)                    /* max */
    fmv.x.d a0, fa0
    CHECK(a0, a1)
    c.fld   fs1, 16(s1)
    fmv.x.d a0, fs1
    CHECK(a0, a1)
    li      a2, 0xbff0000000000000          /* -1.0 */
    fmv.d.x fa5, a2
    c.fsd   fa5, 240(s1)
    ld      a0, 240(s1)
    CHECK(a0, a2)
    la      sp, cbuf
    c.fsdsp fa5, 504(sp)                    /* max */
    ld      a0, 504(sp)
    CHECK(a0, a2)
    c.fldsp ft3, 504(sp)
    fmv.x.d a0, ft3
    CHECK(a0, a2)
    c.fsdsp fa0, 8(sp)
    c.fldsp ft11, 8(sp)
    fmv.x.d a0, ft11
    CHECK(a0, a1)

    /* ---------------- sp adjustment ---------------- */
    la      t0, cbuf
    addi    t0, t0, 1024
    mv      sp, t0
    c.addi16sp sp, -512
    sub     a0, t0, sp
    CHECK_IMM(a0, 512)
    c.addi16sp sp, 496
    sub     a0, t0, sp
    CHECK_IMM(a0, 16)
    c.addi16sp sp, 16
    CHECK(sp, t0)
    c.addi4spn a0, sp, 1020                 /* max */
    sub     a0, a0, t0
    CHECK_IMM(a0, 1020)
    c.addi4spn s1, sp, 4
    sub     a0, s1, t0
    CHECK_IMM(a0, 4)

    /* ---------------- control flow ---------------- */
    li      a0, 0
    c.j     1f
    c.li    a0, 1                           /* skipped */
1:  CHECK_IMM(a0, 0)
    /* backward c.j */
    li      a0, 0
    c.j     2f
1:  c.addi  a0, 5
    c.j     3f
2:  c.j     1b
3:  CHECK_IMM(a0, 5)

    li      a1, 0
    li      a0, 0
    c.beqz  a1, 1f                          /* taken */
    c.li    a0, 1
1:  CHECK_IMM(a0, 0)
    li      a1, 0x100000000                 /* low bits zero, still non-zero */
    c.beqz  a1, 1f                          /* not taken */
    c.li    a0, 2
1:  CHECK_IMM(a0, 2)
    li      a0, 0
    c.bnez  a1, 1f                          /* taken */
    c.li    a0, 3
1:  CHECK_IMM(a0, 0)
    li      a1, 0
    c.bnez  a1, 1f                          /* not taken */
    c.li    a0, 4
1:  CHECK_IMM(a0, 4)
    /* backward c.bnez loop */
    li      a0, 0
    li      a1, 10
1:  c.addi  a0, 2
    c.addi  a1, -1
    c.bnez  a1, 1b
    CHECK_IMM(a0, 20)

    la      t0, 1f
    li      a0, 0
    c.jr    t0
    c.li    a0, 1
1:  CHECK_IMM(a0, 0)

    la      t1, .Lcsub
.Lcjalr:
    c.jalr  t1                              /* ra = pc + 2 */
    la      t2, .Lcjalr
    addi    t2, t2, 2
    CHECK(ra, t2)
    CHECK_IMM(a0, 0x77)

    /* ---------------- 32-bit instructions at 2-mod-4 addresses ---------------- */
    .balign 4
    c.nop
.Lmis32:
    add     a0, zero, zero                  /* 32-bit at 4n+2 (rd != rs1: not compressible) */
    addi    a0, a0, 0x100                   /* 32-bit */
    c.addi  a0, 1
    addi    a0, a0, 0x200                   /* 32-bit at 4n+2 again */
    c.addi  a0, 1
    c.addi  a0, 1
    addi    a0, a0, 0x400
    CHECK_IMM(a0, 0x703)
    la      t0, .Lmis32
    andi    t0, t0, 3
    CHECK_IMM(t0, 2)

    /* a 32-bit instruction straddling a page boundary (see .Lstraddle) */
    li      a0, 0
    call    .Lstraddle_entry
    CHECK_IMM(a0, 0xfff)
    la      t0, .Lstraddle_insn
    li      t1, 4094
    li      t2, 4095
    and     t0, t0, t2
    CHECK(t0, t1)

    /* ---------------- c.ebreak and the illegal all-zero parcel ---------------- */
    TEST_TRAP(CAUSE_BREAKPOINT, c.ebreak)
    TEST_TRAP(CAUSE_ILLEGAL_INSTRUCTION, .2byte 0x0000)
    CHECK_IMM(a5, 0)                        /* mtval: 0 or the instruction bits, both 0 */

    j       .Ldone

.Lcsub:
    li      a0, 0x77
    c.jr    ra

    /* page-straddling code: .Lstraddle_insn is a 32-bit instruction whose
       second half lies on the next 4 KiB page */
    .balign 4096
    .fill   2046, 2, 0x0001                 /* c.nop x 2046 (not executed) */
.Lstraddle_entry:                           /* page offset 4092 */
    c.addi  a0, 1
.Lstraddle_insn:                            /* page offset 4094 */
    addi    a0, a0, 0x7ff
    addi    a0, a0, 0x7ff                   /* next page */
    c.addi  a0, 3
    c.addi  a0, -3
    c.jr    ra

.Ldone:
RVTEST_PASS
RVTEST_TRAP_HANDLER
