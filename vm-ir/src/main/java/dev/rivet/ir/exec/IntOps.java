package dev.rivet.ir.exec;

/**
 * The integer ops with more to them than one JVM instruction, shared by the interpreter and
 * compiled code: RISC-V division never traps (M extension, "Division Operations": x/0 = -1,
 * x%0 = x, and the signed overflow case MIN/-1 gives MIN and remainder 0), and Zbb's orc.b.
 */
public final class IntOps {
    private IntOps() {
    }

    public static long div(long x, long y) {
        if (y == 0) {
            return -1L;
        }
        if (x == Long.MIN_VALUE && y == -1) {
            return x;
        }
        return x / y;
    }

    public static long rem(long x, long y) {
        if (y == 0) {
            return x;
        }
        if (x == Long.MIN_VALUE && y == -1) {
            return 0;
        }
        return x % y;
    }

    /** DIVW: on the low 32 bits, sign-extended. */
    public static long div32(int x, int y) {
        if (y == 0) {
            return -1L;
        }
        if (x == Integer.MIN_VALUE && y == -1) {
            return x;
        }
        return x / y;
    }

    /** REMW: on the low 32 bits, sign-extended. */
    public static long rem32(int x, int y) {
        if (y == 0) {
            return x;
        }
        if (x == Integer.MIN_VALUE && y == -1) {
            return 0;
        }
        return x % y;
    }

    /** Zbb orc.b: each byte becomes 0xFF if any of its bits is set, else 0x00. */
    public static long orcB(long v) {
        long t = v | (v >>> 1);
        t |= t >>> 2;
        t |= t >>> 4;
        t &= 0x0101_0101_0101_0101L;
        return t * 0xFF;
    }
}
