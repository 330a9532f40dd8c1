package dev.rivet.interp;

import dev.rivet.core.riscv.Cause;
import dev.rivet.core.riscv.Hart;
import dev.rivet.ir.IrBlock;
import dev.rivet.ir.Op;

/**
 * The block-ending system ops: traps, CSR accesses and privileged instructions. Each
 * sets the next PC and the retired count itself.
 */
final class SystemOps {
    private SystemOps() {
    }

    static int execute(IrBlock blk, Hart h, int i, long base) {
        int op = blk.op(i);
        long imm = blk.imm(i);
        long insnPc = blk.insnPc(i);
        long retiredBefore = base + blk.insnIndex(i);
        h.instret = retiredBefore;
        switch (op) {
            case Op.TRAP -> {
                h.pc = insnPc;
                h.trap(imm & 0xFF, imm >> 8);
                return BlockExecutor.EXIT_SYSTEM;
            }
            case Op.CSR -> {
                int csr = (int) imm & 0xFFF;
                int kind = (int) (imm >>> Op.CSR_KIND_SHIFT) & 3;
                boolean write = (imm & Op.CSR_NO_WRITE) == 0;
                long old = h.csrAccess(csr, kind, h.regs[blk.a(i)], write);
                if (h.excCause >= 0) {
                    h.excTval = imm >>> 32; // mtval = the faulting instruction's bits
                    h.pc = insnPc;
                    h.takePendingException();
                    return BlockExecutor.EXIT_SYSTEM;
                }
                h.regs[blk.d(i)] = old;
                h.instret++;
                h.pc = insnPc + 4;
                return BlockExecutor.EXIT_SYSTEM;
            }
            case Op.MRET -> {
                h.instret++;
                h.mret();
                return BlockExecutor.EXIT_SYSTEM;
            }
            case Op.WFI -> {
                h.instret++;
                h.pc = insnPc + 4;
                return BlockExecutor.EXIT_WFI;
            }
            case Op.FENCE_I -> {
                h.instret++;
                h.pc = insnPc + 4;
                return BlockExecutor.EXIT_FLUSH;
            }
            case Op.SFENCE_VMA -> {
                h.flushTlb();
                h.instret++;
                h.pc = insnPc + 4;
                return BlockExecutor.EXIT_SYSTEM;
            }
            default -> {
                // SRET: no supervisor mode on this hart yet.
                h.pc = insnPc;
                h.trap(Cause.ILLEGAL_INSN, 0);
                return BlockExecutor.EXIT_SYSTEM;
            }
        }
    }
}
