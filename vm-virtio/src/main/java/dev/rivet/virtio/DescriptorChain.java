package dev.rivet.virtio;

import dev.rivet.core.bus.DmaException;
import dev.rivet.core.bus.DmaView;

import java.util.Arrays;

/**
 * One available buffer as {@link Virtqueue#pop} found it (VirtIO 1.2 sections 2.7.5 and
 * 2.8.13): the identifier to return it by ({@link #head}), then the device-readable buffers
 * followed by the device-writable ones, each a guest address and length already checked to
 * lie in RAM.
 *
 * <p>The driver may split data across descriptors however it likes (VIRTIO_F_VERSION_1
 * implies ANY_LAYOUT, 2.7.4), so devices usually treat the readable buffers as one byte
 * stream and the writable ones as another: {@link #readFrom}, {@link #writeTo}.
 *
 * <p>Reusable: a device keeps one per queue and {@code pop} refills it, so the hot path
 * allocates only when a chain is longer than any seen before.
 */
public final class DescriptorChain {
    private int head = -1;
    private long[] addrs = new long[8];
    private long[] lens = new long[8];
    private int readable;
    private int writable;
    private long readableBytes;
    private long writableBytes;

    void clear(int head) {
        this.head = head;
        readable = writable = 0;
        readableBytes = writableBytes = 0;
    }

    /** A packed ring learns the Buffer ID only from the last descriptor of the list. */
    void setHead(int head) {
        this.head = head;
    }

    void add(long addr, long len, boolean write) {
        int n = readable + writable;
        if (n == addrs.length) {
            addrs = Arrays.copyOf(addrs, n * 2);
            lens = Arrays.copyOf(lens, n * 2);
        }
        addrs[n] = addr;
        lens[n] = len;
        if (write) {
            writable++;
            writableBytes += len;
        } else {
            readable++;
            readableBytes += len;
        }
    }

    /**
     * What to give {@link Virtqueue#push}: the head descriptor index of a split ring's chain
     * (2.7.8), the Buffer ID of a packed ring's buffer (2.8.6).
     */
    public int head() {
        return head;
    }

    public int readableCount() {
        return readable;
    }

    public int writableCount() {
        return writable;
    }

    public long readableAddress(int i) {
        return addrs[checkReadable(i)];
    }

    public long readableLength(int i) {
        return lens[checkReadable(i)];
    }

    public long writableAddress(int i) {
        return addrs[readable + checkWritable(i)];
    }

    public long writableLength(int i) {
        return lens[readable + checkWritable(i)];
    }

    /** Total bytes the device may read. */
    public long readableBytes() {
        return readableBytes;
    }

    /** Total bytes the device may write. */
    public long writableBytes() {
        return writableBytes;
    }

    private int checkReadable(int i) {
        return java.util.Objects.checkIndex(i, readable);
    }

    private int checkWritable(int i) {
        return java.util.Objects.checkIndex(i, writable);
    }

    /**
     * Copies {@code len} bytes starting {@code from} bytes into the readable stream into
     * {@code dst[off..]}; returns how many there were (fewer at the end of the stream).
     */
    public int readFrom(DmaView dma, long from, byte[] dst, int off, int len) throws DmaException {
        return copy(dma, 0, readable, from, dst, off, len, false);
    }

    /**
     * Copies {@code src[off..off+len)} to {@code to} bytes into the writable stream;
     * returns how many fitted.
     */
    public int writeTo(DmaView dma, long to, byte[] src, int off, int len) throws DmaException {
        return copy(dma, readable, readable + writable, to, src, off, len, true);
    }

    private int copy(DmaView dma, int first, int end, long pos, byte[] buf, int off, int len, boolean write)
            throws DmaException {
        int done = 0;
        for (int i = first; i < end && done < len; i++) {
            long l = lens[i];
            if (pos >= l) {
                pos -= l;
                continue;
            }
            int n = (int) Math.min(l - pos, len - done);
            if (write) {
                dma.write(addrs[i] + pos, buf, off + done, n);
            } else {
                dma.read(addrs[i] + pos, buf, off + done, n);
            }
            done += n;
            pos = 0;
        }
        return done;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("chain ").append(head).append(':');
        for (int i = 0; i < readable + writable; i++) {
            sb.append(i < readable ? " r" : " w").append(String.format("0x%x+%d", addrs[i], lens[i]));
        }
        return sb.toString();
    }
}
