package dev.rivet.platform.baremetal;

import dev.rivet.ir.riscv.RiscvAssembler;
import dev.rivet.platform.boot.ElfSegment;
import dev.rivet.platform.boot.ElfTestWriter;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntUnaryOperator;

import static dev.rivet.ir.riscv.RiscvAssembler.*;

/**
 * A random straight-line RV64 program for {@link RandomDifferentialTest}, reproducible from
 * its seed, that ends by printing its architectural state through HTIF.
 *
 * <p>Layout (linked at {@link #TEXT}, so that both QEMU's {@code spike} board and
 * {@link BareMetalMachine} can run it):
 * <pre>
 *   TEXT      _start: j main
 *             trap:   M-mode trap handler: prints "TRAP", mcause, mepc, mtval; exits with 3
 *             putc, puthex: HTIF console helpers
 *             main:   mtvec = trap; x1..x31 = random values; the base register = SCRATCH + 2048
 *             g0..g(n-1): the random instruction groups
 *             g(n):   dump: x0..x31 to SAVE, then SAVE and SCRATCH as 544 lines of 16 hex digits; exit 0
 *   DATA      SAVE     (256 bytes)  x0..x31 at the end
 *   +0x100    SCRATCH  (4 KiB)      random initial bytes; every load, store and AMO lands here
 *   +0x1100   tohost   (8 bytes, own 64-byte line)
 *   +0x1140   fromhost (8 bytes)
 * </pre>
 * One register, chosen at random per program ({@link #base}), is reserved: it holds
 * {@code SCRATCH + 2048} so that every 12-bit offset from it stays within the scratch buffer.
 * Every other register, including sp/gp/tp, is random and is written by the random code.
 * Scratch is 4 KiB at page offset 0x100, so misaligned accesses can straddle a page boundary.
 *
 * <p>The random code is a list of <em>groups</em> of one to three instructions that must
 * run together (e.g. {@code addi t, base, off} + an AMO on {@code t}); forward branches and
 * jumps land only on group boundaries. {@link #build(int)} can keep only the first {@code k}
 * groups (jumps beyond them go to the dump), which the test uses to find the first diverging
 * instruction.
 */
final class RandomProgram {
    static final long TEXT = 0x8000_0000L;
    static final long DATA = 0x8010_0000L;
    static final long SAVE = DATA;
    static final long SCRATCH = DATA + 0x100;
    static final int SCRATCH_SIZE = 4096;
    static final long TOHOST = DATA + 0x1100;
    static final long FROMHOST = DATA + 0x1140;
    static final int DATA_SIZE = 0x1180;
    /** Output lines: x0..x31, then the scratch buffer as 512 little-endian doublewords. */
    static final int DUMP_LINES = 32 + SCRATCH_SIZE / 8;
    static final int MTVEC = 0x305, MEPC = 0x341, MCAUSE = 0x342, MTVAL = 0x343;

    private static final int OP = 0x33, OP_32 = 0x3B, OP_IMM = 0x13, OP_IMM_32 = 0x1B;

    /** Names of the dump lines. */
    static String lineName(int line) {
        return line < 32 ? "x" + line : String.format("mem[SCRATCH+0x%03x]", (line - 32) * 8);
    }

    // ---- instruction tables (encodings checked against binutils 2.40 objdump)

    record ROp(String name, int opcode, int f3, int f7) {
        int encode(int rd, int a, int b) {
            return r(opcode, rd, f3, a, b, f7);
        }
    }

