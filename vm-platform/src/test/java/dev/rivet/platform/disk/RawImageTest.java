package dev.rivet.platform.disk;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Raw images as a block device uses them. */
class RawImageTest {
    @TempDir
    Path dir;

    static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + seed * 7 + (i >>> 8));
        }
        return b;
    }

    static byte[] read(DiskImage img, long offset, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        img.read(offset, b);
        assertFalse(b.hasRemaining());
        return b.array();
    }

    @Test
    void createdFilesAreSparseAndReadAsZeroes() throws IOException {
        Path p = dir.resolve("disk.raw");
        DiskImages.create(p, DiskImages.CreateOptions.raw(64L << 30));
        assertEquals(64L << 30, Files.size(p));
        try (DiskImage img = DiskImages.open(p, false)) {
            assertEquals(DiskFormat.RAW, img.format());
            assertEquals(64L << 30, img.size());
            assertTrue(img.diskSize() < 1 << 20, "sparse: " + img.diskSize());
            assertArrayEquals(new byte[4096], read(img, 40L << 30, 4096));
        }
    }

    @Test
    void writesReadBackAndSurviveReopening() throws IOException {
        Path p = dir.resolve("disk.raw");
        DiskImages.create(p, DiskImages.CreateOptions.raw(1 << 20));
        byte[] data = pattern(10_000, 1);
        try (DiskImage img = DiskImages.open(p, false)) {
            img.write(4096 + 3, ByteBuffer.wrap(data));
            img.flush();
            assertArrayEquals(data, read(img, 4096 + 3, data.length));
        }
        try (DiskImage img = DiskImages.open(p, true)) {
            assertArrayEquals(data, read(img, 4096 + 3, data.length));
            assertArrayEquals(new byte[3], read(img, 4096, 3));
        }
    }

    @Test
    void aShortFileIsRoundedUpToWholeSectorsAndItsTailReadsAsZeroes() throws IOException {
        Path p = Files.write(dir.resolve("short.img"), pattern(1000, 2));
        try (DiskImage img = DiskImages.open(p, true)) {
            assertEquals(1024, img.size());
            byte[] all = read(img, 0, 1024);
            assertArrayEquals(pattern(1000, 2), Arrays.copyOf(all, 1000));
            assertArrayEquals(new byte[24], Arrays.copyOfRange(all, 1000, 1024));
        }
    }

    @Test
    void readOnlyRefusesEveryChange() throws IOException {
        Path p = dir.resolve("ro.raw");
        DiskImages.create(p, DiskImages.CreateOptions.raw(1 << 20));
        assertTrue(p.toFile().setWritable(false));
        try (DiskImage img = DiskImages.open(p, true)) { // opened without write permission
            assertTrue(img.readOnly());
            DiskImageException e = assertThrows(DiskImageException.class, () -> img.write(0, ByteBuffer.allocate(512)));
            assertTrue(e.getMessage().contains("read-only"), e.getMessage());
            assertThrows(DiskImageException.class, () -> img.discard(0, 512));
            assertThrows(DiskImageException.class, () -> img.writeZeroes(0, 512, true));
            img.flush(); // nothing to make durable; not an error
        }
    }

    @Test
    void writeZeroesAndDiscardClearTheRange() throws IOException {
        Path p = dir.resolve("z.raw");
        DiskImages.create(p, DiskImages.CreateOptions.raw(4 << 20));
        try (DiskImage img = DiskImages.open(p, false)) {
            img.write(0, ByteBuffer.wrap(pattern(4 << 20, 3)));
            img.writeZeroes(1 << 20, 1 << 20, false);
            img.writeZeroes(3 << 20, 4096, true);
            assertArrayEquals(new byte[1 << 20], read(img, 1 << 20, 1 << 20));
            assertArrayEquals(new byte[4096], read(img, 3 << 20, 4096));
            assertArrayEquals(Arrays.copyOfRange(pattern(4 << 20, 3), 0, 1 << 20), read(img, 0, 1 << 20));
            long before = img.diskSize();
            img.discard(2 << 20, 1 << 20);
            if (LinuxFiles.allocatedBytes(p) >= 0) { // Linux: the hole is punched
                assertTrue(img.diskSize() <= before - (512 << 10), before + " -> " + img.diskSize());
            }
            byte[] after = read(img, 2 << 20, 1 << 20);
            byte[] old = Arrays.copyOfRange(pattern(4 << 20, 3), 2 << 20, 3 << 20);
            assertTrue(Arrays.equals(after, old) || Arrays.equals(after, new byte[1 << 20]), "zeroes or old data");
        }
    }

    @Test
    void accessOutsideTheDiskIsAnIoErrorNotACrash() throws IOException {
        Path p = dir.resolve("small.raw");
        DiskImages.create(p, DiskImages.CreateOptions.raw(4096));
        try (DiskImage img = DiskImages.open(p, false)) {
            assertThrows(DiskImageException.class, () -> img.read(4096 - 512, ByteBuffer.allocate(1024)));
            assertThrows(DiskImageException.class, () -> img.write(-512, ByteBuffer.allocate(512)));
        }
    }

    @Test
    void createNeverReplacesAFile() throws IOException {
        Path p = Files.write(dir.resolve("precious.raw"), pattern(512, 4));
        DiskImageException e = assertThrows(DiskImageException.class,
                () -> DiskImages.create(p, DiskImages.CreateOptions.raw(1 << 20)));
        assertTrue(e.getMessage().contains("file exists"), e.getMessage());
        assertArrayEquals(pattern(512, 4), Files.readAllBytes(p));
    }
}
