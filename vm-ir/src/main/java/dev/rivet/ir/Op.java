package dev.rivet.ir;

/**
 * IR opcodes. The IR is register-based over numbered <em>slots</em> (64-bit each; what a
 * slot means is the frontend's business) and typed by opcode: an {@code _32} integer op
 * reads the low 32 bits of its sources and writes its result sign-extended to 64 bits;
 * {@code F32} ops read and write single-precision values NaN-boxed in a 64-bit slot
 * (a source that is not a valid box reads as the canonical NaN); {@code F64} ops use all
 * 64 bits.
 *
 * <p>Operand fields of every op: {@code d} (destination slot), {@code a}, {@code b}
 * (source slots) and a 64-bit {@code imm}. Their use per opcode is given by the
 * operand signature in {@link #SIG}: {@code "d=ab"} style strings where each position is
 * {@code x} (integer slot), {@code f} (FP slot) or {@code -} (unused). For FP ops with a
 * rounding mode, {@code imm} bits 0–2 hold the mode (7 = dynamic); the fused multiply-add
 * ops keep their third source slot in {@code imm} bits 8–15.
 *
 * <p>Division follows the RISC-V definition (divide by zero gives all ones / the dividend,
 * overflow gives the dividend / zero) so that frontends for ISAs that trap add a guard.
 */
public final class Op {
    private Op() {
    }

    // --- moves and constants
    public static final int NOP = 0;
    public static final int MOV = 1;        // d = a
    public static final int MOVI = 2;       // d = imm

    // --- 64-bit integer, register-register (d = a op b)
    public static final int ADD = 10, SUB = 11, AND = 12, OR = 13, XOR = 14;
    public static final int SHL = 15, SHR = 16, SAR = 17;          // shift amount = b & 63
    public static final int SLT = 18, SLTU = 19;                   // d = (a < b) ? 1 : 0
    public static final int MUL = 20, MULH = 21, MULHU = 22, MULHSU = 23;
    public static final int DIV = 24, DIVU = 25, REM = 26, REMU = 27;
    // --- 64-bit integer, register-immediate (d = a op imm)
    public static final int ADDI = 30, ANDI = 31, ORI = 32, XORI = 33;
    public static final int SHLI = 34, SHRI = 35, SARI = 36, SLTI = 37, SLTIU = 38;

    // --- 32-bit integer (result sign-extended)
    public static final int ADD_32 = 40, SUB_32 = 41, SHL_32 = 42, SHR_32 = 43, SAR_32 = 44;
    public static final int MUL_32 = 45, DIV_32 = 46, DIVU_32 = 47, REM_32 = 48, REMU_32 = 49;
    public static final int ADDI_32 = 50, SHLI_32 = 51, SHRI_32 = 52, SARI_32 = 53;

    // --- bit manipulation (Zba/Zbb/Zbs semantics, ISA-neutral names)
    public static final int SHADD = 60;     // d = (a << imm) + b
    public static final int ADD_UW = 61;    // d = zext32(a) + b
    public static final int SHADD_UW = 62;  // d = (zext32(a) << imm) + b
    public static final int SHLI_UW = 63;   // d = zext32(a) << imm
    public static final int ANDN = 64, ORN = 65, XNOR = 66;
    public static final int CLZ = 67, CTZ = 68, CPOP = 69, CLZ_32 = 70, CTZ_32 = 71, CPOP_32 = 72;
    public static final int MAX = 73, MAXU = 74, MIN = 75, MINU = 76;
    public static final int SEXT8 = 77, SEXT16 = 78, ZEXT16 = 79;
    public static final int ROL = 80, ROR = 81, ROL_32 = 82, ROR_32 = 83, RORI = 84, RORI_32 = 85;
    public static final int ORC_B = 86, REV8 = 87;
    public static final int BCLR = 88, BEXT = 89, BINV = 90, BSET = 91;          // bit index = b & 63
    public static final int BCLRI = 92, BEXTI = 93, BINVI = 94, BSETI = 95;      // bit index = imm
    // --- conditional zero (Zicond): d = (b == 0) ? 0 : a   /   d = (b != 0) ? 0 : a
    public static final int CZERO_EQZ = 96, CZERO_NEZ = 97;

    // --- loads: d = mem[a + imm]; stores: mem[a + imm] = b. May fault.
    public static final int LD8S = 100, LD8U = 101, LD16S = 102, LD16U = 103, LD32S = 104, LD32U = 105, LD64 = 106;
    public static final int ST8 = 107, ST16 = 108, ST32 = 109, ST64 = 110;
    public static final int FLD32 = 111;    // f32 load into an FP slot (NaN-boxed)
    public static final int FLD64 = 112;
    public static final int FST32 = 113, FST64 = 114; // store the low 32 / all 64 bits of FP slot b

