package dev.rivet.ir.riscv;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A tiny RV64 assembler for tests, benchmarks and fuzzers that need guest code without a
 * cross toolchain. Static methods encode single instructions (unprivileged spec, chapter
 * "RV32I Base Integer Instruction Set", instruction formats R/I/S/B/U/J); an instance
 * collects instructions with forward and backward labels.
 */
public final class RiscvAssembler {
    // Major opcodes.
    private static final int LOAD = 0x03, LOAD_FP = 0x07, MISC_MEM = 0x0F, OP_IMM = 0x13, AUIPC = 0x17,
            OP_IMM_32 = 0x1B, STORE = 0x23, STORE_FP = 0x27, AMO = 0x2F, OP = 0x33, LUI = 0x37, OP_32 = 0x3B,
            MADD = 0x43, OP_FP = 0x53, BRANCH = 0x63, JALR = 0x67, JAL = 0x6F, SYSTEM = 0x73;

    public static int r(int opcode, int rd, int f3, int rs1, int rs2, int f7) {
        return opcode | rd << 7 | f3 << 12 | rs1 << 15 | rs2 << 20 | f7 << 25;
    }

    public static int i(int opcode, int rd, int f3, int rs1, int imm) {
        return opcode | rd << 7 | f3 << 12 | rs1 << 15 | (imm & 0xFFF) << 20;
    }

    public static int s(int opcode, int f3, int rs1, int rs2, int imm) {
        return opcode | (imm & 0x1F) << 7 | f3 << 12 | rs1 << 15 | rs2 << 20 | ((imm >> 5) & 0x7F) << 25;
    }

    public static int b(int f3, int rs1, int rs2, int off) {
        return BRANCH | ((off >> 11) & 1) << 7 | ((off >> 1) & 0xF) << 8 | f3 << 12 | rs1 << 15 | rs2 << 20
                | ((off >> 5) & 0x3F) << 25 | ((off >> 12) & 1) << 31;
    }

    public static int u(int opcode, int rd, int imm20) {
        return opcode | rd << 7 | imm20 << 12;
    }

    public static int j(int rd, int off) {
        return JAL | rd << 7 | ((off >> 12) & 0xFF) << 12 | ((off >> 11) & 1) << 20 | ((off >> 1) & 0x3FF) << 21
                | ((off >> 20) & 1) << 31;
    }

