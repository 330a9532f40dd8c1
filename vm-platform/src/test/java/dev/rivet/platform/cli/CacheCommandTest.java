package dev.rivet.platform.cli;

import dev.rivet.aot.CacheKey;
import dev.rivet.aot.CacheLocations;
import dev.rivet.aot.CacheMode;
import dev.rivet.aot.DiskCache;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.rivet.platform.cli.VmctlTest.assertNoStackTrace;
import static dev.rivet.platform.cli.VmctlTest.vmctl;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code vmctl cache} as a user meets it, on a cache directory filled through the cache's own API. */
class CacheCommandTest {
    @TempDir
    Path dir;

    static CacheKey key(int i) {
        return CacheKey.builder().putString("cli").putInt(i).build();
    }

    /** Three entries of 100, 200 and 300 payload bytes (148, 248, 348 bytes on disk) and one hot list. */
    Path filled() throws IOException {
        Path cache = dir.resolve("cache");
        DiskCache c = DiskCache.open(cache, CacheMode.READ_WRITE, 1 << 20, 1);
        for (int i = 1; i <= 3; i++) {
            c.put(key(i), new byte[100 * i]);
        }
        c.putHotList("kernel", List.of(key(1)));
        return cache;
    }

    Path entryFile(Path cache, CacheKey k) {
        return cache.resolve(k.hex().substring(0, 2)).resolve(k.hex() + ".aot");
    }

    @Test
    void statsCountsEntriesAndSize() throws IOException {
        Path cache = filled();
        VmctlTest.Outcome o = vmctl("cache", "stats", "--dir", cache.toString());
        assertEquals(0, o.status(), o.err());
        assertEquals("""
                directory: %s
                entries:   3
                size:      744 bytes
                hot lists: 1
                """.formatted(cache), o.out());
        assertEquals("", o.err());
    }

    @Test
    void statsAsJson() throws IOException {
        Path cache = filled();
        VmctlTest.Outcome o = vmctl("cache", "stats", "--json", "--dir", cache.toString());
        assertEquals(0, o.status(), o.err());
        assertEquals("{\"directory\":\"" + cache + "\",\"entries\":3,\"bytes\":744,\"hotLists\":1}\n", o.out());
        Map<String, Object> m = FlatJson.parse(o.out());
        assertEquals(List.of("directory", "entries", "bytes", "hotLists"), List.copyOf(m.keySet()));
        assertEquals(cache.toString(), m.get("directory"));
    }

    @Test
    void aMissingDirectoryIsAnEmptyCacheAndIsNotCreated() {
        Path missing = dir.resolve("never-used");
        for (String cmd : new String[] {"stats", "verify", "clear"}) {
            VmctlTest.Outcome o = vmctl("cache", cmd, "--json", "--dir", missing.toString());
            assertEquals(0, o.status(), cmd + ": " + o.err());
            Map<String, Object> m = FlatJson.parse(o.out());
            assertEquals(missing.toString(), m.get("directory"));
            m.forEach((k, v) -> {
                if (v instanceof Long n) {
                    assertEquals(0L, n, cmd + " " + k);
                }
            });
        }
        assertTrue(vmctl("cache", "stats", "--dir", missing.toString()).out().contains("entries:   0"));
        assertFalse(Files.exists(missing));
    }

    @Test
    void verifyRemovesDamagedEntries() throws IOException {
        Path cache = filled();
        Files.write(entryFile(cache, key(2)), new byte[] {1, 2, 3});
        VmctlTest.Outcome o = vmctl("cache", "verify", "--dir", cache.toString());
        assertEquals(0, o.status(), o.err());
        assertEquals("verified 3 entries in " + cache + ": 2 ok, 1 bad, 1 removed\n", o.out());
        assertFalse(Files.exists(entryFile(cache, key(2))));

        VmctlTest.Outcome again = vmctl("cache", "verify", "--json", "--dir", cache.toString());
        assertEquals("{\"directory\":\"" + cache + "\",\"ok\":2,\"bad\":0,\"removed\":0}\n", again.out());
    }

    @Test
    void verifyKeepsIntactEntriesOfOtherReleases() throws IOException {
        Path cache = filled();
        DiskCache.open(cache, CacheMode.READ_WRITE, 1 << 20, 99).put(key(9), new byte[10]);
        VmctlTest.Outcome o = vmctl("cache", "verify", "--json", "--dir", cache.toString());
        assertEquals(4L, FlatJson.parse(o.out()).get("ok"), o.out());
    }

