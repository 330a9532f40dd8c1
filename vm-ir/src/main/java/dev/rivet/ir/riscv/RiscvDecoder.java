package dev.rivet.ir.riscv;

import dev.rivet.core.riscv.Cause;
import dev.rivet.core.riscv.Hart;
import dev.rivet.ir.CodeSource;
import dev.rivet.ir.IrBlock;
import dev.rivet.ir.IrBuilder;
import dev.rivet.ir.Op;

import static dev.rivet.ir.riscv.RiscvSlots.f;
import static dev.rivet.ir.riscv.RiscvSlots.x;
import static dev.rivet.ir.riscv.RiscvSlots.xDest;

/**
 * RISC-V RV64GC (+ Zba, Zbb, Zbs, Zicond, Zihintpause, Zicsr, Zifencei) frontend: decodes
 * guest instructions starting at a PC into one {@link IrBlock}.
 *
 * <p>Block shape: one {@link IrBuilder#beginInsn} per guest instruction (also for those that
 * emit no op, such as fences and HINTs, so they count as retired). A block ends after a
 * branch or jump, after an op that ends blocks (trap, CSR access, xRET, WFI, FENCE.I,
 * SFENCE.VMA), after {@link #MAX_INSNS} instructions, before an instruction that would start
 * on another 4 KiB page than the block, and before an instruction whose fetch faults (unless
 * it is the first one: then the block is a single {@code TRAP}). The non-branch ends finish
 * with {@code EXIT nextPc} under the last instruction. A 32-bit instruction whose second
 * parcel lies on the next page is included (so {@code pc + byteLength} may cross into that
 * page). For a fetch fault on the first instruction, {@link IrBlock#byteLength} counts only
 * the parcels fetched successfully (0, or 2 when the second parcel faulted).
 *
 * <p>Privilege checks that depend only on {@code mode} are done here: MRET below M, SRET
 * in U, and WFI and SFENCE.VMA in U (illegal whenever S-mode exists, Privileged ISA 3.1.6.5
 * "TW" and 4.2.1) decode to an illegal-instruction trap; mstatus.TW/TSR/TVM and CSR access
 * rights are left to the interpreter.
 *
 * <p>Compressed instructions are expanded by {@link CompressedExpander} and then decoded as
 * their 32-bit equivalents; the illegal-instruction {@code tval} is still the 16-bit parcel.
 *
 * <p>The decoder is stateless and may be shared between threads.
 */
public final class RiscvDecoder {
    /** Longest block in guest instructions. */
    public static final int MAX_INSNS = 64;

    private static final long PAGE_MASK = ~0xFFFL;

    /**
     * Decodes the block at {@code pc}. {@code mode} is {@link dev.rivet.core.riscv.Hart#codeMode()}:
     * bits 0–1 the privilege level, bit 2 set when the FPU is off (mstatus.FS = Off).
     */
    public IrBlock decode(long pc, long physPc, int mode, CodeSource code) {
        IrBuilder b = new IrBuilder(pc, physPc, mode);
        Translator t = new Translator(b, mode);
        long insnPc = pc;
        int count = 0;
        while (true) {
            // Fetch one instruction (Unprivileged ISA 1.5 "Base Instruction-Length Encoding":
            // low bits != 11 is a 16-bit instruction; everything else is fetched as 32 bits, as
            // we implement no longer formats — their prefixes then decode as illegal).
            int lo = code.parcel(insnPc);
            int insn = lo;
            int len = 2;
            int fault = lo;           // negative: the fetch faulted
            long faultVa = insnPc;
            if (lo >= 0 && (lo & 3) == 3) {
                int hi = code.parcel(insnPc + 2); // may lie on the next page: still part of this instruction
                fault = hi;
                faultVa = insnPc + 2;
                insn = lo | hi << 16;
                len = 4;
            }
            if (fault < 0) {
                int cause = -1 - fault;
                if (count == 0) {
                    b.beginInsn(insnPc);
                    b.emit(Op.TRAP, 0, 0, 0, trapImm(cause, faultVa));
                    return b.build((int) (faultVa - pc));
                }
                b.emit(Op.EXIT, 0, 0, 0, insnPc); // under the previous instruction
                break;
            }
            b.beginInsn(insnPc);
            t.translate(insnPc, insn, len);
            count++;
            insnPc += len;
            int last = b.lastOp();
            if (last >= 0 && Op.is(last, Op.F_ENDS_BLOCK)) {
                break;
            }
            if (count == MAX_INSNS || ((insnPc ^ pc) & PAGE_MASK) != 0) {
                b.emit(Op.EXIT, 0, 0, 0, insnPc);
                break;
            }
        }
        return b.build((int) (insnPc - pc));
    }

