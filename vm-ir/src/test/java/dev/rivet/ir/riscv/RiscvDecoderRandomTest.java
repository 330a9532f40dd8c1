package dev.rivet.ir.riscv;

import dev.rivet.ir.CodeSource;
import dev.rivet.ir.IrBlock;
import dev.rivet.ir.IrVerifier;
import dev.rivet.ir.Op;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static dev.rivet.ir.riscv.Blocks.*;
import static org.junit.jupiter.api.Assertions.*;

/** Seeded random decoding: robustness, well-formed blocks, and legality cross-checked with objdump. */
class RiscvDecoderRandomTest {
    private static long seed() {
        String s = System.getProperty("rivet.seed");
        long seed = s != null ? Long.decode(s) : System.nanoTime();
        System.out.println("RiscvDecoderRandomTest seed = " + seed + " (rerun with -Drivet.seed=" + seed + ")");
        return seed;
    }

    @Test
    void randomWordsAndParcelsDecodeToWellFormedBlocks() {
        long seed = seed();
        Random rnd = new Random(seed);
        int[] modes = {MODE_U, MODE_S, MODE_M, MODE_M | 4, MODE_S | 4};
        int illegal = 0;
        for (int i = 0; i < 200_000; i++) {
            int insn = rnd.nextInt();
            if ((i & 1) == 0) {
                insn &= 0xFFFF;
                if ((insn & 3) == 3) {
                    insn &= ~1; // keep it a 16-bit parcel
                }
            } else {
                insn |= 3;
            }
            int mode = modes[rnd.nextInt(modes.length)];
            IrBlock b;
            try {
                b = one(insn, mode);
            } catch (RuntimeException e) {
                throw new AssertionError("seed " + seed + ": decoding 0x" + Integer.toHexString(insn) + " threw", e);
            }
            final int w = insn;
            List<String> errs = IrVerifier.verify(b, RiscvSlots.INSTANCE);
            assertTrue(errs.isEmpty(), () -> "seed " + seed + " insn 0x" + Integer.toHexString(w) + ": " + errs + "\n" + print(b));
            assertEquals(1, b.insnCount, () -> print(b));
            assertEquals(length(insn), b.byteLength, () -> print(b));
            long raw = length(insn) == 2 ? insn & 0xFFFF : insn & 0xFFFFFFFFL;
            for (int k = 0; k < b.size(); k++) {
                if (b.op(k) == Op.TRAP) {
                    assertEquals(1, b.size(), () -> "a TRAP must stand alone (no op before it):\n" + print(b));
                }
            }
            if (isIllegal(b)) {
                illegal++;
                assertEquals(1, b.size(), () -> "illegal instruction must be a lone TRAP:\n" + print(b));
                assertEquals(raw, trapTval(b, 0), () -> "tval of 0x" + Long.toHexString(raw) + "\n" + print(b));
            } else if (b.op(b.size() - 1) == Op.TRAP) {
                long cause = trapCause(b, 0);
                assertTrue(cause == 3 || cause == 8 || cause == 9 || cause == 11, () -> print(b));
            }
        }
        System.out.println("random decode: " + illegal + " of 200000 illegal");
    }

    /**
     * Random instruction streams (valid encodings mixed with noise) at random places around
     * page ends, with code that stops at a random point: blocks are well formed, obey the
     * page and length rules, and the decoder never fetches past what it decodes (except the
     * faulting fetch that ends a block early).
     */
    @Test
    void randomCodeStreamsFormWellFormedBlocks() {
        long seed = seed();
        Random rnd = new Random(seed);
        int[] valid32 = Asm.encodings(RiscvDecoderTableTest.base32Asm(), 4, false);
        int[] validC = {0x1141, 0xe406, 0x4515, 0x2588, 0xa822, 0x8082, 0x0001, 0xc501, 0x4188, 0x9502};
        int[] modes = {MODE_U, MODE_S, MODE_M, MODE_S | 4};
        for (int iter = 0; iter < 20_000; iter++) {
            int n = 1 + rnd.nextInt(90);
            int[] insns = new int[n];
            for (int k = 0; k < n; k++) {
                int r = rnd.nextInt(10);
                insns[k] = r < 5 ? valid32[rnd.nextInt(valid32.length)]
                        : r < 8 ? validC[rnd.nextInt(validC.length)]
                        : r == 8 ? rnd.nextInt() | 3 : rnd.nextInt(0x10000) & ~1;
            }
            long pc = 0x40000000L + 0x1000L * rnd.nextInt(4) + (rnd.nextBoolean() ? 0xF00 + 2 * rnd.nextInt(128) : 2 * rnd.nextInt(2048));
            CodeSource base = code(pc, insns);
            Set<Long> fetched = new TreeSet<>(), faulted = new TreeSet<>();
            CodeSource src = va -> {
                fetched.add(va);
                int v = base.parcel(va);
                if (v < 0) {
                    faulted.add(va);
                }
                return v;
            };
            int mode = modes[rnd.nextInt(modes.length)];
            IrBlock b = DEC.decode(pc, pc, mode, src);
            String ctx = "seed " + seed + " iter " + iter + "\n" + print(b);
            assertEquals(List.of(), IrVerifier.verify(b, RiscvSlots.INSTANCE), ctx);
            assertTrue(b.insnCount >= 1 && b.insnCount <= RiscvDecoder.MAX_INSNS, ctx);
            long end = pc + b.byteLength;
            for (int i = 0; i < b.size(); i++) {
                // every instruction starts on the block's page and inside the covered bytes
                assertEquals(pc >>> 12, b.insnPc(i) >>> 12, ctx);
                assertTrue(b.insnPc(i) < Math.max(end, pc + 1), ctx);
            }
            for (long va : fetched) {
                assertTrue(va < end || (va == end || va == end + 2) && (faulted.contains(end) || faulted.contains(end + 2)),
                        () -> "fetched 0x" + Long.toHexString(va) + " beyond the block: " + ctx);
            }
            int last = b.size() - 1;
            if (b.op(last) == Op.EXIT && b.imm(last) == end && b.insnCount < RiscvDecoder.MAX_INSNS
                    && (end >>> 12) == (pc >>> 12)) {
                // Ended neither by length nor by page: the next fetch faulted, or the last
                // instruction is a branch (fall-through) or a jump to its successor.
                long lastPc = b.insnPc(last);
                int lo = base.parcel(lastPc);
                boolean transfer = (lo & 3) == 3
                        ? ((lo & 0x7F) == 0x63 || (lo & 0x7F) == 0x6F)
                        : (lo & 3) == 1 && (lo >>> 13) >= 5;
                assertTrue(faulted.contains(end) || faulted.contains(end + 2) || transfer, ctx);
            }
        }
    }

