package dev.rivet.platform.boot;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * A Linux RISC-V kernel {@code Image}, plain or gzip-compressed (Linux
 * Documentation/arch/riscv/boot-image-header.rst): a 64-byte header with magic "RSC\x05"
 * at offset 56 (and the deprecated "RISCV\0\0\0" at 48), the load offset from the start of
 * RAM ({@code text_offset}) and the in-memory image size.
 */
public record KernelImage(byte[] bytes, long textOffset, long imageSize) {
    private static final int HEADER_SIZE = 64;
    private static final int MAGIC2_OFFSET = 56;
    private static final int MAGIC2 = 0x05435352; // "RSC\x05", little-endian
    /** Decompressed kernels larger than this are refused (no real kernel comes close). */
    static final long MAX_KERNEL = 512L << 20;

    /** Reads and checks a kernel file; errors are one-line {@link BootException}s naming the file. */
    public static KernelImage read(Path path) throws BootException {
        byte[] raw;
        try {
            if (Files.size(path) > MAX_KERNEL) {
                throw new BootException(path + ": kernel file is larger than " + (MAX_KERNEL >> 20) + " MiB");
            }
            raw = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new BootException(path + ": no such file");
        } catch (IOException e) {
            throw new BootException(path + ": cannot read: " + e.getMessage());
        }
        try {
            return parse(raw);
        } catch (BootException e) {
            throw new BootException(path + ": " + e.getMessage());
        }
    }

    public static KernelImage parse(byte[] raw) throws BootException {
        byte[] img = isGzip(raw) ? gunzip(raw) : raw;
        if (img.length < HEADER_SIZE || le32(img, MAGIC2_OFFSET) != MAGIC2) {
            if (img.length >= 4 && img[0] == 0x7F && img[1] == 'E' && img[2] == 'L' && img[3] == 'F') {
                throw new BootException("this is an ELF file (vmlinux?), not a kernel Image; pass arch/riscv/boot/Image");
            }
            throw new BootException("not a RISC-V Linux kernel Image (no \"RSC\\x05\" magic in the header)");
        }
        long textOffset = le64(img, 8);
        long imageSize = le64(img, 16);
        if (textOffset < 0 || textOffset > (1L << 30) || (textOffset & 0xFFF) != 0) {
            throw new BootException(String.format("kernel header has an unusable text_offset 0x%x", textOffset));
        }
        if (imageSize < img.length || imageSize > MAX_KERNEL) {
            // image_size may be 0 in very old kernels: fall back to the file size plus bss guess.
            imageSize = Math.max(img.length, imageSize == 0 ? img.length : Math.min(imageSize, MAX_KERNEL));
        }
        return new KernelImage(img, textOffset, imageSize);
    }

    static boolean isGzip(byte[] b) {
        return b.length >= 2 && (b[0] & 0xFF) == 0x1F && (b[1] & 0xFF) == 0x8B;
    }

    private static byte[] gunzip(byte[] raw) throws BootException {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length * 3);
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                if (out.size() > MAX_KERNEL) {
                    throw new BootException("compressed kernel expands past " + (MAX_KERNEL >> 20) + " MiB");
                }
            }
            return out.toByteArray();
        } catch (ZipException | java.io.EOFException e) {
            throw new BootException("corrupt gzip data: " + e.getMessage());
        } catch (IOException e) {
            throw new BootException("cannot decompress: " + e.getMessage());
        }
    }

    static int le32(byte[] b, int o) {
        return (b[o] & 0xFF) | (b[o + 1] & 0xFF) << 8 | (b[o + 2] & 0xFF) << 16 | (b[o + 3] & 0xFF) << 24;
    }

    static long le64(byte[] b, int o) {
        return (le32(b, o) & 0xFFFF_FFFFL) | ((long) le32(b, o + 4) << 32);
    }
}
