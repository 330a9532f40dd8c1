package dev.rivet.ir.exec;

/**
 * How a block (interpreted or compiled) was left; the value {@link CompiledBlock#execute}
 * and the interpreter's block executor return.
 */
public final class BlockExit {
    private BlockExit() {
    }

    /** Left through a mid-block (taken branch) exit: {@code hart.pc} is the next PC. */
    public static final int EXIT_TAKEN = 0;
    /** Left through the final exit: {@code hart.pc} is the next PC. */
    public static final int EXIT_FALL = 1;
    /** Left through a trap, CSR or privileged op: mode may have changed, do a full lookup. */
    public static final int EXIT_SYSTEM = 2;
    /** fence.i: translated code may be stale. */
    public static final int EXIT_FLUSH = 3;
    /** wfi: park until an interrupt is pending. */
    public static final int EXIT_WFI = 4;
}
