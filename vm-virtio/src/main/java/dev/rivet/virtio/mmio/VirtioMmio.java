package dev.rivet.virtio.mmio;

import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestErrorLog;
import dev.rivet.core.bus.MmioDevice;
import dev.rivet.core.fdt.FdtNode;
import dev.rivet.core.irq.IrqLine;
import dev.rivet.virtio.Virtio;
import dev.rivet.virtio.VirtioCore;
import dev.rivet.virtio.VirtioCore.RingArea;
import dev.rivet.virtio.VirtioDevice;
import dev.rivet.virtio.VirtioInterrupts;
import dev.rivet.virtio.Virtqueue;

import java.util.Objects;

/**
 * The virtio-mmio transport, version 2 (modern) register layout of VirtIO 1.2 section
 * 4.2.2, as found eight times on QEMU's {@code virt} board (0x1000_1000, stride 0x1000,
 * IRQ 1-8). A slot without a device reads DeviceID 0, which Linux's virtio_mmio driver
 * skips; its other registers read 0 and ignore writes (as in QEMU).
 *
 * <p>Registers are 32 bits wide and must be accessed as such (4.2.2.2); any other size is
 * logged as a guest error, reads 0 and is ignored. The device configuration space at 0x100
 * takes 1-, 2- and 4-byte accesses. The interrupt line is high while InterruptStatus is not 0.
 *
 * <p>Threads: register accesses come from harts and are serialised here; the device's I/O
 * threads only touch InterruptStatus (under its own small lock) and the status through
 * {@link VirtioCore}. Reset waits for queue processing to finish.
 */
public final class VirtioMmio implements MmioDevice {
    /** Size of each slot's window in QEMU virt's device tree. */
    public static final long MMIO_SIZE = 0x1000;

    public static final int MAGIC_VALUE = 0x000;
    public static final int VERSION = 0x004;
    public static final int DEVICE_ID = 0x008;
    public static final int VENDOR_ID = 0x00C;
    public static final int DEVICE_FEATURES = 0x010;
    public static final int DEVICE_FEATURES_SEL = 0x014;
    public static final int DRIVER_FEATURES = 0x020;
    public static final int DRIVER_FEATURES_SEL = 0x024;
    public static final int QUEUE_SEL = 0x030;
    public static final int QUEUE_NUM_MAX = 0x034;
    public static final int QUEUE_NUM = 0x038;
    public static final int QUEUE_READY = 0x044;
    public static final int QUEUE_NOTIFY = 0x050;
    public static final int INTERRUPT_STATUS = 0x060;
    public static final int INTERRUPT_ACK = 0x064;
    public static final int STATUS = 0x070;
    public static final int QUEUE_DESC_LOW = 0x080;
    public static final int QUEUE_DESC_HIGH = 0x084;
    public static final int QUEUE_DRIVER_LOW = 0x090;
    public static final int QUEUE_DRIVER_HIGH = 0x094;
    public static final int QUEUE_DEVICE_LOW = 0x0A0;
    public static final int QUEUE_DEVICE_HIGH = 0x0A4;
    public static final int SHM_SEL = 0x0AC;
    public static final int SHM_LEN_LOW = 0x0B0;
    public static final int SHM_LEN_HIGH = 0x0B4;
    public static final int SHM_BASE_LOW = 0x0B8;
    public static final int SHM_BASE_HIGH = 0x0BC;
    public static final int CONFIG_GENERATION = 0x0FC;
    public static final int CONFIG = 0x100;

    /** "virt" in little-endian ASCII. */
    public static final int MAGIC = 0x7472_6976;
    public static final int VERSION_MODERN = 2;
    /** "QEMU" in little-endian ASCII, the vendor ID QEMU reports; Linux does not check it. */
    public static final int VENDOR_QEMU = 0x554D_4551;

    private static final long LOW = 0xFFFF_FFFFL;

    private final VirtioCore core; // null for an empty slot
    private final IrqLine irq;
    private final GuestErrorLog log;
    private final String name;

    // Transport state (plain fields, snapshot-ready), guarded by this.
    private int deviceFeaturesSel;
    private int driverFeaturesSel;
    private int queueSel;
    private int shmSel;

    /** InterruptStatus; guarded by irqLock, which device threads take too. */
    private int interruptStatus;
    private final Object irqLock = new Object();

    /** A slot carrying {@code device}, which reaches guest memory through {@code dma}. */
    public VirtioMmio(VirtioDevice device, DmaView dma, IrqLine irq, GuestErrorLog log) {
        this.irq = Objects.requireNonNull(irq, "irq");
        this.log = Objects.requireNonNull(log, "log");
        this.core = new VirtioCore(device, dma, new Interrupts(), log);
        this.name = "virtio-mmio/" + device.name();
    }

    private VirtioMmio(IrqLine irq, GuestErrorLog log) {
        this.irq = Objects.requireNonNull(irq, "irq");
        this.log = Objects.requireNonNull(log, "log");
        this.core = null;
        this.name = "virtio-mmio";
    }

