package dev.rivet.virtio.console;

import dev.rivet.core.bus.DmaException;
import dev.rivet.core.bus.GuestErrorLog;
import dev.rivet.virtio.ConfigSpace;
import dev.rivet.virtio.DescriptorChain;
import dev.rivet.virtio.QueueWorker;
import dev.rivet.virtio.Virtio;
import dev.rivet.virtio.VirtioContext;
import dev.rivet.virtio.VirtioDevice;
import dev.rivet.virtio.Virtqueue;
import dev.rivet.virtio.VirtqueueException;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.rivet.virtio.console.ControlMessage.*;

/**
 * The console device, virtio-console (VirtIO 1.2 section 5.3): device ID 3, driven as
 * Linux's {@code drivers/char/virtio_console.c} drives it. Port 0 is the console
 * ({@code hvc0}); with VIRTIO_CONSOLE_F_MULTIPORT, named ports 1.. follow
 * ({@code /dev/vportNpM}). Host-side, each port is a {@link ConsolePort} with a
 * {@link PortHandler}.
 *
 * <p>Queues (5.3.2): receiveq0, transmitq0, then with MULTIPORT the control receiveq
 * (device to driver), the control transmitq (driver to device), and a receiveq/transmitq
 * pair per port 1..N-1. Without MULTIPORT only port 0 and its two queues exist.
 *
 * <p>Configuration (5.3.4, laid out as Linux's {@code struct virtio_console_config}):
 * {@code le16 cols; le16 rows; le32 max_nr_ports; le32 emerg_wr}. EMERG_WRITE is always
 * offered: a write to {@code emerg_wr}, allowed at any time even before the driver
 * negotiates (5.3.5), sends its low byte to port 0's output. SIZE is offered only when
 * the console was built with a size; {@link #resize} changes it with a configuration
 * change notification, which Linux reads only without MULTIPORT. (The RESIZE control
 * message is not sent: Linux 6.12 reads its fields as rows, cols and the spec says cols,
 * rows.)
 *
 * <p>Multiport bring-up (5.3.6.2, in the order Linux expects): the driver sends
 * DEVICE_READY; the device answers DEVICE_ADD for each port; the driver sets each port
 * up, posts its receive buffers and answers PORT_READY; the device then sends
 * CONSOLE_PORT for port 0, PORT_NAME (the name, NUL-terminated as QEMU sends it) for a
 * named port, and PORT_OPEN(1) if the host end is open. The driver sends PORT_OPEN when
 * a guest process opens or closes the port (for the console, when it becomes hvc0).
 * Control messages the driver gets wrong (short, unknown port, unknown event, an event
 * only devices send) are logged guest errors and otherwise ignored. Messages for the
 * driver wait in a bounded outbox until it posts control buffers.
 *
 * <p>Data: guest output (transmitq) goes to the port's {@link PortHandler#output};
 * transmit chains are returned with used length 0. Host input waits in the port's bounded
 * buffer ({@link ConsolePort#send} never blocks) and is copied into receive buffers once
 * the driver is running and, with MULTIPORT, the guest has the port open (Linux drops
 * data for a closed port, as QEMU avoids sending it).
 *
 * <p>Threads: every queue is processed on the executor given at construction, one thread
 * at a time per queue ({@link QueueWorker}); so are emergency writes. With a direct
 * executor ({@code Runnable::run}) processing runs on the notifying hart (or on the thread
 * calling {@code send}), which is right only when every handler's {@code output} returns
 * quickly without blocking; a handler that writes to a pipe, socket or terminal wants an
 * I/O executor. {@code output} calls for one port never overlap. State shared with host
 * threads is under one small lock that is never held while calling a handler or kicking a
 * queue. Reset waits for processing in progress (the core stops the queues first), then
 * forgets the driver's session: control state, outbox and guest-open flags. Host input
 * still buffered survives a reset and goes to the next driver.
 */
public final class VirtioConsole implements VirtioDevice {
    // Feature bits (5.3.3).
    public static final int F_SIZE = 0;
    public static final int F_MULTIPORT = 1;
    public static final int F_EMERG_WRITE = 2;

