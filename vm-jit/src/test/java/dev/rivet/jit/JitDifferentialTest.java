package dev.rivet.jit;

import dev.rivet.core.riscv.Hart;
import dev.rivet.ir.riscv.RiscvAssembler;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static dev.rivet.ir.riscv.RiscvAssembler.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Seeded differential test: random RV64GC code (a loop with forward branches and jumps
 * inside; integer, bitmanip, F/D arithmetic in every rounding mode with a sometimes invalid
 * frm, LR/SC and AMOs; misaligned and faulting accesses; stores that rewrite the loop's own
 * code) runs on the interpreter and on the interpreter with
 * every compilable region JIT-compiled from its first execution. Both run the same random
 * numbers of instructions at a time (the JIT's regions must stop at the same block
 * boundaries the interpreter stops at); after every step the register file (integer and
 * FP), fflags, pc, instret and trap CSRs must agree, and at the end the data memory. The trap
 * handler (interpreted: it uses CSRs) skips the faulting instruction, so one program takes
 * many faults.
 */
class JitDifferentialTest {
    static final int PROGRAMS = Integer.getInteger("rivet.jit.programs", 1000);
    /**
     * {@code -Drivet.seed=N} (or {@code random}) explores other programs; a failure names
     * the seed of the program that shows it.
     */
    static final long SEED = baseSeed();

    static long baseSeed() {
        String s = System.getProperty("rivet.seed");
        if (s == null || s.isBlank()) {
            return 0x5EED_0001L;
        }
        return s.equals("random") ? new SplittableRandom().nextLong() : Long.decode(s);
    }
    private static final int OP = 0x33, OP_32 = 0x3B, OP_IMM = 0x13, OP_IMM_32 = 0x1B;
    /**
     * Reserved registers: an instruction word and the code base (for self-modifying
     * stores), loop counter, trap handler scratch, fault base, data base.
     */
    static final int INSN = 26, SMC = 27, LOOP = 28, HANDLER = 29, BAD = 30, BASE = 31;

    @Test
    void jitMatchesTheInterpreterBlockByBlock() {
        long compiled = 0, rejected = 0, steps = 0;
        for (int p = 0; p < PROGRAMS; p++) {
            long seed = SEED + p;
            long[] r = run(seed);
            compiled += r[0];
            rejected += r[1];
            steps += r[2];
        }
        // The test is only meaningful if most blocks really ran compiled.
        assertTrue(compiled > PROGRAMS * 5L, "compiled " + compiled);
        System.out.printf("jit differential: %d programs, %d regions compiled, %d rejected, %d steps compared%n",
                PROGRAMS, compiled, rejected, steps);
    }