    @Test
    void clearRemovesEverythingTheCacheWrote() throws IOException {
        Path cache = filled();
        Path notes = Files.writeString(cache.resolve("notes.txt"), "not a cache file");
        VmctlTest.Outcome o = vmctl("cache", "clear", "--dir", cache.toString());
        assertEquals(0, o.status(), o.err());
        assertEquals("removed 3 entries from " + cache + "\n", o.out());
        try (Stream<Path> s = Files.walk(cache)) {
            assertEquals(List.of(notes), s.filter(Files::isRegularFile).toList());
        }
        assertEquals("{\"directory\":\"" + cache + "\",\"entries\":0,\"bytes\":0,\"hotLists\":0}\n",
                vmctl("cache", "stats", "--json", "--dir", cache.toString()).out());
    }

    @Test
    void jsonEscapesOddDirectoryNames() throws IOException {
        Path odd = dir.resolve("we\"ird\\name\ttab");
        Files.createDirectories(odd);
        VmctlTest.Outcome o = vmctl("cache", "stats", "--json", "--dir", odd.toString());
        assertEquals(0, o.status(), o.err());
        assertTrue(o.out().contains("we\\\"ird\\\\name\\ttab"), o.out());
        assertEquals(odd.toString(), FlatJson.parse(o.out()).get("directory"));
    }

    @Test
    void defaultDirectoryIsThePlatformCache() {
        VmctlTest.Outcome o = vmctl("cache", "stats", "--json"); // read-only: touches nothing
        assertEquals(0, o.status(), o.err());
        assertEquals(CacheLocations.defaultDirectory().toString(), FlatJson.parse(o.out()).get("directory"));
    }

    @Test
    void unusableInputIsOneLineAndExit2() throws IOException {
        Path file = Files.writeString(dir.resolve("plain-file"), "x");
        for (String cmd : new String[] {"stats", "verify", "clear"}) {
            VmctlTest.Outcome o = vmctl("cache", cmd, "--dir", file.toString());
            assertEquals(Vmctl.EXIT_USAGE, o.status(), o.err());
            assertEquals("vmctl: cache directory " + file + ": not a directory\n", o.err());
            assertEquals("", o.out());
        }
        for (String[] args : new String[][] {{"cache"}, {"cache", "shrink"}, {"cache", "stats", "--frobnicate"},
                {"cache", "stats", "--dir"}}) {
            VmctlTest.Outcome o = vmctl(args);
            assertEquals(Vmctl.EXIT_USAGE, o.status(), String.join(" ", args) + ": " + o.err());
            assertNoStackTrace(o);
            assertTrue(o.err().startsWith("vmctl: "), o.err());
        }
        assertTrue(vmctl("cache", "stats", "--frobnicate").err().contains("Try 'vmctl cache stats --help'."));
    }

    @Test
    void helpListsTheCacheCommands() {
        VmctlTest.Outcome o = vmctl("cache", "--help");
        assertEquals(0, o.status());
        assertTrue(o.out().contains("stats") && o.out().contains("verify") && o.out().contains("clear"), o.out());
        assertTrue(vmctl("--help").out().contains("cache"));
    }

    /** Just enough JSON to check the output: one flat object of strings and integers, strictly parsed. */
    static final class FlatJson {
        private final String s;
        private int i;

        private FlatJson(String s) {
            this.s = s.strip();
        }

        static Map<String, Object> parse(String text) {
            FlatJson p = new FlatJson(text);
            Map<String, Object> m = p.object();
            if (p.i != p.s.length()) {
                throw new AssertionError("trailing text in " + text);
            }
            return m;
        }

        private Map<String, Object> object() {
            Map<String, Object> m = new LinkedHashMap<>();
            expect('{');
            if (s.charAt(i) == '}') {
                i++;
                return m;
            }
            do {
                String k = string();
                expect(':');
                Object v = s.charAt(i) == '"' ? string() : number();
                if (m.put(k, v) != null) {
                    throw new AssertionError("duplicate key " + k + " in " + s);
                }
            } while (s.charAt(i++) == ',');
            if (s.charAt(i - 1) != '}') {
                throw new AssertionError("bad object: " + s);
            }
            return m;
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            for (char c; (c = s.charAt(i++)) != '"'; ) {
                if (c < 0x20) {
                    throw new AssertionError("raw control character in " + s);
                }
                if (c == '\\') {
                    char e = s.charAt(i++);
                    switch (e) {
                        case '"', '\\', '/' -> b.append(e);
                        case 'n' -> b.append('\n');
                        case 'r' -> b.append('\r');
                        case 't' -> b.append('\t');
                        case 'b' -> b.append('\b');
                        case 'f' -> b.append('\f');
                        case 'u' -> {
                            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                            i += 4;
                        }
                        default -> throw new AssertionError("bad escape in " + s);
                    }
                } else {
                    b.append(c);
                }
            }
            return b.toString();
        }

        private Long number() {
            int start = i;
            while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '-')) {
                i++;
            }
            return Long.parseLong(s.substring(start, i));
        }

        private void expect(char c) {
            if (s.charAt(i++) != c) {
                throw new AssertionError("expected " + c + " at " + (i - 1) + " in " + s);
            }
        }
    }
}
