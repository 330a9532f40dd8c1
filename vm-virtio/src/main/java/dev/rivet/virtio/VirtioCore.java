package dev.rivet.virtio;

import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestErrorLog;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.rivet.virtio.Virtio.*;

/**
 * What every VirtIO transport shares: the device status state machine (VirtIO 1.2
 * sections 2.1 and 3.1), feature negotiation (2.2), queue enable/disable with the
 * driver's ring addresses, the configuration generation (2.5) and device reset (2.4).
 * A transport decodes its registers into calls on this class and implements
 * {@link VirtioInterrupts}; the device sees this class as its {@link VirtioContext}.
 *
 * <ul>
 * <li>Offered features are the device's plus VERSION_1, INDIRECT_DESC, EVENT_IDX and
 *     RING_PACKED, which the queues implement for every device (each queue takes its ring
 *     format from the features when the driver enables it). FEATURES_OK is refused (reads back clear, 3.1.1 step 6) without
 *     VERSION_1, with a bit not offered, or when the device says no.
 * <li>Writing 0 resets; a driver cannot clear status bits otherwise (2.1.2) nor set
 *     DEVICE_NEEDS_RESET. DRIVER_OK activates the device once, with the negotiated features.
 * <li>A driver error found by the core or the device sets DEVICE_NEEDS_RESET, sends a
 *     configuration change notification when DRIVER_OK is set (2.1.2), and stops every
 *     queue until reset.
 * </ul>
 *
 * <p>Threads: the transport calls the non-context methods on a hart thread, serialised by
 * its own lock. The {@link VirtioContext} methods may also come from the device's I/O
 * threads: the status is atomic and nothing here waits for the transport's lock, so reset
 * (which waits for queue processing to finish) cannot deadlock with a device thread.
 */
public final class VirtioCore implements VirtioContext {
    private static final long CORE_FEATURES = bit(F_VERSION_1) | bit(F_INDIRECT_DESC) | bit(F_EVENT_IDX)
            | bit(F_RING_PACKED);

    private final VirtioDevice device;
    private final DmaView dma;
    private final VirtioInterrupts interrupts;
    private final GuestErrorLog log;
    private final Virtqueue[] queues;
    private final long offered;

    private final AtomicInteger status = new AtomicInteger();
    private final AtomicInteger generation = new AtomicInteger();
    private long driverFeatures;
    private volatile long features;
    private boolean activated;

    public VirtioCore(VirtioDevice device, DmaView dma, VirtioInterrupts interrupts, GuestErrorLog log) {
        this.device = Objects.requireNonNull(device, "device");
        this.dma = Objects.requireNonNull(dma, "dma");
        this.interrupts = Objects.requireNonNull(interrupts, "interrupts");
        this.log = Objects.requireNonNull(log, "log");
        this.queues = new Virtqueue[device.queueCount()];
        for (int i = 0; i < queues.length; i++) {
            queues[i] = new Virtqueue(i, device.maxQueueSize(i), dma);
        }
        this.offered = device.deviceFeatures() | CORE_FEATURES;
    }

    public VirtioDevice device() {
        return device;
    }

    /** Features offered to the driver. */
    public long deviceFeatures() {
        return offered;
    }

    public long driverFeatures() {
        return driverFeatures;
    }

    /**
     * Sets 32 bits of the driver's feature word (word 0 = bits 0-31, 1 = 32-63; others are
     * ignored, as no feature lives there). Refused once FEATURES_OK is set (3.1.1).
     */
    public void writeDriverFeatures(int word, int value) {
        if ((status.get() & STATUS_FEATURES_OK) != 0) {
            guestError("driver features written after FEATURES_OK; ignored");
            return;
        }
        if (word == 0 || word == 1) {
            int shift = 32 * word;
            driverFeatures = (driverFeatures & ~(0xFFFF_FFFFL << shift)) | (value & 0xFFFF_FFFFL) << shift;
        }
    }

    public int status() {
        return status.get();
    }

    public int configGeneration() {
        return generation.get();
    }

