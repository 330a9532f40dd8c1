package dev.rivet.jit;

import dev.rivet.ir.CodeSource;
import dev.rivet.ir.IrBlock;
import dev.rivet.ir.exec.BlockExit;
import dev.rivet.ir.exec.CompiledBlock;
import dev.rivet.ir.exec.Region;
import dev.rivet.ir.riscv.RiscvAssembler;
import dev.rivet.ir.riscv.RiscvDecoder;
import dev.rivet.core.riscv.Hart;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.util.CheckClassAdapter;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static dev.rivet.ir.riscv.RiscvAssembler.*;
import static org.junit.jupiter.api.Assertions.*;

class JitCompilerTest {
    static final long PC = 0x8000_0000L;

    static IrBlock decode(int... insns) {
        return decodeAt(PC, insns);
    }

    /** Decodes the block at {@code at} of code laid out from {@link #PC}. */
    static IrBlock decodeAt(long at, int... insns) {
        byte[] code = new RiscvAssembler().emit(insns).assemble();
        CodeSource src = va -> {
            long off = va - PC;
            if (off < 0 || off + 1 >= code.length) {
                return -1 - 1;
            }
            return (code[(int) off] & 0xFF) | (code[(int) off + 1] & 0xFF) << 8;
        };
        return new RiscvDecoder().decode(at, at, Hart.PRIV_M, src);
    }

    /** The class bytes pass ASM's verifier (types, stack, frames), which reports problems as text. */
    static void verify(IrBlock b) {
        byte[] bytes = JitCompiler.classBytes(b);
        assertNotNull(bytes, () -> "rejected: " + JitCompiler.rejection(b));
        StringWriter out = new StringWriter();
        CheckClassAdapter.verify(new ClassReader(bytes), JitCompiler.class.getClassLoader(), false, new PrintWriter(out));
        assertEquals("", out.toString(), () -> "verifier:\n" + out + "\nblock:\n" + b);
    }

    @Test
    void integerAndMemoryBlocksVerifyAndCompile() {
        IrBlock[] blocks = {
                decode(addi(5, 0, 7), add(6, 5, 5), sub(7, 6, 5), mul(8, 7, 6), div(9, 8, 5), remu(10, 9, 6),
                        slt(11, 5, 6), sltu(12, 6, 5), sll(13, 5, 6), sra(14, 13, 5), srl(15, 14, 5),
                        addw(16, 5, 6), sraiw(17, 16, 3), mulh(18, 5, 6), mulhsu(19, 5, 6), mulhu(20, 5, 6),
                        divw(21, 5, 6), remw(22, 5, 6), divuw(23, 5, 6), remuw(24, 5, 6), lui(25, 0x12345),
                        auipc(26, 1), jal(0, 8)),
                decode(ld(5, 10, 0), lw(6, 10, 8), lhu(7, 10, 16), lb(8, 10, 3), sd(5, 10, 24), sw(6, 10, -4),
                        sh(7, 10, 2), sb(8, 10, 1), bne(5, 6, -16)),
                decode(jalr(1, 5, 12)),
                decode(fld(1, 10, 0), flw(2, 10, 8), fsd(1, 10, 16), fsw(2, 10, 24), bltu(5, 6, 64)),
        };
        JitCompiler jit = new JitCompiler();
        for (IrBlock b : blocks) {
            verify(b);
            assertNotNull(jit.compile(b), b::toString);
        }
        assertEquals(blocks.length, jit.compiledBlocks());
        assertEquals(0, jit.rejectedBlocks());
        assertEquals(0, jit.failedBlocks());
        assertTrue(jit.bytecodeBytes() > 0);
        jit.shutdown();
    }

    @Test
    void systemOpsStayInterpretedWhileFpAndAtomicsCompile() {
        JitCompiler jit = new JitCompiler();
        assertNull(jit.compile(decode(addi(5, 0, 1), ecall())));
        assertNull(jit.compile(decode(csrrs(5, 0x300, 0))));
        assertEquals(2, jit.rejectedBlocks());
        assertEquals("op csr", JitCompiler.rejection(decode(csrrs(5, 0x300, 0))));
        IrBlock fp = decode(faddD(1, 2, 3, 7), fmaddS(4, 1, 2, 3, 1), fmvXD(5, 4), fcvtDL(6, 5, 2), jal(0, 8));
        IrBlock atomic = decode(lrD(5, 10), scD(6, 10, 5), amo(0, true, 7, 10, 6), amo(0x1C, false, 8, 10, 7), jal(0, 8));
        verify(fp);
        verify(atomic);
        assertNotNull(jit.compile(fp));
        assertNotNull(jit.compile(atomic));
        assertEquals(2, jit.compiledBlocks());
        jit.shutdown();
    }

