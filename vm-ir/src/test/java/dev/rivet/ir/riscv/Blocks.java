package dev.rivet.ir.riscv;

import dev.rivet.core.riscv.Hart;
import dev.rivet.ir.CodeSource;
import dev.rivet.ir.IrBlock;
import dev.rivet.ir.IrPrinter;
import dev.rivet.ir.IrVerifier;
import dev.rivet.ir.Op;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Helpers shared by the decoder tests. */
final class Blocks {
    private Blocks() {
    }

    static final RiscvDecoder DEC = new RiscvDecoder();
    static final int MODE_U = Hart.PRIV_U, MODE_S = Hart.PRIV_S, MODE_M = Hart.PRIV_M;
    static final long PC = 0x1000;
    /** What code sources return outside the code they hold: an instruction access fault. */
    static final int OUTSIDE_CAUSE = 1;

    /** Code made of {@code insns} (16-bit parcels or 32-bit words, by their low bits) at {@code base}; faults elsewhere. */
    static CodeSource code(long base, int... insns) {
        List<Integer> parcels = new ArrayList<>();
        for (int w : insns) {
            parcels.add(w & 0xFFFF);
            if ((w & 3) == 3) {
                parcels.add(w >>> 16);
            }
        }
        return va -> {
            long off = va - base;
            if (off < 0 || (off & 1) != 0 || off / 2 >= parcels.size()) {
                return -1 - OUTSIDE_CAUSE;
            }
            return parcels.get((int) (off / 2));
        };
    }

    /** Decodes a block holding just {@code insn} at {@link #PC} (the next fetch faults). */
    static IrBlock one(int insn, int mode) {
        return DEC.decode(PC, PC, mode, code(PC, insn));
    }

    static int length(int insn) {
        return (insn & 3) == 3 ? 4 : 2;
    }

    /** The ops of instruction 0 as text, "; "-separated, without the block-closing exit to the next pc. */
    static String insnOps(IrBlock b) {
        List<String> ops = new ArrayList<>();
        for (int i = 0; i < b.size() && b.insnIndex(i) == 0; i++) {
            ops.add(IrPrinter.op(b, i, RiscvSlots.INSTANCE));
        }
        int last = b.size() - 1;
        if (b.insnCount == 1 && b.op(last) == Op.EXIT && b.imm(last) == b.pc + b.byteLength) {
            ops.removeLast();
        }
        return String.join("; ", ops);
    }

    static String print(IrBlock b) {
        return IrPrinter.print(b, RiscvSlots.INSTANCE);
    }

    static void assertWellFormed(IrBlock b) {
        assertEquals(List.of(), IrVerifier.verify(b, RiscvSlots.INSTANCE), () -> print(b));
    }

    /** True when the block's first instruction decoded as illegal (TRAP cause 2). */
    static boolean isIllegal(IrBlock b) {
        return b.op(0) == Op.TRAP && (b.imm(0) & 0xFF) == 2;
    }

    static long trapCause(IrBlock b, int i) {
        return b.imm(i) & 0xFF;
    }

    static long trapTval(IrBlock b, int i) {
        return b.imm(i) >> 8;
    }
}