    /** Returns {compiled, rejected, steps}. */
    static long[] run(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] body = program(rnd);
        long[] init = new long[32];
        for (int k = 1; k < 32; k++) {
            init[k] = switch (rnd.nextInt(4)) {
                case 0 -> rnd.nextLong();
                case 1 -> rnd.nextInt(-16, 16);
                case 2 -> rnd.nextBoolean() ? Long.MIN_VALUE : Integer.MIN_VALUE;
                default -> rnd.nextInt();
            };
        }
        init[LOOP] = 3;
        init[HANDLER] = 0;
        init[BAD] = rnd.nextBoolean() ? 0 : 0x1000_0000_0000L;
        init[BASE] = JitHarness.DATA + 2048;
        init[SMC] = JitHarness.CODE;
        int frm = rnd.nextInt(10) == 0 ? 5 + rnd.nextInt(3) : rnd.nextInt(5); // sometimes invalid
        init[INSN] = aluInsn(rnd);
        byte[] data = new byte[4096];
        rnd.nextBytes(data);
        long[] fpInit = new long[32];
        for (int k = 0; k < 32; k++) {
            fpInit[k] = rnd.nextLong();
        }
        try (JitHarness a = new JitHarness(false); JitHarness b = new JitHarness(true)) {
            for (JitHarness h : new JitHarness[] {a, b}) {
                h.put(JitHarness.CODE, body);
                h.put(JitHarness.TRAP, csrrs(HANDLER, 0x341, 0), addi(HANDLER, HANDLER, 4), csrrw(0, 0x341, HANDLER), mret());
                h.put(JitHarness.DATA, data);
                h.hart.mstatus |= 1L << 13; // FS = Initial
                h.hart.frm = frm;
                System.arraycopy(init, 0, h.hart.regs, 0, 32);
                System.arraycopy(fpInit, 0, h.hart.regs, 32, 32);
            }
            long steps = 0;
            String where = "seed " + seed + "\n" + disassembly(body);
            while (steps < 5000 && !spinning(a.hart, body)) {
                int n = rnd.nextInt(4) == 0 ? 1 : rnd.nextInt(1, 100);
                a.interp.run(n);
                b.interp.run(n);
                steps++;
                final long step = steps;
                assertEquals(a.hart.pc, b.hart.pc, () -> "pc after step " + step + ", " + where);
                assertEquals(a.hart.instret, b.hart.instret, () -> "instret after step " + step + ", " + where);
                if (!Arrays.equals(a.architecturalRegs(), b.architecturalRegs())) {
                    fail("registers after step " + step + " (pc " + Long.toHexString(a.hart.pc) + "): "
                            + diff(a.architecturalRegs(), b.architecturalRegs()) + ", " + where);
                }
                assertEquals(a.hart.mcause, b.hart.mcause, () -> "mcause, " + where);
                assertEquals(a.hart.mepc, b.hart.mepc, () -> "mepc, " + where);
                assertEquals(a.hart.mtval, b.hart.mtval, () -> "mtval, " + where);
                assertEquals(a.hart.mstatus, b.hart.mstatus, () -> "mstatus, " + where);
                assertEquals(a.hart.fp.flags, b.hart.fp.flags, () -> "fflags, " + where);
            }
            for (long off = 0x10000 - 4096; off < 0x10000 + 8192; off += 8) {
                final long o = off;
                assertEquals(a.ram.read(off, 8), b.ram.read(off, 8), () -> "memory at +" + Long.toHexString(o) + ", " + where);
            }
            return new long[] {b.jit.compiledBlocks(), b.jit.rejectedBlocks(), steps};
        }
    }

    private static boolean spinning(Hart h, int[] body) {
        return h.pc == JitHarness.CODE + 4L * (body.length - 1);
    }

    private static String diff(long[] x, long[] y) {
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < x.length; k++) {
            if (x[k] != y[k]) {
                sb.append(String.format("slot %d: interp %x jit %x; ", k, x[k], y[k]));
            }
        }
        return sb.toString();
    }

    private static String disassembly(int[] body) {
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < body.length; k++) {
            sb.append(String.format("  %08x: %08x%n", JitHarness.CODE + 4L * k, body[k]));
        }
        return sb.toString();
    }

    /**
     * {@code loop: addi LOOP,-1; <random>; bne LOOP,x0,loop; spin}. In a third of the
     * programs the body stores the word in {@link #INSN} (an ALU instruction) over one of its
     * own instructions, which both tiers must notice at the next block boundary.
     */
    static int[] program(SplittableRandom rnd) {
        int n = rnd.nextInt(10, 120);
        int[] code = new int[n + 3];
        code[0] = addi(LOOP, LOOP, -1);
        for (int k = 1; k <= n; k++) {
            int remaining = n - k; // instructions after this one before the loop branch
            code[k] = insn(rnd, remaining);
        }
        if (rnd.nextInt(3) == 0) {
            // Every store to the code page drops all of its translations, so one per program is plenty.
            code[rnd.nextInt(1, n + 1)] = sw(INSN, SMC, 4 * rnd.nextInt(n + 2));
        }
        code[n + 1] = bne(LOOP, 0, -4 * (n + 1));
        code[n + 2] = jal(0, 0);
        return code;
    }

    private static int reg(SplittableRandom rnd) {
        return rnd.nextInt(10) == 0 ? 0 : rnd.nextInt(1, INSN); // x0 now and then, never a reserved one
    }

    private static final int OP_FP = 0x53;
    /** A rounding mode: the five static ones, the dynamic one (frm is random, sometimes invalid), rarely a reserved one. */
    private static int rm(SplittableRandom rnd) {
        int k = rnd.nextInt(20);
        return k < 12 ? k % 5 : k < 19 ? 7 : 5 + rnd.nextInt(2);
    }

    /** A random F/D instruction (arithmetic, FMA, sign injection, min/max, compares, conversions, moves). */
    static int fpInsn(SplittableRandom rnd) {
        int fd = rnd.nextInt(32), fa = rnd.nextInt(32), fb = rnd.nextInt(32), fc = rnd.nextInt(32);
        int dbl = rnd.nextInt(2), xd = reg(rnd), xa = src(rnd);
        return switch (rnd.nextInt(14)) {
            case 0, 1, 2 -> RiscvAssembler.r(OP_FP, fd, rm(rnd), fa, fb, 4 * rnd.nextInt(4) + dbl);  // add sub mul div
            case 3 -> RiscvAssembler.r(OP_FP, fd, rm(rnd), fa, 0, 0x2C + dbl);                      // sqrt
            case 4 -> RiscvAssembler.r(OP_FP, fd, rnd.nextInt(3), fa, fb, 0x10 + dbl);              // sgnj[n|x]
            case 5 -> RiscvAssembler.r(OP_FP, fd, rnd.nextInt(2), fa, fb, 0x14 + dbl);              // min max
            case 6 -> RiscvAssembler.r(OP_FP, xd, rnd.nextInt(3), fa, fb, 0x50 + dbl);              // fle flt feq
            case 7 -> RiscvAssembler.r(OP_FP, xd, rm(rnd), fa, rnd.nextInt(4), 0x60 + dbl);         // fcvt.[w|wu|l|lu].fmt
            case 8 -> RiscvAssembler.r(OP_FP, fd, rm(rnd), xa, rnd.nextInt(4), 0x68 + dbl);         // fcvt.fmt.[w|wu|l|lu]
            case 9 -> dbl == 0 ? RiscvAssembler.r(OP_FP, fd, rm(rnd), fa, 1, 0x20)                  // fcvt.s.d
                    : RiscvAssembler.r(OP_FP, fd, rm(rnd), fa, 0, 0x21);                            // fcvt.d.s
            case 10 -> RiscvAssembler.r(OP_FP, xd, rnd.nextInt(2), fa, 0, 0x70 + dbl);              // fmv.x.fmt, fclass
            case 11 -> RiscvAssembler.r(OP_FP, fd, 0, xa, 0, 0x78 + dbl);                           // fmv.fmt.x
            default -> (0x43 + 4 * rnd.nextInt(4)) | fd << 7 | rm(rnd) << 12 | fa << 15 | fb << 20   // fmadd fmsub
                    | dbl << 25 | fc << 27;                                                         // fnmsub fnmadd
        };
    }

    /** LR/SC and AMOs on the data base (aligned), the fault base, or a misaligned address. */
    static int atomicInsn(SplittableRandom rnd) {
        int addr = switch (rnd.nextInt(8)) {
            case 0 -> BAD;
            case 1 -> INSN; // an instruction word: almost never aligned RAM
            default -> BASE;
        };
        int d = reg(rnd), src = src(rnd);
        boolean dword = rnd.nextBoolean();
        int[] f5 = {0x00, 0x01, 0x04, 0x0C, 0x08, 0x10, 0x14, 0x18, 0x1C, 0x02, 0x03, 0x03};
        int op = f5[rnd.nextInt(f5.length)];
        return RiscvAssembler.amo(op, dword, d, addr, op == 0x02 ? 0 : src);
    }

    /** An ALU instruction on unreserved registers: what self-modifying stores write. */
    private static int aluInsn(SplittableRandom rnd) {
        int d = reg(rnd), a = reg(rnd), b = reg(rnd), imm = rnd.nextInt(-2048, 2048);
        return switch (rnd.nextInt(5)) {
            case 0 -> addi(d, a, imm);
            case 1 -> xori(d, a, imm);
            case 2 -> add(d, a, b);
            case 3 -> sub(d, a, b);
            default -> slli(d, a, rnd.nextInt(64));
        };
    }

    private static int src(SplittableRandom rnd) {
        return rnd.nextInt(32);
    }

    static int insn(SplittableRandom rnd, int remaining) {
        int d = reg(rnd), a = src(rnd), b = src(rnd);
        int kind = rnd.nextInt(100);
        if (kind < 12) {
            return fpInsn(rnd);
        }
        if (kind < 16) {
            return atomicInsn(rnd);
        }
        int k = rnd.nextInt(100);
        if (k < 30) {
            int[][] rr = {{0, 0}, {0, 0x20}, {1, 0}, {2, 0}, {3, 0}, {4, 0}, {5, 0}, {5, 0x20}, {6, 0}, {7, 0},
                    {0, 1}, {1, 1}, {2, 1}, {3, 1}, {4, 1}, {5, 1}, {6, 1}, {7, 1},
                    // Zba/Zbb/Zbs/Zicond
                    {2, 0x10}, {4, 0x10}, {6, 0x10}, {7, 0x20}, {6, 0x20}, {4, 0x20}, {4, 0x05}, {5, 0x05},
                    {6, 0x05}, {7, 0x05}, {1, 0x30}, {5, 0x30}, {1, 0x24}, {5, 0x24}, {1, 0x34}, {1, 0x14},
                    {5, 0x07}, {7, 0x07}};
            int[] f = rr[rnd.nextInt(rr.length)];
            return RiscvAssembler.r(OP, d, f[0], a, b, f[1]);
        }
        if (k < 42) {
            int[][] rr = {{0, 0}, {0, 0x20}, {1, 0}, {5, 0}, {5, 0x20}, {0, 1}, {4, 1}, {5, 1}, {6, 1}, {7, 1},
                    {0, 0x04}, {2, 0x10}, {4, 0x10}, {6, 0x10}, {1, 0x30}, {5, 0x30}};
            int[] f = rr[rnd.nextInt(rr.length)];
            return RiscvAssembler.r(OP_32, d, f[0], a, b, f[1]);
        }
        if (k < 45) {
            return RiscvAssembler.r(OP_32, d, 4, a, 0, 0x04); // zext.h
        }
        if (k < 60) {
            int imm = rnd.nextInt(-2048, 2048), sh = rnd.nextInt(64), sh5 = rnd.nextInt(32);
            return switch (rnd.nextInt(30)) {
                case 0, 1, 2 -> addi(d, a, imm);
                case 3 -> slti(d, a, imm);
                case 4 -> sltiu(d, a, imm);
                case 5 -> xori(d, a, imm);
                case 6 -> ori(d, a, imm);
                case 7 -> andi(d, a, imm);
                case 8 -> slli(d, a, sh);
                case 9 -> srli(d, a, sh);
                case 10 -> srai(d, a, sh);
                case 11 -> addiw(d, a, imm);
                case 12 -> slliw(d, a, sh5);
                case 13 -> srliw(d, a, sh5);
                case 14 -> sraiw(d, a, sh5);
                case 15 -> lui(d, rnd.nextInt(1 << 20));
                case 16 -> auipc(d, rnd.nextInt(1 << 20));
                case 17 -> RiscvAssembler.i(OP_IMM, d, 1, a, 0x600 + rnd.nextInt(3));   // clz/ctz/cpop
                case 18 -> RiscvAssembler.i(OP_IMM_32, d, 1, a, 0x600 + rnd.nextInt(3)); // clzw/ctzw/cpopw
                case 19 -> RiscvAssembler.i(OP_IMM, d, 1, a, 0x604 + rnd.nextInt(2));   // sext.b/h
                case 20 -> RiscvAssembler.i(OP_IMM, d, 5, a, 0x6B8);                    // rev8
                case 21 -> RiscvAssembler.i(OP_IMM, d, 5, a, 0x287);                    // orc.b
                case 22 -> RiscvAssembler.i(OP_IMM, d, 5, a, 0x600 | sh);               // rori
                case 23 -> RiscvAssembler.i(OP_IMM_32, d, 5, a, 0x600 | sh5);           // roriw
                case 24 -> RiscvAssembler.i(OP_IMM, d, 1, a, 0x480 | sh);               // bclri
                case 25 -> RiscvAssembler.i(OP_IMM, d, 5, a, 0x480 | sh);               // bexti
                case 26 -> RiscvAssembler.i(OP_IMM, d, 1, a, 0x680 | sh);               // binvi
                case 27 -> RiscvAssembler.i(OP_IMM, d, 1, a, 0x280 | sh);               // bseti
                case 28 -> RiscvAssembler.i(OP_IMM_32, d, 1, a, 0x080 | sh);            // slli.uw
                default -> lui(d, rnd.nextInt(1 << 20));
            };
        }
        if (k < 88) {
            // Memory: mostly off the data base (random alignment), sometimes off the faulting base.
            int base = rnd.nextInt(12) == 0 ? BAD : BASE;
            int off = rnd.nextInt(-2048, 2048);
            if (rnd.nextInt(3) > 0) {
                off &= ~7;
            }
            int fr = rnd.nextInt(32);
            return switch (rnd.nextInt(15)) {
                case 0 -> lb(d, base, off);
                case 1 -> lh(d, base, off);
                case 2 -> lw(d, base, off);
                case 3 -> ld(d, base, off);
                case 4 -> lbu(d, base, off);
                case 5 -> lhu(d, base, off);
                case 6 -> lwu(d, base, off);
                case 7 -> sb(a, base, off);
                case 8 -> sh(a, base, off);
                case 9 -> sw(a, base, off);
                case 10, 11 -> sd(a, base, off);
                case 12 -> fld(fr, base, off);
                case 13 -> flw(fr, base, off);
                default -> rnd.nextBoolean() ? fsd(fr, base, off) : fsw(fr, base, off);
            };
        }
        // Control flow: forward branches and jumps within the loop body.
        int skip = Math.min(remaining, rnd.nextInt(0, 4));
        int off = 4 * (skip + 1);
        return switch (rnd.nextInt(8)) {
            case 0 -> beq(a, b, off);
            case 1 -> bne(a, b, off);
            case 2 -> blt(a, b, off);
            case 3 -> bge(a, b, off);
            case 4 -> bltu(a, b, off);
            case 5 -> bgeu(a, b, off);
            case 6 -> jal(d, off);
            default -> rnd.nextBoolean() ? ebreak() : beq(a, a, off);
        };
    }
}
