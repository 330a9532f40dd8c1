package dev.rivet.platform.disk;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several device threads on one image, as an I/O executor drives it: each owns 2 KiB
 * stripes, so two threads share every 4 KiB cluster and race to allocate it, copy it and
 * grow the tables. Afterwards every stripe holds what its owner last wrote and qemu-img
 * finds nothing wrong.
 */
class Qcow2ConcurrencyTest {
    static final int THREADS = 6;
    static final int STRIPE = 2048;
    static final int SIZE = 16 << 20;

    @TempDir
    Path dir;

    @Test
    void threadsWritingDisjointStripesNeverDisturbEachOther() throws Exception {
        long seed = Qcow2ImageTest.SEED;
        System.out.println("Qcow2ConcurrencyTest: seed " + seed);
        Path image = dir.resolve("mt.qcow2");
        Path base = Files.write(dir.resolve("base.raw"), RawImageTest.pattern(SIZE, 6));
        DiskImages.create(image, DiskImages.CreateOptions.qcow2(SIZE).withClusterSize(4096)
                .withBacking(base.getFileName().toString(), DiskFormat.RAW));
        byte[] expected = RawImageTest.pattern(SIZE, 6);
        try (DiskImage img = DiskImages.open(image, false);
             ExecutorService pool = Executors.newFixedThreadPool(THREADS)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int me = t;
                done.add(pool.submit(() -> {
                    SplittableRandom r = new SplittableRandom(seed * 31 + me);
                    int stripes = SIZE / STRIPE / THREADS;
                    for (int i = 0; i < 3000; i++) {
                        long off = ((long) r.nextInt(stripes) * THREADS + me) * STRIPE;
                        int from = 512 * r.nextInt(4);
                        int len = 512 * (1 + r.nextInt(4 - from / 512));
                        byte[] data = new byte[len];
                        r.nextBytes(data);
                        if (r.nextInt(10) == 0) {
                            img.writeZeroes(off + from, len, r.nextBoolean());
                            Arrays.fill(data, (byte) 0);
                        } else {
                            img.write(off + from, ByteBuffer.wrap(data));
                        }
                        synchronized (expected) {
                            System.arraycopy(data, 0, expected, (int) (off + from), len);
                        }
                        if (r.nextInt(8) == 0) {
                            ByteBuffer back = ByteBuffer.allocate(len);
                            img.read(off + from, back);
                            assertArrayEquals(data, back.array(), "seed " + seed + " thread " + me + " at " + (off + from));
                        }
                        if (r.nextInt(500) == 0) {
                            img.flush();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            ByteBuffer all = ByteBuffer.allocate(SIZE);
            img.read(0, all);
            assertArrayEquals(expected, all.array(), "seed " + seed);
        }
        QemuTools.assertClean(image);
        Path want = Files.write(dir.resolve("want.raw"), expected);
        assertTrue(QemuTools.img("compare", "-F", "raw", image.toString(), want.toString()).contains("Images are identical"));
    }

    /**
     * Allocation races on purpose: every round starts from an emptied disk of 32 clusters
     * and all threads fill their stripes at once, so two threads keep meeting on one new cluster.
     */
    @Test
    void threadsRacingToAllocateTheSameClusterBothKeepTheirData() throws Exception {
        long seed = Qcow2ImageTest.SEED + 1;
        System.out.println("Qcow2ConcurrencyTest: race seed " + seed);
        int size = 32 * 4096;
        Path image = dir.resolve("race.qcow2");
        Path base = Files.write(dir.resolve("race-base.raw"), RawImageTest.pattern(size, 8));
        DiskImages.create(image, DiskImages.CreateOptions.qcow2(size).withClusterSize(4096)
                .withBacking(base.getFileName().toString(), DiskFormat.RAW));
        byte[] expected = new byte[size];
        try (DiskImage img = DiskImages.open(image, false);
             ExecutorService pool = Executors.newFixedThreadPool(THREADS)) {
            for (int round = 0; round < 200; round++) {
                img.discard(0, size);
                if (round % 7 == 0) {
                    img.flush(); // lets freed clusters be reused
                }
                java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(THREADS);
                List<Future<?>> done = new ArrayList<>();
                int r0 = round;
                for (int t = 0; t < THREADS; t++) {
                    int me = t;
                    done.add(pool.submit(() -> {
                        SplittableRandom r = new SplittableRandom(seed * 31 + r0 * 97 + me);
                        List<Integer> mine = new ArrayList<>();
                        for (int s = me; s < size / STRIPE; s += THREADS) {
                            mine.add(s);
                        }
                        java.util.Collections.shuffle(mine, new java.util.Random(r.nextLong()));
                        start.await();
                        for (int s : mine) {
                            byte[] data = new byte[STRIPE];
                            r.nextBytes(data);
                            img.write((long) s * STRIPE, ByteBuffer.wrap(data));
                            synchronized (expected) {
                                System.arraycopy(data, 0, expected, s * STRIPE, STRIPE);
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
                ByteBuffer all = ByteBuffer.allocate(size);
                img.read(0, all);
                assertArrayEquals(expected, all.array(), "seed " + seed + " round " + round);
            }
        }
        QemuTools.assertClean(image);
    }
}
