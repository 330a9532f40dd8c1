package dev.rivet.devices.block;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * What a guest disk (virtio-blk now; AHCI and NVMe later) reads and writes: a host disk
 * image seen as a flat array of bytes. Implementations live with the host backends (raw
 * and qcow2 files in vm-platform); devices only see this interface.
 *
 * <p>Devices call it from their I/O executor, never from a hart thread, and may call it
 * from several threads at once: implementations are thread-safe. Offsets and lengths are
 * in bytes; devices pass multiples of {@link #sectorSize()} and check ranges against
 * {@link #size()} before calling (a guest asking past the end gets an error status from
 * the device, not an exception from here).
 */
public interface BlockBackend extends Closeable {
    /** Size of the disk in bytes (a multiple of {@link #sectorSize()}). */
    long size();

    /** Logical sector size the device reports to the guest. */
    default int sectorSize() {
        return 512;
    }

    /** True when writes, discards and write-zeroes must be refused. */
    boolean readOnly();

    /** Fills {@code dst} (its remaining bytes) from the disk at {@code offset}. */
    void read(long offset, ByteBuffer dst) throws IOException;

    /** Writes {@code src} (its remaining bytes) to the disk at {@code offset}. */
    void write(long offset, ByteBuffer src) throws IOException;

    /** Makes every completed write durable (fsync of the image and its metadata). */
    void flush() throws IOException;

    /**
     * Tells the backend the range is no longer needed. Afterwards the range reads as
     * zeroes or as its old contents (the guest may not rely on either); a backend may
     * free the space (sparse raw file, unallocated qcow2 clusters).
     */
    void discard(long offset, long length) throws IOException;

    /**
     * Makes the range read as zeroes. With {@code mayUnmap} the backend may free the space
     * instead of writing zeroes, as long as the range then reads as zeroes.
     */
    void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException;

    /** A stable identifier for the guest (virtio-blk serial), at most 20 bytes; may be empty. */
    default String serial() {
        return "";
    }
}
