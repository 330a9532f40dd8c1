package dev.rivet.platform.disk;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A raw image: disk byte N is file byte N. The file may be sparse or shorter than the
 * disk (a file whose length is not a whole number of sectors is rounded up): bytes past its
 * end read as zeroes. Positional I/O on one {@link FileChannel} is thread-safe by itself.
 */
public final class RawImage implements DiskImage {
    private static final int SECTOR = 512;
    /** Largest zero buffer writeZeroes allocates at once. */
    private static final int ZERO_CHUNK = 1 << 20;

    private final Path path;
    private final FileChannel channel;
    private final boolean readOnly;
    private final long size;
    /** A second descriptor for fallocate hole punching, or -1 (read-only, or not on Linux). */
    private final int punchFd;

    private RawImage(Path path, FileChannel channel, boolean readOnly, long size, int punchFd) {
        this.path = path;
        this.channel = channel;
        this.readOnly = readOnly;
        this.size = size;
        this.punchFd = punchFd;
    }

    /** Opens an existing raw file; read-only opens it without write permission. */
    public static RawImage open(Path path, boolean readOnly) throws IOException {
        FileChannel ch = readOnly ? FileChannel.open(path, StandardOpenOption.READ)
                : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            long length = ch.size();
            long size = length % SECTOR == 0 ? length : (length / SECTOR + 1) * SECTOR;
            return new RawImage(path, ch, readOnly, size, readOnly ? -1 : LinuxFiles.openForPunching(path));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Creates a sparse raw file of {@code size} bytes; refuses to replace an existing file. */
    public static void create(Path path, long size) throws IOException {
        if (size < 0) {
            throw new IllegalArgumentException("negative size");
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
            f.setLength(size); // ftruncate: no blocks allocated
            ch.force(true);
        } catch (NoSuchFileException e) {
            throw new DiskImageException(path, "no such directory");
        }
    }

    @Override
    public DiskFormat format() {
        return DiskFormat.RAW;
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        Ranges.check(path, offset, dst.remaining(), size);
        long pos = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) {
                // Past the end of a short file: the disk reads as zeroes there.
                Ranges.zero(dst);
                return;
            }
            pos += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        checkWritable();
        Ranges.check(path, offset, src.remaining(), size);
        long pos = offset;
        while (src.hasRemaining()) {
            pos += channel.write(src, pos);
        }
    }

    @Override
    public void flush() throws IOException {
        if (!readOnly) {
            channel.force(true);
        }
    }

    @Override
    public void discard(long offset, long length) throws IOException {
        checkWritable();
        Ranges.check(path, offset, length, size);
        // Best effort: where holes cannot be punched the old contents stay, which the
        // contract allows.
        LinuxFiles.punchHole(punchFd, offset, length);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException {
        checkWritable();
        Ranges.check(path, offset, length, size);
        if (mayUnmap && LinuxFiles.punchHole(punchFd, offset, length)) {
            return;
        }
        ByteBuffer zeroes = ByteBuffer.allocate((int) Math.min(length, ZERO_CHUNK));
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(zeroes.capacity(), length - done);
            write(offset + done, zeroes.clear().limit(n));
            done += n;
        }
    }

    @Override
    public long diskSize() throws IOException {
        long allocated = LinuxFiles.allocatedBytes(path);
        return allocated >= 0 ? allocated : channel.size();
    }

    @Override
    public void close() throws IOException {
        LinuxFiles.close(punchFd);
        channel.close();
    }

    private void checkWritable() throws IOException {
        if (readOnly) {
            throw new DiskImageException(path, "image is open read-only");
        }
    }

    @Override
    public String toString() {
        return "raw " + path;
    }
}
