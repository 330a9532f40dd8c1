package dev.rivet.devices.pci;

import dev.rivet.core.bus.MmioDevice;

import java.util.Objects;

/**
 * One Base Address Register a PCI function implements (PCI Local Bus Specification 3.0,
 * 6.2.5.1 "Address Maps"): which address space it claims, its size, and the
 * {@link MmioDevice} that serves accesses inside it. The handler sees offsets relative to
 * the start of the BAR and only the access sizes it declares in
 * {@link MmioDevice#accessSizes()} (the host fixes other sizes up exactly as the system bus
 * does); its {@code reset()} is not called by the host (the owning {@link PciDevice} resets
 * its own state in {@link PciDevice#deviceReset()}).
 *
 * <p>Sizes are powers of two, as the sizing protocol requires: memory BARs at least 16 bytes
 * (32-bit ones at most 2 GiB), I/O BARs 4 to 256 bytes ("devices that use I/O space must
 * not use more than 256 bytes per BAR").
 *
 * @param kind         the address space and width
 * @param size         bytes claimed, a power of two
 * @param prefetchable the prefetchable bit of a memory BAR (always false for I/O)
 * @param handler      serves reads and writes inside the BAR
 */
public record PciBar(Kind kind, long size, boolean prefetchable, MmioDevice handler) {
    /** Address space and width of a BAR. */
    public enum Kind {
        /** 32-bit memory BAR (type 00b). */
        MEMORY_32,
        /** 64-bit memory BAR (type 10b); occupies this BAR and the next. */
        MEMORY_64,
        /** I/O space BAR. */
        IO
    }

    public PciBar {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(handler, "handler");
        if (size <= 0 || (size & (size - 1)) != 0) {
            throw new IllegalArgumentException("BAR size must be a power of two, not 0x" + Long.toHexString(size));
        }
        switch (kind) {
            case MEMORY_32 -> {
                if (size < 16 || size > 1L << 31) {
                    throw new IllegalArgumentException("32-bit memory BAR size 0x" + Long.toHexString(size)
                            + " outside 16 B .. 2 GiB");
                }
            }
            case MEMORY_64 -> {
                if (size < 16 || size > 1L << 62) {
                    throw new IllegalArgumentException("64-bit memory BAR size 0x" + Long.toHexString(size)
                            + " outside 16 B .. 4 EiB");
                }
            }
            case IO -> {
                if (size < 4 || size > 256) {
                    throw new IllegalArgumentException("I/O BAR size " + size + " outside 4 .. 256 bytes");
                }
                if (prefetchable) {
                    throw new IllegalArgumentException("an I/O BAR cannot be prefetchable");
                }
            }
        }
    }

    public static PciBar memory32(long size, boolean prefetchable, MmioDevice handler) {
        return new PciBar(Kind.MEMORY_32, size, prefetchable, handler);
    }

    public static PciBar memory64(long size, boolean prefetchable, MmioDevice handler) {
        return new PciBar(Kind.MEMORY_64, size, prefetchable, handler);
    }

    public static PciBar io(long size, MmioDevice handler) {
        return new PciBar(Kind.IO, size, false, handler);
    }

    /** True for the memory kinds. */
    public boolean isMemory() {
        return kind != Kind.IO;
    }
}
