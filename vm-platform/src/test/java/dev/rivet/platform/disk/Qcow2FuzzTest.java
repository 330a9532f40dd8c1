package dev.rivet.platform.disk;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Randomly damaged images (bytes of the header, tables and refcount blocks overwritten)
 * opened, read and written: the only failure allowed is a one-line {@link IOException};
 * never another exception, an error or a hang. The seed is printed.
 */
class Qcow2FuzzTest {
    @TempDir
    Path dir;

    @Test
    void damagedMetadataIsAnIoErrorNeverACrash() throws Exception {
        long seed = Qcow2ImageTest.SEED + 77;
        System.out.println("Qcow2FuzzTest: seed " + seed);
        Path good = dir.resolve("good.qcow2");
        DiskImages.create(good, DiskImages.CreateOptions.qcow2(1 << 20).withClusterSize(4096));
        try (DiskImage img = DiskImages.open(good, false)) {
            for (int i = 0; i < 40; i++) {
                img.write(i * 24_576L, ByteBuffer.wrap(RawImageTest.pattern(6000, i)));
            }
            img.writeZeroes(512 << 10, 64 << 10, false);
        }
        byte[] pristine = Files.readAllBytes(good);
        int metadataEnd = 6 * 4096; // header, refcount table and block, L1, first L2 tables
        SplittableRandom r = new SplittableRandom(seed);
        Path p = dir.resolve("damaged.qcow2");
        for (int round = 0; round < 400; round++) {
            byte[] b = pristine.clone();
            int hits = 1 + r.nextInt(6);
            for (int h = 0; h < hits; h++) {
                int at = switch (r.nextInt(4)) {
                    case 0 -> r.nextInt(Qcow2Header.V3_HEADER_LENGTH); // the header fields
                    case 1 -> r.nextInt(b.length);
                    default -> r.nextInt(metadataEnd);
                };
                b[at] = switch (r.nextInt(4)) {
                    case 0 -> (byte) 0xff;
                    case 1 -> 0;
                    default -> (byte) r.nextInt(256);
                };
            }
            Files.write(p, b);
            String ctx = "seed " + seed + " round " + round;
            survive(ctx, () -> {
                try (DiskImage img = DiskImages.open(p, true)) {
                    img.read(0, ByteBuffer.allocate((int) Math.min(img.size(), 1 << 20)));
                    img.knownZeroes(0, img.size());
                }
            });
            survive(ctx, () -> {
                try (DiskImage img = DiskImages.open(p, false)) {
                    long size = Math.min(img.size(), 1 << 20);
                    for (int i = 0; i < 8 && size >= 8192; i++) {
                        long off = r.nextLong(size / 512 - 8) * 512;
                        switch (i % 4) {
                            case 0 -> img.write(off, ByteBuffer.wrap(RawImageTest.pattern(4096, i)));
                            case 1 -> img.discard(off, 8192);
                            case 2 -> img.writeZeroes(off, 8192, r.nextBoolean());
                            default -> img.read(off, ByteBuffer.allocate(4096));
                        }
                    }
                    img.flush();
                }
            });
        }
    }

    interface Action {
        void run() throws IOException;
    }

    static void survive(String ctx, Action a) {
        try {
            a.run();
        } catch (IOException e) {
            String m = String.valueOf(e.getMessage());
            assertFalse(m.contains("\n"), ctx + ": " + m);
        } catch (Throwable t) {
            AssertionError err = new AssertionError(ctx + ": " + t);
            err.initCause(t);
            throw err;
        }
    }
}
