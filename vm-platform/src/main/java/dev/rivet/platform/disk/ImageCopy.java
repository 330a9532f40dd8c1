package dev.rivet.platform.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.function.LongConsumer;

/**
 * Copies one image into a new one through the {@link DiskImage} API, so any source works
 * (qcow2 with its backing chain is flattened). Ranges that read as zeroes are not written,
 * so the copy stays sparse: raw targets keep holes, qcow2 targets leave clusters unallocated.
 */
public final class ImageCopy {
    /** Bytes read per step. */
    private static final int CHUNK = 1 << 20;
    /** Granularity of the zero test: a block of zeroes inside a chunk is skipped. */
    private static final int BLOCK = 64 << 10;

    private ImageCopy() {
    }

    /** Counts of a finished copy. */
    public record Result(long size, long bytesWritten) {
    }

    /**
     * Creates {@code target} as {@code format} with the size of {@code source} and copies the
     * data; {@code progress} receives the number of bytes handled so far. On failure the
     * half-written target is deleted.
     */
    public static Result convert(DiskImage source, Path target, DiskFormat format, LongConsumer progress)
            throws IOException {
        long size = source.size();
        DiskImages.create(target, format == DiskFormat.RAW ? DiskImages.CreateOptions.raw(size)
                : DiskImages.CreateOptions.qcow2(size));
        try (DiskImage dst = DiskImages.open(target, format, false)) {
            long written = copy(source, dst, progress);
            dst.flush();
            return new Result(size, written);
        } catch (IOException | RuntimeException e) {
            DiskImages.deleteQuietly(target);
            throw e;
        }
    }

    /** Copies every non-zero block of {@code src} to the (zero-initialised) {@code dst}; returns bytes written. */
    static long copy(DiskImage src, DiskImage dst, LongConsumer progress) throws IOException {
        long size = src.size();
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
        long written = 0;
        long pos = 0;
        while (pos < size) {
            long skip = src.knownZeroes(pos, Math.min(size - pos, Long.MAX_VALUE));
            if (skip > 0) {
                pos += skip;
                progress.accept(pos);
                continue;
            }
            int n = (int) Math.min(CHUNK, size - pos);
            buf.clear().limit(n);
            src.read(pos, buf);
            for (int off = 0; off < n; off += BLOCK) {
                int len = Math.min(BLOCK, n - off);
                ByteBuffer block = buf.slice(off, len);
                if (!Ranges.isZero(block)) {
                    dst.write(pos + off, block);
                    written += len;
                }
            }
            pos += n;
            progress.accept(pos);
        }
        return written;
    }
}
