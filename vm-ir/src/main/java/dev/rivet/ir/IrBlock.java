package dev.rivet.ir;

/**
 * A straight-line IR block: the translation of guest instructions starting at one PC,
 * ending with an exit, a trap or a system op. Immutable; the encoding is flat arrays so
 * that the interpreter walks it without allocation or pointer chasing:
 * <ul>
 *   <li>{@link #code}: {@code op | d << 10 | a << 17 | b << 24} per op;</li>
 *   <li>{@link #imm}: the op's immediate;</li>
 *   <li>{@link #pos}: {@code insnIndex << 16 | pcOffset}: which guest instruction the op
 *       belongs to (for precise faults and retired-instruction counts).</li>
 * </ul>
 */
public final class IrBlock {
    public static final int OP_BITS = 10, SLOT_BITS = 7;
    public static final int OP_MASK = (1 << OP_BITS) - 1, SLOT_MASK = (1 << SLOT_BITS) - 1;
    public static final int D_SHIFT = 10, A_SHIFT = 17, B_SHIFT = 24;
    public static final int MAX_SLOT = SLOT_MASK;

    /** Guest virtual PC of the first instruction. */
    public final long pc;
    /** Physical PC of the first instruction: with {@link #mode}, the block's identity. */
    public final long physPc;
    /** Frontend mode bits the translation depended on (privilege, FPU on/off, …). */
    public final int mode;
    public final int[] code;
    public final long[] imm;
    public final int[] pos;
    /** Guest instructions covered. */
    public final int insnCount;
    /** Guest code bytes covered, starting at {@link #pc}. */
    public final int byteLength;

    IrBlock(long pc, long physPc, int mode, int[] code, long[] imm, int[] pos, int insnCount, int byteLength) {
        this.pc = pc;
        this.physPc = physPc;
        this.mode = mode;
        this.code = code;
        this.imm = imm;
        this.pos = pos;
        this.insnCount = insnCount;
        this.byteLength = byteLength;
    }

    public int size() {
        return code.length;
    }

    public int op(int i) {
        return code[i] & OP_MASK;
    }

    public int d(int i) {
        return (code[i] >>> D_SHIFT) & SLOT_MASK;
    }

    public int a(int i) {
        return (code[i] >>> A_SHIFT) & SLOT_MASK;
    }

    public int b(int i) {
        return (code[i] >>> B_SHIFT) & SLOT_MASK;
    }

    public long imm(int i) {
        return imm[i];
    }

    /** Index of the guest instruction op {@code i} belongs to. */
    public int insnIndex(int i) {
        return pos[i] >>> 16;
    }

    /** Guest PC of the instruction op {@code i} belongs to. */
    public long insnPc(int i) {
        return pc + (pos[i] & 0xFFFF);
    }

    @Override
    public String toString() {
        return IrPrinter.print(this, SlotNames.NUMBERED);
    }
}
