package dev.rivet.platform.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Host cluster management of a writable qcow2 image (docs/interop/qcow2.txt, "Host cluster
 * management"): the refcount table, kept whole in memory, and refcount blocks, cached and
 * written through. New clusters come from the end of the file; clusters freed by a discard
 * are reused only after the next flush, once the L2 update that unlinked them is durable.
 *
 * <p>Ordering keeps a crash harmless (at worst a leaked cluster): a new refcount block is
 * written and counted before the table entry that points at it, and a cluster's refcount
 * is raised before the caller links it anywhere. Not thread-safe: the image serialises
 * metadata updates.
 */
final class Qcow2Refcounts {
    /** Called when the refcount table moves, to update the header. */
    interface TableMoved {
        void moved(long offset, long clusters) throws IOException;
    }

    private final Path path;
    private final FileChannel channel;
    private final int clusterBits;
    private final int clusterSize;
    private final int refcountBits;
    private final long maxRefcount;
    private final long entriesPerBlock;
    private final TableCache blocks;
    private final TableMoved tableMoved;

    private long tableOffset;
    private long[] table;
    /** First cluster past everything in use: where new clusters go. */
    private long nextFree;
    private final List<Long> freedSinceFlush = new ArrayList<>();
    private final ArrayDeque<Long> reusable = new ArrayDeque<>();

    private Qcow2Refcounts(Path path, FileChannel channel, int clusterBits, int refcountOrder, long tableOffset,
                           long[] table, int cacheTables, TableMoved tableMoved) throws IOException {
        this.path = path;
        this.channel = channel;
        this.clusterBits = clusterBits;
        this.clusterSize = 1 << clusterBits;
        this.refcountBits = 1 << refcountOrder;
        this.maxRefcount = refcountBits == 64 ? Long.MAX_VALUE : (1L << refcountBits) - 1;
        this.entriesPerBlock = (long) clusterSize * 8 / refcountBits;
        this.blocks = new TableCache(path, channel, clusterSize, cacheTables, "refcount block");
        this.tableMoved = tableMoved;
        this.tableOffset = tableOffset;
        this.table = table;
        this.nextFree = alignUp(channel.size());
    }

    /** Reads the refcount table the header describes (already bounds-checked by the header). */
    static Qcow2Refcounts load(Path path, FileChannel channel, Qcow2Header h, int cacheTables, TableMoved moved)
            throws IOException {
        int bytes = (int) (h.refcountTableClusters * h.clusterSize);
        ByteBuffer b = ByteBuffer.allocate(bytes);
        Qcow2Header.readFully(channel, b, h.refcountTableOffset);
        long[] table = new long[bytes / Long.BYTES];
        b.flip();
        for (int i = 0; i < table.length; i++) {
            long e = b.getLong();
            if ((e & ~Qcow2Header.OFFSET_MASK) != 0 || e % h.clusterSize != 0) {
                throw new DiskImageException(path, "refcount table entry " + i + " (0x" + Long.toHexString(e) + ") is invalid");
            }
            table[i] = e;
        }
        return new Qcow2Refcounts(path, channel, h.clusterBits, h.refcountOrder, h.refcountTableOffset, table,
                cacheTables, moved);
    }

    /** For a new image: a one-cluster table at {@code tableOffset} already on disk, pointing at one block. */
    static Qcow2Refcounts fresh(Path path, FileChannel channel, int clusterBits, long tableOffset, long blockOffset,
                                TableMoved moved) throws IOException {
        long[] table = new long[(1 << clusterBits) / Long.BYTES];
        table[0] = blockOffset;
        return new Qcow2Refcounts(path, channel, clusterBits, 4, tableOffset, table, 4, moved);
    }

    long alignUp(long offset) {
        return (offset + clusterSize - 1) & -(long) clusterSize;
    }

    /** The refcount of the host cluster holding {@code hostOffset}. */
    long get(long hostOffset) throws IOException {
        long cluster = hostOffset >>> clusterBits;
        long ti = cluster / entriesPerBlock;
        if (ti >= table.length || table[(int) ti] == 0) {
            return 0;
        }
        return entry(blocks.get(table[(int) ti]), cluster % entriesPerBlock);
    }

    /** Allocates one cluster: a freed one when a flush made that safe, else one at the end. */
    long allocateCluster() throws IOException {
        Long r = reusable.poll();
        if (r != null) {
            adjust(r, 1);
            return r;
        }
        return allocate(1);
    }

    /** Allocates {@code n} contiguous clusters at the end of the file, each with refcount 1. */
    long allocate(long n) throws IOException {
        long start = reserve(n);
        for (long i = 0; i < n; i++) {
            adjust(start + (i << clusterBits), 1);
        }
        return start;
    }

    /**
     * Drops one reference; a cluster that reaches zero becomes reusable after the next flush.
     * Returns true when the cluster is now free.
     */
    boolean free(long hostOffset) throws IOException {
        if (adjust(hostOffset, -1) == 0) {
            freedSinceFlush.add(hostOffset);
            return true;
        }
        return false;
    }

    /** Clusters freed since the last call; hand them to {@link #reuse} once an fsync has followed. */
    List<Long> takeFreed() {
        List<Long> batch = List.copyOf(freedSinceFlush);
        freedSinceFlush.clear();
        return batch;
    }

    /** The file has been fsynced after {@link #takeFreed}: no L2 entry on disk points at these any more. */
    void reuse(List<Long> batch) {
        reusable.addAll(batch);
    }

    /** True when the host cluster at {@code hostOffset} belongs to the refcount table. */
    boolean inTable(long hostOffset) {
        return hostOffset >= tableOffset && hostOffset < tableOffset + (long) table.length * Long.BYTES;
    }

    /** Contiguous clusters past everything in use (skipping any the refcounts claim, e.g. after a crash). */
    private long reserve(long n) throws IOException {
        long start = nextFree;
        for (long i = 0; i < n; i++) {
            if (get(start + (i << clusterBits)) != 0) {
                start += (i + 1) << clusterBits;
                i = -1;
            }
        }
        nextFree = start + (n << clusterBits);
        return start;
    }

    /** Adds {@code delta} to the refcount of the cluster at {@code hostOffset}; returns the new count. */
    long adjust(long hostOffset, long delta) throws IOException {
        long cluster = hostOffset >>> clusterBits;
        long ti = cluster / entriesPerBlock;
        long block = delta > 0 ? blockFor(ti) : existingBlock(ti, hostOffset);
        byte[] b = blocks.get(block);
        long index = cluster % entriesPerBlock;
        long v = entry(b, index) + delta;
        if (v < 0) {
            throw new DiskImageException(path, "refcount of cluster 0x" + Long.toHexString(hostOffset)
                    + " would drop below zero (image corrupt; try 'qemu-img check -r all')");
        }
        if (v > maxRefcount || v < delta) {
            throw new DiskImageException(path, "refcount of cluster 0x" + Long.toHexString(hostOffset) + " overflows");
        }
        setEntry(block, b, index, v);
        return v;
    }

    private long existingBlock(long ti, long hostOffset) throws DiskImageException {
        if (ti >= table.length || table[(int) ti] == 0) {
            throw new DiskImageException(path, "cluster 0x" + Long.toHexString(hostOffset)
                    + " is in use but has no refcount block (image corrupt; try 'qemu-img check -r all')");
        }
        return table[(int) ti];
    }

    /** The refcount block for table index {@code ti}, made (and the table grown) when missing. */
    private long blockFor(long ti) throws IOException {
        if (ti >= table.length) {
            grow(ti);
        }
        long existing = table[(int) ti];
        if (existing != 0) {
            return existing;
        }
        long at = reserve(1);
        byte[] block = new byte[clusterSize];
        long self = at >>> clusterBits;
        boolean describesItself = self / entriesPerBlock == ti;
        if (describesItself) {
            putEntry(block, self % entriesPerBlock, 1);
        }
        blocks.create(at, block);
        if (!describesItself) {
            adjust(at, 1); // another block counts this one, before anything points at it
        }
        table[(int) ti] = at;
        TableCache.writeFully(channel, ByteBuffer.allocate(Long.BYTES).putLong(0, at), tableOffset + ti * Long.BYTES);
        return at;
    }

    /**
     * Moves the refcount table to a bigger one at the end of the file: the new table and the
     * blocks counting it are written and synced, then the header switches to it (synced),
     * then the old table's clusters are freed. A crash before the switch leaks the new area.
     */
    private void grow(long minIndex) throws IOException {
        long perCluster = clusterSize / Long.BYTES;
        long entries = Math.max(minIndex + 1, (long) table.length * 2);
        long clusters;
        while (true) {
            clusters = (entries + perCluster - 1) / perCluster;
            // Everything allocated while growing (the table, then at most one block per
            // table cluster and two more) must be countable by the new table itself.
            long end = nextFree + ((2 * clusters + 2) << clusterBits);
            long need = (end >>> clusterBits) / entriesPerBlock + 1;
            if (need <= entries) {
                break;
            }
            entries = need;
        }
        if (clusters * clusterSize > Qcow2Header.MAX_REFCOUNT_TABLE_BYTES) {
            throw new DiskImageException(path, "image is too large: its refcount table would exceed "
                    + (Qcow2Header.MAX_REFCOUNT_TABLE_BYTES >> 20) + " MiB");
        }
        long[] old = table;
        long oldOffset = tableOffset;
        long oldClusters = (long) old.length * Long.BYTES / clusterSize;
        long at = reserve(clusters);
        table = Arrays.copyOf(old, (int) (clusters * perCluster));
        tableOffset = at;
        for (long i = 0; i < clusters; i++) {
            adjust(at + (i << clusterBits), 1);
        }
        ByteBuffer b = ByteBuffer.allocate(table.length * Long.BYTES);
        for (long e : table) {
            b.putLong(e);
        }
        TableCache.writeFully(channel, b.flip(), at);
        channel.force(true);
        tableMoved.moved(at, clusters);
        for (long i = 0; i < oldClusters; i++) {
            free(oldOffset + (i << clusterBits));
        }
    }

    private long entry(byte[] block, long index) {
        if (refcountBits >= 8) {
            int bytes = refcountBits / 8;
            int at = (int) (index * bytes);
            long v = 0;
            for (int i = 0; i < bytes; i++) {
                v = (v << 8) | (block[at + i] & 0xff);
            }
            return v;
        }
        // Sub-byte widths: bit 0 is the least significant bit of the byte (spec).
        long bit = index * refcountBits;
        return (block[(int) (bit >>> 3)] >>> (bit & 7)) & maxRefcount;
    }

    private void putEntry(byte[] block, long index, long value) {
        if (refcountBits >= 8) {
            int bytes = refcountBits / 8;
            int at = (int) (index * bytes);
            for (int i = bytes - 1; i >= 0; i--, value >>>= 8) {
                block[at + i] = (byte) value;
            }
            return;
        }
        long bit = index * refcountBits;
        int at = (int) (bit >>> 3);
        int shift = (int) (bit & 7);
        block[at] = (byte) ((block[at] & ~(maxRefcount << shift)) | (value << shift));
    }

    private void setEntry(long blockOffset, byte[] block, long index, long value) throws IOException {
        putEntry(block, index, value);
        int from = refcountBits >= 8 ? (int) (index * (refcountBits / 8)) : (int) (index * refcountBits >>> 3);
        blocks.writeBytes(blockOffset, block, from, Math.max(1, refcountBits / 8));
    }
}