    /** The {@code TRAP} immediate: cause in bits 0–7, tval above (recovered with {@code imm >> 8}). */
    static long trapImm(int cause, long tval) {
        return cause | tval << 8;
    }

    /** Translates single instructions into the builder; holds the per-block state. */
    private static final class Translator {
        // Major opcodes, inst[6:0] (Unprivileged ISA, chapter "RV32/64G Instruction Set
        // Listings", table "RISC-V base opcode map").
        static final int LOAD = 0x03, LOAD_FP = 0x07, MISC_MEM = 0x0F, OP_IMM = 0x13, AUIPC = 0x17,
                OP_IMM_32 = 0x1B, STORE = 0x23, STORE_FP = 0x27, AMO = 0x2F, OP = 0x33, LUI = 0x37,
                OP_32 = 0x3B, MADD = 0x43, MSUB = 0x47, NMSUB = 0x4B, NMADD = 0x4F, OP_FP = 0x53,
                BRANCH = 0x63, JALR = 0x67, JAL = 0x6F, SYSTEM = 0x73;

        // Whole-instruction encodings of the SYSTEM funct3 = 0 group (Privileged ISA,
        // chapter "Instruction Listings").
        static final int ECALL = 0x00000073, EBREAK = 0x00100073, SRET = 0x10200073, MRET = 0x30200073,
                WFI = 0x10500073;
        static final int F7_SFENCE_VMA = 0x09;

        static final int TMP0 = RiscvSlots.TMP0;

        private final IrBuilder b;
        private final int priv;
        private final boolean fpOff;
        private boolean fpDirtyEmitted;

        Translator(IrBuilder b, int mode) {
            this.b = b;
            this.priv = mode & Hart.MODE_PRIV_MASK;
            this.fpOff = (mode & Hart.MODE_FS_OFF) != 0;
        }

        void translate(long pc, int insn, int len) {
            if (len == 2) {
                int x = CompressedExpander.expand(insn);
                if (x == CompressedExpander.ILLEGAL) {
                    illegal(insn & 0xFFFF);
                } else {
                    decode32(pc, x, 2, insn & 0xFFFF);
                }
            } else {
                decode32(pc, insn, 4, insn & 0xFFFFFFFFL);
            }
        }

