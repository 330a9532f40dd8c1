package dev.rivet.aot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two JVMs share one cache directory, writing the same keys (with the same or different
 * payloads) and reading them while the size cap evicts under both: no lock, yet every read
 * is a miss or a whole payload, and nothing half-written is left behind.
 */
class DiskCacheTwoProcessTest {
    @TempDir
    Path dir;

    @Test
    void twoProcessesWriteAndReadTheSameKeys() throws Exception {
        long seed = new Random().nextLong();
        System.out.println("DiskCacheTwoProcessTest seed: " + seed);
        Path log = dir.resolve("writer.log");
        Path cacheDir = dir.resolve("cache");
        Process other = new ProcessBuilder(javaLauncher(), "-cp", System.getProperty("java.class.path"),
                ConcurrentWriterMain.class.getName(), cacheDir.toString(), Long.toString(seed ^ 0x5DEECE66DL), "3000")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            DiskCache cache = DiskCache.open(cacheDir, CacheMode.READ_WRITE, ConcurrentWriterMain.MAX_BYTES,
                    ConcurrentWriterMain.VERSION);
            Random r = new Random(seed);
            int steps = 0;
            // Keep going for the other process's whole life (and a minimum besides).
            while (other.isAlive() || steps < 3000) {
                assertTrue(ConcurrentWriterMain.step(cache, r), "torn or foreign read at step " + steps + ", seed " + seed);
                steps++;
            }
            System.out.println("test process: " + steps + " steps, " + cache.stats());
            assertEquals(0, cache.stats().writeFailures(), cache.stats().toString());
        } finally {
            if (!other.waitFor(5, TimeUnit.MINUTES)) { // a hang guard, not a timing assertion
                other.destroyForcibly();
            }
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, other.exitValue(), output);
        assertTrue(output.contains("writer done"), output);
        System.out.print("other process: " + output);

        try (Stream<Path> s = Files.walk(cacheDir)) {
            List<Path> temps = s.filter(p -> p.getFileName().toString().startsWith(".tmp-")).toList();
            assertEquals(List.of(), temps, "no temporary file is left behind");
        }
        DiskCache after = DiskCache.open(cacheDir, CacheMode.READ_ONLY, ConcurrentWriterMain.MAX_BYTES,
                ConcurrentWriterMain.VERSION);
        DiskCache.VerifyReport report = after.verify();
        assertEquals(0, report.bad(), report.toString());
        assertTrue(report.ok() > 0, report.toString());
        for (int k = 0; k < ConcurrentWriterMain.KEYS; k++) {
            assertTrue(ConcurrentWriterMain.isWhole(k, after.get(ConcurrentWriterMain.key(k))), "key " + k);
        }
    }

    private static String javaLauncher() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

}
