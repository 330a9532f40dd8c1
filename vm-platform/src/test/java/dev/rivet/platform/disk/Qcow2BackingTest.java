package dev.rivet.platform.disk;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

/** Overlays on backing files: copy-on-write, chains, relative names, and chains that cannot be followed. */
class Qcow2BackingTest {
    @TempDir
    Path dir;

    static final int SIZE = 2 << 20;

    Path base() throws IOException {
        return Files.write(dir.resolve("base.raw"), RawImageTest.pattern(SIZE, 1));
    }

    @Test
    void writesGoToTheOverlayAndTheRestOfTheClusterComesFromTheBase() throws Exception {
        Path base = base();
        Path top = dir.resolve("top.qcow2");
        DiskImages.create(top, DiskImages.CreateOptions.qcow2(-1).withBacking("base.raw", null));
        byte[] expected = RawImageTest.pattern(SIZE, 1);
        byte[] data = RawImageTest.pattern(1000, 7);
        try (DiskImage img = DiskImages.open(top, false)) {
            assertEquals(SIZE, img.size(), "size taken from the backing file");
            assertEquals(DiskFormat.RAW, img.backing().orElseThrow().format());
            assertTrue(img.backing().orElseThrow().readOnly());
            img.write(70_000, ByteBuffer.wrap(data));
            System.arraycopy(data, 0, expected, 70_000, data.length);
            img.writeZeroes(SIZE - 65536, 65536, true); // hides the base: a zero cluster
            Arrays.fill(expected, SIZE - 65536, SIZE, (byte) 0);
            assertArrayEquals(expected, RawImageTest.read(img, 0, SIZE));
        }
        assertArrayEquals(RawImageTest.pattern(SIZE, 1), Files.readAllBytes(base), "base unchanged");
        QemuTools.assertClean(top);
        String info = QemuTools.img("info", "--output=json", top.toString());
        assertTrue(info.contains("\"backing-filename-format\": \"raw\""), info);
        Path want = Files.write(dir.resolve("want.raw"), expected);
        assertTrue(QemuTools.img("compare", "-f", "qcow2", "-F", "raw", top.toString(), want.toString())
                .contains("Images are identical"));
    }

    @Test
    void aChainFollowsRelativeNamesFromEachImagesOwnDirectory() throws Exception {
        base();
        Files.createDirectories(dir.resolve("a"));
        Files.createDirectories(dir.resolve("b"));
        Files.move(dir.resolve("base.raw"), dir.resolve("b/base.raw"));
        Path mid = dir.resolve("b/mid.qcow2");
        Path top = dir.resolve("a/top.qcow2");
        DiskImages.create(mid, DiskImages.CreateOptions.qcow2(-1).withBacking("base.raw", DiskFormat.RAW));
        DiskImages.create(top, DiskImages.CreateOptions.qcow2(-1).withBacking("../b/mid.qcow2", DiskFormat.QCOW2)
                .withClusterSize(4096));
        byte[] expected = RawImageTest.pattern(SIZE, 1);
        try (DiskImage m = DiskImages.open(mid, false)) {
            m.write(4096, ByteBuffer.wrap(RawImageTest.pattern(8192, 2)));
        }
        System.arraycopy(RawImageTest.pattern(8192, 2), 0, expected, 4096, 8192);
        try (DiskImage t = DiskImages.open(top, false)) {
            t.write(6144, ByteBuffer.wrap(RawImageTest.pattern(512, 3)));
            System.arraycopy(RawImageTest.pattern(512, 3), 0, expected, 6144, 512);
            assertArrayEquals(expected, RawImageTest.read(t, 0, SIZE));
        }
        DiskImages.Info info = DiskImages.info(top, null);
        assertEquals(2, info.backingChain().size());
        assertEquals("../b/mid.qcow2", info.backingChain().get(0).storedName());
        assertEquals(DiskFormat.RAW, info.backingChain().get(1).format());
        QemuTools.assertClean(top);
        QemuTools.assertClean(mid);
        Path want = Files.write(dir.resolve("want.raw"), expected);
        assertTrue(QemuTools.img("compare", "-F", "raw", top.toString(), want.toString()).contains("Images are identical"));
    }

