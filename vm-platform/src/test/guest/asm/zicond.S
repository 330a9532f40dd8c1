/*
 * Zicond: czero.eqz rd, rs1, rs2  ->  rd = (rs2 == 0) ? 0 : rs1
 *         czero.nez rd, rs1, rs2  ->  rd = (rs2 != 0) ? 0 : rs1
 * All 64 bits of rs2 are tested (a value with a zero low word is non-zero).
 *
 * binutils 2.40 / gcc 12 do not know Zicond, so the instructions are emitted
 * with .insn (encoding from the Zicond v1.0 spec: funct7 = 0000111,
 * funct3 = 101 (eqz) / 111 (nez), opcode OP = 0110011), e.g.
 * czero.eqz a0, a1, a2 = 0x0ec5d533.
 *
 * QEMU 7.2 does not implement Zicond (illegal instruction).  With
 * QEMU_QUIRKS (run-on-qemu.sh only) each czero is replaced by an equivalent
 * base-ISA sequence, which validates the expected values and the harness on
 * QEMU; the real build always executes the real instructions.
 */
#include "test_macros.h"

#ifndef QEMU_QUIRKS
#define CZERO_EQZ(rd, rs1, rs2)  .insn r 0x33, 5, 0x07, rd, rs1, rs2
#define CZERO_NEZ(rd, rs1, rs2)  .insn r 0x33, 7, 0x07, rd, rs1, rs2
#else
#define CZERO_EQZ(rd, rs1, rs2)  snez t5, rs2; neg t5, t5; and rd, rs1, t5
#define CZERO_NEZ(rd, rs1, rs2)  seqz t5, rs2; neg t5, t5; and rd, rs1, t5
#endif

#define TEST_CZ(op, result, v1, v2)              \
    li a1, v1; li a2, v2; op(a0, a1, a2);        \
    CHECK_IMM(a0, result)

RVTEST_BEGIN("zicond")

    TEST_CZ(CZERO_EQZ, 0,                  0x123456789abcdef0, 0)
    TEST_CZ(CZERO_EQZ, 0x123456789abcdef0, 0x123456789abcdef0, 1)
    TEST_CZ(CZERO_EQZ, 0x123456789abcdef0, 0x123456789abcdef0, -1)
    TEST_CZ(CZERO_EQZ, 0x123456789abcdef0, 0x123456789abcdef0, 0x8000000000000000)
    TEST_CZ(CZERO_EQZ, 0x123456789abcdef0, 0x123456789abcdef0, 0x0000000100000000)  /* low word 0 */
    TEST_CZ(CZERO_EQZ, -1,                 -1, 0x0000000000000080)
    TEST_CZ(CZERO_EQZ, 0,                  -1, 0)
    TEST_CZ(CZERO_EQZ, 0,                  0, 5)

    TEST_CZ(CZERO_NEZ, 0x123456789abcdef0, 0x123456789abcdef0, 0)
    TEST_CZ(CZERO_NEZ, 0,                  0x123456789abcdef0, 1)
    TEST_CZ(CZERO_NEZ, 0,                  0x123456789abcdef0, -1)
    TEST_CZ(CZERO_NEZ, 0,                  0x123456789abcdef0, 0x8000000000000000)
    TEST_CZ(CZERO_NEZ, 0,                  0x123456789abcdef0, 0x0000000100000000)  /* low word 0 */
    TEST_CZ(CZERO_NEZ, -1,                 -1, 0)
    TEST_CZ(CZERO_NEZ, 0,                  -1, 0x0000000000000080)
    TEST_CZ(CZERO_NEZ, 0,                  0, 0)

    /* rd == rs1 */
    li      a1, 77
    li      a2, 0
    CZERO_EQZ(a1, a1, a2)
    CHECK_IMM(a1, 0)
    li      a1, 77
    li      a2, 3
    CZERO_EQZ(a1, a1, a2)
    CHECK_IMM(a1, 77)
    li      a1, 77
    CZERO_NEZ(a1, a1, a2)
    CHECK_IMM(a1, 0)
    /* rd == rs2 */
    li      a1, 77
    li      a2, 3
    CZERO_EQZ(a2, a1, a2)
    CHECK_IMM(a2, 77)
    li      a2, 0
    CZERO_NEZ(a2, a1, a2)
    CHECK_IMM(a2, 77)
    li      a2, 9
    CZERO_NEZ(a2, a1, a2)
    CHECK_IMM(a2, 0)
    /* rs1 == rs2 */
    li      a1, 0x8000000000000000
    CZERO_EQZ(a0, a1, a1)
    CHECK_IMM(a0, 0x8000000000000000)
    CZERO_NEZ(a0, a1, a1)
    CHECK_IMM(a0, 0)
    /* x0 operands */
    li      a1, 55
    CZERO_EQZ(a0, a1, zero)                 /* always 0 */
    CHECK_IMM(a0, 0)
    CZERO_NEZ(a0, a1, zero)                 /* always rs1 */
    CHECK_IMM(a0, 55)
    li      a2, 1
    CZERO_NEZ(a0, zero, a2)
    CHECK_IMM(a0, 0)
    CZERO_EQZ(zero, a1, a2)                 /* rd = x0: discarded */
    CHECK_IMM(zero, 0)

    /* the select idiom: rd = c ? a : b */
    li      a1, 0x1111
    li      a2, 0x2222
    li      a3, 7                           /* c != 0 */
    CZERO_EQZ(a4, a1, a3)
    CZERO_NEZ(a5, a2, a3)
    or      a0, a4, a5
    CHECK_IMM(a0, 0x1111)
    li      a3, 0                           /* c == 0 */
    CZERO_EQZ(a4, a1, a3)
    CZERO_NEZ(a5, a2, a3)
    or      a0, a4, a5
    CHECK_IMM(a0, 0x2222)

RVTEST_PASS