    static final ROp[] RV64I_RR = {
        new ROp("add", OP, 0, 0), new ROp("sub", OP, 0, 0x20), new ROp("sll", OP, 1, 0),
        new ROp("slt", OP, 2, 0), new ROp("sltu", OP, 3, 0), new ROp("xor", OP, 4, 0),
        new ROp("srl", OP, 5, 0), new ROp("sra", OP, 5, 0x20), new ROp("or", OP, 6, 0),
        new ROp("and", OP, 7, 0),
        new ROp("addw", OP_32, 0, 0), new ROp("subw", OP_32, 0, 0x20), new ROp("sllw", OP_32, 1, 0),
        new ROp("srlw", OP_32, 5, 0), new ROp("sraw", OP_32, 5, 0x20),
    };
    static final ROp[] M = {
        new ROp("mul", OP, 0, 1), new ROp("mulh", OP, 1, 1), new ROp("mulhsu", OP, 2, 1),
        new ROp("mulhu", OP, 3, 1), new ROp("div", OP, 4, 1), new ROp("divu", OP, 5, 1),
        new ROp("rem", OP, 6, 1), new ROp("remu", OP, 7, 1),
        new ROp("mulw", OP_32, 0, 1), new ROp("divw", OP_32, 4, 1), new ROp("divuw", OP_32, 5, 1),
        new ROp("remw", OP_32, 6, 1), new ROp("remuw", OP_32, 7, 1),
    };
    static final ROp[] ZB_RR = {
        // Zba
        new ROp("sh1add", OP, 2, 0x10), new ROp("sh2add", OP, 4, 0x10), new ROp("sh3add", OP, 6, 0x10),
        new ROp("add.uw", OP_32, 0, 0x04), new ROp("sh1add.uw", OP_32, 2, 0x10),
        new ROp("sh2add.uw", OP_32, 4, 0x10), new ROp("sh3add.uw", OP_32, 6, 0x10),
        // Zbb
        new ROp("andn", OP, 7, 0x20), new ROp("orn", OP, 6, 0x20), new ROp("xnor", OP, 4, 0x20),
        new ROp("max", OP, 6, 0x05), new ROp("maxu", OP, 7, 0x05), new ROp("min", OP, 4, 0x05),
        new ROp("minu", OP, 5, 0x05), new ROp("rol", OP, 1, 0x30), new ROp("ror", OP, 5, 0x30),
        new ROp("rolw", OP_32, 1, 0x30), new ROp("rorw", OP_32, 5, 0x30),
        // Zbs
        new ROp("bclr", OP, 1, 0x24), new ROp("bext", OP, 5, 0x24), new ROp("binv", OP, 1, 0x34),
        new ROp("bset", OP, 1, 0x14),
    };
    static final ROp[] ZICOND = {new ROp("czero.eqz", OP, 5, 0x07), new ROp("czero.nez", OP, 7, 0x07)};

    /** I-type ALU ops; {@code shBits} 0: 12-bit immediate, 5/6: shift amount ORed into {@code imm}, -1: unary (fixed imm). */
    record IOp(String name, int opcode, int f3, int imm, int shBits) {}

    static final IOp[] RV64I_IMM = {
        new IOp("addi", OP_IMM, 0, 0, 0), new IOp("slti", OP_IMM, 2, 0, 0), new IOp("sltiu", OP_IMM, 3, 0, 0),
        new IOp("xori", OP_IMM, 4, 0, 0), new IOp("ori", OP_IMM, 6, 0, 0), new IOp("andi", OP_IMM, 7, 0, 0),
        new IOp("addiw", OP_IMM_32, 0, 0, 0),
        new IOp("slli", OP_IMM, 1, 0x000, 6), new IOp("srli", OP_IMM, 5, 0x000, 6), new IOp("srai", OP_IMM, 5, 0x400, 6),
        new IOp("slliw", OP_IMM_32, 1, 0x000, 5), new IOp("srliw", OP_IMM_32, 5, 0x000, 5),
        new IOp("sraiw", OP_IMM_32, 5, 0x400, 5),
    };
    static final IOp[] ZB_IMM = {
        new IOp("slli.uw", OP_IMM_32, 1, 0x080, 6),
        new IOp("clz", OP_IMM, 1, 0x600, -1), new IOp("ctz", OP_IMM, 1, 0x601, -1), new IOp("cpop", OP_IMM, 1, 0x602, -1),
        new IOp("clzw", OP_IMM_32, 1, 0x600, -1), new IOp("ctzw", OP_IMM_32, 1, 0x601, -1),
        new IOp("cpopw", OP_IMM_32, 1, 0x602, -1), new IOp("sext.b", OP_IMM, 1, 0x604, -1),
        new IOp("sext.h", OP_IMM, 1, 0x605, -1), new IOp("orc.b", OP_IMM, 5, 0x287, -1),
        new IOp("rev8", OP_IMM, 5, 0x6B8, -1), new IOp("zext.h", OP_32, 4, 0x080, -1),
        new IOp("rori", OP_IMM, 5, 0x600, 6), new IOp("roriw", OP_IMM_32, 5, 0x600, 5),
        new IOp("bclri", OP_IMM, 1, 0x480, 6), new IOp("bexti", OP_IMM, 5, 0x480, 6),
        new IOp("binvi", OP_IMM, 1, 0x680, 6), new IOp("bseti", OP_IMM, 1, 0x280, 6),
    };
    static final String[] LOADS = {"lb", "lh", "lw", "ld", "lbu", "lhu", "lwu"};
    static final String[] STORES = {"sb", "sh", "sw", "sd"};
    static final String[] BRANCHES = {"beq", "bne", "", "", "blt", "bge", "bltu", "bgeu"};
    /** AMO funct5 values and names. */
    static final int[] AMO_F5 = {0x00, 0x01, 0x04, 0x0C, 0x08, 0x10, 0x14, 0x18, 0x1C};
    static final String[] AMO_NAMES = {"amoadd", "amoswap", "amoxor", "amoand", "amoor", "amomin", "amomax", "amominu", "amomaxu"};