    /** Random 32-bit words: mostly mutations of valid encodings, plus some uniform noise. */
    @Test
    void legalityOf32BitWordsMatchesObjdump() {
        long seed = seed();
        Random rnd = new Random(seed);
        int[] valid = Asm.encodings(RiscvDecoderTableTest.base32Asm(), 4, false);
        List<Integer> words = new ArrayList<>();
        while (words.size() < 30_000) {
            int w;
            if (rnd.nextInt(4) == 0) {
                w = rnd.nextInt() | 3;
            } else {
                w = valid[rnd.nextInt(valid.length)];
                int flips = 1 + rnd.nextInt(3);
                for (int k = 0; k < flips; k++) {
                    w ^= 1 << (2 + rnd.nextInt(30));
                }
            }
            if ((w & 0x1F) != 0x1F) {
                words.add(w);
            }
        }
        int[] insns = words.stream().mapToInt(Integer::intValue).toArray();
        List<String> mismatches = compareWithObjdump(insns);
        assertTrue(mismatches.isEmpty(), () -> "seed " + seed + ": " + mismatches.size() + " legality mismatches:\n"
                + String.join("\n", mismatches.subList(0, Math.min(60, mismatches.size()))));
    }

    /** Every 16-bit parcel. */
    @Test
    void legalityOfAllCompressedParcelsMatchesObjdump() {
        List<Integer> parcels = new ArrayList<>();
        for (int c = 0; c < 0x10000; c++) {
            if ((c & 3) != 3) {
                parcels.add(c);
            }
        }
        int[] insns = parcels.stream().mapToInt(Integer::intValue).toArray();
        List<String> mismatches = compareWithObjdump(insns);
        assertTrue(mismatches.isEmpty(), () -> mismatches.size() + " legality mismatches:\n"
                + String.join("\n", mismatches.subList(0, Math.min(60, mismatches.size()))));
    }

    private static List<String> compareWithObjdump(int[] insns) {
        List<String> dis = Asm.disassemble(insns);
        List<String> mismatches = new ArrayList<>();
        for (int i = 0; i < insns.length; i++) {
            IrBlock b = one(insns[i], MODE_M);
            boolean ours = !isIllegal(b);
            String d = dis.get(i);
            // objdump prints reserved rounding modes as "unknown" rather than refusing them
            boolean theirs = !(d.startsWith(".2byte") || d.startsWith(".4byte") || d.startsWith("c.unimp")
                    || d.endsWith(",unknown"));
            if (ours != theirs && !knownDifference(insns[i], ours, d)) {
                mismatches.add(String.format("%08x objdump=%-40s decoder=%s", insns[i], d, insnOps(b)));
            }
        }
        return mismatches;
    }

    /**
     * Where binutils 2.40 and the specification (which the decoder follows) disagree. Each
     * case is narrow so that anything else still fails.
     */
    private static boolean knownDifference(int insn, boolean oursLegal, String objdump) {
        int opc = insn & 0x7F, f3 = (insn >>> 12) & 7, f7 = insn >>> 25, rs2 = (insn >>> 20) & 31;
        if (oursLegal) {
            // FENCE / FENCE.I: the spec says implementations ignore the reserved fields
            // (rs1, rd, imm; reserved fm/pred/succ act as a normal fence); objdump refuses them.
            if (opc == 0x0F && f3 <= 1) {
                return true;
            }
            // Zicond (czero.eqz / czero.nez) is newer than binutils 2.40.
            if (opc == 0x33 && f7 == 0x07 && (f3 == 5 || f3 == 7)) {
                return true;
            }
            // fcvt.d.s / fcvt.d.w / fcvt.d.wu are exact, and binutils only accepts rm = 0; the
            // spec says their rm field is decoded as usual (any valid mode).
            if (opc == 0x53 && (f7 == 0x21 && rs2 == 0 || f7 == 0x69 && rs2 <= 1)) {
                return true;
            }
            return false;
        }
        // Obsolete or unimplemented privileged instructions that objdump always knows: uret
        // (N extension), hret and sfence.vm (privileged 1.9), dret (debug mode only).
        if (opc == 0x73 && f3 == 0 && objdump.matches("(uret|hret|sfence\\.vm|dret)\\b.*")) {
            return true;
        }
        // c.addi16sp with nzimm = 0 is reserved; objdump prints it as "c.addi16sp sp,0".
        return (insn & 0xEF83) == 0x6101 && (insn & 0x107C) == 0;
    }
}
