package dev.rivet.core.bus;

/**
 * Where devices report guest programming errors (unknown register offsets, bad DMA
 * addresses): the guest's mistake, not the emulator's, so it is logged, never thrown.
 */
@FunctionalInterface
public interface GuestErrorLog {
    GuestErrorLog STDERR = msg -> System.err.println("rivet: guest error: " + msg);
    GuestErrorLog SILENT = msg -> { };

    void guestError(String message);
}
