package dev.rivet.virtio.console;

import java.nio.ByteBuffer;

/**
 * The host end of one virtio-console port: where the guest's output goes and how the host
 * hears about the guest side. A lambda serves as a handler that only takes output.
 *
 * <p>Threads (see {@link VirtioConsole}): {@link #output} runs on the device's executor, one
 * call at a time per port, in the order the guest wrote. The notifications run on whichever
 * thread saw the change (the executor, or a hart thread for DRIVER_OK and device reset), so
 * they must be quick and must not block; they may call back into {@link ConsolePort}.
 */
@FunctionalInterface
public interface PortHandler {
    /**
     * Bytes the guest wrote, between position and limit. The buffer is the device's and is
     * reused after the call returns: copy what must be kept. May block only if the executor
     * the console was built with is not a hart thread.
     */
    void output(ByteBuffer data);

    /**
     * The guest opened ({@code true}) or closed the port: a process opened or closed
     * {@code /dev/vportNpM}, or, for the console, the driver attached it to {@code hvc0};
     * {@code false} also on device reset.
     */
    default void guestConnected(boolean connected) {
    }

    /** The device took bytes out of the input buffer after a {@link ConsolePort#send} fell short: send more. */
    default void inputSpace() {
    }
}
