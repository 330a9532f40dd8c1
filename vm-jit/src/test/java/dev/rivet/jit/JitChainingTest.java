package dev.rivet.jit;

import dev.rivet.core.riscv.Csr;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.rivet.ir.riscv.RiscvAssembler.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Chaining: compiled code leaving for code that is compiled elsewhere goes straight on
 * into it instead of returning to the dispatcher. A loop calls a function on another page,
 * so every iteration leaves both regions (a direct call, then a return through
 * {@code jalr}, the indirect case). The chained run must be the interpreter's, block
 * boundary for block boundary, and must drop its links when the code under them changes,
 * whoever writes it.
 */
class JitChainingTest {
    static final long FUNC = JitHarness.CODE + 0x2000;
    static final int ITERATIONS = 1000;
    /** Instructions per iteration: addi, jal, (function) addi, jalr, blt. */
    static final int PER_ITERATION = 5;

    /** The loop at CODE: x5 counts to x6, calling FUNC (x7 += 3) each time. */
    static void loadLoop(JitHarness h) {
        h.put(JitHarness.CODE, addi(5, 5, 1), jal(1, (int) (FUNC - JitHarness.CODE - 4)), blt(5, 6, -8), jal(0, 0));
        h.put(FUNC, addi(7, 7, 3), jalr(0, 1, 0));
        h.put(JitHarness.TRAP, jal(0, 0));
        h.hart.regs[6] = ITERATIONS;
    }

    @Test
    void callsAndReturnsBetweenCompiledRegionsSkipTheDispatcher() {
        try (JitHarness a = new JitHarness(false); JitHarness b = new JitHarness(new JitCompiler())) {
            loadLoop(a);
            loadLoop(b);
            a.interp.run(ITERATIONS * PER_ITERATION);
            b.interp.run(ITERATIONS * PER_ITERATION);
            assertSame(a, b, "after the loop");
            assertEquals(JitHarness.CODE + 12, b.hart.pc);
            assertEquals(ITERATIONS, b.hart.regs[5]);
            assertEquals(3L * ITERATIONS, b.hart.regs[7]);
            // Unchained, every iteration enters compiled code twice (the loop's region,
            // then the function's). Chained, the dispatcher sees a chain of at most
            // MAX_CHAIN_DEPTH + 1 units at a time.
            long entries = b.interp.compiledEntries();
            assertTrue(entries <= 2L * ITERATIONS / JitRuntime.MAX_CHAIN_DEPTH + 4,
                    "entries into compiled code from the dispatcher: " + entries);
            assertTrue(b.interp.cache().links() >= 2, "links: " + b.interp.cache().links());
            // Every move between the two units that did not go through the dispatcher was
            // a chained call: together they are the two per iteration.
            long chained = b.interp.chainedEntries();
            assertTrue(chained >= 2L * ITERATIONS - entries - 4 && chained <= 2L * ITERATIONS,
                    "chained calls: " + chained + ", dispatcher entries: " + entries);
            assertEquals(0, a.interp.chainedEntries(), "the interpreter alone chains nothing");
        }
    }

