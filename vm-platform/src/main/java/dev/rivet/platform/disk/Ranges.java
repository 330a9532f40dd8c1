package dev.rivet.platform.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/** Range checks and zero fills shared by the image formats. */
final class Ranges {
    private Ranges() {
    }

    /** Devices check ranges first; an access outside the disk here is a caller bug reported as I/O error. */
    static void check(Path path, long offset, long length, long size) throws IOException {
        if (offset < 0 || length < 0 || offset > size || length > size - offset) {
            throw new DiskImageException(path, "access of " + length + " bytes at " + offset
                    + " is outside the disk (" + size + " bytes)");
        }
    }

    /** Zeroes the remaining bytes of {@code dst} and consumes them. */
    static void zero(ByteBuffer dst) {
        while (dst.hasRemaining()) {
            if (dst.remaining() >= Long.BYTES) {
                dst.putLong(0);
            } else {
                dst.put((byte) 0);
            }
        }
    }

    /** True when every remaining byte of {@code b} is zero (position unchanged). */
    static boolean isZero(ByteBuffer b) {
        int i = b.position(), end = b.limit();
        for (; i + Long.BYTES <= end; i += Long.BYTES) {
            if (b.getLong(i) != 0) {
                return false;
            }
        }
        for (; i < end; i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }
}
