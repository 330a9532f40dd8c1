package dev.rivet.aot;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryCacheTest {
    static CacheKey key(int i) {
        return CacheKey.builder().putInt(i).build();
    }

    @Test
    void holdsAtMostMaxEntriesDroppingTheLeastRecentlyUsed() {
        MemoryCache<String> c = new MemoryCache<>(3);
        c.put(key(1), "one");
        c.put(key(2), "two");
        c.put(key(3), "three");
        assertEquals("one", c.get(key(1))); // 2 is now the least recently used
        c.put(key(4), "four");
        assertEquals(3, c.size());
        assertNull(c.get(key(2)));
        assertEquals("one", c.get(key(1)));
        assertEquals("three", c.get(key(3)));
        assertEquals("four", c.get(key(4)));
        MemoryCache.Stats s = c.stats();
        assertEquals(1, s.evictions());
        assertEquals(4, s.hits());
        assertEquals(1, s.misses());
        assertEquals(3, s.size());
        assertThrows(IllegalArgumentException.class, () -> new MemoryCache<String>(0));
    }

    @Test
    void computeIfAbsentComputesOnlyWhatIsMissing() {
        MemoryCache<String> c = new MemoryCache<>(10);
        AtomicInteger calls = new AtomicInteger();
        assertEquals("v1", c.computeIfAbsent(key(1), k -> "v" + calls.incrementAndGet()));
        assertEquals("v1", c.computeIfAbsent(key(1), k -> "v" + calls.incrementAndGet()));
        assertEquals(1, calls.get());
        assertNull(c.computeIfAbsent(key(2), k -> null));
        assertEquals(1, c.size(), "null is returned, not cached");
    }

    @Test
    void aFailedComputationIsNotCachedAndCanBeRetried() {
        MemoryCache<String> c = new MemoryCache<>(10);
        assertThrows(IllegalStateException.class, () -> c.computeIfAbsent(key(1), k -> {
            throw new IllegalStateException("compiler bug");
        }));
        assertEquals("ok", c.computeIfAbsent(key(1), k -> "ok"));
    }

    @Test
    void recursionOnTheSameKeyIsAnErrorNotADeadlock() {
        MemoryCache<String> c = new MemoryCache<>(10);
        assertThrows(IllegalStateException.class,
                () -> c.computeIfAbsent(key(1), k -> c.computeIfAbsent(key(1), k2 -> "x")));
        assertEquals("x", c.computeIfAbsent(key(1), k -> "x"));
    }

    @Test
    void concurrentCallersComputeEachKeyOnce() throws Exception {
        long seed = new Random().nextLong();
        System.out.println("MemoryCacheTest seed: " + seed);
        int keys = 64, threads = 8, rounds = 3000;
        MemoryCache<String> c = new MemoryCache<>(keys);
        AtomicIntegerArray computed = new AtomicIntegerArray(keys);
        AtomicReference<String> wrong = new AtomicReference<>();
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Random r = new Random(seed + t);
            ts.add(Thread.ofPlatform().start(() -> {
                await(start);
                for (int i = 0; i < rounds; i++) {
                    int k = r.nextInt(keys);
                    String v = c.computeIfAbsent(key(k), kk -> {
                        computed.incrementAndGet(k);
                        Thread.yield(); // widen the window for racing callers
                        return "value" + k;
                    });
                    if (!v.equals("value" + k)) {
                        wrong.set(v + " for " + k);
                    }
                }
            }));
        }
        for (Thread t : ts) {
            t.join();
        }
        assertNull(wrong.get(), "seed " + seed);
        for (int k = 0; k < keys; k++) {
            assertTrue(computed.get(k) <= 1, "key " + k + " computed " + computed.get(k) + " times; seed " + seed);
        }
        MemoryCache.Stats s = c.stats();
        assertEquals((long) threads * rounds, s.hits() + s.misses(), "seed " + seed);
        assertEquals(0, s.evictions());
    }

    @Test
    void concurrentUseStaysWithinTheBound() throws Exception {
        long seed = new Random().nextLong();
        System.out.println("MemoryCacheTest bound seed: " + seed);
        MemoryCache<Integer> c = new MemoryCache<>(10);
        AtomicReference<String> wrong = new AtomicReference<>();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Random r = new Random(seed + t);
            ts.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 5000; i++) {
                    int k = r.nextInt(50);
                    Integer v = c.computeIfAbsent(key(k), kk -> k);
                    if (v != k) {
                        wrong.set(v + " for " + k);
                    }
                    if (c.size() > 10) {
                        wrong.set("size " + c.size());
                    }
                }
            }));
        }
        for (Thread t : ts) {
            t.join();
        }
        assertNull(wrong.get(), "seed " + seed);
        assertEquals(10, c.size());
        assertTrue(c.stats().evictions() > 0);
    }

    @Test
    void waitersShareTheComputedValue() throws Exception {
        MemoryCache<Object> c = new MemoryCache<>(4);
        java.util.concurrent.CountDownLatch computing = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        Object value = new Object();
        AtomicReference<Object> seenByWaiter = new AtomicReference<>();
        Thread owner = Thread.ofPlatform().start(() -> c.computeIfAbsent(key(1), k -> {
            computing.countDown();
            await(release);
            return value;
        }));
        computing.await();
        Thread waiter = Thread.ofPlatform().start(() -> seenByWaiter.set(c.computeIfAbsent(key(1), k -> new Object())));
        while (waiter.getState() != Thread.State.WAITING && waiter.isAlive()) {
            Thread.onSpinWait();
        }
        release.countDown();
        owner.join();
        waiter.join();
        assertSame(value, seenByWaiter.get());
    }

    private static void await(CyclicBarrier b) {
        try {
            b.await();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static void await(java.util.concurrent.CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
