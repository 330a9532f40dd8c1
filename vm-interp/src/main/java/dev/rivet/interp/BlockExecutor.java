package dev.rivet.interp;

import dev.rivet.core.riscv.Hart;
import dev.rivet.ir.IrBlock;
import dev.rivet.ir.Op;
import dev.rivet.ir.exec.Atomics;
import dev.rivet.ir.exec.FpOps;
import dev.rivet.ir.exec.IntOps;

import static dev.rivet.ir.exec.BlockExit.EXIT_FALL;
import static dev.rivet.ir.exec.BlockExit.EXIT_SYSTEM;
import static dev.rivet.ir.exec.BlockExit.EXIT_TAKEN;

import static dev.rivet.ir.IrBlock.A_SHIFT;
import static dev.rivet.ir.IrBlock.B_SHIFT;
import static dev.rivet.ir.IrBlock.D_SHIFT;
import static dev.rivet.ir.IrBlock.OP_MASK;
import static dev.rivet.ir.IrBlock.SLOT_MASK;

/**
 * Runs one IR block on a hart: a {@code switch} over int opcodes reading and writing the
 * hart's register file directly. No allocation, no boxing and no exceptions on any path;
 * faults come back from the hart's slow paths through {@link Hart#excCause}.
 *
 * <p>Retired instructions: {@link Hart#instret} is brought up to date on every way out
 * of the block (an exit retires its instruction; a fault does not).
 */
final class BlockExecutor {
    private BlockExecutor() {
    }

