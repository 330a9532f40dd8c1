package dev.rivet.platform.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens and creates disk images. The format is probed (the qcow2 magic "QFI\xfb", else
 * raw) unless given. Backing files are opened read-only, named relative to the directory of
 * the image that names them, and limited to {@link #MAX_CHAIN_DEPTH} links without loops.
 */
public final class DiskImages {
    /** Longest backing chain followed (the top image is depth 0). */
    public static final int MAX_CHAIN_DEPTH = 32;
    public static final int DEFAULT_CLUSTER_SIZE = 64 << 10;

    private DiskImages() {
    }

    /** Opens {@code path}, probing its format. */
    public static DiskImage open(Path path, boolean readOnly) throws IOException {
        return open(path, null, readOnly);
    }

    /** Opens {@code path} as {@code format} ({@code null}: probe). */
    public static DiskImage open(Path path, DiskFormat format, boolean readOnly) throws IOException {
        return open(path, format, readOnly, new ArrayList<>());
    }

    private static DiskImage open(Path path, DiskFormat format, boolean readOnly, List<Path> chain) throws IOException {
        checkChain(path, chain);
        DiskFormat f = format != null ? format : probe(path);
        try {
            return switch (f) {
                case RAW -> RawImage.open(path, readOnly);
                case QCOW2 -> Qcow2Image.open(path, readOnly, h -> {
                    Path b = resolveBacking(path, h.backingName);
                    return open(b, backingFormat(path, h), true, chain);
                });
            };
        } catch (FileSystemException e) {
            throw fileProblem(path, e);
        }
    }

    /** A one-line message for a file that cannot be opened or created. */
    static DiskImageException fileProblem(Path path, FileSystemException e) {
        String why = switch (e) {
            case NoSuchFileException x -> "no such file";
            case AccessDeniedException x -> "permission denied";
            case FileAlreadyExistsException x -> "file exists (not overwriting it)";
            default -> e.getReason() != null ? e.getReason() : "cannot be opened";
        };
        return new DiskImageException(path, why);
    }

    /** Refuses loops and over-long chains; {@code chain} holds the real paths above this one. */
    private static void checkChain(Path path, List<Path> chain) throws IOException {
        if (chain.size() > MAX_CHAIN_DEPTH) {
            throw new DiskImageException(chain.getFirst(), "backing chain is longer than " + MAX_CHAIN_DEPTH + " images");
        }
        Path real;
        try {
            real = path.toRealPath();
        } catch (FileSystemException e) {
            throw fileProblem(path, e);
        }
        if (chain.contains(real)) {
            throw new DiskImageException(chain.getFirst(), "backing file loop: " + real + " is its own backing file");
        }
        chain.add(real);
    }

    /** qcow2 when the file starts with the qcow2 magic, raw otherwise (also for short files). */
    public static DiskFormat probe(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(4);
            Qcow2Header.readFully(ch, b, 0);
            return b.position() == 4 && b.getInt(0) == Qcow2Header.MAGIC ? DiskFormat.QCOW2 : DiskFormat.RAW;
        } catch (FileSystemException e) {
            throw fileProblem(path, e);
        }
    }

    /** A backing name as stored in {@code image}: absolute, or relative to the image's directory. */
    static Path resolveBacking(Path image, String name) throws DiskImageException {
        if (name.startsWith("json:") || name.contains("://")) {
            throw new DiskImageException(image, "backing file '" + name + "' is not a local file");
        }
        try {
            Path p = Path.of(name);
            if (p.isAbsolute()) {
                return p;
            }
            Path dir = image.toAbsolutePath().getParent();
            return dir == null ? p : dir.resolve(p);
        } catch (InvalidPathException e) {
            throw new DiskImageException(image, "backing file name is not a valid path");
        }
    }

    private static DiskFormat backingFormat(Path image, Qcow2Header h) throws DiskImageException {
        if (h.backingFormat == null) {
            return null; // probe, as QEMU does for images made without -F
        }
        try {
            return DiskFormat.parse(h.backingFormat);
        } catch (IllegalArgumentException e) {
            throw new DiskImageException(image, "backing file format '" + h.backingFormat + "' is not supported");
        }
    }

    /** What to create: see {@link #create}. */
    public record CreateOptions(DiskFormat format, long size, int clusterSize, String backingFile,
                                DiskFormat backingFormat) {
        /** A sparse raw file. */
        public static CreateOptions raw(long size) {
            return new CreateOptions(DiskFormat.RAW, size, 0, null, null);
        }

        /** A qcow2 image with 64 KiB clusters and no backing file. */
        public static CreateOptions qcow2(long size) {
            return new CreateOptions(DiskFormat.QCOW2, size, DEFAULT_CLUSTER_SIZE, null, null);
        }

        public CreateOptions withClusterSize(int bytes) {
            return new CreateOptions(format, size, bytes, backingFile, backingFormat);
        }

        /**
         * Reads unallocated clusters from {@code file} (stored as given: a relative name is
         * relative to the new image's directory); {@code fmt} null probes it now and records
         * the result. A negative size takes the backing file's.
         */
        public CreateOptions withBacking(String file, DiskFormat fmt) {
            return new CreateOptions(format, size, clusterSize, file, fmt);
        }
    }

    /**
     * Creates an image; never replaces an existing file. A qcow2 image with a backing file
     * and a negative size gets the backing file's size. Sizes round up to whole sectors.
     * Bad options are {@link IllegalArgumentException}s; an unusable backing file or target
     * is a {@link DiskImageException}.
     */
    public static void create(Path path, CreateOptions o) throws IOException {
        if (o.backingFile() != null && o.format() != DiskFormat.QCOW2) {
            throw new IllegalArgumentException("only qcow2 images can have a backing file");
        }
        long size = o.size();
        DiskFormat backingFormat = o.backingFormat();
        if (o.backingFile() != null) {
            int len = o.backingFile().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (len == 0 || len > Qcow2Header.MAX_BACKING_NAME) {
                throw new IllegalArgumentException("backing file name is too long or empty (" + len + " bytes, at most "
                        + Qcow2Header.MAX_BACKING_NAME + ")");
            }
            Path b = resolveBacking(path, o.backingFile());
            try (DiskImage backing = open(b, backingFormat, true)) {
                backingFormat = backing.format();
                if (size < 0) {
                    size = backing.size();
                }
            }
        }
        if (size < 0) {
            throw new IllegalArgumentException("no size given");
        }
        if (size > Long.MAX_VALUE - 511) {
            throw new IllegalArgumentException("size is too large");
        }
        size = (size + 511) & -512L;
        try {
            switch (o.format()) {
                case RAW -> RawImage.create(path, size);
                case QCOW2 -> Qcow2Image.create(path, size, o.clusterSize(), o.backingFile(),
                        backingFormat == null ? null : backingFormat.id());
            }
        } catch (NoSuchFileException e) {
            throw new DiskImageException(path, "no such directory");
        } catch (FileSystemException e) {
            throw fileProblem(path, e);
        }
    }

    /** One image of a backing chain as {@link #info} describes it. */
    public record Layer(Path path, String storedName, DiskFormat format, long virtualSize) {
    }

    /**
     * What {@code vmctl disk info} shows. Cluster size and version are 0 for raw images;
     * {@code backingChain} lists the backing images, nearest first.
     */
    public record Info(Path path, DiskFormat format, long virtualSize, long diskSize, int clusterSize, int version,
                       boolean dirty, boolean corrupt, List<Layer> backingChain) {
    }

    /**
     * Describes an image and its backing chain without refusing dirty or corrupt images
     * (reading the header is enough).
     */
    public static Info info(Path path, DiskFormat format) throws IOException {
        try (DiskImage img = open(path, format, true)) {
            long disk = img.diskSize();
            if (!(img instanceof Qcow2Image q)) {
                return new Info(path, img.format(), img.size(), disk, 0, 0, false, false, List.of());
            }
            List<Layer> chain = new ArrayList<>();
            Qcow2Image cur = q;
            while (cur != null && cur.backing().isPresent()) {
                DiskImage b = cur.backing().get();
                chain.add(new Layer(b.path(), cur.header().backingName, b.format(), b.size()));
                cur = b instanceof Qcow2Image next ? next : null;
            }
            Qcow2Header h = q.header();
            return new Info(path, DiskFormat.QCOW2, q.size(), disk, q.clusterSize(), h.version, h.dirty(), h.corrupt(),
                    List.copyOf(chain));
        }
    }

    /** Deletes a file this package created when a later step failed (best effort). */
    static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // The caller reports the original failure.
        }
    }
}
