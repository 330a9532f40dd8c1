package dev.rivet.core.time;

/** A one-shot timer created by {@link TimerQueue#create}: fires its callback once mtime reaches the deadline. */
public final class Timer {
    final TimerQueue queue;
    final Runnable callback;
    /** Armed deadline in mtime ticks, or {@link Long#MAX_VALUE} when disarmed. */
    long deadline = Long.MAX_VALUE;

    Timer(TimerQueue queue, Runnable callback) {
        this.queue = queue;
        this.callback = callback;
    }

    /** Arms (or re-arms) the timer for {@code mtimeDeadline}. A deadline in the past fires at the next poll. */
    public void arm(long mtimeDeadline) {
        queue.arm(this, mtimeDeadline);
    }

    public void cancel() {
        queue.arm(this, Long.MAX_VALUE);
    }

    public boolean armed() {
        return deadline != Long.MAX_VALUE;
    }
}
