package dev.rivet.devices.pci;

import dev.rivet.core.bus.MmioDevice;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Which BAR decodes which address of one PCI address space (memory or I/O), as an
 * immutable table of disjoint segments sorted by address. Built whenever a Command or BAR
 * write changes what decodes; looked up on every window access by binary search, without
 * locking or allocation.
 *
 * <p>BARs may overlap when a guest programs them so (PCI 3.0 leaves the outcome undefined:
 * two targets claim the cycle). Here the outcome is defined: where BARs overlap, the one
 * of the lowest (slot, function, BAR index) wins, and the build reports the overlap so
 * the host can log it as a guest error.
 */
final class PciAddressSpace {
    /**
     * One BAR that currently decodes: {@code [base, base+size)} in PCI addresses, served by
     * {@code handler} at offsets from {@code base}; the lower {@code priority} wins overlaps.
     */
    record Decode(long base, long size, MmioDevice handler, int priority, String owner) {
        long end() {
            return base + size; // never wraps: PciDevice drops wrapping BARs
        }

        boolean covers(long addr) {
            return Long.compareUnsigned(addr, base) >= 0 && Long.compareUnsigned(addr, end()) < 0;
        }
    }

    static final Decode[] NO_DECODES = new Decode[0];
    static final PciAddressSpace EMPTY = new PciAddressSpace(new long[0], new long[0], NO_DECODES, null);

    private final long[] starts;
    /** Exclusive ends; a segment never spans two BARs. */
    private final long[] ends;
    private final Decode[] owners;
    /** A description of the first overlap found, or null. */
    private final String overlap;

    private PciAddressSpace(long[] starts, long[] ends, Decode[] owners, String overlap) {
        this.starts = starts;
        this.ends = ends;
        this.owners = owners;
        this.overlap = overlap;
    }

    /** Paints the decodes onto the address line, lowest priority on top. */
    static PciAddressSpace build(List<Decode> decodes) {
        if (decodes.isEmpty()) {
            return EMPTY;
        }
        long[] bounds = new long[decodes.size() * 2];
        int n = 0;
        for (Decode d : decodes) {
            bounds[n++] = d.base();
            bounds[n++] = d.end();
        }
        long[] sorted = Arrays.stream(bounds).boxed().sorted(Long::compareUnsigned).distinct()
                .mapToLong(Long::longValue).toArray();
        List<long[]> ranges = new ArrayList<>();
        List<Decode> winners = new ArrayList<>();
        String overlap = null;
        for (int k = 0; k + 1 < sorted.length; k++) {
            long lo = sorted[k];
            Decode winner = null;
            for (Decode d : decodes) {
                if (d.covers(lo)) {
                    if (winner != null && overlap == null) {
                        overlap = String.format("%s at 0x%x+0x%x overlaps %s at 0x%x+0x%x", d.owner(), d.base(), d.size(),
                                winner.owner(), winner.base(), winner.size());
                    }
                    if (winner == null || d.priority() < winner.priority()) {
                        winner = d;
                    }
                }
            }
            if (winner == null) {
                continue;
            }
            int last = winners.size() - 1;
            if (last >= 0 && winners.get(last) == winner && ranges.get(last)[1] == lo) {
                ranges.get(last)[1] = sorted[k + 1];
            } else {
                ranges.add(new long[] {lo, sorted[k + 1]});
                winners.add(winner);
            }
        }
        long[] s = new long[ranges.size()];
        long[] e = new long[ranges.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = ranges.get(i)[0];
            e[i] = ranges.get(i)[1];
        }
        return new PciAddressSpace(s, e, winners.toArray(NO_DECODES), overlap);
    }

    /**
     * The segment that holds the whole access {@code [addr, addr+size)}, or -1 when no BAR
     * decodes it or it straddles a BAR's end. Allocation-free.
     */
    int find(long addr, int size) {
        long[] s = starts;
        int lo = 0, hi = s.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(s[mid], addr) <= 0) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (hi < 0) {
            return -1;
        }
        long into = addr - s[hi];
        long length = ends[hi] - s[hi];
        return Long.compareUnsigned(into, length) < 0 && Long.compareUnsigned(size, length - into) <= 0 ? hi : -1;
    }

    Decode owner(int segment) {
        return owners[segment];
    }

    String overlap() {
        return overlap;
    }

    int segments() {
        return starts.length;
    }
}
