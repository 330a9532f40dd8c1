package dev.rivet.aot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;

/**
 * Whole-file writes that readers in other processes never see half done: the bytes go to a
 * uniquely named temporary file in the target's directory, are forced to disk, and the
 * file is renamed over the target. Two writers of the same target both succeed (the last
 * rename wins) and a reader holding the old file keeps reading the old, whole file.
 */
final class AtomicFiles {
    private AtomicFiles() {
    }

    /**
     * Replaces {@code target} with {@code bytes}, last-modified {@code mtime}, creating its
     * directory if needed (again, if a concurrent clear removes it meanwhile).
     */
    static void write(Path target, byte[] bytes, FileTime mtime) throws IOException {
        try {
            writeOnce(target, bytes, mtime);
        } catch (NoSuchFileException e) {
            writeOnce(target, bytes, mtime);
        }
    }

    private static void writeOnce(Path target, byte[] bytes, FileTime mtime) throws IOException {
        Path dir = target.getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, CacheLayout.TEMP_PREFIX, CacheLayout.TEMP_SUFFIX);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            Files.setLastModifiedTime(tmp, mtime); // a rename keeps it
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException | Error e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * The whole content of {@code file}, or null if it does not exist. A file longer than
     * {@code limit} is returned as its first {@code limit + 1} bytes, which no valid cache
     * file is, so damage cannot make the reader allocate without bound.
     */
    static byte[] readUpTo(Path file, int limit) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            byte[] a = new byte[(int) Math.min(size, (long) limit + 1)];
            ByteBuffer b = ByteBuffer.wrap(a);
            while (b.hasRemaining() && ch.read(b) >= 0) {
                // keep reading
            }
            return b.hasRemaining() ? java.util.Arrays.copyOf(a, b.position()) : a;
        } catch (NoSuchFileException e) {
            return null;
        }
    }
}
