package dev.rivet.core.fp;

/**
 * RISC-V static rounding-mode encodings (the {@code rm} instruction field and the {@code frm} CSR).
 * Values 5 and 6 are reserved; 7 (DYN) means "use frm" and is resolved by the caller, so it is
 * never passed to {@link RvFloat}.
 */
public final class RoundingMode {
    /** Round to nearest, ties to even. */
    public static final int RNE = 0;
    /** Round towards zero. */
    public static final int RTZ = 1;
    /** Round down (towards negative infinity). */
    public static final int RDN = 2;
    /** Round up (towards positive infinity). */
    public static final int RUP = 3;
    /** Round to nearest, ties to max magnitude. */
    public static final int RMM = 4;

    private RoundingMode() {}

    /** True for the five concrete rounding modes an FP operation may be executed with. */
    public static boolean isValid(int rm) {
        return rm >= RNE && rm <= RMM;
    }

    public static String name(int rm) {
        return switch (rm) {
            case RNE -> "RNE";
            case RTZ -> "RTZ";
            case RDN -> "RDN";
            case RUP -> "RUP";
            case RMM -> "RMM";
            default -> "rm" + rm;
        };
    }
}
