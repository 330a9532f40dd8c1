package dev.rivet.virtio.blk;

import dev.rivet.devices.block.BlockBackend;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * An in-memory {@link BlockBackend} for tests: thread-safe, records each call and the
 * thread that made it, can be made to fail with {@link IOException} or to hold reads at a
 * gate until a test opens it.
 */
final class MemoryDisk implements BlockBackend {
    final byte[] data;
    final boolean readOnly;
    final String serial;
    final List<String> calls = Collections.synchronizedList(new ArrayList<>());
    final List<String> threads = Collections.synchronizedList(new ArrayList<>());
    volatile boolean fail;
    volatile int flushes;
    /** When set, each read counts down {@link #entered} and waits for this to open. */
    volatile CountDownLatch gate;
    final CountDownLatch entered = new CountDownLatch(1);

    MemoryDisk(int bytes, boolean readOnly, String serial) {
        this.data = new byte[bytes];
        this.readOnly = readOnly;
        this.serial = serial;
    }

    @Override
    public long size() {
        return data.length;
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public String serial() {
        return serial;
    }

    private void enter(String call) throws IOException {
        calls.add(call);
        threads.add(Thread.currentThread().getName());
        if (fail) {
            throw new IOException("disk on fire");
        }
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        enter("read " + offset + "+" + dst.remaining());
        CountDownLatch g = gate;
        if (g != null) {
            entered.countDown();
            try {
                if (!g.await(30, TimeUnit.SECONDS)) {
                    throw new IOException("gate never opened");
                }
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
        }
        synchronized (this) {
            dst.put(data, (int) offset, dst.remaining());
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        enter("write " + offset + "+" + src.remaining());
        if (readOnly) {
            throw new AssertionError("the device wrote to a read-only backend");
        }
        synchronized (this) {
            src.get(data, (int) offset, src.remaining());
        }
    }

    @Override
    public void flush() throws IOException {
        enter("flush");
        flushes++;
    }

    @Override
    public void discard(long offset, long length) throws IOException {
        enter("discard " + offset + "+" + length);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException {
        enter("zeroes " + offset + "+" + length + (mayUnmap ? " unmap" : ""));
        synchronized (this) {
            java.util.Arrays.fill(data, (int) offset, (int) (offset + length), (byte) 0);
        }
    }

    @Override
    public void close() {
    }
}
