package dev.rivet.core.riscv;

/** Exception and interrupt cause codes (Privileged Architecture, table "mcause values after trap"). */
public final class Cause {
    private Cause() {
    }

    public static final int INSN_MISALIGNED = 0;
    public static final int INSN_ACCESS_FAULT = 1;
    public static final int ILLEGAL_INSN = 2;
    public static final int BREAKPOINT = 3;
    public static final int LOAD_MISALIGNED = 4;
    public static final int LOAD_ACCESS_FAULT = 5;
    public static final int STORE_MISALIGNED = 6;
    public static final int STORE_ACCESS_FAULT = 7;
    public static final int ECALL_U = 8;
    public static final int ECALL_S = 9;
    public static final int ECALL_M = 11;
    public static final int INSN_PAGE_FAULT = 12;
    public static final int LOAD_PAGE_FAULT = 13;
    public static final int STORE_PAGE_FAULT = 15;

    /** Bit 63 of mcause marks an interrupt. */
    public static final long INTERRUPT = 1L << 63;

    public static String name(long cause) {
        if (cause < 0) {
            return "interrupt " + (cause & ~INTERRUPT);
        }
        return switch ((int) cause) {
            case INSN_MISALIGNED -> "instruction address misaligned";
            case INSN_ACCESS_FAULT -> "instruction access fault";
            case ILLEGAL_INSN -> "illegal instruction";
            case BREAKPOINT -> "breakpoint";
            case LOAD_MISALIGNED -> "load address misaligned";
            case LOAD_ACCESS_FAULT -> "load access fault";
            case STORE_MISALIGNED -> "store/AMO address misaligned";
            case STORE_ACCESS_FAULT -> "store/AMO access fault";
            case ECALL_U -> "environment call from U-mode";
            case ECALL_S -> "environment call from S-mode";
            case ECALL_M -> "environment call from M-mode";
            case INSN_PAGE_FAULT -> "instruction page fault";
            case LOAD_PAGE_FAULT -> "load page fault";
            case STORE_PAGE_FAULT -> "store/AMO page fault";
            default -> "cause " + cause;
        };
    }
}
