package dev.rivet.platform.disk;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * qcow2 images we create, driven like a guest disk with random writes, zeroes and discards
 * against an in-memory model, then judged by qemu-img. The seed is printed; replay one with
 * {@code -Drivet.seed=N}.
 */
class Qcow2ImageTest {
    static final long SEED = Long.getLong("rivet.seed", new SplittableRandom().nextLong(1L << 40));

    @TempDir
    Path dir;

    /** A model of the disk: what every byte must read as. */
    static final class Model {
        final byte[] bytes;

        Model(int size) {
            bytes = new byte[size];
        }

        void write(DiskImage img, long off, byte[] data) throws IOException {
            img.write(off, ByteBuffer.wrap(data));
            System.arraycopy(data, 0, bytes, (int) off, data.length);
        }

        void zero(DiskImage img, long off, int len, boolean unmap) throws IOException {
            img.writeZeroes(off, len, unmap);
            Arrays.fill(bytes, (int) off, (int) off + len, (byte) 0);
        }

        /** A discarded sector reads as zeroes or as before; the model adopts what it reads. */
        void discard(DiskImage img, long off, int len, String ctx) throws IOException {
            img.discard(off, len);
            byte[] now = RawImageTest.read(img, off, len);
            for (int s = 0; s < len; s += 512) {
                byte[] got = Arrays.copyOfRange(now, s, s + 512);
                byte[] old = Arrays.copyOfRange(bytes, (int) off + s, (int) off + s + 512);
                if (!Arrays.equals(got, old) && !Arrays.equals(got, new byte[512])) {
                    fail(ctx + ": discarded sector at " + (off + s) + " reads as neither zeroes nor its old data");
                }
            }
            System.arraycopy(now, 0, bytes, (int) off, len);
        }

        void check(DiskImage img, long off, int len, String ctx) throws IOException {
            byte[] got = RawImageTest.read(img, off, len);
            byte[] want = Arrays.copyOfRange(bytes, (int) off, (int) off + len);
            if (!Arrays.equals(got, want)) {
                fail(ctx + ": read of " + len + " bytes at " + off + " differs at byte " + (off + Arrays.mismatch(got, want)));
            }
        }

        Path saveRaw(Path p) throws IOException {
            return Files.write(p, bytes);
        }
    }

    static byte[] random(SplittableRandom r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    /** Random operations: mostly writes (some unaligned, some spanning clusters), zeroes, discards, flushes, reopens. */
    static void exercise(Path image, Model m, long seed, int ops, int clusterSize) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        int size = m.bytes.length;
        DiskImage img = DiskImages.open(image, false);
        try {
            for (int i = 0; i < ops; i++) {
                String ctx = "seed " + seed + " op " + i;
                int kind = r.nextInt(100);
                boolean aligned = r.nextInt(4) != 0;
                int len = aligned ? 512 * (1 + r.nextInt(Math.max(1, 3 * clusterSize / 512)))
                        : 1 + r.nextInt(3 * clusterSize);
                len = Math.min(len, size);
                long off = aligned ? 512L * r.nextInt((size - len) / 512 + 1) : r.nextLong(size - len + 1);
                if (kind < 55) {
                    m.write(img, off, random(r, len));
                } else if (kind < 70) {
                    m.zero(img, off, len, r.nextBoolean());
                } else if (kind < 80) {
                    // Devices discard whole sectors; each sector reads as zeroes or as before.
                    long a = off / 512 * 512;
                    m.discard(img, a, (int) Math.min(size - a, (len + 511) / 512 * 512), ctx);
                } else if (kind < 95) {
                    m.check(img, off, len, ctx);
                } else if (kind < 98) {
                    img.flush();
                } else {
                    img.close();
                    img = DiskImages.open(image, r.nextBoolean() ? DiskFormat.QCOW2 : null, false);
                }
            }
        } finally {
            img.close();
        }
        try (DiskImage ro = DiskImages.open(image, true)) {
            m.check(ro, 0, size, "seed " + seed + " after reopening");
        }
    }

    @ParameterizedTest(name = "{0}-byte clusters")
    @ValueSource(ints = {512, 4096, 65536})
    void randomWritesReadBackAndQemuAgrees(int clusterSize) throws Exception {
        long seed = SEED + clusterSize;
        System.out.println("Qcow2ImageTest: seed " + seed + " (" + clusterSize + "-byte clusters)");
        int size = 6 * 65536 * 4 + 1536; // the last cluster is cut short by the end of the disk
        Path image = dir.resolve("t.qcow2");
        DiskImages.create(image, DiskImages.CreateOptions.qcow2(size).withClusterSize(clusterSize));
        Model m = new Model(size);
        exercise(image, m, seed, 400, clusterSize);
        QemuTools.assertClean(image);
        Path raw = m.saveRaw(dir.resolve("model.raw"));
        String cmp = QemuTools.img("compare", "-f", "qcow2", "-F", "raw", image.toString(), raw.toString());
        assertTrue(cmp.contains("Images are identical"), cmp);
        String info = QemuTools.img("info", "--output=json", image.toString());
        assertTrue(info.contains("\"virtual-size\": " + size), info);
        assertTrue(info.contains("\"cluster-size\": " + clusterSize), info);
    }

