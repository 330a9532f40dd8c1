package dev.rivet.virtio;

/**
 * Numbers from the VirtIO 1.2 specification shared by every transport and device:
 * device status bits (section 2.1), reserved feature bits (section 6) and device IDs
 * (section 5).
 */
public final class Virtio {
    private Virtio() {
    }

    // Device status (2.1).
    public static final int STATUS_ACKNOWLEDGE = 1;
    public static final int STATUS_DRIVER = 2;
    public static final int STATUS_DRIVER_OK = 4;
    public static final int STATUS_FEATURES_OK = 8;
    public static final int STATUS_DEVICE_NEEDS_RESET = 0x40;
    public static final int STATUS_FAILED = 0x80;

    // Reserved feature bits (6).
    public static final int F_INDIRECT_DESC = 28;
    public static final int F_EVENT_IDX = 29;
    public static final int F_VERSION_1 = 32;
    public static final int F_ACCESS_PLATFORM = 33;
    public static final int F_RING_PACKED = 34;

    // Device IDs (5).
    public static final int ID_NONE = 0;
    public static final int ID_NET = 1;
    public static final int ID_BLOCK = 2;
    public static final int ID_CONSOLE = 3;
    public static final int ID_ENTROPY = 4;
    public static final int ID_BALLOON = 5;
    public static final int ID_9P = 9;
    public static final int ID_VSOCK = 19;

    /** Interrupt status bits, the same in MMIO InterruptStatus and PCI ISR (4.1.4.5, 4.2.2). */
    public static final int INT_USED_BUFFER = 1;
    public static final int INT_CONFIG_CHANGE = 2;

    public static long bit(int feature) {
        return 1L << feature;
    }
}
