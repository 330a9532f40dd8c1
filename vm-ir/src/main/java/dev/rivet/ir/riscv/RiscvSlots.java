package dev.rivet.ir.riscv;

import dev.rivet.core.riscv.Hart;
import dev.rivet.ir.SlotNames;

/**
 * Slot layout of the RISC-V frontend, identical to the hart's register file
 * ({@link Hart#regs}): x0–x31, f0–f31, a discard slot that absorbs writes to x0, then
 * temporaries that live only within one guest instruction.
 */
public final class RiscvSlots implements SlotNames {
    public static final RiscvSlots INSTANCE = new RiscvSlots();

    public static final int X0 = Hart.X0, F0 = Hart.F0, DISCARD = Hart.DISCARD, TMP0 = Hart.TMP0;
    public static final int NUM_TMPS = Hart.NUM_TMPS;

    private static final String[] XNAMES = {"zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1",
            "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9",
            "s10", "s11", "t3", "t4", "t5", "t6"};
    private static final String[] FNAMES = {"ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0",
            "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6",
            "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11"};

    private RiscvSlots() {
    }

    /** Slot of integer register {@code xN}; writes to x0 must use {@link #xDest}. */
    public static int x(int n) {
        return X0 + n;
    }

    /** Destination slot for integer register {@code xN}: the discard slot for x0. */
    public static int xDest(int n) {
        return n == 0 ? DISCARD : X0 + n;
    }

    public static int f(int n) {
        return F0 + n;
    }

    public static int tmp(int k) {
        if (k < 0 || k >= NUM_TMPS) {
            throw new IllegalArgumentException("temporary " + k);
        }
        return TMP0 + k;
    }

    @Override
    public String name(int slot) {
        if (slot < 32) {
            return XNAMES[slot];
        }
        if (slot < 64) {
            return FNAMES[slot - 32];
        }
        if (slot == DISCARD) {
            return "_";
        }
        return "%" + (slot - TMP0);
    }

    @Override
    public boolean isInt(int slot) {
        return slot < 32 || slot >= DISCARD && slot < TMP0 + NUM_TMPS;
    }

    @Override
    public boolean isFp(int slot) {
        return (slot >= 32 && slot < 64) || (slot >= TMP0 && slot < TMP0 + NUM_TMPS);
    }

    @Override
    public boolean isReadOnly(int slot) {
        return slot == X0;
    }
}
