package dev.rivet.ir;

import java.util.ArrayList;
import java.util.List;

/**
 * Structural checks on a block: every opcode defined, operands of the right class for
 * the op's signature, no writes to read-only slots, exactly one block-ending op and it is
 * last. Returns the problems found; an empty list means the block is well formed.
 */
public final class IrVerifier {
    private IrVerifier() {
    }

    public static List<String> verify(IrBlock b, SlotNames names) {
        List<String> errs = new ArrayList<>();
        if (b.size() == 0) {
            errs.add("empty block");
            return errs;
        }
        for (int i = 0; i < b.size(); i++) {
            int op = b.op(i);
            if (!Op.isDefined(op)) {
                errs.add(i + ": undefined opcode " + op);
                continue;
            }
            String sig = Op.signature(op);
            check(errs, i, op, "d", sig.charAt(0), b.d(i), names, true);
            check(errs, i, op, "a", sig.charAt(2), b.a(i), names, false);
            check(errs, i, op, "b", sig.charAt(3), b.b(i), names, false);
            if (Op.isFma(op)) {
                check(errs, i, op, "c", 'f', (int) (b.imm(i) >>> 8) & 0xFF, names, false);
            }
            if (Op.is(op, Op.F_RM)) {
                int rm = (int) b.imm(i) & 7;
                if (rm == 5 || rm == 6) {
                    errs.add(i + ": " + Op.name(op) + " has reserved rounding mode " + rm);
                }
            }
            boolean ends = Op.is(op, Op.F_ENDS_BLOCK);
            if (ends && i != b.size() - 1) {
                errs.add(i + ": " + Op.name(op) + " ends the block but is not last");
            }
            if (!ends && i == b.size() - 1) {
                errs.add(i + ": block does not end with an exit or system op (" + Op.name(op) + ")");
            }
            if (i > 0 && b.insnIndex(i) < b.insnIndex(i - 1)) {
                errs.add(i + ": instruction index goes backwards");
            }
        }
        if (b.insnIndex(b.size() - 1) + 1 != b.insnCount) {
            errs.add("insnCount " + b.insnCount + " does not match the ops (" + (b.insnIndex(b.size() - 1) + 1) + ")");
        }
        return errs;
    }

    private static void check(List<String> errs, int i, int op, String which, char cls, int slot, SlotNames names,
            boolean isDest) {
        if (cls == '-') {
            return;
        }
        boolean ok = cls == 'x' ? names.isInt(slot) : names.isFp(slot);
        if (!ok) {
            errs.add(i + ": " + Op.name(op) + " operand " + which + " = " + names.name(slot) + " is not a" + (cls == 'x' ? "n integer" : " floating-point") + " slot");
        }
        if (isDest && names.isReadOnly(slot)) {
            errs.add(i + ": " + Op.name(op) + " writes read-only slot " + names.name(slot));
        }
    }
}
