package dev.rivet.jit;

import dev.rivet.ir.IrBlock;
import dev.rivet.ir.exec.BlockExit;
import dev.rivet.ir.exec.CompiledBlock;
import dev.rivet.ir.exec.Region;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.rivet.ir.riscv.RiscvAssembler.*;
import static dev.rivet.jit.JitCompilerTest.PC;
import static dev.rivet.jit.JitCompilerTest.decodeAt;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Guest registers in a region's locals: a block loads only what it reads, and every way
 * out writes back what may have changed on the way there (see
 * {@code RegionLowering.analyseSlots}). Each case is a region whose paths write
 * different registers, run to one exit, and the hart's registers checked afterwards.
 */
class JitSlotTest {
    /**
     * A writes x5 and jumps through x11 to B, a block of the region reached by no direct
     * edge; B writes x6 and leaves. x5 is dirty on arrival through the indirect jump
     * only, so that jump must write it back: B's exit writes back only what B tracks.
     */
    @Test
    void anIndirectJumpInsideTheRegionKeepsWhatTheBlockBeforeWrote() {
        int[] code = {addi(5, 0, 7), addi(12, 12, 1), jalr(0, 11, 0), addi(6, 0, 9), jal(0, 0x100)};
        Region r = new Region(List.of(decodeAt(PC, code), decodeAt(PC + 12, code)));
        JitCompiler jit = new JitCompiler();
        CompiledBlock c = jit.compile(r);
        assertEquals(2, jit.regionBlocks());
        try (JitHarness h = new JitHarness(false)) {
            h.hart.regs[11] = PC + 12;
            h.hart.regs[12] = 40;
            h.hart.pc = PC;
            assertEquals(BlockExit.EXIT_FALL, c.execute(h.hart, 1000));
            assertEquals(PC + 16 + 0x100, h.hart.pc);
            assertEquals(5, h.hart.instret);
            assertEquals(7, h.hart.regs[5]);
            assertEquals(9, h.hart.regs[6]);
            assertEquals(41, h.hart.regs[12]);

            // The same jump to a target outside the region leaves with A's registers written back.
            h.hart.regs[5] = 0;
            h.hart.regs[11] = PC + 0x800;
            h.hart.instret = 0;
            assertEquals(BlockExit.EXIT_FALL, c.execute(h.hart, 1000));
            assertEquals(PC + 0x800, h.hart.pc);
            assertEquals(3, h.hart.instret);
            assertEquals(7, h.hart.regs[5]);
            assertEquals(42, h.hart.regs[12]);
        }
        jit.shutdown();
    }