    @Test
    void createdImageIsWhatQemuImgWouldMake() throws Exception {
        Path image = dir.resolve("new.qcow2");
        DiskImages.create(image, DiskImages.CreateOptions.qcow2(10L << 30));
        QemuTools.assertClean(image);
        String info = QemuTools.img("info", "--output=json", image.toString());
        assertTrue(info.contains("\"virtual-size\": 10737418240"), info);
        assertTrue(info.contains("\"compat\": \"1.1\""), info);
        assertTrue(info.contains("\"cluster-size\": 65536"), info);
        assertTrue(Files.size(image) <= 4 * 65536, "empty image stays small: " + Files.size(image));
        try (DiskImage img = DiskImages.open(image, true)) {
            assertEquals(10L << 30, img.size());
            assertArrayEquals(new byte[65536], RawImageTest.read(img, 5L << 30, 65536));
            assertEquals(10L << 30, img.knownZeroes(0, 10L << 30), "all of an empty image is known zero");
        }
    }

    /** 512-byte clusters fill the first refcount table (8 MiB of file) quickly: it must move and grow. */
    @Test
    void theRefcountTableGrowsWhenTheFileOutgrowsIt() throws Exception {
        Path image = dir.resolve("grow.qcow2");
        int size = 24 << 20;
        DiskImages.create(image, DiskImages.CreateOptions.qcow2(size).withClusterSize(512));
        Model m = new Model(size);
        SplittableRandom r = new SplittableRandom(SEED);
        try (DiskImage img = DiskImages.open(image, false)) {
            for (int off = 0; off < size; off += 1 << 20) {
                m.write(img, off, random(r, 1 << 20));
            }
        }
        assertTrue(Files.size(image) > 24 << 20);
        QemuTools.assertClean(image);
        String cmp = QemuTools.img("compare", "-f", "qcow2", "-F", "raw", image.toString(),
                m.saveRaw(dir.resolve("m.raw")).toString());
        assertTrue(cmp.contains("Images are identical"), cmp);
    }

    @Test
    void zeroClustersAndDiscardFreeSpaceAndKeepQemuHappy() throws Exception {
        Path image = dir.resolve("z.qcow2");
        int size = 4 << 20;
        DiskImages.create(image, DiskImages.CreateOptions.qcow2(size));
        Model m = new Model(size);
        SplittableRandom r = new SplittableRandom(SEED);
        try (DiskImage img = DiskImages.open(image, false)) {
            m.write(img, 0, random(r, size));
            long full = Files.size(image);
            m.zero(img, 1 << 20, 1 << 20, true);     // unmapped: clusters freed
            m.zero(img, 2 << 20, 1 << 20, false);    // kept allocated, flagged zero
            m.zero(img, 100, 1000, true);            // partial cluster: real zeroes
            img.discard(3 << 20, 1 << 20);
            m.check(img, 0, 3 << 20, "after zeroing");
            assertEquals(1 << 20, img.knownZeroes(1 << 20, 1 << 20));
            assertEquals(1 << 20, img.knownZeroes(2 << 20, 1 << 20));
            img.flush();
            // Freed clusters are reused after the flush, so rewriting does not grow the file.
            m.write(img, 1 << 20, random(r, 1 << 20));
            assertEquals(full, Files.size(image), "freed clusters were reused");
        }
        QemuTools.assertClean(image);
        String map = QemuTools.img("map", "--output=json", image.toString());
        assertTrue(map.contains("\"start\": 2097152, \"length\": 1048576, \"depth\": 0, \"present\": true, \"zero\": true, \"data\": false"),
                map);
        try (DiskImage img = DiskImages.open(image, true)) {
            assertArrayEquals(new byte[1 << 20], RawImageTest.read(img, 3 << 20, 1 << 20));
        }
    }

    @Test
    void reopeningAfterALostFlushStillWorks() throws Exception {
        // Closing without flush must still leave a consistent image (close syncs).
        Path image = dir.resolve("c.qcow2");
        DiskImages.create(image, DiskImages.CreateOptions.qcow2(1 << 20));
        try (DiskImage img = DiskImages.open(image, false)) {
            img.write(512, ByteBuffer.wrap(RawImageTest.pattern(4096, 5)));
        }
        QemuTools.io(image, "qcow2", "read -P 0 0 512");
        QemuTools.assertClean(image);
        try (DiskImage img = DiskImages.open(image, true)) {
            assertArrayEquals(RawImageTest.pattern(4096, 5), RawImageTest.read(img, 512, 4096));
        }
    }
}
