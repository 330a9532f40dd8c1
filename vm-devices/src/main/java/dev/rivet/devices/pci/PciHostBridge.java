package dev.rivet.devices.pci;

/**
 * Function 0 of slot 0: the host bridge itself as QEMU's generic PCIe host ({@code gpex})
 * presents it, so a guest enumerating the root bus sees the same device: Red Hat vendor
 * 0x1b36, device 0x0008 ("QEMU PCIe Host bridge" in the PCI ID database), class 0x060000
 * (bridge / host bridge, PCI Code and ID Assignment Specification, Appendix D), subsystem
 * 0x1af4:0x1100 (QEMU's default). No BARs, no interrupt, no capabilities.
 */
public final class PciHostBridge extends PciDevice {
    public static final int VENDOR = 0x1b36;
    public static final int DEVICE = 0x0008;
    public static final int CLASS = 0x060000;
    public static final int SUBSYSTEM_VENDOR = 0x1af4;
    public static final int SUBSYSTEM = 0x1100;

    public PciHostBridge() {
        super("pcie-host-bridge", VENDOR, DEVICE, CLASS, 0);
        setSubsystem(SUBSYSTEM_VENDOR, SUBSYSTEM);
    }
}
