package dev.rivet.virtio;

import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.virtio.GuestDriver.Buf;
import dev.rivet.virtio.GuestDriver.DriverQueue;
import dev.rivet.virtio.GuestDriver.Used;
import dev.rivet.virtio.GuestDriver.Wire;
import dev.rivet.virtio.mmio.VirtioMmio;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static dev.rivet.virtio.Virtio.F_EVENT_IDX;
import static dev.rivet.virtio.Virtio.bit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The virtqueue operations for devices that return several chains as one unit (VirtIO 1.2
 * 2.7.8 and virtio-net's merged receive buffers, 5.1.6.4): {@link Virtqueue#unpop} puts back
 * chains taken but not used, {@link Virtqueue#fill} writes used elements the driver cannot see
 * yet, {@link Virtqueue#flush} publishes them with one store of the used index. The test
 * plays the device by hand through a queue-only device, the driver through {@link GuestDriver}.
 */
class VirtqueueBatchTest {
    /** One queue of 16, nothing processed on its own: the test pops and pushes itself. */
    static final class ManualDevice implements VirtioDevice {
        volatile VirtioContext ctx;

        @Override
        public int deviceId() {
            return 0x2B;
        }

        @Override
        public String name() {
            return "manual";
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
            return 16;
        }

        @Override
        public int configSize() {
            return 0;
        }

        @Override
        public long readConfig(int offset, int size) {
            return 0;
        }

        @Override
        public void activate(VirtioContext context) {
            ctx = context;
        }

        @Override
        public void queueNotify(int index) {
        }

        @Override
        public void reset() {
            ctx = null;
        }
    }

    final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    final GuestRam ram = new GuestRam(GuestDriver.RAM_BASE, GuestDriver.RAM_SIZE);
    final ManualDevice dev = new ManualDevice();
    GuestDriver drv;
    DriverQueue q;
    Virtqueue vq;
    long buf;

    @BeforeEach
    void setUp() {
        drv = new GuestDriver(ram, new VirtioMmio(dev, new DmaView(ram), new Wire(), errors::add), new Wire());
        buf = drv.alloc(4096, 16);
    }

    @AfterEach
    void close() {
        ram.close();
    }

    void up(long features) {
        drv.negotiate(features);
        q = drv.queue(0, 8);
        drv.driverOk();
        vq = dev.ctx.queue(0);
    }

    int addOne(int i) {
        return q.add(Buf.in(buf + 64L * i, 64));
    }

    @Test
    void unpopHandsTheSameChainsOutAgain() throws VirtqueueException {
        up(0);
        int a = addOne(0), b = addOne(1), c = addOne(2);
        DescriptorChain chain = new DescriptorChain();
        assertTrue(vq.pop(chain));
        assertEquals(a, chain.head());
        assertTrue(vq.pop(chain));
        assertTrue(vq.pop(chain));
        assertEquals(c, chain.head());
        assertFalse(vq.pop(chain));
        vq.unpop(2);
        assertEquals(1, vq.lastAvailIndex());
        assertTrue(vq.pop(chain));
        assertEquals(b, chain.head(), "the first chain put back comes out first");
        assertEquals(buf + 64, chain.writableAddress(0));
        assertTrue(vq.pop(chain));
        assertEquals(c, chain.head());
        vq.push(a, 1);
        vq.push(b, 2);
        vq.push(c, 3);
        assertEquals(new Used(a, 1), q.poll());
        assertEquals(new Used(b, 2), q.poll());
        assertEquals(new Used(c, 3), q.poll());
        assertTrue(errors.isEmpty(), errors.toString());
    }

    @Test
    void unpopWithEventIdxLeavesAvailEventAskingForTheNextBuffer() throws VirtqueueException {
        up(bit(F_EVENT_IDX));
        addOne(0);
        DescriptorChain chain = new DescriptorChain();
        assertTrue(vq.pop(chain));
        assertFalse(vq.pop(chain), "empty: publishes avail_event");
        vq.unpop(1);
        int old = q.availIdx();
        addOne(1);
        assertTrue(q.kickNeeded(old), "the driver notifies when it adds the next buffer");
        assertTrue(vq.pop(chain));
        assertTrue(vq.pop(chain));
        assertFalse(vq.pop(chain));
    }

    @Test
    void fillIsInvisibleUntilFlushPublishesAllAtOnce() throws VirtqueueException {
        up(0);
        int a = addOne(0), b = addOne(1), c = addOne(2);
        DescriptorChain chain = new DescriptorChain();
        for (int i = 0; i < 3; i++) {
            assertTrue(vq.pop(chain));
        }
        vq.fill(2, c, 30);
        vq.fill(0, a, 10);
        vq.fill(1, b, 20);
        assertNull(q.poll(), "nothing visible before flush");
        assertEquals(0, q.usedIdx());
        vq.flush(3);
        assertEquals(3, q.usedIdx());
        assertEquals(3, vq.usedIndex());
        assertEquals(new Used(a, 10), q.poll());
        assertEquals(new Used(b, 20), q.poll());
        assertEquals(new Used(c, 30), q.poll());
    }

    @Test
    void fillAndFlushWrapAroundTheRing() throws VirtqueueException {
        up(0);
        DescriptorChain chain = new DescriptorChain();
        for (int round = 0; round < 40; round++) { // 120 elements through a ring of 8
            int[] heads = {addOne(0), addOne(1), addOne(2)};
            for (int i = 0; i < 3; i++) {
                assertTrue(vq.pop(chain));
                vq.fill(i, chain.head(), round * 3 + i);
            }
            vq.flush(3);
            for (int i = 0; i < 3; i++) {
                assertEquals(new Used(heads[i], round * 3 + i), q.poll(), "round " + round);
            }
        }
    }

    @Test
    void aDeviceCannotReturnOrPutBackMoreThanItTook() throws VirtqueueException {
        up(0);
        addOne(0);
        addOne(1);
        DescriptorChain chain = new DescriptorChain();
        assertTrue(vq.pop(chain));
        assertThrows(IllegalArgumentException.class, () -> vq.unpop(2));
        assertThrows(IllegalArgumentException.class, () -> vq.unpop(-1));
        assertThrows(IllegalArgumentException.class, () -> vq.fill(1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> vq.flush(2));
        vq.push(chain.head(), 0);
        assertThrows(IllegalArgumentException.class, () -> vq.push(chain.head(), 0), "pushed twice");
        assertEquals(1, q.usedIdx());
    }
}
