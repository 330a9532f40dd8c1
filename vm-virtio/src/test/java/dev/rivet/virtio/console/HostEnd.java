package dev.rivet.virtio.console;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A test's end of one port: records the guest's output, the events, and the threads they came on. */
final class HostEnd implements PortHandler {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final List<String> events = new CopyOnWriteArrayList<>();
    final List<String> outputThreads = new CopyOnWriteArrayList<>();
    /** Set to make output() fail, as a buggy host handler would. */
    volatile boolean explode;

    @Override
    public void output(ByteBuffer data) {
        outputThreads.add(Thread.currentThread().getName());
        if (explode) {
            throw new IllegalStateException("host handler bug");
        }
        byte[] b = new byte[data.remaining()];
        data.get(b);
        synchronized (out) {
            out.writeBytes(b);
        }
    }

    @Override
    public void guestConnected(boolean connected) {
        events.add(connected ? "guest open" : "guest closed");
    }

    @Override
    public void inputSpace() {
        events.add("space");
    }

    byte[] bytes() {
        synchronized (out) {
            return out.toByteArray();
        }
    }

    String text() {
        return new String(bytes(), StandardCharsets.UTF_8);
    }

    void clear() {
        synchronized (out) {
            out.reset();
        }
    }
}
