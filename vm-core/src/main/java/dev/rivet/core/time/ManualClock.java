package dev.rivet.core.time;

/** A clock that moves only when told to: for device tests on virtual time. */
public final class ManualClock implements MachineClock {
    private volatile long mtime;

    @Override
    public long mtime() {
        return mtime;
    }

    public void set(long ticks) {
        mtime = ticks;
    }

    public void advance(long ticks) {
        mtime += ticks;
    }
}