    @Test
    void chainsStopWhereTheDispatcherWouldHaveStopped() {
        long seed = JitDifferentialTest.SEED;
        System.out.println("chaining lockstep seed " + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        try (JitHarness a = new JitHarness(false); JitHarness b = new JitHarness(new JitCompiler())) {
            loadLoop(a);
            loadLoop(b);
            long steps = 0;
            while (a.hart.pc != JitHarness.CODE + 12) {
                int len = rnd.nextInt(3) == 0 ? rnd.nextInt(1, 4) : rnd.nextInt(1, 200);
                a.interp.run(len);
                b.interp.run(len);
                steps++;
                assertSame(a, b, "after step " + steps + " (seed " + seed + ")");
            }
            assertTrue(b.interp.compiledEntries() < a.hart.instret / PER_ITERATION, "no chaining happened");
        }
    }

    /**
     * Random programs: a loop calling functions on other pages, directly and through
     * pointers, with random arithmetic everywhere, run in lockstep with the interpreter at
     * random budgets (so chains are cut at every possible point).
     */
    @Test
    void randomCallGraphsAcrossPagesMatchTheInterpreter() {
        long seed0 = JitDifferentialTest.SEED;
        System.out.println("chaining random call graphs, base seed " + seed0);
        long entries = 0, retired = 0;
        for (int p = 0; p < 200; p++) {
            long[] r = runRandomCalls(seed0 + p, false);
            entries += r[0];
            retired += r[1];
        }
        // Blocks here are a few instructions long; chained, the dispatcher is rarely entered.
        assertTrue(entries * 10 < retired, "entries " + entries + " for " + retired + " instructions");
    }

    /**
     * The same with the functions on the loop's page, where a region copies each small
     * function into the loop for every call (a branch in some makes them two blocks).
     */
    @Test
    void randomCallGraphsWithinAPageMatchTheInterpreter() {
        long seed0 = JitDifferentialTest.SEED;
        System.out.println("copied functions, base seed " + seed0);
        long compiled = 0;
        for (int p = 0; p < 200; p++) {
            long[] r = runRandomCalls(seed0 + p, true);
            compiled += r[0] + r[2];
        }
        assertTrue(compiled > 0, "no compiled code ran");
    }

    /** Registers the random code may change (the loop counter, ra and the pointers stay). */
    private static final int FIRST_FREE = 5, LAST_FREE = 20, LOOP = 28, POINTERS = 21;

    private static long[] runRandomCalls(long seed, boolean samePage) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int functions = rnd.nextInt(1, 5);
        java.util.List<Integer> main = new java.util.ArrayList<>();
        main.add(addi(LOOP, LOOP, -1));
        int calls = rnd.nextInt(1, 7);
        for (int c = 0; c < calls; c++) {
            randomArithmetic(rnd, main, rnd.nextInt(0, 4));
            int f = rnd.nextInt(functions);
            long at = JitHarness.CODE + 4L * main.size();
            main.add(rnd.nextBoolean() ? jal(1, (int) (function(f, samePage) - at)) : jalr(1, POINTERS + f, 0));
        }
        randomArithmetic(rnd, main, rnd.nextInt(0, 3));
        if (functions > 1 && rnd.nextBoolean()) {
            // Swap two function pointers: each call through them alternates between two
            // functions, so a copy made for one is sometimes the wrong one.
            int p = POINTERS, q = POINTERS + 1;
            main.add(add(p, p, q));
            main.add(sub(q, p, q));
            main.add(sub(p, p, q));
        }
        main.add(bne(LOOP, 0, -4 * main.size()));
        main.add(jal(0, 0));
        long end = JitHarness.CODE + 4L * (main.size() - 1);
        try (JitHarness a = new JitHarness(false); JitHarness b = new JitHarness(new JitCompiler())) {
            long[] init = new long[32];
            for (int k = FIRST_FREE; k <= LAST_FREE; k++) {
                init[k] = rnd.nextLong();
            }
            for (int f = 0; f < functions; f++) {
                init[POINTERS + f] = function(f, samePage);
            }
            init[LOOP] = rnd.nextInt(20, 200);
            java.util.List<int[]> bodies = new java.util.ArrayList<>();
            for (int f = 0; f < functions; f++) {
                java.util.List<Integer> body = new java.util.ArrayList<>();
                randomArithmetic(rnd, body, rnd.nextInt(1, 12));
                if (rnd.nextBoolean()) {
                    // Skip the next instruction or not, by the data: a second block.
                    body.add(bne(FIRST_FREE + rnd.nextInt(4), FIRST_FREE + 4 + rnd.nextInt(4), 8));
                    randomArithmetic(rnd, body, 1);
                    randomArithmetic(rnd, body, rnd.nextInt(0, 3));
                }
                body.add(jalr(0, 1, 0));
                bodies.add(body.stream().mapToInt(Integer::intValue).toArray());
            }
            for (JitHarness h : new JitHarness[] {a, b}) {
                h.put(JitHarness.CODE, main.stream().mapToInt(Integer::intValue).toArray());
                for (int f = 0; f < functions; f++) {
                    h.put(function(f, samePage), bodies.get(f));
                }
                h.put(JitHarness.TRAP, jal(0, 0));
                System.arraycopy(init, 0, h.hart.regs, 0, 32);
            }
            long steps = 0;
            while (a.hart.pc != end && steps < 100_000) {
                int len = rnd.nextInt(3) == 0 ? rnd.nextInt(1, 4) : rnd.nextInt(1, 300);
                a.interp.run(len);
                b.interp.run(len);
                steps++;
                assertSame(a, b, "after step " + steps + " (seed " + seed + ")");
            }
            assertEquals(end, a.hart.pc, "seed " + seed);
            return new long[] {b.interp.compiledEntries(), b.hart.instret, b.interp.chainedEntries()};
        }
    }

    /** Function {@code f}'s address: each on a page of its own, or all on the loop's. */
    private static long function(int f, boolean samePage) {
        return samePage ? JitHarness.CODE + 0x400 + 0x100L * f : JitHarness.CODE + 0x1000L * (f + 1) + 4L * f;
    }

