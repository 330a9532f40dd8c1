package dev.rivet.ir.riscv;

/**
 * Expands RV64C 16-bit instructions to their 32-bit equivalents (Unprivileged ISA,
 * chapter "C" Standard Extension for Compressed Instructions: "RVC Instruction Set
 * Listings", table "Instruction listing for RVC, Quadrant 0/1/2").
 *
 * <p>Every compressed instruction is defined as an expansion to a base instruction, so the
 * frontend decodes the expansion with the 32-bit decoder. HINT code points expand to
 * {@link #NOP} ({@code addi x0, x0, 0}); reserved code points (and the all-zero parcel)
 * return {@link #ILLEGAL}. Quadrant 0 {@code 100} and the Quadrant 1 {@code c.subw}-group
 * slots {@code 10}/{@code 11} belong to extensions we do not implement (Zcb) and are illegal.
 */
public final class CompressedExpander {
    private CompressedExpander() {
    }

    /** Returned for reserved encodings. No legal expansion is zero (it is itself illegal). */
    public static final int ILLEGAL = 0;
    /** {@code addi x0, x0, 0}: the expansion of HINTs. */
    public static final int NOP = 0x00000013;

    // Major opcodes of the expansions.
    private static final int LOAD = 0x03, LOAD_FP = 0x07, OP_IMM = 0x13, OP_IMM_32 = 0x1B, STORE = 0x23,
            STORE_FP = 0x27, OP = 0x33, LUI = 0x37, OP_32 = 0x3B, BRANCH = 0x63, JALR = 0x67, JAL = 0x6F;
    private static final int EBREAK = 0x00100073;
    private static final int SP = 2, RA = 1;

    /** The 32-bit expansion of {@code c} (low 16 bits, low two bits not {@code 11}), or {@link #ILLEGAL}. */
    public static int expand(int c) {
        c &= 0xFFFF;
        int f3 = c >>> 13;
        return switch (c & 3) {
            case 0 -> quadrant0(c, f3);
            case 1 -> quadrant1(c, f3);
            case 2 -> quadrant2(c, f3);
            default -> ILLEGAL; // a 32-bit instruction, not ours to expand
        };
    }

    // ---- Quadrant 0: c.addi4spn, stack-independent loads and stores (CIW/CL/CS formats).

    private static int quadrant0(int c, int f3) {
        int rdp = 8 + bits(c, 4, 2);   // rd' / rs2'
        int rs1p = 8 + bits(c, 9, 7);  // rs1'
        // CL/CS word offset: uimm[5:3] = c[12:10], uimm[2] = c[6], uimm[6] = c[5]
        int wOff = bits(c, 12, 10) << 3 | bit(c, 6) << 2 | bit(c, 5) << 6;
        // CL/CS doubleword offset: uimm[5:3] = c[12:10], uimm[7:6] = c[6:5]
        int dOff = bits(c, 12, 10) << 3 | bits(c, 6, 5) << 6;
        return switch (f3) {
            case 0 -> { // c.addi4spn: nzuimm[5:4|9:6|2|3] = c[12:11|10:7|6|5]; nzuimm = 0 is reserved
                int imm = bits(c, 12, 11) << 4 | bits(c, 10, 7) << 6 | bit(c, 6) << 2 | bit(c, 5) << 3;
                yield imm == 0 ? ILLEGAL : iType(imm, SP, 0, rdp, OP_IMM);
            }
            case 1 -> iType(dOff, rs1p, 3, rdp, LOAD_FP);  // c.fld
            case 2 -> iType(wOff, rs1p, 2, rdp, LOAD);     // c.lw
            case 3 -> iType(dOff, rs1p, 3, rdp, LOAD);     // c.ld (RV64)
            case 5 -> sType(dOff, rdp, rs1p, 3, STORE_FP); // c.fsd
            case 6 -> sType(wOff, rdp, rs1p, 2, STORE);    // c.sw
            case 7 -> sType(dOff, rdp, rs1p, 3, STORE);    // c.sd (RV64)
            default -> ILLEGAL;                            // 100: reserved (Zcb)
        };
    }

    // ---- Quadrant 1: immediates, lui/addi16sp, register-register ALU, jumps and branches.

