package dev.rivet.aot;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/**
 * The other process of {@link DiskCacheTwoProcessTest}: writes the shared keys with either
 * of their two payloads, and reads them back, in a loop. Exits 3 if it ever reads anything
 * but a whole payload of the key.
 *
 * <p>Arguments: directory, seed, iterations.
 */
public final class ConcurrentWriterMain {
    static final int KEYS = 24;
    static final int VERSION = 5;
    static final long MAX_BYTES = 24_000;

    static CacheKey key(int k) {
        return CacheKey.builder().putString("shared").putInt(k).build();
    }

    /** Payload {@code variant} (0 or 1) of key {@code k}: different lengths and contents. */
    static byte[] payload(int k, int variant) {
        byte[] p = new byte[200 + 97 * k + 700 * variant];
        for (int i = 0; i < p.length; i++) {
            p[i] = (byte) (k * 13 + variant * 101 + i);
        }
        return p;
    }

    static boolean isWhole(int k, byte[] got) {
        return got == null || Arrays.equals(got, payload(k, 0)) || Arrays.equals(got, payload(k, 1));
    }

    /** One step of the shared workload: write a key, read another; false if the read was not whole. */
    static boolean step(DiskCache cache, Random r) {
        int k = r.nextInt(KEYS);
        cache.put(key(k), payload(k, r.nextInt(2)));
        int j = r.nextInt(KEYS);
        return isWhole(j, cache.get(key(j)));
    }

    public static void main(String[] args) throws Exception {
        DiskCache cache = DiskCache.open(Path.of(args[0]), CacheMode.READ_WRITE, MAX_BYTES, VERSION);
        Random r = new Random(Long.parseLong(args[1]));
        int iterations = Integer.parseInt(args[2]);
        for (int i = 0; i < iterations; i++) {
            if (!step(cache, r)) {
                System.err.println("torn or foreign read at iteration " + i);
                System.exit(3);
            }
        }
        System.out.println("writer done: " + cache.stats());
    }
}
