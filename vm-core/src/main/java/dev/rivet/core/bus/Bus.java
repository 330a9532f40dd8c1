package dev.rivet.core.bus;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The guest physical address space: one RAM region (the fast path, tested first by
 * callers) plus MMIO regions. Regions are immutable after {@link #freeze()}; lookup is a
 * binary search over a sorted array and never allocates.
 *
 * <p>Access-size fix-up: a device sees only the sizes it declared. A narrower access
 * than the device supports is widened (read the containing word, extract or merge); a
 * wider one is split into the device's largest size, little-endian.
 */
public final class Bus {
    /** One MMIO mapping. */
    public static final class Region {
        public final long base;
        public final long size;
        public final MmioDevice device;

        Region(long base, long size, MmioDevice device) {
            this.base = base;
            this.size = size;
            this.device = device;
        }

        public long end() {
            return base + size;
        }

        @Override
        public String toString() {
            return String.format("%s @ 0x%x+0x%x", device.name(), base, size);
        }
    }

    private final GuestRam ram;
    private final List<Region> pending = new ArrayList<>();
    private Region[] regions = new Region[0];
    private long[] bases = new long[0];
    private boolean frozen;
    private GuestErrorLog log = GuestErrorLog.STDERR;

    public Bus(GuestRam ram) {
        this.ram = Objects.requireNonNull(ram);
    }

    public GuestRam ram() {
        return ram;
    }

    public void setGuestErrorLog(GuestErrorLog log) {
        this.log = Objects.requireNonNull(log);
    }

    public GuestErrorLog guestErrorLog() {
        return log;
    }

    /** Maps {@code device} at {@code [base, base+size)}; rejects overlaps with a clear message. */
    public void map(long base, long size, MmioDevice device) {
        if (frozen) {
            throw new IllegalStateException("bus is frozen");
        }
        if (size <= 0 || base + size < base && base + size != 0) {
            throw new IllegalArgumentException(String.format("bad region size for %s: 0x%x", device.name(), size));
        }
        Region r = new Region(base, size, device);
        if (overlaps(base, size, ram.base(), ram.size())) {
            throw new IllegalArgumentException(String.format("%s at 0x%x overlaps RAM at 0x%x", device.name(), base, ram.base()));
        }
        for (Region o : pending) {
            if (overlaps(base, size, o.base, o.size)) {
                throw new IllegalArgumentException(String.format("%s at 0x%x overlaps %s", device.name(), base, o));
            }
        }
        pending.add(r);
        rebuild();
    }

    private static boolean overlaps(long b1, long s1, long b2, long s2) {
        return Long.compareUnsigned(b1, b2 + s2 - 1) <= 0 && Long.compareUnsigned(b2, b1 + s1 - 1) <= 0;
    }

    private void rebuild() {
        Region[] rs = pending.toArray(new Region[0]);
        Arrays.sort(rs, (x, y) -> Long.compareUnsigned(x.base, y.base));
        long[] bs = new long[rs.length];
        for (int i = 0; i < rs.length; i++) {
            bs[i] = rs[i].base;
        }
        regions = rs;
        bases = bs;
    }

    /** No more mappings after this. */
    public void freeze() {
        frozen = true;
    }

    public List<Region> regions() {
        return List.of(regions);
    }

    /** The MMIO region that contains {@code addr}, or null. Allocation-free. */
    public Region find(long addr) {
        long[] bs = bases;
        int lo = 0, hi = bs.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(bs[mid], addr) <= 0) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (hi < 0) {
            return null;
        }
        Region r = regions[hi];
        return Long.compareUnsigned(addr - r.base, r.size) < 0 ? r : null;
    }

    /**
     * True when a {@code size}-byte access at {@code addr} is entirely backed by RAM or by
     * a single MMIO region.
     */
    public boolean isMapped(long addr, int size) {
        if (ram.contains(addr, size)) {
            return true;
        }
        Region r = find(addr);
        return r != null && size <= r.size - (addr - r.base);
    }

    /**
     * Reads {@code size} bytes (1, 2, 4, 8) at a physical address; the caller has checked
     * {@link #isMapped}. The result is zero-extended.
     */
    public long read(long addr, int size) {
        if (ram.contains(addr, size)) {
            return ram.read(addr - ram.base(), size);
        }
        Region r = find(addr);
        return readDevice(r.device, addr - r.base, size);
    }

    public void write(long addr, int size, long value) {
        if (ram.contains(addr, size)) {
            ram.write(addr - ram.base(), size, value);
            return;
        }
        Region r = find(addr);
        writeDevice(r.device, addr - r.base, size, value);
    }

    static long sizeMask(int size) {
        return size == 8 ? -1L : (1L << (size * 8)) - 1;
    }

    /** Reads with size fix-up; public so transports and tests share the exact semantics. */
    public static long readDevice(MmioDevice dev, long offset, int size) {
        int legal = dev.accessSizes();
        if ((legal & size) != 0) {
            return dev.read(offset, size) & sizeMask(size);
        }
        int wider = smallestLegalAbove(legal, size);
        if (wider != 0) {
            long aligned = offset & -wider;
            int shift = (int) (offset - aligned) * 8;
            if (offset - aligned + size <= wider) {
                return (dev.read(aligned, wider) >>> shift) & sizeMask(size);
            }
        }
        // Split into the largest legal size below (little-endian assembly).
        int part = largestLegalBelow(legal, size);
        long v = 0;
        for (int i = 0; i < size; i += part) {
            v |= (readDevice(dev, offset + i, part) & sizeMask(part)) << (i * 8);
        }
        return v;
    }

    public static void writeDevice(MmioDevice dev, long offset, int size, long value) {
        int legal = dev.accessSizes();
        if ((legal & size) != 0) {
            dev.write(offset, size, value & sizeMask(size));
            return;
        }
        int wider = smallestLegalAbove(legal, size);
        if (wider != 0) {
            long aligned = offset & -wider;
            int shift = (int) (offset - aligned) * 8;
            if (offset - aligned + size <= wider) {
                long old = dev.read(aligned, wider);
                long m = sizeMask(size) << shift;
                dev.write(aligned, wider, (old & ~m) | ((value << shift) & m));
                return;
            }
        }
        int part = largestLegalBelow(legal, size);
        for (int i = 0; i < size; i += part) {
            writeDevice(dev, offset + i, part, value >>> (i * 8));
        }
    }

    private static int smallestLegalAbove(int legal, int size) {
        for (int s = size << 1; s <= 8; s <<= 1) {
            if ((legal & s) != 0) {
                return s;
            }
        }
        return 0;
    }

    private static int largestLegalBelow(int legal, int size) {
        for (int s = size >> 1; s >= 1; s >>= 1) {
            if ((legal & s) != 0) {
                return s;
            }
        }
        return 1;
    }
}