        /**
         * Decodes the 32-bit instruction {@code insn} (possibly the expansion of a 16-bit
         * one: {@code len} is the real length, {@code raw} the real bits for mtval).
         */
        private void decode32(long pc, int insn, int len, long raw) {
            int rd = (insn >>> 7) & 31;
            int f3 = (insn >>> 12) & 7;
            int rs1 = (insn >>> 15) & 31;
            int rs2 = (insn >>> 20) & 31;
            int f7 = insn >>> 25;
            long immI = insn >> 20;
            boolean ok = switch (insn & 0x7F) {
                case LUI -> alu(Op.MOVI, rd, 0, 0, (long) (insn & 0xFFFFF000));
                case AUIPC -> alu(Op.MOVI, rd, 0, 0, pc + (insn & 0xFFFFF000));
                case JAL -> jal(pc, len, rd, immJ(insn));
                case JALR -> f3 == 0 && jalr(pc, len, rd, rs1, immI);
                case BRANCH -> branch(pc, len, f3, rs1, rs2, immB(insn));
                case LOAD -> load(f3, rd, rs1, immI);
                case STORE -> store(f3, rs1, rs2, immS(insn));
                case OP_IMM -> opImm(insn, f3, rd, rs1, immI);
                case OP_IMM_32 -> opImm32(insn, f3, rd, rs1, rs2, f7, immI);
                case OP -> op(f7, f3, rd, rs1, rs2);
                case OP_32 -> op32(f7, f3, rd, rs1, rs2);
                case MISC_MEM -> miscMem(f3);
                case AMO -> amo(insn, f3, rd, rs1, rs2);
                case SYSTEM -> system(pc, insn, f3, rd, rs1, rs2, f7, raw);
                case LOAD_FP -> loadFp(f3, rd, rs1, immI);
                case STORE_FP -> storeFp(f3, rs1, rs2, immS(insn));
                case MADD, MSUB, NMSUB, NMADD -> fma(insn, f3, rd, rs1, rs2);
                case OP_FP -> opFp(f7, f3, rd, rs1, rs2);
                default -> false;
            };
            if (!ok) {
                illegal(raw);
            }
        }

        // ---- emission helpers

        private void emit(int op, int d, int a, int bb, long imm) {
            b.emit(op, d, a, bb, imm);
        }

        /** A side-effect-free integer op writing x[rd]; dropped when rd = x0. Always "decoded". */
        private boolean alu(int op, int rd, int a, int bb, long imm) {
            if (rd != 0) {
                emit(op, x(rd), a, bb, imm);
            }
            return true;
        }

        private void illegal(long bits) {
            emit(Op.TRAP, 0, 0, 0, trapImm(Cause.ILLEGAL_INSN, bits));
        }

        private void trap(int cause, long tval) {
            emit(Op.TRAP, 0, 0, 0, trapImm(cause, tval));
        }

        /** Emits an FP op that writes an FP register or fflags, preceded by FP_DIRTY once per block. */
        private boolean fpWrite(int op, int d, int a, int bb, long imm) {
            if (!fpDirtyEmitted) {
                fpDirtyEmitted = true;
                emit(Op.FP_DIRTY, 0, 0, 0, 0);
            }
            emit(op, d, a, bb, imm);
            return true;
        }

        // ---- immediates (Unprivileged ISA 2.3 "Immediate Encoding Variants")

        private static long immS(int insn) {
            return (insn >> 25) << 5 | (insn >>> 7) & 0x1F;
        }

        private static long immB(int insn) {
            return (insn >> 31) << 12 | ((insn >>> 7) & 1) << 11 | ((insn >>> 25) & 0x3F) << 5
                    | ((insn >>> 8) & 0xF) << 1;
        }

        private static long immJ(int insn) {
            return (insn >> 31) << 20 | ((insn >>> 12) & 0xFF) << 12 | ((insn >>> 20) & 1) << 11
                    | ((insn >>> 21) & 0x3FF) << 1;
        }

        // ---- control transfer (2.5 "Control Transfer Instructions")

        private boolean jal(long pc, int len, int rd, long off) {
            alu(Op.MOVI, rd, 0, 0, pc + len);
            emit(Op.EXIT, 0, 0, 0, pc + off);
            return true;
        }

        private boolean jalr(long pc, int len, int rd, int rs1, long off) {
            // The target is computed before rd is written, so rd == rs1 works.
            emit(Op.ADDI, TMP0, x(rs1), 0, off);
            emit(Op.ANDI, TMP0, TMP0, 0, -2);
            alu(Op.MOVI, rd, 0, 0, pc + len);
            emit(Op.EXIT_IND, 0, TMP0, 0, 0);
            return true;
        }

