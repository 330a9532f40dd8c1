package dev.rivet.interp;

import dev.rivet.core.riscv.Cause;
import dev.rivet.core.riscv.Csr;
import dev.rivet.core.riscv.Hart;
import dev.rivet.ir.riscv.RiscvAssembler;
import org.junit.jupiter.api.Test;

import static dev.rivet.interp.GuestHarness.CODE;
import static dev.rivet.interp.GuestHarness.DATA;
import static dev.rivet.interp.GuestHarness.RAM;
import static dev.rivet.interp.GuestHarness.TRAP;
import static dev.rivet.ir.riscv.RiscvAssembler.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Control flow, memory, traps, atomics, CSRs, self-modifying code and interrupts, driven
 * through the decoder and the interpreter like a small guest program would.
 */
class MachineBehaviourTest {
    static final int ZERO = 0, RA = 1, T0 = 5, T1 = 6, A0 = 10, A1 = 11, A2 = 12, A3 = 13, A4 = 14;

    private static void assertStoppedAtEbreak(Hart h, RiscvAssembler asm) {
        assertEquals(Cause.BREAKPOINT, h.mcause, () -> "trap cause " + Cause.name(h.mcause) + " at 0x" + Long.toHexString(h.mepc));
        assertEquals(GuestHarness.endOf(asm), h.mepc);
    }

    @Test
    void branchesTakenAndNotTakenAndLinkRegisters() {
        try (GuestHarness g = new GuestHarness()) {
            RiscvAssembler a = new RiscvAssembler().li(A1, -1).li(A2, 1);
            a.emitTo("t1", o -> blt(A1, A2, o)).emit(addi(A0, A0, 100)); // skipped: -1 < 1 signed
            a.label("t1").emitTo("t2", o -> bltu(A1, A2, o)).emit(addi(A0, A0, 1)); // not taken unsigned
            a.label("t2").emitTo("t3", o -> bge(A2, A1, o)).emit(addi(A0, A0, 100));
            a.label("t3").emitTo("t4", o -> bne(A1, A1, o)).emit(addi(A0, A0, 2));
            a.label("t4").emitTo("t5", o -> beq(A2, A2, o)).emit(addi(A0, A0, 100));
            a.label("t5").emitTo("t6", o -> bgeu(A1, A2, o)).emit(addi(A0, A0, 100));
            a.label("t6").emitTo("fn", o -> jal(RA, o));
            a.label("back").emit(addi(A3, RA, 0));
            a.emitTo("end", o -> jal(ZERO, o));
            a.label("fn").emit(addi(A4, RA, 0), jalr(ZERO, RA, 0));
            a.label("end");
            Hart h = g.run(a);
            assertStoppedAtEbreak(h, a);
            assertEquals(3, h.x(A0), "exactly the two not-taken increments ran");
            assertEquals(h.x(A3), h.x(A4), "jal linked the address after itself");
        }
    }

    @Test
    void jalrClearsBitZeroAndReadsTheBaseBeforeWritingTheLink() {
        try (GuestHarness g = new GuestHarness()) {
            // [0] auipc t0,0  [1] addi t0,t0,17  [2] jalr t0,t0  [3] skipped  [4] target (odd 17 -> 16)
            RiscvAssembler a = new RiscvAssembler().emit(auipc(T0, 0), addi(T0, T0, 17), jalr(T0, T0, 0),
                    addi(A0, ZERO, 99), addi(A1, ZERO, 7));
            Hart h = g.run(a);
            assertStoppedAtEbreak(h, a);
            assertEquals(7, h.x(A1));
            assertEquals(0, h.x(A0), "the instruction after jalr was skipped");
            assertEquals(CODE + 12, h.x(T0), "link = jalr address + 4");
        }
    }