    static final long[] INTERESTING = {
        0, 1, -1, 2, -2, 3, 7, 31, 32, 63, 64, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF,
        Long.MIN_VALUE, Long.MAX_VALUE, Long.MIN_VALUE + 1, 0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL,
        0x1_0000_0000L, 0xFFFF_FFFF_8000_0000L, 0xFFFF_FFFF_7FFF_FFFFL, 0x8000_0001L, 0xFFFF_FFFF_0000_0000L,
        0x5555_5555_5555_5555L, 0xAAAA_AAAA_AAAA_AAAAL, 0x0123_4567_89AB_CDEFL, 0x8080_8080_8080_8080L,
        0x0101_0101_0101_0101L, 0x0000_0000_FFFF_0000L,
    };

    // ---- the program

    /** One emitted instruction: a fixed word, or a jump to group {@code target} (clamped to the end). */
    record Part(int word, int target, IntUnaryOperator encoder) {}

    /**
     * An indivisible run of instructions. {@code reads}: the source registers worth showing
     * for a divergence; {@code memOff}/{@code memWidth}: the scratch bytes it accesses, if any;
     * {@code oracleParts}: what QEMU runs instead, when it cannot run {@code parts} right
     * (same length, same architectural effect per the spec), else null.
     */
    record Group(String text, List<Part> parts, int[] reads, int memOff, int memWidth, List<Part> oracleParts) {}

    /** A built program: the ELF, its code, and the byte offset in the code of each group (and the end). */
    record Built(byte[] elf, byte[] text, int[] groupStarts, int groups) {}

    /**
     * What the oracle (QEMU) can run. {@code zicond}: it implements Zicond; if not, QEMU runs
     * an equivalent base-ISA sequence instead of each czero. {@code ctzwBug}: its ctzw is wrong
     * when the low word is 0 and the high word is not (QEMU 7.2 counts all 64 bits, e.g.
     * ctzw(1 &lt;&lt; 36) = 36 instead of 32); if so, QEMU runs ctz on a value whose count is
     * the ctzw result instead of each ctzw.
     */
    record Oracle(boolean zicond, boolean ctzwBug) {}

    final long seed;
    final int base;
    final long[] init = new long[32];
    final byte[] scratch = new byte[SCRATCH_SIZE];
    final List<Group> groups = new ArrayList<>();
    private final SplittableRandom rnd;
    private final Oracle oracle;