    // struct virtio_console_config (5.3.4).
    public static final int CFG_COLS = 0;
    public static final int CFG_ROWS = 2;
    public static final int CFG_MAX_NR_PORTS = 4;
    public static final int CFG_EMERG_WR = 8;
    public static final int CONFIG_SIZE = 12;

    // Queue indices (5.3.2); port p > 0 uses 2(p+1) and 2(p+1)+1.
    public static final int RECEIVEQ0 = 0;
    public static final int TRANSMITQ0 = 1;
    public static final int CONTROL_RECEIVEQ = 2;
    public static final int CONTROL_TRANSMITQ = 3;

    /** Data queue size (QEMU's): Linux posts one page-sized receive buffer per entry. */
    public static final int DATA_QUEUE_SIZE = 128;
    public static final int CONTROL_QUEUE_SIZE = 32;
    /** Ports per device, the console included. */
    public static final int MAX_PORTS = 64;
    public static final int DEFAULT_INPUT_CAPACITY = 64 * 1024;
    /** Emergency-write bytes waiting for the executor; more are dropped. */
    static final int EMERGENCY_CAPACITY = 4096;

    private final Executor executor;
    private final ConsolePort[] ports;
    private final boolean offerMultiport;
    private final boolean offerSize;
    /** Guarded by itself: the host resizes while a hart reads. */
    private final ConfigSpace config = new ConfigSpace(CONFIG_SIZE);

    /** Guards the outbox, {@link #multiport} and the ports' control flags. */
    private final Object control = new Object();
    private final ArrayDeque<byte[]> outbox = new ArrayDeque<>();
    private final int outboxLimit;
    private volatile boolean multiport;

    // Control queue processing (each queue one thread at a time, under its lock).
    private final DescriptorChain controlRxChain = new DescriptorChain();
    private final DescriptorChain controlTxChain = new DescriptorChain();
    private final byte[] controlIn = new byte[HEADER_SIZE];

    private final InputBuffer emergency = new InputBuffer(EMERGENCY_CAPACITY);
    private final AtomicBoolean emergencyScheduled = new AtomicBoolean();
    private final byte[] emergencyScratch = new byte[EMERGENCY_CAPACITY];
    private final ByteBuffer emergencyView = ByteBuffer.wrap(emergencyScratch);
    private final Runnable emergencyDrain = this::drainEmergency;

    private volatile VirtioContext context;
    private volatile QueueWorker[] workers;
    /** The last driver session's log; reset does not clear it, so late host failures are still told. */
    private volatile GuestErrorLog log = GuestErrorLog.STDERR;

    /** A console alone (no MULTIPORT, no size): the output of {@code hvc0} goes to {@code console}. */
    public VirtioConsole(PortHandler console, Executor executor) {
        this(builder(executor).console(console));
    }

    private VirtioConsole(Builder b) {
        this.executor = Objects.requireNonNull(b.executor, "executor");
        if (b.console == null) {
            throw new IllegalStateException("virtio-console: port 0 (the console) needs a handler");
        }
        int n = 1 + b.names.size();
        ports = new ConsolePort[n];
        ports[0] = new ConsolePort(this, 0, null, b.console, b.inputCapacity);
        for (int i = 1; i < n; i++) {
            ports[i] = new ConsolePort(this, i, b.names.get(i - 1), b.handlers.get(i - 1), b.inputCapacity);
        }
        this.offerMultiport = b.multiport || n > 1;
        this.offerSize = b.sized;
        this.outboxLimit = 4 * n + 16; // a whole bring-up's worth, with room to spare
        config.putU16(CFG_COLS, b.cols).putU16(CFG_ROWS, b.rows).putU32(CFG_MAX_NR_PORTS, n);
    }

    public static Builder builder(Executor executor) {
        return new Builder(executor);
    }

    /** Port {@code id}: 0 is the console, then the named ports in the order they were added. */
    public ConsolePort port(int id) {
        return ports[id];
    }

    public int portCount() {
        return ports.length;
    }

    /** The port called {@code name}, or null. */
    public ConsolePort port(String name) {
        for (ConsolePort p : ports) {
            if (name.equals(p.name())) {
                return p;
            }
        }
        return null;
    }