    static int execute(IrBlock blk, Hart h) {
        final long[] r = h.regs;
        final int[] code = blk.code;
        final long[] imm = blk.imm;
        final long base = h.instret;
        for (int i = 0; ; i++) {
            final int w = code[i];
            final int d = (w >>> D_SHIFT) & SLOT_MASK;
            final int a = (w >>> A_SHIFT) & SLOT_MASK;
            final int b = (w >>> B_SHIFT) & SLOT_MASK;
            switch (w & OP_MASK) {
                case Op.NOP, Op.FP_DIRTY -> {
                    if ((w & OP_MASK) == Op.FP_DIRTY) {
                        h.markFpDirty();
                    }
                }
                case Op.MOV -> r[d] = r[a];
                case Op.MOVI -> r[d] = imm[i];

                case Op.ADD -> r[d] = r[a] + r[b];
                case Op.SUB -> r[d] = r[a] - r[b];
                case Op.AND -> r[d] = r[a] & r[b];
                case Op.OR -> r[d] = r[a] | r[b];
                case Op.XOR -> r[d] = r[a] ^ r[b];
                case Op.SHL -> r[d] = r[a] << r[b];
                case Op.SHR -> r[d] = r[a] >>> r[b];
                case Op.SAR -> r[d] = r[a] >> r[b];
                case Op.SLT -> r[d] = r[a] < r[b] ? 1 : 0;
                case Op.SLTU -> r[d] = Long.compareUnsigned(r[a], r[b]) < 0 ? 1 : 0;
                case Op.MUL -> r[d] = r[a] * r[b];
                case Op.MULH -> r[d] = Math.multiplyHigh(r[a], r[b]);
                case Op.MULHU -> r[d] = Math.unsignedMultiplyHigh(r[a], r[b]);
                case Op.MULHSU -> {
                    long x = r[a], y = r[b];
                    // signed x unsigned: the unsigned high part minus y when x is negative.
                    r[d] = Math.unsignedMultiplyHigh(x, y) - (x < 0 ? y : 0);
                }
                case Op.DIV -> r[d] = IntOps.div(r[a], r[b]);
                case Op.DIVU -> r[d] = r[b] == 0 ? -1L : Long.divideUnsigned(r[a], r[b]);
                case Op.REM -> r[d] = IntOps.rem(r[a], r[b]);
                case Op.REMU -> r[d] = r[b] == 0 ? r[a] : Long.remainderUnsigned(r[a], r[b]);

                case Op.ADDI -> r[d] = r[a] + imm[i];
                case Op.ANDI -> r[d] = r[a] & imm[i];
                case Op.ORI -> r[d] = r[a] | imm[i];
                case Op.XORI -> r[d] = r[a] ^ imm[i];
                case Op.SHLI -> r[d] = r[a] << imm[i];
                case Op.SHRI -> r[d] = r[a] >>> imm[i];
                case Op.SARI -> r[d] = r[a] >> imm[i];
                case Op.SLTI -> r[d] = r[a] < imm[i] ? 1 : 0;
                case Op.SLTIU -> r[d] = Long.compareUnsigned(r[a], imm[i]) < 0 ? 1 : 0;

                case Op.ADD_32 -> r[d] = (int) (r[a] + r[b]);
                case Op.SUB_32 -> r[d] = (int) (r[a] - r[b]);
                case Op.SHL_32 -> r[d] = (int) r[a] << (r[b] & 31);
                case Op.SHR_32 -> r[d] = (int) r[a] >>> (r[b] & 31);
                case Op.SAR_32 -> r[d] = (int) r[a] >> (r[b] & 31);
                case Op.MUL_32 -> r[d] = (int) r[a] * (int) r[b];
                case Op.DIV_32 -> r[d] = IntOps.div32((int) r[a], (int) r[b]);
                case Op.DIVU_32 -> r[d] = (int) r[b] == 0 ? -1L : Integer.divideUnsigned((int) r[a], (int) r[b]);
                case Op.REM_32 -> r[d] = IntOps.rem32((int) r[a], (int) r[b]);
                case Op.REMU_32 -> r[d] = (int) r[b] == 0 ? (int) r[a] : Integer.remainderUnsigned((int) r[a], (int) r[b]);
                case Op.ADDI_32 -> r[d] = (int) (r[a] + imm[i]);
                case Op.SHLI_32 -> r[d] = (int) r[a] << imm[i];
                case Op.SHRI_32 -> r[d] = (int) r[a] >>> imm[i];
                case Op.SARI_32 -> r[d] = (int) r[a] >> imm[i];

                case Op.SHADD -> r[d] = (r[a] << imm[i]) + r[b];
                case Op.ADD_UW -> r[d] = (r[a] & 0xFFFF_FFFFL) + r[b];
                case Op.SHADD_UW -> r[d] = ((r[a] & 0xFFFF_FFFFL) << imm[i]) + r[b];
                case Op.SHLI_UW -> r[d] = (r[a] & 0xFFFF_FFFFL) << imm[i];
                case Op.ANDN -> r[d] = r[a] & ~r[b];
                case Op.ORN -> r[d] = r[a] | ~r[b];
                case Op.XNOR -> r[d] = ~(r[a] ^ r[b]);
                case Op.CLZ -> r[d] = Long.numberOfLeadingZeros(r[a]);
                case Op.CTZ -> r[d] = Long.numberOfTrailingZeros(r[a]);
                case Op.CPOP -> r[d] = Long.bitCount(r[a]);
                case Op.CLZ_32 -> r[d] = Integer.numberOfLeadingZeros((int) r[a]);
                case Op.CTZ_32 -> r[d] = Integer.numberOfTrailingZeros((int) r[a]);
                case Op.CPOP_32 -> r[d] = Integer.bitCount((int) r[a]);
                case Op.MAX -> r[d] = Math.max(r[a], r[b]);
                case Op.MAXU -> r[d] = Long.compareUnsigned(r[a], r[b]) >= 0 ? r[a] : r[b];
                case Op.MIN -> r[d] = Math.min(r[a], r[b]);
                case Op.MINU -> r[d] = Long.compareUnsigned(r[a], r[b]) <= 0 ? r[a] : r[b];
                case Op.SEXT8 -> r[d] = (byte) r[a];
                case Op.SEXT16 -> r[d] = (short) r[a];
                case Op.ZEXT16 -> r[d] = r[a] & 0xFFFF;
                case Op.ROL -> r[d] = Long.rotateLeft(r[a], (int) r[b]);
                case Op.ROR -> r[d] = Long.rotateRight(r[a], (int) r[b]);
                case Op.ROL_32 -> r[d] = Integer.rotateLeft((int) r[a], (int) r[b]);
                case Op.ROR_32 -> r[d] = Integer.rotateRight((int) r[a], (int) r[b]);
                case Op.RORI -> r[d] = Long.rotateRight(r[a], (int) imm[i]);
                case Op.RORI_32 -> r[d] = Integer.rotateRight((int) r[a], (int) imm[i]);
                case Op.ORC_B -> r[d] = IntOps.orcB(r[a]);
                case Op.REV8 -> r[d] = Long.reverseBytes(r[a]);
                case Op.BCLR -> r[d] = r[a] & ~(1L << r[b]);
                case Op.BEXT -> r[d] = (r[a] >>> r[b]) & 1;
                case Op.BINV -> r[d] = r[a] ^ (1L << r[b]);
                case Op.BSET -> r[d] = r[a] | (1L << r[b]);
                case Op.BCLRI -> r[d] = r[a] & ~(1L << imm[i]);
                case Op.BEXTI -> r[d] = (r[a] >>> imm[i]) & 1;
                case Op.BINVI -> r[d] = r[a] ^ (1L << imm[i]);
                case Op.BSETI -> r[d] = r[a] | (1L << imm[i]);
                case Op.CZERO_EQZ -> r[d] = r[b] == 0 ? 0 : r[a];
                case Op.CZERO_NEZ -> r[d] = r[b] != 0 ? 0 : r[a];

                case Op.LD8S -> {
                    long v = h.lb(r[a] + imm[i]);
                    if (h.excCause >= 0) {
                        return fault(blk, h, i, base);
                    }
                    r[d] = v;
                }
                case Op.LD8U -> {
                    long v = h.lbu(r[a] + imm[i]);
                    if (h.excCause >= 0) {
                        return fault(blk, h, i, base);
                    }
                    r[d] = v;
                }
                case Op.LD16S -> {
                    long v = h.lh(r[a] + imm[i]);
                    if (h.excCause >= 0) {
                        return fault(blk, h, i, base);
                    }
                    r[d] = v;
                }
                case Op.LD16U -> {
                    long v = h.lhu(r[a] + imm[i]);
                    if (h.excCause >= 0) {
                        return fault(blk, h, i, base);
                    }
                    r[d] = v;
                }
                case Op.LD32S -> {
                    long v = h.lw(r[a] + imm[i]);
                    if (h.excCause >= 0) {
                        return fault(blk, h, i, base);
                    }
                    r[d] = v;
                }
                case Op.LD32U -> {
                    long v = h.lwu(r[a] + imm[i]);
                    if (h.excCause >= 0) {
                        return fault(blk, h, i, base);
                    }
                    r[d] = v;
                }
                case Op.LD64, Op.FLD64 -> {
                    long v = h.ld(r[a] + imm[i]);
                    if (h.excCause >= 0) {
                        return fault(blk, h, i, base);
                    }
                    r[d] = v;
                }
                case Op.FLD32 -> {
                    long v = h.lw(r[a] + imm[i]);
                    if (h.excCause >= 0) {
                        return fault(blk, h, i, base);
                    }
                    r[d] = FpOps.box((int) v);
                }
                case Op.ST8 -> {
                    h.sb(r[a] + imm[i], r[b]);
                    if (h.excCause >= 0) {
                        return fault(blk, h, i, base);
                    }
                }
                case Op.ST16 -> {
                    h.sh(r[a] + imm[i], r[b]);
                    if (h.excCause >= 0) {
                        return fault(blk, h, i, base);
                    }
                }
                case Op.ST32, Op.FST32 -> {
                    h.sw(r[a] + imm[i], r[b]);
                    if (h.excCause >= 0) {
                        return fault(blk, h, i, base);
                    }
                }
                case Op.ST64, Op.FST64 -> {
                    h.sd(r[a] + imm[i], r[b]);
                    if (h.excCause >= 0) {
                        return fault(blk, h, i, base);
                    }
                }

                case Op.LR_32, Op.LR_64, Op.SC_32, Op.SC_64, Op.AMO_32, Op.AMO_64 -> {
                    long v = Atomics.compute(h, w & OP_MASK, r[a], r[b], (int) imm[i]);
                    if (h.excCause >= 0) {
                        return fault(blk, h, i, base);
                    }
                    r[d] = v;
                }

                case Op.EXIT -> {
                    h.pc = imm[i];
                    h.instret = base + blk.insnIndex(i) + 1;
                    return EXIT_FALL;
                }
                case Op.EXIT_IND -> {
                    h.pc = r[a];
                    h.instret = base + blk.insnIndex(i) + 1;
                    return EXIT_FALL;
                }
                case Op.BR_EQ -> {
                    if (r[a] == r[b]) {
                        return taken(blk, h, i, base);
                    }
                }
                case Op.BR_NE -> {
                    if (r[a] != r[b]) {
                        return taken(blk, h, i, base);
                    }
                }
                case Op.BR_LT -> {
                    if (r[a] < r[b]) {
                        return taken(blk, h, i, base);
                    }
                }
                case Op.BR_GE -> {
                    if (r[a] >= r[b]) {
                        return taken(blk, h, i, base);
                    }
                }
                case Op.BR_LTU -> {
                    if (Long.compareUnsigned(r[a], r[b]) < 0) {
                        return taken(blk, h, i, base);
                    }
                }
                case Op.BR_GEU -> {
                    if (Long.compareUnsigned(r[a], r[b]) >= 0) {
                        return taken(blk, h, i, base);
                    }
                }

                case Op.TRAP, Op.CSR, Op.MRET, Op.SRET, Op.WFI, Op.FENCE_I, Op.SFENCE_VMA -> {
                    return SystemOps.execute(blk, h, i, base);
                }

                default -> {
                    // Floating point lives in its own method to keep this one small enough
                    // for HotSpot to compile and inline well.
                    if (!FpOps.execute(h, r, w & OP_MASK, d, a, b, imm[i])) {
                        return fault(blk, h, i, base);
                    }
                }
            }
        }
    }

    private static int taken(IrBlock blk, Hart h, int i, long base) {
        h.pc = blk.imm[i];
        h.instret = base + blk.insnIndex(i) + 1;
        return EXIT_TAKEN;
    }

    /** Takes the exception recorded in the hart for op {@code i}. */
    static int fault(IrBlock blk, Hart h, int i, long base) {
        h.instret = base + blk.insnIndex(i);
        h.pc = blk.insnPc(i);
        h.takePendingException();
        return EXIT_SYSTEM;
    }
}