    public int queueCount() {
        return queues.length;
    }

    /** The driver writes the device status (2.1). */
    public void writeStatus(int value) {
        value &= 0xFF;
        if (value == 0) {
            reset();
            return;
        }
        int old = status.get();
        int want = value & ~STATUS_DEVICE_NEEDS_RESET;
        int kept = old & ~STATUS_DEVICE_NEEDS_RESET;
        if ((kept & ~want) != 0) {
            guestError(String.format("status 0x%x clears bits of 0x%x; only a write of 0 resets", value, old));
            want |= kept;
        }
        int added = want & ~old;
        if ((added & STATUS_FEATURES_OK) != 0 && !featuresAcceptable()) {
            want &= ~STATUS_FEATURES_OK;
        }
        boolean activate = false;
        if ((added & STATUS_DRIVER_OK) != 0) {
            if ((want & STATUS_FEATURES_OK) == 0) {
                setStatus(want);
                deviceError("DRIVER_OK set without FEATURES_OK");
                return;
            }
            activate = true;
        }
        setStatus(want);
        if (activate && !activated) {
            if ((status.get() & STATUS_DEVICE_NEEDS_RESET) == 0) {
                activate();
            } else {
                // Broken during setup (a bad queue): tell the driver now that it listens (2.1.2).
                interrupts.configInterrupt();
            }
        }
    }

    private void setStatus(int driverBits) {
        status.getAndUpdate(s -> driverBits | (s & STATUS_DEVICE_NEEDS_RESET));
    }

    private boolean featuresAcceptable() {
        long f = driverFeatures;
        if ((f & bit(F_VERSION_1)) == 0) {
            guestError("FEATURES_OK refused: VIRTIO_F_VERSION_1 not accepted (this is a modern-only device)");
            return false;
        }
        if ((f & ~offered) != 0) {
            guestError(String.format("FEATURES_OK refused: features 0x%x were not offered", f & ~offered));
            return false;
        }
        if (!device.acceptFeatures(f)) {
            guestError(String.format("FEATURES_OK refused: the device does not accept features 0x%x", f));
            return false;
        }
        features = f;
        return true;
    }

    private void activate() {
        activated = true;
        for (Virtqueue q : queues) {
            q.applyFeatures(features);
        }
        device.activate(this);
        // Buffers the driver made available before DRIVER_OK are served now.
        for (Virtqueue q : queues) {
            if (q.active()) {
                device.queueNotify(q.index());
            }
        }
    }

    /** Whether the device is running: DRIVER_OK set and not broken. */
    public boolean running() {
        return activated && (status.get() & STATUS_DEVICE_NEEDS_RESET) == 0;
    }

    /** Device reset (2.4): stops the queues, waits for processing in progress, forgets everything. */
    public void reset() {
        for (Virtqueue q : queues) {
            q.stop();
        }
        for (Virtqueue q : queues) {
            q.disable(true);
        }
        device.reset();
        activated = false;
        driverFeatures = 0;
        features = 0;
        status.set(0);
    }

    /** The queue the driver selected, or null (and a guest error) when there is none. */
    public Virtqueue queueOrNull(int index, String what) {
        if (index < 0 || index >= queues.length) {
            guestError(String.format("%s for queue %d, which does not exist", what, index));
            return null;
        }
        return queues[index];
    }

    /** The three ring areas a driver programs for a queue (2.7: descriptor table, driver and device areas). */
    public enum RingArea {
        DESCRIPTORS, DRIVER, DEVICE
    }

