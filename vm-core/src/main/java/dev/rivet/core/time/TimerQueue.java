package dev.rivet.core.time;

import java.util.ArrayList;
import java.util.List;

/**
 * The machine's timers. Timers fire on the hart thread when the execution loop polls
 * ({@link #runDue}), so device callbacks never race with guest MMIO; other threads may
 * arm timers. The loop checks the cheap {@link #nextDeadline()} against the clock between
 * blocks and calls {@link #runDue} only when something is due.
 */
public final class TimerQueue {
    private final MachineClock clock;
    private final List<Timer> timers = new ArrayList<>();
    private volatile long nextDeadline = Long.MAX_VALUE;

    public TimerQueue(MachineClock clock) {
        this.clock = clock;
    }

    public MachineClock clock() {
        return clock;
    }

    public synchronized Timer create(Runnable callback) {
        Timer t = new Timer(this, callback);
        timers.add(t);
        return t;
    }

    synchronized void arm(Timer t, long deadline) {
        t.deadline = deadline;
        recompute();
    }

    private void recompute() {
        long min = Long.MAX_VALUE;
        for (Timer t : timers) {
            min = Math.min(min, t.deadline);
        }
        nextDeadline = min;
    }

    /** Earliest armed deadline (mtime), or {@link Long#MAX_VALUE}. */
    public long nextDeadline() {
        return nextDeadline;
    }

    /** Fires every timer whose deadline has passed; returns true if any fired. */
    public boolean runDue() {
        boolean fired = false;
        while (true) {
            Timer due = null;
            synchronized (this) {
                long now = clock.mtime();
                for (Timer t : timers) {
                    if (t.deadline <= now && (due == null || t.deadline < due.deadline)) {
                        due = t;
                    }
                }
                if (due == null) {
                    return fired;
                }
                due.deadline = Long.MAX_VALUE;
                recompute();
            }
            due.callback.run(); // outside the lock: callbacks may re-arm timers
            fired = true;
        }
    }
}
