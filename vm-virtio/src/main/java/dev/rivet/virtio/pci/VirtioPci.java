package dev.rivet.virtio.pci;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestErrorLog;
import dev.rivet.core.bus.MmioDevice;
import dev.rivet.devices.pci.PciBar;
import dev.rivet.devices.pci.PciDevice;
import dev.rivet.virtio.Virtio;
import dev.rivet.virtio.VirtioCore;
import dev.rivet.virtio.VirtioCore.RingArea;
import dev.rivet.virtio.VirtioDevice;
import dev.rivet.virtio.VirtioInterrupts;
import dev.rivet.virtio.Virtqueue;

import java.util.Objects;

/**
 * The virtio-pci transport, modern (non-transitional) only: VirtIO 1.2 section 4.1. The
 * function is vendor 0x1AF4, device 0x1040 + the VirtIO device ID, revision 1, and
 * describes its structures with vendor-specific capabilities (4.1.4) that all point into
 * one 16 KiB 64-bit prefetchable memory BAR, laid out as QEMU lays out its virtio-pci
 * devices so guests see the same thing on both:
 *
 * <pre>
 * BAR 4 + 0x0000  common configuration (4.1.4.3)
 *       + 0x1000  ISR status (4.1.4.5)
 *       + 0x2000  device-specific configuration (4.1.4.6), if the device has any
 *       + 0x3000  notifications (4.1.4.4): queue n at n * 4
 * </pre>
 *
 * plus the VIRTIO_PCI_CAP_PCI_CFG window (4.1.4.9) that reaches the BAR through
 * configuration space. There is no MSI-X: the board's PLIC has no MSI controller (as on
 * QEMU's {@code virt} without AIA), so the function raises INTA# and the guest reads the ISR
 * to learn why (4.1.5.3, 4.1.5.4); MSI-X vector registers read VIRTIO_MSI_NO_VECTOR.
 *
 * <p>Registers in the common configuration must be accessed at their natural width; 64-bit
 * queue addresses may also be written as two 32-bit halves (4.1.3.1), which is how Linux
 * writes them. Other accesses are guest errors: reads give 0, writes are ignored.
 *
 * <p>Threads: BAR and configuration accesses come from harts and are serialised on this
 * function; the device's I/O threads only raise ISR bits (under a small lock of their own)
 * and drive INTx, which takes no lock of this function.
 */
public final class VirtioPci extends PciDevice {
    public static final int VENDOR_VIRTIO = 0x1AF4;
    /** Modern device IDs are 0x1040 + VirtIO device ID (4.1.2.1). */
    public static final int DEVICE_ID_BASE = 0x1040;
    /** Revision 1 or more marks a non-transitional device (4.1.2.1). */
    public static final int REVISION_MODERN = 1;
    /** QEMU's subsystem ID for its virtio devices; any value of 0x40 or more is fine for modern drivers. */
    public static final int SUBSYSTEM_ID = 0x1100;

    // virtio_pci_cap.cfg_type (4.1.4).
    public static final int CAP_COMMON_CFG = 1;
    public static final int CAP_NOTIFY_CFG = 2;
    public static final int CAP_ISR_CFG = 3;
    public static final int CAP_DEVICE_CFG = 4;
    public static final int CAP_PCI_CFG = 5;

    // Fields of struct virtio_pci_cap after the two-byte capability header (cap_vndr, cap_next).
    public static final int CAP_LEN = 2;
    public static final int CAP_CFG_TYPE = 3;
    public static final int CAP_BAR = 4;
    public static final int CAP_ID = 5;
    public static final int CAP_OFFSET = 8;
    public static final int CAP_LENGTH = 12;
    /** struct virtio_pci_notify_cap adds notify_off_multiplier; struct virtio_pci_cfg_cap adds pci_cfg_data. */
    public static final int CAP_NOTIFY_MULTIPLIER = 16;
    public static final int CAP_PCI_CFG_DATA = 16;
    public static final int CAP_SIZE = 16;
    public static final int CAP_EXTENDED_SIZE = 20;

