package dev.rivet.devices.net;

import java.nio.ByteBuffer;

/**
 * The guest side of an Ethernet link, as a {@link NetBackend} sees it: the card's receive
 * path. Thread-safe; may be called from any backend thread.
 */
public interface NetPort {
    /**
     * Offers a frame ({@code frame}'s remaining bytes, at most {@link NetBackend#MAX_FRAME})
     * to the guest. Returns true when the frame was copied into guest receive buffers (or
     * dropped because the card is not running, as a cable with nothing at its end would),
     * false when the guest has no receive buffers right now: the backend then keeps the
     * frame and waits for {@link NetBackend#guestReady}. The buffer is not retained.
     */
    boolean deliver(ByteBuffer frame);

    /** The card's MAC address (6 bytes), so the backend can address the guest. */
    byte[] mac();
}
