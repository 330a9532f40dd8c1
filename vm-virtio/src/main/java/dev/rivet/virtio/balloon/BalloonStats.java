package dev.rivet.virtio.balloon;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * One set of guest memory statistics as the driver sent it on the statsq (VirtIO 1.2
 * section 5.5.6.3): the values by tag, only those the driver supplied. {@code sequence}
 * counts the sets the device has received since it was built (1 for the first), so a
 * caller can tell a fresh set from the one it already had; {@link #NONE} (sequence 0) means
 * none has arrived yet.
 *
 * <p>Tags 0-9 are the specification's; 10-15 are Linux's later additions (Linux 6.12 sends
 * them). Byte amounts are in bytes, events are counts; values are unsigned 64-bit.
 */
public record BalloonStats(long sequence, Map<Integer, Long> values) {
    public static final int SWAP_IN = 0;
    public static final int SWAP_OUT = 1;
    public static final int MAJFLT = 2;
    public static final int MINFLT = 3;
    public static final int MEMFREE = 4;
    public static final int MEMTOT = 5;
    public static final int AVAIL = 6;
    public static final int CACHES = 7;
    public static final int HTLB_PGALLOC = 8;
    public static final int HTLB_PGFAIL = 9;
    public static final int OOM_KILL = 10;
    public static final int ALLOC_STALL = 11;
    public static final int ASYNC_SCAN = 12;
    public static final int DIRECT_SCAN = 13;
    public static final int ASYNC_RECLAIM = 14;
    public static final int DIRECT_RECLAIM = 15;
    /** Tags below this are recognised; others are ignored, as 5.5.6.3 requires. */
    public static final int TAG_COUNT = 16;

    /** The names Linux and QEMU use for the tags, in tag order. */
    private static final String[] NAMES = {
        "swap-in", "swap-out", "major-faults", "minor-faults", "free-memory", "total-memory",
        "available-memory", "disk-caches", "hugetlb-allocations", "hugetlb-failures", "oom-kills",
        "alloc-stalls", "async-scans", "direct-scans", "async-reclaims", "direct-reclaims",
    };

    /** Before the driver has sent anything. */
    public static final BalloonStats NONE = new BalloonStats(0, Map.of());

    public BalloonStats {
        values = Collections.unmodifiableMap(new TreeMap<>(values));
    }

    /** Whether {@code tag} is one the device understands. */
    public static boolean recognised(int tag) {
        return tag >= 0 && tag < TAG_COUNT;
    }

    /** The conventional name of a recognised tag ("free-memory"), or "tag-N". */
    public static String tagName(int tag) {
        return recognised(tag) ? NAMES[tag] : "tag-" + tag;
    }

    /** The value of {@code tag}, if the driver supplied it. */
    public OptionalLong get(int tag) {
        Long v = values.get(tag);
        return v == null ? OptionalLong.empty() : OptionalLong.of(v);
    }

    /** The values keyed by {@link #tagName}, in tag order: for JSON and the CLI. */
    public Map<String, Long> named() {
        Map<String, Long> m = new LinkedHashMap<>();
        values.forEach((tag, v) -> m.put(tagName(tag), v));
        return Collections.unmodifiableMap(m);
    }
}
