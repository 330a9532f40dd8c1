package dev.rivet.aot;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The bytes of the files the disk cache writes, and their validation. Every file carries a
 * magic number, the caller's format version, what it is the value of (the key, or the hot
 * list's profile) and a CRC32C over all of that, so that a truncated, damaged, foreign,
 * misnamed or other-version file is recognised as such instead of being handed to the JIT.
 *
 * <pre>
 * entry:    "RVAC" u32 version | key[32] | u32 length | payload[length] | u32 crc32c
 * hot list: "RVHL" u32 version | u32 n | profile utf-8[n] | u32 count | key[32] * count | u32 crc32c
 * </pre>
 * Integers are big-endian; the CRC covers every byte before it.
 */
final class EntryFormat {
    static final int ENTRY_MAGIC = 0x52564143; // "RVAC"
    static final int HOT_MAGIC = 0x5256484c;   // "RVHL"
    static final int ENTRY_OVERHEAD = 4 + 4 + CacheKey.SIZE + 4 + 4;
    /** Longest hot list read back; a longer count is damage, not data. */
    static final int MAX_HOT_KEYS = 1 << 20;

    private EntryFormat() {
    }

    /** What reading a file found. */
    enum Status {
        /** Intact, the expected key or profile, the expected version. */
        VALID,
        /** Intact and ours, but written by another format version. */
        STALE,
        /** Truncated, damaged, not a cache file, or the value of another key. */
        CORRUPT
    }

    record Decoded<T>(Status status, T value) {
        static <T> Decoded<T> corrupt() {
            return new Decoded<>(Status.CORRUPT, null);
        }

        static <T> Decoded<T> stale() {
            return new Decoded<>(Status.STALE, null);
        }
    }

    static byte[] encodeEntry(CacheKey key, int version, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(ENTRY_OVERHEAD + payload.length);
        b.putInt(ENTRY_MAGIC).putInt(version).put(key.bytes()).putInt(payload.length).put(payload);
        return sealed(b);
    }

    /**
     * Reads an entry file's bytes. {@code anyVersion} accepts every version (for tools that
     * inspect a directory shared by several releases).
     */
    static Decoded<byte[]> decodeEntry(byte[] file, CacheKey expected, int version, boolean anyVersion) {
        if (file.length < ENTRY_OVERHEAD || !crcHolds(file)) {
            return Decoded.corrupt();
        }
        ByteBuffer b = ByteBuffer.wrap(file);
        if (b.getInt() != ENTRY_MAGIC) {
            return Decoded.corrupt();
        }
        int fileVersion = b.getInt();
        if (!expected.matches(file, b.position())) {
            return Decoded.corrupt();
        }
        b.position(b.position() + CacheKey.SIZE);
        int length = b.getInt();
        if (length != file.length - ENTRY_OVERHEAD) {
            return Decoded.corrupt();
        }
        if (!anyVersion && fileVersion != version) {
            return Decoded.stale();
        }
        byte[] payload = new byte[length];
        b.get(payload);
        return new Decoded<>(Status.VALID, payload);
    }

    static byte[] encodeHotList(String profile, int version, List<CacheKey> keys) {
        byte[] name = profile.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + 4 + 4 + name.length + 4 + keys.size() * CacheKey.SIZE + 4);
        b.putInt(HOT_MAGIC).putInt(version).putInt(name.length).put(name).putInt(keys.size());
        for (CacheKey k : keys) {
            b.put(k.bytes());
        }
        return sealed(b);
    }

    static Decoded<List<CacheKey>> decodeHotList(byte[] file, String profile, int version, boolean anyVersion) {
        if (file.length < 20 || !crcHolds(file)) {
            return Decoded.corrupt();
        }
        ByteBuffer b = ByteBuffer.wrap(file, 0, file.length - 4);
        if (b.getInt() != HOT_MAGIC) {
            return Decoded.corrupt();
        }
        int fileVersion = b.getInt();
        int nameLength = b.getInt();
        if (nameLength < 0 || nameLength > b.remaining() - 4) {
            return Decoded.corrupt();
        }
        byte[] name = new byte[nameLength];
        b.get(name);
        if (!profile.equals(new String(name, StandardCharsets.UTF_8))) {
            return Decoded.corrupt();
        }
        int count = b.getInt();
        if (count < 0 || count > MAX_HOT_KEYS || (long) count * CacheKey.SIZE != b.remaining()) {
            return Decoded.corrupt();
        }
        if (!anyVersion && fileVersion != version) {
            return Decoded.stale();
        }
        List<CacheKey> keys = new ArrayList<>(count);
        byte[] k = new byte[CacheKey.SIZE];
        for (int i = 0; i < count; i++) {
            b.get(k);
            keys.add(CacheKey.ofBytes(k));
        }
        return new Decoded<>(Status.VALID, List.copyOf(keys));
    }

    /** Fills in the trailing CRC of a buffer that has exactly four bytes left. */
    private static byte[] sealed(ByteBuffer b) {
        byte[] a = b.array();
        b.putInt(crc(a, a.length - 4));
        return a;
    }

    private static boolean crcHolds(byte[] file) {
        return ByteBuffer.wrap(file).getInt(file.length - 4) == crc(file, file.length - 4);
    }

    private static int crc(byte[] a, int len) {
        CRC32C c = new CRC32C();
        c.update(a, 0, len);
        return (int) c.getValue();
    }
}
