package dev.rivet.ir.riscv;

import dev.rivet.ir.CodeSource;
import dev.rivet.ir.IrBlock;
import dev.rivet.ir.Op;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static dev.rivet.ir.riscv.Blocks.*;
import static org.junit.jupiter.api.Assertions.*;

/** Where blocks end and how fetch faults, system ops, FP state and x0 shape them. */
class RiscvDecoderBlockTest {
    private static final int NOP = 0x00000013, C_NOP = 0x0001;
    private static final int ADDI_A0 = 0x00150513;   // addi a0, a0, 1
    private static final int C_ADDI_A0 = 0x0505;     // c.addi a0, 1
    private static final int PAGE_FAULT = 12;

    private static int[] repeat(int insn, int n) {
        int[] a = new int[n];
        Arrays.fill(a, insn);
        return a;
    }

    @Test
    void stopsAtMaxInsns() {
        IrBlock b = DEC.decode(PC, PC, MODE_M, code(PC, repeat(ADDI_A0, 100)));
        assertWellFormed(b);
        assertEquals(RiscvDecoder.MAX_INSNS, b.insnCount);
        assertEquals(4 * RiscvDecoder.MAX_INSNS, b.byteLength);
        int last = b.size() - 1;
        assertEquals(Op.EXIT, b.op(last));
        assertEquals(PC + 4L * RiscvDecoder.MAX_INSNS, b.imm(last));
        assertEquals(RiscvDecoder.MAX_INSNS - 1, b.insnIndex(last), "the exit belongs to the last instruction");
        assertEquals(RiscvDecoder.MAX_INSNS + 1, b.size());

        IrBlock c = DEC.decode(PC, PC, MODE_M, code(PC, repeat(C_ADDI_A0, 100)));
        assertEquals(RiscvDecoder.MAX_INSNS, c.insnCount);
        assertEquals(2 * RiscvDecoder.MAX_INSNS, c.byteLength);
        assertEquals(PC + 2L * RiscvDecoder.MAX_INSNS, c.imm(c.size() - 1));
    }

    @Test
    void stopsBeforeTheNextPage() {
        long pc = 0x1ff0;
        IrBlock b = DEC.decode(pc, pc, MODE_M, code(pc, repeat(ADDI_A0, 16)));
        assertWellFormed(b);
        assertEquals(4, b.insnCount);
        assertEquals(16, b.byteLength);
        assertEquals(Op.EXIT, b.op(b.size() - 1));
        assertEquals(0x2000, b.imm(b.size() - 1));
        assertEquals(3, b.insnIndex(b.size() - 1));
    }

    @Test
    void aStraddlingInstructionIsIncludedAndEndsTheBlock() {
        long pc = 0x1ffa;
        // c.nop @1ffa, c.nop @1ffc, addi @1ffe (second parcel on the next page), addi @2002
        IrBlock b = DEC.decode(pc, pc, MODE_M, code(pc, C_NOP, C_NOP, ADDI_A0, ADDI_A0));
        assertWellFormed(b);
        assertEquals(3, b.insnCount);
        assertEquals(8, b.byteLength);
        assertEquals("""
                block pc=0x1ffa phys=0x1ffa mode=3 insns=3 bytes=8
                    0 [0x1ffe] addi a0, a0, 1
                    1 [0x1ffe] exit 0x2002
                """, print(b));
        // A compressed instruction ending exactly at the page end.
        IrBlock c = DEC.decode(0x1ffe, 0x1ffe, MODE_M, code(0x1ffe, C_ADDI_A0, C_ADDI_A0));
        assertEquals(1, c.insnCount);
        assertEquals(0x2000, c.imm(c.size() - 1));
    }

