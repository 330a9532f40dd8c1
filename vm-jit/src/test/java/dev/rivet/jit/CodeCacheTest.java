package dev.rivet.jit;

import dev.rivet.aot.CacheMode;
import dev.rivet.aot.DiskCache;
import dev.rivet.ir.IrBlock;
import dev.rivet.ir.exec.BlockExit;
import dev.rivet.ir.exec.CompiledBlock;
import dev.rivet.ir.exec.Region;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static dev.rivet.ir.riscv.RiscvAssembler.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The JIT with a code cache: a region compiled once is taken from memory by a compiler
 * sharing the cache, and from disk by a compiler of a later "run"; different guest code
 * misses; a damaged entry is recompiled; a guest that rewrites its code after a warm start
 * runs its new code.
 */
class CodeCacheTest {
    static final long PC = JitCompilerTest.PC;
    /** x5 += 1; x7 += 2; loop while x5 < x6 (one block that branches to itself). */
    static final int[] LOOP = {addi(5, 5, 1), addi(7, 7, 2), blt(5, 6, -8), jal(0, 0x100)};

    static DiskCache disk(Path dir) throws IOException {
        return DiskCache.open(dir, CacheMode.READ_WRITE, 1 << 24, CodeCache.FORMAT_VERSION);
    }

    static Region region(int... code) {
        return Region.of(JitCompilerTest.decodeAt(PC, code));
    }

    /** Runs the compiled loop to the end on a fresh hart; returns x7. */
    static long runLoop(CompiledBlock c) {
        try (JitHarness h = new JitHarness(false)) {
            h.hart.regs[6] = 10;
            h.hart.pc = PC;
            assertEquals(BlockExit.EXIT_FALL, c.execute(h.hart, 1 << 20));
            assertEquals(PC + 12, h.hart.pc);
            assertEquals(30, h.hart.instret);
            return h.hart.regs[7];
        }
    }

    @Test
    void aRegionIsCompiledOnceThenComesFromMemoryThenFromDisk(@TempDir Path dir) throws IOException {
        CodeCache shared = new CodeCache(100, disk(dir));
        JitCompiler a = new JitCompiler(shared), b = new JitCompiler(shared);
        assertEquals(20, runLoop(a.compile(region(LOOP))));
        assertEquals(1, shared.misses());
        assertEquals(20, runLoop(b.compile(region(LOOP)))); // another machine of the same JVM
        assertEquals(1, shared.memoryHits());
        assertEquals(1, b.cachedRegions());

        // A later run: a new memory layer over the same directory.
        CodeCache later = new CodeCache(100, disk(dir));
        JitCompiler c = new JitCompiler(later);
        assertEquals(20, runLoop(c.compile(region(LOOP))));
        assertEquals(1, later.diskHits());
        assertEquals(0, later.misses());
        assertTrue(c.stats().contains("1 from the code cache"), c.stats());
        Stream.of(a, b, c).forEach(JitCompiler::shutdown);
    }

    /** x11 = [x10] + 1; [x10] = x11; then a jump out. */
    static final int[] INCREMENT = {ld(11, 10, 0), addi(11, 11, 1), sd(11, 10, 0), jal(0, 0x100)};

    /** Runs {@code c} (a compiled {@link #INCREMENT}) on {@code h} with x10 at its data. */
    static void runIncrement(CompiledBlock c, JitHarness h) {
        h.hart.regs[10] = JitHarness.DATA;
        h.hart.pc = PC;
        c.execute(h.hart, 1 << 20);
        assertEquals(PC + 12 + 0x100, h.hart.pc);
    }

    static long data(JitHarness h) {
        return h.ram.read(JitHarness.DATA - JitHarness.RAM, 8);
    }

