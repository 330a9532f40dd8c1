package dev.rivet.aot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Layer 2 of the code cache: opaque payloads in files, kept across runs and shared by
 * every VM (in any number of processes) that uses the same directory.
 *
 * <p>Sharing needs no locks: every file is written whole under a temporary name and
 * renamed into place ({@link AtomicFiles}), so a reader sees an old whole file, a new whole
 * file or none. Whatever is read is checked ({@link EntryFormat}); a truncated, damaged,
 * foreign or other-version file is a miss, and in read-write mode it is deleted.
 *
 * <p>The cache is bounded: when a write takes the directory over {@code maxBytes}, the
 * least recently used entries go (recency is the file's last-modified time, set on write
 * and on every hit, so it is shared between processes) until it is 10% under the cap.
 *
 * <p>The cache is a help, never a failure: I/O errors make a miss or an unwritten entry and
 * are counted, not thrown. Only {@link #open} reports an unusable directory. Thread-safe.
 */
public final class DiskCache {
    /**
     * A format version for tools ({@code vmctl cache}) that look at a directory shared by
     * several releases: every intact entry counts as current. Such a cache cannot write.
     */
    public static final int ANY_VERSION = -1;
    /** Temporary files older than this are left over from dead writers. */
    static final Duration TEMP_FILE_MAX_AGE = Duration.ofMinutes(10);
    /** Largest entry file read or written. */
    static final int MAX_ENTRY_BYTES = 1 << 30;
    private static final int MAX_HOT_LIST_BYTES = 64 + EntryFormat.MAX_HOT_KEYS * CacheKey.SIZE + (1 << 16);

    /** Counters since open; {@code entries} and {@code bytes} are as of the last directory scan plus this cache's own changes. */
    public record Stats(long entries, long bytes, long hits, long misses, long writes, long evictions,
                        long corruptDropped, long staleDropped, long writeFailures) {
    }

    /**
     * What {@link #verify} found: intact entries of this version, entries of another version,
     * damaged ones, and how many of the last two were deleted (none unless read-write).
     */
    public record VerifyReport(long ok, long stale, long corrupt, long removed) {
        public long bad() {
            return stale + corrupt;
        }
    }

    private final CacheLayout layout;
    private final CacheMode mode;
    private final long maxBytes;
    private final int version;
    private final Clock clock;

    private final AtomicLong entries = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong hits = new AtomicLong();
    private final AtomicLong misses = new AtomicLong();
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong evictions = new AtomicLong();
    private final AtomicLong corruptDropped = new AtomicLong();
    private final AtomicLong staleDropped = new AtomicLong();
    private final AtomicLong writeFailures = new AtomicLong();
    /** Bytes this cache wrote since it last scanned the directory (other processes write too). */
    private final AtomicLong writtenSinceScan = new AtomicLong();
    private final ReentrantLock evicting = new ReentrantLock();
    private final AtomicBoolean rescanRequested = new AtomicBoolean();

    private DiskCache(Path dir, CacheMode mode, long maxBytes, int version, Clock clock) {
        this.layout = new CacheLayout(dir);
        this.mode = mode;
        this.maxBytes = maxBytes;
        this.version = version;
        this.clock = clock;
    }

    /** Opens the cache in {@code dir} with the system clock; see {@link #open(Path, CacheMode, long, int, Clock)}. */
    public static DiskCache open(Path dir, CacheMode mode, long maxBytes, int formatVersion) throws IOException {
        return open(dir, mode, maxBytes, formatVersion, Clock.systemUTC());
    }

    /**
     * Opens the cache in {@code dir}. Nothing is created until the first write, so a missing
     * directory is an empty cache. In read-write mode, temporary files left by dead writers
     * are removed. {@code formatVersion} is the caller's payload format: entries written
     * with another one are misses. {@code clock} stamps writes and hits (the LRU order).
     *
     * @throws IOException if {@code dir} exists but is not a directory, or cannot be listed
     */
    public static DiskCache open(Path dir, CacheMode mode, long maxBytes, int formatVersion, Clock clock)
            throws IOException {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(clock, "clock");
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
        }
        if (formatVersion < 0 && formatVersion != ANY_VERSION) {
            throw new IllegalArgumentException("formatVersion must not be negative: " + formatVersion);
        }
        DiskCache cache = new DiskCache(dir, mode, maxBytes, formatVersion, clock);
        if (mode == CacheMode.OFF) {
            return cache;
        }
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new NotDirectoryException(dir + " (cache directory)");
        }
        if (mode.canWrite()) {
            cache.removeOldTempFiles();
        }
        cache.recount(cache.scan());
        return cache;
    }

    public Path directory() {
        return layout.root();
    }

    public CacheMode mode() {
        return mode;
    }

    public long maxBytes() {
        return maxBytes;
    }

    public int formatVersion() {
        return version;
    }

    /** The payload stored under {@code key}, or null on a miss (always null when off). */
    public byte[] get(CacheKey key) {
        Objects.requireNonNull(key, "key");
        if (!mode.canRead()) {
            return null;
        }
        Path file = layout.entryPath(key);
        byte[] content;
        try {
            content = AtomicFiles.readUpTo(file, MAX_ENTRY_BYTES);
        } catch (IOException e) {
            content = null;
        }
        if (content == null) {
            misses.incrementAndGet();
            return null;
        }
        EntryFormat.Decoded<byte[]> d = EntryFormat.decodeEntry(content, key, version, version == ANY_VERSION);
        if (d.status() != EntryFormat.Status.VALID) {
            misses.incrementAndGet();
            drop(file, content.length, d.status());
            return null;
        }
        hits.incrementAndGet();
        touch(file);
        return d.value();
    }

    /**
     * Stores {@code payload} under {@code key} (read-write mode only), replacing what is
     * there. Other processes see the old file or the new one, never a mix. An entry larger
     * than the cache's cap is not stored.
     */
    public void put(CacheKey key, byte[] payload) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(payload, "payload");
        if (!mode.canWrite()) {
            return;
        }
        requireWritableVersion();
        if ((long) payload.length + EntryFormat.ENTRY_OVERHEAD > Math.min(maxBytes, MAX_ENTRY_BYTES)) {
            return;
        }
        byte[] file = EntryFormat.encodeEntry(key, version, payload);
        Path path = layout.entryPath(key);
        long replaced = sizeOrZero(path);
        try {
            AtomicFiles.write(path, file, now());
        } catch (IOException e) {
            writeFailures.incrementAndGet();
            return;
        }
        writes.incrementAndGet();
        if (replaced == 0) {
            entries.incrementAndGet();
        }
        long total = bytes.addAndGet(file.length - replaced);
        if (total > maxBytes || writtenSinceScan.addAndGet(file.length) > maxBytes / 10) {
            rescanAndEvict();
        }
    }

    /**
     * Remembers which code was hot for a {@code profile} (a name the caller derives, e.g.
     * from the kernel's hash), replacing the previous list, so that a warm boot can load it
     * early. Read-write mode only; written atomically like entries.
     */
    public void putHotList(String profile, List<CacheKey> keys) {
        Objects.requireNonNull(profile, "profile");
        List<CacheKey> copy = List.copyOf(keys);
        if (!mode.canWrite()) {
            return;
        }
        requireWritableVersion();
        if (copy.size() > EntryFormat.MAX_HOT_KEYS) {
            throw new IllegalArgumentException("a hot list holds at most " + EntryFormat.MAX_HOT_KEYS + " keys");
        }
        try {
            AtomicFiles.write(layout.hotListPath(profile), EntryFormat.encodeHotList(profile, version, copy), now());
        } catch (IOException e) {
            writeFailures.incrementAndGet();
        }
    }

    /** The hot list last stored for {@code profile}; empty if none (or it is unreadable). */
    public List<CacheKey> hotList(String profile) {
        Objects.requireNonNull(profile, "profile");
        if (!mode.canRead()) {
            return List.of();
        }
        Path file = layout.hotListPath(profile);
        byte[] content;
        try {
            content = AtomicFiles.readUpTo(file, MAX_HOT_LIST_BYTES);
        } catch (IOException e) {
            return List.of();
        }
        if (content == null) {
            return List.of();
        }
        EntryFormat.Decoded<List<CacheKey>> d =
                EntryFormat.decodeHotList(content, profile, version, version == ANY_VERSION);
        if (d.status() != EntryFormat.Status.VALID) {
            deleteQuietly(file);
            return List.of();
        }
        return d.value();
    }

    public Stats stats() {
        return new Stats(entries.get(), bytes.get(), hits.get(), misses.get(), writes.get(), evictions.get(),
                corruptDropped.get(), staleDropped.get(), writeFailures.get());
    }

    /**
     * Reads and checks every entry in the directory; in read-write mode deletes the stale
     * and damaged ones (and temporary files of dead writers). Also refreshes the entry and
     * byte counts of {@link #stats}.
     */
    public VerifyReport verify() throws IOException {
        if (!mode.canRead()) {
            return new VerifyReport(0, 0, 0, 0);
        }
        if (mode.canWrite()) {
            removeOldTempFiles();
        }
        long ok = 0, stale = 0, corrupt = 0, removed = 0;
        for (Path file : layout.entryFiles()) {
            byte[] content = AtomicFiles.readUpTo(file, MAX_ENTRY_BYTES);
            if (content == null) {
                continue; // evicted or replaced meanwhile
            }
            EntryFormat.Status s = EntryFormat.decodeEntry(content, CacheLayout.keyOf(file), version,
                    version == ANY_VERSION).status();
            switch (s) {
                case VALID -> ok++;
                case STALE -> stale++;
                case CORRUPT -> corrupt++;
            }
            if (s != EntryFormat.Status.VALID && mode.canWrite() && deleteQuietly(file)) {
                removed++;
            }
        }
        recount(scan());
        return new VerifyReport(ok, stale, corrupt, removed);
    }

    /**
     * Deletes every entry, hot list and temporary file (read-write mode only; otherwise
     * nothing happens) and returns how many entries were deleted. Files the cache did not
     * name are left alone.
     */
    public long clear() throws IOException {
        if (!mode.canWrite()) {
            return 0;
        }
        long removed = 0;
        for (Path file : layout.entryFiles()) {
            if (deleteQuietly(file)) {
                removed++;
            }
        }
        for (Path file : layout.hotListFiles()) {
            deleteQuietly(file);
        }
        for (Path file : layout.tempFiles()) {
            deleteQuietly(file);
        }
        for (Path dir : layout.fanOutDirs()) {
            deleteIfEmpty(dir);
        }
        deleteIfEmpty(layout.hotDir());
        recount(scan());
        return removed;
    }

    /** How many hot lists the directory holds. */
    public long hotListCount() throws IOException {
        return mode.canRead() ? layout.hotListFiles().size() : 0;
    }

    // ---- internals ----

    private record Scanned(Path path, long size, FileTime modified) {
    }

    /** The entry files now, with size and age; files that vanish during the walk are skipped. */
    private List<Scanned> scan() throws IOException {
        List<Scanned> out = new ArrayList<>();
        for (Path p : layout.entryFiles()) {
            try {
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                out.add(new Scanned(p, a.size(), a.lastModifiedTime()));
            } catch (NoSuchFileException e) {
                // evicted or cleared by another process
            }
        }
        return out;
    }

    private void recount(List<Scanned> files) {
        entries.set(files.size());
        bytes.set(sumSizes(files));
    }

    private static long sumSizes(List<Scanned> files) {
        return files.stream().mapToLong(Scanned::size).sum();
    }

    /**
     * Rescans the directory (so entries of other processes count too) and, if it is over
     * the cap, deletes least recently used entries until it is 10% under. Runs when this
     * cache's count goes over the cap, and after every tenth of the cap written, so that
     * several processes sharing the directory cannot together overshoot it by much; the
     * scanning cost stays proportional to the bytes written. One pass at a time: a request
     * made during a pass makes that thread run another pass, so no write goes unconsidered.
     */
    private void rescanAndEvict() {
        rescanRequested.set(true);
        while (rescanRequested.get() && evicting.tryLock()) {
            try {
                rescanRequested.set(false);
                evictionPass();
            } finally {
                evicting.unlock();
            }
        }
    }

    private void evictionPass() {
        writtenSinceScan.set(0);
        try {
            List<Scanned> files = scan();
            long total = sumSizes(files);
            long lowWater = maxBytes - maxBytes / 10;
            int left = files.size();
            if (total > maxBytes) {
                files.sort(Comparator.comparing(Scanned::modified).thenComparing(s -> s.path().getFileName()));
                for (Scanned s : files) {
                    if (total <= lowWater) {
                        break;
                    }
                    if (deleteQuietly(s.path())) {
                        evictions.incrementAndGet();
                    }
                    total -= s.size(); // gone either way: by us or by someone else
                    left--;
                }
            }
            entries.set(left);
            bytes.set(total);
        } catch (IOException e) {
            // the next write tries again
        }
    }

    /** A file that read badly: counted, and deleted if this cache may delete. */
    private void drop(Path file, long size, EntryFormat.Status why) {
        (why == EntryFormat.Status.STALE ? staleDropped : corruptDropped).incrementAndGet();
        if (mode.canWrite() && deleteQuietly(file)) {
            entries.decrementAndGet();
            bytes.addAndGet(-size);
        }
    }

    /** Marks an entry as just used (the LRU order); read-only caches leave files alone. */
    private void touch(Path file) {
        if (!mode.canWrite()) {
            return;
        }
        try {
            Files.setLastModifiedTime(file, now());
        } catch (IOException e) {
            // evicted meanwhile, or not ours to touch: the order is a hint
        }
    }

    private void removeOldTempFiles() throws IOException {
        FileTime cutoff = FileTime.from(clock.instant().minus(TEMP_FILE_MAX_AGE));
        for (Path tmp : layout.tempFiles()) {
            try {
                if (Files.getLastModifiedTime(tmp).compareTo(cutoff) < 0) {
                    Files.deleteIfExists(tmp);
                }
            } catch (IOException e) {
                // finished (renamed) or removed by its writer meanwhile
            }
        }
    }

    private void requireWritableVersion() {
        if (version == ANY_VERSION) {
            throw new IllegalStateException("a cache opened with ANY_VERSION cannot write");
        }
    }

    private FileTime now() {
        return FileTime.from(clock.instant());
    }

    private static long sizeOrZero(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    private static boolean deleteQuietly(Path p) {
        try {
            return Files.deleteIfExists(p);
        } catch (IOException e) {
            return false;
        }
    }

    private static void deleteIfEmpty(Path dir) {
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // not empty: something was written meanwhile, or it holds files that are not ours
        }
    }
}
