package dev.rivet.jit;

import dev.rivet.ir.exec.IntOps;

/**
 * Helpers that generated code calls for ops with more than a few bytecodes of logic. All
 * tiny and static so HotSpot inlines them; semantics identical to the interpreter's.
 */
public final class JitRuntime {
    private JitRuntime() {
    }

    /** Chained calls nest at most this deep; the dispatcher resets the depth before each unit it calls. */
    static final int MAX_CHAIN_DEPTH = 16;

    /**
     * Whether compiled code leaving with {@code left} instructions of its budget unused may
     * go straight on into the next unit (see {@code RegionLowering.emitChains}): not when
     * the budget is used up, a slow path asked for the dispatcher, an interrupt is pending
     * (the dispatcher decides whether it is taken), a stop was requested, or the chain is
     * already {@link #MAX_CHAIN_DEPTH} deep. Counts the new level (and the call, in
     * {@code Hart.chainedCalls}) when it says yes.
     */
    static boolean mayChain(dev.rivet.core.riscv.Hart h, int left) {
        if (left > 0 && !h.unitBreak && h.mip == 0 && !h.stopRequested && h.chainDepth++ < MAX_CHAIN_DEPTH) {
            h.chainedCalls++;
            return true;
        }
        return false;
    }

    /**
     * The code compiled code leaving for {@code pc} through the exit site of {@code link}
     * goes straight on into, or null to return to the dispatcher: when the link is empty
     * or was made for another pc (an indirect jump's target varies), the link is handed to
     * the dispatcher to fill in; when it matches, {@link #mayChain} decides.
     */
    public static dev.rivet.ir.exec.CompiledBlock chainTarget(dev.rivet.ir.exec.ExitLink link,
            dev.rivet.core.riscv.Hart h, long pc, int left) {
        dev.rivet.ir.exec.CompiledBlock c = link.target;
        if (c == null || link.pc != pc) {
            h.exitLink = link;
            return null;
        }
        return mayChain(h, left) ? c : null;
    }

    /**
     * The call into the next unit from an indirect jump's exit site. A direct jump's site
     * calls its target itself, and HotSpot makes that a direct call guarded by the one
     * class it has seen there. An indirect jump's target changes (a return goes back to
     * whichever caller), and each new class at such a site was an uncommon trap and a
     * recompile of the whole region. Through this one shared call site the call is a
     * virtual call at once.
     */
    public static int enterIndirect(dev.rivet.ir.exec.CompiledBlock c, dev.rivet.core.riscv.Hart h, int left) {
        return c.execute(h, left);
    }

    /** {@link #fpPlain}: NX is set and frm is RNE, so every op rounding to nearest-even may take its plain path. */
    public static final int FP_PLAIN_ANY_RNE = 2;

    /**
     * At a region's entry: 0 when NX is clear (no F/D op may take its plain fast path), 1 when
     * it is set (ops with the static mode RNE may), {@link #FP_PLAIN_ANY_RNE} when also frm is
     * RNE (ops with the dynamic mode may too). See {@code RegionLowering.emitPlainFp}.
     */
    public static int fpPlain(dev.rivet.core.riscv.Hart h) {
        if ((h.fp.flags & dev.rivet.core.fp.FpFlags.NX) == 0) {
            return 0;
        }
        return h.frm == dev.rivet.core.fp.RoundingMode.RNE ? FP_PLAIN_ANY_RNE : 1;
    }

    /** An FP op found frm invalid: raise the illegal-instruction exception (taken by the caller's exit). */
    public static void illegalInstruction(dev.rivet.core.riscv.Hart h) {
        h.raise(dev.rivet.core.riscv.Cause.ILLEGAL_INSN, 0);
    }

    public static long slt(long x, long y) {
        return x < y ? 1 : 0;
    }

    public static long sltu(long x, long y) {
        return Long.compareUnsigned(x, y) < 0 ? 1 : 0;
    }

    public static long mulhsu(long x, long y) {
        return Math.unsignedMultiplyHigh(x, y) - (x < 0 ? y : 0);
    }

    public static long div(long x, long y) {
        return IntOps.div(x, y);
    }

    public static long divu(long x, long y) {
        return y == 0 ? -1L : Long.divideUnsigned(x, y);
    }

    public static long rem(long x, long y) {
        return IntOps.rem(x, y);
    }

    public static long remu(long x, long y) {
        return y == 0 ? x : Long.remainderUnsigned(x, y);
    }

    public static long div32(long a, long b) {
        return IntOps.div32((int) a, (int) b);
    }

    public static long divu32(long a, long b) {
        return (int) b == 0 ? -1L : Integer.divideUnsigned((int) a, (int) b);
    }

    public static long rem32(long a, long b) {
        return IntOps.rem32((int) a, (int) b);
    }

    public static long remu32(long a, long b) {
        return (int) b == 0 ? (int) a : Integer.remainderUnsigned((int) a, (int) b);
    }

    public static long maxu(long x, long y) {
        return Long.compareUnsigned(x, y) >= 0 ? x : y;
    }

    public static long minu(long x, long y) {
        return Long.compareUnsigned(x, y) <= 0 ? x : y;
    }

    public static long orcB(long v) {
        return IntOps.orcB(v);
    }

    public static long bclr(long a, long n) {
        return a & ~(1L << n);
    }

    public static long bext(long a, long n) {
        return (a >>> n) & 1;
    }

    public static long binv(long a, long n) {
        return a ^ (1L << n);
    }

    public static long bset(long a, long n) {
        return a | (1L << n);
    }

    public static long czeroEqz(long a, long b) {
        return b == 0 ? 0 : a;
    }

    public static long czeroNez(long a, long b) {
        return b != 0 ? 0 : a;
    }
}
