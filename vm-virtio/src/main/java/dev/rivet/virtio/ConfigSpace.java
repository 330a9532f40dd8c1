package dev.rivet.virtio;

/**
 * A device's configuration space (VirtIO 1.2 section 2.5) as little-endian bytes: devices
 * fill it with the struct layout their spec section gives and serve reads from it.
 * Not thread-safe by itself: devices write it on the hart thread (or, for a change made
 * elsewhere, under their own lock) and then call {@link VirtioContext#configChanged()}.
 */
public final class ConfigSpace {
    private final byte[] bytes;

    public ConfigSpace(int size) {
        bytes = new byte[size];
    }

    public int size() {
        return bytes.length;
    }

    public ConfigSpace putU8(int off, int v) {
        bytes[off] = (byte) v;
        return this;
    }

    public ConfigSpace putU16(int off, int v) {
        return put(off, 2, v);
    }

    public ConfigSpace putU32(int off, long v) {
        return put(off, 4, v);
    }

    public ConfigSpace putU64(int off, long v) {
        return put(off, 8, v);
    }

    private ConfigSpace put(int off, int n, long v) {
        for (int i = 0; i < n; i++) {
            bytes[off + i] = (byte) (v >>> (8 * i));
        }
        return this;
    }

    /** {@code size} bytes at {@code off}, little-endian, zero-extended; the caller checked the range. */
    public long read(int off, int size) {
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = v << 8 | (bytes[off + i] & 0xFF);
        }
        return v;
    }
}