    /**
     * Machines sharing a code cache: compilers of shareable classes share the class;
     * compilers bound to their machine's RAM share the lowered bytes (the region is compiled
     * once) but each defines its own class, which reaches its own machine's RAM only.
     */
    @Test
    void classesBoundToOneMachinesRamAreNeverSharedWithAnother() {
        try (JitHarness a = new JitHarness(false); JitHarness b = new JitHarness(false)) {
            a.ram.write(JitHarness.DATA - JitHarness.RAM, 8, 100);
            b.ram.write(JitHarness.DATA - JitHarness.RAM, 8, 200);
            CodeCache shared = new CodeCache(100, null);
            JitCompiler forA = new JitCompiler(shared, a.hart.ram), forB = new JitCompiler(shared, b.hart.ram);
            CompiledBlock onA = forA.compile(region(INCREMENT)), onB = forB.compile(region(INCREMENT));
            assertEquals(1, shared.misses());
            assertEquals(1, forB.cachedRegions(), "B took the lowered region from the cache");
            assertNotSame(onA.getClass(), onB.getClass());
            runIncrement(onA, a);
            runIncrement(onB, b);
            runIncrement(onB, b);
            assertEquals(101, data(a));
            assertEquals(202, data(b));

            JitCompiler plain1 = new JitCompiler(shared), plain2 = new JitCompiler(shared);
            CompiledBlock p1 = plain1.compile(region(INCREMENT)), p2 = plain2.compile(region(INCREMENT));
            assertSame(p1.getClass(), p2.getClass(), "one shareable class");
            assertNotSame(onA.getClass(), p1.getClass());
            runIncrement(p1, a);
            runIncrement(p1, b);
            assertEquals(102, data(a));
            assertEquals(203, data(b));
            assertEquals(1, shared.misses(), "lowered once in all");
            Stream.of(forA, forB, plain1, plain2).forEach(JitCompiler::shutdown);
        }
    }

    /**
     * A bound class takes its RAM from its class data, as a constant, not from the hart it
     * runs on: run on a hart of another machine (which the JIT never does) it still reaches
     * the RAM it was bound to. This is what makes HotSpot fold the segment into each access.
     */
    @Test
    void aBoundClassReachesTheRamItWasBoundTo() {
        try (JitHarness a = new JitHarness(false); JitHarness b = new JitHarness(false)) {
            a.ram.write(JitHarness.DATA - JitHarness.RAM, 8, 100);
            b.ram.write(JitHarness.DATA - JitHarness.RAM, 8, 200);
            JitCompiler forA = new JitCompiler(null, a.hart.ram);
            CompiledBlock c = forA.compile(region(INCREMENT));
            // b's hart, with a's page in its data TLB (a's RAM starts at the same address).
            b.hart.ld(JitHarness.DATA);
            b.hart.sd(JitHarness.DATA, 200);
            runIncrement(c, b);
            assertEquals(101, b.hart.regs[11], "loaded from a's RAM");
            assertEquals(101, data(a));
            assertEquals(200, data(b));
            forA.shutdown();
        }
    }

