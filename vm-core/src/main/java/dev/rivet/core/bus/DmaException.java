package dev.rivet.core.bus;

/**
 * A device tried to reach guest memory that is not RAM (or a range that wraps the address
 * space). This is the guest's mistake, not the emulator's: the device turns it into an
 * error status or a broken-device state, never lets it reach the hart. Checked, so that
 * every DMA site decides what the guest sees.
 *
 * <p>No stack trace: a hostile guest can cause these at will and the trace would only
 * point at the device's own DMA call.
 */
public final class DmaException extends Exception {
    private final long address;
    private final long length;

    public DmaException(long address, long length) {
        super(String.format("DMA of %d bytes at 0x%x is outside guest RAM", length, address), null, false, false);
        this.address = address;
        this.length = length;
    }

    /** The guest physical address the device was given. */
    public long address() {
        return address;
    }

    public long length() {
        return length;
    }
}
