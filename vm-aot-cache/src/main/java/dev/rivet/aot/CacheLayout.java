package dev.rivet.aot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Where the disk cache keeps what, and how its files are recognised. Entries fan out into
 * 256 subdirectories by the key's first byte ({@code 3f/3f91...e2.aot}) so no directory
 * grows huge; hot lists live in {@code hot/}, named by a hash of their profile. Only names
 * of these shapes are ever read or deleted, so pointing the cache at the wrong directory
 * cannot destroy unrelated files.
 */
final class CacheLayout {
    static final String ENTRY_SUFFIX = ".aot";
    static final String HOT_DIR = "hot";
    static final String HOT_SUFFIX = ".hot";
    static final String TEMP_PREFIX = ".tmp-";
    static final String TEMP_SUFFIX = ".part";

    private final Path root;

    CacheLayout(Path root) {
        this.root = root;
    }

    Path root() {
        return root;
    }

    Path entryPath(CacheKey key) {
        return root.resolve(fanOut(key.byteAt(0))).resolve(key.hex() + ENTRY_SUFFIX);
    }

    Path hotDir() {
        return root.resolve(HOT_DIR);
    }

    Path hotListPath(String profile) {
        CacheKey name = CacheKey.builder().putBytes(profile.getBytes(StandardCharsets.UTF_8)).build();
        return hotDir().resolve(name.hex() + HOT_SUFFIX);
    }

    /** The key an entry file holds by its name and place, or null if it is not an entry file. */
    static CacheKey keyOf(Path file) {
        String name = file.getFileName().toString();
        Path parent = file.getParent();
        if (!name.endsWith(ENTRY_SUFFIX) || name.length() != 2 * CacheKey.SIZE + ENTRY_SUFFIX.length()
                || parent == null || !isHex(name, 2 * CacheKey.SIZE)) {
            return null;
        }
        String dir = parent.getFileName().toString();
        return dir.equals(name.substring(0, 2)) ? CacheKey.ofHex(name.substring(0, 2 * CacheKey.SIZE)) : null;
    }

    static boolean isTempFile(Path file) {
        String name = file.getFileName().toString();
        return name.startsWith(TEMP_PREFIX) && name.endsWith(TEMP_SUFFIX);
    }

    static boolean isHotList(Path file) {
        String name = file.getFileName().toString();
        return name.endsWith(HOT_SUFFIX) && name.length() == 2 * CacheKey.SIZE + HOT_SUFFIX.length()
                && isHex(name, 2 * CacheKey.SIZE);
    }

    /** The fan-out subdirectories that exist now. */
    List<Path> fanOutDirs() throws IOException {
        return list(root, p -> isHex(p.getFileName().toString(), 2) && p.getFileName().toString().length() == 2
                && Files.isDirectory(p));
    }

    /** Every entry file, as seen by a directory walk that tolerates concurrent changes. */
    List<Path> entryFiles() throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path dir : fanOutDirs()) {
            out.addAll(list(dir, p -> keyOf(p) != null));
        }
        return out;
    }

    /** Temporary files of writes in flight (or of writers that died). */
    List<Path> tempFiles() throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path dir : fanOutDirs()) {
            out.addAll(list(dir, CacheLayout::isTempFile));
        }
        out.addAll(list(hotDir(), CacheLayout::isTempFile));
        return out;
    }

    List<Path> hotListFiles() throws IOException {
        return list(hotDir(), CacheLayout::isHotList);
    }

    /** The matching children of {@code dir}; none if it does not exist (or vanishes meanwhile). */
    private static List<Path> list(Path dir, Predicate<Path> filter) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                if (filter.test(p)) {
                    out.add(p);
                }
            }
        } catch (NoSuchFileException | NotDirectoryException e) {
            return List.of();
        }
        return out;
    }

    private static String fanOut(int b) {
        return "%02x".formatted(b);
    }

    private static boolean isHex(String s, int n) {
        if (s.length() < n) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }
}
