package dev.rivet.interp;

import dev.rivet.core.riscv.Cause;
import dev.rivet.core.riscv.Hart;
import dev.rivet.ir.IrBlock;
import dev.rivet.ir.Op;
import dev.rivet.ir.riscv.RiscvSlots;
import dev.rivet.ir.exec.BlockExit;

/**
 * The block-ending system ops: traps, CSR accesses and privileged instructions. Each
 * sets the next PC and the retired count itself. The decoder has already turned what is
 * illegal by privilege alone (MRET below M; SRET, WFI and SFENCE.VMA in U) into traps;
 * the checks that depend on mstatus (TSR, TW, TVM) are made here.
 */
final class SystemOps {
    private SystemOps() {
    }

    // Encodings, for the illegal-instruction tval (Privileged ISA, "Instruction Listings").
    private static final long SRET_BITS = 0x10200073L, WFI_BITS = 0x10500073L, SFENCE_VMA_BITS = 0x12000073L;

    static int execute(IrBlock blk, Hart h, int i, long base) {
        int op = blk.op(i);
        long imm = blk.imm(i);
        long insnPc = blk.insnPc(i);
        long retiredBefore = base + blk.insnIndex(i);
        h.instret = retiredBefore;
        switch (op) {
            case Op.TRAP -> {
                h.pc = insnPc;
                int cause = (int) imm & 0xFF;
                h.trap(cause, trapTval(cause, imm >> 8, insnPc));
                return BlockExit.EXIT_SYSTEM;
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
                    return BlockExit.EXIT_SYSTEM;
                }
                h.regs[blk.d(i)] = old;
                h.instret++;
                h.pc = insnPc + 4;
                return BlockExit.EXIT_SYSTEM;
            }
            case Op.MRET -> {
                h.instret++;
                h.mret();
                return BlockExit.EXIT_SYSTEM;
            }
            case Op.SRET -> {
                if (h.sretIllegal()) {
                    return illegal(h, insnPc, SRET_BITS);
                }
                h.instret++;
                h.sret();
                return BlockExit.EXIT_SYSTEM;
            }
            case Op.WFI -> {
                if (h.wfiIllegal()) {
                    return illegal(h, insnPc, WFI_BITS);
                }
                h.instret++;
                h.pc = insnPc + 4;
                return BlockExit.EXIT_WFI;
            }
            case Op.FENCE_I -> {
                h.instret++;
                h.pc = insnPc + 4;
                return BlockExit.EXIT_FLUSH;
            }
            case Op.SFENCE_VMA -> {
                if (h.sfenceIllegal()) {
                    // The operand slots are the register numbers (RiscvSlots.x(n) = n).
                    return illegal(h, insnPc, SFENCE_VMA_BITS | (long) blk.a(i) << 15 | (long) blk.b(i) << 20);
                }
                h.sfenceVma(blk.a(i) == RiscvSlots.x(0), h.regs[blk.a(i)]);
                h.instret++;
                h.pc = insnPc + 4;
                return BlockExit.EXIT_SYSTEM;
            }
            default -> {
                h.pc = insnPc;
                h.trap(Cause.ILLEGAL_INSN, 0);
                return BlockExit.EXIT_SYSTEM;
            }
        }
    }

    /**
     * The TRAP immediate keeps only 56 bits of tval (sign-extended from bit 55). For the
     * causes whose tval is an address of this instruction — a fetch fault on either of its
     * parcels, ebreak — recover the full 64-bit address from the PC (a kernel address
     * under Sv57, or a fetch from a non-canonical address, differ above bit 55).
     */
    static long trapTval(int cause, long tval, long insnPc) {
        if (cause == Cause.INSN_PAGE_FAULT || cause == Cause.INSN_ACCESS_FAULT || cause == Cause.BREAKPOINT) {
            for (long a = insnPc; a <= insnPc + 2; a += 2) {
                if (((a ^ tval) << 8) == 0) {
                    return a;
                }
            }
        }
        return tval;
    }

    private static int illegal(Hart h, long insnPc, long bits) {
        h.pc = insnPc;
        h.trap(Cause.ILLEGAL_INSN, bits);
        return BlockExit.EXIT_SYSTEM;
    }
}
