/*
 * RV64I register-register / register-immediate arithmetic, logic, shifts,
 * compares, the W forms with their sign extension, lui and auipc.
 * Expected values are worked out by hand from the ISA manual (RV64I chapter).
 */
#include "test_macros.h"

RVTEST_BEGIN("rv64i_alu")

    /* ---------------- add ---------------- */
    TEST_RR(add, 0, 0, 0)
    TEST_RR(add, 2, 1, 1)
    TEST_RR(add, 10, 3, 7)
    TEST_RR(add, 0xffffffffffff8000, 0xffffffffffff8000, 0)
    TEST_RR(add, 0x8000000000000000, 0x7fffffffffffffff, 1)
    TEST_RR(add, 0, -1, 1)
    TEST_RR(add, 0x100000000, 0xffffffff, 1)            /* no 32-bit wrap */
    TEST_RR(add, 0x0000000080000000, 0x7fffffff, 1)     /* no sign extension */
    TEST_RR(add, 0, 0x8000000000000000, 0x8000000000000000)
    TEST_RR(add, 0xfffffffffffffffe, -1, -1)
    TEST_RR_D1(add, 24, 13, 11)
    TEST_RR_D2(add, 25, 14, 11)
    TEST_RR_DSS(add, 26, 13)
    TEST_RR_Z1(add, 15, 15)
    TEST_RR_Z2(add, 32, 32)
    TEST_RR_ZD(add, 16, 30)

    /* ---------------- sub ---------------- */
    TEST_RR(sub, 0, 0, 0)
    TEST_RR(sub, 0, 1, 1)
    TEST_RR(sub, 0xfffffffffffffffc, 3, 7)
    TEST_RR(sub, 0x8000000000000000, 0, 0x8000000000000000)
    TEST_RR(sub, 0x7fffffffffffffff, 0x8000000000000000, 1)
    TEST_RR(sub, -1, 0, 1)
    TEST_RR(sub, 0xffffffff, 0x100000000, 1)
    TEST_RR(sub, 0x8000000000000001, 0, 0x7fffffffffffffff)
    TEST_RR_D1(sub, 2, 13, 11)
    TEST_RR_D2(sub, 3, 14, 11)
    TEST_RR_DSS(sub, 0, 13)
    TEST_RR_Z1(sub, -5, 5)
    TEST_RR_Z2(sub, 32, 32)
    TEST_RR_ZD(sub, 16, 30)

    /* ---------------- sll / srl / sra (shamt = rs2[5:0]) ---------------- */
    TEST_RR(sll, 1, 1, 0)
    TEST_RR(sll, 2, 1, 1)
    TEST_RR(sll, 0x80, 1, 7)
    TEST_RR(sll, 0x80000000, 1, 31)                     /* not sign-extended */
    TEST_RR(sll, 0x100000000, 1, 32)
    TEST_RR(sll, 0x8000000000000000, 1, 63)
    TEST_RR(sll, 0x8000000000000000, -1, 63)
    TEST_RR(sll, 0xffffffff00000000, -1, 32)
    TEST_RR(sll, 0x0000084848484000, 0x21212121, 14)
    TEST_RR(sll, 1, 1, 64)                              /* only 6 bits used */
    TEST_RR(sll, 0x8000000000000000, 1, -1)
    TEST_RR(sll, 0x0000000042424242, 0x21212121, 0xffffffffffffffc1)
    TEST_RR_D1(sll, 0x80, 1, 7)
    TEST_RR_D2(sll, 0x4000, 1, 14)
    TEST_RR_DSS(sll, 24, 3)
    TEST_RR_Z1(sll, 0, 15)
    TEST_RR_Z2(sll, 32, 32)

    TEST_RR(srl, 0x8000000000000000, 0x8000000000000000, 0)
    TEST_RR(srl, 0x4000000000000000, 0x8000000000000000, 1)
    TEST_RR(srl, 0x0000000100000000, 0x8000000000000000, 31)
    TEST_RR(srl, 0x0000000080000000, 0x8000000000000000, 32)
    TEST_RR(srl, 1, 0x8000000000000000, 63)
    TEST_RR(srl, 0x7fffffffffffffff, -1, 1)
    TEST_RR(srl, 0x00000000ffffffff, -1, 32)
    TEST_RR(srl, 1, -1, 63)
    TEST_RR(srl, 1, -1, -1)                             /* shamt 63 */
    TEST_RR(srl, 0x8000000000000000, 0x8000000000000000, 64)
    TEST_RR(srl, 0x0000000000008484, 0x21212121, 14)
    TEST_RR_D1(srl, 1, 0x80, 7)
    TEST_RR_D2(srl, 0, 1, 14)
    TEST_RR_DSS(srl, 0x0060000000000000, 0x3000000000000007)   /* shamt = 7 */
    TEST_RR_Z1(srl, 0, 15)
    TEST_RR_Z2(srl, 32, 32)

    TEST_RR(sra, 0x8000000000000000, 0x8000000000000000, 0)
    TEST_RR(sra, 0xc000000000000000, 0x8000000000000000, 1)
    TEST_RR(sra, 0xffffffff00000000, 0x8000000000000000, 31)
    TEST_RR(sra, 0xffffffff80000000, 0x8000000000000000, 32)
    TEST_RR(sra, -1, 0x8000000000000000, 63)
    TEST_RR(sra, 0, 0x7fffffffffffffff, 63)
    TEST_RR(sra, 0x00000000ffffffff, 0x7fffffffffffffff, 31)
    TEST_RR(sra, -1, -1, 17)
    TEST_RR(sra, 0xfffffffffe000000, 0xffffffff80000000, 6)
    TEST_RR(sra, 0x0000000001ffffff, 0x000000007fffffff, 6)   /* 32-bit sign bit is not the sign */
    TEST_RR(sra, -1, 0x8000000000000000, -1)            /* shamt 63 */
    TEST_RR(sra, 0xffffffff80000000, 0xffffffff80000000, 0xffffffffffffffc0)  /* shamt 0 */
    TEST_RR_D1(sra, 0xffffffffffffffff, 0x8000000000000000, 63)
    TEST_RR_D2(sra, 0, 1, 14)
    TEST_RR_Z1(sra, 0, 15)
    TEST_RR_Z2(sra, -32, -32)

    /* ---------------- slt / sltu ---------------- */
    TEST_RR(slt, 0, 0, 0)
    TEST_RR(slt, 0, 1, 1)
    TEST_RR(slt, 1, 3, 7)
    TEST_RR(slt, 0, 7, 3)
    TEST_RR(slt, 1, -1, 1)
    TEST_RR(slt, 0, 1, -1)
    TEST_RR(slt, 1, -1, 0)
    TEST_RR(slt, 1, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_RR(slt, 0, 0x7fffffffffffffff, 0x8000000000000000)
    TEST_RR(slt, 1, 0x8000000000000000, 0)
    TEST_RR(slt, 0, 0x0000000080000000, 0x7fffffff)     /* 64-bit compare, not 32 */
    TEST_RR(slt, 1, -2, -1)
    TEST_RR_DSS(slt, 0, 5)
    TEST_RR_Z1(slt, 1, 5)
    TEST_RR_Z1(slt, 0, -5)
    TEST_RR_Z2(slt, 1, -5)
    TEST_RR_Z2(slt, 0, 5)

    TEST_RR(sltu, 0, 0, 0)
    TEST_RR(sltu, 0, 1, 1)
    TEST_RR(sltu, 1, 3, 7)
    TEST_RR(sltu, 0, 7, 3)
    TEST_RR(sltu, 0, -1, 1)
    TEST_RR(sltu, 1, 1, -1)
    TEST_RR(sltu, 0, -1, 0)
    TEST_RR(sltu, 0, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_RR(sltu, 1, 0x7fffffffffffffff, 0x8000000000000000)
    TEST_RR(sltu, 1, 0xfffffffffffffffe, 0xffffffffffffffff)
    TEST_RR(sltu, 1, 0x00000000ffffffff, 0x0000000100000000)
    TEST_RR_DSS(sltu, 0, 5)
    TEST_RR_Z1(sltu, 1, 5)                              /* snez */
    TEST_RR_Z1(sltu, 0, 0)
    TEST_RR_Z2(sltu, 0, 5)

    /* ---------------- xor / or / and ---------------- */
    TEST_RR(xor, 0xf00ff00ff00ff00f, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f)
    TEST_RR(xor, 0xff00ff00ff00ff00, 0x00ff00ff00ff00ff, -1)
    TEST_RR(xor, 0, 0x123456789abcdef0, 0x123456789abcdef0)
    TEST_RR_D1(xor, 0xf00ff00ff00ff00f, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f)
    TEST_RR_DSS(xor, 0, 0x123456789abcdef0)
    TEST_RR_Z1(xor, 0x8000000000000001, 0x8000000000000001)

    TEST_RR(or, 0xff0fff0fff0fff0f, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f)
    TEST_RR(or, -1, 0x00ff00ff00ff00ff, 0xff00ff00ff00ff00)
    TEST_RR(or, 0x8000000000000001, 0x8000000000000000, 1)
    TEST_RR_D2(or, 0xff0fff0fff0fff0f, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f)
    TEST_RR_DSS(or, 0x123456789abcdef0, 0x123456789abcdef0)
    TEST_RR_Z2(or, 0x7ff0000000000000, 0x7ff0000000000000)

    TEST_RR(and, 0x0f000f000f000f00, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f)
    TEST_RR(and, 0, 0x00ff00ff00ff00ff, 0xff00ff00ff00ff00)
    TEST_RR(and, 0x8000000000000000, 0x8000000000000000, -1)
    TEST_RR_D1(and, 0x0f000f000f000f00, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f)
    TEST_RR_DSS(and, 0x123456789abcdef0, 0x123456789abcdef0)
    TEST_RR_Z1(and, 0, -1)

    /* ---------------- immediate forms (12-bit sign-extended imm) ---------------- */
    TEST_IMM(addi, 0, 0, 0)
    TEST_IMM(addi, 2, 1, 1)
    TEST_IMM(addi, 0x7ff, 0, 2047)
    TEST_IMM(addi, 0xfffffffffffff800, 0, -2048)
    TEST_IMM(addi, 0, -1, 1)
    TEST_IMM(addi, 0x8000000000000000, 0x7fffffffffffffff, 1)
    TEST_IMM(addi, 0x7fffffffffffffff, 0x8000000000000000, -1)
    TEST_IMM(addi, 0x0000000080000000, 0x7fffffff, 1)
    TEST_IMM(addi, 0x00000000ffffffff, 0x0000000100000000, -1)
    TEST_IMM(addi, 0x80000000000007fe, 0x7fffffffffffffff, 2047)
    TEST_IMM_D1(addi, 24, 13, 11)

    TEST_IMM(slti, 0, 0, 0)
    TEST_IMM(slti, 1, -1, 0)
    TEST_IMM(slti, 0, 0, -1)
    TEST_IMM(slti, 1, 0x8000000000000000, 0)
    TEST_IMM(slti, 0, 0x7fffffffffffffff, -2048)
    TEST_IMM(slti, 1, -2049, -2048)
    TEST_IMM(slti, 0, -2048, -2048)
    TEST_IMM(slti, 1, 2046, 2047)
    TEST_IMM(slti, 0, 0x00000000fffff800, -2048)

    TEST_IMM(sltiu, 1, 0, 1)                            /* seqz */
    TEST_IMM(sltiu, 0, 5, 1)
    TEST_IMM(sltiu, 1, 5, -1)                           /* imm = 0xffff...ffff */
    TEST_IMM(sltiu, 0, -1, -1)
    TEST_IMM(sltiu, 1, 0xfffffffffffff7ff, -2048)       /* imm = 0xffff...f800 */
    TEST_IMM(sltiu, 0, 0xfffffffffffff800, -2048)
    TEST_IMM(sltiu, 0, 0x8000000000000000, 2047)
    TEST_IMM(sltiu, 1, 2046, 2047)

    TEST_IMM(xori, 0xff00ff00ff00ff00, 0x00ff00ff00ff00ff, -1)  /* not */
    TEST_IMM(xori, 0x00ff00ff00ff070f, 0x00ff00ff00ff00f0, 0x7ff)
    TEST_IMM(xori, 0xff00ff00ff00f80f, 0x00ff00ff00ff000f, -2048)
    TEST_IMM(xori, 0x123456789abcdef0, 0x123456789abcdef0, 0)
    TEST_IMM_D1(xori, 0xfffffffffffffff0, 0x0ff, -241)

    TEST_IMM(ori, 0x8000000000000555, 0x8000000000000000, 0x555)
    TEST_IMM(ori, 0xfffffffffffffaaa, 0, -1366)
    TEST_IMM(ori, 0x00000000ffffffff, 0x00000000ffffffff, 0x7ff)
    TEST_IMM(ori, -1, 0x123456789abcdef0, -1)
    TEST_IMM_D1(ori, 0xff00ff00ff00ffff, 0xff00ff00ff00ff00, 0x0ff)

    TEST_IMM(andi, 0x00000000000006f0, 0x123456789abcdef0, 0x7ff)
    TEST_IMM(andi, 0x123456789abcd800, 0x123456789abcdef0, -2048)
    TEST_IMM(andi, 0, 0xff00ff00ff00ff00, 0x0ff)
    TEST_IMM(andi, 0x8000000000000000, 0x8000000000000000, -1)
    TEST_IMM_D1(andi, 0x0f0, 0xff00ff00ff00fff0, 0x0ff)

    TEST_IMM(slli, 1, 1, 0)
    TEST_IMM(slli, 2, 1, 1)
    TEST_IMM(slli, 0x80000000, 1, 31)
    TEST_IMM(slli, 0x100000000, 1, 32)
    TEST_IMM(slli, 0x8000000000000000, 1, 63)
    TEST_IMM(slli, 0xffffffff00000000, 0xffffffff, 32)
    TEST_IMM(slli, 0x8000000000000000, -1, 63)
    TEST_IMM_D1(slli, 0x0000084848484000, 0x21212121, 14)

    TEST_IMM(srli, 0x8000000000000000, 0x8000000000000000, 0)
    TEST_IMM(srli, 0x0000000100000000, 0x8000000000000000, 31)
    TEST_IMM(srli, 0x0000000080000000, 0x8000000000000000, 32)
    TEST_IMM(srli, 1, 0x8000000000000000, 63)
    TEST_IMM(srli, 0x00000000ffffffff, -1, 32)
    TEST_IMM(srli, 1, -1, 63)
    TEST_IMM_D1(srli, 0x0000000000008484, 0x21212121, 14)

    TEST_IMM(srai, 0x8000000000000000, 0x8000000000000000, 0)
    TEST_IMM(srai, 0xffffffff00000000, 0x8000000000000000, 31)
    TEST_IMM(srai, 0xffffffff80000000, 0x8000000000000000, 32)
    TEST_IMM(srai, -1, 0x8000000000000000, 63)
    TEST_IMM(srai, 0, 0x7fffffffffffffff, 63)
    TEST_IMM(srai, 0x0000000000ffffff, 0x00000000ffffffff, 8)
    TEST_IMM_D1(srai, -1, -1, 33)

    /* ---------------- W forms: 32-bit result, sign-extended to 64 ---------------- */
    TEST_RR(addw, 0xffffffff80000000, 0x7fffffff, 1)
    TEST_RR(addw, 0, 0xffffffff, 1)
    TEST_RR(addw, 3, 0x1234567800000001, 0x8765432100000002)   /* upper halves ignored */
    TEST_RR(addw, 0xfffffffffffffffe, -1, -1)
    TEST_RR(addw, 0, 0x80000000, 0x80000000)
    TEST_RR(addw, 0x000000007fffffff, 0xffffffff80000000, -1)
    TEST_RR(addw, 0xffffffff80000000, 0x0000000080000000, 0)   /* sext.w */
    TEST_RR_D1(addw, 0xffffffff80000001, 0x7fffffff, 2)
    TEST_RR_D2(addw, 0xffffffffffffffff, 0x7fffffff, 0x80000000)
    TEST_RR_Z1(addw, 0xffffffff8000abcd, 0x12348000abcd)
    TEST_RR_Z2(addw, 0x0000000012345678, 0xffffffff12345678)

    TEST_RR(subw, -1, 0, 1)
    TEST_RR(subw, 0x7fffffff, 0x80000000, 1)
    TEST_RR(subw, -1, 0x100000000, 1)
    TEST_RR(subw, 0, 0xffffffff00000000, 0)
    TEST_RR(subw, 0xffffffff80000000, 0x7fffffff, 0xffffffff)
    TEST_RR(subw, 0xffffffff80000000, 0, 0x80000000)
    TEST_RR(subw, 0x0000000000000002, 0xaaaaaaaa00000005, 0x5555555500000003)
    TEST_RR_Z1(subw, 0xffffffff80000001, 0x7fffffff)

    TEST_RR(sllw, 0xffffffff80000000, 1, 31)
    TEST_RR(sllw, 1, 1, 32)                             /* shamt = rs2[4:0] */
    TEST_RR(sllw, 0xfffffffffffffffe, 0xffffffff, 1)
    TEST_RR(sllw, 0x0000000034567890, 0x123456789, 4)
    TEST_RR(sllw, 0xffffffff80000000, 1, 63)
    TEST_RR(sllw, 0x0000000000000000, 0xffffffff00000000, 0)
    TEST_RR(sllw, 0xffffffff80000000, 0x0000000080000000, 0)
    TEST_RR(sllw, 0x0000000042424242, 0x21212121, 1)

    TEST_RR(srlw, 0xffffffff80000000, 0x80000000, 0)    /* result bit 31 set -> sign-extended */
    TEST_RR(srlw, 0x0000000040000000, 0x80000000, 1)
    TEST_RR(srlw, 1, 0xffffffff80000000, 31)
    TEST_RR(srlw, 0, 0xffffffff00000000, 4)
    TEST_RR(srlw, -1, -1, 32)                           /* shamt 0 */
    TEST_RR(srlw, 0xf, 0x12345678ffffffff, 28)
    TEST_RR(srlw, 0x0000000001ffffff, -1, 7)
    TEST_RR(srlw, 0x0000000000008484, 0x21212121, 14)

    TEST_RR(sraw, -1, 0x80000000, 31)
    TEST_RR(sraw, 0, 0x7fffffff, 31)
    TEST_RR(sraw, 0xffffffff80000000, 0x80000000, 0)
    TEST_RR(sraw, 0xffffffffff000000, 0x00000000f0000000, 4)
    TEST_RR(sraw, 0x000000003fffffff, 0xffffffff7fffffff, 1)
    TEST_RR(sraw, 0xffffffffffff8000, 0x0000000080000000, 48)   /* shamt 16 */
    TEST_RR(sraw, 0x0000000000000008, 0x1234567800000010, 1)

    TEST_IMM(addiw, 0xffffffff80000000, 0x7fffffff, 1)
    TEST_IMM(addiw, -1, 0xffffffff, 0)                  /* sext.w */
    TEST_IMM(addiw, 0x0000000012345678, 0xabcdef0012345678, 0)
    TEST_IMM(addiw, -1, 0x100000000, -1)
    TEST_IMM(addiw, 0x7fffffff, 0x80000000, -1)
    TEST_IMM(addiw, 0x00000000000007ff, 0, 2047)
    TEST_IMM(addiw, 0xfffffffffffff800, 0, -2048)
    TEST_IMM(addiw, 0xffffffff800007fe, 0x7fffffff, 2047)
    TEST_IMM_D1(addiw, 0xffffffff80000010, 0x7fffffff, 17)

    TEST_IMM(slliw, 0xffffffff80000000, 1, 31)
    TEST_IMM(slliw, 0xffffffffffff0000, 0xffffffff, 16)
    TEST_IMM(slliw, -1, 0x1ffffffff, 0)
    TEST_IMM(slliw, 0xffffffffc0000000, 3, 30)
    TEST_IMM(slliw, 0x0000000042424242, 0xabcdef0021212121, 1)
    TEST_IMM_D1(slliw, 0x0000000000000000, 0x100000000, 31)

    TEST_IMM(srliw, 0xffffffff80000000, 0x80000000, 0)
    TEST_IMM(srliw, 1, 0x80000000, 31)
    TEST_IMM(srliw, 0x0000000040000000, 0xffffffff80000000, 1)
    TEST_IMM(srliw, 0x000000000000ffff, -1, 16)
    TEST_IMM(srliw, 0x0000000000000001, 0xffffffff, 31)
    TEST_IMM_D1(srliw, 0x0000000000008484, 0x1234567821212121, 14)

    TEST_IMM(sraiw, -1, 0x80000000, 31)
    TEST_IMM(sraiw, 0xffffffff80000000, 0x80000000, 0)
    TEST_IMM(sraiw, 0x0000000000007fff, 0x7fff0000, 16)
    TEST_IMM(sraiw, -1, 0x12345678f0000000, 28)
    TEST_IMM(sraiw, 0, 0xffffffff7fffffff, 31)
    TEST_IMM_D1(sraiw, 0xffffffffffffff00, 0x0000000080000000, 23)

    /* ---------------- lui / auipc ---------------- */
    lui a0, 0
    CHECK_IMM(a0, 0)
    lui a0, 0x80000
    CHECK_IMM(a0, 0xffffffff80000000)
    lui a0, 0x7ffff
    CHECK_IMM(a0, 0x7ffff000)
    lui a0, 0xfffff
    CHECK_IMM(a0, 0xfffffffffffff000)
    lui a0, 0x12345
    CHECK_IMM(a0, 0x12345000)
    li a0, -1
    lui a0, 1                                           /* overwrites every bit */
    CHECK_IMM(a0, 0x1000)
    lui zero, 0x12345
    CHECK_IMM(zero, 0)

1:  auipc a0, 0
    la a1, 1b
    CHECK(a0, a1)
2:  auipc a0, 1
    la a1, 2b
    li t0, 0x1000
    add a1, a1, t0
    CHECK(a0, a1)
3:  auipc a0, 0x80000                                   /* pc - 2^31 */
    la a1, 3b
    li t0, 0x80000000
    sub a1, a1, t0
    CHECK(a0, a1)
4:  auipc a0, 0xfffff                                   /* pc - 4096 */
    la a1, 4b
    addi a1, a1, -2048
    addi a1, a1, -2048
    CHECK(a0, a1)
    /* absolute value: the program is linked at 0x80000000 and the first
       instruction of main is a little after it */
    auipc a0, 0
    li t0, 0x80000000
    sltu a1, a0, t0
    CHECK_IMM(a1, 0)
    li t0, 0x80100000
    sltu a1, a0, t0
    CHECK_IMM(a1, 1)

    /* ---------------- x0 is hard-wired ---------------- */
    li a1, 77
    addi zero, a1, 1
    CHECK_IMM(zero, 0)
    slli zero, a1, 3
    CHECK_IMM(zero, 0)
    addiw zero, a1, 5
    CHECK_IMM(zero, 0)
    add a0, zero, zero
    CHECK_IMM(a0, 0)

    /* ---------------- dependency chain through many registers ---------------- */
    li t0, 1
    add t1, t0, t0          /* 2 */
    add t2, t1, t0          /* 3 */
    add s0, t2, t1          /* 5 */
    add s1, s0, t2          /* 8 */
    add a3, s1, s0          /* 13 */
    add a4, a3, s1          /* 21 */
    add a5, a4, a3          /* 34 */
    add a6, a5, a4          /* 55 */
    add a7, a6, a5          /* 89 */
    add s2, a7, a6          /* 144 */
    add s3, s2, a7          /* 233 */
    add s4, s3, s2          /* 377 */
    add s5, s4, s3          /* 610 */
    add s6, s5, s4          /* 987 */
    add s7, s6, s5          /* 1597 */
    add s8, s7, s6          /* 2584 */
    add s9, s8, s7          /* 4181 */
    add s11, s9, s8         /* 6765 */
    add t3, s11, s9         /* 10946 */
    add t4, t3, s11         /* 17711 */
    add t5, t4, t3          /* 28657 */
    add ra, t5, t4          /* 46368 */
    add sp, ra, t5          /* 75025 */
    CHECK_IMM(sp, 75025)
    li t6, 0x7ff0
    sub t6, sp, t6          /* 75025 - 32752 = 42273 */
    mv a0, t6
    CHECK_IMM(a0, 42273)

RVTEST_PASS
