package dev.rivet.interp;

import dev.rivet.core.bus.GuestRam;
import dev.rivet.core.riscv.Hart;
import dev.rivet.ir.Op;

import java.lang.foreign.MemorySegment;

/**
 * LR/SC and AMOs (unprivileged spec, chapter "A" Extension). The hart checks alignment
 * and that the target is RAM; values of 32-bit operations are sign-extended.
 */
final class Atomics {
    private Atomics() {
    }

    /** Returns false when the access faulted (the exception is recorded in the hart). */
    static boolean execute(Hart h, int op, int d, long addr, long src, int fn) {
        boolean wide = op == Op.LR_64 || op == Op.SC_64 || op == Op.AMO_64;
        int size = wide ? 8 : 4;
        boolean isLr = op == Op.LR_32 || op == Op.LR_64;
        long off = h.atomicAddress(addr, size, isLr);
        if (off < 0) {
            return false;
        }
        MemorySegment ram = h.ram;
        long[] r = h.regs;
        switch (op) {
            case Op.LR_32, Op.LR_64 -> {
                r[d] = wide ? ram.get(GuestRam.I64, off) : ram.get(GuestRam.I32, off);
                h.reservation = off;
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
                r[d] = ok ? 0 : 1;
            }
            default -> {
                if (wide) {
                    long old = ram.get(GuestRam.I64, off);
                    ram.set(GuestRam.I64, off, amo64(fn, old, src));
                    r[d] = old;
                } else {
                    int old = ram.get(GuestRam.I32, off);
                    ram.set(GuestRam.I32, off, amo32(fn, old, (int) src));
                    r[d] = old;
                }
            }
        }
        return true;
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