    @Test
    void fetchFaultOnTheFirstInstructionIsALoneTrap() {
        CodeSource nothing = va -> -1 - PAGE_FAULT;
        IrBlock b = DEC.decode(0x5000, 0x5000, MODE_S, nothing);
        assertWellFormed(b);
        assertEquals(1, b.size());
        assertEquals(1, b.insnCount);
        assertEquals(Op.TRAP, b.op(0));
        assertEquals(PAGE_FAULT, trapCause(b, 0));
        assertEquals(0x5000, trapTval(b, 0));
        assertEquals(0, b.byteLength);

        // Second parcel of a 32-bit first instruction on an unmapped page: tval is that parcel's address.
        long pc = 0x1ffe;
        CodeSource straddle = va -> va == pc ? ADDI_A0 & 0xFFFF : -1 - PAGE_FAULT;
        IrBlock s = DEC.decode(pc, pc, MODE_S, straddle);
        assertWellFormed(s);
        assertEquals(1, s.size());
        assertEquals(PAGE_FAULT, trapCause(s, 0));
        assertEquals(0x2000, trapTval(s, 0));
        assertEquals(2, s.byteLength);

        // High addresses survive the tval encoding (imm >> 8).
        long hi = 0xffffffffc0000000L;
        IrBlock h = DEC.decode(hi, 0x1000, MODE_S, nothing);
        assertEquals(hi, trapTval(h, 0));
    }

    @Test
    void fetchFaultLaterEndsTheBlockBeforeTheInstruction() {
        // Two instructions, then nothing: the third fetch faults.
        IrBlock b = DEC.decode(PC, PC, MODE_M, code(PC, ADDI_A0, C_ADDI_A0));
        assertWellFormed(b);
        assertEquals("""
                block pc=0x1000 phys=0x1000 mode=3 insns=2 bytes=6
                    0 [0x1000] addi a0, a0, 1
                    1 [0x1004] addi a0, a0, 1
                    2 [0x1004] exit 0x1006
                """, print(b));

        // The second parcel of a later 32-bit instruction faults: exit before it.
        long pc = 0x1ff8;
        CodeSource src = va -> va >= 0x2000 ? -1 - PAGE_FAULT : va == 0x1ffe ? ADDI_A0 & 0xFFFF : C_ADDI_A0;
        IrBlock s = DEC.decode(pc, pc, MODE_M, src);
        assertWellFormed(s);
        assertEquals(3, s.insnCount);
        assertEquals(6, s.byteLength);
        assertEquals(Op.EXIT, s.op(s.size() - 1));
        assertEquals(0x1ffe, s.imm(s.size() - 1));
        assertEquals(2, s.insnIndex(s.size() - 1));
    }

    @Test
    void csrAndOtherSystemOpsEndTheBlockWithoutExit() {
        int csrrw = 0x30059573; // csrrw a0, mstatus, a1
        IrBlock b = DEC.decode(PC, PC, MODE_M, code(PC, ADDI_A0, csrrw, ADDI_A0));
        assertWellFormed(b);
        assertEquals(2, b.insnCount);
        assertEquals(8, b.byteLength);
        assertEquals(Op.CSR, b.op(b.size() - 1));
        assertEquals(0x300 | (csrrw & 0xFFFFFFFFL) << 32, b.imm(b.size() - 1));

        int csrrsi = 0x10046573; // csrrsi a0, sstatus, 8
        IrBlock c = DEC.decode(PC, PC, MODE_M, code(PC, csrrsi, NOP));
        assertEquals("""
                block pc=0x1000 phys=0x1000 mode=3 insns=1 bytes=4
                    0 [0x1000] movi %0, 8
                    1 [0x1000] csr a0, %0, 0x1004657300001100
                """, print(c));
        assertWellFormed(c);
    }

    @Test
    void illegalInstructionEndsTheBlockAfterTheEarlierOnes() {
        IrBlock b = DEC.decode(PC, PC, MODE_M, code(PC, ADDI_A0, 0xffffffff, ADDI_A0));
        assertWellFormed(b);
        assertEquals(2, b.insnCount);
        assertEquals(Op.TRAP, b.op(b.size() - 1));
        assertEquals(1, b.insnIndex(b.size() - 1));
        assertEquals(0xffffffffL, trapTval(b, b.size() - 1));
        assertEquals(PC + 4, b.insnPc(b.size() - 1));
    }

    @Test
    void branchEndsTheBlockAndFencesCountAsInstructions() {
        int fence = 0x0ff0000f, beq = 0x00b50463; // fence; beq a0, a1, .+8
        IrBlock b = DEC.decode(PC, PC, MODE_M, code(PC, fence, C_NOP, beq, ADDI_A0));
        assertWellFormed(b);
        assertEquals("""
                block pc=0x1000 phys=0x1000 mode=3 insns=3 bytes=10
                    0 [0x1006] br.eq a0, a1, 0x100e
                    1 [0x1006] exit 0x100a
                """, print(b));
    }

