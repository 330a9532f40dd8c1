package dev.rivet.devices.pci;

import dev.rivet.core.bus.GuestErrorLog;
import dev.rivet.core.bus.MmioDevice;

/**
 * The Enhanced Configuration Access Mechanism window of the host bridge (PCIe Base 4.0,
 * 7.2.2 "PCI Express Enhanced Configuration Access Mechanism"): a memory access at offset
 * {@code bus << 20 | device << 15 | function << 12 | register} is a configuration access
 * to that register of that function.
 *
 * <ul>
 * <li>Accesses of 1, 2 or 4 bytes that stay inside one dword reach the function (7.2.2.1:
 *     the Root Complex need not support accesses that cross a dword; here they are a guest
 *     error that reads all-ones and writes nothing).
 * <li>A function that is not present reads all-ones and ignores writes: that is how
 *     enumeration finds empty slots (PCI 3.0, 6.1: "the host bus to PCI bridge must
 *     return all 1's"), so it is not logged.
 * <li>Bytes past a conventional function's 256-byte space read all-ones, as in QEMU.
 * <li>Only bus 0 exists (no bridges): an access to another bus number is a guest error
 *     that reads all-ones.
 * </ul>
 *
 * <p>{@link #reset()} resets the whole hierarchy (every function, decoding, INTx).
 */
final class PciEcam implements MmioDevice {
    // Offset fields (PCIe Base 4.0, Table 7-1 "Enhanced Configuration Address Mapping").
    static final int BUS_SHIFT = 20;
    static final int DEVICE_SHIFT = 15;
    static final int FUNCTION_SHIFT = 12;
    static final int REGISTER_MASK = 0xFFF;

    private final PcieHost host;
    private final long size;
    private final GuestErrorLog log;

    PciEcam(PcieHost host, long size, GuestErrorLog log) {
        this.host = host;
        this.size = size;
        this.log = log;
    }

    @Override
    public String name() {
        return "pcie-ecam";
    }

    @Override
    public int accessSizes() {
        return SIZE_1 | SIZE_2 | SIZE_4;
    }

    /** Encodes a configuration address as an ECAM offset. */
    static long offset(int bus, int device, int function, int register) {
        return (long) bus << BUS_SHIFT | device << DEVICE_SHIFT | function << FUNCTION_SHIFT | register;
    }

    @Override
    public long read(long offset, int size) {
        PciDevice f = target(offset, size, "read", 0);
        if (f == null) {
            return -1L & sizeMask(size);
        }
        int reg = (int) offset & REGISTER_MASK;
        if (reg >= f.configSize()) {
            return sizeMask(size);
        }
        return f.hostConfigRead(reg, size) & sizeMask(size);
    }

    @Override
    public void write(long offset, int size, long value) {
        PciDevice f = target(offset, size, "write", value);
        if (f == null) {
            return;
        }
        int reg = (int) offset & REGISTER_MASK;
        if (reg < f.configSize()) {
            f.hostConfigWrite(reg, size, (int) value);
        }
    }

    /** The present function addressed, or null (logged unless it is merely absent). */
    private PciDevice target(long offset, int size, String what, long value) {
        if (offset < 0 || offset >= this.size || offset >>> BUS_SHIFT != 0) {
            log.guestError(String.format("pcie-ecam: %d-byte config %s (value 0x%x) at offset 0x%x: bus %d has no devices"
                    + " (only bus 0 exists)", size, what, value, offset, offset >>> BUS_SHIFT));
            return null;
        }
        if ((offset & 3) + size > 4) {
            log.guestError(String.format("pcie-ecam: %d-byte config %s at offset 0x%x crosses a dword", size, what, offset));
            return null;
        }
        return host.device((int) (offset >>> DEVICE_SHIFT) & 0x1F, (int) (offset >>> FUNCTION_SHIFT) & 0x7);
    }

    private static long sizeMask(int size) {
        return size >= 8 ? -1L : (1L << (8 * size)) - 1;
    }

    @Override
    public void reset() {
        host.reset();
    }
}
