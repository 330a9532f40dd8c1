package dev.rivet.virtio;

import dev.rivet.core.bus.Bus;
import dev.rivet.devices.pci.PciDevice;
import dev.rivet.devices.pci.PcieHost;
import dev.rivet.virtio.pci.VirtioPci;

import java.util.HashMap;
import java.util.Map;

import static dev.rivet.virtio.pci.VirtioPci.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Plays the PCI core and Linux's virtio_pci_modern driver (drivers/virtio/virtio_pci_modern.c,
 * virtio_pci_modern_dev.c) against a function on a {@link PcieHost}: reads the IDs through
 * ECAM, sizes and assigns the BAR the capabilities point at, enables memory decoding and
 * bus mastering, walks the vendor capabilities to find the common, ISR, device and notify
 * structures, and then does everything through the BAR, as the guest would. Interrupts are
 * INTx: {@link #interruptLine()} is the PLIC input the function's pin is swizzled to.
 */
public final class GuestPciTransport implements GuestDriver.Transport {
    private final PcieHost host;
    private final int slot;
    private final GuestDriver.Wire[] intx;
    /** Where the driver placed the BAR, in the 64-bit window. */
    private final long barBase;
    /** cfg_type -> offset of that structure in the BAR (first capability of each type wins, as in Linux). */
    private final Map<Integer, Long> structures = new HashMap<>();
    private int notifyMultiplier;
    /** Offset of the VIRTIO_PCI_CAP_PCI_CFG capability in configuration space. */
    public final int pciCfgCap;

    /**
     * Enumerates the function at {@code slot} (function 0) and places its BAR at
     * {@code barOffset} into the host's 64-bit window.
     */
    public GuestPciTransport(PcieHost host, GuestDriver.Wire[] intx, int slot, long barOffset) {
        this.host = host;
        this.slot = slot;
        this.intx = intx;
        assertEquals(VENDOR_VIRTIO, cfg(PciDevice.VENDOR_ID, 2));
        int deviceId = (int) cfg(PciDevice.DEVICE_ID, 2);
        assertTrue(deviceId >= DEVICE_ID_BASE, "not a modern virtio-pci device: 0x" + Integer.toHexString(deviceId));
        assertTrue(cfg(PciDevice.REVISION_ID, 1) >= 1, "revision 0 is the transitional kind");
        assertTrue((cfg(PciDevice.STATUS, 2) & PciDevice.STATUS_CAPABILITIES) != 0);
        int pciCfg = 0;
        int bar = -1;
        for (int cap = (int) cfg(PciDevice.CAPABILITIES_POINTER, 1); cap != 0; cap = (int) cfg(cap + 1, 1)) {
            if (cfg(cap, 1) != PciDevice.CAP_ID_VENDOR) {
                continue;
            }
            int type = (int) cfg(cap + CAP_CFG_TYPE, 1);
            if (type == CAP_PCI_CFG) {
                pciCfg = cap;
                continue;
            }
            int b = (int) cfg(cap + CAP_BAR, 1);
            assertTrue(bar == -1 || bar == b, "structures in more than one BAR");
            bar = b;
            structures.putIfAbsent(type, cfg(cap + CAP_OFFSET, 4));
            if (type == CAP_NOTIFY_CFG) {
                notifyMultiplier = (int) cfg(cap + CAP_NOTIFY_MULTIPLIER, 4);
            }
        }
        pciCfgCap = pciCfg;
        assertNotNull(structures.get(CAP_COMMON_CFG), "no common configuration capability");
        assertNotNull(structures.get(CAP_ISR_CFG), "no ISR capability");
        assertNotNull(structures.get(CAP_NOTIFY_CFG), "no notify capability");
        // Size the 64-bit BAR (__pci_read_base) and assign it.
        int reg = PciDevice.BAR0 + 4 * bar;
        long flags = cfg(reg, 4) & 0xF;
        assertEquals(PciDevice.BAR_MEMORY_64, flags & 0x6, "the capabilities point at a 64-bit memory BAR");
        setCfg(reg, 4, 0xFFFF_FFFFL);
        setCfg(reg + 4, 4, 0xFFFF_FFFFL);
        long size = -((cfg(reg + 4, 4) << 32 | cfg(reg, 4)) & ~0xFL);
        assertTrue(size >= 0x1000, "BAR size 0x" + Long.toHexString(size));
        barBase = host.layout().mmio64Base() + barOffset;
        setCfg(reg, 4, barBase & 0xFFFF_FFFFL);
        setCfg(reg + 4, 4, barBase >>> 32);
        // pci_enable_device + pci_set_master.
        setCfg(PciDevice.COMMAND, 2, PciDevice.COMMAND_MEMORY | PciDevice.COMMAND_BUS_MASTER);
    }

    public long cfg(int reg, int size) {
        return Bus.readDevice(host.ecam(), ecam(reg), size);
    }

    public void setCfg(int reg, int size, long value) {
        Bus.writeDevice(host.ecam(), ecam(reg), size, value);
    }

    private long ecam(int reg) {
        return (long) slot << 15 | reg; // bus 0, function 0 (PCIe Base 4.0, 7.2.2)
    }

    /** A CPU access into the function's BAR: {@code structure} is a cfg_type, {@code off} within it. */
    public long bar(int structure, int off, int size) {
        long at = barBase + structures.get(structure) + off;
        return Bus.readDevice(host.mmio64Window(), at - host.layout().mmio64Base(), size);
    }

    public void setBar(int structure, int off, int size, long value) {
        long at = barBase + structures.get(structure) + off;
        Bus.writeDevice(host.mmio64Window(), at - host.layout().mmio64Base(), size, value);
    }

    private long common(int off, int size) {
        return bar(CAP_COMMON_CFG, off, size);
    }

    private void setCommon(int off, int size, long v) {
        setBar(CAP_COMMON_CFG, off, size, v);
    }

    @Override
    public void probe() {
        assertTrue(common(NUM_QUEUES, 2) > 0, "no queues");
    }

    @Override
    public long offeredFeatures() {
        setCommon(DEVICE_FEATURE_SELECT, 4, 1);
        long hi = common(DEVICE_FEATURE, 4);
        setCommon(DEVICE_FEATURE_SELECT, 4, 0);
        return hi << 32 | common(DEVICE_FEATURE, 4);
    }

    @Override
    public void writeFeatures(long f) {
        setCommon(DRIVER_FEATURE_SELECT, 4, 0);
        setCommon(DRIVER_FEATURE, 4, f & 0xFFFF_FFFFL);
        setCommon(DRIVER_FEATURE_SELECT, 4, 1);
        setCommon(DRIVER_FEATURE, 4, f >>> 32);
    }

    @Override
    public int status() {
        return (int) common(DEVICE_STATUS, 1);
    }

    @Override
    public void writeStatus(int status) {
        setCommon(DEVICE_STATUS, 1, status);
        if (status == 0) {
            // vp_reset: wait for the status to read 0 again.
            assertEquals(0, status());
        }
    }

    @Override
    public boolean queueReady(int index) {
        setCommon(QUEUE_SELECT, 2, index);
        return common(QUEUE_ENABLE, 2) != 0;
    }

    @Override
    public void setupQueue(int index, int size, long desc, long avail, long used) {
        // setup_vq: select, read the maximum, write the size and the ring addresses as two halves, enable.
        setCommon(QUEUE_SELECT, 2, index);
        long max = common(QUEUE_SIZE, 2);
        assertTrue(max != 0, "queue " + index + " is not available");
        setCommon(QUEUE_SIZE, 2, size);
        setCommon(QUEUE_DESC, 4, desc & 0xFFFF_FFFFL);
        setCommon(QUEUE_DESC + 4, 4, desc >>> 32);
        setCommon(QUEUE_DRIVER, 4, avail & 0xFFFF_FFFFL);
        setCommon(QUEUE_DRIVER + 4, 4, avail >>> 32);
        setCommon(QUEUE_DEVICE, 4, used & 0xFFFF_FFFFL);
        setCommon(QUEUE_DEVICE + 4, 4, used >>> 32);
        setCommon(QUEUE_ENABLE, 2, 1);
    }

    @Override
    public void notify(int queue) {
        setCommon(QUEUE_SELECT, 2, queue);
        long off = common(QUEUE_NOTIFY_OFF, 2);
        setBar(CAP_NOTIFY_CFG, (int) (off * notifyMultiplier), 2, queue);
    }

    @Override
    public int takeInterrupt() {
        return (int) bar(CAP_ISR_CFG, 0, 1);
    }

    @Override
    public long readConfig(int offset, int size) {
        return bar(CAP_DEVICE_CFG, offset, size);
    }

    @Override
    public void writeConfig(int offset, int size, long value) {
        setBar(CAP_DEVICE_CFG, offset, size, value);
    }

    @Override
    public boolean interruptLine() {
        return intx[PcieHost.intxLine(slot, (int) cfg(PciDevice.INTERRUPT_PIN, 1))].level;
    }
}
