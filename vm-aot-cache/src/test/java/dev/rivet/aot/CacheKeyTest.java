package dev.rivet.aot;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CacheKeyTest {
    /** What the JIT will feed: code bytes, entry PC, ISA string, IR version, code generator version. */
    static CacheKey key(byte[] code, long pc, String isa, int irVersion, int genVersion) {
        return CacheKey.builder().putBytes(code).putLong(pc).putString(isa).putInt(irVersion).putInt(genVersion).build();
    }

    static final byte[] CODE = {0x13, 0x05, 0x50, 0x00, 0x67, (byte) 0x80, 0x00, 0x00};

    @Test
    void sameInputsGiveTheSameKey() {
        CacheKey a = key(CODE, 0x8000_0000L, "rv64gc", 3, 1);
        CacheKey b = key(CODE.clone(), 0x8000_0000L, "rv64gc", 3, 1);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertEquals(a.hex(), b.hex());
        assertEquals(64, a.hex().length());
        assertTrue(a.hex().matches("[0-9a-f]{64}"), a.hex());
    }

    @Test
    void everyInputChangesTheKey() {
        byte[] otherCode = CODE.clone();
        otherCode[7] ^= 1;
        Set<CacheKey> keys = new HashSet<>();
        keys.add(key(CODE, 0x8000_0000L, "rv64gc", 3, 1));
        keys.add(key(otherCode, 0x8000_0000L, "rv64gc", 3, 1));
        keys.add(key(CODE, 0x8000_0002L, "rv64gc", 3, 1));
        keys.add(key(CODE, 0x8000_0000L, "rv64imac", 3, 1));
        keys.add(key(CODE, 0x8000_0000L, "rv64gc", 4, 1));
        keys.add(key(CODE, 0x8000_0000L, "rv64gc", 3, 2));
        assertEquals(6, keys.size());
    }

    @Test
    void stringsCarryTheirLength() {
        assertNotEquals(CacheKey.builder().putString("ab").putString("c").build(),
                CacheKey.builder().putString("a").putString("bc").build());
        assertNotEquals(CacheKey.builder().putString("").build(), CacheKey.builder().build());
    }

    @Test
    void bytesAreRawAndSlicesHashLikeArrays() {
        assertEquals(CacheKey.builder().putBytes(new byte[] {1, 2}).putBytes(new byte[] {3}).build(),
                CacheKey.builder().putBytes(new byte[] {1, 2, 3}).build());
        assertEquals(CacheKey.builder().putBytes(new byte[] {9, 1, 2, 3, 9}, 1, 3).build(),
                CacheKey.builder().putBytes(new byte[] {1, 2, 3}).build());
        assertEquals(CacheKey.builder().putInt(0x01020304).build(),
                CacheKey.builder().putBytes(new byte[] {1, 2, 3, 4}).build(), "big-endian");
        assertThrows(IndexOutOfBoundsException.class, () -> CacheKey.builder().putBytes(new byte[2], 1, 2));
    }

    @Test
    void knownDigest() {
        // SHA-256 of the empty input
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", CacheKey.builder().build().hex());
    }

    @Test
    void hexAndBytesRoundTrip() {
        CacheKey k = key(CODE, 1, "rv64gc", 1, 1);
        assertEquals(k, CacheKey.ofHex(k.hex()));
        assertEquals(k, CacheKey.ofBytes(k.bytes()));
        byte[] copy = k.bytes();
        copy[0] ^= 1;
        assertEquals(k, CacheKey.ofBytes(k.bytes()), "bytes() is a copy");
        assertThrows(IllegalArgumentException.class, () -> CacheKey.ofHex("abcd"));
        assertThrows(IllegalArgumentException.class, () -> CacheKey.ofBytes(new byte[31]));
    }

    @Test
    void aBuilderMakesOneKey() {
        CacheKey.Builder b = CacheKey.builder().putInt(1);
        b.build();
        assertThrows(IllegalStateException.class, b::build);
        assertThrows(IllegalStateException.class, () -> b.putInt(2));
    }

    @Test
    void cacheModesParseTheirCliSpellings() {
        assertEquals(CacheMode.OFF, CacheMode.parse("off"));
        assertEquals(CacheMode.READ_ONLY, CacheMode.parse("ro"));
        assertEquals(CacheMode.READ_WRITE, CacheMode.parse("RW"));
        for (CacheMode m : CacheMode.values()) {
            assertEquals(m, CacheMode.parse(m.spelling()));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CacheMode.parse("yes"));
        assertTrue(e.getMessage().contains("off, ro or rw"), e.getMessage());
    }
}