    private static void randomArithmetic(SplittableRandom rnd, java.util.List<Integer> out, int n) {
        for (int k = 0; k < n; k++) {
            int d = rnd.nextInt(FIRST_FREE, LAST_FREE + 1), x = rnd.nextInt(FIRST_FREE, LAST_FREE + 1),
                    y = rnd.nextInt(FIRST_FREE, LAST_FREE + 1);
            out.add(switch (rnd.nextInt(6)) {
                case 0 -> addi(d, x, rnd.nextInt(-2048, 2048));
                case 1 -> add(d, x, y);
                case 2 -> xor(d, x, y);
                case 3 -> mul(d, x, y);
                case 4 -> slli(d, x, rnd.nextInt(64));
                default -> sltu(d, x, y);
            });
        }
    }

    @Test
    void aPendingInterruptEndsTheChainAtTheNextExit() {
        try (JitHarness a = new JitHarness(false); JitHarness b = new JitHarness(new JitCompiler())) {
            for (JitHarness h : new JitHarness[] {a, b}) {
                loadLoop(h);
                // Links made; stop at the function's entry, whose return is linked.
                h.interp.run(100 * PER_ITERATION + 2);
                h.hart.mie = Csr.MIP_MSIP;
                h.hart.mstatus |= Csr.MSTATUS_MIE;
                h.hart.setPending(Csr.MIP_MSIP);
                h.interp.run(100 * PER_ITERATION);
            }
            assertSame(a, b, "after the interrupt");
            assertEquals(101, b.hart.regs[5]);
            assertEquals(JitHarness.TRAP, b.hart.pc);
            assertEquals((1L << 63) | 3, b.hart.mcause);
        }
    }

    @Test
    void rewritingTheFunctionDropsTheLinksIntoIt() {
        try (JitHarness b = new JitHarness(new JitCompiler())) {
            loadLoop(b);
            b.interp.run(ITERATIONS / 2 * PER_ITERATION);
            assertTrue(b.interp.cache().links() > 0);
            // The hart's own thread writes (as its stores do): the code goes at once.
            b.put(FUNC, addi(7, 7, 5));
            b.hart.codePages().notifyWrite(FUNC);
            assertEquals(0, b.interp.cache().links());
            b.interp.run(ITERATIONS / 2 * PER_ITERATION);
            assertEquals(ITERATIONS, b.hart.regs[5]);
            assertEquals(3L * ITERATIONS / 2 + 5L * ITERATIONS / 2, b.hart.regs[7]);
        }
    }

    @Test
    void codeWrittenByAnotherThreadGoesAtTheNextFenceI() throws Exception {
        try (JitHarness b = new JitHarness(new JitCompiler())) {
            // As loadLoop, with a fence.i after each call: where a guest orders DMA'd code.
            b.put(JitHarness.CODE, addi(5, 5, 1), jal(1, (int) (FUNC - JitHarness.CODE - 4)), fenceI(),
                    blt(5, 6, -12), jal(0, 0));
            b.put(FUNC, addi(7, 7, 3), jalr(0, 1, 0));
            b.hart.regs[6] = 10;
            // Stop right after the 5th call returns, before its fence.i.
            b.interp.run(4 * 6 + 4);
            assertEquals(JitHarness.CODE + 8, b.hart.pc);
            long dropped = b.interp.cache().invalidations();
            Thread dma = new Thread(() -> {
                b.put(FUNC, addi(7, 7, 5));
                b.hart.codePages().notifyWrite(FUNC);
            });
            dma.start();
            dma.join();
            // A device thread never touches the hart's block cache: the drop waits for the hart.
            assertEquals(dropped, b.interp.cache().invalidations());
            b.interp.run(6 * 6);
            assertTrue(b.interp.cache().invalidations() > dropped, "the function's block was dropped");
            assertEquals(10, b.hart.regs[5]);
            assertEquals(5 * 3 + 5 * 5, b.hart.regs[7]);
        }
    }

    @Test
    void aNewTranslationEpochEmptiesEveryLink() {
        try (JitHarness b = new JitHarness(new JitCompiler())) {
            loadLoop(b);
            b.interp.run(100 * PER_ITERATION);
            assertTrue(b.interp.cache().links() > 0);
            b.interp.cache().newEpoch();
            assertEquals(0, b.interp.cache().links());
        }
    }

    private static void assertSame(JitHarness a, JitHarness b, String when) {
        assertEquals(a.hart.pc, b.hart.pc, "pc " + when);
        assertEquals(a.hart.instret, b.hart.instret, "instret " + when);
        assertArrayEquals(a.architecturalRegs(), b.architecturalRegs(), "registers " + when);
        assertEquals(a.hart.mcause, b.hart.mcause, "mcause " + when);
    }
}