    // --- atomics on mem[a] (no offset). May fault; misaligned addresses fault.
    public static final int LR_32 = 120, LR_64 = 121;               // d = load-reserved
    public static final int SC_32 = 122, SC_64 = 123;               // d = 0 on success, 1 on failure; stores b
    public static final int AMO_32 = 124, AMO_64 = 125;            // d = old; mem = f(old, b); imm = AMO_* below
    public static final int AMO_SWAP = 0, AMO_ADD = 1, AMO_XOR = 2, AMO_AND = 3, AMO_OR = 4,
            AMO_MIN = 5, AMO_MAX = 6, AMO_MINU = 7, AMO_MAXU = 8;

    // --- block exits. Every block ends with an unconditional exit or a system op.
    public static final int EXIT = 130;          // next pc = imm
    public static final int EXIT_IND = 131;      // next pc = a (the frontend computed and masked it)
    public static final int BR_EQ = 132, BR_NE = 133, BR_LT = 134, BR_GE = 135, BR_LTU = 136, BR_GEU = 137;
                                                 // if (a cond b) exit to imm, else fall through

    // --- traps and system ops (end the block; next pc decided at run time)
    public static final int TRAP = 140;          // raise exception: imm bits 0–7 cause, bits 8–63 tval (sign-extended >> 8)
    public static final int CSR = 141;           // d = csr; csr op with source a; imm: see CSR_* fields
    public static final int MRET = 142, SRET = 143, WFI = 144;
    public static final int FENCE_I = 145;       // instruction-fetch fence: translated code may be stale
    public static final int SFENCE_VMA = 146;    // a = vaddr slot, b = asid slot
    public static final int FP_DIRTY = 147;      // the FP state is about to change (mstatus.FS := Dirty)

    /** CSR op imm layout: bits 0–11 CSR number; 12–13 kind (0 RW, 1 RS, 2 RC); bit 14 = do not write; bits 32–63 the instruction bits (for mtval). */
    public static final int CSR_KIND_SHIFT = 12;
    public static final long CSR_NO_WRITE = 1L << 14;

    // --- floating point, single precision
    public static final int FADD_S = 150, FSUB_S = 151, FMUL_S = 152, FDIV_S = 153, FSQRT_S = 154;
    public static final int FMIN_S = 155, FMAX_S = 156;
    public static final int FMADD_S = 157, FMSUB_S = 158, FNMSUB_S = 159, FNMADD_S = 160;
    public static final int FSGNJ_S = 161, FSGNJN_S = 162, FSGNJX_S = 163;
    public static final int FEQ_S = 164, FLT_S = 165, FLE_S = 166, FCLASS_S = 167;
    public static final int FCVT_W_S = 168, FCVT_WU_S = 169, FCVT_L_S = 170, FCVT_LU_S = 171;
    public static final int FCVT_S_W = 172, FCVT_S_WU = 173, FCVT_S_L = 174, FCVT_S_LU = 175;
    public static final int FMV_X_W = 176, FMV_W_X = 177;
    // --- floating point, double precision
    public static final int FADD_D = 180, FSUB_D = 181, FMUL_D = 182, FDIV_D = 183, FSQRT_D = 184;
    public static final int FMIN_D = 185, FMAX_D = 186;
    public static final int FMADD_D = 187, FMSUB_D = 188, FNMSUB_D = 189, FNMADD_D = 190;
    public static final int FSGNJ_D = 191, FSGNJN_D = 192, FSGNJX_D = 193;
    public static final int FEQ_D = 194, FLT_D = 195, FLE_D = 196, FCLASS_D = 197;
    public static final int FCVT_W_D = 198, FCVT_WU_D = 199, FCVT_L_D = 200, FCVT_LU_D = 201;
    public static final int FCVT_D_W = 202, FCVT_D_WU = 203, FCVT_D_L = 204, FCVT_D_LU = 205;
    public static final int FMV_X_D = 206, FMV_D_X = 207;
    public static final int FCVT_S_D = 208, FCVT_D_S = 209;

    public static final int COUNT = 210;

    /** Rounding-mode field value meaning "use the dynamic mode (frm)". */
    public static final int RM_DYN = 7;

    /** Op property bits. */
    public static final int F_FAULTS = 1, F_EXIT = 2, F_ENDS_BLOCK = 4, F_RM = 8, F_SYSTEM = 16;

    static final String[] NAME = new String[COUNT];
    /** Operand signature "d=ab" (see class comment); null for unused opcodes. */
    static final String[] SIG = new String[COUNT];
    static final int[] FLAGS = new int[COUNT];

