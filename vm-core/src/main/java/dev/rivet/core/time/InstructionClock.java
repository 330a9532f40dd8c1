package dev.rivet.core.time;

import java.util.function.LongSupplier;

/**
 * Deterministic time: mtime follows retired instructions ({@link #INSTRUCTIONS_PER_TICK}
 * per tick, i.e. a nominal 100 MIPS at 10 MHz), plus whatever idle time was skipped while
 * the guest waited in {@code wfi}. The same guest and inputs give the same run.
 */
public final class InstructionClock implements MachineClock {
    public static final long INSTRUCTIONS_PER_TICK = 10;
    private final LongSupplier retired;
    private volatile long skipped;

    public InstructionClock(LongSupplier retired) {
        this.retired = retired;
    }

    @Override
    public long mtime() {
        return retired.getAsLong() / INSTRUCTIONS_PER_TICK + skipped;
    }

    /** Jumps idle time forward so that mtime is at least {@code deadline}. */
    public synchronized void skipTo(long deadline) {
        long now = mtime();
        if (deadline > now) {
            skipped += deadline - now;
        }
    }
}
