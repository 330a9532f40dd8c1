package dev.rivet.platform.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The qcow2 header, its extensions and the backing file name, as docs/interop/qcow2.txt
 * ("Header", "Header extensions", "Feature name table") lays them out: all big-endian, in
 * the first cluster of the file. {@link #read} checks everything a reader relies on to stay
 * inside the file and inside sane memory bounds; {@link #checkOpenable} then refuses the
 * features Rivet does not implement.
 */
final class Qcow2Header {
    static final int MAGIC = 0x514649fb; // "QFI\xfb"

    // Header fields (byte offsets), version 2 and 3.
    static final int OFF_MAGIC = 0;
    static final int OFF_VERSION = 4;
    static final int OFF_BACKING_FILE_OFFSET = 8;
    static final int OFF_BACKING_FILE_SIZE = 16;
    static final int OFF_CLUSTER_BITS = 20;
    static final int OFF_SIZE = 24;
    static final int OFF_CRYPT_METHOD = 32;
    static final int OFF_L1_SIZE = 36;
    static final int OFF_L1_TABLE_OFFSET = 40;
    static final int OFF_REFCOUNT_TABLE_OFFSET = 48;
    static final int OFF_REFCOUNT_TABLE_CLUSTERS = 56;
    static final int OFF_NB_SNAPSHOTS = 60;
    static final int OFF_SNAPSHOTS_OFFSET = 64;
    // Version 3 only.
    static final int OFF_INCOMPATIBLE_FEATURES = 72;
    static final int OFF_COMPATIBLE_FEATURES = 80;
    static final int OFF_AUTOCLEAR_FEATURES = 88;
    static final int OFF_REFCOUNT_ORDER = 96;
    static final int OFF_HEADER_LENGTH = 100;
    static final int OFF_COMPRESSION_TYPE = 104;

    static final int V2_HEADER_LENGTH = 72;
    static final int V3_MIN_HEADER_LENGTH = 104;
    /** What Rivet writes: up to and including compression_type, padded to a multiple of 8. */
    static final int V3_HEADER_LENGTH = 112;

    // Incompatible feature bits.
    static final long INCOMPAT_DIRTY = 1L;
    static final long INCOMPAT_CORRUPT = 1L << 1;
    static final long INCOMPAT_DATA_FILE = 1L << 2;
    static final long INCOMPAT_COMPRESSION = 1L << 3;
    static final long INCOMPAT_EXTL2 = 1L << 4;

    // Header extension types.
    static final int EXT_END = 0;
    static final int EXT_BACKING_FORMAT = 0xe2792aca;
    static final int EXT_FEATURE_NAMES = 0x6803f857;
    static final int EXT_ENCRYPTION = 0x0537be77;
    static final int EXT_DATA_FILE = 0x44415441;
    static final int EXTENSION_HEADER = 8;
    static final int FEATURE_NAME_ENTRY = 48;
    static final int FEATURE_NAME_LENGTH = 46;

    static final int MIN_CLUSTER_BITS = 9;
    /** QEMU opens clusters up to 2 MiB; larger ones are refused rather than guessed at. */
    static final int MAX_CLUSTER_BITS = 21;
    static final int MAX_REFCOUNT_ORDER = 6;
    static final int MAX_BACKING_NAME = 1023;
    /** QEMU's implementation limits; they keep a hostile header from asking for gigabytes of RAM. */
    static final long MAX_L1_BYTES = 32L << 20;
    static final long MAX_REFCOUNT_TABLE_BYTES = 8L << 20;
    /** Bits 9-55 of L1, L2 and refcount table entries hold a host offset. */
    static final long OFFSET_MASK = 0x00ff_ffff_ffff_fe00L;

    final Path path;
    final int version;
    final int clusterBits;
    final long clusterSize;
    final long size;
    final int cryptMethod;
    final long l1Size;
    final long l1TableOffset;
    final long refcountTableOffset;
    final long refcountTableClusters;
    final long nbSnapshots;
    final long incompatible;
    final long compatible;
    final long autoclear;
    final int refcountOrder;
    final int headerLength;
    final int compressionType;
    final String backingName;     // null without a backing file
    final String backingFormat;   // null when the extension is absent
    final boolean hasDataFileExtension;
    final Map<Integer, String> incompatibleNames;

    private Qcow2Header(Path path, ByteBuffer h, long fileLength, ByteBuffer cluster0) throws DiskImageException {
        this.path = path;
        version = h.getInt(OFF_VERSION);
        clusterBits = h.getInt(OFF_CLUSTER_BITS);
        if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
            throw bad("cluster_bits " + Integer.toUnsignedString(clusterBits) + " is out of range ("
                    + MIN_CLUSTER_BITS + "-" + MAX_CLUSTER_BITS + ")");
        }
        clusterSize = 1L << clusterBits;
        size = h.getLong(OFF_SIZE);
        cryptMethod = h.getInt(OFF_CRYPT_METHOD);
        l1Size = Integer.toUnsignedLong(h.getInt(OFF_L1_SIZE));
        l1TableOffset = h.getLong(OFF_L1_TABLE_OFFSET);
        refcountTableOffset = h.getLong(OFF_REFCOUNT_TABLE_OFFSET);
        refcountTableClusters = Integer.toUnsignedLong(h.getInt(OFF_REFCOUNT_TABLE_CLUSTERS));
        nbSnapshots = Integer.toUnsignedLong(h.getInt(OFF_NB_SNAPSHOTS));
        if (version == 2) {
            incompatible = compatible = autoclear = 0;
            refcountOrder = 4;
            headerLength = V2_HEADER_LENGTH;
            compressionType = 0;
        } else {
            incompatible = h.getLong(OFF_INCOMPATIBLE_FEATURES);
            compatible = h.getLong(OFF_COMPATIBLE_FEATURES);
            autoclear = h.getLong(OFF_AUTOCLEAR_FEATURES);
            refcountOrder = h.getInt(OFF_REFCOUNT_ORDER);
            headerLength = h.getInt(OFF_HEADER_LENGTH);
            if (headerLength < V3_MIN_HEADER_LENGTH || headerLength % 8 != 0 || headerLength > clusterSize) {
                throw bad("header_length " + Integer.toUnsignedString(headerLength) + " is invalid");
            }
            if (headerLength > cluster0.limit()) {
                throw bad("qcow2 header is truncated");
            }
            compressionType = headerLength > OFF_COMPRESSION_TYPE ? Byte.toUnsignedInt(cluster0.get(OFF_COMPRESSION_TYPE)) : 0;
        }
        if (refcountOrder < 0 || refcountOrder > MAX_REFCOUNT_ORDER) {
            throw bad("refcount_order " + Integer.toUnsignedString(refcountOrder) + " is not supported (at most "
                    + MAX_REFCOUNT_ORDER + ")");
        }
        if (size < 0) {
            throw bad("virtual size " + Long.toUnsignedString(size) + " is too large");
        }
        checkL1(fileLength);
        checkRefcountTable(fileLength);
        if (l1Size > 0 && l1TableOffset < refcountTableOffset + refcountTableClusters * clusterSize
                && refcountTableOffset < l1TableOffset + l1Size * Long.BYTES) {
            throw bad("L1 table overlaps the refcount table");
        }

        // Extensions sit between the header and the end of the first cluster.
        String fmt = null;
        boolean dataFile = false;
        Map<Integer, String> names = new HashMap<>();
        int limit = cluster0.limit();
        int pos = headerLength;
        while (true) {
            if (pos + EXTENSION_HEADER > limit) {
                break; // no end marker before the end of the cluster: treat as the end
            }
            int type = cluster0.getInt(pos);
            long len = Integer.toUnsignedLong(cluster0.getInt(pos + 4));
            if (type == EXT_END) {
                break;
            }
            int data = pos + EXTENSION_HEADER;
            if (len > limit - data) {
                throw bad("header extension 0x" + Integer.toHexString(type) + " runs past the first cluster");
            }
            switch (type) {
                case EXT_BACKING_FORMAT -> fmt = string(cluster0, data, (int) len);
                case EXT_DATA_FILE -> dataFile = true;
                case EXT_FEATURE_NAMES -> {
                    for (int e = data; e + FEATURE_NAME_ENTRY <= data + len; e += FEATURE_NAME_ENTRY) {
                        if (cluster0.get(e) == 0) { // incompatible-feature names only
                            String n = string(cluster0, e + 2, FEATURE_NAME_LENGTH);
                            int z = n.indexOf('\0');
                            names.put(Byte.toUnsignedInt(cluster0.get(e + 1)), z >= 0 ? n.substring(0, z) : n);
                        }
                    }
                }
                default -> {
                    // Unknown extensions can be ignored (spec); encryption is refused by crypt_method.
                }
            }
            pos = data + (int) ((len + 7) & ~7L);
        }
        backingFormat = fmt;
        hasDataFileExtension = dataFile;
        incompatibleNames = Map.copyOf(names);

        long bOff = h.getLong(OFF_BACKING_FILE_OFFSET);
        long bLen = Integer.toUnsignedLong(h.getInt(OFF_BACKING_FILE_SIZE));
        if (bOff == 0) {
            backingName = null;
        } else {
            if (bLen > MAX_BACKING_NAME) {
                throw bad("backing file name is too long (" + bLen + " bytes, at most " + MAX_BACKING_NAME + ")");
            }
            if (bLen == 0) {
                throw bad("backing file name is empty");
            }
            if (bOff < 0 || bOff + bLen > limit) {
                throw bad("backing file name lies outside the first cluster");
            }
            backingName = string(cluster0, (int) bOff, (int) bLen);
        }
    }

    private void checkL1(long fileLength) throws DiskImageException {
        long l2Entries = clusterSize / Long.BYTES;
        // Clusters of guest data one L2 table maps, and L1 entries the virtual size needs.
        long bytesPerL1 = clusterSize * l2Entries;
        long needed = size / bytesPerL1 + (size % bytesPerL1 == 0 ? 0 : 1);
        if (l1Size * Long.BYTES > MAX_L1_BYTES) {
            throw bad("L1 table is too large (" + l1Size + " entries, at most " + MAX_L1_BYTES / Long.BYTES + ")");
        }
        if (needed > l1Size) {
            throw bad("L1 table is too small for the virtual size (" + l1Size + " entries, need " + needed + ")");
        }
        if (l1Size > 0) {
            checkTable("L1 table", l1TableOffset, l1Size * Long.BYTES, fileLength);
        }
    }

    private void checkRefcountTable(long fileLength) throws DiskImageException {
        if (refcountTableClusters == 0) {
            throw bad("refcount table is empty");
        }
        if (refcountTableClusters * clusterSize > MAX_REFCOUNT_TABLE_BYTES) {
            throw bad("refcount table is too large (" + refcountTableClusters + " clusters)");
        }
        checkTable("refcount table", refcountTableOffset, refcountTableClusters * clusterSize, fileLength);
    }

    /** A table must be cluster-aligned, after the header cluster and inside the file. */
    private void checkTable(String what, long offset, long bytes, long fileLength) throws DiskImageException {
        if (offset < 0 || offset % clusterSize != 0) {
            throw bad(what + " offset 0x" + Long.toHexString(offset) + " is not aligned to a cluster");
        }
        if (offset < clusterSize) {
            throw bad(what + " overlaps the header");
        }
        if (offset > fileLength || bytes > fileLength - offset) {
            throw bad(what + " extends past the end of the file");
        }
    }

    /** Parses and checks the header of the open file {@code ch}. */
    static Qcow2Header read(Path path, FileChannel ch) throws IOException {
        long fileLength = ch.size();
        ByteBuffer h = ByteBuffer.allocate(V3_MIN_HEADER_LENGTH);
        readFully(ch, h, 0);
        if (h.position() < Integer.BYTES || h.getInt(OFF_MAGIC) != MAGIC) {
            throw new DiskImageException(path, "not a qcow2 image (bad magic)");
        }
        if (h.position() < V2_HEADER_LENGTH) {
            throw new DiskImageException(path, "file is too short to be a qcow2 image (" + fileLength + " bytes)");
        }
        int version = h.getInt(OFF_VERSION);
        if (version != 2 && version != 3) {
            throw new DiskImageException(path, "qcow2 version " + Integer.toUnsignedString(version)
                    + " is not supported (only 2 and 3)");
        }
        if (version == 3 && h.position() < V3_MIN_HEADER_LENGTH) {
            throw new DiskImageException(path, "qcow2 header is truncated");
        }
        int bits = h.getInt(OFF_CLUSTER_BITS);
        int clusterBytes = bits >= MIN_CLUSTER_BITS && bits <= MAX_CLUSTER_BITS ? 1 << bits : V3_MIN_HEADER_LENGTH;
        ByteBuffer cluster0 = ByteBuffer.allocate((int) Math.min(clusterBytes, Math.max(fileLength, V3_MIN_HEADER_LENGTH)));
        readFully(ch, cluster0, 0);
        cluster0.flip();
        return new Qcow2Header(path, h, fileLength, cluster0);
    }

    /**
     * Refuses what Rivet cannot read or write faithfully. Dirty and corrupt images may still
     * be read (reads do not depend on refcounts); writing them needs a repair first.
     */
    void checkOpenable(boolean readOnly) throws DiskImageException {
        if (cryptMethod != 0) {
            throw bad("encrypted images are not supported");
        }
        if ((incompatible & INCOMPAT_DATA_FILE) != 0 || hasDataFileExtension) {
            throw bad("external data files are not supported");
        }
        if ((incompatible & INCOMPAT_EXTL2) != 0) {
            throw bad("extended L2 entries (subclusters) are not supported");
        }
        if ((incompatible & INCOMPAT_COMPRESSION) != 0 && compressionType == 0) {
            throw bad("compression type bit set but no compression type given");
        }
        if (compressionType > 1) {
            throw bad("unknown compression type " + compressionType);
        }
        long known = INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE | INCOMPAT_COMPRESSION | INCOMPAT_EXTL2;
        long unknown = incompatible & ~known;
        if (unknown != 0) {
            int bit = Long.numberOfTrailingZeros(unknown);
            String name = incompatibleNames.get(bit);
            throw bad("unsupported incompatible feature " + (name != null ? "'" + name + "' " : "") + "(bit " + bit + ")");
        }
        if (!readOnly) {
            if ((incompatible & INCOMPAT_DIRTY) != 0) {
                throw bad("image is dirty (its refcounts may be wrong); repair it with 'qemu-img check -r all'");
            }
            if ((incompatible & INCOMPAT_CORRUPT) != 0) {
                throw bad("image is marked corrupt; repair it with 'qemu-img check -r all'");
            }
            if (nbSnapshots != 0) {
                throw bad("image has internal snapshots, which Rivet only opens read-only");
            }
        }
    }

    boolean dirty() {
        return (incompatible & INCOMPAT_DIRTY) != 0;
    }

    boolean corrupt() {
        return (incompatible & INCOMPAT_CORRUPT) != 0;
    }

    private DiskImageException bad(String problem) {
        return new DiskImageException(path, problem);
    }

    private static String string(ByteBuffer b, int at, int len) {
        byte[] bytes = new byte[len];
        b.get(at, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Reads until {@code dst} is full or the file ends. */
    static void readFully(FileChannel ch, ByteBuffer dst, long pos) throws IOException {
        while (dst.hasRemaining()) {
            int n = ch.read(dst, pos);
            if (n < 0) {
                return;
            }
            pos += n;
        }
    }

    /** A fresh version 3 header cluster (no L1 table yet; refcount table at cluster 1). */
    static ByteBuffer newV3(int clusterBits, long refcountTableOffset, String backingName, String backingFormat) {
        int cs = 1 << clusterBits;
        ByteBuffer b = ByteBuffer.allocate(cs);
        b.putInt(OFF_MAGIC, MAGIC);
        b.putInt(OFF_VERSION, 3);
        b.putInt(OFF_CLUSTER_BITS, clusterBits);
        b.putLong(OFF_REFCOUNT_TABLE_OFFSET, refcountTableOffset);
        b.putInt(OFF_REFCOUNT_TABLE_CLUSTERS, 1);
        b.putInt(OFF_REFCOUNT_ORDER, 4);
        b.putInt(OFF_HEADER_LENGTH, V3_HEADER_LENGTH);
        int pos = V3_HEADER_LENGTH;
        if (backingFormat != null) {
            byte[] f = backingFormat.getBytes(StandardCharsets.UTF_8);
            b.putInt(pos, EXT_BACKING_FORMAT).putInt(pos + 4, f.length).put(pos + EXTENSION_HEADER, f);
            pos += EXTENSION_HEADER + ((f.length + 7) & ~7);
        }
        pos += EXTENSION_HEADER; // the end-of-extensions marker: type 0, length 0
        if (backingName != null) {
            byte[] n = backingName.getBytes(StandardCharsets.UTF_8);
            b.putLong(OFF_BACKING_FILE_OFFSET, pos).putInt(OFF_BACKING_FILE_SIZE, n.length).put(pos, n);
        }
        return b;
    }
}