    @Test
    void loadsStoresAllWidthsAndMisalignedInRam() {
        try (GuestHarness g = new GuestHarness()) {
            RiscvAssembler a = new RiscvAssembler().li(T0, DATA).li(T1, 0x8182_8384_8586_8788L);
            a.emit(sd(T1, T0, 0), lb(A0, T0, 0), lbu(A1, T0, 0), lh(A2, T0, 2), lhu(A3, T0, 2), lw(A4, T0, 4));
            a.emit(sw(T1, T0, 9), ld(15, T0, 8), lwu(16, T0, 4)); // misaligned store + load
            // Misaligned loads inside a page the data TLB now holds (they miss the aligned probe).
            a.emit(ld(17, T0, 9), lh(18, T0, 3), lw(19, T0, 6));
            Hart h = g.run(a);
            assertStoppedAtEbreak(h, a);
            assertEquals((byte) 0x88, h.x(A0));
            assertEquals(0x88, h.x(A1));
            assertEquals((short) 0x8586, h.x(A2));
            assertEquals(0x8586, h.x(A3));
            assertEquals(0xFFFF_FFFF_8182_8384L, h.x(A4));
            assertEquals(0x8586_8788_00L, h.x(15));
            assertEquals(0x8182_8384L, h.x(16));
            assertEquals(0x8586_8788L, h.x(17));
            assertEquals((short) 0x8485, h.x(18));
            assertEquals(0xFFFF_FFFF_8800_8182L, h.x(19));
        }
    }

    @Test
    void ecallTrapsWithPreciseState() {
        try (GuestHarness g = new GuestHarness()) {
            RiscvAssembler a = new RiscvAssembler().emit(addi(A0, ZERO, 1), ecall(), addi(A0, ZERO, 2));
            g.put(CODE, a.assemble());
            Hart h = g.runFromCode(100);
            assertEquals(Cause.ECALL_M, h.mcause);
            assertEquals(CODE + 4, h.mepc);
            assertEquals(1, h.x(A0), "nothing after the ecall ran");
            assertEquals(TRAP, h.pc & ~3L);
        }
    }

    @Test
    void illegalInstructionReportsItsBits() {
        try (GuestHarness g = new GuestHarness()) {
            g.put(CODE, addi(A0, ZERO, 5), 0xFE00_0033); // OP with funct7 = 0x7F: reserved
            Hart h = g.runFromCode(100);
            assertEquals(Cause.ILLEGAL_INSN, h.mcause);
            assertEquals(CODE + 4, h.mepc);
            assertEquals(0xFE00_0033L, h.mtval);
            assertEquals(5, h.x(A0));
        }
    }

    @Test
    void accessFaultsCarryTheAddressAndLeaveRegistersAlone() {
        try (GuestHarness g = new GuestHarness()) {
            RiscvAssembler a = new RiscvAssembler().li(A0, 77).li(T0, 0x40).emit(ld(A0, T0, 8));
            g.put(CODE, a.assemble());
            Hart h = g.runFromCode(100);
            assertEquals(Cause.LOAD_ACCESS_FAULT, h.mcause);
            assertEquals(0x48, h.mtval);
            assertEquals(CODE + a.sizeBytes() - 4, h.mepc);
            assertEquals(77, h.x(A0), "faulting load did not write its destination");
        }
        try (GuestHarness g = new GuestHarness()) {
            g.put(CODE, sd(A0, ZERO, 16));
            Hart h = g.runFromCode(100);
            assertEquals(Cause.STORE_ACCESS_FAULT, h.mcause);
            assertEquals(16, h.mtval);
        }
        try (GuestHarness g = new GuestHarness()) {
            g.put(CODE, addi(T0, ZERO, 0x100), jalr(ZERO, T0, 0));
            Hart h = g.runFromCode(100);
            assertEquals(Cause.INSN_ACCESS_FAULT, h.mcause);
            assertEquals(0x100, h.mepc);
            assertEquals(0x100, h.mtval);
        }
    }

    @Test
    void atomicsLrScAndAmos() {
        try (GuestHarness g = new GuestHarness()) {
            RiscvAssembler a = new RiscvAssembler().li(T0, DATA).li(T1, 5);
            a.emit(sd(T1, T0, 0),
                    scD(A0, T0, T1),           // no reservation: fails (non-zero)
                    lrD(A1, T0), addi(T1, A1, 10), scD(A2, T0, T1), // succeeds: 0, memory 15
                    scD(A3, T0, T1),           // reservation consumed: fails
                    addi(T1, ZERO, -1),
                    amo(0, false, A4, T0, T1), // amoadd.w: old 15, new 14
                    lw(15, T0, 0),
                    amo(24, true, 16, T0, ZERO)); // amominu.d with 0: old value back, memory 0
            Hart h = g.run(a);
            assertStoppedAtEbreak(h, a);
            assertNotEquals(0, h.x(A0));
            assertEquals(5, h.x(A1));
            assertEquals(0, h.x(A2));
            assertNotEquals(0, h.x(A3));
            assertEquals(15, h.x(A4));
            assertEquals(14, h.x(15));
            assertEquals(14, h.x(16));
            assertEquals(0, g.ram.read(DATA - RAM, 8));
        }
    }

