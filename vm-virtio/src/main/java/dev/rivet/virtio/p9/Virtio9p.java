package dev.rivet.virtio.p9;

import dev.rivet.core.bus.DmaException;
import dev.rivet.virtio.ConfigSpace;
import dev.rivet.virtio.DescriptorChain;
import dev.rivet.virtio.QueueWorker;
import dev.rivet.virtio.Virtio;
import dev.rivet.virtio.VirtioContext;
import dev.rivet.virtio.VirtioDevice;
import dev.rivet.virtio.Virtqueue;
import dev.rivet.virtio.VirtqueueException;

import java.io.Closeable;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * The 9P transport, virtio-9p (device ID 9 in VirtIO 1.2's table of device types, 5; its
 * behaviour is what Linux's net/9p/trans_virtio.c drives): one request queue; each chain carries one
 * T-message in its device-readable buffers and room for the R-message in its
 * device-writable ones. The configuration space is the mount tag, {@code u16 tag_len}
 * then the tag's bytes, offered with feature bit 0 (VIRTIO_9P_MOUNT_TAG); the guest
 * mounts with {@code mount -t 9p -o trans=virtio TAG /mnt}.
 *
 * <p>The file system work is {@link P9Server}'s; this class only moves messages. Requests
 * are served on the I/O executor (host file operations can block), one at a time per
 * queue. A request larger than the negotiated maximum, or a chain with no room for an
 * answer, is answered with what fits or, when nothing fits, used with length 0 — the
 * driver then fails that one request, and the device stays usable.
 */
public final class Virtio9p implements VirtioDevice, Closeable {
    public static final int QUEUE_SIZE = 128;
    /** Feature bit 0: the configuration space holds a mount tag. */
    public static final int F_MOUNT_TAG = 0;
    /** Longest tag accepted (Linux copies it into a string of this bound). */
    public static final int MAX_TAG = 255;

    private final P9Server server;
    private final Executor executor;
    private final ConfigSpace config;
    private final DescriptorChain chain = new DescriptorChain();
    /** Message buffers, grown to the largest request seen (bounded by {@link #maxMessage}). */
    private ByteBuffer in = ByteBuffer.allocate(8192), out = ByteBuffer.allocate(8192);
    /** The server's msize limit: no T- or R-message is longer. */
    private final int maxMessage;
    private volatile QueueWorker worker;
    private volatile VirtioContext context;

    /** Serves {@code server}'s share under {@code tag}; requests run on {@code executor}. */
    public Virtio9p(P9Server server, String tag, Executor executor) {
        this.server = Objects.requireNonNull(server, "server");
        this.executor = Objects.requireNonNull(executor, "executor");
        byte[] t = tag.getBytes(StandardCharsets.UTF_8);
        if (t.length == 0 || t.length > MAX_TAG) {
            throw new IllegalArgumentException("a 9p mount tag has 1 to " + MAX_TAG + " bytes: '" + tag + "'");
        }
        this.config = new ConfigSpace(2 + t.length).putU16(0, t.length);
        for (int i = 0; i < t.length; i++) {
            config.putU8(2 + i, t[i]);
        }
        this.maxMessage = server.limits().maxMsize();
    }

    @Override
    public int deviceId() {
        return Virtio.ID_9P;
    }

    @Override
    public String name() {
        return "virtio-9p";
    }

    @Override
    public long deviceFeatures() {
        return 1L << F_MOUNT_TAG;
    }

    @Override
    public int queueCount() {
        return 1;
    }

    @Override
    public int maxQueueSize(int index) {
        return QUEUE_SIZE;
    }

    @Override
    public int configSize() {
        return config.size();
    }

    @Override
    public long readConfig(int offset, int size) {
        return config.read(offset, size);
    }

    @Override
    public void activate(VirtioContext ctx) {
        context = ctx;
        worker = new QueueWorker(executor, ctx, 0, this::serve);
    }

    @Override
    public void queueNotify(int index) {
        QueueWorker w = worker;
        if (w != null) {
            w.kick();
        }
    }

    /** Device reset: the guest's session ends (fids clunked, files closed); a new mount starts afresh. */
    @Override
    public void reset() {
        worker = null;
        context = null;
        server.reset();
    }

    /** Closes the host files still open. */
    @Override
    public void close() {
        server.close();
    }

    private void serve(Virtqueue q) throws VirtqueueException {
        VirtioContext ctx = context;
        boolean any = false;
        while (q.pop(chain)) {
            int request = (int) Math.min(chain.readableBytes(), maxMessage);
            int room = (int) Math.min(chain.writableBytes(), maxMessage);
            if (in.capacity() < request) {
                in = ByteBuffer.allocate(request);
            }
            if (out.capacity() < room) {
                out = ByteBuffer.allocate(room);
            }
            int written = 0;
            try {
                chain.readFrom(ctx.dma(), 0, in.array(), 0, request);
                in.clear().limit(request);
                out.clear().limit(room);
                written = server.handle(in, out);
                if (written > 0) {
                    chain.writeTo(ctx.dma(), 0, out.array(), 0, written);
                }
            } catch (DmaException e) {
                throw new VirtqueueException("virtio-9p: " + e.getMessage()); // pop checked the buffers
            }
            q.push(chain.head(), written);
            any = true;
        }
        if (any) {
            ctx.usedBuffers(0);
        }
    }
}
