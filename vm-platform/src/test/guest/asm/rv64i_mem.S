/*
 * RV64I loads and stores: every width, sign and zero extension, positive and
 * negative offsets, rd == rs1, loads into x0, misaligned loads and stores in
 * RAM (QEMU and Rivet perform them; no trap), including accesses that cross an
 * 8-byte boundary and a 4 KiB page boundary.
 *
 * Test data (little-endian):
 *   tdat: f1 02 83 74 85 96 07 e8 19 aa 3b cc 5d ee 7f 80
 */
#include "test_macros.h"

/* a0 = inst off(tdat) */
#define TEST_LD(inst, result, off)              \
    la a1, tdat; inst a0, off(a1);              \
    CHECK_IMM(a0, result)

/* Fill a 16-byte buffer with a5 bytes, store `value` at buf+off with `inst`,
   then check both doublewords of the buffer. */
#define TEST_ST(inst, value, off, lo, hi)       \
    la a1, sbuf; li t0, 0xa5a5a5a5a5a5a5a5;     \
    sd t0, 0(a1); sd t0, 8(a1);                 \
    li a2, value; inst a2, off(a1);             \
    ld a0, 0(a1); CHECK_IMM(a0, lo);            \
    ld a0, 8(a1); CHECK_IMM(a0, hi)

    .data
    .balign 16
tdat:
    .byte 0xf1, 0x02, 0x83, 0x74, 0x85, 0x96, 0x07, 0xe8
    .byte 0x19, 0xaa, 0x3b, 0xcc, 0x5d, 0xee, 0x7f, 0x80
tdat_end:

    .bss
    .balign 16
sbuf:
    .skip 16
    .balign 4096
pagebuf:
    .skip 8192

