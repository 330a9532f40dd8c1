package dev.rivet.ir.riscv;

import dev.rivet.core.riscv.Hart;
import dev.rivet.ir.IrBlock;
import dev.rivet.ir.IrPrinter;
import dev.rivet.ir.Op;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.rivet.ir.riscv.Blocks.*;
import static org.junit.jupiter.api.Assertions.*;

/** Hand-assembled instructions (encodings cross-checked with riscv64-unknown-elf-as) and their exact IR. */
class RiscvDecoderGoldenTest {
    private static final int FS_OFF = Hart.MODE_FS_OFF;

    @Test
    void mixedBlockWithCompressedAndJal() {
        IrBlock b = DEC.decode(0x80000000L, 0x1000, MODE_M, code(0x80000000L,
                0x00001117,  // auipc sp, 0x1
                0x1141,      // c.addi sp, -16
                0xe406,      // c.sdsp ra, 8(sp)
                0x4515,      // c.li a0, 5
                0x100000ef,  // jal ra, .+0x100
                0x00000013)); // not reached: the jal ends the block
        assertWellFormed(b);
        assertEquals("""
                block pc=0x80000000 phys=0x1000 mode=3 insns=5 bytes=14
                    0 [0x80000000] movi sp, 0x80001000
                    1 [0x80000004] addi sp, sp, -16
                    2 [0x80000006] st64 sp, ra, 8
                    3 [0x80000008] addi a0, zero, 5
                    4 [0x8000000a] movi ra, 0x8000000e
                    5 [0x8000000a] exit 0x8000010a
                """, print(b));
    }

    @Test
    void floatingPointBlockMarksFpDirtyOnce() {
        IrBlock b = DEC.decode(0x2000, 0x2000, MODE_S, code(0x2000,
                0xe0050553,  // fmv.x.w a0, fa0        (reads only: no fp.dirty yet)
                0x00c5f553,  // fadd.s fa0, fa1, fa2
                0x02c5f5d3,  // fadd.d fa1, fa1, fa2
                0xa02a,      // c.fsdsp fa0, 0(sp)
                0x1a208043,  // fmadd.d ft0, ft1, ft2, ft3, rne
                0x2588,      // c.fld fa0, 8(a1)
                0x2002,      // c.fldsp ft0, 0(sp)
                0x8082));    // c.jr ra
        assertWellFormed(b);
        assertEquals("""
                block pc=0x2000 phys=0x2000 mode=1 insns=8 bytes=24
                    0 [0x2000] fmv.x.w a0, fa0
                    1 [0x2004] fp.dirty
                    2 [0x2004] fadd.s fa0, fa1, fa2, rm=7
                    3 [0x2008] fadd.d fa1, fa1, fa2, rm=7
                    4 [0x200c] fst64 sp, fa0
                    5 [0x200e] fmadd.d ft0, ft1, ft2, ft3, rm=0
                    6 [0x2012] fld64 fa0, a1, 8
                    7 [0x2014] fld64 ft0, sp
                    8 [0x2016] addi %0, ra
                    9 [0x2016] andi %0, %0, -2
                   10 [0x2016] exit.ind %0
                """, print(b));
    }

    @Test
    void x0DestinationsAndCsrEndTheBlock() {
        IrBlock b = DEC.decode(0x3000, 0x3000, MODE_S, code(0x3000,
                0x0001,      // c.nop: no op, still an instruction
                0x00a00013,  // addi zero, zero, 10 (HINT): dropped
                0x0005a003,  // lw zero, 0(a1): kept (it may fault)
                0x1005a073,  // csrrs zero, sstatus, a1: ends the block
                0x00000013));
        assertWellFormed(b);
        assertEquals("""
                block pc=0x3000 phys=0x3000 mode=1 insns=4 bytes=14
                    0 [0x3006] ld32s _, a1
                    1 [0x300a] csr _, a1, 0x1005a07300001100
                """, print(b));
    }

    @Test
    void branchesExitToTargetAndFallThrough() {
        IrBlock b = DEC.decode(0x4000, 0x4000, MODE_U, code(0x4000,
                0x4188,      // c.lw a0, 0(a1)
                0xc501,      // c.beqz a0, .+8
                0x00000013));
        assertWellFormed(b);
        assertEquals("""
                block pc=0x4000 phys=0x4000 mode=0 insns=2 bytes=4
                    0 [0x4000] ld32s a0, a1
                    1 [0x4002] br.eq a0, zero, 0x400a
                    2 [0x4002] exit 0x4004
                """, print(b));
        IrBlock back = one(0xfeb50ce3, MODE_U); // beq a0, a1, .-8
        assertEquals("br.eq a0, a1, 4088; exit 0x1004", String.join("; ", ops(back)));
    }

