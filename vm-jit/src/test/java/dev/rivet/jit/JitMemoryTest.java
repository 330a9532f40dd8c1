package dev.rivet.jit;

import dev.rivet.core.bus.MmioDevice;
import dev.rivet.ir.IrBlock;
import dev.rivet.ir.riscv.RiscvDecoder;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

import static dev.rivet.ir.riscv.RiscvAssembler.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The JIT's inline TLB probe against the interpreter, on the cases the probe must get
 * right: hits, misses on TLB index conflicts (two RAM pages 1 MiB apart share an entry),
 * accesses that cross a page (slow path on both sides), MMIO (never in the TLB), and
 * faulting addresses; every width, signed and unsigned, FP loads/stores included.
 * Compared block by block, then RAM and the device's bytes.
 */
class JitMemoryTest {
    static final int PROGRAMS = Integer.getInteger("rivet.jit.programs", 1000) / 10;
    static final long MMIO = 0x1000_0000L;
    static final int LOOP = 28, HANDLER = 29;
    /**
     * Bases: a data page, its TLB alias 1 MiB up, 2 KiB below a page end (RAM follows),
     * 2 KiB below the end of RAM (nothing follows: a crossing faults), the device, unmapped.
     */
    static final int DATA = 31, ALIAS = 30, CROSS = 27, DEV = 26, BAD = 25, CROSS_END = 24;
    static final int RAM_SIZE = 2 << 20;

    /** A little byte-addressed register file that takes every access size. */
    static final class Scratch implements MmioDevice {
        final byte[] bytes = new byte[0x1000];
        long accesses;

        @Override
        public String name() {
            return "scratch";
        }

        @Override
        public int accessSizes() {
            return SIZES_ALL;
        }

        @Override
        public long read(long offset, int size) {
            accesses++;
            long v = 0;
            for (int k = 0; k < size; k++) {
                v |= (bytes[(int) offset + k] & 0xFFL) << (8 * k);
            }
            return v;
        }

        @Override
        public void write(long offset, int size, long value) {
            accesses++;
            for (int k = 0; k < size; k++) {
                bytes[(int) offset + k] = (byte) (value >>> (8 * k));
            }
        }
    }

    @Test
    void inlineProbeMatchesTheInterpreterOnHitsMissesCrossingsMmioAndFaults() {
        long seed0 = JitDifferentialTest.SEED;
        long devAccesses = 0, compiled = 0;
        for (int p = 0; p < PROGRAMS; p++) {
            long[] r = run(seed0 + p);
            devAccesses += r[0];
            compiled += r[1];
        }
        assertTrue(devAccesses > 0, "no MMIO access");
        assertTrue(compiled > PROGRAMS, "compiled " + compiled);
    }

    @Test
    void loadsAndStoresProbeTheTlbInlineInLoopsAndTheLargestBlockStillCompiles() {
        IrBlock small = JitCompilerTest.decode(ld(5, 10, 0), lbu(6, 10, 1), sw(6, 10, 8), flw(1, 10, 4), jal(0, 8));
        JitCompilerTest.verify(small);
        String pool = new String(JitCompiler.classBytes(small), StandardCharsets.ISO_8859_1);
        assertTrue(pool.contains("(J[J[J") && pool.contains("(JJ[J[J") && pool.contains("readTag")
                && pool.contains("writeAdd") && pool.contains("excCause"),
                "accessor calls with the TLB in locals, and fault checks");
        IrBlock loop = JitCompilerTest.decode(ld(5, 10, 0), lbu(6, 10, 1), sw(6, 10, 8), flw(1, 10, 4), jal(0, -16));
        JitCompilerTest.verify(loop);
        pool = new String(JitCompiler.classBytes(loop), StandardCharsets.ISO_8859_1);
        assertTrue(pool.contains("loadSlow") && pool.contains("storeSlow") && pool.contains("excCause"),
                "in a loop: the probe inline, the slow paths on a miss, and fault checks");
        assertFalse(pool.contains("(J[J[J") || pool.contains("(JJ[J[J"), "in a loop: no call to the hart's accessors");
        // The largest memory block: beyond the region target, still under the hard limit.
        int[] insns = new int[RiscvDecoder.MAX_INSNS];
        for (int k = 0; k < insns.length - 1; k++) {
            insns[k] = k % 2 == 0 ? ld(1 + k % 31, 10, 8 * k) : sd(1 + k % 31, 11, 8 * k);
        }
        insns[insns.length - 1] = jal(0, 8);
        IrBlock big = JitCompilerTest.decode(insns);
        int size = RegionLowering.lower(java.util.List.of(big)).codeSize;
        assertTrue(size > JitCompiler.REGION_TARGET_SIZE && size <= JitCompiler.MAX_CODE_SIZE, "size " + size);
        assertNull(JitCompiler.rejection(big));
        JitCompilerTest.verify(big);
        // A block of nothing but one kind of access, for every kind, fits too.
        java.util.List<java.util.function.IntUnaryOperator> kinds = java.util.List.of(
                k -> lb(1 + k % 31, 10, k), k -> lbu(1 + k % 31, 10, k), k -> lh(1 + k % 31, 10, 2 * k),
                k -> lhu(1 + k % 31, 10, 2 * k), k -> lw(1 + k % 31, 10, 4 * k), k -> lwu(1 + k % 31, 10, 4 * k),
                k -> flw(k % 32, 10, 4 * k), k -> fld(k % 32, 10, 8 * k), k -> sb(1 + k % 31, 11, k),
                k -> sh(1 + k % 31, 11, 2 * k), k -> sw(1 + k % 31, 11, 4 * k), k -> fsw(k % 32, 11, 4 * k),
                k -> fsd(k % 32, 11, 8 * k));
        for (java.util.function.IntUnaryOperator kind : kinds) {
            for (int k = 0; k < insns.length - 1; k++) {
                insns[k] = kind.applyAsInt(k);
            }
            IrBlock b = JitCompilerTest.decode(insns);
            assertNull(JitCompiler.rejection(b), "a block of " + Integer.toHexString(insns[0]));
        }
    }