RVTEST_BEGIN("rv64i_mem")

    /* aligned */
    TEST_LD(lb, 0xfffffffffffffff1, 0)
    TEST_LD(lb, 0x0000000000000002, 1)
    TEST_LD(lb, 0xffffffffffffff83, 2)
    TEST_LD(lb, 0x0000000000000074, 3)
    TEST_LD(lb, 0xffffffffffffff85, 4)
    TEST_LD(lb, 0xffffffffffffff96, 5)
    TEST_LD(lb, 0x0000000000000007, 6)
    TEST_LD(lb, 0xffffffffffffffe8, 7)
    TEST_LD(lb, 0x0000000000000019, 8)
    TEST_LD(lb, 0xffffffffffffffaa, 9)
    TEST_LD(lb, 0x000000000000003b, 10)
    TEST_LD(lb, 0xffffffffffffffcc, 11)
    TEST_LD(lb, 0x000000000000005d, 12)
    TEST_LD(lb, 0xffffffffffffffee, 13)
    TEST_LD(lb, 0x000000000000007f, 14)
    TEST_LD(lb, 0xffffffffffffff80, 15)
    TEST_LD(lbu, 0x00000000000000f1, 0)
    TEST_LD(lbu, 0x0000000000000002, 1)
    TEST_LD(lbu, 0x0000000000000083, 2)
    TEST_LD(lbu, 0x0000000000000074, 3)
    TEST_LD(lbu, 0x0000000000000085, 4)
    TEST_LD(lbu, 0x0000000000000096, 5)
    TEST_LD(lbu, 0x0000000000000007, 6)
    TEST_LD(lbu, 0x00000000000000e8, 7)
    TEST_LD(lbu, 0x0000000000000019, 8)
    TEST_LD(lbu, 0x00000000000000aa, 9)
    TEST_LD(lbu, 0x000000000000003b, 10)
    TEST_LD(lbu, 0x00000000000000cc, 11)
    TEST_LD(lbu, 0x000000000000005d, 12)
    TEST_LD(lbu, 0x00000000000000ee, 13)
    TEST_LD(lbu, 0x000000000000007f, 14)
    TEST_LD(lbu, 0x0000000000000080, 15)
    TEST_LD(lh, 0x00000000000002f1, 0)
    TEST_LD(lh, 0x0000000000007483, 2)
    TEST_LD(lh, 0xffffffffffff9685, 4)
    TEST_LD(lh, 0xffffffffffffe807, 6)
    TEST_LD(lh, 0xffffffffffffaa19, 8)
    TEST_LD(lh, 0xffffffffffffcc3b, 10)
    TEST_LD(lh, 0xffffffffffffee5d, 12)
    TEST_LD(lh, 0xffffffffffff807f, 14)
    TEST_LD(lhu, 0x00000000000002f1, 0)
    TEST_LD(lhu, 0x0000000000007483, 2)
    TEST_LD(lhu, 0x0000000000009685, 4)
    TEST_LD(lhu, 0x000000000000e807, 6)
    TEST_LD(lhu, 0x000000000000aa19, 8)
    TEST_LD(lhu, 0x000000000000cc3b, 10)
    TEST_LD(lhu, 0x000000000000ee5d, 12)
    TEST_LD(lhu, 0x000000000000807f, 14)
    TEST_LD(lw, 0x00000000748302f1, 0)
    TEST_LD(lw, 0xffffffffe8079685, 4)
    TEST_LD(lw, 0xffffffffcc3baa19, 8)
    TEST_LD(lw, 0xffffffff807fee5d, 12)
    TEST_LD(lwu, 0x00000000748302f1, 0)
    TEST_LD(lwu, 0x00000000e8079685, 4)
    TEST_LD(lwu, 0x00000000cc3baa19, 8)
    TEST_LD(lwu, 0x00000000807fee5d, 12)
    TEST_LD(ld, 0xe8079685748302f1, 0)
    TEST_LD(ld, 0x807fee5dcc3baa19, 8)
    /* misaligned (must work in RAM, no trap) */
    TEST_LD(lh, 0xffffffffffff8302, 1)
    TEST_LD(lh, 0xffffffffffff8574, 3)
    TEST_LD(lh, 0x0000000000000796, 5)
    TEST_LD(lh, 0x00000000000019e8, 7)
    TEST_LD(lh, 0x0000000000003baa, 9)
    TEST_LD(lh, 0x0000000000005dcc, 11)
    TEST_LD(lh, 0x0000000000007fee, 13)
    TEST_LD(lhu, 0x0000000000008302, 1)
    TEST_LD(lhu, 0x0000000000008574, 3)
    TEST_LD(lhu, 0x0000000000000796, 5)
    TEST_LD(lhu, 0x00000000000019e8, 7)
    TEST_LD(lhu, 0x0000000000003baa, 9)
    TEST_LD(lhu, 0x0000000000005dcc, 11)
    TEST_LD(lhu, 0x0000000000007fee, 13)
    TEST_LD(lw, 0xffffffff85748302, 1)
    TEST_LD(lw, 0xffffffff96857483, 2)
    TEST_LD(lw, 0x0000000007968574, 3)
    TEST_LD(lw, 0x0000000019e80796, 5)
    TEST_LD(lw, 0xffffffffaa19e807, 6)
    TEST_LD(lw, 0x000000003baa19e8, 7)
    TEST_LD(lw, 0x000000005dcc3baa, 9)
    TEST_LD(lw, 0xffffffffee5dcc3b, 10)
    TEST_LD(lw, 0x000000007fee5dcc, 11)
    TEST_LD(lwu, 0x0000000085748302, 1)
    TEST_LD(lwu, 0x0000000096857483, 2)
    TEST_LD(lwu, 0x0000000007968574, 3)
    TEST_LD(lwu, 0x0000000019e80796, 5)
    TEST_LD(lwu, 0x00000000aa19e807, 6)
    TEST_LD(lwu, 0x000000003baa19e8, 7)
    TEST_LD(lwu, 0x000000005dcc3baa, 9)
    TEST_LD(lwu, 0x00000000ee5dcc3b, 10)
    TEST_LD(lwu, 0x000000007fee5dcc, 11)
    TEST_LD(ld, 0x19e8079685748302, 1)
    TEST_LD(ld, 0xaa19e80796857483, 2)
    TEST_LD(ld, 0x3baa19e807968574, 3)
    TEST_LD(ld, 0xcc3baa19e8079685, 4)
    TEST_LD(ld, 0x5dcc3baa19e80796, 5)
    TEST_LD(ld, 0xee5dcc3baa19e807, 6)
    TEST_LD(ld, 0x7fee5dcc3baa19e8, 7)

    /* negative offsets from the end of tdat */
    la      a1, tdat_end
    lb      a0, -16(a1)
    CHECK_IMM(a0, 0xfffffffffffffff1)
    lhu     a0, -2(a1)
    CHECK_IMM(a0, 0x807f)
    lw      a0, -4(a1)
    CHECK_IMM(a0, 0xffffffff807fee5d)
    lwu     a0, -4(a1)
    CHECK_IMM(a0, 0x00000000807fee5d)
    ld      a0, -8(a1)
    CHECK_IMM(a0, 0x807fee5dcc3baa19)
    ld      a0, -9(a1)                       /* misaligned, negative offset */
    CHECK_IMM(a0, 0x7fee5dcc3baa19e8)

    /* rd == rs1 */
    la      a1, tdat
    ld      a1, 8(a1)
    CHECK_IMM(a1, 0x807fee5dcc3baa19)
    la      a1, tdat
    lw      a1, 3(a1)
    CHECK_IMM(a1, 0x0000000007968574)

    /* loads into x0 are performed and discarded */
    la      a1, tdat
    ld      zero, 0(a1)
    CHECK_IMM(zero, 0)
    lb      zero, 0(a1)
    CHECK_IMM(zero, 0)

    /* ---------------- stores (aligned and misaligned) ---------------- */
    TEST_ST(sb, 0x8877665544332211, 0, 0xa5a5a5a5a5a5a511, 0xa5a5a5a5a5a5a5a5)
    TEST_ST(sb, 0x8877665544332211, 1, 0xa5a5a5a5a5a511a5, 0xa5a5a5a5a5a5a5a5)
    TEST_ST(sb, 0x8877665544332211, 7, 0x11a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5)
    TEST_ST(sb, 0x8877665544332211, 8, 0xa5a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a511)
    TEST_ST(sb, 0x8877665544332211, 15, 0xa5a5a5a5a5a5a5a5, 0x11a5a5a5a5a5a5a5)
    TEST_ST(sh, 0x8877665544332211, 0, 0xa5a5a5a5a5a52211, 0xa5a5a5a5a5a5a5a5)
    TEST_ST(sh, 0x8877665544332211, 2, 0xa5a5a5a52211a5a5, 0xa5a5a5a5a5a5a5a5)
    TEST_ST(sh, 0x8877665544332211, 6, 0x2211a5a5a5a5a5a5, 0xa5a5a5a5a5a5a5a5)
    TEST_ST(sh, 0x8877665544332211, 1, 0xa5a5a5a5a52211a5, 0xa5a5a5a5a5a5a5a5)
    TEST_ST(sh, 0x8877665544332211, 7, 0x11a5a5a5a5a5a5a5, 0xa5a5a5a5a5a5a522)
    TEST_ST(sh, 0x8877665544332211, 13, 0xa5a5a5a5a5a5a5a5, 0xa52211a5a5a5a5a5)
    TEST_ST(sw, 0x8877665544332211, 0, 0xa5a5a5a544332211, 0xa5a5a5a5a5a5a5a5)
    TEST_ST(sw, 0x8877665544332211, 4, 0x44332211a5a5a5a5, 0xa5a5a5a5a5a5a5a5)
    TEST_ST(sw, 0x8877665544332211, 12, 0xa5a5a5a5a5a5a5a5, 0x44332211a5a5a5a5)
    TEST_ST(sw, 0x8877665544332211, 1, 0xa5a5a544332211a5, 0xa5a5a5a5a5a5a5a5)
    TEST_ST(sw, 0x8877665544332211, 2, 0xa5a544332211a5a5, 0xa5a5a5a5a5a5a5a5)
    TEST_ST(sw, 0x8877665544332211, 3, 0xa544332211a5a5a5, 0xa5a5a5a5a5a5a5a5)
    TEST_ST(sw, 0x8877665544332211, 5, 0x332211a5a5a5a5a5, 0xa5a5a5a5a5a5a544)
    TEST_ST(sw, 0x8877665544332211, 6, 0x2211a5a5a5a5a5a5, 0xa5a5a5a5a5a54433)
    TEST_ST(sw, 0x8877665544332211, 7, 0x11a5a5a5a5a5a5a5, 0xa5a5a5a5a5443322)
    TEST_ST(sw, 0x8877665544332211, 9, 0xa5a5a5a5a5a5a5a5, 0xa5a5a544332211a5)
    TEST_ST(sd, 0x8877665544332211, 0, 0x8877665544332211, 0xa5a5a5a5a5a5a5a5)
    TEST_ST(sd, 0x8877665544332211, 1, 0x77665544332211a5, 0xa5a5a5a5a5a5a588)
    TEST_ST(sd, 0x8877665544332211, 2, 0x665544332211a5a5, 0xa5a5a5a5a5a58877)
    TEST_ST(sd, 0x8877665544332211, 3, 0x5544332211a5a5a5, 0xa5a5a5a5a5887766)
    TEST_ST(sd, 0x8877665544332211, 4, 0x44332211a5a5a5a5, 0xa5a5a5a588776655)
    TEST_ST(sd, 0x8877665544332211, 5, 0x332211a5a5a5a5a5, 0xa5a5a58877665544)
    TEST_ST(sd, 0x8877665544332211, 6, 0x2211a5a5a5a5a5a5, 0xa5a5887766554433)
    TEST_ST(sd, 0x8877665544332211, 7, 0x11a5a5a5a5a5a5a5, 0xa588776655443322)
    TEST_ST(sd, 0x8877665544332211, 8, 0xa5a5a5a5a5a5a5a5, 0x8877665544332211)

    /* store then load back at every width at the same misaligned address */
    la      a1, sbuf
    sd      zero, 0(a1)
    sd      zero, 8(a1)
    li      a2, 0xfedcba9876543210
    sd      a2, 3(a1)
    ld      a0, 3(a1)
    CHECK(a0, a2)
    lw      a0, 3(a1)
    CHECK_IMM(a0, 0x0000000076543210)
    lw      a0, 5(a1)
    CHECK_IMM(a0, 0xffffffffba987654)
    lh      a0, 9(a1)
    CHECK_IMM(a0, 0xfffffffffffffedc)
    lbu     a0, 10(a1)
    CHECK_IMM(a0, 0xfe)
    lbu     a0, 11(a1)
    CHECK_IMM(a0, 0)

    /* a store to x0's value stores zero */
    li      t0, -1
    sd      t0, 0(a1)
    sw      zero, 2(a1)
    ld      a0, 0(a1)
    CHECK_IMM(a0, 0xffff00000000ffff)

    /* ---------------- accesses crossing a 4 KiB page boundary ---------------- */
    /* bytes pagebuf[4088 + i] = 0x40 + i for i = 0..15, written one by one */
    la      a1, pagebuf
    li      t0, 4088
    add     a1, a1, t0
    li      t1, 0
    li      t2, 16