    // RV64I
    public static int add(int rd, int a, int b) { return r(OP, rd, 0, a, b, 0); }
    public static int sub(int rd, int a, int b) { return r(OP, rd, 0, a, b, 0x20); }
    public static int sll(int rd, int a, int b) { return r(OP, rd, 1, a, b, 0); }
    public static int slt(int rd, int a, int b) { return r(OP, rd, 2, a, b, 0); }
    public static int sltu(int rd, int a, int b) { return r(OP, rd, 3, a, b, 0); }
    public static int xor(int rd, int a, int b) { return r(OP, rd, 4, a, b, 0); }
    public static int srl(int rd, int a, int b) { return r(OP, rd, 5, a, b, 0); }
    public static int sra(int rd, int a, int b) { return r(OP, rd, 5, a, b, 0x20); }
    public static int or(int rd, int a, int b) { return r(OP, rd, 6, a, b, 0); }
    public static int and(int rd, int a, int b) { return r(OP, rd, 7, a, b, 0); }
    public static int addi(int rd, int a, int imm) { return i(OP_IMM, rd, 0, a, imm); }
    public static int slti(int rd, int a, int imm) { return i(OP_IMM, rd, 2, a, imm); }
    public static int sltiu(int rd, int a, int imm) { return i(OP_IMM, rd, 3, a, imm); }
    public static int xori(int rd, int a, int imm) { return i(OP_IMM, rd, 4, a, imm); }
    public static int ori(int rd, int a, int imm) { return i(OP_IMM, rd, 6, a, imm); }
    public static int andi(int rd, int a, int imm) { return i(OP_IMM, rd, 7, a, imm); }
    public static int slli(int rd, int a, int sh) { return i(OP_IMM, rd, 1, a, sh & 63); }
    public static int srli(int rd, int a, int sh) { return i(OP_IMM, rd, 5, a, sh & 63); }
    public static int srai(int rd, int a, int sh) { return i(OP_IMM, rd, 5, a, 0x400 | (sh & 63)); }
    public static int addw(int rd, int a, int b) { return r(OP_32, rd, 0, a, b, 0); }
    public static int subw(int rd, int a, int b) { return r(OP_32, rd, 0, a, b, 0x20); }
    public static int sllw(int rd, int a, int b) { return r(OP_32, rd, 1, a, b, 0); }
    public static int srlw(int rd, int a, int b) { return r(OP_32, rd, 5, a, b, 0); }
    public static int sraw(int rd, int a, int b) { return r(OP_32, rd, 5, a, b, 0x20); }
    public static int addiw(int rd, int a, int imm) { return i(OP_IMM_32, rd, 0, a, imm); }
    public static int slliw(int rd, int a, int sh) { return i(OP_IMM_32, rd, 1, a, sh & 31); }
    public static int srliw(int rd, int a, int sh) { return i(OP_IMM_32, rd, 5, a, sh & 31); }
    public static int sraiw(int rd, int a, int sh) { return i(OP_IMM_32, rd, 5, a, 0x400 | (sh & 31)); }
    public static int lui(int rd, int imm20) { return u(LUI, rd, imm20 & 0xFFFFF); }
    public static int auipc(int rd, int imm20) { return u(AUIPC, rd, imm20 & 0xFFFFF); }
    public static int lb(int rd, int a, int off) { return i(LOAD, rd, 0, a, off); }
    public static int lh(int rd, int a, int off) { return i(LOAD, rd, 1, a, off); }
    public static int lw(int rd, int a, int off) { return i(LOAD, rd, 2, a, off); }
    public static int ld(int rd, int a, int off) { return i(LOAD, rd, 3, a, off); }
    public static int lbu(int rd, int a, int off) { return i(LOAD, rd, 4, a, off); }
    public static int lhu(int rd, int a, int off) { return i(LOAD, rd, 5, a, off); }
    public static int lwu(int rd, int a, int off) { return i(LOAD, rd, 6, a, off); }
    public static int sb(int src, int a, int off) { return s(STORE, 0, a, src, off); }
    public static int sh(int src, int a, int off) { return s(STORE, 1, a, src, off); }
    public static int sw(int src, int a, int off) { return s(STORE, 2, a, src, off); }
    public static int sd(int src, int a, int off) { return s(STORE, 3, a, src, off); }
    public static int beq(int a, int b, int off) { return b(0, a, b, off); }
    public static int bne(int a, int b, int off) { return b(1, a, b, off); }
    public static int blt(int a, int b, int off) { return b(4, a, b, off); }
    public static int bge(int a, int b, int off) { return b(5, a, b, off); }
    public static int bltu(int a, int b, int off) { return b(6, a, b, off); }
    public static int bgeu(int a, int b, int off) { return b(7, a, b, off); }
    public static int jal(int rd, int off) { return j(rd, off); }
    public static int jalr(int rd, int a, int off) { return i(JALR, rd, 0, a, off); }
    public static int ecall() { return SYSTEM; }
    public static int ebreak() { return SYSTEM | 1 << 20; }
    public static int mret() { return 0x30200073; }
    public static int wfi() { return 0x10500073; }
    public static int fence() { return i(MISC_MEM, 0, 0, 0, 0x0FF); }
    public static int fenceI() { return i(MISC_MEM, 0, 1, 0, 0); }
    public static int csrrw(int rd, int csr, int rs1) { return i(SYSTEM, rd, 1, rs1, csr); }
    public static int csrrs(int rd, int csr, int rs1) { return i(SYSTEM, rd, 2, rs1, csr); }
    public static int csrrc(int rd, int csr, int rs1) { return i(SYSTEM, rd, 3, rs1, csr); }
    public static int csrrwi(int rd, int csr, int uimm) { return i(SYSTEM, rd, 5, uimm, csr); }
    public static int csrrsi(int rd, int csr, int uimm) { return i(SYSTEM, rd, 6, uimm, csr); }
    public static int csrrci(int rd, int csr, int uimm) { return i(SYSTEM, rd, 7, uimm, csr); }
    // M
    public static int mul(int rd, int a, int b) { return r(OP, rd, 0, a, b, 1); }
    public static int mulh(int rd, int a, int b) { return r(OP, rd, 1, a, b, 1); }
    public static int mulhsu(int rd, int a, int b) { return r(OP, rd, 2, a, b, 1); }
    public static int mulhu(int rd, int a, int b) { return r(OP, rd, 3, a, b, 1); }
    public static int div(int rd, int a, int b) { return r(OP, rd, 4, a, b, 1); }
    public static int divu(int rd, int a, int b) { return r(OP, rd, 5, a, b, 1); }
    public static int rem(int rd, int a, int b) { return r(OP, rd, 6, a, b, 1); }
    public static int remu(int rd, int a, int b) { return r(OP, rd, 7, a, b, 1); }
    public static int mulw(int rd, int a, int b) { return r(OP_32, rd, 0, a, b, 1); }
    public static int divw(int rd, int a, int b) { return r(OP_32, rd, 4, a, b, 1); }
    public static int divuw(int rd, int a, int b) { return r(OP_32, rd, 5, a, b, 1); }
    public static int remw(int rd, int a, int b) { return r(OP_32, rd, 6, a, b, 1); }
    public static int remuw(int rd, int a, int b) { return r(OP_32, rd, 7, a, b, 1); }
    // A (aq/rl clear)
    public static int lrD(int rd, int a) { return r(AMO, rd, 3, a, 0, 0x02 << 2); }
    public static int scD(int rd, int a, int src) { return r(AMO, rd, 3, a, src, 0x03 << 2); }
    public static int lrW(int rd, int a) { return r(AMO, rd, 2, a, 0, 0x02 << 2); }
    public static int scW(int rd, int a, int src) { return r(AMO, rd, 2, a, src, 0x03 << 2); }
    /** AMO with funct5 {@code f5} (0 add, 1 swap, 4 xor, 8 or, 12 and, 16 min, 20 max, 24 minu, 28 maxu). */
    public static int amo(int f5, boolean dword, int rd, int a, int src) { return r(AMO, rd, dword ? 3 : 2, a, src, f5 << 2); }
    // F/D (rm = rounding mode field, 7 = dynamic)
    public static int fld(int fd, int a, int off) { return i(LOAD_FP, fd, 3, a, off); }
    public static int flw(int fd, int a, int off) { return i(LOAD_FP, fd, 2, a, off); }
    public static int fsd(int fs, int a, int off) { return s(STORE_FP, 3, a, fs, off); }
    public static int fsw(int fs, int a, int off) { return s(STORE_FP, 2, a, fs, off); }
    public static int faddD(int fd, int a, int b, int rm) { return r(OP_FP, fd, rm, a, b, 0x01); }
    public static int fsubD(int fd, int a, int b, int rm) { return r(OP_FP, fd, rm, a, b, 0x05); }
    public static int fmulD(int fd, int a, int b, int rm) { return r(OP_FP, fd, rm, a, b, 0x09); }
    public static int fdivD(int fd, int a, int b, int rm) { return r(OP_FP, fd, rm, a, b, 0x0D); }
    public static int faddS(int fd, int a, int b, int rm) { return r(OP_FP, fd, rm, a, b, 0x00); }
    public static int fmulS(int fd, int a, int b, int rm) { return r(OP_FP, fd, rm, a, b, 0x08); }
    public static int fmaddD(int fd, int a, int b, int c, int rm) { return MADD | fd << 7 | rm << 12 | a << 15 | b << 20 | 1 << 25 | c << 27; }
    public static int fmaddS(int fd, int a, int b, int c, int rm) { return MADD | fd << 7 | rm << 12 | a << 15 | b << 20 | c << 27; }
    public static int fmvDX(int fd, int a) { return r(OP_FP, fd, 0, a, 0, 0x79); }
    public static int fmvXD(int rd, int fa) { return r(OP_FP, rd, 0, fa, 0, 0x71); }
    public static int fmvWX(int fd, int a) { return r(OP_FP, fd, 0, a, 0, 0x78); }
    public static int fmvXW(int rd, int fa) { return r(OP_FP, rd, 0, fa, 0, 0x70); }
    public static int fcvtDL(int fd, int a, int rm) { return r(OP_FP, fd, rm, a, 2, 0x69); }
    public static int fcvtLD(int rd, int fa, int rm) { return r(OP_FP, rd, rm, fa, 2, 0x61); }
    public static int fcvtWS(int rd, int fa, int rm) { return r(OP_FP, rd, rm, fa, 0, 0x60); }
    public static int feqD(int rd, int a, int b) { return r(OP_FP, rd, 2, a, b, 0x51); }
    public static int fltD(int rd, int a, int b) { return r(OP_FP, rd, 1, a, b, 0x51); }

