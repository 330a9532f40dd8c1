package dev.rivet.platform.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.rivet.platform.disk.DiskImage;
import dev.rivet.platform.disk.DiskImages;

import static dev.rivet.platform.cli.VmctlTest.assertNoStackTrace;
import static dev.rivet.platform.cli.VmctlTest.vmctl;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code vmctl disk} as a user meets it, with qemu-img as the independent judge of what it makes. */
class DiskCommandTest {
    @TempDir
    Path dir;

    static String qemuImg(String... args) throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "qemu-img";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
        return out;
    }

    static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 13 + (i >>> 9));
        }
        return b;
    }

    @Test
    void createMakesImagesQemuAccepts() throws Exception {
        Path q = dir.resolve("a.qcow2");
        VmctlTest.Outcome o = vmctl("disk", "create", q.toString(), "10G");
        assertEquals(0, o.status(), o.err());
        assertEquals("created " + q + " (qcow2, 10.0 GiB (10737418240 bytes))\n", o.out());
        assertTrue(qemuImg("info", "--output=json", q.toString()).contains("\"virtual-size\": 10737418240"));
        assertTrue(qemuImg("check", q.toString()).contains("No errors were found"));

        Path r = dir.resolve("b.raw");
        assertEquals(0, vmctl("disk", "create", "-f", "raw", r.toString(), "512M").status());
        assertEquals(512L << 20, Files.size(r));

        Path small = dir.resolve("small.qcow2");
        assertEquals(0, vmctl("disk", "create", "--cluster-size", "4K", small.toString(), "1000").status());
        String info = qemuImg("info", "--output=json", small.toString());
        assertTrue(info.contains("\"cluster-size\": 4096") && info.contains("\"virtual-size\": 1024"), info);
    }

    @Test
    void createWithABackingFileTakesItsSize() throws Exception {
        Files.write(dir.resolve("base.raw"), pattern(3 << 20));
        Path top = dir.resolve("top.qcow2");
        VmctlTest.Outcome o = vmctl("disk", "create", "-b", "base.raw", "-F", "raw", top.toString());
        assertEquals(0, o.status(), o.err());
        String info = qemuImg("info", "--output=json", top.toString());
        assertTrue(info.contains("\"virtual-size\": 3145728"), info);
        assertTrue(info.contains("\"backing-filename\": \"base.raw\""), info);
        assertTrue(info.contains("\"backing-filename-format\": \"raw\""), info);
    }

    @Test
    void infoDescribesTheImageAndItsChain() throws Exception {
        Path base = Files.write(dir.resolve("base.raw"), pattern(1 << 20));
        Path top = dir.resolve("top.qcow2");
        assertEquals(0, vmctl("disk", "create", "-b", "base.raw", top.toString()).status());
        VmctlTest.Outcome o = vmctl("disk", "info", top.toString());
        assertEquals(0, o.status(), o.err());
        assertTrue(o.out().startsWith("image:        " + top + "\nformat:       qcow2 (version 3)\n"
                + "virtual size: 1.0 MiB (1048576 bytes)\ndisk size:    "), o.out());
        assertTrue(o.out().contains("\ncluster size: 65536\ndirty:        no\ncorrupt:      no\n"
                + "backing file: base.raw (raw, " + base + ")\n"), o.out());

        VmctlTest.Outcome j = vmctl("disk", "info", "--json", top.toString());
        assertEquals(0, j.status(), j.err());
        String want = "{\"path\":\"" + top + "\",\"format\":\"qcow2\",\"virtualSize\":1048576,\"diskSize\":"
                + DiskImages.info(top, null).diskSize() + ",\"clusterSize\":65536,\"version\":3,\"dirty\":false,"
                + "\"corrupt\":false,\"backingChain\":[{\"path\":\"" + base + "\",\"name\":\"base.raw\","
                + "\"format\":\"raw\",\"virtualSize\":1048576}]}\n";
        assertEquals(want, j.out());

        VmctlTest.Outcome raw = vmctl("disk", "info", "--json", base.toString());
        assertTrue(raw.out().startsWith("{\"path\":\"" + base + "\",\"format\":\"raw\",\"virtualSize\":1048576,"), raw.out());
        assertTrue(raw.out().contains(",\"clusterSize\":null,\"version\":null,\"dirty\":false,\"corrupt\":false,"
                + "\"backingChain\":[]}"), raw.out());
    }

    @Test
    void infoShowsADirtyImage() throws Exception {
        Path q = dir.resolve("d.qcow2");
        assertEquals(0, vmctl("disk", "create", q.toString(), "1M").status());
        try (var ch = java.nio.channels.FileChannel.open(q, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).putLong(0, 1), 72); // incompatible_features: dirty
        }
        VmctlTest.Outcome o = vmctl("disk", "info", "--json", q.toString());
        assertEquals(0, o.status(), o.err());
        assertTrue(o.out().contains("\"dirty\":true"), o.out());
    }

    @Test
    void convertFlattensTheChainAndStaysSparse() throws Exception {
        byte[] base = new byte[8 << 20];
        System.arraycopy(pattern(1 << 20), 0, base, 0, 1 << 20); // data only in the first MiB
        Files.write(dir.resolve("base.raw"), base);
        Path top = dir.resolve("top.qcow2");
        assertEquals(0, vmctl("disk", "create", "-b", "base.raw", "-F", "raw", top.toString()).status());
        try (DiskImage img = DiskImages.open(top, false)) {
            img.write(5 << 20, ByteBuffer.wrap(pattern(4096)));
        }
        byte[] expected = base.clone();
        System.arraycopy(pattern(4096), 0, expected, 5 << 20, 4096);

        Path flat = dir.resolve("flat.qcow2");
        VmctlTest.Outcome o = vmctl("disk", "convert", "-O", "qcow2", top.toString(), flat.toString());
        assertEquals(0, o.status(), o.err());
        assertEquals("converted " + top + " (qcow2) to " + flat + " (qcow2): 8.0 MiB (8388608 bytes), "
                + "1.1 MiB (1114112 bytes) of data\n", o.out());
        assertEquals("", o.err(), "no progress bar off a terminal");
        assertTrue(qemuImg("check", flat.toString()).contains("No errors were found"));
        assertFalse(qemuImg("info", flat.toString()).contains("backing"), "flattened");
        assertTrue(Files.size(flat) < 2 << 20, "sparse: " + Files.size(flat));

        Path raw = dir.resolve("flat.raw");
        assertEquals(0, vmctl("disk", "convert", "-f", "qcow2", "-O", "raw", top.toString(), raw.toString()).status());
        assertArrayEquals(expected, Files.readAllBytes(raw));
        try (DiskImage r = DiskImages.open(raw, true)) {
            assertTrue(r.diskSize() < 3 << 20, "holes stay holes: " + r.diskSize());
        }
        assertTrue(qemuImg("compare", "-F", "raw", flat.toString(), raw.toString()).contains("Images are identical"));
    }

    @Test
    void convertCanBeForcedToShowProgress() throws Exception {
        Path src = dir.resolve("s.raw");
        Files.write(src, pattern(2 << 20));
        VmctlTest.Outcome o = vmctl("disk", "convert", "--progress", "-O", "qcow2", src.toString(),
                dir.resolve("d.qcow2").toString());
        assertEquals(0, o.status(), o.err());
        assertTrue(o.err().contains("convert") && o.err().contains("100%"), o.err());
        VmctlTest.Outcome quiet = vmctl("disk", "convert", "--no-progress", "-O", "raw", src.toString(),
                dir.resolve("d.raw").toString());
        assertEquals("", quiet.err());
    }

    @Test
    void unusableImagesExit1WithOneLine() throws Exception {
        Path junk = Files.write(dir.resolve("junk.qcow2"), new byte[] {'Q', 'F', 'I', (byte) 0xfb, 0, 0, 0, 3});
        Path existing = Files.write(dir.resolve("exists.raw"), new byte[512]);
        List<String[]> cases = List.of(
                new String[] {"too short to be a qcow2 image", "disk", "info", junk.toString()},
                new String[] {"no such file", "disk", "info", dir.resolve("missing.qcow2").toString()},
                new String[] {"not a qcow2 image", "disk", "info", "-f", "qcow2", existing.toString()},
                new String[] {"file exists", "disk", "create", existing.toString(), "1M"},
                new String[] {"file exists", "disk", "convert", "-O", "raw", existing.toString(), existing.toString()},
                new String[] {"no such file", "disk", "create", "-b", "nothere.raw", dir.resolve("t.qcow2").toString()},
                new String[] {"too short to be a qcow2 image", "disk", "convert", "-O", "raw", junk.toString(),
                        dir.resolve("out.raw").toString()});
        for (String[] c : cases) {
            VmctlTest.Outcome o = vmctl(Arrays.copyOfRange(c, 1, c.length));
            assertEquals(1, o.status(), String.join(" ", c) + ": " + o.err());
            assertTrue(o.err().startsWith("vmctl: ") && o.err().contains(c[0]), o.err());
            assertEquals(1, o.err().lines().count(), o.err());
            assertNoStackTrace(o);
        }
        assertFalse(Files.exists(dir.resolve("out.raw")), "a failed convert leaves no half-written file");
        assertFalse(Files.exists(dir.resolve("t.qcow2")));
    }

    @Test
    void badArgumentsExit2() {
        String img = dir.resolve("x.qcow2").toString();
        String[][] cases = {
                {"disk"},
                {"disk", "shrink", img},
                {"disk", "create", img},
                {"disk", "create", img, "ten"},
                {"disk", "create", img, "-5G"},
                {"disk", "create", img, "99999999P"},
                {"disk", "create", "-f", "vmdk", img, "1G"},
                {"disk", "create", "-f", "raw", "-b", "base.raw", img, "1G"},
                {"disk", "create", "-F", "raw", img, "1G"},
                {"disk", "create", "--cluster-size", "3000", img, "1G"},
                {"disk", "create", "--cluster-size", "4M", img, "1G"},
                {"disk", "info"},
                {"disk", "info", "--frobnicate", img},
                {"disk", "convert", img, img + "2"},
                {"disk", "convert", "-O", "vdi", img, img + "2"},
        };
        for (String[] c : cases) {
            VmctlTest.Outcome o = vmctl(c);
            assertEquals(Vmctl.EXIT_USAGE, o.status(), String.join(" ", c) + ": " + o.err());
            assertTrue(o.err().startsWith("vmctl: "), o.err());
            assertEquals(1, o.err().lines().filter(l -> !l.startsWith("Try ")).count(), o.err());
            assertNoStackTrace(o);
        }
        assertFalse(Files.exists(dir.resolve("x.qcow2")), "nothing created by a bad command line");
    }

    @Test
    void sizesParseLikeQemuImg() {
        DiskCommand.SizeConverter c = new DiskCommand.SizeConverter();
        assertEquals(10L << 30, c.convert("10G"));
        assertEquals(512L << 20, c.convert("512M"));
        assertEquals(1L << 40, c.convert("1T"));
        assertEquals(1L << 40, c.convert("1TiB"));
        assertEquals(4096L, c.convert("4096"));
        assertEquals(64L << 10, c.convert("64k"));
    }

    @Test
    void helpListsTheDiskCommands() {
        VmctlTest.Outcome o = vmctl("disk", "--help");
        assertEquals(0, o.status());
        assertTrue(o.out().contains("create") && o.out().contains("info") && o.out().contains("convert"), o.out());
        assertTrue(vmctl("--help").out().contains("disk"));
    }
}
