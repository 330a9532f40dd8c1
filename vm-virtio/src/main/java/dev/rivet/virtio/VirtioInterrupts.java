package dev.rivet.virtio;

/**
 * How the core and its device raise interrupts: implemented by each transport (MMIO sets
 * InterruptStatus bits and a level line; PCI will use its ISR or MSI-X vectors).
 * Called from any thread (hart or I/O executor); implementations are thread-safe and
 * never block on anything a device thread holds.
 */
public interface VirtioInterrupts {
    /** A used buffer notification for queue {@code queue} (2.3.2). */
    void queueInterrupt(int queue);

    /** A configuration change notification (2.3.1), also sent for DEVICE_NEEDS_RESET (2.1.2). */
    void configInterrupt();
}