        private boolean branch(long pc, int len, int f3, int rs1, int rs2, long off) {
            int op = switch (f3) {
                case 0 -> Op.BR_EQ;
                case 1 -> Op.BR_NE;
                case 4 -> Op.BR_LT;
                case 5 -> Op.BR_GE;
                case 6 -> Op.BR_LTU;
                case 7 -> Op.BR_GEU;
                default -> -1;
            };
            if (op < 0) {
                return false;
            }
            emit(op, 0, x(rs1), x(rs2), pc + off);
            emit(Op.EXIT, 0, 0, 0, pc + len);
            return true;
        }

        // ---- loads and stores (2.6 "Load and Store Instructions"; RV64I 4.3)

        private boolean load(int f3, int rd, int rs1, long off) {
            int op = switch (f3) {
                case 0 -> Op.LD8S;
                case 1 -> Op.LD16S;
                case 2 -> Op.LD32S;
                case 3 -> Op.LD64;
                case 4 -> Op.LD8U;
                case 5 -> Op.LD16U;
                case 6 -> Op.LD32U;
                default -> -1;
            };
            if (op < 0) {
                return false;
            }
            emit(op, xDest(rd), x(rs1), 0, off); // even with rd = x0: the access may fault
            return true;
        }

        private boolean store(int f3, int rs1, int rs2, long off) {
            if (f3 > 3) {
                return false;
            }
            emit(Op.ST8 + f3, 0, x(rs1), x(rs2), off);
            return true;
        }

        // ---- integer register-immediate (2.4.1; RV64I 4.2.1; Zbb/Zbs immediate forms)

        private boolean opImm(int insn, int f3, int rd, int rs1, long imm) {
            int a = x(rs1);
            int hi6 = insn >>> 26;            // imm[11:6]
            int shamt = (insn >>> 20) & 63;   // imm[5:0]
            switch (f3) {
                case 0:
                    return alu(Op.ADDI, rd, a, 0, imm);
                case 2:
                    return alu(Op.SLTI, rd, a, 0, imm);
                case 3:
                    return alu(Op.SLTIU, rd, a, 0, imm); // unsigned compare with the sign-extended imm
                case 4:
                    return alu(Op.XORI, rd, a, 0, imm);
                case 6:
                    return alu(Op.ORI, rd, a, 0, imm);
                case 7:
                    return alu(Op.ANDI, rd, a, 0, imm);
                case 1:
                    switch (hi6) {
                        case 0x00:
                            return alu(Op.SHLI, rd, a, 0, shamt);
                        case 0x0A:
                            return alu(Op.BSETI, rd, a, 0, shamt);
                        case 0x12:
                            return alu(Op.BCLRI, rd, a, 0, shamt);
                        case 0x1A:
                            return alu(Op.BINVI, rd, a, 0, shamt);
                        case 0x18: { // Zbb unary: funct7 0110000, rs2 selects
                            int op = switch (shamt) {
                                case 0 -> Op.CLZ;
                                case 1 -> Op.CTZ;
                                case 2 -> Op.CPOP;
                                case 4 -> Op.SEXT8;
                                case 5 -> Op.SEXT16;
                                default -> -1;
                            };
                            return op >= 0 && alu(op, rd, a, 0, 0);
                        }
                        default:
                            return false;
                    }
                case 5:
                    switch (hi6) {
                        case 0x00:
                            return alu(Op.SHRI, rd, a, 0, shamt);
                        case 0x10:
                            return alu(Op.SARI, rd, a, 0, shamt);
                        case 0x18:
                            return alu(Op.RORI, rd, a, 0, shamt);
                        case 0x12:
                            return alu(Op.BEXTI, rd, a, 0, shamt);
                        case 0x0A: // orc.b: imm[11:0] = 0x287
                            return shamt == 0x07 && alu(Op.ORC_B, rd, a, 0, 0);
                        case 0x1A: // rev8 (RV64): imm[11:0] = 0x6B8
                            return shamt == 0x38 && alu(Op.REV8, rd, a, 0, 0);
                        default:
                            return false;
                    }
                default:
                    throw new AssertionError();
            }
        }

