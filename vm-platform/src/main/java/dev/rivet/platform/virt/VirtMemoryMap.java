package dev.rivet.platform.virt;

/**
 * The {@code virt} board's physical memory map and interrupt numbers, the same as QEMU's
 * hw/riscv/virt.c so that a guest, a device tree and every measurement can be compared
 * side by side with {@code qemu-system-riscv64 -M virt}.
 */
public enum VirtMemoryMap {
    MROM(0x0000_1000L, 0xF000L),
    TEST(0x0010_0000L, 0x1000L),
    RTC(0x0010_1000L, 0x1000L),
    CLINT(0x0200_0000L, 0x1_0000L),
    /** The PCIe host's I/O port window (PCI I/O addresses 0–0xFFFF). */
    PCIE_PIO(0x0300_0000L, 0x1_0000L),
    PLIC(0x0C00_0000L, 0x60_0000L),
    UART0(0x1000_0000L, 0x100L),
    VIRTIO(0x1000_1000L, 0x1000L),
    FW_CFG(0x1010_0000L, 0x18L),
    FLASH(0x2000_0000L, 0x400_0000L),
    PCIE_ECAM(0x3000_0000L, 0x1000_0000L),
    PCIE_MMIO(0x4000_0000L, 0x4000_0000L),
    DRAM(0x8000_0000L, 0);

    public static final int UART0_IRQ = 10;
    public static final int RTC_IRQ = 11;
    /** PCIe INTA–INTD on PLIC sources 32–35. */
    public static final int PCIE_IRQ = 0x20;
    /** virtio-mmio slot n (0–7) uses IRQ 1 + n. */
    public static final int VIRTIO_IRQ = 1;
    public static final int VIRTIO_COUNT = 8;
    /** PLIC sources, including the reserved source 0 (QEMU: VIRT_IRQCHIP_NUM_SOURCES). */
    public static final int PLIC_SOURCES = 96;

    /** Where firmware goes and where the kernel goes when there is firmware (QEMU's layout). */
    public static final long FIRMWARE_BASE = 0x8000_0000L;
    public static final long KERNEL_BASE = 0x8020_0000L;

    /** Size of the 64-bit PCIe MMIO window. */
    public static final long PCIE_MMIO_HIGH_SIZE = 0x4_0000_0000L;

    /**
     * Base of the 64-bit PCIe MMIO window: above RAM, at the end of RAM rounded up to the
     * window's size, as QEMU places it (16 GiB up to 14 GiB of RAM, then 32 GiB).
     */
    public static long pcieMmioHighBase(long ramSize) {
        return (DRAM.base + ramSize + PCIE_MMIO_HIGH_SIZE - 1) & -PCIE_MMIO_HIGH_SIZE;
    }

    public final long base;
    public final long size;

    VirtMemoryMap(long base, long size) {
        this.base = base;
        this.size = size;
    }
}