    /**
     * Blocks of nothing but loads, as long as a block gets: lowered with inline
     * probes, some are over the method size limit, and the compiler lowers them with calls
     * to the hart's accessors instead. That path against the interpreter too.
     */
    @Test
    void blocksTooLargeForInlineProbesMatchTheInterpreterThroughAccessorCalls() {
        long seed0 = JitDifferentialTest.SEED + 1_000_003;
        int compact = 0;
        for (int p = 0; p < DENSE_PROGRAMS; p++) {
            int[] body = program(new SplittableRandom(seed0 + p), true);
            IrBlock loop = JitCompilerTest.decodeAt(JitHarness.CODE, body);
            assertEquals(RiscvDecoder.MAX_INSNS, loop.insnCount, "the loop is one full block");
            if (RegionLowering.lower(java.util.List.of(loop)).bytes == null) {
                compact++;
                assertNull(JitCompiler.rejection(loop), "compiled with accessor calls");
            }
            run(seed0 + p, true);
        }
        assertTrue(compact > 0, "no block over the limit with inline probes");
    }

    static final int DENSE_PROGRAMS = Math.max(4, PROGRAMS / 5);

    /**
     * A loop of {@code LOOP} iterations over random accesses (and, unless {@code dense},
     * some additions), then a jump to itself.
     */
    static int[] program(SplittableRandom rnd, boolean dense) {
        int n = dense ? RiscvDecoder.MAX_INSNS - 2 : rnd.nextInt(20, 100);
        int[] body = new int[n + 3];
        body[0] = addi(LOOP, LOOP, -1);
        for (int k = 1; k <= n; k++) {
            body[k] = !dense && rnd.nextInt(6) == 0 ? addi(rnd.nextInt(1, 24), rnd.nextInt(24), rnd.nextInt(-2048, 2048))
                    : access(rnd, dense);
        }
        body[n + 1] = bne(LOOP, 0, -4 * (n + 1));
        body[n + 2] = jal(0, 0);
        return body;
    }

    static long[] run(long seed) {
        return run(seed, false);
    }