    @Test
    void fpDirtyIsEmittedOnceBeforeTheFirstFpWrite() {
        int fsd = 0x00a13027, fmvxw = 0xe0050553, fclass = 0xe2059553, fadd = 0x00c5f553, feq = 0xa0c5a553,
                fmvwx = 0xf0058553, flw = 0x00412507;
        // Reads only: no fp.dirty at all.
        IrBlock r = DEC.decode(PC, PC, MODE_S, code(PC, fsd, fmvxw, fclass));
        assertWellFormed(r);
        assertEquals(0, count(r, Op.FP_DIRTY), () -> print(r));
        // The first writer gets it (a compare writes fflags), later ones do not.
        IrBlock w = DEC.decode(PC, PC, MODE_S, code(PC, fsd, feq, fadd, flw, fmvwx, fadd));
        assertWellFormed(w);
        assertEquals(1, count(w, Op.FP_DIRTY), () -> print(w));
        int i = indexOf(w, Op.FP_DIRTY);
        assertEquals(1, w.insnIndex(i), "fp.dirty belongs to the feq");
        assertEquals(Op.FEQ_S, w.op(i + 1));
        // Every kind of writer marks the state dirty when it comes first.
        for (int insn : new int[]{fadd, feq, fmvwx, flw, 0x2588 /* c.fld */, 0xc005f553 /* fcvt.w.s */}) {
            IrBlock b = one(insn, MODE_U);
            assertEquals(Op.FP_DIRTY, b.op(0), () -> print(b));
            assertEquals(1, count(b, Op.FP_DIRTY));
        }
    }

    @Test
    void x0IsReadAsZeroAndWritesAreDiscarded() {
        assertEquals("", insnOps(one(0x00b00533 & ~0xF80, MODE_M)));            // add zero, zero, a1
        assertEquals("", insnOps(one(0x4001, MODE_M)));                       // c.li zero, 0 (HINT)
        // Reads of x0 use slot 0 (the printer calls it "zero"); writes go to the discard slot.
        assertEquals("add a0, zero, a1", insnOps(one(0x00b00533, MODE_M)));
        assertEquals("ld64 _, a1", insnOps(one(0x0005b003, MODE_M)));         // ld zero, 0(a1)
        assertEquals("amo.32 _, a1, a2, 1", insnOps(one(0x00c5a02f, MODE_M))); // amoadd.w zero, a2, (a1)
        assertEquals("sc.64 _, a1, a2", insnOps(one(0x18c5b02f, MODE_M)));   // sc.d zero, a2, (a1)
        assertEquals("fp.dirty; fcvt.w.s _, fa1, rm=7", insnOps(one(0xc005f053, MODE_M)));
        assertEquals("csr _, a1, 0x3405907300000340", insnOps(one(0x34059073, MODE_M))); // csrw mscratch, a1
        assertEquals("exit 0x1010", insnOps(one(0x0100006f, MODE_M)));       // jal zero, .+16
        IrBlock j = one(0x00008067, MODE_M);                                  // jalr zero, 0(ra)
        for (int i = 0; i < j.size(); i++) {
            assertNotEquals(RiscvSlots.DISCARD, j.d(i), () -> print(j));
        }
        // No op ever writes slot 0 (the verifier rejects writes to read-only slots).
        for (int insn : new int[]{0x00001037 /* lui zero */, 0x00001017 /* auipc zero */, 0x0005a003 /* lw zero */,
                0x0000006f /* jal zero */, 0x00002073 /* csrrs zero, 0, zero */, 0x0000e073 /* csrrsi zero, 0, 1 */}) {
            IrBlock b = one(insn, MODE_M);
            assertWellFormed(b);
            for (int i = 0; i < b.size(); i++) {
                assertTrue(b.d(i) != RiscvSlots.X0 || Op.signature(b.op(i)).charAt(0) == '-', () -> print(b));
            }
        }
    }

    private static int count(IrBlock b, int op) {
        int n = 0;
        for (int i = 0; i < b.size(); i++) {
            n += b.op(i) == op ? 1 : 0;
        }
        return n;
    }

    private static int indexOf(IrBlock b, int op) {
        for (int i = 0; i < b.size(); i++) {
            if (b.op(i) == op) {
                return i;
            }
        }
        return -1;
    }
}