    private static int quadrant1(int c, int f3) {
        int rd = bits(c, 11, 7);
        // CI immediate: imm[5] = c[12], imm[4:0] = c[6:2], sign-extended
        int ciImm = signExtend(bit(c, 12) << 5 | bits(c, 6, 2), 6);
        switch (f3) {
            case 0: // c.addi (rd = 0 or imm = 0: c.nop / HINT)
                return rd == 0 || ciImm == 0 ? NOP : iType(ciImm, rd, 0, rd, OP_IMM);
            case 1: // c.addiw (RV64); rd = 0 is reserved
                return rd == 0 ? ILLEGAL : iType(ciImm, rd, 0, rd, OP_IMM_32);
            case 2: // c.li; rd = 0 is a HINT
                return rd == 0 ? NOP : iType(ciImm, 0, 0, rd, OP_IMM);
            case 3:
                if (rd == SP) { // c.addi16sp: nzimm[9|4|6|8:7|5] = c[12|6|5|4:3|2]; 0 is reserved
                    int imm = signExtend(bit(c, 12) << 9 | bit(c, 6) << 4 | bit(c, 5) << 6
                            | bits(c, 4, 3) << 7 | bit(c, 2) << 5, 10);
                    return imm == 0 ? ILLEGAL : iType(imm, SP, 0, SP, OP_IMM);
                } else { // c.lui: nzimm[17|16:12] = c[12|6:2]; 0 is reserved, rd = 0 is a HINT
                    if (ciImm == 0) {
                        return ILLEGAL;
                    }
                    return rd == 0 ? NOP : (ciImm << 12) | rd << 7 | LUI;
                }
            case 4:
                return quadrant1Alu(c);
            case 5: // c.j: offset[11|4|9:8|10|6|7|3:1|5] = c[12|11|10:9|8|7|6|5:3|2]
                return jType(cjOffset(c), 0);
            case 6: // c.beqz
            case 7: { // c.bnez: offset[8|4:3] = c[12|11:10], offset[7:6|2:1|5] = c[6:5|4:3|2]
                int off = signExtend(bit(c, 12) << 8 | bits(c, 11, 10) << 3 | bits(c, 6, 5) << 6
                        | bits(c, 4, 3) << 1 | bit(c, 2) << 5, 9);
                return bType(off, 0, 8 + bits(c, 9, 7), f3 == 6 ? 0 : 1);
            }
            default:
                throw new AssertionError();
        }
    }

    private static int quadrant1Alu(int c) {
        int rd = 8 + bits(c, 9, 7);
        int rs2 = 8 + bits(c, 4, 2);
        int shamt = bit(c, 12) << 5 | bits(c, 6, 2);
        switch (bits(c, 11, 10)) {
            case 0: // c.srli (shamt = 0: HINT)
                return shamt == 0 ? NOP : iType(shamt, rd, 5, rd, OP_IMM);
            case 1: // c.srai (shamt = 0: HINT)
                return shamt == 0 ? NOP : iType(0x400 | shamt, rd, 5, rd, OP_IMM);
            case 2: // c.andi
                return iType(signExtend(shamt, 6), rd, 7, rd, OP_IMM);
            default:
                break;
        }
        int sel = bit(c, 12) << 2 | bits(c, 6, 5);
        return switch (sel) {
            case 0 -> rType(0x20, rs2, rd, 0, rd, OP);    // c.sub
            case 1 -> rType(0x00, rs2, rd, 4, rd, OP);    // c.xor
            case 2 -> rType(0x00, rs2, rd, 6, rd, OP);    // c.or
            case 3 -> rType(0x00, rs2, rd, 7, rd, OP);    // c.and
            case 4 -> rType(0x20, rs2, rd, 0, rd, OP_32); // c.subw
            case 5 -> rType(0x00, rs2, rd, 0, rd, OP_32); // c.addw
            default -> ILLEGAL;                           // reserved (Zcb c.mul etc.)
        };
    }

    // ---- Quadrant 2: c.slli, stack-pointer-based loads and stores, jr/mv/ebreak/jalr/add.

