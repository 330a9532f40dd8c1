package dev.rivet.devices;

import dev.rivet.core.fdt.Fdt;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Device-tree checks for device tests: decompile a blob with {@code dtc} and cut one node
 * out of the source, and get QEMU's own {@code virt} tree to compare with. dtc is required
 * (vm-core's FdtTest needs it too); the QEMU comparison is skipped where QEMU is missing.
 */
public final class DeviceTrees {
    private static String qemuVirt;

    private DeviceTrees() {
    }

    /** {@code dtc -I dtb -O dts} of a blob. */
    public static String decompile(byte[] blob) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("rivet-dt");
        Path dtb = dir.resolve("t.dtb");
        try {
            Files.write(dtb, blob);
            return dtc(dtb);
        } finally {
            Files.deleteIfExists(dtb);
            Files.deleteIfExists(dir);
        }
    }

    private static String dtc(Path dtb) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder("dtc", "-I", "dtb", "-O", "dts", dtb.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            fail("dtc (Debian package device-tree-compiler) is needed to check device trees: " + e.getMessage());
            throw e;
        }
        String dts = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "dtc hung");
        assertEquals(0, p.exitValue(), dts);
        return dts;
    }

    /** The source of {@code fdt}'s node called {@code name} (see {@link #node(String, String)}). */
    public static String node(Fdt fdt, String name) throws IOException, InterruptedException {
        return node(decompile(fdt.toBlob()), name);
    }

    /**
     * The node called exactly {@code name} in dtc output: from its {@code name {} line to
     * the matching {@code };}, each line stripped of its indentation. Fails if absent.
     */
    public static String node(String dts, String name) {
        String[] lines = dts.split("\n");
        StringBuilder sb = new StringBuilder();
        int depth = -1;
        for (String raw : lines) {
            String line = raw.strip();
            if (depth < 0) {
                if (line.equals(name + " {")) {
                    depth = 0;
                } else {
                    continue;
                }
            }
            sb.append(line).append('\n');
            if (line.endsWith("{")) {
                depth++;
            } else if (line.equals("};")) {
                depth--;
                if (depth == 0) {
                    return sb.toString();
                }
            }
        }
        fail("no node '" + name + "' in:\n" + dts);
        return null;
    }

    /** QEMU 7.2+ {@code -M virt} tree, decompiled (cached); the test is skipped without QEMU. */
    public static synchronized String qemuVirt() throws IOException, InterruptedException {
        if (qemuVirt == null) {
            Path dir = Files.createTempDirectory("rivet-qemu-dt");
            Path dtb = dir.resolve("virt.dtb");
            try {
                Process q;
                try {
                    q = new ProcessBuilder("qemu-system-riscv64", "-M", "virt,dumpdtb=" + dtb, "-nographic")
                            .redirectErrorStream(true).start();
                } catch (IOException e) {
                    fail("qemu-system-riscv64 is not installed (Debian qemu-system-misc; .ci/run installs it): " + e.getMessage());
                    throw e;
                }
                String out = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(q.waitFor(60, TimeUnit.SECONDS), "QEMU hung dumping its tree");
                assertTrue(Files.exists(dtb), "QEMU did not dump its device tree: " + out);
                qemuVirt = dtc(dtb);
            } finally {
                Files.deleteIfExists(dtb);
                Files.deleteIfExists(dir);
            }
        }
        return qemuVirt;
    }
}