    @Test
    void jalrComputesTheTargetBeforeWritingRd() {
        assertEquals("addi %0, a0, 4; andi %0, %0, -2; movi a0, 0x1004; exit.ind %0",
                insnOps(one(0x00450567, MODE_M)));   // jalr a0, 4(a0)
        assertEquals("addi %0, a0; andi %0, %0, -2; movi ra, 0x1002; exit.ind %0",
                insnOps(one(0x9502, MODE_M)));       // c.jalr a0
    }

    @Test
    void systemInstructionsDependOnPrivilege() {
        int ecall = 0x00000073, mret = 0x30200073, sret = 0x10200073, wfi = 0x10500073, sfence = 0x12b50073;
        assertEquals("trap 8", insnOps(one(ecall, MODE_U)));
        assertEquals("trap 9", insnOps(one(ecall, MODE_S)));
        assertEquals("trap 11", insnOps(one(ecall, MODE_M)));
        assertEquals("mret", insnOps(one(mret, MODE_M)));
        assertIllegal(mret, MODE_S);
        assertIllegal(mret, MODE_U);
        assertEquals("sret", insnOps(one(sret, MODE_S)));
        assertEquals("sret", insnOps(one(sret, MODE_M)));
        assertIllegal(sret, MODE_U);
        assertEquals("wfi", insnOps(one(wfi, MODE_S)));
        assertIllegal(wfi, MODE_U);
        assertEquals("sfence.vma a0, a1", insnOps(one(sfence, MODE_S)));
        assertIllegal(sfence, MODE_U);
        // None of them is followed by an exit: the op ends the block.
        for (int insn : new int[]{mret, sret, wfi, sfence, 0x0000100f /* fence.i */}) {
            IrBlock b = DEC.decode(PC, PC, MODE_M, code(PC, insn, 0x00000013));
            assertEquals(1, b.insnCount);
            assertEquals(1, b.size(), () -> print(b));
            assertTrue(Op.is(b.op(0), Op.F_ENDS_BLOCK));
        }
    }

    @Test
    void ebreakReportsItsPcAsTval() {
        long pc = 0xffffffff80001234L;
        IrBlock b = DEC.decode(pc, 0x1234, MODE_S, code(pc, 0x00100073)); // ebreak
        assertEquals(1, b.size());
        assertEquals(Op.TRAP, b.op(0));
        assertEquals(3, trapCause(b, 0));
        assertEquals(pc, trapTval(b, 0));
        IrBlock c = DEC.decode(pc + 2, 0x1236, MODE_S, code(pc + 2, 0x9002)); // c.ebreak
        assertEquals(3, trapCause(c, 0));
        assertEquals(pc + 2, trapTval(c, 0));
    }

    @Test
    void reservedFieldsAreIllegal() {
        int[] illegal = {
                0xffffffff,  // opcode 1111111 (longer formats)
                0x0205951b,  // slliw with imm[5] = 1
                0x0205d51b,  // srliw with imm[5] = 1
                0x4205d51b,  // sraiw with imm[5] = 1
                0x0005f503,  // load funct3 7
                0x00a5c023,  // store funct3 4
                0x04c58533,  // OP funct7 0000010
                0x00b52063,  // branch funct3 2
                0x000590e7,  // jalr funct3 1
                0x00c5d553,  // fadd.s rm = 5
                0x00c5e553,  // fadd.s rm = 6
                0x1a20d043,  // fmadd.d rm = 5
                0x5815f553,  // fsqrt.s rs2 = 1
                0xe0052553,  // fmv.x.w funct3 2
                0xf0059553,  // fmv.w.x funct3 1
                0xe0159553,  // fclass.s rs2 = 1
                0xc045f553,  // fcvt.w.s rs2 = 4
                0x4005f553,  // fcvt.s.s (rs2 = 0 with fmt S)
                0x04c5f553,  // fadd.h (fmt 10)
                0x06c5f553,  // fadd.q (fmt 11)
                0x00459507,  // flh (LOAD-FP funct3 1)
                0x1015a52f,  // lr.w with rs2 = 1
                0x00c5852f,  // amoadd.b (AMO funct3 0)
                0x28c5a52f,  // amocas.w (funct5 00101)
                0x00000573,  // ecall with rd = 10
                0x00004073,  // SYSTEM funct3 4
                0x12b50573,  // sfence.vma with rd != 0
                0x08c5c53b,  // packw (OP-32 funct7 0000100 funct3 4, rs2 != 0)
                0x0805c533,  // zext.h in its RV32 encoding (OP, not OP-32)
                0x6985d513,  // rev8 in its RV32 encoding
                0x2885d513,  // orc.b with the wrong imm
                0x60359513,  // OP-IMM funct7 0110000 rs2 3
                0x6035951b,  // OP-IMM-32 funct7 0110000 rs2 3
                0x00000057,  // OP-V
                0x0000200f,  // MISC-MEM funct3 2 (Zicbom: not implemented)
                0x0ec5c533,  // czero with funct3 4
        };
        for (int insn : illegal) {
            assertIllegal(insn, MODE_M);
        }
        // A 6-bit shamt is legal in RV64 slli/srli/srai.
        assertEquals("shli a0, a1, 32", insnOps(one(0x02059513, MODE_M)));
        assertEquals("sari a0, a1, 63", insnOps(one(0x43f5d513, MODE_M)));
    }

