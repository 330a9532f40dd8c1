package dev.rivet.aot;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The identity of a cached piece of code: a SHA-256 digest of everything the compiled
 * result depends on (guest code bytes, entry PC, ISA configuration, IR and code generator
 * versions). Keying by content rather than by address lets separate runs and separate
 * machines share entries, and makes a change in any input a different key, not a stale hit.
 */
public final class CacheKey {
    /** Size of a key in bytes. */
    public static final int SIZE = 32;

    private static final HexFormat HEX = HexFormat.of();

    private final byte[] digest;
    private final int hash;

    private CacheKey(byte[] digest) {
        this.digest = digest;
        this.hash = Arrays.hashCode(digest);
    }

    /** A builder that hashes the fields fed to it, in order. */
    public static Builder builder() {
        return new Builder();
    }

    /** The key with these 32 digest bytes (as returned by {@link #bytes()}). */
    public static CacheKey ofBytes(byte[] digest) {
        if (digest.length != SIZE) {
            throw new IllegalArgumentException("a cache key is " + SIZE + " bytes, not " + digest.length);
        }
        return new CacheKey(digest.clone());
    }

    /** The key whose {@link #hex()} is {@code hex}. */
    public static CacheKey ofHex(String hex) {
        if (hex.length() != 2 * SIZE) {
            throw new IllegalArgumentException("a cache key is " + 2 * SIZE + " hex digits: " + hex);
        }
        return new CacheKey(HEX.parseHex(hex));
    }

    /** The digest bytes (a copy). */
    public byte[] bytes() {
        return digest.clone();
    }

    /** Digest byte {@code i} (0..31), without copying. */
    public int byteAt(int i) {
        return digest[i] & 0xff;
    }

    /** The digest as 64 lower-case hex digits. */
    public String hex() {
        return HEX.formatHex(digest);
    }

    /** True if {@code buf[off..off+32)} holds this key's digest. */
    boolean matches(byte[] buf, int off) {
        return Arrays.equals(digest, 0, SIZE, buf, off, off + SIZE);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CacheKey k && Arrays.equals(digest, k.digest);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return "CacheKey[" + hex() + "]";
    }

    /**
     * Feeds fields into the digest. Fixed-size fields are hashed big-endian; strings carry
     * their length so that ("ab","c") and ("a","bc") differ. {@link #putBytes} feeds raw bytes
     * (two calls hash like one call on the concatenation): put a length first when the
     * boundary matters. Not thread-safe; one builder makes one key.
     */
    public static final class Builder {
        private final MessageDigest sha256;
        private boolean built;

        private Builder() {
            try {
                sha256 = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new AssertionError("every JDK has SHA-256", e);
            }
        }

        public Builder putBytes(byte[] bytes) {
            return putBytes(bytes, 0, bytes.length);
        }

        public Builder putBytes(byte[] bytes, int off, int len) {
            Objects.checkFromIndexSize(off, len, bytes.length);
            live().update(bytes, off, len);
            return this;
        }

        public Builder putLong(long v) {
            for (int shift = 56; shift >= 0; shift -= 8) {
                live().update((byte) (v >>> shift));
            }
            return this;
        }

        public Builder putInt(int v) {
            for (int shift = 24; shift >= 0; shift -= 8) {
                live().update((byte) (v >>> shift));
            }
            return this;
        }

        /** The string as UTF-8, preceded by its encoded length. */
        public Builder putString(String s) {
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            putInt(utf8.length);
            return putBytes(utf8);
        }

        public CacheKey build() {
            CacheKey key = new CacheKey(live().digest());
            built = true;
            return key;
        }

        private MessageDigest live() {
            if (built) {
                throw new IllegalStateException("this builder already built its key");
            }
            return sha256;
        }
    }
}
