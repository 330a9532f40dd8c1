package dev.rivet.aot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DiskCacheTest {
    static final int VERSION = 7;
    static final long BIG = 1L << 30;
    /** Bytes an entry file adds to its payload: magic, version, key, length, CRC. */
    static final int OVERHEAD = 4 + 4 + 32 + 4 + 4;

    @TempDir
    Path dir;
    final TestClock clock = new TestClock(Instant.parse("2025-01-01T00:00:00Z"));

    static CacheKey key(int i) {
        return CacheKey.builder().putString("block").putInt(i).build();
    }

    static byte[] payload(int i, int length) {
        byte[] p = new byte[length];
        for (int j = 0; j < length; j++) {
            p[j] = (byte) (i * 31 + j);
        }
        return p;
    }

    /** Where the cache keeps an entry: one subdirectory per first key byte. */
    Path fileOf(CacheKey k) {
        return dir.resolve(k.hex().substring(0, 2)).resolve(k.hex() + ".aot");
    }

    DiskCache open(CacheMode mode) throws IOException {
        return DiskCache.open(dir, mode, BIG, VERSION, clock);
    }

    List<Path> allFiles() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }

    @Test
    void missThenHit() throws IOException {
        DiskCache c = open(CacheMode.READ_WRITE);
        assertNull(c.get(key(1)));
        c.put(key(1), payload(1, 100));
        assertArrayEquals(payload(1, 100), c.get(key(1)));
        assertNull(c.get(key(2)));
        c.put(key(3), new byte[0]);
        assertArrayEquals(new byte[0], c.get(key(3)), "an empty payload is a hit, not a miss");
        DiskCache.Stats s = c.stats();
        assertEquals(2, s.entries());
        assertEquals(100 + 2 * OVERHEAD, s.bytes());
        assertEquals(2, s.hits());
        assertEquals(2, s.misses());
        assertEquals(2, s.writes());
        assertTrue(Files.isRegularFile(fileOf(key(1))), "entries fan out by first key byte");
    }

    @Test
    void entriesPersistAcrossReopen() throws IOException {
        open(CacheMode.READ_WRITE).put(key(1), payload(1, 500));
        DiskCache again = open(CacheMode.READ_WRITE);
        assertEquals(1, again.stats().entries());
        assertEquals(500 + OVERHEAD, again.stats().bytes());
        assertArrayEquals(payload(1, 500), again.get(key(1)));
    }

    @Test
    void aSecondWriteOfAKeyReplacesTheFirst() throws IOException {
        DiskCache c = open(CacheMode.READ_WRITE);
        c.put(key(1), payload(1, 10));
        c.put(key(1), payload(2, 20));
        assertArrayEquals(payload(2, 20), c.get(key(1)));
        assertEquals(1, c.stats().entries());
        assertEquals(20 + OVERHEAD, c.stats().bytes());
    }

    @Test
    void sizeCapEvictsTheLeastRecentlyUsed() throws IOException {
        int payload = 1000 - OVERHEAD; // 1000-byte files
        DiskCache c = DiskCache.open(dir, CacheMode.READ_WRITE, 3500, VERSION, clock);
        c.put(key(1), payload(1, payload));
        clock.tick();
        c.put(key(2), payload(2, payload));
        clock.tick();
        c.put(key(3), payload(3, payload));
        clock.tick();
        assertArrayEquals(payload(1, payload), c.get(key(1)), "reading 1 makes it the most recent");
        clock.tick();
        c.put(key(4), payload(4, payload)); // 4000 > 3500: evict down to 3150, i.e. one entry

        assertEquals(1, c.stats().evictions());
        assertEquals(3, c.stats().entries());
        assertEquals(3000, c.stats().bytes());
        assertNull(c.get(key(2)), "2 was the least recently used");
        assertArrayEquals(payload(1, payload), c.get(key(1)));
        assertArrayEquals(payload(3, payload), c.get(key(3)));
        assertArrayEquals(payload(4, payload), c.get(key(4)));
    }

    @Test
    void evictionCountsEntriesOfOtherProcesses() throws IOException {
        int payload = 1000 - OVERHEAD;
        DiskCache other = DiskCache.open(dir, CacheMode.READ_WRITE, BIG, VERSION, clock);
        DiskCache c = DiskCache.open(dir, CacheMode.READ_WRITE, 2500, VERSION, clock);
        other.put(key(1), payload(1, payload));
        clock.tick();
        other.put(key(2), payload(2, payload));
        clock.tick();
        c.put(key(3), payload(3, payload)); // c alone has 1000 bytes, the directory 3000
        assertNull(c.get(key(1)));
        assertArrayEquals(payload(3, payload), c.get(key(3)));
        assertEquals(2000, c.stats().bytes());
    }

    @Test
    void anEntryLargerThanTheCapIsNotStored() throws IOException {
        DiskCache c = DiskCache.open(dir, CacheMode.READ_WRITE, 100, VERSION, clock);
        c.put(key(1), payload(1, 200));
        assertNull(c.get(key(1)));
        assertEquals(0, c.stats().entries());
    }

    /** Writes key 1, damages its file with {@code damage}, and checks the damage is a counted miss that removes the file. */
    void assertDropped(java.util.function.UnaryOperator<byte[]> damage, boolean stale) throws IOException {
        DiskCache c = open(CacheMode.READ_WRITE);
        c.put(key(1), payload(1, 300));
        Path f = fileOf(key(1));
        Files.write(f, damage.apply(Files.readAllBytes(f)));
        assertNull(c.get(key(1)));
        assertFalse(Files.exists(f), "the bad file is removed");
        assertEquals(stale ? 0 : 1, c.stats().corruptDropped());
        assertEquals(stale ? 1 : 0, c.stats().staleDropped());
        assertEquals(1, c.stats().misses());
        assertEquals(0, c.stats().entries());
        c.put(key(1), payload(1, 300));
        assertArrayEquals(payload(1, 300), c.get(key(1)), "and the key can be stored again");
    }

    /** Recomputes a damaged file's CRC, so that only the field under test is wrong. */
    static byte[] resealed(byte[] f) {
        CRC32C crc = new CRC32C();
        crc.update(f, 0, f.length - 4);
        ByteBuffer.wrap(f).putInt(f.length - 4, (int) crc.getValue());
        return f;
    }

    @Test
    void truncatedFileIsDropped() throws IOException {
        assertDropped(f -> Arrays.copyOf(f, f.length - 1), false);
    }

    @Test
    void fileCutInsideTheHeaderIsDropped() throws IOException {
        assertDropped(f -> Arrays.copyOf(f, 10), false);
    }

    @Test
    void emptyFileIsDropped() throws IOException {
        assertDropped(f -> new byte[0], false);
    }

    @Test
    void flippedPayloadByteIsDropped() throws IOException {
        assertDropped(f -> {
            f[OVERHEAD + 17] ^= 0x10;
            return f;
        }, false);
    }

    @Test
    void wrongMagicIsDropped() throws IOException {
        assertDropped(f -> {
            f[0] = 'X';
            return resealed(f);
        }, false);
    }

    @Test
    void wrongLengthFieldIsDropped() throws IOException {
        assertDropped(f -> {
            f[43] += 1;
            return resealed(f);
        }, false);
    }

    @Test
    void otherVersionIsStale() throws IOException {
        assertDropped(f -> {
            f[7] = VERSION + 1;
            return resealed(f);
        }, true);
    }

    @Test
    void aFileUnderAnotherKeysNameIsDropped() throws IOException {
        DiskCache c = open(CacheMode.READ_WRITE);
        c.put(key(1), payload(1, 300));
        Files.createDirectories(fileOf(key(2)).getParent());
        Files.move(fileOf(key(1)), fileOf(key(2)));
        assertNull(c.get(key(2)), "key 1's payload must not be served for key 2");
        assertFalse(Files.exists(fileOf(key(2))));
        assertEquals(1, c.stats().corruptDropped());
        assertNull(c.get(key(1)));
    }

    @Test
    void aNewFormatVersionMakesOldEntriesMisses() throws IOException {
        DiskCache v1 = DiskCache.open(dir, CacheMode.READ_WRITE, BIG, 1, clock);
        v1.put(key(1), payload(1, 100));
        v1.put(key(2), payload(2, 100));
        DiskCache v2 = DiskCache.open(dir, CacheMode.READ_WRITE, BIG, 2, clock);
        assertNull(v2.get(key(1)));
        assertEquals(1, v2.stats().staleDropped());
        assertFalse(Files.exists(fileOf(key(1))));
        DiskCache.VerifyReport r = v2.verify();
        assertEquals(new DiskCache.VerifyReport(0, 1, 0, 1), r);
        assertTrue(allFiles().isEmpty(), allFiles().toString());
    }

    @Test
    void readOnlyReadsButNeverWritesOrDeletes() throws IOException {
        DiskCache rw = open(CacheMode.READ_WRITE);
        rw.put(key(1), payload(1, 100));
        rw.put(key(2), payload(2, 100));
        Files.write(fileOf(key(2)), new byte[] {1, 2, 3});
        FileTime before = Files.getLastModifiedTime(fileOf(key(1)));
        clock.tick();

        DiskCache ro = open(CacheMode.READ_ONLY);
        assertArrayEquals(payload(1, 100), ro.get(key(1)));
        assertNull(ro.get(key(2)));
        assertEquals(1, ro.stats().corruptDropped(), "counted");
        assertTrue(Files.exists(fileOf(key(2))), "but not deleted");
        assertEquals(before, Files.getLastModifiedTime(fileOf(key(1))), "a hit does not touch the file");
        ro.put(key(3), payload(3, 100));
        ro.putHotList("p", List.of(key(1)));
        assertEquals(new DiskCache.VerifyReport(1, 0, 1, 0), ro.verify());
        assertEquals(0, ro.clear());
        assertEquals(2, allFiles().size(), allFiles().toString());
        assertEquals(0, ro.stats().writes());
    }

    @Test
    void readOnlyOnAMissingDirectoryIsEmptyAndCreatesNothing() throws IOException {
        Path missing = dir.resolve("nope");
        DiskCache ro = DiskCache.open(missing, CacheMode.READ_ONLY, BIG, VERSION);
        assertNull(ro.get(key(1)));
        assertEquals(0, ro.stats().entries());
        assertEquals(new DiskCache.VerifyReport(0, 0, 0, 0), ro.verify());
        assertFalse(Files.exists(missing));
        DiskCache rw = DiskCache.open(missing, CacheMode.READ_WRITE, BIG, VERSION);
        assertFalse(Files.exists(missing), "opening creates nothing; the first write does");
        rw.put(key(1), payload(1, 1));
        assertArrayEquals(payload(1, 1), rw.get(key(1)));
    }

    @Test
    void offDoesNothing() throws IOException {
        open(CacheMode.READ_WRITE).put(key(1), payload(1, 100));
        DiskCache off = open(CacheMode.OFF);
        assertNull(off.get(key(1)));
        off.put(key(2), payload(2, 100));
        off.putHotList("p", List.of(key(1)));
        assertEquals(List.of(), off.hotList("p"));
        assertEquals(0, off.clear());
        assertEquals(1, allFiles().size());
        assertEquals(new DiskCache.Stats(0, 0, 0, 0, 0, 0, 0, 0, 0), off.stats());
    }

    @Test
    void aRegularFileIsNotACacheDirectory() throws IOException {
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertThrows(IOException.class, () -> DiskCache.open(file, CacheMode.READ_ONLY, BIG, VERSION));
        assertThrows(IllegalArgumentException.class, () -> DiskCache.open(dir, CacheMode.READ_WRITE, 0, VERSION));
        assertThrows(IllegalArgumentException.class, () -> DiskCache.open(dir, CacheMode.READ_WRITE, BIG, -2));
    }

    @Test
    void hotListsRoundTripPerProfile() throws IOException {
        DiskCache c = open(CacheMode.READ_WRITE);
        List<CacheKey> hot = List.of(key(5), key(1), key(9));
        c.putHotList("kernel-abc", hot);
        c.putHotList("kernel-def/with odd:chars", List.of(key(2)));
        DiskCache again = open(CacheMode.READ_ONLY);
        assertEquals(hot, again.hotList("kernel-abc"));
        assertEquals(List.of(key(2)), again.hotList("kernel-def/with odd:chars"));
        assertEquals(List.of(), again.hotList("never-stored"));
        c.putHotList("kernel-abc", List.of());
        assertEquals(List.of(), c.hotList("kernel-abc"));
        assertEquals(2, c.hotListCount());
        assertEquals(List.of(), DiskCache.open(dir, CacheMode.READ_WRITE, BIG, VERSION + 1, clock).hotList("kernel-def/with odd:chars"),
                "another version's hot list is not used");
    }

    @Test
    void aDamagedHotListIsEmpty() throws IOException {
        DiskCache c = open(CacheMode.READ_WRITE);
        c.putHotList("p", List.of(key(1), key(2)));
        Path f;
        try (Stream<Path> s = Files.list(dir.resolve("hot"))) {
            f = s.findFirst().orElseThrow();
        }
        byte[] b = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(b, b.length - 33));
        assertEquals(List.of(), c.hotList("p"));
        assertFalse(Files.exists(f));
    }

    @Test
    void verifyFindsAndRemovesBadEntries() throws IOException {
        DiskCache c = open(CacheMode.READ_WRITE);
        for (int i = 0; i < 10; i++) {
            c.put(key(i), payload(i, 50 + i));
        }
        Files.write(fileOf(key(3)), new byte[] {9, 9, 9});
        byte[] f = Files.readAllBytes(fileOf(key(4)));
        f[f.length - 1] ^= 1;
        Files.write(fileOf(key(4)), f);
        Files.copy(fileOf(key(5)), fileOf(key(6)), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path notOurs = Files.writeString(dir.resolve("README"), "someone else's file");

        DiskCache.VerifyReport r = c.verify();
        assertEquals(new DiskCache.VerifyReport(7, 0, 3, 3), r);
        assertEquals(3, r.bad());
        assertEquals(7, c.stats().entries());
        assertEquals(new DiskCache.VerifyReport(7, 0, 0, 0), c.verify());
        assertTrue(Files.exists(notOurs));
    }

    @Test
    void clearRemovesEverythingItWroteAndNothingElse() throws IOException {
        DiskCache c = open(CacheMode.READ_WRITE);
        for (int i = 0; i < 20; i++) {
            c.put(key(i), payload(i, 10));
        }
        c.putHotList("p", List.of(key(1)));
        Path notOurs = Files.writeString(dir.resolve("notes.txt"), "keep me");
        assertEquals(20, c.clear());
        assertEquals(List.of(notOurs), allFiles());
        assertEquals(0, c.stats().entries());
        assertNull(c.get(key(1)));
        assertEquals(List.of(), c.hotList("p"));
        c.put(key(1), payload(1, 10));
        assertArrayEquals(payload(1, 10), c.get(key(1)), "the cache works after a clear");
    }

    @Test
    void openRemovesOnlyOldTemporaryFiles() throws IOException {
        DiskCache c = open(CacheMode.READ_WRITE);
        c.put(key(1), payload(1, 10));
        Path sub = fileOf(key(1)).getParent();
        Path old = Files.write(sub.resolve(".tmp-123.part"), new byte[] {1});
        Files.setLastModifiedTime(old, FileTime.from(clock.instant().minusSeconds(3600)));
        Path fresh = Files.write(sub.resolve(".tmp-456.part"), new byte[] {1});
        Files.setLastModifiedTime(fresh, FileTime.from(clock.instant().minusSeconds(5)));

        open(CacheMode.READ_ONLY);
        assertTrue(Files.exists(old), "read-only never deletes");
        open(CacheMode.READ_WRITE);
        assertFalse(Files.exists(old), "left over by a dead writer");
        assertTrue(Files.exists(fresh), "maybe a write in progress");
    }

    @Test
    void anyVersionSeesEveryIntactEntryButCannotWrite() throws IOException {
        DiskCache.open(dir, CacheMode.READ_WRITE, BIG, 1, clock).put(key(1), payload(1, 10));
        DiskCache.open(dir, CacheMode.READ_WRITE, BIG, 2, clock).put(key(2), payload(2, 10));
        DiskCache any = DiskCache.open(dir, CacheMode.READ_WRITE, BIG, DiskCache.ANY_VERSION, clock);
        assertEquals(new DiskCache.VerifyReport(2, 0, 0, 0), any.verify());
        assertArrayEquals(payload(1, 10), any.get(key(1)));
        assertThrows(IllegalStateException.class, () -> any.put(key(3), payload(3, 1)));
    }

    @Test
    void manyThreadsShareOneCache() throws Exception {
        DiskCache c = DiskCache.open(dir, CacheMode.READ_WRITE, 20_000, VERSION);
        List<Thread> threads = new java.util.ArrayList<>();
        java.util.concurrent.atomic.AtomicInteger bad = new java.util.concurrent.atomic.AtomicInteger();
        for (int t = 0; t < 4; t++) {
            int seed = t;
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 300; i++) {
                    int k = (i * 7 + seed) % 40;
                    c.put(key(k), payload(k, 100 + k * 10));
                    byte[] got = c.get(key((k + 3) % 40));
                    if (got != null && !Arrays.equals(got, payload((k + 3) % 40, 100 + ((k + 3) % 40) * 10))) {
                        bad.incrementAndGet();
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(0, bad.get());
        assertEquals(0, c.verify().bad());
        assertTrue(c.stats().bytes() <= 20_000, c.stats().toString());
        assertEquals(0, c.stats().writeFailures());
    }
}
