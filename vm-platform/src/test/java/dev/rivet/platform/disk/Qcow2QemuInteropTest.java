package dev.rivet.platform.disk;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Images made and written by QEMU's own tools, read and written by us, then checked by
 * QEMU again. The same qemu-io commands applied to a raw file give the expected contents.
 */
class Qcow2QemuInteropTest {
    static final int SIZE = 8 << 20;
    /** What qemu-io writes before we touch the image: data, zero clusters, unmapped zeroes, unaligned bits (no discard: QEMU may show backing data there). */
    static final String[] QEMU_WRITES = {
            "write -P 0x11 0 64k", "write -P 0x22 1m 4k", "write -P 0x33 3000k 300k", "write -z 4m 128k",
            "write -P 0x44 5m 1m", "write -z -u 5m 64k", "write -P 0x55 8184k 8k", "write -z 6m 8k",
    };

    @TempDir
    Path dir;

    @ParameterizedTest(name = "qemu-img create {0}")
    @ValueSource(strings = {
            "",
            "-o cluster_size=4096",
            "-o cluster_size=512",
            "-o compat=0.10",
            "-o refcount_bits=1",
            "-o refcount_bits=64,cluster_size=16384",
            "-o preallocation=metadata",
            "-o lazy_refcounts=on",
            "-b base.raw -F raw",
            "-b base.qcow2 -F qcow2 -o cluster_size=4096",
            "-b base.raw -F raw -o compat=0.10",
    })
    void qemuImagesReadAndWriteCorrectly(String options) throws Exception {
        long seed = Qcow2ImageTest.SEED + options.hashCode();
        System.out.println("Qcow2QemuInteropTest: seed " + seed + " for '" + options + "'");
        Path raw = dir.resolve("expected.raw");
        byte[] baseBytes = new byte[SIZE];
        if (options.contains("-b base")) { // qemu-img resolves -b against the image's directory, as we do
            baseBytes = RawImageTest.pattern(SIZE, 9);
            Files.write(dir.resolve("base.raw"), baseBytes);
            QemuTools.img("convert", "-f", "raw", "-O", "qcow2", dir.resolve("base.raw").toString(),
                    dir.resolve("base.qcow2").toString());
        }
        Files.write(raw, baseBytes);
        Path image = dir.resolve("qemu.qcow2");
        List<String> create = new ArrayList<>(List.of("qemu-img", "create", "-q", "-f", "qcow2"));
        if (!options.isEmpty()) {
            create.addAll(List.of(options.split(" ")));
        }
        create.addAll(List.of(image.toString(), Integer.toString(SIZE)));
        QemuTools.ok(create.toArray(String[]::new));
        QemuTools.io(image, "qcow2", QEMU_WRITES);
        QemuTools.io(raw, "raw", QEMU_WRITES);
        boolean backed = options.contains("-b base");
        Path basePath = dir.resolve(options.contains("base.qcow2") ? "base.qcow2" : "base.raw");
        byte[] baseBefore = backed ? Files.readAllBytes(basePath) : null;

        Qcow2ImageTest.Model m = new Qcow2ImageTest.Model(SIZE);
        System.arraycopy(Files.readAllBytes(raw), 0, m.bytes, 0, SIZE);
        try (DiskImage img = DiskImages.open(image, true)) {
            assertEquals(SIZE, img.size());
            m.check(img, 0, SIZE, "reading what qemu-io wrote");
        }
        int clusterSize;
        try (DiskImage img = DiskImages.open(image, false)) {
            clusterSize = ((Qcow2Image) img).clusterSize();
        }
        Qcow2ImageTest.exercise(image, m, seed, 300, clusterSize);
        QemuTools.assertClean(image);
        Path after = m.saveRaw(dir.resolve("after.raw"));
        String cmp = QemuTools.img("compare", "-f", "qcow2", "-F", "raw", image.toString(), after.toString());
        assertTrue(cmp.contains("Images are identical"), cmp);
        if (backed) {
            assertArrayEquals(baseBefore, Files.readAllBytes(basePath), "the backing file is never written");
        }
        if (options.contains("lazy_refcounts")) {
            String info = QemuTools.img("info", "--output=json", image.toString());
            assertTrue(info.contains("\"corrupt\": false"), info);
        }
    }
}