    @Test
    void longestBlocksStayBelowTheHugeMethodLimit() {
        // 64 loads into distinct registers with a fault check each: the worst shape for size.
        int[] insns = new int[RiscvDecoder.MAX_INSNS];
        for (int k = 0; k < insns.length - 1; k++) {
            insns[k] = k % 2 == 0 ? ld(1 + k % 31, 10, 8 * k) : sd(1 + k % 31, 11, 8 * k);
        }
        insns[insns.length - 1] = jal(0, 8);
        IrBlock b = decode(insns);
        verify(b);
        assertNull(JitCompiler.rejection(b));
        JitCompiler jit = new JitCompiler();
        assertNotNull(jit.compile(b));
        assertTrue(jit.bytecodeBytes() < JitCompiler.MAX_CODE_SIZE, "bytes " + jit.bytecodeBytes());
        jit.shutdown();
    }

    @Test
    void compiledBlockMatchesTheContract() {
        try (JitHarness h = new JitHarness(false)) {
            JitCompiler jit = new JitCompiler();
            // x5 = 40; x6 = mem[DATA]; x6 += x5; mem[DATA+8] = x6; if x6 != 0 goto +0x100
            long data = JitHarness.DATA;
            h.hart.regs[10] = data;
            h.ram.write(data - JitHarness.RAM, 8, 2);
            IrBlock b = decode(addi(5, 0, 40), ld(6, 10, 0), add(6, 6, 5), sd(6, 10, 8), bne(6, 0, 0x100));
            CompiledBlock c = jit.compile(b);
            h.hart.instret = 100;
            assertEquals(BlockExit.EXIT_TAKEN, c.execute(h.hart, 0));
            assertEquals(PC + 16 + 0x100, h.hart.pc);
            assertEquals(105, h.hart.instret);
            assertEquals(40, h.hart.regs[5]);
            assertEquals(42, h.hart.regs[6]);
            assertEquals(42, h.ram.read(data + 8 - JitHarness.RAM, 8));

            // A faulting load in the middle: registers as before it, pc = its pc, instret = retired before it, trap taken.
            h.hart.regs[10] = 0x10; // nothing there: load access fault
            h.hart.regs[5] = 0;
            h.hart.instret = 7;
            h.hart.mtvec = JitHarness.TRAP;
            assertEquals(BlockExit.EXIT_SYSTEM, c.execute(h.hart, 0));
            assertEquals(40, h.hart.regs[5]); // the addi before the load retired
            assertEquals(42, h.hart.regs[6]); // untouched
            assertEquals(8, h.hart.instret);
            assertEquals(PC + 4, h.hart.mepc);
            assertEquals(5, h.hart.mcause); // load access fault
            assertEquals(0x10, h.hart.mtval);
            assertEquals(JitHarness.TRAP, h.hart.pc);
            jit.shutdown();
        }
    }

    @Test
    void aRegionLoopsInsideOneCallAndStopsAtTheBudget() {
        // A: x5 += 1; j B.   B: x7 += 2; if x5 < x6 goto A (a branch ends B; PC+16 is not in the region).
        int[] code = {addi(5, 5, 1), jal(0, 4), addi(7, 7, 2), blt(5, 6, -12), jal(0, 0x100)};
        Region loop = new Region(java.util.List.of(decodeAt(PC, code), decodeAt(PC + 8, code)));
        JitCompiler jit = new JitCompiler();
        CompiledBlock c = jit.compile(loop);
        assertEquals(2, jit.regionBlocks());
        try (JitHarness h = new JitHarness(false)) {
            h.hart.regs[6] = 10;
            h.hart.pc = PC;
            // Enough budget: all ten iterations (4 instructions each) in one call, then out.
            assertEquals(BlockExit.EXIT_FALL, c.execute(h.hart, 1000));
            assertEquals(PC + 16, h.hart.pc);
            assertEquals(40, h.hart.instret);
            assertEquals(10, h.hart.regs[5]);
            assertEquals(20, h.hart.regs[7]);

            // Budget 11: leaves at the first edge at or past 11 instructions (edges after 2, 4, 6, 8, 10, 12).
            h.hart.regs[5] = 0;
            h.hart.regs[7] = 0;
            h.hart.instret = 0;
            assertEquals(BlockExit.EXIT_TAKEN, c.execute(h.hart, 11));
            assertEquals(PC, h.hart.pc);
            assertEquals(12, h.hart.instret);
            assertEquals(3, h.hart.regs[5]);

            // A break request (a device access, a code write) leaves at the next edge too.
            h.hart.unitBreak = true;
            h.hart.instret = 0;
            assertEquals(BlockExit.EXIT_FALL, c.execute(h.hart, 1000));
            assertEquals(PC + 8, h.hart.pc);
            assertEquals(2, h.hart.instret);
        }
        jit.shutdown();
    }