    /**
     * The console's size changed (a host terminal was resized): updates {@code cols} and
     * {@code rows} and, if the driver accepted VIRTIO_CONSOLE_F_SIZE, notifies it. Any
     * thread. Only for a console built with {@link Builder#size}.
     */
    public void resize(int cols, int rows) {
        if (!offerSize) {
            throw new IllegalStateException("virtio-console: built without a size, so VIRTIO_CONSOLE_F_SIZE is not offered");
        }
        checkSize(cols, rows);
        synchronized (config) {
            config.putU16(CFG_COLS, cols).putU16(CFG_ROWS, rows);
        }
        VirtioContext ctx = context;
        if (ctx != null && ctx.hasFeature(F_SIZE)) {
            ctx.configChanged();
        }
    }

    private static void checkSize(int cols, int rows) {
        if (cols < 0 || cols > 0xFFFF || rows < 0 || rows > 0xFFFF) {
            throw new IllegalArgumentException("console size " + cols + "x" + rows + " out of range (16 bits each)");
        }
    }

    // ---- VirtioDevice ----

    @Override
    public int deviceId() {
        return Virtio.ID_CONSOLE;
    }

    @Override
    public String name() {
        return "virtio-console";
    }

    @Override
    public long deviceFeatures() {
        long f = Virtio.bit(F_EMERG_WRITE);
        if (offerMultiport) {
            f |= Virtio.bit(F_MULTIPORT);
        }
        if (offerSize) {
            f |= Virtio.bit(F_SIZE);
        }
        return f;
    }

    @Override
    public int queueCount() {
        return offerMultiport ? 2 * (ports.length + 1) : 2;
    }

    @Override
    public int maxQueueSize(int index) {
        return index == CONTROL_RECEIVEQ || index == CONTROL_TRANSMITQ ? CONTROL_QUEUE_SIZE : DATA_QUEUE_SIZE;
    }

    @Override
    public int configSize() {
        return CONFIG_SIZE;
    }

    @Override
    public long readConfig(int offset, int size) {
        synchronized (config) {
            return config.read(offset, size); // emerg_wr is write-only and reads 0
        }
    }

    @Override
    public boolean writeConfig(int offset, int size, long value) {
        if (offset != CFG_EMERG_WR) {
            return false;
        }
        emergencyWrite((byte) value);
        return true;
    }

    @Override
    public void activate(VirtioContext ctx) {
        context = ctx;
        log = ctx.log();
        boolean mp = ctx.hasFeature(F_MULTIPORT);
        QueueWorker[] w = new QueueWorker[queueCount()];
        for (int i = 0; i < (mp ? ports.length : 1); i++) {
            ConsolePort p = ports[i];
            int rx = receiveQueue(i);
            w[rx] = new QueueWorker(executor, ctx, rx, q -> receive(p, q));
            w[rx + 1] = new QueueWorker(executor, ctx, rx + 1, q -> transmit(p, q));
        }
        if (mp) {
            w[CONTROL_RECEIVEQ] = new QueueWorker(executor, ctx, CONTROL_RECEIVEQ, this::controlToDriver);
            w[CONTROL_TRANSMITQ] = new QueueWorker(executor, ctx, CONTROL_TRANSMITQ, this::controlFromDriver);
        }
        ConsolePort console = ports[0];
        synchronized (control) {
            multiport = mp;
            if (!mp) {
                console.guestConnected = true; // Linux makes port 0 hvc0 at probe
            }
        }
        workers = w;
        if (!mp) {
            guestConnectedChanged(console, true);
            if (offerSize && ctx.hasFeature(F_SIZE)) {
                // Linux reads cols/rows only on a config change; it holds this one until probe ends.
                ctx.configChanged();
            }
        }
    }

    @Override
    public void queueNotify(int index) {
        QueueWorker[] w = workers;
        QueueWorker k = w == null ? null : w[index];
        if (k != null) {
            k.kick();
        } else {
            guestError("notification for queue %d, which is not in use without VIRTIO_CONSOLE_F_MULTIPORT", index);
        }
    }

