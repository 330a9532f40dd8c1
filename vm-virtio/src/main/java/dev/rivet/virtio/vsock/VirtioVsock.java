package dev.rivet.virtio.vsock;

import dev.rivet.virtio.ConfigSpace;
import dev.rivet.virtio.Virtio;
import dev.rivet.virtio.VirtioContext;
import dev.rivet.virtio.VirtioDevice;

import java.io.Closeable;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * The socket device, virtio-vsock (VirtIO 1.2 section 5.10): device ID 19, queues rx (0),
 * tx (1) and event (2), configuration {@code le64 guest_cid}. Stream sockets only
 * (VIRTIO_VSOCK_F_STREAM is offered, SEQPACKET is not), between the guest and the host
 * (CID 2); the host end of every connection is a {@link VsockStream} from the
 * {@link VsockBackend} the device was built with, e.g. vm-platform's Unix-socket backend.
 *
 * <p>What the packets mean, the credit accounting and the bounds on host memory are
 * {@link VsockMux}'s (one per activation: DRIVER_OK to reset). A device reset closes every
 * host end and forgets every connection, as the driver, which resets its sockets before it
 * resets the device (Linux's virtio_vsock_vqs_del), expects. {@link #transportReset()}
 * does the same for a running guest and tells it with VIRTIO_VSOCK_EVENT_TRANSPORT_RESET, for
 * when its connections were lost under it (a restored snapshot, a replaced backend).
 *
 * <p>Queues are processed on the executor given at construction, which must run tasks on its
 * own threads (see {@link VsockMux}); the backend's readiness signals come from its threads.
 */
public final class VirtioVsock implements VirtioDevice, Closeable {
    public static final int QUEUE_RX = 0;
    public static final int QUEUE_TX = 1;
    public static final int QUEUE_EVENT = 2;
    public static final int QUEUE_SIZE = 256;
    /** Linux posts 8 event buffers. */
    public static final int EVENT_QUEUE_SIZE = 16;

    /** Feature bit 0: stream sockets (5.10.3); without any bit, streams are implied anyway. */
    public static final int F_STREAM = 0;

    // struct virtio_vsock_config (5.10.4).
    public static final int CFG_GUEST_CID = 0;
    public static final int CONFIG_SIZE = 8;

    /** The well-known CID of the host (5.10.4). */
    public static final long HOST_CID = 2;
    /** Largest guest CID: the upper 32 bits are reserved and 0xffffffff is reserved (5.10.4). */
    public static final long MAX_GUEST_CID = 0xFFFF_FFFEL;

    // Packet fields (5.10.6).
    public static final int HEADER_SIZE = VsockHeader.SIZE;
    public static final int TYPE_STREAM = 1;
    public static final int OP_INVALID = 0;
    public static final int OP_REQUEST = 1;
    public static final int OP_RESPONSE = 2;
    public static final int OP_RST = 3;
    public static final int OP_SHUTDOWN = 4;
    public static final int OP_RW = 5;
    public static final int OP_CREDIT_UPDATE = 6;
    public static final int OP_CREDIT_REQUEST = 7;
    public static final int SHUTDOWN_RCV = 1;
    public static final int SHUTDOWN_SEND = 2;
    /** struct virtio_vsock_event { le32 id; } and its one id (5.10.6.7). */
    public static final int EVENT_SIZE = 4;
    public static final int EVENT_TRANSPORT_RESET = 0;

    private final long guestCid;
    private final VsockBackend backend;
    private final Executor executor;
    private final VsockLimits limits;
    private final ConfigSpace config = new ConfigSpace(CONFIG_SIZE);
    private volatile VsockMux mux;

    public VirtioVsock(long guestCid, VsockBackend backend, Executor executor) {
        this(guestCid, backend, executor, VsockLimits.DEFAULT);
    }

    /**
     * A device for a guest with context ID {@code guestCid} (3 to 0xfffffffe), its host side
     * {@code backend} (started here), processing on {@code executor}.
     */
    public VirtioVsock(long guestCid, VsockBackend backend, Executor executor, VsockLimits limits) {
        checkGuestCid(guestCid);
        this.guestCid = guestCid;
        this.backend = Objects.requireNonNull(backend, "backend");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.limits = Objects.requireNonNull(limits, "limits");
        config.putU64(CFG_GUEST_CID, guestCid);
        backend.start(new Host());
    }

    /** Refuses a CID the guest cannot have (5.10.4: 0, 1, 2 and 0xffffffff are reserved, the upper half is zero). */
    public static void checkGuestCid(long cid) {
        if (cid < 3 || cid > MAX_GUEST_CID) {
            throw new IllegalArgumentException("a vsock guest CID is 3 to " + MAX_GUEST_CID + ": " + cid);
        }
    }

    public long guestCid() {
        return guestCid;
    }

    public VsockLimits limits() {
        return limits;
    }

    /** Live connections (either direction, connecting and closing ones too); 0 while not running. */
    public int connectionCount() {
        VsockMux m = mux;
        return m == null ? 0 : m.connectionCount();
    }

    /**
     * Drops every connection (closing the host ends) and sends the guest
     * VIRTIO_VSOCK_EVENT_TRANSPORT_RESET, so that it resets its own. Any thread; no effect
     * while the device is not running.
     */
    public void transportReset() {
        VsockMux m = mux;
        if (m != null) {
            m.transportReset();
        }
    }

    @Override
    public int deviceId() {
        return Virtio.ID_VSOCK;
    }

    @Override
    public String name() {
        return "virtio-vsock";
    }

    @Override
    public long deviceFeatures() {
        return Virtio.bit(F_STREAM);
    }

    @Override
    public int queueCount() {
        return 3;
    }

    @Override
    public int maxQueueSize(int index) {
        return index == QUEUE_EVENT ? EVENT_QUEUE_SIZE : QUEUE_SIZE;
    }

    @Override
    public int configSize() {
        return CONFIG_SIZE;
    }

    @Override
    public long readConfig(int offset, int size) {
        return config.read(offset, size);
    }

    @Override
    public void activate(VirtioContext ctx) {
        mux = new VsockMux(ctx, executor, guestCid, limits, backend);
    }

    @Override
    public void queueNotify(int index) {
        VsockMux m = mux;
        if (m != null) {
            m.queueNotify(index);
        }
    }

    /** Device reset: every connection's host end is closed and forgotten. */
    @Override
    public void reset() {
        VsockMux m = mux;
        mux = null;
        if (m != null) {
            m.close();
        }
    }

    /** Closes the connections and the backend (host sockets, threads). */
    @Override
    public void close() {
        reset();
        backend.close();
    }

    /** The device as the backend sees it. */
    private final class Host implements VsockHost {
        @Override
        public long guestCid() {
            return guestCid;
        }

        @Override
        public VsockConnection connectToGuest(int guestPort, VsockStream stream) {
            Objects.requireNonNull(stream, "stream");
            VsockMux m = mux;
            if (m == null) {
                try {
                    stream.close(); // nobody to connect to: as if refused
                } catch (RuntimeException e) {
                    // the backend's problem
                }
                return Refused.INSTANCE;
            }
            return m.connectToGuest(guestPort, stream);
        }
    }

    /** The handle of a connection refused on the spot: signals go nowhere. */
    private enum Refused implements VsockConnection {
        INSTANCE;

        @Override
        public void readable() {
        }

        @Override
        public void writable() {
        }

        @Override
        public void abort() {
        }
    }
}