        private boolean opImm32(int insn, int f3, int rd, int rs1, int rs2, int f7, long imm) {
            int a = x(rs1);
            switch (f3) {
                case 0:
                    return alu(Op.ADDI_32, rd, a, 0, imm);
                case 1:
                    if (f7 == 0) {
                        return alu(Op.SHLI_32, rd, a, 0, rs2);
                    }
                    if ((insn >>> 26) == 0x02) { // Zba slli.uw: 6-bit shamt
                        return alu(Op.SHLI_UW, rd, a, 0, (insn >>> 20) & 63);
                    }
                    if (f7 == 0x30) {
                        int op = switch (rs2) {
                            case 0 -> Op.CLZ_32;
                            case 1 -> Op.CTZ_32;
                            case 2 -> Op.CPOP_32;
                            default -> -1;
                        };
                        return op >= 0 && alu(op, rd, a, 0, 0);
                    }
                    return false;
                case 5:
                    return switch (f7) {
                        case 0x00 -> alu(Op.SHRI_32, rd, a, 0, rs2);
                        case 0x20 -> alu(Op.SARI_32, rd, a, 0, rs2);
                        case 0x30 -> alu(Op.RORI_32, rd, a, 0, rs2);
                        default -> false;
                    };
                default:
                    return false;
            }
        }

        // ---- integer register-register (2.4.2; RV64I 4.2.2; M; Zba; Zbb; Zbs; Zicond)

        private static int key(int f7, int f3) {
            return f7 << 3 | f3;
        }

        private boolean op(int f7, int f3, int rd, int rs1, int rs2) {
            long imm = 0;
            int op;
            switch (key(f7, f3)) {
                case 0x00 << 3 | 0 -> op = Op.ADD;
                case 0x20 << 3 | 0 -> op = Op.SUB;
                case 0x00 << 3 | 1 -> op = Op.SHL;
                case 0x00 << 3 | 2 -> op = Op.SLT;
                case 0x00 << 3 | 3 -> op = Op.SLTU;
                case 0x00 << 3 | 4 -> op = Op.XOR;
                case 0x00 << 3 | 5 -> op = Op.SHR;
                case 0x20 << 3 | 5 -> op = Op.SAR;
                case 0x00 << 3 | 6 -> op = Op.OR;
                case 0x00 << 3 | 7 -> op = Op.AND;
                // M (chapter "M" Extension)
                case 0x01 << 3 | 0 -> op = Op.MUL;
                case 0x01 << 3 | 1 -> op = Op.MULH;
                case 0x01 << 3 | 2 -> op = Op.MULHSU;
                case 0x01 << 3 | 3 -> op = Op.MULHU;
                case 0x01 << 3 | 4 -> op = Op.DIV;
                case 0x01 << 3 | 5 -> op = Op.DIVU;
                case 0x01 << 3 | 6 -> op = Op.REM;
                case 0x01 << 3 | 7 -> op = Op.REMU;
                // Zba sh1add/sh2add/sh3add
                case 0x10 << 3 | 2 -> { op = Op.SHADD; imm = 1; }
                case 0x10 << 3 | 4 -> { op = Op.SHADD; imm = 2; }
                case 0x10 << 3 | 6 -> { op = Op.SHADD; imm = 3; }
                // Zbb
                case 0x20 << 3 | 7 -> op = Op.ANDN;
                case 0x20 << 3 | 6 -> op = Op.ORN;
                case 0x20 << 3 | 4 -> op = Op.XNOR;
                case 0x05 << 3 | 4 -> op = Op.MIN;
                case 0x05 << 3 | 5 -> op = Op.MINU;
                case 0x05 << 3 | 6 -> op = Op.MAX;
                case 0x05 << 3 | 7 -> op = Op.MAXU;
                case 0x30 << 3 | 1 -> op = Op.ROL;
                case 0x30 << 3 | 5 -> op = Op.ROR;
                // Zbs
                case 0x24 << 3 | 1 -> op = Op.BCLR;
                case 0x24 << 3 | 5 -> op = Op.BEXT;
                case 0x34 << 3 | 1 -> op = Op.BINV;
                case 0x14 << 3 | 1 -> op = Op.BSET;
                // Zicond
                case 0x07 << 3 | 5 -> op = Op.CZERO_EQZ;
                case 0x07 << 3 | 7 -> op = Op.CZERO_NEZ;
                default -> {
                    return false;
                }
            }
            return alu(op, rd, x(rs1), x(rs2), imm);
        }

