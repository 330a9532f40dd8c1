package dev.rivet.virtio.vsock;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Guest data a host stream has not taken yet, for one connection: a ring that grows by
 * doubling up to {@code max} bytes (the credit the device gave the guest, so a guest that
 * keeps to its credit always fits) and lets its storage go once drained. Not thread-safe.
 */
final class ByteRing {
    private static final int INITIAL = 4096;
    private static final byte[] NONE = new byte[0];

    private final int max;
    private byte[] buf = NONE;
    /** A reusable window onto {@link #buf} for handing slices to the stream. */
    private ByteBuffer window = ByteBuffer.wrap(NONE);
    private int head;
    private int size;

    ByteRing(int max) {
        this.max = max;
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** Room left before the bound. */
    int room() {
        return max - size;
    }

    /** Appends all of {@code src}'s remaining bytes; the caller checked they fit {@link #room()}. */
    void put(ByteBuffer src) {
        int n = src.remaining();
        if (n > room()) {
            throw new IllegalStateException("ring overflow: " + n + " bytes into " + room());
        }
        ensure(size + n);
        int tail = (head + size) % buf.length;
        int first = Math.min(n, buf.length - tail);
        src.get(buf, tail, first);
        src.get(buf, 0, n - first);
        size += n;
    }

    /**
     * Offers the buffered bytes to {@code stream} in order until it takes less than offered;
     * returns how many it took. Storage is released when the ring empties.
     */
    int drainTo(VsockStream stream) throws IOException {
        int total = 0;
        while (size > 0) {
            int n = Math.min(size, buf.length - head);
            window.limit(head + n).position(head);
            int w = stream.write(window);
            if (w <= 0) {
                break;
            }
            head = (head + w) % buf.length;
            size -= w;
            total += w;
            if (w < n) {
                break;
            }
        }
        if (size == 0) {
            release();
        }
        return total;
    }

    /** Forgets the contents and lets the storage go. */
    void release() {
        buf = NONE;
        window = ByteBuffer.wrap(NONE);
        head = 0;
        size = 0;
    }

    private void ensure(int need) {
        if (need <= buf.length) {
            return;
        }
        int cap = Math.max(buf.length, Math.min(INITIAL, max));
        while (cap < need) {
            cap = (int) Math.min((long) cap * 2, max);
        }
        byte[] b = new byte[cap];
        int first = Math.min(size, buf.length - head);
        System.arraycopy(buf, head, b, 0, first);
        System.arraycopy(buf, 0, b, first, size - first);
        buf = b;
        window = ByteBuffer.wrap(b);
        head = 0;
    }
}