    @Override
    public void reset() {
        workers = null;
        context = null;
        List<ConsolePort> closed = new ArrayList<>();
        synchronized (control) {
            multiport = false;
            outbox.clear();
            for (ConsolePort p : ports) {
                p.ready = false;
                if (p.guestConnected) {
                    p.guestConnected = false;
                    closed.add(p);
                }
            }
        }
        for (ConsolePort p : closed) {
            guestConnectedChanged(p, false);
        }
    }

    // ---- host side (any thread) ----

    void inputArrived(ConsolePort p) {
        QueueWorker[] w = workers;
        int rx = receiveQueue(p.id());
        if (w != null && rx < w.length && w[rx] != null) {
            w[rx].kick();
        }
    }

    void hostConnected(ConsolePort p, boolean connected) {
        boolean tell;
        synchronized (control) {
            if (p.hostConnected == connected) {
                return;
            }
            p.hostConnected = connected;
            // Before PORT_READY the state goes out with the port's setup messages.
            tell = multiport && p.ready && post(encode(p.id(), PORT_OPEN, connected ? 1 : 0));
        }
        if (tell) {
            kick(CONTROL_RECEIVEQ);
        }
    }

    // ---- data queues ----

    private static int receiveQueue(int port) {
        return port == 0 ? RECEIVEQ0 : 2 * (port + 1);
    }

    /** Host input into the guest's receive buffers, while there is input and the port may take it. */
    private void receive(ConsolePort p, Virtqueue q) throws VirtqueueException {
        VirtioContext ctx = context;
        DescriptorChain c = p.rxChain;
        boolean used = false;
        boolean took = false;
        while (p.input.size() > 0 && p.guestConnected && q.pop(c)) {
            long room = c.writableBytes();
            if (c.readableCount() > 0) {
                guestError("receive buffer at descriptor %d of port %d has device-readable parts (5.3.6.1)",
                        c.head(), p.id());
            }
            long written = 0;
            try {
                while (written < room) {
                    int n = p.input.peek(p.rxScratch, 0, (int) Math.min(ConsolePort.CHUNK, room - written));
                    if (n == 0) {
                        break;
                    }
                    c.writeTo(ctx.dma(), written, p.rxScratch, 0, n);
                    p.input.skip(n); // only once the bytes are in guest memory
                    written += n;
                }
            } catch (DmaException e) {
                throw new VirtqueueException("virtio-console: " + e.getMessage()); // pop checked the buffers
            }
            q.push(c.head(), written);
            used = true;
            took |= written > 0;
        }
        if (used) {
            ctx.usedBuffers(q.index());
        }
        if (took && p.input.takeStarved()) {
            try {
                p.handler.inputSpace();
            } catch (RuntimeException e) {
                hostFailure(p, "inputSpace", e);
            }
        }
    }

    /** Guest output to the port's handler, a chunk at a time. */
    private void transmit(ConsolePort p, Virtqueue q) throws VirtqueueException {
        VirtioContext ctx = context;
        DescriptorChain c = p.txChain;
        boolean used = false;
        while (q.pop(c)) {
            if (c.writableCount() > 0) {
                guestError("transmit buffer at descriptor %d of port %d has device-writable parts (5.3.6.1)",
                        c.head(), p.id());
            }
            long total = c.readableBytes();
            try {
                for (long at = 0; at < total; ) {
                    int n = (int) Math.min(ConsolePort.CHUNK, total - at);
                    c.readFrom(ctx.dma(), at, p.txScratch, 0, n);
                    synchronized (p.outputLock) {
                        p.txView.clear().limit(n);
                        p.handler.output(p.txView);
                    }
                    at += n;
                }
            } catch (DmaException e) {
                throw new VirtqueueException("virtio-console: " + e.getMessage()); // pop checked the buffers
            }
            q.push(c.head(), 0); // the device wrote nothing into it
            used = true;
        }
        if (used) {
            ctx.usedBuffers(q.index());
        }
    }

    // ---- control queues ----

