package dev.rivet.platform.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A qcow2 image (docs/interop/qcow2.txt, "Cluster mapping"): guest clusters map through the
 * L1 table (in memory) and L2 tables (a bounded cache) to host clusters; unallocated
 * clusters read from the backing image or as zeroes, and version 3 zero clusters read as
 * zeroes. Compressed clusters, encryption, external data files and extended L2 entries are
 * refused with a message.
 *
 * <p>Concurrency: reads and writes of clusters that are already allocated run in parallel
 * under a read lock; anything that changes metadata takes the write lock. Ordering on disk:
 * a new cluster's refcount, then its data, then the L2 (or L1) entry that points at it;
 * unlinking comes before the refcount drops. A crash can leak clusters but never points an
 * entry at a cluster that holds something else. Durability is what the guest asks for:
 * {@link #flush} is fsync.
 */
public final class Qcow2Image implements DiskImage {
    private static final long L1_COPIED = 1L << 63;
    private static final long L2_COPIED = 1L << 63;
    private static final long L2_COMPRESSED = 1L << 62;
    /** Version 3 only: the cluster reads as zeroes (the host offset, if any, is preallocation). */
    private static final long L2_ZERO = 1L;
    private static final int SECTOR = 512;
    /** Memory for cached L2 tables and refcount blocks, each. */
    private static final long CACHE_BYTES = 4L << 20;
    private static final int MIN_CACHED_TABLES = 4;

    /** Opens the backing image a qcow2 header names (the factory resolves names and limits chains). */
    @FunctionalInterface
    interface BackingOpener {
        DiskImage open(Qcow2Header header) throws IOException;
    }

    private final Path path;
    private final FileChannel channel;
    private final boolean readOnly;
    private final Qcow2Header header;
    private final int clusterBits;
    private final int clusterSize;
    private final int l2Entries;
    private final long size;
    private final long[] l1;
    private final long l1Offset;
    private final TableCache l2Cache;
    private final Qcow2Refcounts refcounts; // null when read-only
    private final int punchFd;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private DiskImage backing;              // set once while opening
    /** Host offsets below this are inside the file (refreshed when an entry points further). */
    private volatile long knownEnd;

    private Qcow2Image(Path path, FileChannel channel, boolean readOnly, Qcow2Header h, long[] l1,
                       Qcow2Refcounts refcounts) throws IOException {
        this.path = path;
        this.channel = channel;
        this.readOnly = readOnly;
        this.header = h;
        this.clusterBits = h.clusterBits;
        this.clusterSize = (int) h.clusterSize;
        this.l2Entries = clusterSize / Long.BYTES;
        this.size = h.size / SECTOR * SECTOR;
        this.l1 = l1;
        this.l1Offset = h.l1TableOffset;
        int tables = (int) Math.max(MIN_CACHED_TABLES, CACHE_BYTES / clusterSize);
        this.l2Cache = new TableCache(path, channel, clusterSize, tables, "L2 table");
        this.refcounts = refcounts;
        this.punchFd = readOnly ? -1 : LinuxFiles.openForPunching(path);
        this.knownEnd = channel.size();
    }

    /** Opens an existing qcow2 file; {@code opener} opens its backing file, if it names one. */
    static Qcow2Image open(Path path, boolean readOnly, BackingOpener opener) throws IOException {
        FileChannel ch = readOnly ? FileChannel.open(path, StandardOpenOption.READ)
                : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        Qcow2Image img = null;
        try {
            Qcow2Header h = Qcow2Header.read(path, ch);
            h.checkOpenable(readOnly);
            ByteBuffer b = ByteBuffer.allocate((int) (h.l1Size * Long.BYTES));
            Qcow2Header.readFully(ch, b, h.l1TableOffset);
            long[] l1 = new long[(int) h.l1Size];
            b.flip().asLongBuffer().get(l1);
            Qcow2Refcounts rc = null;
            if (!readOnly) {
                int tables = (int) Math.max(MIN_CACHED_TABLES, CACHE_BYTES / h.clusterSize);
                rc = Qcow2Refcounts.load(path, ch, h, tables, (at, clusters) -> moveRefcountTable(ch, at, clusters));
                if (h.autoclear != 0) {
                    // We maintain none of the auto-clear features (e.g. bitmaps): clear them
                    // before the first write, as the spec requires.
                    TableCache.writeFully(ch, ByteBuffer.allocate(Long.BYTES), Qcow2Header.OFF_AUTOCLEAR_FEATURES);
                    ch.force(true);
                }
            }
            img = new Qcow2Image(path, ch, readOnly, h, l1, rc);
            if (h.backingName != null) {
                img.backing = opener.open(h);
            }
            return img;
        } catch (IOException | RuntimeException | Error e) {
            if (img != null) {
                img.close();
            } else {
                ch.close();
            }
            throw e;
        }
    }

    private static void moveRefcountTable(FileChannel ch, long offset, long clusters) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(12).putLong(0, offset).putInt(8, (int) clusters);
        TableCache.writeFully(ch, b, Qcow2Header.OFF_REFCOUNT_TABLE_OFFSET);
        ch.force(true);
    }

    /**
     * Creates a version 3 image: header, a one-cluster refcount table and block, and an
     * empty L1 table big enough for {@code size}. Refuses to replace an existing file.
     */
    static void create(Path path, long size, int clusterSize, String backingName, String backingFormat)
            throws IOException {
        if (Integer.bitCount(clusterSize) != 1 || clusterSize < (1 << Qcow2Header.MIN_CLUSTER_BITS)
                || clusterSize > (1 << Qcow2Header.MAX_CLUSTER_BITS)) {
            throw new IllegalArgumentException("cluster size must be a power of two from 512 bytes to 2 MiB");
        }
        int bits = Integer.numberOfTrailingZeros(clusterSize);
        long perL1 = (long) clusterSize * (clusterSize / Long.BYTES);
        long l1Entries = size / perL1 + (size % perL1 == 0 ? 0 : 1);
        if (l1Entries * Long.BYTES > Qcow2Header.MAX_L1_BYTES) {
            throw new IllegalArgumentException("virtual size is too large for " + clusterSize + "-byte clusters");
        }
        if (backingName != null) {
            int len = backingName.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (len > Qcow2Header.MAX_BACKING_NAME || Qcow2Header.V3_HEADER_LENGTH + 40 + len > clusterSize) {
                throw new IllegalArgumentException("backing file name is too long (" + len + " bytes)");
            }
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            throw new DiskImageException(path, "file exists (not overwriting it)");
        }
        try (ch) {
            long tableAt = clusterSize, blockAt = 2L * clusterSize;
            TableCache.writeFully(ch, Qcow2Header.newV3(bits, tableAt, backingName, backingFormat), 0);
            TableCache.writeFully(ch, ByteBuffer.allocate(clusterSize).putLong(0, blockAt), tableAt);
            // 16-bit refcounts of 1 for the header, the table and this block.
            ByteBuffer block = ByteBuffer.allocate(clusterSize).putShort(0, (short) 1).putShort(2, (short) 1)
                    .putShort(4, (short) 1);
            TableCache.writeFully(ch, block, blockAt);
            Qcow2Refcounts rc = Qcow2Refcounts.fresh(path, ch, bits, tableAt, blockAt,
                    (at, clusters) -> moveRefcountTable(ch, at, clusters));
            long l1At = 0;
            if (l1Entries > 0) {
                long clusters = (l1Entries * Long.BYTES + clusterSize - 1) / clusterSize;
                l1At = rc.allocate(clusters);
                TableCache.writeFully(ch, ByteBuffer.allocate((int) (clusters * clusterSize)), l1At);
            }
            ch.force(true);
            // size, crypt_method, l1_size and l1_table_offset are adjacent: one write switches them on.
            ByteBuffer fields = ByteBuffer.allocate(24).putLong(0, size).putInt(8, 0).putInt(12, (int) l1Entries)
                    .putLong(16, l1At);
            TableCache.writeFully(ch, fields, Qcow2Header.OFF_SIZE);
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(path);
            throw e;
        }
    }

    @Override
    public DiskFormat format() {
        return DiskFormat.QCOW2;
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public Optional<DiskImage> backing() {
        return Optional.ofNullable(backing);
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    public int clusterSize() {
        return clusterSize;
    }

    public int version() {
        return header.version;
    }

    Qcow2Header header() {
        return header;
    }

    // ---- reading ----

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        Ranges.check(path, offset, dst.remaining(), size);
        lock.readLock().lock();
        try {
            while (dst.hasRemaining()) {
                int in = (int) (offset & (clusterSize - 1));
                int n = Math.min(clusterSize - in, dst.remaining());
                ByteBuffer part = dst.slice(dst.position(), n);
                long entry = l2Entry(offset >>> clusterBits);
                long host = hostOffset(entry, offset);
                if (isZero(entry)) {
                    Ranges.zero(part);
                } else if (host != 0) {
                    readHost(host + in, part);
                } else {
                    readBelow(offset, part);
                }
                dst.position(dst.position() + n);
                offset += n;
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    /** What an unallocated range shows: the backing image, then zeroes past its end. */
    private void readBelow(long offset, ByteBuffer part) throws IOException {
        if (backing != null && offset < backing.size()) {
            int n = (int) Math.min(part.remaining(), backing.size() - offset);
            backing.read(offset, part.slice(part.position(), n));
            part.position(part.position() + n);
        }
        Ranges.zero(part);
    }

    private void readHost(long at, ByteBuffer part) throws IOException {
        Qcow2Header.readFully(channel, part, at);
        Ranges.zero(part); // a cluster cut short by the end of the file reads as zeroes
    }

    @Override
    public long knownZeroes(long offset, long length) throws IOException {
        Ranges.check(path, offset, length, size);
        lock.readLock().lock();
        try {
            long done = 0;
            while (done < length) {
                long off = offset + done;
                long gc = off >>> clusterBits;
                int in = (int) (off & (clusterSize - 1));
                if (backing == null && l2Table((int) (gc / l2Entries)) == 0) {
                    long l1Span = (long) clusterSize * l2Entries;
                    done += l1Span - (off % l1Span);
                    continue;
                }
                long entry = l2Entry(gc);
                long host = hostOffset(entry, off);
                long n = clusterSize - in;
                if (isZero(entry) || (host == 0 && backing == null)) {
                    done += n;
                } else if (host == 0) {
                    long inBacking = Math.min(n, Math.max(0, backing.size() - off));
                    long z = inBacking == 0 ? 0 : backing.knownZeroes(off, inBacking);
                    if (z < inBacking) {
                        done += z;
                        break;
                    }
                    done += n;
                } else {
                    break;
                }
            }
            return Math.min(done, length);
        } finally {
            lock.readLock().unlock();
        }
    }

    // ---- writing ----

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        checkWritable();
        Ranges.check(path, offset, src.remaining(), size);
        while (src.hasRemaining()) {
            int in = (int) (offset & (clusterSize - 1));
            int n = Math.min(clusterSize - in, src.remaining());
            ByteBuffer part = src.slice(src.position(), n);
            long gc = offset >>> clusterBits;
            boolean done = false;
            lock.readLock().lock();
            try {
                long entry = l2Entry(gc);
                if (inPlace(entry)) {
                    long host = hostOffset(entry, offset);
                    checkNotMetadata(host);
                    TableCache.writeFully(channel, part, host + in);
                    done = true;
                }
            } finally {
                lock.readLock().unlock();
            }
            if (!done) {
                lock.writeLock().lock();
                try {
                    allocatingWrite(gc, in, part);
                } finally {
                    lock.writeLock().unlock();
                }
            }
            src.position(src.position() + n);
            offset += n;
        }
    }

    private boolean inPlace(long entry) {
        return (entry & L2_COPIED) != 0 && (entry & L2_COMPRESSED) == 0 && !isZero(entry)
                && (entry & Qcow2Header.OFFSET_MASK) != 0;
    }

    /** A write into a cluster that needs metadata work first; holds the write lock. */
    private void allocatingWrite(long gc, int in, ByteBuffer part) throws IOException {
        long guest = gc << clusterBits;
        long entry = l2Entry(gc); // again: another writer may have allocated it meanwhile
        long host = hostOffset(entry, guest);
        boolean zero = isZero(entry);
        if (host != 0 && !zero) {
            exclusive(host, entry, L2_COPIED);
            checkNotMetadata(host);
            TableCache.writeFully(channel, part, host + in);
            setL2(gc, host | L2_COPIED);
            return;
        }
        ByteBuffer cluster;
        if (in == 0 && part.remaining() == clusterSize) {
            cluster = part.duplicate();
        } else {
            // Copy-on-write: the rest of the cluster comes from what it reads as now.
            cluster = ByteBuffer.allocate(clusterSize);
            if (!zero) {
                readBelow(guest, cluster);
            }
            cluster.put(in, part, part.position(), part.remaining()).clear();
        }
        if (host != 0) {
            // A preallocated zero cluster: fill it in place.
            exclusive(host, entry, L2_COPIED);
            checkNotMetadata(host);
            TableCache.writeFully(channel, cluster, host);
            setL2(gc, host | L2_COPIED);
            return;
        }
        ensureL2((int) (gc / l2Entries));
        long at = refcounts.allocateCluster();
        knownEnd = Math.max(knownEnd, at + clusterSize);
        TableCache.writeFully(channel, cluster, at);
        setL2(gc, at | L2_COPIED);
    }

    /** Without the COPIED flag a cluster might be shared; write it in place only if its refcount is 1. */
    private void exclusive(long host, long entry, long copiedFlag) throws IOException {
        if ((entry & copiedFlag) == 0 && refcounts.get(host) != 1) {
            throw new DiskImageException(path, "cluster 0x" + Long.toHexString(host)
                    + " is shared (refcount " + refcounts.get(host) + "); Rivet cannot copy shared clusters");
        }
    }

    @Override
    public void discard(long offset, long length) throws IOException {
        checkWritable();
        Ranges.check(path, offset, length, size);
        lock.writeLock().lock();
        try {
            long first = (offset + clusterSize - 1) >>> clusterBits;
            long end = fullClustersEnd(offset + length);
            for (long gc = first; gc < end; gc++) {
                if (l2Table((int) (gc / l2Entries)) == 0) {
                    gc = (gc / l2Entries + 1) * l2Entries - 1; // nothing allocated under this L1 entry
                    continue;
                }
                long entry = l2Entry(gc);
                if ((entry & L2_COMPRESSED) != 0) {
                    continue; // may stay: discarded ranges may keep their contents
                }
                long host = entry & Qcow2Header.OFFSET_MASK;
                if (host == 0 || (backing != null && header.version == 2)) {
                    continue;
                }
                // Unallocated would show the backing file, which is neither zeroes nor the old data.
                setL2(gc, backing != null ? L2_ZERO : 0);
                release(host);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException {
        checkWritable();
        Ranges.check(path, offset, length, size);
        long end = offset + length;
        long firstFull = Math.min(end, (offset + clusterSize - 1) & -(long) clusterSize);
        long endFull = Math.max(firstFull, fullClustersEnd(end) << clusterBits);
        zeroBytes(offset, firstFull - offset);
        zeroBytes(Math.min(end, endFull), end - Math.min(end, endFull));
        lock.writeLock().lock();
        try {
            for (long gc = firstFull >>> clusterBits; gc < endFull >>> clusterBits; gc++) {
                if (backing == null && l2Table((int) (gc / l2Entries)) == 0) {
                    gc = (gc / l2Entries + 1) * l2Entries - 1; // already reads as zeroes
                    continue;
                }
                long entry = l2Entry(gc);
                long host = hostOffset(entry, gc << clusterBits);
                if (isZero(entry) || (host == 0 && backing == null)) {
                    continue;
                }
                if (header.version == 2) {
                    if (host != 0 && backing == null && mayUnmap) {
                        setL2(gc, 0);
                        release(host);
                    } else {
                        zeroBytes(gc << clusterBits, clusterSize); // no zero flag in version 2
                    }
                } else if (host == 0) {
                    setL2(gc, L2_ZERO); // hides the backing file's data
                } else if (mayUnmap) {
                    setL2(gc, backing != null ? L2_ZERO : 0);
                    release(host);
                } else {
                    setL2(gc, host | L2_ZERO | (entry & L2_COPIED)); // keeps the cluster allocated
                }
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Writes real zero bytes (within one cluster), unless the range already reads as zeroes. */
    private void zeroBytes(long offset, long length) throws IOException {
        if (length > 0 && knownZeroes(offset, length) < length) {
            write(offset, ByteBuffer.allocate((int) length));
        }
    }

    /** Index past the last guest cluster wholly inside [.., end); the disk's last cluster counts as whole at its end. */
    private long fullClustersEnd(long end) {
        return end == size ? (end + clusterSize - 1) >>> clusterBits : end >>> clusterBits;
    }

    /** Drops the reference an L2 entry held (already unlinked) and gives the space back to the host. */
    private void release(long host) throws IOException {
        if (refcounts.free(host)) {
            LinuxFiles.punchHole(punchFd, host, clusterSize);
        }
    }

    // ---- metadata ----

    /** Host offset of the L2 table for L1 index {@code l1Index}, or 0. */
    private long l2Table(int l1Index) throws DiskImageException {
        long off = l1[l1Index] & Qcow2Header.OFFSET_MASK;
        if ((off & (clusterSize - 1)) != 0) {
            throw new DiskImageException(path, "L1 entry " + l1Index + " points at unaligned offset 0x"
                    + Long.toHexString(off) + " (image corrupt)");
        }
        return off;
    }

    /** The L2 entry of guest cluster {@code gc}, or 0 when no L2 table covers it. */
    private long l2Entry(long gc) throws IOException {
        long table = l2Table((int) (gc / l2Entries));
        return table == 0 ? 0 : TableCache.getLong(l2Cache.get(table), (int) (gc % l2Entries));
    }

    private boolean isZero(long entry) {
        return header.version >= 3 && (entry & L2_ZERO) != 0 && (entry & L2_COMPRESSED) == 0;
    }

    /** The host cluster an entry names (0 for none), after checking it can be used. */
    private long hostOffset(long entry, long guestOffset) throws IOException {
        if ((entry & L2_COMPRESSED) != 0) {
            throw new DiskImageException(path, "compressed clusters are not supported (at guest offset 0x"
                    + Long.toHexString(guestOffset) + "); 'qemu-img convert' can uncompress the image");
        }
        long host = entry & Qcow2Header.OFFSET_MASK;
        if (host != 0) {
            if ((host & (clusterSize - 1)) != 0) {
                throw corrupt("L2 entry for guest offset 0x" + Long.toHexString(guestOffset) + " is not cluster-aligned");
            }
            if (host >= knownEnd && host >= (knownEnd = channel.size())) {
                throw corrupt("L2 entry for guest offset 0x" + Long.toHexString(guestOffset) + " points past the end of the file");
            }
        }
        return host;
    }

    /** Guest data must never land on the header, the L1 table or the refcount table (a hostile image could ask). */
    private void checkNotMetadata(long host) throws DiskImageException {
        boolean inL1 = host >= l1Offset && host < l1Offset + (long) l1.length * Long.BYTES;
        if (host < clusterSize || inL1 || refcounts.inTable(host)) {
            throw corrupt("a table entry points into the image's own metadata at 0x" + Long.toHexString(host));
        }
    }

    private void setL2(long gc, long value) throws IOException {
        long table = ensureL2((int) (gc / l2Entries));
        l2Cache.putLong(table, (int) (gc % l2Entries), value);
    }

    /** The L2 table for an L1 index, allocated (zeroed, counted, then linked) when missing. */
    private long ensureL2(int l1Index) throws IOException {
        long entry = l1[l1Index];
        long table = l2Table(l1Index);
        if (table != 0) {
            checkNotMetadata(table);
            if ((entry & L1_COPIED) == 0) {
                exclusive(table, entry, L1_COPIED);
                writeL1(l1Index, table | L1_COPIED);
            }
            return table;
        }
        long at = refcounts.allocateCluster();
        knownEnd = Math.max(knownEnd, at + clusterSize);
        l2Cache.create(at, new byte[clusterSize]);
        writeL1(l1Index, at | L1_COPIED);
        return at;
    }

    private void writeL1(int index, long value) throws IOException {
        l1[index] = value;
        TableCache.writeFully(channel, ByteBuffer.allocate(Long.BYTES).putLong(0, value), l1Offset + (long) index * Long.BYTES);
    }

    private DiskImageException corrupt(String problem) {
        return new DiskImageException(path, problem + " (image corrupt)");
    }

    private void checkWritable() throws IOException {
        if (readOnly) {
            throw new DiskImageException(path, "image is open read-only");
        }
    }

    // ---- lifetime ----

    @Override
    public void flush() throws IOException {
        if (readOnly) {
            return;
        }
        List<Long> freed;
        lock.writeLock().lock();
        try {
            freed = refcounts.takeFreed();
        } finally {
            lock.writeLock().unlock();
        }
        channel.force(true);
        lock.writeLock().lock();
        try {
            refcounts.reuse(freed);
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public long diskSize() throws IOException {
        long allocated = LinuxFiles.allocatedBytes(path);
        return allocated >= 0 ? allocated : channel.size();
    }

    @Override
    public void close() throws IOException {
        try (channel; DiskImage b = backing) {
            if (!readOnly && channel.isOpen()) {
                channel.force(true);
            }
        } finally {
            LinuxFiles.close(punchFd);
        }
    }

    @Override
    public String toString() {
        return "qcow2 " + path;
    }
}
