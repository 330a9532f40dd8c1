package dev.rivet.platform.monitor;

import dev.rivet.virtio.balloon.VirtioBalloon;

import java.util.Map;
import java.util.Objects;

/**
 * The host's handle on a memory balloon (VirtIO 1.2 section 5.5): what the monitor's
 * {@code balloon} and {@code info balloon} commands need. Page counts are in 4 KiB pages,
 * as the device counts them (5.5.6).
 */
public interface BalloonControl {
    /** Bytes per balloon page (5.5.6: page numbers always count 4 KiB pages). */
    long PAGE_BYTES = 1L << VirtioBalloon.PFN_SHIFT;

    /** Asks the guest to hold {@code pages} pages in the balloon. */
    void setTargetPages(long pages);

    long targetPages();

    /** The pages the guest says it holds in the balloon. */
    long actualPages();

    /** The guest's latest memory statistics by name ("free-memory"...), empty before any arrived. */
    Map<String, Long> latestStats();

    /** Asks the guest for fresh statistics and returns at once (they show up in {@link #latestStats}). */
    void refreshStats();

    /**
     * The control of a virtio-balloon device. Its host methods are documented safe from any
     * thread: the target and {@code actual} are volatile fields, a target change raises the
     * configuration interrupt through the transport's thread-safe line, and a statistics
     * request takes the statistics queue's lock.
     */
    static BalloonControl of(VirtioBalloon balloon) {
        Objects.requireNonNull(balloon, "balloon");
        return new BalloonControl() {
            @Override
            public void setTargetPages(long pages) {
                balloon.setTargetPages(pages);
            }

            @Override
            public long targetPages() {
                return balloon.targetPages();
            }

            @Override
            public long actualPages() {
                return balloon.actualPages();
            }

            @Override
            public Map<String, Long> latestStats() {
                return balloon.latestStats().named();
            }

            @Override
            public void refreshStats() {
                // The future is not waited for: a driver without a statistics queue fails
                // it at once, a busy one answers later, and either way latestStats tells.
                balloon.requestStats();
            }
        };
    }
}