    private static void def(int op, String name, String sig, int flags) {
        if (NAME[op] != null) {
            throw new AssertionError("opcode " + op + " defined twice");
        }
        NAME[op] = name;
        SIG[op] = sig;
        FLAGS[op] = flags;
    }

    static {
        def(NOP, "nop", "-=--", 0);
        def(MOV, "mov", "x=x-", 0);
        def(MOVI, "movi", "x=--", 0);
        String[] rr = {"add", "sub", "and", "or", "xor", "shl", "shr", "sar", "slt", "sltu",
                "mul", "mulh", "mulhu", "mulhsu", "div", "divu", "rem", "remu"};
        for (int i = 0; i < rr.length; i++) {
            def(ADD + i, rr[i], "x=xx", 0);
        }
        String[] ri = {"addi", "andi", "ori", "xori", "shli", "shri", "sari", "slti", "sltiu"};
        for (int i = 0; i < ri.length; i++) {
            def(ADDI + i, ri[i], "x=x-", 0);
        }
        String[] r32 = {"add.32", "sub.32", "shl.32", "shr.32", "sar.32", "mul.32", "div.32", "divu.32", "rem.32", "remu.32"};
        for (int i = 0; i < r32.length; i++) {
            def(ADD_32 + i, r32[i], "x=xx", 0);
        }
        String[] i32 = {"addi.32", "shli.32", "shri.32", "sari.32"};
        for (int i = 0; i < i32.length; i++) {
            def(ADDI_32 + i, i32[i], "x=x-", 0);
        }
        def(SHADD, "shadd", "x=xx", 0);
        def(ADD_UW, "add.uw", "x=xx", 0);
        def(SHADD_UW, "shadd.uw", "x=xx", 0);
        def(SHLI_UW, "shli.uw", "x=x-", 0);
        def(ANDN, "andn", "x=xx", 0);
        def(ORN, "orn", "x=xx", 0);
        def(XNOR, "xnor", "x=xx", 0);
        String[] un = {"clz", "ctz", "cpop", "clz.32", "ctz.32", "cpop.32"};
        for (int i = 0; i < un.length; i++) {
            def(CLZ + i, un[i], "x=x-", 0);
        }
        String[] mm = {"max", "maxu", "min", "minu"};
        for (int i = 0; i < mm.length; i++) {
            def(MAX + i, mm[i], "x=xx", 0);
        }
        def(SEXT8, "sext8", "x=x-", 0);
        def(SEXT16, "sext16", "x=x-", 0);
        def(ZEXT16, "zext16", "x=x-", 0);
        def(ROL, "rol", "x=xx", 0);
        def(ROR, "ror", "x=xx", 0);
        def(ROL_32, "rol.32", "x=xx", 0);
        def(ROR_32, "ror.32", "x=xx", 0);
        def(RORI, "rori", "x=x-", 0);
        def(RORI_32, "rori.32", "x=x-", 0);
        def(ORC_B, "orc.b", "x=x-", 0);
        def(REV8, "rev8", "x=x-", 0);
        String[] bs = {"bclr", "bext", "binv", "bset"};
        for (int i = 0; i < bs.length; i++) {
            def(BCLR + i, bs[i], "x=xx", 0);
            def(BCLRI + i, bs[i] + "i", "x=x-", 0);
        }
        def(CZERO_EQZ, "czero.eqz", "x=xx", 0);
        def(CZERO_NEZ, "czero.nez", "x=xx", 0);

        String[] lds = {"ld8s", "ld8u", "ld16s", "ld16u", "ld32s", "ld32u", "ld64"};
        for (int i = 0; i < lds.length; i++) {
            def(LD8S + i, lds[i], "x=x-", F_FAULTS);
        }
        String[] sts = {"st8", "st16", "st32", "st64"};
        for (int i = 0; i < sts.length; i++) {
            def(ST8 + i, sts[i], "-=xx", F_FAULTS);
        }
        def(FLD32, "fld32", "f=x-", F_FAULTS);
        def(FLD64, "fld64", "f=x-", F_FAULTS);
        def(FST32, "fst32", "-=xf", F_FAULTS);
        def(FST64, "fst64", "-=xf", F_FAULTS);
        def(LR_32, "lr.32", "x=x-", F_FAULTS);
        def(LR_64, "lr.64", "x=x-", F_FAULTS);
        def(SC_32, "sc.32", "x=xx", F_FAULTS);
        def(SC_64, "sc.64", "x=xx", F_FAULTS);
        def(AMO_32, "amo.32", "x=xx", F_FAULTS);
        def(AMO_64, "amo.64", "x=xx", F_FAULTS);

        def(EXIT, "exit", "-=--", F_EXIT | F_ENDS_BLOCK);
        def(EXIT_IND, "exit.ind", "-=x-", F_EXIT | F_ENDS_BLOCK);
        String[] br = {"br.eq", "br.ne", "br.lt", "br.ge", "br.ltu", "br.geu"};
        for (int i = 0; i < br.length; i++) {
            def(BR_EQ + i, br[i], "-=xx", F_EXIT);
        }
        def(TRAP, "trap", "-=--", F_FAULTS | F_ENDS_BLOCK | F_SYSTEM);
        def(CSR, "csr", "x=x-", F_FAULTS | F_ENDS_BLOCK | F_SYSTEM);
        def(MRET, "mret", "-=--", F_FAULTS | F_ENDS_BLOCK | F_SYSTEM);
        def(SRET, "sret", "-=--", F_FAULTS | F_ENDS_BLOCK | F_SYSTEM);
        def(WFI, "wfi", "-=--", F_FAULTS | F_ENDS_BLOCK | F_SYSTEM);
        def(FENCE_I, "fence.i", "-=--", F_ENDS_BLOCK | F_SYSTEM);
        def(SFENCE_VMA, "sfence.vma", "-=xx", F_FAULTS | F_ENDS_BLOCK | F_SYSTEM);
        def(FP_DIRTY, "fp.dirty", "-=--", 0);

        defFp(FADD_S, "s", false);
        defFp(FADD_D, "d", true);
        def(FCVT_S_D, "fcvt.s.d", "f=f-", F_RM | F_FAULTS);
        def(FCVT_D_S, "fcvt.d.s", "f=f-", F_RM | F_FAULTS);
    }