    /** The BAR holding every structure, and its layout. */
    public static final int BAR = 4;
    public static final long BAR_SIZE = 0x4000;
    public static final int COMMON_BASE = 0x0000;
    public static final int ISR_BASE = 0x1000;
    public static final int DEVICE_BASE = 0x2000;
    public static final int NOTIFY_BASE = 0x3000;
    public static final int REGION_SIZE = 0x1000;
    public static final int NOTIFY_MULTIPLIER = 4;

    // struct virtio_pci_common_cfg (4.1.4.3).
    public static final int DEVICE_FEATURE_SELECT = 0x00;
    public static final int DEVICE_FEATURE = 0x04;
    public static final int DRIVER_FEATURE_SELECT = 0x08;
    public static final int DRIVER_FEATURE = 0x0C;
    public static final int CONFIG_MSIX_VECTOR = 0x10;
    public static final int NUM_QUEUES = 0x12;
    public static final int DEVICE_STATUS = 0x14;
    public static final int CONFIG_GENERATION = 0x15;
    public static final int QUEUE_SELECT = 0x16;
    public static final int QUEUE_SIZE = 0x18;
    public static final int QUEUE_MSIX_VECTOR = 0x1A;
    public static final int QUEUE_ENABLE = 0x1C;
    public static final int QUEUE_NOTIFY_OFF = 0x1E;
    public static final int QUEUE_DESC = 0x20;
    public static final int QUEUE_DRIVER = 0x28;
    public static final int QUEUE_DEVICE = 0x30;
    public static final int QUEUE_NOTIFY_DATA = 0x38;
    public static final int QUEUE_RESET = 0x3A;
    /** Size of the common configuration structure in VirtIO 1.2. */
    public static final int COMMON_CFG_SIZE = 0x3C;

    /** "No vector" for the MSI-X vector registers (4.1.4.3). */
    public static final int NO_VECTOR = 0xFFFF;

    // ISR status bits (4.1.4.5).
    public static final int ISR_QUEUE = Virtio.INT_USED_BUFFER;
    public static final int ISR_CONFIG = Virtio.INT_CONFIG_CHANGE;

    private static final long LOW = 0xFFFF_FFFFL;

    private final VirtioCore core;
    private final GuestErrorLog log;
    private final Registers registers = new Registers();
    /** Offset of the VIRTIO_PCI_CAP_PCI_CFG capability in configuration space. */
    private final int pciCfgCap;

    // Transport state (plain fields, snapshot-ready), guarded by this.
    private int deviceFeatureSelect;
    private int driverFeatureSelect;
    private int queueSelect;

    /** ISR status; guarded by isrLock, which device threads take too. */
    private int isr;
    private final Object isrLock = new Object();

    /** A function carrying {@code device} with the class code QEMU gives that kind of device. */
    public VirtioPci(VirtioDevice device, DmaView dma, GuestErrorLog log) {
        this(device, classCode(device.deviceId()), dma, log);
    }

    /**
     * The class code QEMU's virtio-*-pci devices show (Linux's driver matches on the vendor
     * and ignores it, but lspci and other guests look at it).
     */
    public static int classCode(int deviceId) {
        return switch (deviceId) {
            case Virtio.ID_NET -> 0x020000;      // network controller, Ethernet
            case Virtio.ID_BLOCK -> 0x010000;    // mass storage, SCSI (as QEMU's virtio-blk-pci)
            case Virtio.ID_CONSOLE -> 0x078000;  // communication controller, other
            case Virtio.ID_9P -> 0x000200;       // QEMU's virtio-9p-pci class
            default -> 0x00FF00;                 // unclassified, other (rng, balloon, ...)
        };
    }