    /**
     * A loop calling a function: L: x5 += 1; call F (jal, or jalr through x9).  C: if x5 < x6
     * goto L (a branch ends the block; PC + 12 is not in the region).  F (PC + 0x40): x7 += 3;
     * return (optionally to ra + 4).
     */
    private static int[] callLoop(boolean throughPointer, boolean returnElsewhere) {
        int[] code = new int[20];
        code[0] = addi(5, 5, 1);
        code[1] = throughPointer ? jalr(1, 9, 0) : jal(1, 0x40 - 4);
        code[2] = blt(5, 6, -8);
        code[3] = jal(0, 0x100);
        code[16] = addi(7, 7, 3);
        code[17] = returnElsewhere ? addi(1, 1, 4) : addi(7, 7, 0);
        code[18] = jalr(0, 1, 0);
        return code;
    }

    /** The loop's blocks: L, F copied for L's call (if {@code copy}), C. */
    private static Region callLoopRegion(int[] code, boolean copy) {
        IrBlock l = decodeAt(PC, code), f = decodeAt(PC + 0x40, code), c = decodeAt(PC + 8, code);
        return copy ? new Region(java.util.List.of(l, f, c), new int[] {-1, 0, -1})
                : new Region(java.util.List.of(l, c));
    }

    /**
     * Runs {@code c} on a fresh hart from PC with x6 = 10 and x9 = {@code pointer} for at most
     * {@code budget} instructions; returns pc, instret, x5, x7 and x1 after it.
     */
    private static long[] runCallLoop(CompiledBlock c, long pointer, int budget) {
        try (JitHarness h = new JitHarness(false)) {
            h.hart.regs[6] = 10;
            h.hart.regs[9] = pointer;
            h.hart.pc = PC;
            assertEquals(BlockExit.EXIT_FALL, c.execute(h.hart, budget));
            return new long[] {h.hart.pc, h.hart.instret, h.hart.regs[5], h.hart.regs[7], h.hart.regs[1]};
        }
    }

    @Test
    void aCalledFunctionCopiedIntoTheRegionKeepsTheLoopInside() {
        for (boolean pointer : new boolean[] {false, true}) {
            int[] code = callLoop(pointer, false);
            JitCompiler jit = new JitCompiler();
            CompiledBlock copied = jit.compile(callLoopRegion(code, true));
            CompiledBlock plain = jit.compile(callLoopRegion(code, false));
            // All ten iterations (6 instructions each) in one call: the call and the return
            // are jumps inside the method.
            assertArrayEquals(new long[] {PC + 12, 60, 10, 30, PC + 8}, runCallLoop(copied, PC + 0x40, 1000),
                    "pointer " + pointer);
            // Without the copy the call leaves at once.
            assertArrayEquals(new long[] {PC + 0x40, 2, 1, 0, PC + 8}, runCallLoop(plain, PC + 0x40, 1000));
            // The budget is checked on the way into and out of the copy as on any edge:
            // edges after 2, 5, 6 and 8 instructions, the first at or past 7 leaves (at the
            // second call).
            assertArrayEquals(new long[] {PC + 0x40, 8, 2, 3, PC + 8}, runCallLoop(copied, PC + 0x40, 7));
            jit.shutdown();
        }
    }

    @Test
    void aCopyOnlyTakesTheJumpsItWasMadeFor() {
        JitCompiler jit = new JitCompiler();
        // Through a pointer to another function: the copy is not taken, the region leaves.
        CompiledBlock c = jit.compile(callLoopRegion(callLoop(true, false), true));
        assertArrayEquals(new long[] {PC + 0x44, 2, 1, 0, PC + 8}, runCallLoop(c, PC + 0x44, 1000));
        // A function that returns elsewhere than after its call: the copy's return leaves.
        c = jit.compile(callLoopRegion(callLoop(false, true), true));
        assertArrayEquals(new long[] {PC + 12, 5, 1, 3, PC + 12}, runCallLoop(c, 0, 1000));
        jit.shutdown();
    }

