package dev.rivet.platform.disk;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Damaged, truncated and hostile images: each is refused with its own one-line message
 * naming the file; none makes us allocate absurd memory, loop, or write where it should not.
 */
class Qcow2HostileTest {
    @TempDir
    Path dir;

    /** A valid 1 MiB image (64 KiB clusters) with one data cluster written at guest offset 0. */
    Path image() throws IOException {
        Path p = dir.resolve("victim.qcow2");
        Files.deleteIfExists(p);
        DiskImages.create(p, DiskImages.CreateOptions.qcow2(1 << 20));
        try (DiskImage img = DiskImages.open(p, false)) {
            img.write(0, ByteBuffer.wrap(RawImageTest.pattern(65536, 1)));
        }
        return p;
    }

    static void put(Path p, long at, ByteBuffer b) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.write(b, at);
        }
    }

    static void putInt(Path p, long at, int v) throws IOException {
        put(p, at, ByteBuffer.allocate(4).putInt(0, v));
    }

    static void putLong(Path p, long at, long v) throws IOException {
        put(p, at, ByteBuffer.allocate(8).putLong(0, v));
    }

    static long getLong(Path p, long at) throws IOException {
        try (FileChannel ch = FileChannel.open(p)) {
            ByteBuffer b = ByteBuffer.allocate(8);
            ch.read(b, at);
            return b.getLong(0);
        }
    }

    /** The action fails with a one-line DiskImageException that names the file and says {@code what}. */
    static void refused(Path p, String what, Executable action) {
        DiskImageException e = assertThrows(DiskImageException.class, action);
        assertTrue(e.getMessage().contains(what), "expected '" + what + "' in: " + e.getMessage());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    static void refusedToOpen(Path p, String what) {
        refused(p, what, () -> DiskImages.open(p, true).close());
        refused(p, what, () -> DiskImages.open(p, false).close());
    }

    @Test
    void truncatedAndForeignHeaders() throws IOException {
        Path p = image();
        byte[] all = Files.readAllBytes(p);
        Files.write(p, Arrays.copyOf(all, 50));
        refusedToOpen(p, "too short to be a qcow2 image");
        Files.write(p, Arrays.copyOf(all, 90)); // a version 3 header needs 104 bytes
        refusedToOpen(p, "header is truncated");
        Files.write(p, Arrays.copyOf(all, 108)); // header_length says 112
        refusedToOpen(p, "header is truncated");
        p = image();
        putInt(p, Qcow2Header.OFF_VERSION, 1);
        refusedToOpen(p, "qcow2 version 1 is not supported");
        putInt(p, Qcow2Header.OFF_VERSION, 4);
        refusedToOpen(p, "qcow2 version 4 is not supported");
    }

    @Test
    void clusterBitsOutOfRange() throws IOException {
        for (int bits : new int[] {0, 8, 22, 31, -1}) {
            Path p = image();
            putInt(p, Qcow2Header.OFF_CLUSTER_BITS, bits);
            refusedToOpen(p, "cluster_bits " + Integer.toUnsignedString(bits) + " is out of range");
        }
    }

    @Test
    void l1TableProblems() throws IOException {
        Path p = image();
        putInt(p, Qcow2Header.OFF_L1_SIZE, -1);
        refusedToOpen(p, "L1 table is too large");
        p = image();
        putLong(p, Qcow2Header.OFF_SIZE, 1L << 50);
        refusedToOpen(p, "L1 table is too small for the virtual size");
        p = image();
        putLong(p, Qcow2Header.OFF_SIZE, -4096);
        refusedToOpen(p, "is too large");
        p = image();
        putLong(p, Qcow2Header.OFF_L1_TABLE_OFFSET, 1L << 40);
        refusedToOpen(p, "L1 table extends past the end of the file");
        putLong(p, Qcow2Header.OFF_L1_TABLE_OFFSET, 0);
        refusedToOpen(p, "L1 table overlaps the header");
        putLong(p, Qcow2Header.OFF_L1_TABLE_OFFSET, 3 * 65536 + 8);
        refusedToOpen(p, "L1 table offset 0x30008 is not aligned");
        putLong(p, Qcow2Header.OFF_L1_TABLE_OFFSET, getLong(p, Qcow2Header.OFF_REFCOUNT_TABLE_OFFSET));
        refusedToOpen(p, "L1 table overlaps the refcount table");
    }

    @Test
    void refcountProblems() throws IOException {
        Path p = image();
        putInt(p, Qcow2Header.OFF_REFCOUNT_ORDER, 7);
        refusedToOpen(p, "refcount_order 7 is not supported");
        p = image();
        putInt(p, Qcow2Header.OFF_REFCOUNT_TABLE_CLUSTERS, 1 << 20);
        refusedToOpen(p, "refcount table is too large");
        p = image();
        putLong(p, Qcow2Header.OFF_REFCOUNT_TABLE_OFFSET, 1L << 45);
        refusedToOpen(p, "refcount table extends past the end of the file");
        p = image();
        putInt(p, Qcow2Header.OFF_REFCOUNT_TABLE_CLUSTERS, 0);
        refusedToOpen(p, "refcount table is empty");
        p = image();
        long table = getLong(p, Qcow2Header.OFF_REFCOUNT_TABLE_OFFSET);
        putLong(p, table, getLong(p, table) + 24); // block pointer not cluster-aligned
        Path q = p;
        refused(q, "refcount table entry 0", () -> DiskImages.open(q, false).close());
        DiskImages.open(q, true).close(); // reading never needs refcounts
    }

    @Test
    void headerLengthAndExtensions() throws IOException {
        Path p = image();
        putInt(p, Qcow2Header.OFF_HEADER_LENGTH, 100);
        refusedToOpen(p, "header_length 100 is invalid");
        putInt(p, Qcow2Header.OFF_HEADER_LENGTH, 1 << 20);
        refusedToOpen(p, "header_length 1048576 is invalid");
        p = image();
        putInt(p, Qcow2Header.V3_HEADER_LENGTH, 0x1234);
        putInt(p, Qcow2Header.V3_HEADER_LENGTH + 4, 0x7fff_0000);
        refusedToOpen(p, "header extension 0x1234 runs past the first cluster");
    }

    @Test
    void featureBitsWeDoNotImplement() throws Exception {
        Path p = image();
        putLong(p, Qcow2Header.OFF_INCOMPATIBLE_FEATURES, 1L << 10);
        refusedToOpen(p, "unsupported incompatible feature (bit 10)");
        p = image();
        putLong(p, Qcow2Header.OFF_INCOMPATIBLE_FEATURES, Qcow2Header.INCOMPAT_DATA_FILE);
        refusedToOpen(p, "external data files are not supported");
        p = image();
        putInt(p, Qcow2Header.OFF_CRYPT_METHOD, 1);
        refusedToOpen(p, "encrypted images are not supported");
        p = image();
        putLong(p, Qcow2Header.OFF_INCOMPATIBLE_FEATURES, Qcow2Header.INCOMPAT_COMPRESSION);
        put(p, Qcow2Header.OFF_COMPRESSION_TYPE, ByteBuffer.wrap(new byte[] {7}));
        refusedToOpen(p, "unknown compression type 7");

        Path ext = dir.resolve("extl2.qcow2");
        QemuTools.img("create", "-q", "-f", "qcow2", "-o", "extended_l2=on", ext.toString(), "1M");
        refusedToOpen(ext, "extended L2 entries (subclusters) are not supported");

        Path zstd = dir.resolve("zstd.qcow2");
        QemuTools.img("create", "-q", "-f", "qcow2", "-o", "compression_type=zstd", zstd.toString(), "1M");
        DiskImages.open(zstd, false).close(); // a known compression type is fine while nothing is compressed
    }

    @Test
    void compressedClustersAreRefusedWhenReached() throws Exception {
        Path raw = Files.write(dir.resolve("data.raw"), RawImageTest.pattern(1 << 20, 3));
        Path packed = dir.resolve("packed.qcow2");
        QemuTools.img("convert", "-c", "-f", "raw", "-O", "qcow2", raw.toString(), packed.toString());
        try (DiskImage img = DiskImages.open(packed, false)) { // opening is fine: only reads of them fail
            refused(packed, "compressed clusters are not supported", () -> RawImageTest.read(img, 0, 512));
            refused(packed, "compressed clusters are not supported", () -> img.write(512, ByteBuffer.allocate(512)));
        }
    }

    @Test
    void dirtyCorruptAndSnapshotImagesAreReadOnly() throws Exception {
        for (String[] c : new String[][] {
                {"1", "image is dirty (its refcounts may be wrong); repair it with 'qemu-img check -r all'"},
                {"2", "image is marked corrupt; repair it with 'qemu-img check -r all'"}}) {
            Path p = image();
            putLong(p, Qcow2Header.OFF_INCOMPATIBLE_FEATURES, Long.parseLong(c[0]));
            refused(p, c[1], () -> DiskImages.open(p, false).close());
            try (DiskImage img = DiskImages.open(p, true)) {
                assertArrayEquals(RawImageTest.pattern(65536, 1), RawImageTest.read(img, 0, 65536));
            }
        }
        Path p = image();
        QemuTools.img("snapshot", "-c", "snap1", p.toString());
        refused(p, "internal snapshots", () -> DiskImages.open(p, false).close());
        try (DiskImage img = DiskImages.open(p, true)) {
            assertArrayEquals(RawImageTest.pattern(65536, 1), RawImageTest.read(img, 0, 65536));
        }
    }

    @Test
    void autoclearBitsAreClearedWhenOpenedForWriting() throws IOException {
        Path p = image();
        putLong(p, Qcow2Header.OFF_AUTOCLEAR_FEATURES, 0b11L | (1L << 40));
        DiskImages.open(p, true).close();
        assertEquals(0b11L | (1L << 40), getLong(p, Qcow2Header.OFF_AUTOCLEAR_FEATURES), "read-only changes nothing");
        DiskImages.open(p, false).close();
        assertEquals(0, getLong(p, Qcow2Header.OFF_AUTOCLEAR_FEATURES));
    }

    @Test
    void backingNameProblems() throws IOException {
        Path p = image();
        putLong(p, Qcow2Header.OFF_BACKING_FILE_OFFSET, 512);
        putInt(p, Qcow2Header.OFF_BACKING_FILE_SIZE, 5000);
        refusedToOpen(p, "backing file name is too long (5000 bytes, at most 1023)");
        putLong(p, Qcow2Header.OFF_BACKING_FILE_OFFSET, 65536 - 10);
        putInt(p, Qcow2Header.OFF_BACKING_FILE_SIZE, 20);
        refusedToOpen(p, "backing file name lies outside the first cluster");
        putLong(p, Qcow2Header.OFF_BACKING_FILE_OFFSET, 512);
        put(p, 512, ByteBuffer.wrap("nbd://example/disk".getBytes()));
        putInt(p, Qcow2Header.OFF_BACKING_FILE_SIZE, 18);
        refusedToOpen(p, "is not a local file");
        Path q = dir.resolve("q.qcow2");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DiskImages.create(q,
                DiskImages.CreateOptions.qcow2(1 << 20).withBacking("x".repeat(1024), DiskFormat.RAW)));
        assertTrue(e.getMessage().contains("too long"), e.getMessage());
    }

    @Test
    void tableEntriesPointingOutsideTheFileOrIntoMetadata() throws IOException {
        Path p = image();
        long l1 = getLong(p, Qcow2Header.OFF_L1_TABLE_OFFSET);
        long l2 = getLong(p, l1) & Qcow2Header.OFFSET_MASK;
        long data = getLong(p, l2) & Qcow2Header.OFFSET_MASK;

        putLong(p, l1, (1L << 40) | (1L << 63));
        refused(p, "L2 table at 0x10000000000 lies past the end of the file", () -> readFirstSector(p));
        putLong(p, l1, l2 + 512 | (1L << 63));
        refused(p, "L1 entry 0 points at unaligned offset", () -> readFirstSector(p));
        putLong(p, l1, l2 | (1L << 63));

        putLong(p, l2, (1L << 44) | (1L << 63));
        refused(p, "points past the end of the file (image corrupt)", () -> readFirstSector(p));
        putLong(p, l2, data + 512 | (1L << 63));
        refused(p, "is not cluster-aligned", () -> readFirstSector(p));
        // A data cluster on top of the L1 table: a guest write there would rewrite the mapping.
        putLong(p, l2, l1 | (1L << 63));
        try (DiskImage img = DiskImages.open(p, false)) {
            refused(p, "points into the image's own metadata", () -> img.write(0, ByteBuffer.allocate(512)));
        }
        assertEquals(l2 | (1L << 63), getLong(p, l1), "the L1 table is untouched");
    }

    private static void readFirstSector(Path p) throws IOException {
        try (DiskImage img = DiskImages.open(p, true)) {
            RawImageTest.read(img, 0, 512);
        }
    }

    @Test
    void notAnImageAtAll() throws IOException {
        Path p = Files.writeString(dir.resolve("notes.txt"), "hello");
        try (DiskImage img = DiskImages.open(p, true)) {
            assertEquals(DiskFormat.RAW, img.format(), "anything without the magic is raw");
        }
        refused(p, "not a qcow2 image (bad magic)", () -> DiskImages.open(p, DiskFormat.QCOW2, true));
        refused(dir.resolve("absent.qcow2"), "no such file", () -> DiskImages.open(dir.resolve("absent.qcow2"), true));
    }
}