1:  addi    t3, t1, 0x40
    add     t4, a1, t1
    sb      t3, 0(t4)
    addi    t1, t1, 1
    bne     t1, t2, 1b
    /* a1 = pagebuf + 4088, the page boundary is at a1 + 8 */
    ld      a0, 5(a1)                       /* bytes 4093..4100 */
    CHECK_IMM(a0, 0x4c4b4a4948474645)
    lw      a0, 6(a1)
    CHECK_IMM(a0, 0x0000000049484746)
    lwu     a0, 7(a1)
    CHECK_IMM(a0, 0x000000004a494847)
    lh      a0, 7(a1)
    CHECK_IMM(a0, 0x0000000000004847)
    ld      a0, 1(a1)
    CHECK_IMM(a0, 0x4847464544434241)
    /* misaligned stores across the boundary */
    li      a2, 0x0123456789abcdef
    sd      a2, 3(a1)                       /* bytes 4091..4098 */
    ld      a0, 0(a1)
    CHECK_IMM(a0, 0x6789abcdef424140)
    ld      a0, 8(a1)
    CHECK_IMM(a0, 0x4f4e4d4c4b012345)
    li      a2, 0xa1b2c3d4
    sw      a2, 6(a1)                       /* bytes 4094..4097 */
    ld      a0, 0(a1)
    CHECK_IMM(a0, 0xc3d4abcdef424140)
    ld      a0, 8(a1)
    CHECK_IMM(a0, 0x4f4e4d4c4b01a1b2)
    li      a2, 0x5a69
    sh      a2, 7(a1)                       /* bytes 4095..4096 */
    ld      a0, 0(a1)
    CHECK_IMM(a0, 0x69d4abcdef424140)
    ld      a0, 8(a1)
    CHECK_IMM(a0, 0x4f4e4d4c4b01a15a)
    lh      a0, 7(a1)
    CHECK_IMM(a0, 0x0000000000005a69)

    /* the neighbours of tdat were never written */
    la      a1, tdat
    ld      a0, 0(a1)
    CHECK_IMM(a0, 0xe8079685748302f1)

RVTEST_PASS
