package dev.rivet.ir;

import java.util.Arrays;

/** Builds one {@link IrBlock}; frontends call {@link #beginInsn} then {@link #emit} per op. */
public final class IrBuilder {
    private final long pc;
    private final long physPc;
    private final int mode;
    private int[] code = new int[64];
    private long[] imm = new long[64];
    private int[] pos = new int[64];
    private int n;
    private int insnIndex = -1;
    private int pcOffset;

    public IrBuilder(long pc, long physPc, int mode) {
        this.pc = pc;
        this.physPc = physPc;
        this.mode = mode;
    }

    /** Starts the ops of the next guest instruction, located at {@code insnPc}. */
    public void beginInsn(long insnPc) {
        long off = insnPc - pc;
        if (off < 0 || off > 0xFFFF) {
            throw new IllegalArgumentException("instruction outside block range: " + Long.toHexString(insnPc));
        }
        insnIndex++;
        if (insnIndex > 0xFFFF) {
            throw new IllegalStateException("too many instructions in one block");
        }
        pcOffset = (int) off;
    }

    public int size() {
        return n;
    }

    /** Emits one op; slots must be below 128. */
    public IrBuilder emit(int op, int d, int a, int b, long immediate) {
        if (insnIndex < 0) {
            throw new IllegalStateException("emit before beginInsn");
        }
        if (((d | a | b) & ~IrBlock.SLOT_MASK) != 0 || (op & ~IrBlock.OP_MASK) != 0) {
            throw new IllegalArgumentException("operand out of range: op=" + op + " d=" + d + " a=" + a + " b=" + b);
        }
        if (n == code.length) {
            code = Arrays.copyOf(code, n * 2);
            imm = Arrays.copyOf(imm, n * 2);
            pos = Arrays.copyOf(pos, n * 2);
        }
        code[n] = op | d << IrBlock.D_SHIFT | a << IrBlock.A_SHIFT | b << IrBlock.B_SHIFT;
        imm[n] = immediate;
        pos[n] = insnIndex << 16 | pcOffset;
        n++;
        return this;
    }

    /** The last op emitted, or -1. */
    public int lastOp() {
        return n == 0 ? -1 : code[n - 1] & IrBlock.OP_MASK;
    }

    public IrBlock build(int byteLength) {
        return new IrBlock(pc, physPc, mode, Arrays.copyOf(code, n), Arrays.copyOf(imm, n), Arrays.copyOf(pos, n),
                insnIndex + 1, byteLength);
    }
}
