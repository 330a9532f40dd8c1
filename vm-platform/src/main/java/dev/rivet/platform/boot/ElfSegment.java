package dev.rivet.platform.boot;

import java.util.Arrays;
import java.util.Objects;

/**
 * One loadable ({@code PT_LOAD}) segment of an {@link ElfImage}.
 *
 * @param physAddr guest physical load address ({@code p_paddr})
 * @param virtAddr link-time virtual address ({@code p_vaddr})
 * @param data     the segment's file bytes ({@code p_filesz} of them)
 * @param memSize  size in memory ({@code p_memsz}); bytes past {@code data.length} are zero-filled
 * @param flags    {@code p_flags}: {@link #PF_X}, {@link #PF_W}, {@link #PF_R}
 */
public record ElfSegment(long physAddr, long virtAddr, byte[] data, long memSize, int flags) {
    public static final int PF_X = 0x1;
    public static final int PF_W = 0x2;
    public static final int PF_R = 0x4;

    public ElfSegment {
        Objects.requireNonNull(data, "data");
        if (Long.compareUnsigned(data.length, memSize) > 0) {
            throw new IllegalArgumentException("memSize " + memSize + " < data length " + data.length);
        }
    }

    /** Number of zero bytes to fill after {@link #data()}. */
    public long zeroFillSize() {
        return memSize - data.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ElfSegment s && physAddr == s.physAddr && virtAddr == s.virtAddr
                && memSize == s.memSize && flags == s.flags && Arrays.equals(data, s.data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(physAddr, virtAddr, memSize, flags, Arrays.hashCode(data));
    }

    @Override
    public String toString() {
        return String.format("ElfSegment[physAddr=0x%x, virtAddr=0x%x, fileSize=0x%x, memSize=0x%x, flags=%s%s%s]",
                physAddr, virtAddr, data.length, memSize,
                (flags & PF_R) != 0 ? "r" : "-", (flags & PF_W) != 0 ? "w" : "-", (flags & PF_X) != 0 ? "x" : "-");
    }
}
