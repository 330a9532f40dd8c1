package dev.rivet.ir.exec;

import dev.rivet.core.bus.GuestRam;
import dev.rivet.core.riscv.Hart;
import dev.rivet.ir.Op;

import java.lang.foreign.MemorySegment;

/**
 * LR/SC and AMOs (unprivileged spec, chapter "A" Extension), shared by the interpreter and
 * compiled code. The hart checks alignment and that the target is RAM; values of 32-bit
 * operations are sign-extended.
 */
public final class Atomics {
    private Atomics() {
    }

    /**
     * Performs atomic op {@code op} at {@code addr} with source value {@code src}
     * ({@code fn}: the AMO function) and returns what it writes to its destination
     * register; on a fault returns 0 with the exception recorded in the hart
     * ({@link Hart#excCause}).
     */
    public static long compute(Hart h, int op, long addr, long src, int fn) {
        boolean wide = op == Op.LR_64 || op == Op.SC_64 || op == Op.AMO_64;
        int size = wide ? 8 : 4;
        boolean isLr = op == Op.LR_32 || op == Op.LR_64;
        long off = h.atomicAddress(addr, size, isLr);
        if (off < 0) {
            return 0;
        }
        MemorySegment ram = h.ram;
        switch (op) {
            case Op.LR_32, Op.LR_64 -> {
                h.reservation = off;
                return wide ? ram.get(GuestRam.I64, off) : ram.get(GuestRam.I32, off);
            }
            case Op.SC_32, Op.SC_64 -> {
                // The reservation is consumed whether or not the store happens.
                boolean ok = h.reservation == off;
                h.reservation = -1;
                if (ok) {
                    if (wide) {
                        ram.set(GuestRam.I64, off, src);
                    } else {
                        ram.set(GuestRam.I32, off, (int) src);
                    }
                }
                return ok ? 0 : 1;
            }
            default -> {
                if (wide) {
                    long old = ram.get(GuestRam.I64, off);
                    ram.set(GuestRam.I64, off, amo64(fn, old, src));
                    return old;
                }
                int old = ram.get(GuestRam.I32, off);
                ram.set(GuestRam.I32, off, amo32(fn, old, (int) src));
                return old;
            }
        }
    }

    static long amo64(int fn, long old, long v) {
        return switch (fn) {
            case Op.AMO_SWAP -> v;
            case Op.AMO_ADD -> old + v;
            case Op.AMO_XOR -> old ^ v;
            case Op.AMO_AND -> old & v;
            case Op.AMO_OR -> old | v;
            case Op.AMO_MIN -> Math.min(old, v);
            case Op.AMO_MAX -> Math.max(old, v);
            case Op.AMO_MINU -> Long.compareUnsigned(old, v) <= 0 ? old : v;
            default -> Long.compareUnsigned(old, v) >= 0 ? old : v; // AMO_MAXU
        };
    }

    static int amo32(int fn, int old, int v) {
        return switch (fn) {
            case Op.AMO_SWAP -> v;
            case Op.AMO_ADD -> old + v;
            case Op.AMO_XOR -> old ^ v;
            case Op.AMO_AND -> old & v;
            case Op.AMO_OR -> old | v;
            case Op.AMO_MIN -> Math.min(old, v);
            case Op.AMO_MAX -> Math.max(old, v);
            case Op.AMO_MINU -> Integer.compareUnsigned(old, v) <= 0 ? old : v;
            default -> Integer.compareUnsigned(old, v) >= 0 ? old : v; // AMO_MAXU
        };
    }
}
