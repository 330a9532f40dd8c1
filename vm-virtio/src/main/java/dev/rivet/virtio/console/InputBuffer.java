package dev.rivet.virtio.console;

import java.nio.ByteBuffer;

/**
 * A bounded byte ring between one producer that must never block (the host calling
 * {@link ConsolePort#send}) and one consumer (the device's receive processing, which copies
 * bytes into the guest's buffers). The consumer peeks, copies, then {@link #skip skips}, so
 * bytes leave the ring only once they are in guest memory.
 *
 * <p>Thread-safe; every method holds the ring's monitor only for an array copy.
 */
final class InputBuffer {
    private final byte[] ring;
    private int head;
    private int count;
    /** A producer was refused room since the consumer last took bytes. */
    private boolean starved;

    InputBuffer(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("input capacity must be positive: " + capacity);
        }
        ring = new byte[capacity];
    }

    int capacity() {
        return ring.length;
    }

    synchronized int size() {
        return count;
    }

    /** Takes as many of {@code src}'s remaining bytes as fit, advancing its position; returns how many. */
    synchronized int offer(ByteBuffer src) {
        int n = Math.min(src.remaining(), ring.length - count);
        if (n < src.remaining()) {
            starved = true;
        }
        int tail = (head + count) % ring.length;
        int first = Math.min(n, ring.length - tail);
        src.get(ring, tail, first);
        src.get(ring, 0, n - first);
        count += n;
        return n;
    }

    /** Takes one byte if there is room; returns whether it did. */
    synchronized boolean offer(byte b) {
        if (count == ring.length) {
            starved = true;
            return false;
        }
        ring[(head + count) % ring.length] = b;
        count++;
        return true;
    }

    /** Copies up to {@code len} of the oldest bytes into {@code dst[off..]} without removing them. */
    synchronized int peek(byte[] dst, int off, int len) {
        int n = Math.min(len, count);
        int first = Math.min(n, ring.length - head);
        System.arraycopy(ring, head, dst, off, first);
        System.arraycopy(ring, 0, dst, off + first, n - first);
        return n;
    }

    /** Drops the {@code n} oldest bytes (at most {@link #size()}, which only the consumer lowers). */
    synchronized void skip(int n) {
        n = Math.min(n, count);
        head = (head + n) % ring.length;
        count -= n;
    }

    /** Whether a producer was refused room since the last call; clears the flag. */
    synchronized boolean takeStarved() {
        boolean s = starved;
        starved = false;
        return s;
    }

    synchronized void clear() {
        head = count = 0;
    }
}
