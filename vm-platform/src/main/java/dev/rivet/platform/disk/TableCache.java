package dev.rivet.platform.disk;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A bounded, least-recently-used cache of one-cluster metadata tables (qcow2 L2 tables
 * and refcount blocks) keyed by their host offset. It is write-through: callers change an
 * entry with {@link #putLong} or {@link #writeBytes}, which updates the file at once, so
 * an evicted table never needs writing back and a crash never loses an acknowledged
 * metadata update that the caller ordered after its data. Thread-safe.
 */
final class TableCache {
    private static final VarHandle BE_LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private final Path path;
    private final FileChannel channel;
    private final int clusterSize;
    private final String what;
    private final Map<Long, byte[]> tables;

    TableCache(Path path, FileChannel channel, int clusterSize, int capacity, String what) {
        this.path = path;
        this.channel = channel;
        this.clusterSize = clusterSize;
        this.what = what;
        this.tables = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, byte[]> eldest) {
                return size() > capacity;
            }
        };
    }

    /** The table at {@code offset}, read from the file on a miss. */
    synchronized byte[] get(long offset) throws IOException {
        byte[] t = tables.get(offset);
        if (t == null) {
            if (offset < clusterSize || offset % clusterSize != 0) {
                throw new DiskImageException(path, what + " offset 0x" + Long.toHexString(offset) + " is invalid");
            }
            if (offset > channel.size() - clusterSize) {
                throw new DiskImageException(path, what + " at 0x" + Long.toHexString(offset) + " lies past the end of the file");
            }
            t = new byte[clusterSize];
            ByteBuffer b = ByteBuffer.wrap(t);
            Qcow2Header.readFully(channel, b, offset);
            tables.put(offset, t);
        }
        return t;
    }

    /** Writes a whole new table (zeroes, or a prepared block) and caches it. */
    synchronized void create(long offset, byte[] table) throws IOException {
        writeFully(channel, ByteBuffer.wrap(table), offset);
        tables.put(offset, table);
    }

    static long getLong(byte[] table, int index) {
        return (long) BE_LONG.get(table, index * Long.BYTES);
    }

    /** Sets 64-bit entry {@code index} of the table at {@code offset}, in memory and in the file. */
    synchronized void putLong(long offset, int index, long value) throws IOException {
        byte[] t = get(offset);
        BE_LONG.set(t, index * Long.BYTES, value);
        writeFully(channel, ByteBuffer.wrap(t, index * Long.BYTES, Long.BYTES), offset + (long) index * Long.BYTES);
    }

    /** Writes bytes [from, from+len) of an already-modified cached table to the file. */
    synchronized void writeBytes(long offset, byte[] table, int from, int len) throws IOException {
        writeFully(channel, ByteBuffer.wrap(table, from, len), offset + from);
    }

    static void writeFully(FileChannel ch, ByteBuffer src, long pos) throws IOException {
        while (src.hasRemaining()) {
            pos += ch.write(src, pos);
        }
    }
}
