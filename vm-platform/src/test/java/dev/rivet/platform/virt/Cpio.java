package dev.rivet.platform.virt;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;

/**
 * Writes small initramfs archives in the "newc" cpio format (Linux
 * Documentation/driver-api/early-userspace/buffer-format.rst) so tests can add their guest
 * scripts to the bundled initramfs: the kernel unpacks concatenated archives in order.
 */
final class Cpio {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private int ino = 1000;

    Cpio file(String path, String content, int mode) {
        return entry(path, content.getBytes(StandardCharsets.UTF_8), 0100000 | mode);
    }

    Cpio file(String path, byte[] data, int mode) {
        return entry(path, data, 0100000 | mode);
    }

    Cpio dir(String path) {
        return entry(path, new byte[0], 040755);
    }

    private Cpio entry(String name, byte[] data, int mode) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        String header = String.format("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
                ino++, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, n.length + 1, 0);
        write(header.getBytes(StandardCharsets.US_ASCII));
        write(n);
        out.write(0);
        pad();
        write(data);
        pad();
        return this;
    }

    private void write(byte[] b) {
        out.write(b, 0, b.length);
    }

    private void pad() {
        while (out.size() % 4 != 0) {
            out.write(0);
        }
    }

    /** The archive, terminated and gzip-compressed. */
    byte[] gzip() {
        entry("TRAILER!!!", new byte[0], 0);
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(z)) {
            g.write(out.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return z.toByteArray();
    }
}