    /**
     * A transport register programs 32 bits ({@code high} or low half) of a ring area's
     * address for queue {@code index}. Refused with a guest error while the queue is
     * enabled (MMIO 4.2.3.2, PCI 4.1.4.3.2) or when it does not exist.
     */
    public void writeQueueAddress(int index, RingArea area, boolean high, int value) {
        Virtqueue q = queueForConfig(index, "queue " + area.name().toLowerCase(java.util.Locale.ROOT) + " address");
        if (q == null) {
            return;
        }
        long old = switch (area) {
            case DESCRIPTORS -> q.descAddr();
            case DRIVER -> q.driverAddr();
            case DEVICE -> q.deviceAddr();
        };
        long v = high ? (old & 0xFFFF_FFFFL) | (long) value << 32 : (old & ~0xFFFF_FFFFL) | (value & 0xFFFF_FFFFL);
        switch (area) {
            case DESCRIPTORS -> q.setDescAddr(v);
            case DRIVER -> q.setDriverAddr(v);
            case DEVICE -> q.setDeviceAddr(v);
        }
    }

    /** A transport register sets queue {@code index}'s size; refused like {@link #writeQueueAddress}. */
    public void writeQueueSize(int index, int size) {
        Virtqueue q = queueForConfig(index, "queue size");
        if (q != null) {
            q.setSize(size);
        }
    }

    private Virtqueue queueForConfig(int index, String what) {
        Virtqueue q = queueOrNull(index, what);
        if (q != null && q.ready()) {
            guestError(String.format("%s written while queue %d is enabled; ignored", what, index));
            return null;
        }
        return q;
    }

    /** QueueReady = 1: a bad ring layout makes the device need a reset. */
    public void enableQueue(int index) {
        Virtqueue q = queueOrNull(index, "queue enable");
        if (q == null || q.ready()) {
            return;
        }
        String bad = q.enable(features);
        if (bad != null) {
            deviceError(bad);
        }
    }

    /** QueueReady = 0: waits for processing of the queue to finish. */
    public void disableQueue(int index) {
        Virtqueue q = queueOrNull(index, "queue disable");
        if (q != null) {
            q.disable(false);
        }
    }

    /** The driver notified queue {@code index} (2.7.13.3). Ignored until DRIVER_OK (3.1.1). */
    public void notifyQueue(int index) {
        Virtqueue q = queueOrNull(index, "notification");
        if (q != null && running() && q.active()) {
            device.queueNotify(index);
        }
    }

    public long readConfig(int offset, int size) {
        if (offset < 0 || offset + size > device.configSize()) {
            guestError(String.format("%d-byte config read at 0x%x beyond the %d-byte config space", size, offset,
                    device.configSize()));
            return 0;
        }
        return device.readConfig(offset, size);
    }

    public void writeConfig(int offset, int size, long value) {
        if (offset < 0 || offset + size > device.configSize()) {
            guestError(String.format("%d-byte config write at 0x%x beyond the %d-byte config space", size, offset,
                    device.configSize()));
        } else if (!device.writeConfig(offset, size, value)) {
            guestError(String.format("%d-byte config write of 0x%x at 0x%x: read-only field", size, value, offset));
        }
    }

    private void guestError(String msg) {
        log.guestError(device.name() + ": " + msg);
    }

    // ---- VirtioContext ----

    @Override
    public long features() {
        return features;
    }

    @Override
    public Virtqueue queue(int index) {
        return queues[index];
    }

    @Override
    public DmaView dma() {
        return dma;
    }

    @Override
    public GuestErrorLog log() {
        return log;
    }

    @Override
    public void usedBuffers(int index) {
        try {
            if (queues[index].needsInterrupt()) {
                interrupts.queueInterrupt(index);
            }
        } catch (VirtqueueException e) {
            deviceError(e.getMessage());
        }
    }

    @Override
    public void configChanged() {
        generation.incrementAndGet();
        if ((status.get() & STATUS_DRIVER_OK) != 0) {
            interrupts.configInterrupt();
        }
    }

    @Override
    public void deviceError(String message) {
        guestError(message + "; device needs reset");
        int old = status.getAndUpdate(s -> s | STATUS_DEVICE_NEEDS_RESET);
        if ((old & STATUS_DEVICE_NEEDS_RESET) != 0) {
            return;
        }
        for (Virtqueue q : queues) {
            q.stop();
        }
        if ((old & STATUS_DRIVER_OK) != 0) {
            interrupts.configInterrupt();
        }
    }
}