    /**
     * A loop whose body is reached through an indirect jump each time round (a call and
     * return inside one region): what the loop header keeps in locals and what the body
     * writes both survive every trip, and the registers only read stay as they were.
     */
    @Test
    void aLoopThroughAnIndirectJumpCarriesItsRegistersAcrossTrips() {
        // A (entry): x5 += 1; x7 += x9; call F through x11.  R (the return point): if x5 < x6
        // goto A (a branch ends a block: falling through leaves for PC+16, not in the
        // region).  F: x8 += x5; return through x1.
        int[] code = {
            addi(5, 5, 1), add(7, 7, 9), jalr(1, 11, 0), // A = PC
            blt(5, 6, -12), jal(0, 0x200),                // R = PC+12
            add(8, 8, 5), jalr(0, 1, 0),                  // F = PC+20
        };
        Region r = new Region(List.of(decodeAt(PC, code), decodeAt(PC + 20, code), decodeAt(PC + 12, code)));
        JitCompiler jit = new JitCompiler();
        CompiledBlock c = jit.compile(r);
        assertEquals(3, jit.regionBlocks());
        try (JitHarness h = new JitHarness(false)) {
            h.hart.regs[6] = 10;
            h.hart.regs[9] = 3;
            h.hart.regs[11] = PC + 20;
            h.hart.pc = PC;
            assertEquals(BlockExit.EXIT_FALL, c.execute(h.hart, 1000));
            assertEquals(PC + 16, h.hart.pc);
            assertEquals(60, h.hart.instret);
            assertEquals(10, h.hart.regs[5]);
            assertEquals(30, h.hart.regs[7]);
            assertEquals(55, h.hart.regs[8]);
            assertEquals(PC + 12, h.hart.regs[1]);
            assertEquals(3, h.hart.regs[9]);
            assertEquals(PC + 20, h.hart.regs[11]);

            // Cut by the budget at every possible point: the state is always that of a whole
            // number of blocks.
            for (int budget = 1; budget < 60; budget++) {
                h.hart.regs[5] = 0;
                h.hart.regs[7] = 0;
                h.hart.regs[8] = 0;
                h.hart.instret = 0;
                h.hart.pc = PC;
                c.execute(h.hart, budget);
                long done = h.hart.instret;
                long trips = h.hart.regs[5];
                assertTrue(done >= budget || h.hart.pc == PC + 16, "budget " + budget);
                assertEquals(3 * trips, h.hart.regs[7], "budget " + budget);
                long pc = h.hart.pc;
                assertTrue(pc == PC || pc == PC + 12 || pc == PC + 20 || pc == PC + 16, "pc " + Long.toHexString(pc));
                assertEquals(trips * (trips + 1) / 2, h.hart.regs[8] + (pc == PC + 20 ? trips : 0), "budget " + budget);
            }
        }
        jit.shutdown();
    }

    /**
     * One block that writes a register between loads, each load faulting in turn: the
     * trap sees exactly the registers written before the faulting load, whichever it is.
     */
    @Test
    void aFaultAnywhereInABlockWritesBackExactlyWhatWasWrittenBeforeIt() {
        // x5 = 1; x6 = ld(x20); x7 = 2; x8 = ld(x21); x9 = 3; x10 = ld(x22); x11 = 4; exit
        int[] code = {addi(5, 0, 1), ld(6, 20, 0), addi(7, 0, 2), ld(8, 21, 0), addi(9, 0, 3), ld(10, 22, 0),
            addi(11, 0, 4), jal(0, 0x100)};
        IrBlock b = decodeAt(PC, code);
        JitCompiler jit = new JitCompiler();
        CompiledBlock c = jit.compile(b);
        try (JitHarness h = new JitHarness(false)) {
            h.hart.mtvec = JitHarness.TRAP;
            for (int bad = 0; bad <= 3; bad++) {
                for (int k = 5; k <= 11; k++) {
                    h.hart.regs[k] = -1;
                }
                for (int k = 0; k < 3; k++) {
                    h.hart.regs[20 + k] = k == bad ? 0x10 : JitHarness.DATA; // 0x10: nothing there
                }
                h.ram.write(JitHarness.DATA - JitHarness.RAM, 8, 99);
                h.hart.instret = 0;
                h.hart.pc = PC;
                h.hart.mepc = 0;
                int exit = c.execute(h.hart, 1000);
                long[] expected = {1, 99, 2, 99, 3, 99, 4};
                int written = bad == 3 ? 7 : 1 + 2 * bad; // registers x5.. written before the fault
                for (int k = 0; k < 7; k++) {
                    assertEquals(k < written ? expected[k] : -1, h.hart.regs[5 + k], "x" + (5 + k) + ", load " + bad + " faulting");
                }
                if (bad == 3) {
                    assertEquals(BlockExit.EXIT_FALL, exit);
                    assertEquals(8, h.hart.instret);
                } else {
                    assertEquals(BlockExit.EXIT_SYSTEM, exit);
                    assertEquals(written, h.hart.instret);
                    assertEquals(PC + 4L * written, h.hart.mepc);
                    assertEquals(JitHarness.TRAP, h.hart.pc);
                }
            }
        }
        jit.shutdown();
    }
}
