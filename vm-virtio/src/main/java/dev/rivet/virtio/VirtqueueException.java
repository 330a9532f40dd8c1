package dev.rivet.virtio;

/**
 * The driver broke the virtqueue protocol (a descriptor loop, an index out of range, a
 * buffer outside RAM...). Not the emulator's fault: the device marks itself
 * DEVICE_NEEDS_RESET (VirtIO 1.2 section 2.1.2) and stops, it does not guess. No stack
 * trace: a hostile guest can cause it at will.
 */
public final class VirtqueueException extends Exception {
    public VirtqueueException(String message) {
        super(message, null, false, false);
    }
}
