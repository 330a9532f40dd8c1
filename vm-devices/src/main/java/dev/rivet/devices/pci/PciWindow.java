package dev.rivet.devices.pci;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.GuestErrorLog;
import dev.rivet.core.bus.MmioDevice;

/**
 * One aperture of the host bridge on the system bus (the PIO window, the 32-bit or the
 * 64-bit MMIO window of the device tree's {@code ranges}): an access at window offset
 * {@code o} is the PCI address {@code pciBase + o} in the window's address space and goes
 * to the BAR decoding it, at the offset into that BAR, with the BAR handler's own access
 * sizes (fixed up as {@link Bus#readDevice} does).
 *
 * <p>An address no BAR decodes (nothing there, decoding disabled, or an access straddling
 * a BAR's end) is a master abort: reads return all-ones, writes are dropped (PCI 3.0,
 * 3.3.3.1 "Master Initiated Termination"; PCIe Base 4.0, 2.3.2: an Unsupported Request
 * completes a read with all-ones), and it is logged as a guest error. Lookup takes no lock
 * and does not allocate.
 */
final class PciWindow implements MmioDevice {
    private final String name;
    private final PcieHost host;
    private final boolean io;
    private final long pciBase;
    private final GuestErrorLog log;

    PciWindow(String name, PcieHost host, boolean io, long pciBase, GuestErrorLog log) {
        this.name = name;
        this.host = host;
        this.io = io;
        this.pciBase = pciBase;
        this.log = log;
    }

    @Override
    public String name() {
        return name;
    }

    /** Every size passes through; the BAR handler's declared sizes are applied per BAR. */
    @Override
    public int accessSizes() {
        return SIZES_ALL;
    }

    private PciAddressSpace space() {
        return io ? host.ioSpace() : host.memorySpace();
    }

    @Override
    public long read(long offset, int size) {
        long addr = pciBase + offset;
        PciAddressSpace s = space();
        int seg = s.find(addr, size);
        if (seg < 0) {
            log.guestError(String.format("%s: %d-byte read at offset 0x%x (PCI address 0x%x): no BAR decodes it",
                    name, size, offset, addr));
            return size == 8 ? -1L : (1L << (size * 8)) - 1; // all-ones, zero-extended as the bus promises
        }
        PciAddressSpace.Decode d = s.owner(seg);
        return Bus.readDevice(d.handler(), addr - d.base(), size);
    }

    @Override
    public void write(long offset, int size, long value) {
        long addr = pciBase + offset;
        PciAddressSpace s = space();
        int seg = s.find(addr, size);
        if (seg < 0) {
            log.guestError(String.format("%s: %d-byte write of 0x%x at offset 0x%x (PCI address 0x%x): no BAR decodes it",
                    name, size, value, offset, addr));
            return;
        }
        PciAddressSpace.Decode d = s.owner(seg);
        Bus.writeDevice(d.handler(), addr - d.base(), size, value);
    }

    /** The window holds no state; the host and its functions are reset through the ECAM device. */
    @Override
    public void reset() {
    }
}