    // ---- program builder with labels

    private final List<Integer> words = new ArrayList<>();
    private final Map<String, Integer> labels = new HashMap<>();
    private final List<Object[]> fixups = new ArrayList<>();

    /** Appends encoded instructions. */
    public RiscvAssembler emit(int... insns) {
        for (int w : insns) {
            words.add(w);
        }
        return this;
    }

    /** Defines {@code name} at the current position. */
    public RiscvAssembler label(String name) {
        if (labels.put(name, words.size() * 4) != null) {
            throw new IllegalArgumentException("label defined twice: " + name);
        }
        return this;
    }

    /** A branch or jal to {@code label}: {@code encoder} gets the byte offset. */
    public RiscvAssembler emitTo(String label, java.util.function.IntUnaryOperator encoder) {
        fixups.add(new Object[] {words.size(), label, encoder});
        words.add(0);
        return this;
    }

    /** Loads a 64-bit constant into {@code rd} (lui/addiw, then shifts for the upper half). */
    public RiscvAssembler li(int rd, long value) {
        if (value == (int) value) {
            int v = (int) value;
            int lo = (v << 20) >> 20;
            int hi = (v - lo) >>> 12;
            if (hi != 0) {
                emit(lui(rd, hi), addiw(rd, rd, lo));
            } else {
                emit(addi(rd, 0, lo));
            }
            return this;
        }
        li(rd, value >> 32);
        emit(slli(rd, rd, 11), ori(rd, rd, (int) (value >>> 21) & 0x7FF),
                slli(rd, rd, 11), ori(rd, rd, (int) (value >>> 10) & 0x7FF),
                slli(rd, rd, 10), ori(rd, rd, (int) value & 0x3FF));
        return this;
    }

    public int sizeBytes() {
        return words.size() * 4;
    }

    /** Little-endian machine code with every label resolved. */
    public byte[] assemble() {
        for (Object[] f : fixups) {
            int at = (Integer) f[0];
            Integer target = labels.get((String) f[1]);
            if (target == null) {
                throw new IllegalArgumentException("undefined label: " + f[1]);
            }
            words.set(at, ((java.util.function.IntUnaryOperator) f[2]).applyAsInt(target - at * 4));
        }
        byte[] out = new byte[words.size() * 4];
        for (int k = 0; k < words.size(); k++) {
            int w = words.get(k);
            out[4 * k] = (byte) w;
            out[4 * k + 1] = (byte) (w >> 8);
            out[4 * k + 2] = (byte) (w >> 16);
            out[4 * k + 3] = (byte) (w >> 24);
        }
        return out;
    }
}
