package dev.rivet.virtio;

import dev.rivet.core.bus.DmaException;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;

/**
 * A test device: two queues (max sizes 16 and 8); each chain's readable stream is copied
 * into its writable stream (as much as fits) and the chain is returned with the number of
 * bytes copied. It records every chain it pops. Config space: 8 bytes, a read-only le32
 * {@code magic} at 0 and a writable le32 at 4.
 */
public final class EchoDevice implements VirtioDevice {
    public static final int ID = 0x2A;
    public static final int MAGIC = 0xEC40_EC40;

    private final long features;
    private final Executor executor;
    private final ConfigSpace config = new ConfigSpace(8);
    public final List<String> chains = new CopyOnWriteArrayList<>();
    public volatile long activatedWith = -1;
    public volatile int resets;
    /** Per queue: queues may be processed on different threads at once. */
    private final DescriptorChain[] chainOf = {new DescriptorChain(), new DescriptorChain()};
    private final byte[][] bufOf = {new byte[64 * 1024], new byte[64 * 1024]};
    private volatile VirtioContext ctx;
    private volatile QueueWorker[] workers;

    public EchoDevice(long features, Executor executor) {
        this.features = features;
        this.executor = executor;
        config.putU32(0, MAGIC);
    }

    public EchoDevice() {
        this(0, Runnable::run);
    }

    @Override
    public int deviceId() {
        return ID;
    }

    @Override
    public String name() {
        return "echo";
    }

    @Override
    public long deviceFeatures() {
        return features;
    }

    @Override
    public int queueCount() {
        return 2;
    }

    @Override
    public int maxQueueSize(int index) {
        return index == 0 ? 16 : 8;
    }

    @Override
    public int configSize() {
        return 8;
    }

    @Override
    public long readConfig(int offset, int size) {
        return config.read(offset, size);
    }

    @Override
    public boolean writeConfig(int offset, int size, long value) {
        if (offset < 4) {
            return false;
        }
        for (int i = 0; i < size; i++) {
            config.putU8(offset + i, (int) (value >>> (8 * i)));
        }
        return true;
    }

    /** The device changes its config on its own (as a disk resize would). */
    public void changeConfig(int v) {
        config.putU32(4, v);
        ctx.configChanged();
    }

    public VirtioContext context() {
        return ctx;
    }

    @Override
    public void activate(VirtioContext context) {
        ctx = context;
        activatedWith = context.features();
        workers = new QueueWorker[] {new QueueWorker(executor, context, 0, q -> serve(q, 0)),
                new QueueWorker(executor, context, 1, q -> serve(q, 1))};
    }

    @Override
    public void queueNotify(int index) {
        workers[index].kick();
    }

    @Override
    public void reset() {
        resets++;
        config.putU32(4, 0); // the driver-writable field returns to its power-on value
        workers = null;
        ctx = null;
    }

    private void serve(Virtqueue q, int index) throws VirtqueueException {
        VirtioContext c = ctx;
        DescriptorChain chain = chainOf[index];
        byte[] buf = bufOf[index];
        boolean any = false;
        while (q.pop(chain)) {
            chains.add(chain.toString());
            int n = (int) Math.min(Math.min(chain.readableBytes(), chain.writableBytes()), buf.length);
            try {
                chain.readFrom(c.dma(), 0, buf, 0, n);
                chain.writeTo(c.dma(), 0, buf, 0, n);
            } catch (DmaException e) {
                throw new VirtqueueException(e.getMessage());
            }
            q.push(chain.head(), n);
            any = true;
        }
        if (any) {
            c.usedBuffers(index);
        }
    }
}