    @Test
    void otherGuestCodeMissesAndADamagedEntryIsRecompiled(@TempDir Path dir) throws IOException {
        JitCompiler first = new JitCompiler(new CodeCache(100, disk(dir)));
        first.compile(region(LOOP));
        // The same layout with x7 += 3: other guest bytes, other IR, another key.
        int[] other = LOOP.clone();
        other[1] = addi(7, 7, 3);
        assertNotEquals(CodeCache.key(region(LOOP)), CodeCache.key(region(other)));
        CodeCache cache = new CodeCache(100, disk(dir));
        JitCompiler second = new JitCompiler(cache);
        assertEquals(30, runLoop(second.compile(region(other))));
        assertEquals(0, cache.diskHits());
        assertEquals(1, cache.misses());

        // Damage every entry file: the cache drops it and the region is compiled again.
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".aot")).toList()) {
                byte[] bytes = Files.readAllBytes(f);
                bytes[bytes.length / 2] ^= 0x5A;
                Files.write(f, bytes);
            }
        }
        CodeCache afterDamage = new CodeCache(100, disk(dir));
        JitCompiler third = new JitCompiler(afterDamage);
        assertEquals(20, runLoop(third.compile(region(LOOP))));
        assertEquals(0, afterDamage.diskHits());
        assertEquals(1, afterDamage.misses());
        assertEquals(0, third.failedBlocks());
        Stream.of(first, second, third).forEach(JitCompiler::shutdown);
    }

    /**
     * A warm start must not run cached code for old bytes: a driver calls a loop, rewrites an
     * instruction in it (self-modifying code) and calls it again. The first run compiles and
     * caches; the second, warm, run takes the first call's region from the cache and must still
     * run the rewritten loop the second time, as the interpreter does.
     */
    @Test
    void aGuestThatRewritesItsCodeAfterAWarmStartRunsTheNewCode(@TempDir Path dir) throws IOException {
        int[] loop = {addi(5, 5, 1), addi(7, 7, 2), blt(5, 6, -8), jalr(0, 1, 0)};
        int[] driver = {jal(1, -0x200), sw(29, 28, 0), addi(5, 0, 0), jal(1, -0x20C), jal(0, 0)};
        long[] diskHits = new long[2];
        for (int run = 0; run < 2; run++) {
            CodeCache cache = new CodeCache(100, disk(dir));
            try (JitHarness h = new JitHarness(new JitCompiler(cache))) {
                h.put(PC, loop);
                h.put(PC + 0x200, driver);
                h.hart.regs[28] = PC + 4;            // the loop's "x7 += 2"
                h.hart.regs[29] = addi(7, 7, 5);     // becomes "x7 += 5"
                h.hart.regs[6] = 10;
                h.hart.pc = PC + 0x200;
                h.interp.run(1000);
                assertEquals(PC + 0x210, h.hart.pc, "spinning at the end");
                assertEquals(20 + 50, h.hart.regs[7], "run " + run);
            }
            diskHits[run] = cache.diskHits();
        }
        assertEquals(0, diskHits[0]);
        assertTrue(diskHits[1] > 0, "the warm run used the cache");
    }

    /** A loop run {@code n} times: x5 counts, x7 += {@code step}; then a jump to a spin loop. */
    static void putCountingLoop(JitHarness h, int step) {
        h.put(PC, addi(5, 5, 1), addi(7, 7, step), blt(5, 6, -8), jal(0, 0x100));
        h.put(PC + 12 + 0x100, jal(0, 0));
        h.hart.regs[6] = 1000;
        h.hart.pc = PC;
    }

    /**
     * Warm start: a run saves the regions it installed as the guest's hot list; the next run
     * loads them ahead and runs them compiled from their first execution, although their
     * counters never reach the threshold. When the guest's code has changed since, the
     * recipe still names the spot but the region's IR differs: it is compiled anew, and the
     * new code runs. The same for a compiler bound to the machine's RAM, whose classes the
     * warm start defines for that RAM.
     */
    @ParameterizedTest(name = "bound to RAM: {0}")
    @ValueSource(booleans = {false, true})
    void aWarmStartRunsLastRunsHotRegionsCompiledFromTheirFirstExecution(boolean bound, @TempDir Path dir)
            throws Exception {
        JitCompiler first = new JitCompiler(new CodeCache(100, disk(dir)));
        first.warmStart("guest");
        try (JitHarness h = new JitHarness(first, 10)) {
            putCountingLoop(h, 2);
            h.interp.run(10_000);
            assertEquals(2000, h.hart.regs[7]);
            assertEquals(0, h.interp.warmStarts());
            first.saveHotList();
        }

        for (int step : new int[] {2, 3}) {
            CodeCache cache = new CodeCache(100, disk(dir));
            try (JitHarness h = new JitHarness(false)) {
                JitCompiler warm = new JitCompiler(cache, bound ? h.hart.ram : null);
                warm.warmStart("guest");
                warm.awaitWarmStart();
                assertEquals(2, warm.preloadedRegions(), warm.stats()); // the loop and the spin at the end
                h.interp.setCompiler(warm.synchronous(), Long.MAX_VALUE); // never by counting
                putCountingLoop(h, step);
                h.interp.run(10_000);
                assertEquals(1000L * step, h.hart.regs[7], "step " + step);
                assertEquals(2, h.interp.warmStarts(), "step " + step);
                assertEquals(2, warm.compiledBlocks(), warm.stats());
                assertEquals(step == 2 ? 2 : 1, cache.memoryHits(), warm.stats()); // the preloaded classes
                assertEquals(step == 2 ? 0 : 1, cache.misses(), warm.stats());     // changed code: compiled
                warm.shutdown();
            }
        }

        // Another guest (another profile) starts cold.
        JitCompiler other = new JitCompiler(new CodeCache(100, disk(dir)));
        other.warmStart("another guest");
        other.awaitWarmStart();
        assertEquals(0, other.preloadedRegions());
        Stream.of(first, other).forEach(JitCompiler::shutdown);
    }

    /**
     * A loop calling a function on its page: L: x5 += 1; call F.  C: loop while x5 < x6.
     * F: x7 += 3; return. Then a spin at the end.
     */
    static void putCallLoop(JitHarness h) {
        h.put(PC, addi(5, 5, 1), jal(1, 0x40 - 4), blt(5, 6, -8), jal(0, 0x100));
        h.put(PC + 0x40, addi(7, 7, 3), jalr(0, 1, 0));
        h.put(PC + 12 + 0x100, jal(0, 0));
        h.hart.regs[6] = 1000;
        h.hart.pc = PC;
    }

    /**
     * A region with a copy of a called function is keyed apart from the same blocks without
     * it, and its disk entry gives back the layout a warm start rebuilds it from: the next run
     * finds the class for the rebuilt region (copies included) in the cache.
     */
    @Test
    void aRegionWithCopiesIsKeyedByItsLayoutAndWarmStartsWithIt(@TempDir Path dir) throws Exception {
        int[] code = {addi(5, 5, 1), jal(1, 0x40 - 4), blt(5, 6, -8)};
        IrBlock l = JitCompilerTest.decodeAt(PC, code), c = JitCompilerTest.decodeAt(PC + 8, code);
        IrBlock f = JitCompilerTest.decodeAt(PC + 0x40, new int[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                addi(7, 7, 3), jalr(0, 1, 0)});
        Region copied = new Region(List.of(l, f, c), new int[] {-1, 0, -1});
        Region plain = new Region(List.of(l, f, c));
        assertNotEquals(CodeCache.key(copied), CodeCache.key(plain));
        byte[] payload = CodeCache.payload(new byte[] {1, 2, 3}, 10, 3, CodeCache.Recipe.of(copied));
        CodeCache.Payload back = CodeCache.parse(payload);
        assertArrayEquals(new long[] {PC, PC + 0x40, PC + 8}, back.recipe().layout().pcs());
        assertArrayEquals(new int[] {-1, 0, -1}, back.recipe().layout().inlinedAt());
        // A layout that names a later block, or a copy, as a call site does not parse.
        for (int bad : new int[] {2, 1, -2}) {
            byte[] damaged = payload.clone();
            java.nio.ByteBuffer.wrap(damaged).putInt(24 + 3 * 8 + 4 * 2, bad);
            assertNull(CodeCache.parse(damaged), "call site " + bad);
        }

        JitCompiler first = new JitCompiler(new CodeCache(100, disk(dir)));
        first.warmStart("guest");
        try (JitHarness h = new JitHarness(first, 10)) {
            putCallLoop(h);
            h.interp.run(20_000);
            assertEquals(3000, h.hart.regs[7]);
            first.saveHotList();
        }
        CodeCache cache = new CodeCache(100, disk(dir));
        try (JitHarness h = new JitHarness(false)) {
            JitCompiler warm = new JitCompiler(cache, null);
            warm.warmStart("guest");
            warm.awaitWarmStart();
            h.interp.setCompiler(warm.synchronous(), Long.MAX_VALUE); // never by counting
            putCallLoop(h);
            h.interp.run(20_000);
            assertEquals(3000, h.hart.regs[7]);
            assertTrue(h.interp.warmStarts() > 0, warm.stats());
            assertEquals(0, cache.misses(), warm.stats());
            assertEquals(h.interp.warmStarts(), cache.memoryHits(), warm.stats());
            warm.shutdown();
        }
        first.shutdown();
    }
}
