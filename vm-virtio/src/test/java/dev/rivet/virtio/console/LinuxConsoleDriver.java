package dev.rivet.virtio.console;

import dev.rivet.core.bus.Bus;
import dev.rivet.virtio.GuestDriver;
import dev.rivet.virtio.GuestDriver.Buf;
import dev.rivet.virtio.GuestDriver.DriverQueue;
import dev.rivet.virtio.GuestDriver.Used;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.rivet.virtio.Virtio.bit;
import static dev.rivet.virtio.console.VirtioConsole.*;
import static dev.rivet.virtio.mmio.VirtioMmio.CONFIG;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Plays Linux's drivers/char/virtio_console.c over {@link GuestDriver}: virtcons_probe
 * (features, max_nr_ports, every queue set up, DRIVER_OK), fill_queue, __send_control_msg
 * (one 8-byte readable buffer, then wait for it to come back), control_work_handler (read
 * each used control buffer, put it back), send_buf and the receive side of fill_readbuf.
 * Receive buffers are {@link #BUF} bytes rather than a page, so that input spans several.
 */
final class LinuxConsoleDriver {
    static final int BUF = 64;
    static final int DATA_RING = 32;
    static final int CONTROL_RING = 16;

    final GuestDriver drv;
    boolean multiport;
    int maxPorts;
    long features;
    DriverQueue[] q;
    /** Per queue: head descriptor -> buffer address, for receive and control receive buffers. */
    private final Map<Integer, Map<Integer, Long>> posted = new HashMap<>();
    private final long scratch;

    LinuxConsoleDriver(GuestDriver drv) {
        this.drv = drv;
        this.scratch = drv.alloc(64 * 1024, 16);
    }

    long cfg(int off, int size) {
        return Bus.readDevice(drv.mmio, CONFIG + off, size);
    }

    /** virtcons_probe up to DRIVER_OK: features, max_nr_ports, find_vqs for every queue. */
    void probe(long wanted) {
        features = drv.negotiate(wanted);
        multiport = (features & bit(F_MULTIPORT)) != 0;
        maxPorts = multiport ? (int) cfg(CFG_MAX_NR_PORTS, 4) : 1;
        int n = multiport ? 2 * (maxPorts + 1) : 2;
        q = new DriverQueue[n];
        for (int i = 0; i < n; i++) {
            boolean ctl = multiport && (i == CONTROL_RECEIVEQ || i == CONTROL_TRANSMITQ);
            q[i] = drv.queue(i, ctl ? CONTROL_RING : DATA_RING);
        }
        drv.driverOk();
    }

    /** The rest of probe with multiport: fill the control receiveq, send DEVICE_READY. */
    void deviceReady() {
        fill(CONTROL_RECEIVEQ, CONTROL_RING);
        control(ControlMessage.BAD_ID, ControlMessage.DEVICE_READY, 1);
    }

    static int rxQueue(int port) {
        return port == 0 ? 0 : 2 * (port + 1);
    }

    /** fill_queue: {@code count} writable buffers of {@link #BUF} bytes (or {@code size}). */
    void fill(int queue, int count) {
        fill(queue, count, BUF);
    }

    void fill(int queue, int count, int size) {
        for (int i = 0; i < count; i++) {
            post(queue, drv.alloc(size, 16), size);
        }
        q[queue].kick();
    }

    private void post(int queue, long addr, int size) {
        int head = q[queue].add(Buf.in(addr, size));
        posted.computeIfAbsent(queue, k -> new HashMap<>()).put(head, addr);
    }

    /** __send_control_msg: an 8-byte message, kicked, waited for. */
    void control(long id, int event, int value) {
        ByteBuffer m = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        m.putInt((int) id).putShort((short) event).putShort((short) value);
        controlRaw(m.array());
    }

    /** Any bytes as one control transmit buffer; waits for the device to return it. */
    void controlRaw(byte[] bytes) {
        drv.poke(scratch, bytes);
        DriverQueue c = q[CONTROL_TRANSMITQ];
        int head = c.add(Buf.out(scratch, bytes.length));
        c.kick();
        Used u = c.await();
        assertEquals(head, u.id());
        assertEquals(0, u.len(), "the device writes nothing into a control transmit buffer");
    }

    /** control_work_handler: every used control buffer's bytes (its used length), each put back. */
    List<byte[]> controlMessages() {
        List<byte[]> out = new ArrayList<>();
        for (Used u; (u = q[CONTROL_RECEIVEQ].poll()) != null; ) {
            long addr = posted.get(CONTROL_RECEIVEQ).remove(u.id());
            out.add(drv.peek(addr, u.len()));
            post(CONTROL_RECEIVEQ, addr, BUF);
        }
        if (!out.isEmpty()) {
            q[CONTROL_RECEIVEQ].kick();
        }
        return out;
    }

    /** Control messages until at least {@code n} arrived (the device may run on another thread). */
    List<byte[]> controlMessages(int n) {
        List<byte[]> out = new ArrayList<>();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (out.size() < n) {
            out.addAll(controlMessages());
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + out.size() + " of " + n + " control messages within 10 s");
            }
            Thread.onSpinWait();
        }
        return out;
    }

    /** in_intr + fill_readbuf: everything in used receive buffers of {@code port}; the buffers go back. */
    byte[] read(int port) {
        int rx = rxQueue(port);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean any = false;
        for (Used u; (u = q[rx].poll()) != null; ) {
            long addr = posted.get(rx).remove(u.id());
            out.writeBytes(drv.peek(addr, u.len()));
            post(rx, addr, BUF);
            any = true;
        }
        if (any) {
            q[rx].kick();
        }
        return out.toByteArray();
    }

    /** send_buf: one readable buffer on the port's transmitq, waited for (as hvc's put_chars does). */
    void write(int port, byte[] data) {
        drv.poke(scratch, data);
        DriverQueue t = q[rxQueue(port) + 1];
        int head = t.add(Buf.out(scratch, data.length));
        t.kick();
        Used u = t.await();
        assertEquals(head, u.id());
        assertEquals(0, u.len());
    }

    /** The bytes of a control message as the spec lays it out, built independently of the device. */
    static byte[] message(long id, int event, int value, String name) {
        byte[] n = name == null ? new byte[0] : (name + "\0").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ByteBuffer m = ByteBuffer.allocate(8 + n.length).order(ByteOrder.LITTLE_ENDIAN);
        m.putInt((int) id).putShort((short) event).putShort((short) value).put(n);
        return m.array();
    }
}
