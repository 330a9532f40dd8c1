package dev.rivet.virtio;

import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestErrorLog;

/**
 * What an activated device sees of its transport (given to
 * {@link VirtioDevice#activate}): the negotiated features, its queues, guest memory and the
 * ways to signal the driver. Safe to use from the device's I/O threads.
 */
public interface VirtioContext {
    /** The features the driver accepted (FEATURES_OK), VIRTIO_F_VERSION_1 included. */
    long features();

    default boolean hasFeature(int bit) {
        return (features() & (1L << bit)) != 0;
    }

    Virtqueue queue(int index);

    DmaView dma();

    GuestErrorLog log();

    /**
     * Call after pushing used elements to queue {@code index}: sends a used buffer
     * notification unless the driver suppressed it (2.7.10, VIRTIO_F_EVENT_IDX).
     */
    void usedBuffers(int index);

    /** The device changed its configuration space: bumps the generation and notifies. */
    void configChanged();

    /**
     * The driver did something the device cannot recover from: logs a guest error, sets
     * DEVICE_NEEDS_RESET with a configuration change notification (2.1.2) and stops every
     * queue until the driver resets the device. Never throws, never blocks.
     */
    void deviceError(String message);
}