    @Test
    void misalignedAtomicsTrap() {
        try (GuestHarness g = new GuestHarness()) {
            RiscvAssembler a = new RiscvAssembler().li(T0, DATA + 4).emit(amo(1, true, A0, T0, T1));
            g.put(CODE, a.assemble());
            Hart h = g.runFromCode(100);
            assertEquals(Cause.STORE_MISALIGNED, h.mcause);
            assertEquals(DATA + 4, h.mtval);
        }
        try (GuestHarness g = new GuestHarness()) {
            RiscvAssembler a = new RiscvAssembler().li(T0, DATA + 2).emit(lrW(A0, T0));
            g.put(CODE, a.assemble());
            Hart h = g.runFromCode(100);
            assertEquals(Cause.LOAD_MISALIGNED, h.mcause);
        }
    }

    @Test
    void minstretCountsEachRetiredInstruction() {
        try (GuestHarness g = new GuestHarness()) {
            RiscvAssembler a = new RiscvAssembler().emit(
                    csrrs(A0, Csr.MINSTRET, ZERO), addi(T0, ZERO, 1), addi(T0, T0, 1), csrrs(A1, Csr.MINSTRET, ZERO),
                    csrrw(ZERO, Csr.MSCRATCH, T0), csrrs(A2, Csr.MSCRATCH, ZERO), csrrs(A3, Csr.MINSTRET, ZERO));
            Hart h = g.run(a);
            assertStoppedAtEbreak(h, a);
            assertEquals(3, h.x(A1) - h.x(A0));
            assertEquals(2, h.x(A2));
            assertEquals(6, h.x(A3) - h.x(A0), "CSR instructions retire too");
        }
    }

    @Test
    void selfModifyingCodeWithFenceI() {
        try (GuestHarness g = new GuestHarness()) {
            // Run "addi a0, zero, 1" once, then overwrite it with "addi a0, zero, 2", fence.i, run again.
            RiscvAssembler a = new RiscvAssembler();
            a.li(T0, CODE + 0x400).li(T1, addi(A0, ZERO, 2));
            a.emitTo("patch", o -> jal(RA, o));
            a.emit(addi(A1, A0, 0), sw(T1, T0, 0), fenceI());
            a.emitTo("patch", o -> jal(RA, o));
            a.emit(ebreak());
            a.label("patch");
            g.put(CODE, a.assemble());
            long patch = CODE + a.sizeBytes();
            g.put(CODE + 0x400, addi(A0, ZERO, 1), jalr(ZERO, RA, 0));
            // The helper at "patch" jumps to the patched code at CODE+0x400.
            g.put(patch, jal(ZERO, (int) (CODE + 0x400 - patch)));
            Hart h = g.runFromCode(1000);
            assertEquals(Cause.BREAKPOINT, h.mcause);
            assertEquals(1, h.x(A1), "first run saw the original instruction");
            assertEquals(2, h.x(A0), "after fence.i the new instruction runs");
        }
    }

    @Test
    void storeToTranslatedCodeIsSeenEvenWithoutFenceIWhenInAnotherBlock() {
        try (GuestHarness g = new GuestHarness()) {
            long fn = CODE + 0x800;
            g.put(fn, addi(A0, ZERO, 1), jalr(ZERO, RA, 0));
            RiscvAssembler a = new RiscvAssembler();
            a.li(T0, fn).li(T1, addi(A0, ZERO, 3));
            a.emit(jalr(RA, T0, 0), addi(A1, A0, 0), sw(T1, T0, 0), jalr(RA, T0, 0));
            Hart h = g.run(a);
            assertStoppedAtEbreak(h, a);
            assertEquals(1, h.x(A1));
            assertEquals(3, h.x(A0));
            assertTrue(g.interp.cache().invalidations() > 0);
        }
    }

    @Test
    void fpInstructionsAreIllegalWhileTheFpuIsOff() {
        try (GuestHarness g = new GuestHarness()) {
            g.hart.mstatus &= ~Csr.MSTATUS_FS;
            g.put(CODE, fmvDX(1, A0));
            Hart h = g.runFromCode(100);
            assertEquals(Cause.ILLEGAL_INSN, h.mcause);
            assertEquals(CODE, h.mepc);
        }
    }