    /** Defines the 28 ops of one FP format starting at {@code base} (FADD_S or FADD_D). */
    private static void defFp(int base, String t, boolean dbl) {
        int rm = F_RM | F_FAULTS; // a dynamic rounding mode can be invalid at run time
        def(base, "fadd." + t, "f=ff", rm);
        def(base + 1, "fsub." + t, "f=ff", rm);
        def(base + 2, "fmul." + t, "f=ff", rm);
        def(base + 3, "fdiv." + t, "f=ff", rm);
        def(base + 4, "fsqrt." + t, "f=f-", rm);
        def(base + 5, "fmin." + t, "f=ff", 0);
        def(base + 6, "fmax." + t, "f=ff", 0);
        def(base + 7, "fmadd." + t, "f=ff", rm);
        def(base + 8, "fmsub." + t, "f=ff", rm);
        def(base + 9, "fnmsub." + t, "f=ff", rm);
        def(base + 10, "fnmadd." + t, "f=ff", rm);
        def(base + 11, "fsgnj." + t, "f=ff", 0);
        def(base + 12, "fsgnjn." + t, "f=ff", 0);
        def(base + 13, "fsgnjx." + t, "f=ff", 0);
        def(base + 14, "feq." + t, "x=ff", 0);
        def(base + 15, "flt." + t, "x=ff", 0);
        def(base + 16, "fle." + t, "x=ff", 0);
        def(base + 17, "fclass." + t, "x=f-", 0);
        def(base + 18, "fcvt.w." + t, "x=f-", rm);
        def(base + 19, "fcvt.wu." + t, "x=f-", rm);
        def(base + 20, "fcvt.l." + t, "x=f-", rm);
        def(base + 21, "fcvt.lu." + t, "x=f-", rm);
        def(base + 22, "fcvt." + t + ".w", "f=x-", rm);
        def(base + 23, "fcvt." + t + ".wu", "f=x-", rm);
        def(base + 24, "fcvt." + t + ".l", "f=x-", rm);
        def(base + 25, "fcvt." + t + ".lu", "f=x-", rm);
        def(base + 26, dbl ? "fmv.x.d" : "fmv.x.w", "x=f-", 0);
        def(base + 27, dbl ? "fmv.d.x" : "fmv.w.x", "f=x-", 0);
    }

    public static boolean isDefined(int op) {
        return op >= 0 && op < COUNT && NAME[op] != null;
    }

    public static String name(int op) {
        return isDefined(op) ? NAME[op] : "op" + op;
    }

    public static String signature(int op) {
        return SIG[op];
    }

    public static int flags(int op) {
        return FLAGS[op];
    }

    public static boolean is(int op, int flag) {
        return (FLAGS[op] & flag) != 0;
    }

    /** True for the fused multiply-add family, whose third source sits in imm bits 8–15. */
    public static boolean isFma(int op) {
        return (op >= FMADD_S && op <= FNMADD_S) || (op >= FMADD_D && op <= FNMADD_D);
    }
}