        private boolean op32(int f7, int f3, int rd, int rs1, int rs2) {
            long imm = 0;
            int op;
            switch (key(f7, f3)) {
                case 0x00 << 3 | 0 -> op = Op.ADD_32;
                case 0x20 << 3 | 0 -> op = Op.SUB_32;
                case 0x00 << 3 | 1 -> op = Op.SHL_32;
                case 0x00 << 3 | 5 -> op = Op.SHR_32;
                case 0x20 << 3 | 5 -> op = Op.SAR_32;
                case 0x01 << 3 | 0 -> op = Op.MUL_32;
                case 0x01 << 3 | 4 -> op = Op.DIV_32;
                case 0x01 << 3 | 5 -> op = Op.DIVU_32;
                case 0x01 << 3 | 6 -> op = Op.REM_32;
                case 0x01 << 3 | 7 -> op = Op.REMU_32;
                // Zba
                case 0x04 << 3 | 0 -> op = Op.ADD_UW;
                case 0x10 << 3 | 2 -> { op = Op.SHADD_UW; imm = 1; }
                case 0x10 << 3 | 4 -> { op = Op.SHADD_UW; imm = 2; }
                case 0x10 << 3 | 6 -> { op = Op.SHADD_UW; imm = 3; }
                // Zbb: zext.h (RV64 encoding: the packw form with rs2 = 0), rolw, rorw
                case 0x04 << 3 | 4 -> {
                    if (rs2 != 0) {
                        return false; // packw (Zbkb) is not implemented
                    }
                    op = Op.ZEXT16;
                }
                case 0x30 << 3 | 1 -> op = Op.ROL_32;
                case 0x30 << 3 | 5 -> op = Op.ROR_32;
                default -> {
                    return false;
                }
            }
            return alu(op, rd, x(rs1), x(rs2), imm);
        }

        // ---- MISC-MEM (2.7 "Memory Ordering Instructions"; Zifencei; Zihintpause)

        private boolean miscMem(int f3) {
            // FENCE (incl. FENCE.TSO and PAUSE): the unused fields and reserved fm/pred/succ
            // settings are treated as a normal fence, as the spec requires; we are sequentially
            // consistent, so no op. FENCE.I likewise ignores its imm/rs1/rd fields.
            return switch (f3) {
                case 0 -> true;
                case 1 -> {
                    emit(Op.FENCE_I, 0, 0, 0, 0);
                    yield true;
                }
                default -> false;
            };
        }

        // ---- A (chapter "A" Extension: LR/SC and AMOs)

        private boolean amo(int insn, int f3, int rd, int rs1, int rs2) {
            if (f3 != 2 && f3 != 3) {
                return false;
            }
            boolean dw = f3 == 3;
            int d = xDest(rd);
            int a = x(rs1);
            int kind;
            switch (insn >>> 27) {
                case 0x02 -> {
                    if (rs2 != 0) {
                        return false;
                    }
                    emit(dw ? Op.LR_64 : Op.LR_32, d, a, 0, 0);
                    return true;
                }
                case 0x03 -> {
                    emit(dw ? Op.SC_64 : Op.SC_32, d, a, x(rs2), 0);
                    return true;
                }
                case 0x01 -> kind = Op.AMO_SWAP;
                case 0x00 -> kind = Op.AMO_ADD;
                case 0x04 -> kind = Op.AMO_XOR;
                case 0x0C -> kind = Op.AMO_AND;
                case 0x08 -> kind = Op.AMO_OR;
                case 0x10 -> kind = Op.AMO_MIN;
                case 0x14 -> kind = Op.AMO_MAX;
                case 0x18 -> kind = Op.AMO_MINU;
                case 0x1C -> kind = Op.AMO_MAXU;
                default -> {
                    return false;
                }
            }
            emit(dw ? Op.AMO_64 : Op.AMO_32, d, a, x(rs2), kind);
            return true;
        }

