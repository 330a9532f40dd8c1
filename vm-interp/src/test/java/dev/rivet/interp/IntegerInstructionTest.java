package dev.rivet.interp;

import dev.rivet.core.riscv.Cause;
import dev.rivet.core.riscv.Hart;
import dev.rivet.ir.riscv.RiscvAssembler;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static dev.rivet.ir.riscv.RiscvAssembler.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * One integer instruction at a time through the decoder and the interpreter: load the
 * operands into a1/a2, execute, read a0. Expected values are worked out by hand from the
 * unprivileged spec (comments give the reasoning where it is not obvious). Encodings of the
 * bit-manipulation instructions come from binutils 2.40 with rd=a0, rs1=a1, rs2=a2.
 */
class IntegerInstructionTest {
    static final int A0 = 10, A1 = 11, A2 = 12;
    static final long MIN = Long.MIN_VALUE, MAX = Long.MAX_VALUE;

    static Stream<Arguments> cases() {
        return Stream.of(
                arguments("add", add(A0, A1, A2), 1L, 2L, 3L),
                arguments("add wraps", add(A0, A1, A2), MAX, 1L, MIN),
                arguments("sub", sub(A0, A1, A2), 0L, 1L, -1L),
                arguments("sll by 63", sll(A0, A1, A2), 1L, 63L, MIN),
                arguments("sll uses low 6 bits", sll(A0, A1, A2), 1L, 64L, 1L),
                arguments("srl", srl(A0, A1, A2), -1L, 60L, 0xFL),
                arguments("sra", sra(A0, A1, A2), -16L, 2L, -4L),
                arguments("slt signed", slt(A0, A1, A2), -1L, 0L, 1L),
                arguments("sltu unsigned", sltu(A0, A1, A2), -1L, 0L, 0L),
                arguments("xor", xor(A0, A1, A2), 0xF0L, 0xFFL, 0x0FL),
                arguments("or", or(A0, A1, A2), 0xF0L, 0x0FL, 0xFFL),
                arguments("and", and(A0, A1, A2), 0xF0L, 0x3CL, 0x30L),
                // (-2^63)^2 = 2^126: high 64 bits are 2^62.
                arguments("mulh min*min", mulh(A0, A1, A2), MIN, MIN, 0x4000_0000_0000_0000L),
                // (2^64-1)^2 = 2^128 - 2^65 + 1: high part 2^64 - 2.
                arguments("mulhu max*max", mulhu(A0, A1, A2), -1L, -1L, 0xFFFF_FFFF_FFFF_FFFEL),
                // -1 * (2^64-1) = -2^64 + 1: high part -1.
                arguments("mulhsu -1*(2^64-1)", mulhsu(A0, A1, A2), -1L, -1L, -1L),
                // 2 * (2^64-1) = 2^65 - 2: high part 1.
                arguments("mulhsu 2*(2^64-1)", mulhsu(A0, A1, A2), 2L, -1L, 1L),
                arguments("mul low", mul(A0, A1, A2), 0x1_0000_0001L, 0x1_0000_0001L, 0x2_0000_0001L),
                arguments("div truncates", div(A0, A1, A2), -7L, 2L, -3L),
                arguments("div by zero", div(A0, A1, A2), 42L, 0L, -1L),
                arguments("div overflow", div(A0, A1, A2), MIN, -1L, MIN),
                arguments("divu", divu(A0, A1, A2), -1L, 2L, MAX),
                arguments("divu by zero", divu(A0, A1, A2), 5L, 0L, -1L),
                arguments("rem sign follows dividend", rem(A0, A1, A2), -7L, 2L, -1L),
                arguments("rem by zero", rem(A0, A1, A2), -7L, 0L, -7L),
                arguments("rem overflow", rem(A0, A1, A2), MIN, -1L, 0L),
                arguments("remu by zero", remu(A0, A1, A2), 5L, 0L, 5L),
                arguments("addw sign-extends", addw(A0, A1, A2), 0x7FFF_FFFFL, 1L, 0xFFFF_FFFF_8000_0000L),
                arguments("addw ignores upper bits", addw(A0, A1, A2), 0x1234_0000_0001L, 1L, 2L),
                arguments("subw", subw(A0, A1, A2), 0L, 1L, -1L),
                arguments("sllw 31", sllw(A0, A1, A2), 1L, 31L, 0xFFFF_FFFF_8000_0000L),
                arguments("sllw uses low 5 bits", sllw(A0, A1, A2), 1L, 32L, 1L),
                arguments("srlw", srlw(A0, A1, A2), 0xFFFF_FFFF_8000_0000L, 4L, 0x0800_0000L),
                arguments("srlw by 0 sign-extends", srlw(A0, A1, A2), 0x8000_0000L, 0L, 0xFFFF_FFFF_8000_0000L),
                arguments("sraw", sraw(A0, A1, A2), 0x8000_0000L, 4L, 0xFFFF_FFFF_F800_0000L),
                arguments("mulw", mulw(A0, A1, A2), 0x10000L, 0x10000L, 0L),
                arguments("mulw sign", mulw(A0, A1, A2), 0x10000L, 0x8000L, 0xFFFF_FFFF_8000_0000L),
                arguments("divw overflow", divw(A0, A1, A2), 0x8000_0000L, -1L, 0xFFFF_FFFF_8000_0000L),
                arguments("divw by zero", divw(A0, A1, A2), 9L, 0L, -1L),
                arguments("divuw", divuw(A0, A1, A2), 0xFFFF_FFFFL, 1L, -1L),
                arguments("remw by zero", remw(A0, A1, A2), -7L, 0L, -7L),
                arguments("remuw by zero", remuw(A0, A1, A2), 0x8000_0007L, 0L, 0xFFFF_FFFF_8000_0007L),
                arguments("addi negative", addi(A0, A1, -2048), 0L, 0L, -2048L),
                arguments("slti", slti(A0, A1, -1), -2L, 0L, 1L),
                arguments("sltiu against sign-extended -1", sltiu(A0, A1, -1), 5L, 0L, 1L),
                arguments("xori -1 is not", xori(A0, A1, -1), 0x0FL, 0L, ~0x0FL),
                arguments("srai 63", srai(A0, A1, 63), MIN, 0L, -1L),
                arguments("srli 63", srli(A0, A1, 63), MIN, 0L, 1L),
                arguments("slli 32", slli(A0, A1, 32), 0x1234L, 0L, 0x1234_0000_0000L),
                arguments("addiw wraps", addiw(A0, A1, 1), 0x7FFF_FFFFL, 0L, 0xFFFF_FFFF_8000_0000L),
                arguments("slliw", slliw(A0, A1, 4), 0x0800_0000L, 0L, 0xFFFF_FFFF_8000_0000L),
                arguments("srliw", srliw(A0, A1, 4), -1L, 0L, 0x0FFF_FFFFL),
                arguments("sraiw", sraiw(A0, A1, 4), 0x8000_0000L, 0L, 0xFFFF_FFFF_F800_0000L),
                arguments("lui sign-extends", lui(A0, 0x80000), 0L, 0L, 0xFFFF_FFFF_8000_0000L),
                // Zba
                arguments("sh1add", 0x20c5a533, 3L, 100L, 106L),
                arguments("sh2add", 0x20c5c533, 3L, 100L, 112L),
                arguments("sh3add", 0x20c5e533, 3L, 100L, 124L),
                arguments("add.uw", 0x08c5853b, 0xFFFF_FFFF_FFFF_FFFFL, 1L, 0x1_0000_0000L),
                arguments("sh1add.uw", 0x20c5a53b, 0xF_8000_0000L, 1L, 0x1_0000_0001L),
                arguments("slli.uw 5", 0x0855951b, 0xFFFF_FFFF_FFFF_FFFFL, 0L, 0x1F_FFFF_FFE0L),
                // Zbb
                arguments("andn", 0x40c5f533, 0xFFL, 0x0FL, 0xF0L),
                arguments("orn", 0x40c5e533, 0L, -2L, 1L),
                arguments("xnor", 0x40c5c533, 0xFFL, 0x0FL, ~0xF0L),
                arguments("clz 0", 0x60059513, 0L, 0L, 64L),
                arguments("clz 1", 0x60059513, 1L, 0L, 63L),
                arguments("ctz 0", 0x60159513, 0L, 0L, 64L),
                arguments("ctz 8", 0x60159513, 8L, 0L, 3L),
                arguments("cpop -1", 0x60259513, -1L, 0L, 64L),
                arguments("clzw ignores upper", 0x6005951b, 0xFFFF_0000_0000_0001L, 0L, 31L),
                arguments("ctzw 0", 0x6015951b, 0x1_0000_0000L, 0L, 32L),
                arguments("cpopw", 0x6025951b, -1L, 0L, 32L),
                arguments("max", 0x0ac5e533, -1L, 1L, 1L),
                arguments("maxu", 0x0ac5f533, -1L, 1L, -1L),
                arguments("min", 0x0ac5c533, -1L, 1L, -1L),
                arguments("minu", 0x0ac5d533, -1L, 1L, 1L),
                arguments("sext.b", 0x60459513, 0x80L, 0L, -128L),
                arguments("sext.h", 0x60559513, 0x1_8000L, 0L, -32768L),
                arguments("zext.h", 0x0805c53b, -1L, 0L, 0xFFFFL),
                arguments("rol", 0x60c59533, MIN | 1, 1L, 3L),
                arguments("ror", 0x60c5d533, 3L, 1L, MIN | 1),
                arguments("rori 5", 0x6055d513, 0x20L, 0L, 1L),
                arguments("rolw", 0x60c5953b, 0x8000_0001L, 1L, 3L),
                arguments("rorw sign-extends", 0x60c5d53b, 1L, 1L, 0xFFFF_FFFF_8000_0000L),
                arguments("roriw 5", 0x6055d51b, 0x1FL, 0L, 0xFFFF_FFFF_F800_0000L),
                arguments("orc.b", 0x2875d513, 0x0100_8000_0000_0010L, 0L, 0xFF00_FF00_0000_00FFL),
                arguments("rev8", 0x6b85d513, 0x0102_0304_0506_0708L, 0L, 0x0807_0605_0403_0201L),
                // Zbs
                arguments("bclr", 0x48c59533, -1L, 63L, MAX),
                arguments("bext", 0x48c5d533, 0x10L, 4L, 1L),
                arguments("binv uses low 6 bits", 0x68c59533, 0L, 65L, 2L),
                arguments("bset", 0x28c59533, 0L, 40L, 1L << 40),
                arguments("bclri 5", 0x48559513, 0xFFL, 0L, 0xDFL),
                arguments("bexti 5", 0x4855d513, 0x20L, 0L, 1L),
                arguments("binvi 5", 0x68559513, 0x20L, 0L, 0L),
                arguments("bseti 5", 0x28559513, 0L, 0L, 0x20L),
                // Zicond: funct7 0000111, funct3 101 (eqz) / 111 (nez).
                arguments("czero.eqz keeps", 0x0ec5d533, 7L, 1L, 7L),
                arguments("czero.eqz zeroes", 0x0ec5d533, 7L, 0L, 0L),
                arguments("czero.nez zeroes", 0x0ec5f533, 7L, 1L, 0L),
                arguments("czero.nez keeps", 0x0ec5f533, 7L, 0L, 7L));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void computes(String name, int insn, long a, long b, long expected) {
        try (GuestHarness g = new GuestHarness()) {
            RiscvAssembler asm = new RiscvAssembler().li(A1, a).li(A2, b).emit(insn);
            Hart h = g.run(asm);
            assertEquals(Cause.BREAKPOINT, h.mcause, "ran to the final ebreak");
            assertEquals(GuestHarness.endOf(asm), h.mepc);
            assertEquals(expected, h.x(A0), () -> String.format("%s(0x%x, 0x%x) = 0x%x, expected 0x%x",
                    name, a, b, h.x(A0), expected));
        }
    }
}