    @Test
    void fpDynamicRoundingFlagsAndNanBoxing() {
        try (GuestHarness g = new GuestHarness()) {
            RiscvAssembler a = new RiscvAssembler();
            a.li(T0, Double.doubleToRawLongBits(1.0)).emit(fmvDX(1, T0));
            a.li(T0, Double.doubleToRawLongBits(3.0)).emit(fmvDX(2, T0));
            a.emit(csrrwi(ZERO, Csr.FRM, 3), // RUP
                    fdivD(3, 1, 2, 7), fmvXD(A0, 3),
                    csrrwi(ZERO, Csr.FRM, 2), // RDN
                    fdivD(4, 1, 2, 7), fmvXD(A1, 4),
                    csrrs(A2, Csr.FFLAGS, ZERO));
            // A single-precision source that is not NaN-boxed reads as the canonical NaN.
            a.li(T0, 0x3F80_0000L).emit(fmvDX(5, T0), faddS(6, 5, 5, 0), fmvXD(A3, 6));
            a.emit(fmvWX(7, T0), fmvXD(A4, 7));
            Hart h = g.run(a);
            assertStoppedAtEbreak(h, a);
            // 1/3 = 0x3FD5555555555555 (RNE and RDN); rounding up adds one ulp.
            assertEquals(0x3FD5_5555_5555_5556L, h.x(A0));
            assertEquals(0x3FD5_5555_5555_5555L, h.x(A1));
            assertEquals(1, h.x(A2), "inexact (NX) accumulated, nothing else");
            assertEquals(0xFFFF_FFFF_7FC0_0000L, h.x(A3), "canonical NaN, boxed");
            assertEquals(0xFFFF_FFFF_3F80_0000L, h.x(A4), "fmv.w.x boxes");
            assertTrue((h.mstatus & Csr.MSTATUS_FS) == Csr.MSTATUS_FS, "FP writes mark mstatus.FS dirty");
        }
    }

    @Test
    void invalidDynamicRoundingModeIsIllegal() {
        try (GuestHarness g = new GuestHarness()) {
            RiscvAssembler a = new RiscvAssembler().emit(csrrwi(ZERO, Csr.FRM, 5), faddD(1, 2, 3, 7));
            g.put(CODE, a.assemble());
            Hart h = g.runFromCode(100);
            assertEquals(Cause.ILLEGAL_INSN, h.mcause);
            assertEquals(CODE + 4, h.mepc);
        }
    }

    @Test
    void machineSoftwareInterruptIsTakenAtABlockExit() {
        try (GuestHarness g = new GuestHarness()) {
            g.hart.mie = 1L << 3;
            g.hart.mstatus |= Csr.MSTATUS_MIE;
            g.put(CODE, addi(A0, A0, 1), jal(ZERO, -4));
            g.hart.pc = CODE;
            g.interp.run(50);
            assertEquals(0, g.hart.mcause, "no interrupt while none is pending");
            g.hart.setPending(1L << 3);
            g.interp.run(10);
            assertEquals(Cause.INTERRUPT | 3, g.hart.mcause);
            assertTrue(g.hart.mepc == CODE || g.hart.mepc == CODE + 4, "interrupted inside the loop");
            assertEquals(0, g.hart.mstatus & Csr.MSTATUS_MIE, "MIE cleared on entry");
        }
    }

    @Test
    void wfiParksUntilAnInterruptIsPending() throws Exception {
        try (GuestHarness g = new GuestHarness()) {
            g.hart.mie = 1L << 3;
            g.hart.mstatus |= Csr.MSTATUS_MIE;
            g.put(CODE, wfi(), addi(A0, ZERO, 9), ebreak());
            Thread t = new Thread(() -> g.runFromCode(1000));
            t.start();
            Thread.sleep(50);
            assertTrue(t.isAlive(), "hart is parked in wfi");
            g.hart.setPending(1L << 3);
            t.join(10_000);
            assertEquals(Cause.INTERRUPT | 3, g.hart.mcause);
            assertEquals(CODE + 4, g.hart.mepc, "resumes after the wfi");
        }
    }

    @Test
    void budgetStopsAnEndlessLoop() {
        try (GuestHarness g = new GuestHarness()) {
            g.put(CODE, addi(A0, A0, 1), jal(ZERO, -4));
            g.hart.pc = CODE;
            Interpreter.StopReason why = g.interp.run(1000);
            assertEquals(Interpreter.StopReason.BUDGET, why);
            assertTrue(g.hart.instret >= 1000 && g.hart.instret < 1000 + 64);
            assertEquals(g.hart.instret / 2, g.hart.x(A0), "each iteration retires two instructions");
        }
    }
}