    /**
     * A function carrying {@code device}, which reaches guest memory through {@code dma}.
     *
     * @param classCode the 24-bit class code to show (QEMU uses e.g. 0x010000 for block,
     *                  0x020000 for net, 0x078000 for console, 0x00FF00 for the others)
     */
    public VirtioPci(VirtioDevice device, int classCode, DmaView dma, GuestErrorLog log) {
        super("virtio-pci/" + device.name(), VENDOR_VIRTIO, DEVICE_ID_BASE + device.deviceId(), classCode,
                REVISION_MODERN);
        this.log = Objects.requireNonNull(log, "log");
        this.core = new VirtioCore(device, dma, new Interrupts(), log);
        setSubsystem(VENDOR_VIRTIO, SUBSYSTEM_ID);
        setInterruptPin(1);
        declareBar(BAR, PciBar.memory64(BAR_SIZE, true, registers));
        addVirtioCap(CAP_COMMON_CFG, COMMON_BASE, REGION_SIZE, CAP_SIZE, 0);
        addVirtioCap(CAP_ISR_CFG, ISR_BASE, REGION_SIZE, CAP_SIZE, 0);
        if (device.configSize() > 0) {
            addVirtioCap(CAP_DEVICE_CFG, DEVICE_BASE, REGION_SIZE, CAP_SIZE, 0);
        }
        addVirtioCap(CAP_NOTIFY_CFG, NOTIFY_BASE, REGION_SIZE, CAP_EXTENDED_SIZE, NOTIFY_MULTIPLIER);
        // The driver programs bar, offset and length, then moves data through pci_cfg_data.
        byte[] mask = new byte[CAP_EXTENDED_SIZE - 2];
        mask[CAP_BAR - 2] = (byte) 0xFF;
        fill(mask, CAP_OFFSET - 2, 4);
        fill(mask, CAP_LENGTH - 2, 4);
        fill(mask, CAP_PCI_CFG_DATA - 2, 4);
        pciCfgCap = addCapability(CAP_ID_VENDOR, capBody(CAP_PCI_CFG, 0, 0, 0, CAP_EXTENDED_SIZE, 0), mask);
    }

    private void addVirtioCap(int type, int offset, int length, int capLen, int extra) {
        addCapability(CAP_ID_VENDOR, capBody(type, BAR, offset, length, capLen, extra), null);
    }

    /** struct virtio_pci_cap without its first two bytes (which the PCI layer writes). */
    private static byte[] capBody(int type, int bar, int offset, int length, int capLen, int extra) {
        byte[] b = new byte[capLen - 2];
        b[CAP_LEN - 2] = (byte) capLen;
        b[CAP_CFG_TYPE - 2] = (byte) type;
        b[CAP_BAR - 2] = (byte) bar;
        put32(b, CAP_OFFSET - 2, offset);
        put32(b, CAP_LENGTH - 2, length);
        if (capLen > CAP_SIZE) {
            put32(b, CAP_SIZE - 2, extra);
        }
        return b;
    }