        // ---- SYSTEM (2.8 "Environment Call and Breakpoints"; Zicsr; Privileged ISA 3.3, 4.2.1)

        private boolean system(long pc, int insn, int f3, int rd, int rs1, int rs2, int f7, long raw) {
            if (f3 == 0) {
                switch (insn) {
                    case ECALL -> trap(Cause.ECALL_U + priv, 0); // 8 U, 9 S, 11 M
                    case EBREAK -> trap(Cause.BREAKPOINT, pc);
                    case MRET -> {
                        if (priv < Hart.PRIV_M) {
                            return false;
                        }
                        emit(Op.MRET, 0, 0, 0, 0);
                    }
                    case SRET -> {
                        if (priv < Hart.PRIV_S) {
                            return false;
                        }
                        emit(Op.SRET, 0, 0, 0, 0);
                    }
                    case WFI -> {
                        // With S-mode implemented, WFI in U-mode is illegal (Privileged 3.1.6.5, TW).
                        if (priv == Hart.PRIV_U) {
                            return false;
                        }
                        emit(Op.WFI, 0, 0, 0, 0);
                    }
                    default -> {
                        // SFENCE.VMA: 0001001 rs2 rs1 000 00000; illegal in U-mode (4.2.1).
                        if (f7 != F7_SFENCE_VMA || rd != 0 || priv == Hart.PRIV_U) {
                            return false;
                        }
                        emit(Op.SFENCE_VMA, 0, x(rs1), x(rs2), 0);
                    }
                }
                return true;
            }
            if (f3 == 4) {
                return false; // Hypervisor loads/stores: not implemented
            }
            // Zicsr: funct3 1/2/3 = CSRRW/CSRRS/CSRRC, 5/6/7 the immediate forms (uimm in rs1).
            int kind = (f3 & 3) - 1;
            boolean noWrite = kind != 0 && rs1 == 0; // csrrs/c with rs1 = x0 or uimm = 0
            long imm = (insn >>> 20) | (long) kind << Op.CSR_KIND_SHIFT | (noWrite ? Op.CSR_NO_WRITE : 0)
                    | (raw & 0xFFFFFFFFL) << 32;
            int src = x(rs1);
            if (f3 >= 4) {
                emit(Op.MOVI, TMP0, 0, 0, rs1);
                src = TMP0;
            }
            emit(Op.CSR, xDest(rd), src, 0, imm);
            return true;
        }

        // ---- F and D (chapters "F" and "D" Standard Extensions)

        /** Static rounding modes 5 and 6 are reserved (F 11.2 "Floating-Point Control and Status Register"). */
        private static boolean validRm(int rm) {
            return rm != 5 && rm != 6;
        }

        private boolean loadFp(int f3, int rd, int rs1, long off) {
            if (fpOff || (f3 != 2 && f3 != 3)) {
                return false;
            }
            return fpWrite(f3 == 2 ? Op.FLD32 : Op.FLD64, f(rd), x(rs1), 0, off);
        }

        private boolean storeFp(int f3, int rs1, int rs2, long off) {
            if (fpOff || (f3 != 2 && f3 != 3)) {
                return false;
            }
            emit(f3 == 2 ? Op.FST32 : Op.FST64, 0, x(rs1), f(rs2), off); // reads only: no FP_DIRTY
            return true;
        }