    RandomProgram(long seed, int length, Oracle oracle) {
        this.seed = seed;
        this.oracle = oracle;
        this.rnd = new SplittableRandom(seed);
        this.base = 1 + rnd.nextInt(31);
        for (int reg = 1; reg < 32; reg++) {
            init[reg] = reg == base ? SCRATCH + 2048 : value();
        }
        for (int k = 0; k < SCRATCH_SIZE; k += 8) {
            ByteBuffer.wrap(scratch, k, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(rnd.nextInt(4) == 0 ? pick(INTERESTING) : rnd.nextLong());
        }
        while (groups.size() < length) {
            generate(length);
        }
    }

    // ---- random operands

    private long pick(long[] values) {
        return values[rnd.nextInt(values.length)];
    }

    /** A 64-bit value biased to edge cases. */
    private long value() {
        int k = rnd.nextInt(20);
        if (k < 8) {
            return pick(INTERESTING);
        } else if (k < 11) {
            return rnd.nextInt(-16, 17);
        } else if (k < 14) {
            return rnd.nextInt(); // sign-extended 32-bit
        } else if (k < 16) {
            long bit = 1L << rnd.nextInt(64);
            return rnd.nextBoolean() ? bit : ~bit;
        } else if (k < 17) {
            return rnd.nextInt() & 0xFFFF_FFFFL; // zero-extended 32-bit
        }
        return rnd.nextLong();
    }

    private int imm12() {
        return switch (rnd.nextInt(8)) {
            case 0 -> 0;
            case 1 -> -1;
            case 2 -> rnd.nextBoolean() ? 2047 : -2048;
            case 3, 4 -> rnd.nextInt(-16, 17);
            default -> rnd.nextInt(-2048, 2048);
        };
    }

    private int shamt(int bits) {
        int max = (1 << bits) - 1;
        return switch (rnd.nextInt(6)) {
            case 0 -> 0;
            case 1 -> max;
            case 2 -> bits == 6 ? (rnd.nextBoolean() ? 31 : 32) : 1;
            default -> rnd.nextInt(max + 1);
        };
    }

    /** Any register, x0 and the base register included (reading them is deterministic). */
    private int src() {
        return rnd.nextInt(32);
    }

    /** A destination: anything but the base register (x0 included, rarely). */
    private int dst() {
        int d;
        do {
            d = rnd.nextInt(32);
        } while (d == base);
        return d;
    }

    /** A scratch register for an address: neither x0 nor the base. */
    private int tmp() {
        return tmp(0, 0);
    }

    /** A scratch register other than x0, the base, {@code a} and {@code b}. */
    private int tmp(int a, int b) {
        int t;
        do {
            t = 1 + rnd.nextInt(31);
        } while (t == base || t == a || t == b);
        return t;
    }

    private static String x(int reg) {
        return "x" + reg;
    }

    // ---- groups

    private void addParts(String text, int[] reads, int memOff, int memWidth, Part... parts) {
        groups.add(new Group(text, List.of(parts), reads, memOff, memWidth, null));
    }

    private void add(String text, int[] reads, int... words) {
        Part[] parts = new Part[words.length];
        for (int k = 0; k < words.length; k++) {
            parts[k] = new Part(words[k], -1, null);
        }
        addParts(text, reads, -1, 0, parts);
    }

    private static Part fixed(int word) {
        return new Part(word, -1, null);
    }

    /** A group that QEMU runs with its last instruction replaced. */
    private void substituted(String text, String oracleLast, int[] reads, int[] words, int[] oracleWords) {
        List<Part> parts = new ArrayList<>(), oracleParts = new ArrayList<>();
        for (int w : words) {
            parts.add(fixed(w));
        }
        for (int w : oracleWords) {
            oracleParts.add(fixed(w));
        }
        groups.add(new Group(text + "  [QEMU runs " + oracleLast + " last]", parts, reads, -1, 0, oracleParts));
    }

    /** czero.eqz/nez; without Zicond in QEMU, both compute the mask in t, then Rivet runs czero, QEMU and. */
    private void czero(ROp op) {
        if (oracle.zicond()) {
            rr(op);
            return;
        }
        int d = dst(), a = src(), b = src(), t = tmp(a, b);
        boolean eqz = op.name().equals("czero.eqz");
        // eqz: t = -(b != 0) = sltu t, x0, b; nez: t = -(b == 0) = sltiu t, b, 1; then t = 0 - t
        int mask = eqz ? r(OP, t, 3, 0, b, 0) : i(OP_IMM, t, 3, b, 1), neg = r(OP, t, 0, 0, t, 0x20);
        substituted((eqz ? "sltu " + x(t) + ", x0, " + x(b) : "sltiu " + x(t) + ", " + x(b) + ", 1") + "; sub " + x(t)
                        + ", x0, " + x(t) + "; " + op.name() + " " + x(d) + ", " + x(a) + ", " + x(b),
                "and " + x(d) + ", " + x(a) + ", " + x(t), new int[] {a, b},
                new int[] {mask, neg, op.encode(d, a, b)}, new int[] {mask, neg, r(OP, d, 7, a, t, 0)});
    }

    private void rr(ROp op) {
        int d = dst(), a = src(), b = src();
        if (op.f7() == 1 && op.f3() >= 4 && rnd.nextInt(6) == 0) {
            b = 0; // division by zero
        }
        add(op.name() + " " + x(d) + ", " + x(a) + ", " + x(b), new int[] {a, b}, op.encode(d, a, b));
    }

    private void ri(IOp op) {
        int d = dst(), a = src();
        if (op.name().equals("ctzw") && oracle.ctzwBug()) {
            // t = zext.w(a) | 1 << 32, so ctz(t) = ctzw(a); Rivet runs ctzw on a itself.
            int t = tmp(a, a);
            int zext = r(OP_32, t, 0, a, 0, 0x04), bset32 = i(OP_IMM, t, 1, t, 0x280 | 32);
            substituted("add.uw " + x(t) + ", " + x(a) + ", x0; bseti " + x(t) + ", " + x(t) + ", 32; ctzw " + x(d) + ", " + x(a),
                    "ctz " + x(d) + ", " + x(t), new int[] {a},
                    new int[] {zext, bset32, i(op.opcode(), d, op.f3(), a, op.imm())},
                    new int[] {zext, bset32, i(OP_IMM, d, 1, t, 0x601)});
        } else if (op.shBits() < 0) {
            add(op.name() + " " + x(d) + ", " + x(a), new int[] {a}, i(op.opcode(), d, op.f3(), a, op.imm()));
        } else if (op.shBits() > 0) {
            int sh = shamt(op.shBits());
            add(op.name() + " " + x(d) + ", " + x(a) + ", " + sh, new int[] {a}, i(op.opcode(), d, op.f3(), a, op.imm() | sh));
        } else {
            int imm = imm12();
            add(op.name() + " " + x(d) + ", " + x(a) + ", " + imm, new int[] {a}, i(op.opcode(), d, op.f3(), a, imm));
        }
    }

    /** An offset from the base register for a {@code width}-byte access, aligned half the time. */
    private int memOffset(int width) {
        int off = rnd.nextInt(-2048, 2048 - width + 1);
        if (rnd.nextBoolean()) {
            off &= -width;
        } else if (rnd.nextInt(4) == 0) {
            // straddle the page boundary at SCRATCH + 0xF00 (a 4 KiB boundary of the guest address space)
            off = (int) (((SCRATCH + SCRATCH_SIZE) & -4096L) - (SCRATCH + 2048)) - rnd.nextInt(1, width + 1) + 1;
            off = Math.min(Math.max(off, -2048), 2048 - width);
        }
        return off;
    }

    private void load() {
        int f3 = rnd.nextInt(7);
        int width = 1 << (f3 & 3);
        int d = dst(), off = memOffset(width);
        addParts(LOADS[f3] + " " + x(d) + ", " + off + "(" + x(base) + ")", new int[0], off + 2048, width,
                fixed(i(0x03, d, f3, base, off)));
    }

    private void store() {
        int f3 = rnd.nextInt(4);
        int width = 1 << f3;
        int s = src(), off = memOffset(width);
        addParts(STORES[f3] + " " + x(s) + ", " + off + "(" + x(base) + ")", new int[] {s}, off + 2048, width,
                fixed(RiscvAssembler.s(0x23, f3, base, s, off)));
    }

    /** An aligned offset from the base for an AMO of {@code width} bytes. */
    private int amoOffset(int width) {
        return rnd.nextInt(-2048, 2048 - width + 1) & -width;
    }

    private static int amo(int f5, int f3, int aqrl, int rd, int a, int b) {
        return r(0x2F, rd, f3, a, b, f5 << 2 | aqrl);
    }

    private static String amoSuffix(boolean dw, int aqrl) {
        return (dw ? ".d" : ".w") + switch (aqrl) {
            case 1 -> ".rl";
            case 2 -> ".aq";
            case 3 -> ".aqrl";
            default -> "";
        };
    }

    private void atomic() {
        boolean dw = rnd.nextBoolean();
        int width = dw ? 8 : 4, f3 = dw ? 3 : 2;
        int t = tmp(), off = amoOffset(width), aqrl = rnd.nextInt(4);
        String addr = "addi " + x(t) + ", " + x(base) + ", " + off + "; ";
        int k = rnd.nextInt(12);
        if (k < 9) {
            int d = dst(), s = src();
            addParts(addr + AMO_NAMES[k] + amoSuffix(dw, aqrl) + " " + x(d) + ", " + x(s) + ", (" + x(t) + ")",
                    new int[] {s}, off + 2048, width, fixed(addi(t, base, off)), fixed(amo(AMO_F5[k], f3, aqrl, d, t, s)));
        } else if (k < 11) {
            // LR immediately followed by SC to the same address: the SC succeeds (rd = 0).
            int d1;
            do {
                d1 = dst();
            } while (d1 == t);
            int d2 = dst(), s = src(), aqrl2 = rnd.nextInt(4);
            addParts(addr + "lr" + amoSuffix(dw, aqrl) + " " + x(d1) + ", (" + x(t) + "); sc" + amoSuffix(dw, aqrl2) + " "
                    + x(d2) + ", " + x(s) + ", (" + x(t) + ")", new int[] {s}, off + 2048, width,
                    fixed(addi(t, base, off)), fixed(amo(0x02, f3, aqrl, d1, t, 0)), fixed(amo(0x03, f3, aqrl2, d2, t, s)));
        } else {
            // SC with no reservation (every LR is paired, and any SC clears the reservation): it fails, rd = 1.
            int d = dst(), s = src();
            addParts(addr + "sc" + amoSuffix(dw, aqrl) + " " + x(d) + ", " + x(s) + ", (" + x(t) + ")", new int[] {s},
                    off + 2048, width, fixed(addi(t, base, off)), fixed(amo(0x03, f3, aqrl, d, t, s)));
        }
    }

    /** A forward target: 1 to 6 groups beyond the next (values past the end mean the end). */
    private int forward(int length) {
        return Math.min(groups.size() + 1 + rnd.nextInt(1, 7), length);
    }

    private void branch(int length) {
        int f3;
        do {
            f3 = rnd.nextInt(8);
        } while (f3 == 2 || f3 == 3);
        int a = src(), b = rnd.nextInt(5) == 0 ? a : src();
        int target = forward(length);
        int cond = f3;
        addParts(BRANCHES[f3] + " " + x(a) + ", " + x(b) + ", g" + target, new int[] {a, b}, -1, 0,
                new Part(0, target, off -> b(cond, a, b, off)));
    }

    private void jump(int length) {
        int target = forward(length);
        int d = rnd.nextInt(3) == 0 ? 0 : dst();
        if (rnd.nextBoolean()) {
            addParts("jal " + x(d) + ", g" + target, new int[0], -1, 0, new Part(0, target, off -> j(d, off)));
        } else {
            // auipc t, 0; jalr d, t, target - (pc of auipc) [+1: jalr clears bit 0]
            int t = tmp(), odd = rnd.nextInt(2);
            addParts("auipc " + x(t) + ", 0; jalr " + x(d) + ", " + x(t) + ", g" + target + (odd == 1 ? "+1" : ""),
                    new int[0], -1, 0, fixed(auipc(t, 0)), new Part(0, target, off -> jalr(d, t, off + 4 + odd)));
        }
    }

    private void upper() {
        int d = dst();
        int imm20 = rnd.nextInt(4) == 0 ? (int) pick(new long[] {0, 0x80000, 0x7FFFF, 0xFFFFF, 1}) : rnd.nextInt(1 << 20);
        boolean pcrel = rnd.nextBoolean();
        add((pcrel ? "auipc " : "lui ") + x(d) + ", 0x" + Integer.toHexString(imm20), new int[0],
                pcrel ? auipc(d, imm20) : lui(d, imm20));
    }

    /** Reloads a register with an edge-case value (several instructions). */
    private void reload() {
        int d = dst();
        long v = rnd.nextInt(3) == 0 ? value() : pick(INTERESTING);
        RiscvAssembler a = new RiscvAssembler().li(d, v);
        byte[] code = a.assemble();
        int[] words = new int[code.length / 4];
        ByteBuffer.wrap(code).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(words);
        add("li " + x(d) + ", 0x" + Long.toHexString(v), new int[0], words);
    }

    private void generate(int length) {
        int k = rnd.nextInt(100);
        if (k < 16) {
            rr(RV64I_RR[rnd.nextInt(RV64I_RR.length)]);
        } else if (k < 30) {
            ri(RV64I_IMM[rnd.nextInt(RV64I_IMM.length)]);
        } else if (k < 33) {
            upper();
        } else if (k < 45) {
            rr(M[rnd.nextInt(M.length)]);
        } else if (k < 53) {
            rr(ZB_RR[rnd.nextInt(ZB_RR.length)]);
        } else if (k < 60) {
            ri(ZB_IMM[rnd.nextInt(ZB_IMM.length)]);
        } else if (k < 62) {
            czero(ZICOND[rnd.nextInt(ZICOND.length)]);
        } else if (k < 70) {
            load();
        } else if (k < 78) {
            store();
        } else if (k < 85) {
            branch(length);
        } else if (k < 88) {
            jump(length);
        } else if (k < 94) {
            atomic();
        } else if (k < 98) {
            reload();
        } else if (rnd.nextBoolean()) {
            add("fence", new int[0], fence());
        } else {
            add("fence.i", new int[0], fenceI());
        }
    }

    // ---- building

    /** The whole program as an ELF for Rivet. */
    Built build() {
        return build(groups.size(), false);
    }

    /**
     * The program with only the first {@code k} groups (jumps past them go to the dump), for
     * QEMU (with {@link Group#oracleParts()}) or for Rivet.
     */
    Built build(int k, boolean forQemu) {
        final int ra = 1, s1 = 9, a0 = 10, a1 = 11, a2 = 12, a3 = 13, a4 = 14, a5 = 15, t1 = 6, t2 = 7, t3 = 28, t4 = 29;
        RiscvAssembler asm = new RiscvAssembler();
        asm.emitTo("main", off -> j(0, off));

        // trap: print TRAP, mcause, mepc, mtval; exit code 3
        asm.label("trap");
        for (char c : "TRAP\n".toCharArray()) {
            asm.emit(addi(a5, 0, c)).emitTo("putc", off -> j(ra, off));
        }
        for (int csr : new int[] {MCAUSE, MEPC, MTVAL}) {
            asm.emit(csrrs(a0, csr, 0)).emitTo("puthex", off -> j(s1, off));
        }
        asm.li(t1, TOHOST).emit(addi(t2, 0, 3 << 1 | 1), sd(t2, t1, 0), j(0, 0));

        // putc: HTIF console putchar of a5 (device 1, command 1), then wait for fromhost; uses t1-t3, returns via ra
        asm.label("putc");
        asm.li(t1, TOHOST).li(t2, 0x0101L << 48).emit(or(t2, t2, a5), sd(t2, t1, 0));
        asm.label("putc_wait");
        asm.emit(ld(t3, t1, (int) (FROMHOST - TOHOST))).emitTo("putc_wait", off -> beq(t3, 0, off));
        asm.emit(sd(0, t1, (int) (FROMHOST - TOHOST)), jalr(0, ra, 0));

        // puthex: a0 as 16 hex digits and a newline; uses a3-a5, t4 and putc; returns via s1
        asm.label("puthex");
        asm.emit(addi(a3, 0, 60));
        asm.label("puthex_digit");
        asm.emit(srl(a4, a0, a3), andi(a4, a4, 15), addi(a5, a4, '0'), sltiu(t4, a4, 10));
        asm.emitTo("puthex_dec", off -> bne(t4, 0, off));
        asm.emit(addi(a5, a5, 'a' - '0' - 10));
        asm.label("puthex_dec");
        asm.emitTo("putc", off -> j(ra, off));
        asm.emit(addi(a3, a3, -4));
        asm.emitTo("puthex_digit", off -> bge(a3, 0, off));
        asm.emit(addi(a5, 0, '\n')).emitTo("putc", off -> j(ra, off));
        asm.emit(jalr(0, s1, 0));

        // main: trap vector, registers, the random groups
        asm.label("main");
        asm.li(5, TEXT + 4).emit(csrrw(0, MTVEC, 5));
        for (int reg = 1; reg < 32; reg++) {
            asm.li(reg, init[reg]);
        }
        int[] starts = new int[k + 1];
        for (int g = 0; g < k; g++) {
            asm.label("g" + g);
            starts[g] = asm.sizeBytes();
            Group group = groups.get(g);
            for (Part p : forQemu && group.oracleParts() != null ? group.oracleParts() : group.parts()) {
                if (p.encoder() == null) {
                    asm.emit(p.word());
                } else {
                    asm.emitTo("g" + Math.min(p.target(), k), p.encoder());
                }
            }
        }
        asm.label("g" + k);
        starts[k] = asm.sizeBytes();

        // dump: base = SCRATCH; x0..x31 to SAVE (just below SCRATCH); print SAVE..SCRATCH end
        asm.emit(addi(base, base, -2048));
        for (int reg = 0; reg < 32; reg++) {
            asm.emit(sd(reg, base, (int) (SAVE - SCRATCH) + 8 * reg));
        }
        asm.li(a1, SAVE).li(a2, DUMP_LINES);
        asm.label("dump");
        asm.emit(ld(a0, a1, 0)).emitTo("puthex", off -> j(s1, off));
        asm.emit(addi(a1, a1, 8), addi(a2, a2, -1)).emitTo("dump", off -> bne(a2, 0, off));
        asm.li(t1, TOHOST).emit(addi(t2, 0, 1), sd(t2, t1, 0), j(0, 0));

        byte[] text = asm.assemble();
        byte[] data = new byte[DATA_SIZE];
        System.arraycopy(scratch, 0, data, (int) (SCRATCH - DATA), SCRATCH_SIZE);
        byte[] elf = new ElfTestWriter()
                .entry(TEXT)
                .load(ElfSegment.PF_R | ElfSegment.PF_X, TEXT, TEXT, text, text.length)
                .load(ElfSegment.PF_R | ElfSegment.PF_W, DATA, DATA, data, DATA_SIZE)
                .symbol("_start", TEXT, ElfTestWriter.STB_GLOBAL, ElfTestWriter.STT_FUNC)
                .symbol("tohost", TOHOST, ElfTestWriter.STB_GLOBAL, ElfTestWriter.STT_OBJECT)
                .symbol("fromhost", FROMHOST, ElfTestWriter.STB_GLOBAL, ElfTestWriter.STT_OBJECT)
                .build();
        // QEMU insists on 8-byte tohost/fromhost symbols; ElfTestWriter writes st_size 0.
        setSymbolSize(elf, "tohost", 8);
        setSymbolSize(elf, "fromhost", 8);
        return new Built(elf, text, starts, k);
    }

    /** Patches st_size of the named symbol in an ELF64 file with a .symtab. */
    static void setSymbolSize(byte[] elf, String name, long size) {
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        long shoff = b.getLong(0x28);
        int shentsize = b.getShort(0x3A) & 0xFFFF, shnum = b.getShort(0x3C) & 0xFFFF;
        for (int sec = 0; sec < shnum; sec++) {
            int sh = (int) shoff + sec * shentsize;
            if (b.getInt(sh + 4) != 2 /* SHT_SYMTAB */) {
                continue;
            }
            int off = (int) b.getLong(sh + 0x18), len = (int) b.getLong(sh + 0x20);
            int strsh = (int) shoff + b.getInt(sh + 0x28) * shentsize;
            int stroff = (int) b.getLong(strsh + 0x18);
            for (int sym = off; sym < off + len; sym += 24) {
                int n = stroff + b.getInt(sym);
                int end = n;
                while (elf[end] != 0) {
                    end++;
                }
                if (new String(elf, n, end - n, StandardCharsets.US_ASCII).equals(name)) {
                    b.putLong(sym + 16, size);
                    return;
                }
            }
        }
        throw new IllegalArgumentException("no symbol " + name);
    }

    // ---- listings

    /** Register initial values and every group with its address and machine words. */
    String listing(Built built) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("seed %d, base register x%d = SCRATCH+2048 = 0x%x, %d groups%n", seed, base, SCRATCH + 2048, built.groups()));
        for (int reg = 1; reg < 32; reg++) {
            sb.append(String.format("  x%-2d = 0x%016x%s%n", reg, init[reg], reg == base ? "  (base)" : ""));
        }
        for (int g = 0; g < built.groups(); g++) {
            sb.append(groupLine(built, g)).append('\n');
        }
        sb.append(String.format("%08x g%d: dump and exit%n", TEXT + built.groupStarts()[built.groups()], built.groups()));
        return sb.toString();
    }

    String groupLine(Built built, int g) {
        StringBuilder words = new StringBuilder();
        ByteBuffer b = ByteBuffer.wrap(built.text()).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = built.groupStarts()[g]; at < built.groupStarts()[g + 1]; at += 4) {
            words.append(String.format("%08x ", b.getInt(at)));
        }
        return String.format("%08x g%-4d %-27s %s", TEXT + built.groupStarts()[g], g, words, groups.get(g).text());
    }
}