    /** Outbox messages into the driver's control receive buffers. */
    private void controlToDriver(Virtqueue q) throws VirtqueueException {
        VirtioContext ctx = context;
        DescriptorChain c = controlRxChain;
        boolean used = false;
        for (;;) {
            byte[] m;
            synchronized (control) {
                m = outbox.peekFirst();
            }
            if (m == null || !q.pop(c)) {
                break;
            }
            long room = c.writableBytes();
            int n = 0;
            if (room < HEADER_SIZE) {
                // Returned empty; the message waits for a buffer that can hold it.
                guestError("control receive buffer at descriptor %d holds %d bytes, less than a message header",
                        c.head(), room);
            } else {
                n = (int) Math.min(m.length, room);
                try {
                    c.writeTo(ctx.dma(), 0, m, 0, n);
                } catch (DmaException e) {
                    throw new VirtqueueException("virtio-console: " + e.getMessage());
                }
                synchronized (control) {
                    if (outbox.peekFirst() == m) {
                        outbox.pollFirst();
                    }
                }
            }
            q.push(c.head(), n);
            used = true;
        }
        if (used) {
            ctx.usedBuffers(CONTROL_RECEIVEQ);
        }
    }

    /** Messages from the driver, one per chain (Linux sends exactly the 8-byte header). */
    private void controlFromDriver(Virtqueue q) throws VirtqueueException {
        VirtioContext ctx = context;
        DescriptorChain c = controlTxChain;
        boolean used = false;
        while (q.pop(c)) {
            long len = c.readableBytes();
            if (len < HEADER_SIZE) {
                guestError("control message at descriptor %d has %d bytes, less than its %d-byte header; ignored",
                        c.head(), len, HEADER_SIZE);
            } else {
                try {
                    c.readFrom(ctx.dma(), 0, controlIn, 0, HEADER_SIZE);
                } catch (DmaException e) {
                    throw new VirtqueueException("virtio-console: " + e.getMessage());
                }
                fromDriver(id(controlIn), event(controlIn), value(controlIn));
            }
            q.push(c.head(), 0);
            used = true;
        }
        if (used) {
            ctx.usedBuffers(CONTROL_TRANSMITQ);
        }
    }

    private void fromDriver(long id, int event, int value) {
        switch (event) {
            case DEVICE_READY -> {
                if (value == 0) {
                    guestError("the driver reports it could not set the device up (DEVICE_READY 0)");
                    return;
                }
                synchronized (control) {
                    for (ConsolePort p : ports) {
                        post(encode(p.id(), DEVICE_ADD, 1));
                    }
                }
                kick(CONTROL_RECEIVEQ);
            }
            case PORT_READY -> {
                ConsolePort p = portFromDriver(id, event);
                if (p == null) {
                    return;
                }
                if (value == 0) {
                    guestError("the driver reports it could not set up port %d (PORT_READY 0)", id);
                    return;
                }
                synchronized (control) {
                    p.ready = true;
                    if (p.isConsole()) {
                        post(encode(0, CONSOLE_PORT, 1));
                    }
                    if (p.nameMessagePayload != null) {
                        post(encode(p.id(), PORT_NAME, 1, p.nameMessagePayload));
                    }
                    if (p.hostConnected) {
                        post(encode(p.id(), PORT_OPEN, 1));
                    }
                }
                kick(CONTROL_RECEIVEQ);
            }
            case PORT_OPEN -> {
                ConsolePort p = portFromDriver(id, event);
                if (p == null) {
                    return;
                }
                boolean open = value != 0;
                boolean changed;
                synchronized (control) {
                    changed = p.guestConnected != open;
                    p.guestConnected = open;
                }
                if (changed) {
                    guestConnectedChanged(p, open);
                }
                if (open) {
                    kick(receiveQueue(p.id()));
                }
            }
            case DEVICE_ADD, DEVICE_REMOVE, CONSOLE_PORT, RESIZE, PORT_NAME ->
                    guestError("control message %s (port %d) from the driver, but only devices send it; ignored",
                            eventName(event), id);
            default -> guestError("control message with unknown event %d (port %d); ignored", event, id);
        }
    }

    private ConsolePort portFromDriver(long id, int event) {
        if (id < 0 || id >= ports.length) {
            guestError("control message %s for port %d, which does not exist (%d ports); ignored",
                    eventName(event), id, ports.length);
            return null;
        }
        return ports[(int) id];
    }