        private boolean fma(int insn, int rm, int rd, int rs1, int rs2) {
            int fmt = (insn >>> 25) & 3;
            if (fpOff || fmt > 1 || !validRm(rm)) {
                return false;
            }
            int op = (fmt == 1 ? Op.FMADD_D : Op.FMADD_S) + (((insn & 0x7F) - MADD) >> 2);
            int rs3 = insn >>> 27;
            return fpWrite(op, f(rd), f(rs1), f(rs2), rm | (long) f(rs3) << 8);
        }

        private boolean opFp(int f7, int rm, int rd, int rs1, int rs2) {
            int fmt = f7 & 3;
            if (fpOff || fmt > 1) {
                return false; // half (fmt 10) and quad (fmt 11) are not implemented
            }
            boolean dbl = fmt == 1;
            int base = dbl ? Op.FADD_D : Op.FADD_S;
            switch (f7 >>> 2) {
                case 0x00, 0x01, 0x02, 0x03: // fadd, fsub, fmul, fdiv
                    return validRm(rm) && fpWrite(base + (f7 >>> 2), f(rd), f(rs1), f(rs2), rm);
                case 0x0B: // fsqrt
                    return rs2 == 0 && validRm(rm) && fpWrite(base + (Op.FSQRT_S - Op.FADD_S), f(rd), f(rs1), 0, rm);
                case 0x04: // fsgnj, fsgnjn, fsgnjx
                    return rm <= 2 && fpWrite(base + (Op.FSGNJ_S - Op.FADD_S) + rm, f(rd), f(rs1), f(rs2), 0);
                case 0x05: // fmin, fmax (write fflags for signaling NaNs)
                    return rm <= 1 && fpWrite(base + (Op.FMIN_S - Op.FADD_S) + rm, f(rd), f(rs1), f(rs2), 0);
                case 0x08: { // fcvt.s.d (fmt S, rs2 = 1), fcvt.d.s (fmt D, rs2 = 0)
                    if (!validRm(rm) || rs2 != (dbl ? 0 : 1)) {
                        return false;
                    }
                    return fpWrite(dbl ? Op.FCVT_D_S : Op.FCVT_S_D, f(rd), f(rs1), 0, rm);
                }
                case 0x14: { // fle (0), flt (1), feq (2): integer result, may set fflags
                    int op = switch (rm) {
                        case 0 -> Op.FLE_S;
                        case 1 -> Op.FLT_S;
                        case 2 -> Op.FEQ_S;
                        default -> -1;
                    };
                    return op >= 0 && fpWrite(base + (op - Op.FADD_S), xDest(rd), f(rs1), f(rs2), 0);
                }
                case 0x18: // fcvt.{w,wu,l,lu}.fmt: rs2 selects the integer type
                    return rs2 <= 3 && validRm(rm)
                            && fpWrite(base + (Op.FCVT_W_S - Op.FADD_S) + rs2, xDest(rd), f(rs1), 0, rm);
                case 0x1A: // fcvt.fmt.{w,wu,l,lu}
                    return rs2 <= 3 && validRm(rm)
                            && fpWrite(base + (Op.FCVT_S_W - Op.FADD_S) + rs2, f(rd), x(rs1), 0, rm);
                case 0x1C: // fmv.x.{w,d} (rm 0), fclass (rm 1): read-only, no FP_DIRTY
                    if (rs2 != 0 || rm > 1) {
                        return false;
                    }
                    emit(base + (rm == 0 ? Op.FMV_X_W - Op.FADD_S : Op.FCLASS_S - Op.FADD_S), xDest(rd), f(rs1), 0, 0);
                    return true;
                case 0x1E: // fmv.{w,d}.x
                    return rs2 == 0 && rm == 0 && fpWrite(base + (Op.FMV_W_X - Op.FADD_S), f(rd), x(rs1), 0, 0);
                default:
                    return false;
            }
        }
    }
}
