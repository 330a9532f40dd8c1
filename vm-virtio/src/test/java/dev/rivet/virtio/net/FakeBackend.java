package dev.rivet.virtio.net;

import dev.rivet.devices.net.NetBackend;
import dev.rivet.devices.net.NetPort;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A host network backend for tests: keeps a copy of every frame the guest transmits (and
 * the thread it came on), counts {@link #guestReady} calls and releases a permit for each,
 * and delivers frames to the guest through the port it was started with.
 */
final class FakeBackend implements NetBackend {
    final List<byte[]> sent = new CopyOnWriteArrayList<>();
    final List<String> sendThreads = new CopyOnWriteArrayList<>();
    final AtomicInteger starts = new AtomicInteger();
    final AtomicInteger ready = new AtomicInteger();
    /** One permit per guestReady: a delivering thread waits on it after a refused frame. */
    final Semaphore readyPermits = new Semaphore(0);
    volatile NetPort port;
    volatile boolean closed;

    @Override
    public void start(NetPort guest) {
        starts.incrementAndGet();
        port = guest;
    }

    @Override
    public void transmit(ByteBuffer frame) {
        byte[] copy = new byte[frame.remaining()];
        frame.get(copy); // the buffer is only valid during the call
        sent.add(copy);
        sendThreads.add(Thread.currentThread().getName());
    }

    @Override
    public void guestReady() {
        ready.incrementAndGet();
        readyPermits.release();
    }

    @Override
    public void close() {
        closed = true;
    }

    /** NetPort.deliver of a copy, with the position somewhere other than 0 to catch absolute/relative mix-ups. */
    boolean deliver(byte[] frame) {
        ByteBuffer b = ByteBuffer.allocate(frame.length + 3);
        b.position(3);
        b.put(frame);
        b.position(3);
        boolean taken = port.deliver(b);
        if (b.position() != 3 || b.remaining() != frame.length) {
            throw new AssertionError("deliver moved the frame buffer's position or limit");
        }
        return taken;
    }
}