    private static void put32(byte[] b, int off, int v) {
        for (int i = 0; i < 4; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }

    private static void fill(byte[] b, int off, int n) {
        for (int i = 0; i < n; i++) {
            b[off + i] = (byte) 0xFF;
        }
    }

    /** The transport-independent state, for tests and the machine's snapshot code. */
    public VirtioCore core() {
        return core;
    }

    /** ISR status as it stands, without the read side effect (for tests). */
    public int isrStatus() {
        synchronized (isrLock) {
            return isr;
        }
    }

    @Override
    protected void deviceReset() {
        core.reset();
        resetTransport();
    }

    private void resetTransport() {
        synchronized (this) {
            deviceFeatureSelect = driverFeatureSelect = queueSelect = 0;
        }
        synchronized (isrLock) {
            isr = 0;
            lowerIrq();
        }
    }

    // ---------------------------------------------------------------- VIRTIO_PCI_CAP_PCI_CFG (4.1.4.9)

    @Override
    protected int configRead(int offset, int size, int value) {
        int data = pciCfgCap + CAP_PCI_CFG_DATA;
        if (offset >= data && offset + size <= data + 4) {
            Window w = window();
            if (w != null && offset == data && size >= w.length) {
                return (int) (Bus.readDevice(registers, w.offset, w.length) & mask(w.length));
            }
            if (w != null) {
                log.guestError(name() + ": pci_cfg_data read of " + size + " bytes at +" + (offset - data)
                        + " does not match the programmed " + w.length + "-byte window");
            }
            return 0;
        }
        return value;
    }

    @Override
    protected void configWritten(int offset, int size, int value) {
        int data = pciCfgCap + CAP_PCI_CFG_DATA;
        if (offset >= data && offset + size <= data + 4) {
            Window w = window();
            if (w != null && offset == data && size >= w.length) {
                Bus.writeDevice(registers, w.offset, w.length, value & mask(w.length));
            } else if (w != null) {
                log.guestError(name() + ": pci_cfg_data write of " + size + " bytes at +" + (offset - data)
                        + " does not match the programmed " + w.length + "-byte window");
            }
        }
    }

    private record Window(long offset, int length) {
    }

    /** The BAR range the driver programmed into the PCI_CFG capability, or null (logged) if unusable. */
    private Window window() {
        int bar = configValue(pciCfgCap + CAP_BAR, 1);
        long off = configValue(pciCfgCap + CAP_OFFSET, 4) & LOW;
        int len = configValue(pciCfgCap + CAP_LENGTH, 4);
        boolean lengthOk = len == 1 || len == 2 || len == 4;
        if (bar != BAR || !lengthOk || off + len > BAR_SIZE || (off & (len - 1)) != 0) {
            log.guestError(String.format("%s: pci_cfg_data access through bar %d, offset 0x%x, length %d, "
                    + "which is not an aligned 1-, 2- or 4-byte access inside BAR %d", name(), bar, off, len, BAR));
            return null;
        }
        return new Window(off, len);
    }

    private static long mask(int size) {
        return size == 4 ? LOW : (1L << (8 * size)) - 1;
    }

    // ---------------------------------------------------------------- the BAR

    /** Serves BAR 4: dispatches to the four structures. */
    private final class Registers implements MmioDevice {
        @Override
        public String name() {
            return VirtioPci.this.name();
        }

        @Override
        public int accessSizes() {
            return SIZE_1 | SIZE_2 | SIZE_4;
        }

        @Override
        public long read(long offset, int size) {
            int region = (int) (offset & ~(REGION_SIZE - 1));
            int off = (int) (offset & (REGION_SIZE - 1));
            return switch (region) {
                case COMMON_BASE -> readCommon(off, size);
                case ISR_BASE -> off == 0 ? readIsr() : unknown("read", offset, size, 0);
                case DEVICE_BASE -> readDeviceConfig(off, size);
                case NOTIFY_BASE -> 0; // notifications are write-only; reads are harmless
                default -> unknown("read", offset, size, 0);
            };
        }

        @Override
        public void write(long offset, int size, long value) {
            int region = (int) (offset & ~(REGION_SIZE - 1));
            int off = (int) (offset & (REGION_SIZE - 1));
            switch (region) {
                case COMMON_BASE -> writeCommon(off, size, (int) value);
                case DEVICE_BASE -> writeDeviceConfig(off, size, value);
                case NOTIFY_BASE -> notifyQueue(off, size);
                case ISR_BASE -> log.guestError(name() + ": write to the read-only ISR status");
                default -> unknown("write", offset, size, value);
            }
        }
    }

    private long readIsr() {
        // Reading the ISR clears it and deasserts INTx (4.1.4.5).
        synchronized (isrLock) {
            int v = isr;
            isr = 0;
            lowerIrq();
            return v;
        }
    }

    private synchronized long readDeviceConfig(int off, int size) {
        if (off + size > core.device().configSize()) {
            return unknown("read", DEVICE_BASE + off, size, 0);
        }
        return core.readConfig(off, size);
    }

    private synchronized void writeDeviceConfig(int off, int size, long value) {
        if (off + size > core.device().configSize()) {
            unknown("write", DEVICE_BASE + off, size, value);
        } else {
            core.writeConfig(off, size, value);
        }
    }

    private void notifyQueue(int off, int size) {
        // The address names the queue: queue_notify_off (= index) times the multiplier (4.1.4.4).
        if (off % NOTIFY_MULTIPLIER != 0 || size < 2) {
            unknown("write", NOTIFY_BASE + off, size, 0);
            return;
        }
        if (!busMasterEnabled()) {
            log.guestError(name() + ": queue notification with Bus Master Enable clear; ignored");
            return;
        }
        synchronized (this) {
            core.notifyQueue(off / NOTIFY_MULTIPLIER);
        }
    }

    /** Width of each common configuration field; 0 for offsets that start no field. */
    private static int fieldWidth(int off) {
        return switch (off) {
            case DEVICE_FEATURE_SELECT, DEVICE_FEATURE, DRIVER_FEATURE_SELECT, DRIVER_FEATURE -> 4;
            case CONFIG_MSIX_VECTOR, NUM_QUEUES, QUEUE_SELECT, QUEUE_SIZE, QUEUE_MSIX_VECTOR, QUEUE_ENABLE,
                 QUEUE_NOTIFY_OFF, QUEUE_NOTIFY_DATA, QUEUE_RESET -> 2;
            case DEVICE_STATUS, CONFIG_GENERATION -> 1;
            case QUEUE_DESC, QUEUE_DESC + 4, QUEUE_DRIVER, QUEUE_DRIVER + 4, QUEUE_DEVICE, QUEUE_DEVICE + 4 -> 4;
            default -> 0;
        };
    }

    private synchronized long readCommon(int off, int size) {
        if (fieldWidth(off) != size) {
            return badCommon("read", off, size, 0);
        }
        Virtqueue q = selectedQueue();
        return switch (off) {
            case DEVICE_FEATURE_SELECT -> deviceFeatureSelect & LOW;
            case DEVICE_FEATURE -> Integer.compareUnsigned(deviceFeatureSelect, 1) > 0 ? 0
                    : (core.deviceFeatures() >>> (32 * deviceFeatureSelect)) & LOW;
            case DRIVER_FEATURE_SELECT -> driverFeatureSelect & LOW;
            case DRIVER_FEATURE -> Integer.compareUnsigned(driverFeatureSelect, 1) > 0 ? 0
                    : (core.driverFeatures() >>> (32 * driverFeatureSelect)) & LOW;
            case CONFIG_MSIX_VECTOR, QUEUE_MSIX_VECTOR -> NO_VECTOR;
            case NUM_QUEUES -> core.queueCount();
            case DEVICE_STATUS -> core.status();
            case CONFIG_GENERATION -> core.configGeneration() & 0xFF;
            case QUEUE_SELECT -> queueSelect;
            // Until the driver writes a size, queue_size reads the maximum; 0 means no such queue.
            case QUEUE_SIZE -> q == null ? 0 : q.size() != 0 ? q.size() : q.maxSize();
            case QUEUE_ENABLE -> q != null && q.ready() ? 1 : 0;
            case QUEUE_NOTIFY_OFF -> q == null ? 0 : queueSelect;
            case QUEUE_DESC -> q == null ? 0 : q.descAddr() & LOW;
            case QUEUE_DESC + 4 -> q == null ? 0 : q.descAddr() >>> 32;
            case QUEUE_DRIVER -> q == null ? 0 : q.driverAddr() & LOW;
            case QUEUE_DRIVER + 4 -> q == null ? 0 : q.driverAddr() >>> 32;
            case QUEUE_DEVICE -> q == null ? 0 : q.deviceAddr() & LOW;
            case QUEUE_DEVICE + 4 -> q == null ? 0 : q.deviceAddr() >>> 32;
            case QUEUE_NOTIFY_DATA, QUEUE_RESET -> 0; // features not offered
            default -> badCommon("read", off, size, 0);
        };
    }

    private synchronized void writeCommon(int off, int size, int v) {
        if (fieldWidth(off) != size) {
            badCommon("write", off, size, v);
            return;
        }
        switch (off) {
            case DEVICE_FEATURE_SELECT -> deviceFeatureSelect = v;
            case DRIVER_FEATURE_SELECT -> driverFeatureSelect = v;
            case DRIVER_FEATURE -> core.writeDriverFeatures(driverFeatureSelect, v);
            case CONFIG_MSIX_VECTOR, QUEUE_MSIX_VECTOR -> {
                // No MSI-X capability: the register keeps reading NO_VECTOR, which tells the driver (4.1.5.1.2).
                if ((v & 0xFFFF) != NO_VECTOR) {
                    log.guestError(name() + ": MSI-X vector written, but the function has no MSI-X");
                }
            }
            case DEVICE_STATUS -> {
                core.writeStatus(v & 0xFF);
                if ((v & 0xFF) == 0) {
                    resetTransport();
                }
            }
            case QUEUE_SELECT -> queueSelect = v & 0xFFFF;
            case QUEUE_SIZE -> core.writeQueueSize(queueSelect, v & 0xFFFF);
            case QUEUE_ENABLE -> {
                if ((v & 0xFFFF) == 1) {
                    Virtqueue q = core.queueOrNull(queueSelect, "queue_enable");
                    if (q != null && !q.ready() && q.size() == 0) {
                        q.setSize(q.maxSize()); // the driver kept the size the device offered
                    }
                    core.enableQueue(queueSelect);
                } else {
                    // Without VIRTIO_F_RING_RESET a driver must not write 0 (4.1.4.3.2).
                    log.guestError(String.format("%s: queue_enable written with %d; only 1 is allowed", name(),
                            v & 0xFFFF));
                }
            }
            case QUEUE_DESC -> core.writeQueueAddress(queueSelect, RingArea.DESCRIPTORS, false, v);
            case QUEUE_DESC + 4 -> core.writeQueueAddress(queueSelect, RingArea.DESCRIPTORS, true, v);
            case QUEUE_DRIVER -> core.writeQueueAddress(queueSelect, RingArea.DRIVER, false, v);
            case QUEUE_DRIVER + 4 -> core.writeQueueAddress(queueSelect, RingArea.DRIVER, true, v);
            case QUEUE_DEVICE -> core.writeQueueAddress(queueSelect, RingArea.DEVICE, false, v);
            case QUEUE_DEVICE + 4 -> core.writeQueueAddress(queueSelect, RingArea.DEVICE, true, v);
            case DEVICE_FEATURE, NUM_QUEUES, CONFIG_GENERATION, QUEUE_NOTIFY_OFF, QUEUE_NOTIFY_DATA, QUEUE_RESET ->
                    log.guestError(String.format("%s: write of 0x%x to read-only common configuration field 0x%x",
                            name(), v, off));
            default -> badCommon("write", off, size, v);
        }
    }

    private Virtqueue selectedQueue() {
        return queueSelect < core.queueCount() ? core.queue(queueSelect) : null;
    }

    private long badCommon(String op, int off, int size, long value) {
        int w = fieldWidth(off);
        if (w == 0) {
            return unknown(op, COMMON_BASE + off, size, value);
        }
        log.guestError(String.format("%s: %d-byte %s of the %d-byte common configuration field at 0x%x", name(),
                size, op, w, off));
        return 0;
    }

    private long unknown(String op, long offset, int size, long value) {
        log.guestError(String.format("%s: %d-byte %s%s at unknown BAR %d offset 0x%x", name(), size, op,
                op.equals("write") ? String.format(" of 0x%x", value) : "", BAR, offset));
        return 0;
    }

    /** Raises ISR bits and INTA# for the core and the device, from any thread. */
    private final class Interrupts implements VirtioInterrupts {
        @Override
        public void queueInterrupt(int queue) {
            raise(ISR_QUEUE);
        }

        @Override
        public void configInterrupt() {
            raise(ISR_CONFIG);
        }

        private void raise(int bits) {
            synchronized (isrLock) {
                isr |= bits;
                raiseIrq();
            }
        }
    }
}