    /** A slot with no device behind it: DeviceID 0. */
    public static VirtioMmio emptySlot(IrqLine irq, GuestErrorLog log) {
        return new VirtioMmio(irq, log);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int accessSizes() {
        return SIZE_1 | SIZE_2 | SIZE_4;
    }

    /** The transport-independent state, for tests and the machine's snapshot code. */
    public VirtioCore core() {
        return core;
    }

    @Override
    public synchronized void reset() {
        if (core != null) {
            core.reset();
        }
        resetTransport();
    }

    private void resetTransport() {
        deviceFeaturesSel = driverFeaturesSel = queueSel = shmSel = 0;
        synchronized (irqLock) {
            interruptStatus = 0;
            irq.set(false);
        }
    }

    /** InterruptStatus as the guest would read it. */
    public int interruptStatus() {
        synchronized (irqLock) {
            return interruptStatus;
        }
    }

    @Override
    public synchronized long read(long offset, int size) {
        if (offset >= CONFIG && offset < MMIO_SIZE) {
            return inConfig(offset, size) ? core.readConfig((int) (offset - CONFIG), size)
                    : unknown(offset, size, "read", 0);
        }
        if (size != 4) {
            return wrongSize(offset, size, "read", 0);
        }
        return switch (register(offset)) {
            case MAGIC_VALUE -> MAGIC;
            case VERSION -> VERSION_MODERN;
            case DEVICE_ID -> core == null ? Virtio.ID_NONE : core.device().deviceId();
            case VENDOR_ID -> VENDOR_QEMU;
            case DEVICE_FEATURES -> core == null || Integer.compareUnsigned(deviceFeaturesSel, 1) > 0 ? 0
                    : (core.deviceFeatures() >>> (32 * deviceFeaturesSel)) & LOW;
            case DEVICE_FEATURES_SEL -> deviceFeaturesSel & LOW;
            case DRIVER_FEATURES -> core == null || Integer.compareUnsigned(driverFeaturesSel, 1) > 0 ? 0
                    : (core.driverFeatures() >>> (32 * driverFeaturesSel)) & LOW;
            case DRIVER_FEATURES_SEL -> driverFeaturesSel & LOW;
            case QUEUE_SEL -> queueSel & LOW;
            case QUEUE_NUM_MAX -> queue() == null ? 0 : queue().maxSize();
            case QUEUE_NUM -> queue() == null ? 0 : queue().size();
            case QUEUE_READY -> queue() != null && queue().ready() ? 1 : 0;
            case INTERRUPT_STATUS -> interruptStatus();
            case STATUS -> core == null ? 0 : core.status();
            case QUEUE_DESC_LOW -> queue() == null ? 0 : queue().descAddr() & LOW;
            case QUEUE_DESC_HIGH -> queue() == null ? 0 : queue().descAddr() >>> 32;
            case QUEUE_DRIVER_LOW -> queue() == null ? 0 : queue().driverAddr() & LOW;
            case QUEUE_DRIVER_HIGH -> queue() == null ? 0 : queue().driverAddr() >>> 32;
            case QUEUE_DEVICE_LOW -> queue() == null ? 0 : queue().deviceAddr() & LOW;
            case QUEUE_DEVICE_HIGH -> queue() == null ? 0 : queue().deviceAddr() >>> 32;
            case SHM_SEL -> shmSel & LOW;
            // No shared memory regions: a length of all ones says "no such region" (4.2.2).
            case SHM_LEN_LOW, SHM_LEN_HIGH, SHM_BASE_LOW, SHM_BASE_HIGH -> core == null ? 0 : LOW;
            case CONFIG_GENERATION -> core == null ? 0 : core.configGeneration() & LOW;
            case QUEUE_NOTIFY, INTERRUPT_ACK -> {
                log.guestError(String.format("%s: read of write-only register at offset 0x%x", name, offset));
                yield 0;
            }
            default -> unknown(offset, size, "read", 0);
        };
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        if (offset >= CONFIG && offset < MMIO_SIZE) {
            if (inConfig(offset, size)) {
                core.writeConfig((int) (offset - CONFIG), size, value);
            } else {
                unknown(offset, size, "write", value);
            }
            return;
        }
        if (size != 4) {
            wrongSize(offset, size, "write", value);
            return;
        }
        int reg = register(offset);
        int v = (int) value;
        if (core == null) {
            if (!isRegister(reg)) {
                unknown(offset, size, "write", value);
            }
            return; // an empty slot ignores writes
        }
        switch (reg) {
            case DEVICE_FEATURES_SEL -> deviceFeaturesSel = v;
            case DRIVER_FEATURES -> core.writeDriverFeatures(driverFeaturesSel, v);
            case DRIVER_FEATURES_SEL -> driverFeaturesSel = v;
            case QUEUE_SEL -> queueSel = v;
            case QUEUE_NUM -> core.writeQueueSize(queueSel, v);
            case QUEUE_READY -> {
                if (v == 1) {
                    core.enableQueue(queueSel);
                } else if (v == 0) {
                    core.disableQueue(queueSel);
                } else {
                    log.guestError(String.format("%s: QueueReady written with %d (only 0 and 1 mean anything)",
                            name, v & LOW));
                }
            }
            case QUEUE_NOTIFY -> core.notifyQueue(v); // no VIRTIO_F_NOTIFICATION_DATA: the value is the index
            case INTERRUPT_ACK -> {
                synchronized (irqLock) {
                    interruptStatus &= ~v;
                    irq.set(interruptStatus != 0);
                }
            }
            case STATUS -> {
                core.writeStatus(v);
                if ((v & 0xFF) == 0) {
                    resetTransport();
                }
            }
            case QUEUE_DESC_LOW -> core.writeQueueAddress(queueSel, RingArea.DESCRIPTORS, false, v);
            case QUEUE_DESC_HIGH -> core.writeQueueAddress(queueSel, RingArea.DESCRIPTORS, true, v);
            case QUEUE_DRIVER_LOW -> core.writeQueueAddress(queueSel, RingArea.DRIVER, false, v);
            case QUEUE_DRIVER_HIGH -> core.writeQueueAddress(queueSel, RingArea.DRIVER, true, v);
            case QUEUE_DEVICE_LOW -> core.writeQueueAddress(queueSel, RingArea.DEVICE, false, v);
            case QUEUE_DEVICE_HIGH -> core.writeQueueAddress(queueSel, RingArea.DEVICE, true, v);
            case SHM_SEL -> shmSel = v;
            case MAGIC_VALUE, VERSION, DEVICE_ID, VENDOR_ID, DEVICE_FEATURES, QUEUE_NUM_MAX, INTERRUPT_STATUS,
                 SHM_LEN_LOW, SHM_LEN_HIGH, SHM_BASE_LOW, SHM_BASE_HIGH, CONFIG_GENERATION ->
                    log.guestError(String.format("%s: write of 0x%x to read-only register at offset 0x%x",
                            name, value, offset));
            default -> unknown(offset, size, "write", value);
        }
    }

    /** Whether a config access lies inside the device's configuration space. */
    private boolean inConfig(long offset, int size) {
        return core != null && offset - CONFIG + size <= core.device().configSize();
    }

    private Virtqueue queue() {
        return core == null || queueSel < 0 || queueSel >= core.queueCount() ? null : core.queue(queueSel);
    }

    private static int register(long offset) {
        return offset >= 0 && offset < CONFIG && (offset & 3) == 0 ? (int) offset : -1;
    }

    private static boolean isRegister(int reg) {
        return switch (reg) {
            case MAGIC_VALUE, VERSION, DEVICE_ID, VENDOR_ID, DEVICE_FEATURES, DEVICE_FEATURES_SEL, DRIVER_FEATURES,
                 DRIVER_FEATURES_SEL, QUEUE_SEL, QUEUE_NUM_MAX, QUEUE_NUM, QUEUE_READY, QUEUE_NOTIFY,
                 INTERRUPT_STATUS, INTERRUPT_ACK, STATUS, QUEUE_DESC_LOW, QUEUE_DESC_HIGH, QUEUE_DRIVER_LOW,
                 QUEUE_DRIVER_HIGH, QUEUE_DEVICE_LOW, QUEUE_DEVICE_HIGH, SHM_SEL, SHM_LEN_LOW, SHM_LEN_HIGH,
                 SHM_BASE_LOW, SHM_BASE_HIGH, CONFIG_GENERATION -> true;
            default -> false;
        };
    }

    private long unknown(long offset, int size, String op, long value) {
        log.guestError(String.format("%s: %d-byte %s%s at unknown offset 0x%x", name, size, op,
                op.equals("write") ? String.format(" of 0x%x", value) : "", offset));
        return 0;
    }

    private long wrongSize(long offset, int size, String op, long value) {
        log.guestError(String.format("%s: %d-byte %s at offset 0x%x; registers take 4-byte accesses only", name,
                size, op, offset));
        return 0;
    }

    /** Raises InterruptStatus bits for the core and the device, from any thread. */
    private final class Interrupts implements VirtioInterrupts {
        @Override
        public void queueInterrupt(int queue) {
            raise(Virtio.INT_USED_BUFFER);
        }

        @Override
        public void configInterrupt() {
            raise(Virtio.INT_CONFIG_CHANGE);
        }

        private void raise(int bits) {
            synchronized (irqLock) {
                interruptStatus |= bits;
                irq.set(true);
            }
        }
    }

    /**
     * Adds {@code virtio_mmio@<base>} under {@code soc} with QEMU virt's properties:
     * {@code interrupts}, {@code interrupt-parent}, {@code reg}, {@code compatible = "virtio,mmio"}.
     */
    public FdtNode addTo(FdtNode soc, long base, long size, int irqNumber, int plicPhandle) {
        return soc.child("virtio_mmio@" + Long.toHexString(base))
                .cells("interrupts", irqNumber)
                .cells("interrupt-parent", plicPhandle)
                .reg(base, size)
                .prop("compatible", "virtio,mmio");
    }
}