    @Test
    void aBackingFileShorterThanTheImageReadsAsZeroesPastItsEnd() throws Exception {
        Path small = Files.write(dir.resolve("small.raw"), RawImageTest.pattern(100_000, 4)); // not even whole sectors
        Path top = dir.resolve("big.qcow2");
        DiskImages.create(top, DiskImages.CreateOptions.qcow2(1 << 20).withBacking(small.toString(), DiskFormat.RAW));
        try (DiskImage img = DiskImages.open(top, false)) {
            byte[] head = RawImageTest.read(img, 0, 200_000);
            assertArrayEquals(RawImageTest.pattern(100_000, 4), Arrays.copyOf(head, 100_000));
            assertArrayEquals(new byte[100_000], Arrays.copyOfRange(head, 100_000, 200_000));
            img.write(99_840, ByteBuffer.wrap(RawImageTest.pattern(1024, 5))); // straddles the base's end
            byte[] again = RawImageTest.read(img, 65536, 65536);
            byte[] want = new byte[65536];
            System.arraycopy(RawImageTest.pattern(100_000, 4), 65536, want, 0, 99_840 - 65536);
            System.arraycopy(RawImageTest.pattern(1024, 5), 0, want, 99_840 - 65536, 1024);
            assertArrayEquals(want, again);
        }
        QemuTools.assertClean(top);
    }

    /** Images written before QEMU recorded backing formats are probed. */
    @Test
    void aMissingBackingFormatIsProbed() throws Exception {
        base();
        Path top = dir.resolve("old.qcow2");
        DiskImages.create(top, DiskImages.CreateOptions.qcow2(-1).withBacking("base.raw", DiskFormat.RAW));
        // Turn the backing-format extension into an unknown one, which readers ignore.
        try (FileChannel ch = FileChannel.open(top, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).putInt(0, 0x12345678), Qcow2Header.V3_HEADER_LENGTH);
        }
        try (DiskImage img = DiskImages.open(top, true)) {
            assertEquals(DiskFormat.RAW, img.backing().orElseThrow().format());
            assertArrayEquals(RawImageTest.pattern(SIZE, 1), RawImageTest.read(img, 0, SIZE));
        }
    }

    @Test
    void aMissingBackingFileIsNamed() throws Exception {
        base();
        Path top = dir.resolve("top.qcow2");
        DiskImages.create(top, DiskImages.CreateOptions.qcow2(-1).withBacking("base.raw", DiskFormat.RAW));
        Files.delete(dir.resolve("base.raw"));
        DiskImageException e = assertThrows(DiskImageException.class, () -> DiskImages.open(top, true));
        assertEquals(dir.resolve("base.raw") + ": no such file", e.getMessage());
    }

    @Test
    void aBackingLoopIsRefused() throws Exception {
        Path a = dir.resolve("a.qcow2");
        Path b = dir.resolve("b.qcow2");
        DiskImages.create(a, DiskImages.CreateOptions.qcow2(SIZE));
        DiskImages.create(b, DiskImages.CreateOptions.qcow2(-1).withBacking("a.qcow2", DiskFormat.QCOW2));
        QemuTools.img("rebase", "-u", "-b", "b.qcow2", "-F", "qcow2", a.toString());
        DiskImageException e = assertThrows(DiskImageException.class, () -> DiskImages.open(b, false));
        assertTrue(e.getMessage().contains("backing file loop"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void aVeryDeepChainIsRefused() throws Exception {
        Path prev = dir.resolve("l0.qcow2");
        DiskImages.create(prev, DiskImages.CreateOptions.qcow2(SIZE));
        for (int i = 1; i <= DiskImages.MAX_CHAIN_DEPTH + 1; i++) {
            Path next = dir.resolve("l" + i + ".qcow2");
            // -u: qemu-img does not open the chain, so it can be made deeper than we follow.
            QemuTools.img("create", "-q", "-u", "-f", "qcow2", "-b", prev.getFileName().toString(), "-F", "qcow2",
                    next.toString(), Integer.toString(SIZE));
            prev = next;
        }
        try (DiskImage ok = DiskImages.open(dir.resolve("l" + DiskImages.MAX_CHAIN_DEPTH + ".qcow2"), true)) {
            assertArrayEquals(new byte[512], RawImageTest.read(ok, 0, 512));
        }
        Path top = prev;
        DiskImageException e = assertThrows(DiskImageException.class, () -> DiskImages.open(top, true));
        assertTrue(e.getMessage().contains("backing chain is longer than " + DiskImages.MAX_CHAIN_DEPTH), e.getMessage());
    }
}
