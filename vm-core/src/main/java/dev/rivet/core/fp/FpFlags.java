package dev.rivet.core.fp;

/**
 * RISC-V accrued floating-point exception flags, laid out exactly as the {@code fflags} CSR
 * (RISC-V unprivileged ISA, "F" extension, section "Floating-Point Control and Status Register").
 */
public final class FpFlags {
    /** Inexact. */
    public static final int NX = 1;
    /** Underflow (tiny after rounding and inexact). */
    public static final int UF = 2;
    /** Overflow. */
    public static final int OF = 4;
    /** Divide by zero. */
    public static final int DZ = 8;
    /** Invalid operation. */
    public static final int NV = 16;

    private FpFlags() {}

    /** Human-readable flag set, e.g. "NV|NX", for diagnostics. */
    public static String toString(int flags) {
        if (flags == 0) {
            return "-";
        }
        StringBuilder sb = new StringBuilder();
        String[] names = {"NX", "UF", "OF", "DZ", "NV"};
        for (int i = 4; i >= 0; i--) {
            if ((flags & (1 << i)) != 0) {
                if (!sb.isEmpty()) {
                    sb.append('|');
                }
                sb.append(names[i]);
            }
        }
        return sb.toString();
    }
}