    @Test
    void aRegionTooLargeIsCutToFitAndBlocksItCannotLowerAreLeftOut() {
        // 40 blocks of 16 additions each, chained by jumps; one block in the middle has a CSR access.
        int per = 17, n = 40;
        int[] code = new int[per * n];
        for (int k = 0; k < n; k++) {
            for (int j = 0; j < per - 1; j++) {
                code[k * per + j] = k == 3 ? csrrs(5, 0x340, 0) : addi(5 + j % 8, 5 + j % 8, k + j);
            }
            code[k * per + per - 1] = jal(0, 4);
        }
        java.util.List<IrBlock> blocks = new java.util.ArrayList<>();
        for (int k = 0; k < n; k++) {
            blocks.add(decodeAt(PC + 4L * per * k, code));
        }
        RegionLowering l = JitCompiler.lowerToFit(new Region(blocks));
        assertNotNull(l);
        assertTrue(l.bodySize <= JitCompiler.REGION_TARGET_SIZE && l.codeSize <= JitCompiler.MAX_CODE_SIZE, "size " + l.bodySize);
        assertTrue(l.blockCount() > 1 && l.blockCount() < n - 1, "blocks " + l.blockCount());
        assertNull(JitCompiler.lowerToFit(new Region(java.util.List.of(blocks.get(3)))), "CSR entry");
    }

    @Test
    void aRegionFarBeyondTheMethodLimitIsCutWithoutAnAsmLimitError() {
        // 48 blocks of fadd.d (dynamic rounding mode) chained by jumps: lowered whole they
        // come to tens of KB of bytecode, where ASM's frame computation gives up with
        // LimitExceededException (it did on the JIT's worker thread, for fpkernel's regions).
        int per = RiscvDecoder.MAX_INSNS, n = 48;
        int[] code = new int[per * n];
        for (int k = 0; k < n; k++) {
            for (int j = 0; j < per - 1; j++) {
                int fd = j % 32, fa = (j + 1) % 32, fb = (j + k) % 32;
                code[k * per + j] = 0x53 | fd << 7 | 7 << 12 | fa << 15 | fb << 20 | 0x01 << 25; // fadd.d fd, fa, fb, dyn
            }
            code[k * per + per - 1] = jal(0, 4);
        }
        java.util.List<IrBlock> blocks = new java.util.ArrayList<>();
        for (int k = 0; k < n; k++) {
            blocks.add(decodeAt(PC + 4L * per * k, code));
        }
        RegionLowering all = RegionLowering.lower(blocks);
        assertNull(all.bytes);
        assertTrue(all.codeSize > JitCompiler.MAX_CODE_SIZE, "size " + all.codeSize);
        assertTrue(all.rejection.contains("bytes of bytecode"), all.rejection);
        RegionLowering l = JitCompiler.lowerToFit(new Region(blocks));
        assertNotNull(l);
        assertTrue(l.codeSize <= JitCompiler.MAX_CODE_SIZE && l.blockCount() >= 1, "size " + l.codeSize);
    }

    @Test
    void onlyIndirectJumpsEnterTheNextUnitThroughTheSharedCallSite() {
        String ret = new String(JitCompiler.classBytes(decode(addi(10, 10, 1), jalr(0, 1, 0))),
                java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(ret.contains("enterIndirect"), "a return chains through JitRuntime.enterIndirect");
        String jump = new String(JitCompiler.classBytes(decode(addi(10, 10, 1), jal(0, 0x40))),
                java.nio.charset.StandardCharsets.ISO_8859_1);
        assertFalse(jump.contains("enterIndirect"), "a direct jump calls its target itself");
    }

    @Test
    void asynchronousRequestsInstallFromTheCompilerThread() throws Exception {
        JitCompiler jit = new JitCompiler();
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<Thread> installer = new AtomicReference<>();
        jit.request(Region.of(decode(addi(5, 5, 1), jal(0, -4))), c -> {
            installer.set(Thread.currentThread());
            done.countDown();
        });
        assertTrue(done.await(10, TimeUnit.SECONDS));
        assertNotSame(Thread.currentThread(), installer.get());
        assertTrue(installer.get().isDaemon());
        assertEquals(1, jit.compiledBlocks());
        jit.shutdown();
    }

    @Test
    void aFailureOnTheCompilerThreadIsCountedAndTheThreadGoesOn() throws Exception {
        JitCompiler jit = new JitCompiler();
        Region region = Region.of(decode(addi(5, 5, 1), jal(0, -4)));
        jit.request(region, c -> {
            throw new IllegalStateException("planted");
        });
        CountDownLatch done = new CountDownLatch(1);
        jit.request(region, c -> done.countDown());
        assertTrue(done.await(10, TimeUnit.SECONDS), "the next request is still served");
        assertEquals(1, jit.failedBlocks());
        jit.shutdown();
    }
}
