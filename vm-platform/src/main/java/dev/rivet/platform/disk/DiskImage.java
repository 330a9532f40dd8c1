package dev.rivet.platform.disk;

import dev.rivet.devices.block.BlockBackend;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** An open host disk image: what a guest disk uses, plus what tools (info, convert) ask of it. */
public interface DiskImage extends BlockBackend {
    DiskFormat format();

    /** The file as it was opened (not resolved to a real path). */
    Path path();

    /** The image this one reads unallocated ranges from, when there is one. */
    default Optional<DiskImage> backing() {
        return Optional.empty();
    }

    /**
     * How many bytes from {@code offset} (at most {@code length}) are known to read as
     * zeroes without reading them: lets a copy skip unallocated ranges. 0 means "unknown,
     * read it"; never more than is true.
     */
    default long knownZeroes(long offset, long length) throws IOException {
        return 0;
    }

    /** Bytes the image file occupies on the host (allocated blocks; the file length where unknown). */
    long diskSize() throws IOException;
}
