package dev.rivet.ir;

/** Human-readable listing of a block, one op per line, for logs, tests and debugging. */
public final class IrPrinter {
    private IrPrinter() {
    }

    public static String print(IrBlock b, SlotNames names) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("block pc=0x%x phys=0x%x mode=%d insns=%d bytes=%d%n",
                b.pc, b.physPc, b.mode, b.insnCount, b.byteLength));
        for (int i = 0; i < b.size(); i++) {
            sb.append(String.format("  %3d [0x%x] ", i, b.insnPc(i))).append(op(b, i, names)).append('\n');
        }
        return sb.toString();
    }

    /** One op as text, e.g. {@code add a0, a1, a2} or {@code ld64 t0, [sp + 8]}. */
    public static String op(IrBlock b, int i, SlotNames names) {
        int op = b.op(i);
        if (!Op.isDefined(op)) {
            return "<undefined op " + op + ">";
        }
        String sig = Op.signature(op);
        StringBuilder sb = new StringBuilder(Op.name(op));
        String sep = " ";
        if (sig.charAt(0) != '-') {
            sb.append(sep).append(names.name(b.d(i)));
            sep = ", ";
        }
        if (sig.charAt(2) != '-') {
            sb.append(sep).append(names.name(b.a(i)));
            sep = ", ";
        }
        if (sig.charAt(3) != '-') {
            sb.append(sep).append(names.name(b.b(i)));
            sep = ", ";
        }
        long imm = b.imm(i);
        if (Op.isFma(op)) {
            sb.append(sep).append(names.name((int) (imm >>> 8) & 0xFF));
            sep = ", ";
        }
        if (Op.is(op, Op.F_RM)) {
            sb.append(sep).append("rm=").append(imm & 7);
        } else if (imm != 0 || op == Op.MOVI || op == Op.EXIT || (op >= Op.BR_EQ && op <= Op.BR_GEU)) {
            sb.append(sep).append(Math.abs(imm) < 4096 ? Long.toString(imm) : "0x" + Long.toHexString(imm));
        }
        return sb.toString();
    }
}
