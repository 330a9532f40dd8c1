package dev.rivet.core.bus;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Guest physical RAM: one off-heap, zero-filled {@link MemorySegment} at a fixed guest
 * physical base. All accessors are little-endian and tolerate unaligned offsets
 * (RISC-V is little-endian; the hart decides which misaligned accesses trap).
 */
public final class GuestRam implements AutoCloseable {
    public static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;
    public static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    public static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    public static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private final Arena arena;
    private final MemorySegment segment;
    private final long base;
    private final long size;

    public GuestRam(long base, long size) {
        if (size <= 0 || (size & 0xFFF) != 0) {
            throw new IllegalArgumentException("RAM size must be a positive multiple of 4 KiB: " + size);
        }
        if (base + size < base && base + size != 0) {
            throw new IllegalArgumentException("RAM range wraps the address space");
        }
        this.arena = Arena.ofShared();
        this.segment = arena.allocate(size, 4096);
        this.base = base;
        this.size = size;
    }

    public MemorySegment segment() {
        return segment;
    }

    public long base() {
        return base;
    }

    public long size() {
        return size;
    }

    /** True when {@code [addr, addr+len)} lies entirely inside this RAM. */
    public boolean contains(long addr, long len) {
        long off = addr - base;
        return Long.compareUnsigned(off, size) < 0 && len <= size - off;
    }

    /** Copies host bytes into guest RAM; the caller checked the range with {@link #contains}. */
    public void load(long addr, byte[] data, int from, int len) {
        MemorySegment.copy(data, from, segment, I8, addr - base, len);
    }

    public long read(long offset, int size) {
        return switch (size) {
            case 1 -> segment.get(I8, offset) & 0xFFL;
            case 2 -> segment.get(I16, offset) & 0xFFFFL;
            case 4 -> segment.get(I32, offset) & 0xFFFF_FFFFL;
            default -> segment.get(I64, offset);
        };
    }

    public void write(long offset, int size, long value) {
        switch (size) {
            case 1 -> segment.set(I8, offset, (byte) value);
            case 2 -> segment.set(I16, offset, (short) value);
            case 4 -> segment.set(I32, offset, (int) value);
            default -> segment.set(I64, offset, value);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
