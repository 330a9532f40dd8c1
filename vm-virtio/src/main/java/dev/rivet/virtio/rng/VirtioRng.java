package dev.rivet.virtio.rng;

import dev.rivet.core.bus.DmaException;
import dev.rivet.virtio.DescriptorChain;
import dev.rivet.virtio.QueueWorker;
import dev.rivet.virtio.Virtio;
import dev.rivet.virtio.VirtioContext;
import dev.rivet.virtio.VirtioDevice;
import dev.rivet.virtio.Virtqueue;
import dev.rivet.virtio.VirtqueueException;

import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * The entropy device, virtio-rng (VirtIO 1.2 section 5.4): device ID 4, one queue
 * ({@code requestq}), no feature bits, no configuration space. The driver posts
 * device-writable buffers; the device fills them with random bytes from the source it was
 * built with ({@code SecureRandom} in a machine, a seeded generator in tests).
 *
 * <p>At most {@link #MAX_BYTES_PER_REQUEST} bytes go into one chain (5.4.6.2 lets the
 * device use less than the whole buffer, and the used length tells the driver how much),
 * so a guest asking for a gigabyte cannot stall its hart. Device-readable buffers carry
 * nothing the device needs and are skipped.
 *
 * <p>The work is quick and never blocks, so requests are served on the notifying hart
 * thread (a direct executor). Random bytes are drawn from the source 4 KiB at a time and
 * handed out without reuse, so small requests do not each cost a 4 KiB draw.
 */
public final class VirtioRng implements VirtioDevice {
    public static final int QUEUE_SIZE = 64;
    public static final int MAX_BYTES_PER_REQUEST = 64 * 1024;

    private final RandomGenerator entropy;
    /** Random bytes drawn from the source in blocks; each byte goes to the guest once. */
    private final byte[] scratch = new byte[4096];
    /** Unused bytes at the end of {@link #scratch}. */
    private int left;
    private final DescriptorChain chain = new DescriptorChain();
    private QueueWorker worker;
    private VirtioContext context;

    public VirtioRng(RandomGenerator entropy) {
        this.entropy = Objects.requireNonNull(entropy, "entropy");
    }

    @Override
    public int deviceId() {
        return Virtio.ID_ENTROPY;
    }

    @Override
    public String name() {
        return "virtio-rng";
    }

    @Override
    public long deviceFeatures() {
        return 0;
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
        return 0;
    }

    @Override
    public long readConfig(int offset, int size) {
        return 0; // never called: no configuration space
    }

    @Override
    public void activate(VirtioContext ctx) {
        context = ctx;
        worker = new QueueWorker(Runnable::run, ctx, 0, this::serve);
    }

    @Override
    public void queueNotify(int index) {
        worker.kick();
    }

    @Override
    public void reset() {
        worker = null;
        context = null;
    }

    private void serve(Virtqueue q) throws VirtqueueException {
        boolean any = false;
        while (q.pop(chain)) {
            long want = Math.min(chain.writableBytes(), MAX_BYTES_PER_REQUEST);
            long done = 0;
            try {
                while (done < want) {
                    if (left == 0) {
                        entropy.nextBytes(scratch);
                        left = scratch.length;
                    }
                    int n = (int) Math.min(left, want - done);
                    chain.writeTo(context.dma(), done, scratch, scratch.length - left, n);
                    left -= n;
                    done += n;
                }
            } catch (DmaException e) {
                throw new VirtqueueException("virtio-rng: " + e.getMessage()); // pop checked the buffers
            }
            q.push(chain.head(), done);
            any = true;
        }
        if (any) {
            context.usedBuffers(0);
        }
    }
}
