package dev.rivet.virtio.net;

import dev.rivet.core.bus.DmaException;
import dev.rivet.devices.net.NetBackend;
import dev.rivet.devices.net.NetPort;
import dev.rivet.virtio.DescriptorChain;
import dev.rivet.virtio.QueueWorker;
import dev.rivet.virtio.Virtio;
import dev.rivet.virtio.VirtioContext;
import dev.rivet.virtio.VirtioDevice;
import dev.rivet.virtio.Virtqueue;
import dev.rivet.virtio.VirtqueueException;

import java.io.Closeable;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The network card, virtio-net (VirtIO 1.2 section 5.1): device ID 1, one receive queue
 * (receiveq1, 0) and one transmit queue (transmitq1, 1), no control queue, an Ethernet
 * link to a host {@link NetBackend}. What Linux's drivers/net/virtio_net.c needs and no more:
 *
 * <ul>
 * <li>VIRTIO_NET_F_MAC: the configuration space starts with the card's MAC address.
 * <li>VIRTIO_NET_F_STATUS: then {@code le16 status}, LINK_UP unless {@link #setLinkUp} took
 *     the cable out. Both fields are read-only (with VERSION_1 Linux never writes the MAC).
 * <li>Every frame either way is preceded by the 12-byte {@code struct virtio_net_hdr}
 *     (5.1.6): {@code u8 flags; u8 gso_type; le16 hdr_len; le16 gso_size; le16 csum_start;
 *     le16 csum_offset; le16 num_buffers} — with VERSION_1 num_buffers is always there.
 * <li>VIRTIO_NET_F_CSUM (5.1.6.2): a transmitted frame with NEEDS_CSUM carries the
 *     pseudo-header sum in its checksum field; the device completes the 16-bit ones'
 *     complement sum from csum_start to the end and stores it at csum_start + csum_offset
 *     before the backend sees the frame (the backend's contract is whole checksums).
 * <li>VIRTIO_NET_F_MRG_RXBUF (5.1.6.4): a received frame may fill several receive chains;
 *     num_buffers in the first header says how many, and all of their used elements are
 *     published with one store of the used index, since the driver collects them as soon
 *     as it has read num_buffers. Without the feature a frame goes into one chain.
 * </ul>
 *
 * <p>Not offered: segmentation offloads (GSO/TSO/UFO either way), VIRTIO_NET_F_GUEST_CSUM
 * (frames from the backend carry complete checksums, but the device cannot vouch that they
 * are right, so it never sets DATA_VALID and the guest checks them itself), MTU,
 * multiqueue and the control queue.
 *
 * <p>Malformed transmit chains (no header, a frame shorter than an Ethernet header or
 * longer than {@link NetBackend#MAX_FRAME}, a checksum request outside the frame, a GSO
 * type) are dropped with a guest error log and returned to the driver; a wire would drop
 * them too, and the card keeps working. A receive chain that cannot even hold the header
 * breaks a MUST of 5.1.6.3.1 and makes the device need a reset. Without MRG_RXBUF, a frame
 * larger than the next receive chain is dropped and the chain stays available (5.1.6.3.1
 * only says the driver SHOULD post 1526-byte buffers; Linux posts 1530).
 *
 * <p>Threads. Transmission runs on the executor given at construction ({@link QueueWorker},
 * queue lock held). Reception runs on whatever backend thread calls {@link NetPort#deliver},
 * under the receive queue's lock, so it excludes a concurrent reset (which waits for that
 * lock) and other backend threads. When the guest has posted too few receive buffers for a
 * frame, none are consumed and deliver returns false; the next receive-queue notification
 * from the guest (made sure of by avail_event under VIRTIO_F_EVENT_IDX) calls
 * {@link NetBackend#guestReady} on the notifying hart thread, and so does a device reset,
 * after which deliver drops frames until the driver is back. Neither path allocates per
 * frame: both copy through buffers sized once for the largest frame.
 *
 * <p>The backend is started ({@link NetBackend#start}) at the end of the constructor, so a
 * backend that cannot start (a host port already taken) fails when the machine is built,
 * not on a hart at DRIVER_OK; until the driver sets DRIVER_OK frames are dropped, as a
 * cable plugged into a card with no driver would. {@link #close} closes the backend.
 */
public final class VirtioNet implements VirtioDevice, Closeable {
    public static final int RX_QUEUE = 0;
    public static final int TX_QUEUE = 1;
    public static final int QUEUE_SIZE = 256;

    // Feature bits (5.1.3).
    public static final int F_CSUM = 0;
    public static final int F_GUEST_CSUM = 1;
    public static final int F_MTU = 3;
    public static final int F_MAC = 5;
    public static final int F_GUEST_TSO4 = 7;
    public static final int F_HOST_TSO4 = 11;
    public static final int F_MRG_RXBUF = 15;
    public static final int F_STATUS = 16;
    public static final int F_CTRL_VQ = 17;
    public static final int F_MQ = 22;

    // struct virtio_net_config (5.1.4): only the fields of the features offered.
    public static final int CFG_MAC = 0;
    public static final int CFG_STATUS = 6;
    public static final int CONFIG_SIZE = 8;
    public static final int S_LINK_UP = 1;

    // struct virtio_net_hdr (5.1.6).
    public static final int HDR_SIZE = 12;
    public static final int HDR_FLAGS = 0;
    public static final int HDR_GSO_TYPE = 1;
    public static final int HDR_CSUM_START = 6;
    public static final int HDR_CSUM_OFFSET = 8;
    public static final int HDR_NUM_BUFFERS = 10;
    public static final int HDR_F_NEEDS_CSUM = 1;
    public static final int GSO_NONE = 0;

    public static final int MAC_BYTES = 6;
    /** Destination, source, EtherType: anything shorter is not an Ethernet frame. */
    public static final int ETH_HEADER = 14;

    /** Transmitted chains returned between used buffer notifications while a batch is long. */
    private static final int NOTIFY_BATCH = 32;

    /** Counters since construction, for tests and statistics. */
    public record Stats(long rxFrames, long rxBytes, long rxDropped, long rxNoBuffers, long txFrames, long txBytes,
            long txDropped) {
    }

    private final NetBackend backend;
    private final Executor executor;
    private final byte[] mac;
    private final Port port = new Port();
    private volatile boolean linkUp = true;

    private volatile VirtioContext context;
    private volatile QueueWorker txWorker;
    /** Negotiated for the current activation. */
    private volatile boolean mergeable, csum;

    // Transmit scratch: used only by the thread processing the transmit queue (its lock held).
    private final DescriptorChain txChain = new DescriptorChain();
    private final byte[] txBuf = new byte[HDR_SIZE + NetBackend.MAX_FRAME];
    private final ByteBuffer txFrame = ByteBuffer.wrap(txBuf);

    // Receive scratch: used only under the receive queue's lock.
    private final DescriptorChain rxFirst = new DescriptorChain();
    private final DescriptorChain rxNext = new DescriptorChain();
    private final byte[] rxBuf = new byte[HDR_SIZE + NetBackend.MAX_FRAME];
    private final int[] rxHeads = new int[QUEUE_SIZE];
    private final int[] rxLens = new int[QUEUE_SIZE];
    /** A deliver returned false; the backend waits for guestReady. Under the receive queue's lock. */
    private boolean backendWaiting;
    /** Whether "receive buffer too small" was logged since activation (it would repeat per frame). */
    private boolean smallBufferLogged;

    private final AtomicLong rxFrames = new AtomicLong(), rxBytes = new AtomicLong(), rxDropped = new AtomicLong(),
            rxNoBuffers = new AtomicLong(), txFrames = new AtomicLong(), txBytes = new AtomicLong(),
            txDropped = new AtomicLong();

    /**
     * A card with address {@code mac} (6 bytes, unicast, not all zero) on {@code backend},
     * which is started here; transmission runs on {@code executor}.
     */
    public VirtioNet(NetBackend backend, byte[] mac, Executor executor) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.mac = checkMac(mac);
        // Last: every field is set before the backend may call the port from its threads.
        backend.start(port);
    }

    private static byte[] checkMac(byte[] mac) {
        Objects.requireNonNull(mac, "mac");
        if (mac.length != MAC_BYTES) {
            throw new IllegalArgumentException("a MAC address has 6 bytes, not " + mac.length);
        }
        if ((mac[0] & 1) != 0) {
            throw new IllegalArgumentException("multicast MAC address " + formatMac(mac) + " for a card");
        }
        boolean zero = true;
        for (byte b : mac) {
            zero &= b == 0;
        }
        if (zero) {
            throw new IllegalArgumentException("all-zero MAC address for a card");
        }
        return mac.clone();
    }

    /** Parses {@code 52:54:00:12:34:56} (hex pairs separated by colons); throws IllegalArgumentException. */
    public static byte[] parseMac(String s) {
        String[] parts = s.split(":", -1);
        if (parts.length != MAC_BYTES) {
            throw new IllegalArgumentException("MAC address '" + s + "' is not six hex pairs separated by ':'");
        }
        byte[] mac = new byte[MAC_BYTES];
        for (int i = 0; i < MAC_BYTES; i++) {
            if (parts[i].length() != 2 || !HexFormat.isHexDigit(parts[i].charAt(0))
                    || !HexFormat.isHexDigit(parts[i].charAt(1))) {
                throw new IllegalArgumentException("MAC address '" + s + "' is not six hex pairs separated by ':'");
            }
            mac[i] = (byte) HexFormat.fromHexDigits(parts[i]);
        }
        return checkMac(mac);
    }

    public static String formatMac(byte[] mac) {
        return HexFormat.ofDelimiter(":").formatHex(mac);
    }

    /** The card's MAC address (a copy). */
    public byte[] mac() {
        return mac.clone();
    }

    public Stats stats() {
        return new Stats(rxFrames.get(), rxBytes.get(), rxDropped.get(), rxNoBuffers.get(), txFrames.get(),
                txBytes.get(), txDropped.get());
    }

    /**
     * Plugs the cable in or out: the status field's LINK_UP, with a configuration change
     * notification (5.1.4) when the driver is running. Frames still flow; Linux stops
     * using a link that is down. Any thread.
     */
    public void setLinkUp(boolean up) {
        if (linkUp == up) {
            return;
        }
        linkUp = up;
        VirtioContext ctx = context;
        if (ctx != null) {
            ctx.configChanged();
        }
    }

    // ---- VirtioDevice ----

    @Override
    public int deviceId() {
        return Virtio.ID_NET;
    }

    @Override
    public String name() {
        return "virtio-net";
    }

    @Override
    public long deviceFeatures() {
        return Virtio.bit(F_CSUM) | Virtio.bit(F_MAC) | Virtio.bit(F_MRG_RXBUF) | Virtio.bit(F_STATUS);
    }

    @Override
    public int queueCount() {
        return 2;
    }

    @Override
    public int maxQueueSize(int index) {
        return QUEUE_SIZE;
    }

    @Override
    public int configSize() {
        return CONFIG_SIZE;
    }

    @Override
    public long readConfig(int offset, int size) {
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = v << 8 | configByte(offset + i);
        }
        return v;
    }

    private int configByte(int off) {
        if (off < CFG_STATUS) {
            return mac[off] & 0xFF;
        }
        return off == CFG_STATUS && linkUp ? S_LINK_UP : 0; // le16: LINK_UP is in the low byte
    }

    @Override
    public void activate(VirtioContext ctx) {
        mergeable = ctx.hasFeature(F_MRG_RXBUF);
        csum = ctx.hasFeature(F_CSUM);
        Virtqueue rx = ctx.queue(RX_QUEUE);
        rx.lock().lock();
        try {
            smallBufferLogged = false;
        } finally {
            rx.lock().unlock();
        }
        txWorker = new QueueWorker(executor, ctx, TX_QUEUE, this::transmit);
        context = ctx; // last: deliver starts using the queue from here on
    }

    @Override
    public void queueNotify(int index) {
        if (index == TX_QUEUE) {
            QueueWorker w = txWorker;
            if (w != null) {
                w.kick();
            }
        } else if (index == RX_QUEUE) {
            // New receive buffers: a backend holding a frame may try again.
            VirtioContext ctx = context;
            if (ctx != null) {
                wakeBackend(ctx.queue(RX_QUEUE));
            }
        }
    }

    /**
     * Called by the core after every queue stopped and no deliver is in progress; a
     * backend still waiting for buffers is released (its frames are now dropped).
     */
    @Override
    public void reset() {
        VirtioContext ctx = context;
        context = null;
        txWorker = null;
        mergeable = csum = false;
        if (ctx != null) {
            wakeBackend(ctx.queue(RX_QUEUE));
        }
    }

    private void wakeBackend(Virtqueue rx) {
        boolean wake;
        rx.lock().lock();
        try {
            wake = backendWaiting;
            backendWaiting = false;
        } finally {
            rx.lock().unlock();
        }
        if (wake) {
            backend.guestReady(); // outside the lock: the backend may deliver from inside
        }
    }

    /** Closes the backend: no more frames either way. */
    @Override
    public void close() {
        backend.close();
    }

    // ---- transmit (executor thread, transmit queue lock held) ----

    private void transmit(Virtqueue q) throws VirtqueueException {
        VirtioContext ctx = context;
        if (ctx == null) {
            return; // reset between the kick and now
        }
        int unsignalled = 0;
        while (q.pop(txChain)) {
            send(ctx, txChain);
            q.push(txChain.head(), 0); // nothing written into a transmit chain
            if (++unsignalled == NOTIFY_BATCH) {
                ctx.usedBuffers(TX_QUEUE);
                unsignalled = 0;
            }
        }
        if (unsignalled > 0) {
            ctx.usedBuffers(TX_QUEUE);
        }
    }

    /** Checks one chain's header and frame, finishes its checksum and hands it to the backend. */
    private void send(VirtioContext ctx, DescriptorChain c) throws VirtqueueException {
        long readable = c.readableBytes();
        if (readable < HDR_SIZE + ETH_HEADER || readable > HDR_SIZE + NetBackend.MAX_FRAME) {
            txDrop(ctx, c, "%d readable bytes: not a %d-byte header and a frame of %d to %d bytes", readable,
                    HDR_SIZE, ETH_HEADER, NetBackend.MAX_FRAME);
            return;
        }
        int n = (int) readable;
        try {
            c.readFrom(ctx.dma(), 0, txBuf, 0, n);
        } catch (DmaException e) {
            throw new VirtqueueException("virtio-net: " + e.getMessage()); // pop checked the buffers
        }
        int gso = txBuf[HDR_GSO_TYPE] & 0xFF;
        if (gso != GSO_NONE) {
            txDrop(ctx, c, "gso_type %d, but no segmentation offload was offered", gso);
            return;
        }
        int frameLen = n - HDR_SIZE;
        if ((txBuf[HDR_FLAGS] & HDR_F_NEEDS_CSUM) != 0) {
            if (!csum) {
                txDrop(ctx, c, "NEEDS_CSUM without VIRTIO_NET_F_CSUM negotiated");
                return;
            }
            int start = u16(txBuf, HDR_CSUM_START);
            int offset = u16(txBuf, HDR_CSUM_OFFSET);
            if (start + offset + 2 > frameLen) {
                txDrop(ctx, c, "checksum at csum_start %d + csum_offset %d is outside the %d-byte frame", start,
                        offset, frameLen);
                return;
            }
            completeChecksum(txBuf, HDR_SIZE + start, n, HDR_SIZE + start + offset);
        }
        txFrame.clear().position(HDR_SIZE).limit(n);
        backend.transmit(txFrame);
        txFrames.incrementAndGet();
        txBytes.addAndGet(frameLen);
    }

    private void txDrop(VirtioContext ctx, DescriptorChain c, String fmt, Object... args) {
        txDropped.incrementAndGet();
        ctx.log().guestError("virtio-net: transmit chain at descriptor " + c.head() + " dropped: "
                + String.format(fmt, args));
    }

    /**
     * Stores at {@code field} (big-endian) the ones' complement of the ones' complement sum
     * of {@code b[from..to)} taken as big-endian 16-bit words, an odd last byte padded with
     * zero (RFC 1071) — the sum including what the field held, the driver's pseudo-header
     * seed. A result of 0 is stored as 0xFFFF, the other zero: UDP reads 0 as "no checksum"
     * (RFC 768), and for TCP and ICMP both forms check alike.
     */
    static void completeChecksum(byte[] b, int from, int to, int field) {
        int sum = 0; // at most 759 words of 0xFFFF: no overflow
        int i = from;
        for (; i + 1 < to; i += 2) {
            sum += (b[i] & 0xFF) << 8 | (b[i + 1] & 0xFF);
        }
        if (i < to) {
            sum += (b[i] & 0xFF) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        int check = ~sum & 0xFFFF;
        if (check == 0) {
            check = 0xFFFF;
        }
        b[field] = (byte) (check >>> 8);
        b[field + 1] = (byte) check;
    }

    // ---- receive (backend threads) ----

    /** The card as the backend sees it. */
    private final class Port implements NetPort {
        @Override
        public boolean deliver(ByteBuffer frame) {
            return receive(frame);
        }

        @Override
        public byte[] mac() {
            return mac.clone();
        }
    }

    private boolean receive(ByteBuffer frame) {
        int len = frame.remaining();
        VirtioContext ctx = context;
        if (ctx == null || len < ETH_HEADER || len > NetBackend.MAX_FRAME) {
            // Not running (no driver, or reset), or a backend breaking its contract.
            rxDropped.incrementAndGet();
            return true;
        }
        Virtqueue q = ctx.queue(RX_QUEUE);
        q.lock().lock();
        try {
            if (!q.active()) {
                rxDropped.incrementAndGet();
                return true;
            }
            frame.get(frame.position(), rxBuf, HDR_SIZE, len); // leaves the caller's position alone
            java.util.Arrays.fill(rxBuf, 0, HDR_SIZE, (byte) 0); // no flags, GSO_NONE
            boolean done = mergeable ? receiveMerged(ctx, q, HDR_SIZE + len) : receiveOne(ctx, q, HDR_SIZE + len);
            if (done) {
                rxFrames.incrementAndGet();
                rxBytes.addAndGet(len);
                ctx.usedBuffers(RX_QUEUE);
                return true;
            }
            if (!q.active()) { // stopped by a device error meanwhile: nobody will post buffers
                rxDropped.incrementAndGet();
                return true;
            }
            if (!backendWaiting) {
                backendWaiting = true;
                rxNoBuffers.incrementAndGet();
            }
            return false;
        } catch (VirtqueueException e) {
            rxDropped.incrementAndGet();
            ctx.deviceError(e.getMessage());
            return true;
        } catch (DmaException e) {
            rxDropped.incrementAndGet();
            ctx.deviceError("virtio-net: " + e.getMessage()); // pop checked the buffers
            return true;
        } catch (RuntimeException e) {
            // A host bug: keep the backend thread alive, stop the device, say why (as QueueWorker does).
            rxDropped.incrementAndGet();
            ctx.deviceError("internal error receiving a frame: " + e);
            return true;
        } finally {
            q.lock().unlock();
        }
    }

    /**
     * Without MRG_RXBUF: header and frame ({@code total} bytes of {@link #rxBuf}) into the
     * next chain. Returns false when there is none; a frame that does not fit is dropped.
     */
    private boolean receiveOne(VirtioContext ctx, Virtqueue q, int total) throws VirtqueueException, DmaException {
        if (!q.pop(rxFirst)) {
            return false;
        }
        long room = checkRoom(rxFirst);
        if (room < total) {
            q.unpop(1); // it may fit the next, smaller frame
            rxDropped.incrementAndGet();
            if (!smallBufferLogged) {
                smallBufferLogged = true;
                ctx.log().guestError(String.format("virtio-net: receive chain at descriptor %d has room for %d "
                        + "bytes, a %d-byte frame does not fit; dropped (further drops are only counted)",
                        rxFirst.head(), room, total - HDR_SIZE));
            }
            return true;
        }
        rxBuf[HDR_NUM_BUFFERS] = 1; // 5.1.6.4: 1 without MRG_RXBUF
        rxFirst.writeTo(ctx.dma(), 0, rxBuf, 0, total);
        q.push(rxFirst.head(), total);
        return true;
    }

    /**
     * With MRG_RXBUF: header and frame across as many chains as it takes, each filled in
     * turn; num_buffers in the first header, and all used elements published at once. When
     * the ring runs out first, every chain taken is put back and false returned.
     */
    private boolean receiveMerged(VirtioContext ctx, Virtqueue q, int total) throws VirtqueueException,
            DmaException {
        int n = 0;
        int done = 0;
        while (done < total) {
            DescriptorChain c = n == 0 ? rxFirst : rxNext;
            if (!q.pop(c)) {
                q.unpop(n);
                return false;
            }
            int k = (int) Math.min(checkRoom(c), total - done);
            if (n > 0) {
                c.writeTo(ctx.dma(), 0, rxBuf, done, k); // the first waits for num_buffers
            }
            rxHeads[n] = c.head();
            rxLens[n] = k;
            n++;
            done += k;
        }
        rxBuf[HDR_NUM_BUFFERS] = (byte) n; // le16; n <= QUEUE_SIZE
        rxBuf[HDR_NUM_BUFFERS + 1] = (byte) (n >>> 8);
        rxFirst.writeTo(ctx.dma(), 0, rxBuf, 0, rxLens[0]);
        for (int i = 0; i < n; i++) {
            q.fill(i, rxHeads[i], rxLens[i]);
        }
        q.flush(n);
        return true;
    }

    /** A receive chain's writable bytes; fewer than a header break 5.1.6.3.1 (the device needs a reset). */
    private static long checkRoom(DescriptorChain c) throws VirtqueueException {
        long room = c.writableBytes();
        if (room < HDR_SIZE) {
            throw new VirtqueueException(String.format("virtio-net: receive chain at descriptor %d has %d writable "
                    + "bytes, less than the %d-byte header", c.head(), room, HDR_SIZE));
        }
        return room;
    }

    private static int u16(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8;
    }
}
