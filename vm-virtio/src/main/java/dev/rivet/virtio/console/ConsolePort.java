package dev.rivet.virtio.console;

import dev.rivet.virtio.DescriptorChain;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One port of a {@link VirtioConsole} as the host sees it: port 0 is the console
 * ({@code hvc0} in a Linux guest), ports 1 and up are named ports ({@code /dev/vportNpM},
 * with {@code /sys/class/virtio-ports/vportNpM/name} holding the name).
 *
 * <p>Host to guest: {@link #send} copies bytes into a bounded input buffer and returns how
 * many it took; it never blocks and may be called from any thread. The device moves them
 * into the guest's receive buffers as the guest posts them, in order, once the driver is
 * running and (with multiport) the guest has the port open. When a send fell short, the
 * handler's {@link PortHandler#inputSpace} says when to try again. Bytes sent before the
 * guest is ready wait in the buffer; the buffer belongs to the host connection, so a
 * device reset keeps it ({@link #discardInput} empties it).
 *
 * <p>Open state: {@link #setHostConnected} tells the guest whether the host end is open
 * (PORT_OPEN; Linux makes reads return end-of-file and writes wait while it is closed);
 * {@link #guestConnected} says whether the guest has the port open.
 */
public final class ConsolePort {
    /** Longest port name in bytes (Linux reads it from one page-sized control buffer). */
    public static final int MAX_NAME_BYTES = 255;
    /** Bytes copied per step between guest memory and the host. */
    static final int CHUNK = 4096;

    private final VirtioConsole owner;
    private final int id;
    private final String name;
    final byte[] nameMessagePayload;
    final PortHandler handler;
    final InputBuffer input;

    // Control state, written under the owner's control lock, read anywhere.
    volatile boolean ready;
    volatile boolean guestConnected;
    volatile boolean hostConnected = true;

    // Receive processing (one thread at a time, under the receive queue's lock).
    final DescriptorChain rxChain = new DescriptorChain();
    final byte[] rxScratch = new byte[CHUNK];

    // Transmit processing (one thread at a time, under the transmit queue's lock) and
    // emergency writes; outputLock keeps handler.output calls one at a time.
    final DescriptorChain txChain = new DescriptorChain();
    final byte[] txScratch = new byte[CHUNK];
    final ByteBuffer txView = ByteBuffer.wrap(txScratch);
    final Object outputLock = new Object();

    ConsolePort(VirtioConsole owner, int id, String name, PortHandler handler, int inputCapacity) {
        this.owner = owner;
        this.id = id;
        this.name = name;
        this.handler = Objects.requireNonNull(handler, "handler");
        this.input = new InputBuffer(inputCapacity);
        if (name == null) {
            nameMessagePayload = null;
        } else {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            if (n.length == 0 || n.length > MAX_NAME_BYTES || name.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("a port name has 1 to " + MAX_NAME_BYTES
                        + " UTF-8 bytes and no NUL: '" + name + "'");
            }
            // NUL-terminated as QEMU sends it; Linux copies up to the NUL or the buffer's end.
            nameMessagePayload = java.util.Arrays.copyOf(n, n.length + 1);
        }
    }

    /** The port number the guest sees (0 for the console). */
    public int id() {
        return id;
    }

    /** The port's name, or null for the console. */
    public String name() {
        return name;
    }

    public boolean isConsole() {
        return id == 0;
    }

    /**
     * Queues {@code src}'s remaining bytes for the guest, as many as fit in the input
     * buffer; advances {@code src}'s position past them and returns how many. Never blocks.
     */
    public int send(ByteBuffer src) {
        int n = input.offer(src);
        if (n > 0) {
            owner.inputArrived(this);
        }
        return n;
    }

    public int send(byte[] b, int off, int len) {
        return send(ByteBuffer.wrap(b, off, len));
    }

    public int send(byte[] b) {
        return send(b, 0, b.length);
    }

    /** Bytes sent and not yet in guest memory. */
    public int inputPending() {
        return input.size();
    }

    public int inputCapacity() {
        return input.capacity();
    }

    /** Forgets bytes sent and not yet delivered. */
    public void discardInput() {
        input.clear();
    }

    /**
     * Opens or closes the host end; the guest hears of it (PORT_OPEN) once the driver has
     * the port set up, at once if it has. Ports start open. Any thread, never blocks.
     */
    public void setHostConnected(boolean connected) {
        owner.hostConnected(this, connected);
    }

    public boolean hostConnected() {
        return hostConnected;
    }

    /**
     * Whether the guest has the port open. Without VIRTIO_CONSOLE_F_MULTIPORT the driver
     * cannot say, and the console counts as open from DRIVER_OK until reset.
     */
    public boolean guestConnected() {
        return guestConnected;
    }

    @Override
    public String toString() {
        return "port " + id + (name == null ? " (console)" : " '" + name + "'");
    }
}
