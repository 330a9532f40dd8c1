package dev.rivet.benches;

import dev.rivet.core.riscv.Hart;

import static dev.rivet.ir.riscv.RiscvAssembler.*;
import dev.rivet.ir.riscv.RiscvAssembler;

/**
 * CPU-bound guest loops for interpreter throughput. Each never terminates: a benchmark
 * runs it for a fixed instruction budget and counts what retired. Registers: a0 = data
 * pointer (set by the harness to {@link #DATA}), the rest are scratch.
 */
public final class GuestLoops {
    private GuestLoops() {
    }

    public static final long CODE = 0x8000_0000L;
    public static final long DATA = 0x8010_0000L;
    /** Size of the data array the memory loops walk (longs). */
    public static final int DATA_LONGS = 4096;

    static final int ZERO = 0, A0 = 10, A1 = 11, A2 = 12, A3 = 13, A4 = 14, A5 = 15, T0 = 5, T1 = 6, T2 = 7, S1 = 9;

    /** xorshift64 hashing: shifts, xors, adds, a multiply and one backward branch per 10 insns. */
    public static byte[] integer() {
        RiscvAssembler a = new RiscvAssembler();
        a.li(A1, 0x9E37_79B9_7F4A_7C15L).li(A2, 0);
        a.label("loop").emit(
                slli(T0, A1, 13), xor(A1, A1, T0),
                srli(T0, A1, 7), xor(A1, A1, T0),
                slli(T0, A1, 17), xor(A1, A1, T0),
                add(A2, A2, A1), mul(T1, A2, A1), addw(A3, A3, T1));
        a.emitTo("loop", off -> jal(ZERO, off));
        return a.assemble();
    }

    /** Sums and updates an array of longs: loads, stores and pointer arithmetic. */
    public static byte[] memory() {
        RiscvAssembler a = new RiscvAssembler();
        a.label("outer").emit(addi(T2, A0, 0), addi(A4, ZERO, 0));
        a.li(A5, DATA_LONGS * 8L).emit(add(A5, A5, A0));
        a.label("inner").emit(
                ld(T0, T2, 0), ld(T1, T2, 8),
                add(A4, A4, T0), xor(A4, A4, T1),
                addi(T0, T0, 1), sd(T0, T2, 0),
                addi(T2, T2, 16));
        a.emitTo("inner", off -> bltu(T2, A5, off));
        a.emitTo("outer", off -> jal(ZERO, off));
        return a.assemble();
    }

    /** Data-dependent branches: many short blocks, the dispatcher's worst case. */
    public static byte[] branchy() {
        RiscvAssembler a = new RiscvAssembler();
        a.li(A1, 12345);
        a.label("loop").emit(
                slli(T0, A1, 13), xor(A1, A1, T0), srli(T0, A1, 7), xor(A1, A1, T0),
                andi(T1, A1, 1));
        a.emitTo("odd", off -> bne(T1, ZERO, off));
        a.emit(addi(A2, A2, 1));
        a.emitTo("join", off -> jal(ZERO, off));
        a.label("odd").emit(addi(A3, A3, 1));
        a.label("join").emit(andi(T1, A1, 6));
        a.emitTo("loop", off -> beq(T1, ZERO, off));
        a.emit(addi(A4, A4, 1));
        a.emitTo("loop", off -> jal(ZERO, off));
        return a.assemble();
    }

    /** Double-precision multiply-add kernel over an array (dynamic rounding mode, RNE). */
    public static byte[] floatingPoint() {
        RiscvAssembler a = new RiscvAssembler();
        a.li(T0, Double.doubleToRawLongBits(1.0000001)).emit(fmvDX(1, T0));
        a.li(T0, Double.doubleToRawLongBits(0.5)).emit(fmvDX(2, T0));
        a.label("outer").emit(addi(T2, A0, 0));
        a.li(A5, 512 * 8L).emit(add(A5, A5, A0));
        a.label("inner").emit(
                fld(3, T2, 0),
                fmaddD(4, 3, 1, 2, 7),
                fmulD(5, 4, 1, 7),
                faddD(6, 6, 5, 7),
                fsd(4, T2, 0),
                addi(T2, T2, 8));
        a.emitTo("inner", off -> bltu(T2, A5, off));
        a.emitTo("outer", off -> jal(ZERO, off));
        return a.assemble();
    }

    /** Prepares a hart to run {@code code} (already in RAM at {@link #CODE}) with the FPU on. */
    public static void start(Hart h) {
        h.reset(CODE);
        h.mstatus |= 1L << 13; // FS = Initial
        h.setX(A0, DATA);
    }
}
