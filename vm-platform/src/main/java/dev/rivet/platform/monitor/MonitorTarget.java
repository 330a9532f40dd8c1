package dev.rivet.platform.monitor;

import java.util.List;

/**
 * What the monitor sees of a running machine. Every method is called from monitor client
 * threads, never the hart's, while the machine runs: implementations must be safe there
 * (see {@link VirtMachineTarget} for what the virt board's are, and why).
 */
public interface MonitorTarget {
    /** Where the machine is in its life. */
    enum State {
        RUNNING, STOPPING, ENDED;

        public String spelling() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    State state();

    /** Guest instructions retired so far (may lag the hart a little). */
    long instructions();

    /** Host time since the machine started running, in nanoseconds. */
    long uptimeNanos();

    /** Guest RAM in bytes. */
    long ramBytes();

    /** The user-mode network cards, in card order (net0 first). */
    List<NetCard> netCards();

    /** The memory balloon, or {@code null} when the machine has none. */
    BalloonControl balloon();

    /** The JIT's and block cache's counters, one line each (empty: nothing to say). */
    List<String> jitStats();

    /** Asks the machine to stop, as the user quitting would; returns at once. */
    void quit();
}