    @Test
    void reservedCompressedEncodingsAreIllegal() {
        int[] illegal = {
                0x0000,  // all-zero parcel
                0x0004,  // c.addi4spn with nzuimm = 0
                0x4002,  // c.lwsp with rd = 0
                0x6002,  // c.ldsp with rd = 0
                0x8002,  // c.jr with rs1 = 0
                0x6101,  // c.addi16sp with nzimm = 0
                0x6501,  // c.lui a0, 0
                0x6001,  // c.lui zero, 0
                0x2001,  // c.addiw with rd = 0
                0x8000,  // quadrant 0 funct3 100
                0x9c41,  // quadrant 1 reserved (Zcb c.mul)
                0x9c61,  // quadrant 1 reserved
        };
        for (int insn : illegal) {
            assertIllegal(insn, MODE_M);
        }
    }

    @Test
    void hintsAreNoOps() {
        int[] hints = {
                0x0001,      // c.nop
                0x0005,      // c.nop with imm 1
                0x0501,      // c.addi a0, 0
                0x4015,      // c.li zero, 5
                0x6005,      // c.lui zero, 1
                0x802a,      // c.mv zero, a0
                0x902a,      // c.add zero, a0
                0x0006,      // c.slli zero, 1
                0x0502,      // c.slli a0, 0
                0x8101,      // c.srli s1, 0
                0x8501,      // c.srai s1, 0
                0x00a00013,  // addi zero, zero, 10
                0x12345037,  // lui zero, 0x12345
                0x0100000f,  // pause
                0x8330000f,  // fence.tso
                0xff05828f,  // fence with rs1/rd and reserved fm: a normal fence
        };
        for (int insn : hints) {
            IrBlock b = one(insn, MODE_M);
            assertWellFormed(b);
            assertEquals(1, b.insnCount);
            assertEquals("", insnOps(b), () -> Integer.toHexString(insn) + "\n" + print(b));
            assertEquals(1, b.size());
            assertEquals(Op.EXIT, b.op(0));
            assertEquals(PC + length(insn), b.imm(0));
        }
    }

    @Test
    void fpuOffMakesEveryFpInstructionIllegal() {
        int[] fp = {
                0x00412507,  // flw fa0, 4(sp)
                0x00a13027,  // fsd fa0, 0(sp)
                0x00c5f553,  // fadd.s
                0x1a208043,  // fmadd.d
                0xe0050553,  // fmv.x.w
                0xf0058553,  // fmv.w.x
                0xe2059553,  // fclass.d
                0xa2c58553,  // fle.d
                0x2588,      // c.fld fa0, 8(a1)
                0xa822,      // c.fsdsp fs0, 16(sp)
                0x2002,      // c.fldsp ft0, 0(sp)
                0xa188,      // c.fsd fa0, 0(a1)
        };
        for (int insn : fp) {
            assertFalse(isIllegal(one(insn, MODE_S)), Integer.toHexString(insn));
            assertIllegal(insn, MODE_S | FS_OFF);
            assertIllegal(insn, MODE_M | FS_OFF);
        }
        // Integer instructions are unaffected.
        assertEquals("add a0, a1, a2", insnOps(one(0x00c58533, MODE_S | FS_OFF)));
    }

    private static void assertIllegal(int insn, int mode) {
        IrBlock b = one(insn, mode);
        assertWellFormed(b);
        long bits = length(insn) == 2 ? insn & 0xFFFF : insn & 0xFFFFFFFFL;
        assertEquals(1, b.size(), () -> "expected a lone TRAP for " + Long.toHexString(bits) + " in mode " + mode + ":\n" + print(b));
        assertEquals(Op.TRAP, b.op(0));
        assertEquals(2, trapCause(b, 0), () -> Long.toHexString(bits));
        assertEquals(bits, trapTval(b, 0), () -> Long.toHexString(bits));
        assertEquals(1, b.insnCount);
    }

    private static List<String> ops(IrBlock b) {
        List<String> l = new ArrayList<>();
        for (int i = 0; i < b.size(); i++) {
            l.add(IrPrinter.op(b, i, RiscvSlots.INSTANCE));
        }
        return l;
    }
}