    /** Adds a message for the driver; caller holds {@link #control}. False when the outbox is full. */
    private boolean post(byte[] m) {
        if (outbox.size() >= outboxLimit) {
            guestError("the driver leaves control messages unread (%d waiting); %s for port %d dropped",
                    outbox.size(), eventName(event(m)), id(m));
            return false;
        }
        outbox.addLast(m);
        return true;
    }

    private void kick(int queue) {
        QueueWorker[] w = workers;
        if (w != null && w[queue] != null) {
            w[queue].kick();
        }
    }

    // ---- emergency write ----

    private void emergencyWrite(byte b) {
        if (!emergency.offer(b)) {
            log.guestError("virtio-console: emergency write dropped, " + EMERGENCY_CAPACITY
                    + " bytes already wait for the host");
        }
        if (emergencyScheduled.compareAndSet(false, true)) {
            try {
                executor.execute(emergencyDrain);
            } catch (RejectedExecutionException e) {
                emergencyScheduled.set(false);
            }
        }
    }

    /** Emergency bytes to port 0's handler, on the executor. */
    private void drainEmergency() {
        emergencyScheduled.set(false); // bytes written from here on schedule another drain
        ConsolePort p = ports[0];
        synchronized (p.outputLock) {
            int n;
            while ((n = emergency.peek(emergencyScratch, 0, emergencyScratch.length)) > 0) {
                emergency.skip(n);
                emergencyView.clear().limit(n);
                try {
                    p.handler.output(emergencyView);
                } catch (RuntimeException e) {
                    hostFailure(p, "output", e);
                }
            }
        }
    }

    // ---- reporting ----

    private void guestConnectedChanged(ConsolePort p, boolean connected) {
        try {
            p.handler.guestConnected(connected);
        } catch (RuntimeException e) {
            hostFailure(p, "guestConnected", e);
        }
    }

    private void hostFailure(ConsolePort p, String what, RuntimeException e) {
        log.guestError("virtio-console: host handler of " + p + " failed in " + what + ": " + e);
    }

    private void guestError(String fmt, Object... args) {
        log.guestError("virtio-console: " + String.format(fmt, args));
    }

    /** Describes the ports before the device is built. */
    public static final class Builder {
        private final Executor executor;
        private PortHandler console;
        private final List<String> names = new ArrayList<>();
        private final List<PortHandler> handlers = new ArrayList<>();
        private final Set<String> taken = new HashSet<>();
        private int inputCapacity = DEFAULT_INPUT_CAPACITY;
        private boolean multiport;
        private boolean sized;
        private int cols;
        private int rows;

        private Builder(Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
        }

        /** Port 0, the console: {@code handler} gets what the guest writes to {@code hvc0}. */
        public Builder console(PortHandler handler) {
            console = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /** The next named port (ids 1, 2, ...); having one offers VIRTIO_CONSOLE_F_MULTIPORT. */
        public Builder port(String name, PortHandler handler) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(handler, "handler");
            if (!taken.add(name)) {
                throw new IllegalArgumentException("virtio-console: two ports named '" + name + "'");
            }
            if (names.size() + 1 >= MAX_PORTS) {
                throw new IllegalArgumentException("virtio-console: at most " + MAX_PORTS + " ports");
            }
            names.add(name);
            handlers.add(handler);
            return this;
        }

        /** Offers VIRTIO_CONSOLE_F_MULTIPORT even with the console alone (guest-open state becomes visible). */
        public Builder multiport(boolean offer) {
            multiport = offer;
            return this;
        }

        /** Bytes each port buffers from the host before {@link ConsolePort#send} falls short. */
        public Builder inputCapacity(int bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("input capacity must be positive: " + bytes);
            }
            inputCapacity = bytes;
            return this;
        }

        /** The console's initial size; offers VIRTIO_CONSOLE_F_SIZE and enables {@link VirtioConsole#resize}. */
        public Builder size(int cols, int rows) {
            checkSize(cols, rows);
            this.sized = true;
            this.cols = cols;
            this.rows = rows;
            return this;
        }

        public VirtioConsole build() {
            return new VirtioConsole(this);
        }
    }
}