    private static int quadrant2(int c, int f3) {
        int rd = bits(c, 11, 7);
        int rs2 = bits(c, 6, 2);
        // CI doubleword sp offset: uimm[5] = c[12], uimm[4:3] = c[6:5], uimm[8:6] = c[4:2]
        int ldspOff = bit(c, 12) << 5 | bits(c, 6, 5) << 3 | bits(c, 4, 2) << 6;
        // CSS doubleword sp offset: uimm[5:3] = c[12:10], uimm[8:6] = c[9:7]
        int sdspOff = bits(c, 12, 10) << 3 | bits(c, 9, 7) << 6;
        switch (f3) {
            case 0: { // c.slli (rd = 0 or shamt = 0: HINT)
                int shamt = bit(c, 12) << 5 | rs2;
                return rd == 0 || shamt == 0 ? NOP : iType(shamt, rd, 1, rd, OP_IMM);
            }
            case 1: // c.fldsp
                return iType(ldspOff, SP, 3, rd, LOAD_FP);
            case 2: { // c.lwsp: uimm[5] = c[12], uimm[4:2] = c[6:4], uimm[7:6] = c[3:2]; rd = 0 reserved
                int off = bit(c, 12) << 5 | bits(c, 6, 4) << 2 | bits(c, 3, 2) << 6;
                return rd == 0 ? ILLEGAL : iType(off, SP, 2, rd, LOAD);
            }
            case 3: // c.ldsp (RV64); rd = 0 reserved
                return rd == 0 ? ILLEGAL : iType(ldspOff, SP, 3, rd, LOAD);
            case 4:
                if (bit(c, 12) == 0) {
                    if (rs2 == 0) { // c.jr; rs1 = 0 reserved
                        return rd == 0 ? ILLEGAL : iType(0, rd, 0, 0, JALR);
                    }
                    return rd == 0 ? NOP : rType(0, rs2, 0, 0, rd, OP); // c.mv (rd = 0: HINT)
                }
                if (rs2 == 0) {
                    return rd == 0 ? EBREAK : iType(0, rd, 0, RA, JALR); // c.ebreak / c.jalr
                }
                return rd == 0 ? NOP : rType(0, rs2, rd, 0, rd, OP); // c.add (rd = 0: HINT)
            case 5: // c.fsdsp
                return sType(sdspOff, rs2, SP, 3, STORE_FP);
            case 6: { // c.swsp: uimm[5:2] = c[12:9], uimm[7:6] = c[8:7]
                int off = bits(c, 12, 9) << 2 | bits(c, 8, 7) << 6;
                return sType(off, rs2, SP, 2, STORE);
            }
            case 7: // c.sdsp (RV64)
                return sType(sdspOff, rs2, SP, 3, STORE);
            default:
                throw new AssertionError();
        }
    }

    private static int cjOffset(int c) {
        return signExtend(bit(c, 12) << 11 | bit(c, 11) << 4 | bits(c, 10, 9) << 8 | bit(c, 8) << 10
                | bit(c, 7) << 6 | bit(c, 6) << 7 | bits(c, 5, 3) << 1 | bit(c, 2) << 5, 12);
    }

    // ---- field helpers and 32-bit encoders

    private static int bit(int v, int i) {
        return (v >>> i) & 1;
    }

    private static int bits(int v, int hi, int lo) {
        return (v >>> lo) & ((1 << (hi - lo + 1)) - 1);
    }

    private static int signExtend(int v, int width) {
        int s = 32 - width;
        return v << s >> s;
    }

    private static int iType(int imm, int rs1, int f3, int rd, int opc) {
        return (imm & 0xFFF) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
    }

    private static int sType(int imm, int rs2, int rs1, int f3, int opc) {
        return ((imm >> 5) & 0x7F) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (imm & 0x1F) << 7 | opc;
    }

    private static int rType(int f7, int rs2, int rs1, int f3, int rd, int opc) {
        return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
    }

    private static int bType(int imm, int rs2, int rs1, int f3) {
        return bit(imm, 12) << 31 | bits(imm, 10, 5) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12
                | bits(imm, 4, 1) << 8 | bit(imm, 11) << 7 | BRANCH;
    }

    private static int jType(int imm, int rd) {
        return bit(imm, 20) << 31 | bits(imm, 10, 1) << 21 | bit(imm, 11) << 20 | bits(imm, 19, 12) << 12
                | rd << 7 | JAL;
    }
}
