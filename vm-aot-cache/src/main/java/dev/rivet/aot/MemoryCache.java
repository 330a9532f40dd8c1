package dev.rivet.aot;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * Layer 1 of the code cache: a bounded, least-recently-used map from key to whatever the
 * caller made of a payload (typically a loaded class), shared by every hart and machine of
 * a JVM that is handed the same instance. There is no global instance: the owner decides
 * the sharing and the bound.
 *
 * <p>{@link #computeIfAbsent} computes each missing key once even when many threads ask for
 * it together: the first computes (outside the lock, so other keys proceed), the others
 * wait for its result. Thread-safe.
 *
 * @param <V> the cached values
 */
public final class MemoryCache<V> {
    /** Counters since creation: values found, values computed (or not found), values dropped for the bound. */
    public record Stats(long hits, long misses, long evictions, int size, int maxEntries) {
    }

    private final int maxEntries;
    private final LinkedHashMap<CacheKey, V> values;
    /** Computations in progress, by key; guarded by {@code this}. */
    private final Map<CacheKey, Pending<V>> pending = new HashMap<>();
    private long hits, misses, evictions;

    private record Pending<V>(Thread owner, CompletableFuture<V> result) {
    }

    public MemoryCache(int maxEntries) {
        if (maxEntries <= 0) {
            throw new IllegalArgumentException("maxEntries must be positive: " + maxEntries);
        }
        this.maxEntries = maxEntries;
        this.values = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<CacheKey, V> eldest) {
                if (size() > MemoryCache.this.maxEntries) {
                    evictions++;
                    return true;
                }
                return false;
            }
        };
    }

    /** The value for {@code key}, or null; a hit makes it the most recently used. */
    public synchronized V get(CacheKey key) {
        V v = values.get(Objects.requireNonNull(key, "key"));
        if (v != null) {
            hits++;
        } else {
            misses++;
        }
        return v;
    }

    /** Stores {@code value} under {@code key}, replacing any previous value. */
    public synchronized void put(CacheKey key, V value) {
        values.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
    }

    /**
     * The value for {@code key}, computed by {@code compute} if absent. Concurrent callers
     * for the same key wait for one computation and share its result (or its exception). A
     * null result is returned but not cached. Calling this for the key being computed from
     * inside its own computation is an error (it would wait forever).
     */
    public V computeIfAbsent(CacheKey key, Function<CacheKey, ? extends V> compute) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(compute, "compute");
        CompletableFuture<V> mine;
        Pending<V> theirs;
        synchronized (this) {
            V v = values.get(key);
            if (v != null) {
                hits++;
                return v;
            }
            theirs = pending.get(key);
            if (theirs == null) {
                misses++;
                mine = new CompletableFuture<>();
                pending.put(key, new Pending<>(Thread.currentThread(), mine));
            } else if (theirs.owner() == Thread.currentThread()) {
                throw new IllegalStateException("recursive computeIfAbsent for " + key);
            } else {
                hits++;
                mine = null;
            }
        }
        if (mine == null) {
            return await(theirs.result());
        }
        V v;
        try {
            v = compute.apply(key);
        } catch (RuntimeException | Error e) {
            synchronized (this) {
                pending.remove(key);
            }
            mine.completeExceptionally(e);
            throw e;
        }
        synchronized (this) {
            if (v != null) {
                values.put(key, v);
            }
            pending.remove(key);
        }
        mine.complete(v);
        return v;
    }

    public synchronized int size() {
        return values.size();
    }

    public int maxEntries() {
        return maxEntries;
    }

    /** Drops every value (computations in progress still complete and are cached). */
    public synchronized void clear() {
        values.clear();
    }

    public synchronized Stats stats() {
        return new Stats(hits, misses, evictions, values.size(), maxEntries);
    }

    private static <V> V await(CompletableFuture<V> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }
}
