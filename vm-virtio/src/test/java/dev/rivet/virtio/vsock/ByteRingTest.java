package dev.rivet.virtio.vsock;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The unsent-data ring keeps bytes in order through wrap-around, growth and partial drains, and never exceeds its bound. */
class ByteRingTest {
    static final long SEED = Long.getLong("rivet.seed", new SplittableRandom().nextLong(1L << 40));

    /** A host end that takes a random amount each time. */
    static final class Sink implements VsockStream {
        final ByteArrayOutputStream got = new ByteArrayOutputStream();
        final SplittableRandom r;

        Sink(SplittableRandom r) {
            this.r = r;
        }

        @Override
        public int read(ByteBuffer dst) {
            return 0;
        }

        @Override
        public int write(ByteBuffer src) {
            int n = Math.min(src.remaining(), r.nextInt(3) == 0 ? 0 : r.nextInt(5000));
            byte[] b = new byte[n];
            src.get(b);
            got.writeBytes(b);
            return n;
        }

        @Override
        public void shutdownOutput() {
        }

        @Override
        public void close() {
        }
    }

    @Test
    void keepsOrderThroughWrapGrowthAndPartialDrains() throws Exception {
        System.out.printf("ByteRingTest: seed %d (-Drivet.seed=%d)%n", SEED, SEED);
        SplittableRandom r = new SplittableRandom(SEED);
        int max = 20000;
        ByteRing ring = new ByteRing(max);
        Sink sink = new Sink(r);
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        int next = 0;
        for (int i = 0; i < 5000; i++) {
            int n = r.nextInt(Math.min(ring.room(), 7000) + 1);
            byte[] b = new byte[n];
            for (int k = 0; k < n; k++) {
                b[k] = (byte) (next++ * 31);
            }
            ring.put(ByteBuffer.wrap(b));
            sent.writeBytes(b);
            ring.drainTo(sink);
            assertEquals(sent.size() - sink.got.size(), ring.size(), "seed " + SEED);
        }
        while (!ring.isEmpty()) {
            ring.drainTo(sink);
        }
        assertArrayEquals(sent.toByteArray(), sink.got.toByteArray(), "seed " + SEED);
        ring.put(ByteBuffer.allocate(max));
        assertThrows(IllegalStateException.class, () -> ring.put(ByteBuffer.allocate(1)));
    }
}
