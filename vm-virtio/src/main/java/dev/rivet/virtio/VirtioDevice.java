package dev.rivet.virtio;

/**
 * A VirtIO device's behaviour, independent of the transport that carries it (VirtIO 1.2
 * section 2, "Basic Facilities of a Virtio Device"). The transport owns the registers
 * and the {@link VirtioCore} owns the status state machine, feature negotiation and
 * queue setup; the device supplies its identity, features and configuration space, and
 * processes its queues once the driver sets DRIVER_OK.
 *
 * <p>Threads: every method but the queue processing a device schedules itself is called
 * on a hart thread, serialised by the transport.
 */
public interface VirtioDevice {
    /** Device ID (section 5), e.g. {@link Virtio#ID_BLOCK}. */
    int deviceId();

    /** Short name for logs ("virtio-blk"). */
    String name();

    /**
     * Device-specific feature bits (0-23 and any others the device implements).
     * The core adds VERSION_1, INDIRECT_DESC, EVENT_IDX and RING_PACKED, which it implements itself.
     */
    long deviceFeatures();

    /**
     * A chance to refuse a feature combination the driver wrote before FEATURES_OK
     * (3.1.1 step 5); the core already refused bits not offered and a missing VERSION_1.
     */
    default boolean acceptFeatures(long features) {
        return true;
    }

    int queueCount();

    /** Largest queue size (a power of two, at most 32768) for queue {@code index}. */
    int maxQueueSize(int index);

    /** Size of the device-specific configuration space in bytes. */
    int configSize();

    /** Reads {@code size} (1, 2, 4) bytes little-endian at {@code offset}; the core checked the range. */
    long readConfig(int offset, int size);

    /**
     * Writes configuration space; the core checked the range. Returns false when the field
     * is read-only (the core logs a guest error).
     */
    default boolean writeConfig(int offset, int size, long value) {
        return false;
    }

    /** DRIVER_OK: start serving the queues with the negotiated features. */
    void activate(VirtioContext context);

    /**
     * The driver made buffers available on queue {@code index} (an MMIO or PCI write on a
     * hart thread). Only called while the device is active and the queue is ready.
     */
    void queueNotify(int index);

    /**
     * Back to the power-on state. Called by the core after it has stopped every queue and
     * waited for processing in progress to finish, so no queue is being processed.
     */
    void reset();
}