    static long[] run(long seed, boolean dense) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] body = program(rnd, dense);
        long[] init = new long[32];
        for (int k = 1; k < 32; k++) {
            init[k] = rnd.nextLong();
        }
        init[LOOP] = 4;
        init[HANDLER] = 0;
        init[DATA] = JitHarness.DATA;
        init[ALIAS] = JitHarness.DATA + (1 << 20);
        init[CROSS] = JitHarness.DATA + 0x2000 - 0x800;
        init[DEV] = MMIO;
        init[CROSS_END] = JitHarness.RAM + RAM_SIZE - 0x800;
        init[BAD] = rnd.nextBoolean() ? 0 : 0x4000_0000L;
        byte[] data = new byte[0x4000];
        rnd.nextBytes(data);
        byte[] devInit = new byte[0x1000];
        rnd.nextBytes(devInit);
        long[] fpInit = new long[32];
        for (int k = 0; k < 32; k++) {
            fpInit[k] = rnd.nextLong();
        }
        Scratch da = new Scratch(), db = new Scratch();
        System.arraycopy(devInit, 0, da.bytes, 0, devInit.length);
        System.arraycopy(devInit, 0, db.bytes, 0, devInit.length);
        try (JitHarness a = new JitHarness(false, RAM_SIZE, bus -> bus.map(MMIO, 0x1000, da));
             JitHarness b = new JitHarness(true, RAM_SIZE, bus -> bus.map(MMIO, 0x1000, db))) {
            for (JitHarness h : new JitHarness[] {a, b}) {
                h.put(JitHarness.CODE, body);
                h.put(JitHarness.TRAP, csrrs(HANDLER, 0x341, 0), addi(HANDLER, HANDLER, 4), csrrw(0, 0x341, HANDLER), mret());
                h.put(JitHarness.DATA - 0x1000, data);
                h.put(JitHarness.DATA + (1 << 20) - 0x1000, data);
                h.hart.mstatus |= 1L << 13; // FS = Initial
                System.arraycopy(init, 0, h.hart.regs, 0, 32);
                System.arraycopy(fpInit, 0, h.hart.regs, 32, 32);
            }
            String where = "seed " + seed;
            long steps = 0;
            while (steps < 5000 && a.hart.pc != JitHarness.CODE + 4L * (body.length - 1)) {
                int len = rnd.nextInt(4) == 0 ? 1 : rnd.nextInt(1, 100); // same block boundaries in both tiers
                a.interp.run(len);
                b.interp.run(len);
                steps++;
                final long step = steps;
                assertEquals(a.hart.pc, b.hart.pc, () -> "pc after step " + step + ", " + where);
                assertEquals(a.hart.instret, b.hart.instret, () -> "instret after step " + step + ", " + where);
                assertArrayEquals(a.architecturalRegs(), b.architecturalRegs(), () -> "registers after step " + step + ", " + where);
                assertEquals(a.hart.mcause, b.hart.mcause, () -> "mcause, " + where);
                assertEquals(a.hart.mtval, b.hart.mtval, () -> "mtval, " + where);
            }
            for (long base : new long[] {0x10000 - 0x1000, 0x10000 + (1 << 20) - 0x1000, RAM_SIZE - 0x1000}) {
                for (long off = base; off < Math.min(base + 0x4000, RAM_SIZE); off += 8) {
                    final long o = off;
                    assertEquals(a.ram.read(off, 8), b.ram.read(off, 8), () -> "memory at +" + Long.toHexString(o) + ", " + where);
                }
            }
            assertTrue(Arrays.equals(da.bytes, db.bytes), () -> "device bytes, " + where);
            assertEquals(da.accesses, db.accesses, () -> "device accesses, " + where);
            return new long[] {db.accesses, b.jit.compiledBlocks()};
        }
    }

    private static int access(SplittableRandom rnd) {
        return access(rnd, false);
    }

    /** A random access; with {@code loadsOnly}, the loads (the larger ones lowered). */
    private static int access(SplittableRandom rnd, boolean loadsOnly) {
        int base = switch (rnd.nextInt(11)) {
            case 10 -> CROSS_END;
            case 0, 1, 2 -> DATA;
            case 3, 4 -> ALIAS;
            case 5, 6 -> CROSS;
            case 7, 8 -> DEV;
            default -> BAD;
        };
        int off = switch (base) {
            case CROSS, CROSS_END -> rnd.nextInt(2040, 2048);       // the last bytes of the page: crossings
            case DEV -> 8 * rnd.nextInt(64);             // aligned device registers
            default -> rnd.nextInt(-2048, 2048) & (rnd.nextBoolean() ? ~7 : ~0);
        };
        int d = rnd.nextInt(1, 24), s = rnd.nextInt(24), f = rnd.nextInt(32);
        int kind = rnd.nextInt(15);
        if (loadsOnly && kind >= 7) {
            kind = kind >= 11 ? 11 + kind % 2 : kind - 7;
        }
        return switch (kind) {
            case 0 -> lb(d, base, off);
            case 1 -> lh(d, base, off);
            case 2 -> lw(d, base, off);
            case 3 -> ld(d, base, off);
            case 4 -> lbu(d, base, off);
            case 5 -> lhu(d, base, off);
            case 6 -> lwu(d, base, off);
            case 7 -> sb(s, base, off);
            case 8 -> sh(s, base, off);
            case 9 -> sw(s, base, off);
            case 10 -> sd(s, base, off);
            case 11 -> fld(f, base, off);
            case 12 -> flw(f, base, off);
            case 13 -> fsd(f, base, off);
            default -> fsw(f, base, off);
        };
    }
}
