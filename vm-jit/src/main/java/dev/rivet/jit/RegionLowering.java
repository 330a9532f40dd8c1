package dev.rivet.jit;

import dev.rivet.core.fp.RvFloat;
import dev.rivet.core.riscv.Hart;
import dev.rivet.ir.IrBlock;
import dev.rivet.ir.Op;
import dev.rivet.ir.exec.BlockExit;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.ConstantDynamic;
import org.objectweb.asm.Handle;
import org.objectweb.asm.Label;
import org.objectweb.asm.LimitExceededException;
import org.objectweb.asm.MethodVisitor;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.rivet.core.fp.RoundingMode.RNE;
import static org.objectweb.asm.Opcodes.*;

/**
 * Lowers a {@code Region} — IR blocks of one page, the entry first — to the bytes of one
 * class implementing {@code CompiledBlock}: its {@code execute(Hart, int budget)} holds
 * guest slots in JVM locals, each loaded from {@code hart.regs} where a path first needs
 * it, so a region entered for a few instructions loads only what those read (see
 * {@link #analyseSlots}). Each block starts at a label; a
 * branch or final exit whose target is another block of the region (or the same one) is an
 * internal edge: it adds the block's instructions to a running count and jumps straight
 * there, so guest loops are JVM loops that HotSpot compiles (and OSR-enters) as such. An
 * edge leaves instead when the count reaches the budget or the hart asks for a break
 * ({@code Hart.unitBreak}: a device access, a write to a code page): that is where the
 * dispatcher would have polled timers and interrupts between interpreted blocks.
 *
 * <p>A region may hold copies of a small function for one call each ({@code
 * Region.inlinedAt}): the call jumps to its copy, and the copy's return compares its target
 * with the address after the call and jumps there; a call through a register compares with
 * the function's address first. Any other target goes the way of every indirect jump (the
 * region's shared dispatch, then out), so a copy changes where code runs, never what it does.
 *
 * <p>Every way out — taken branch, final exit, faulting load/store — writes back the slots
 * that may have changed on the way there (write-back code shared between exits, see
 * {@link #writeBack}), then reaches one shared tail that sets {@code pc}/{@code instret}
 * exactly as the interpreter does and, for a fault, takes the pending exception. The
 * per-site code is a few constants and a goto. A jump to code
 * outside the region may then go straight on into that code's compiled unit through the
 * site's {@code ExitLink} (see {@link #emitChains}).
 *
 * <p>Loads and stores keep the data TLB arrays and the RAM segment in locals (read once at
 * entry). In blocks on a loop of the region they probe the TLB inline: the probe of
 * {@code hart.lb..sd} as bytecode, the RAM access through the same layouts on a hit, and a
 * call to the hart's slow path and the fault check only on a miss (see {@link #emitProbe});
 * calls to the accessors, which HotSpot was left to inline, stayed calls at sites it did not
 * count as hot. Elsewhere they call the accessors: probing inline everywhere ran the
 * steady state 3-8% faster but cost {@code --jit=always}, which compiles every block, a
 * fifth more time (docs/BENCHMARKS.md, session 10).
 *
 * <p>F/D ops share the interpreter's exact semantics: they call {@code RvFloat} directly on
 * the values in locals; atomics call
 * {@code Atomics.compute}. Block-ending system ops (CSRs, traps, xRET, WFI, fences) are not
 * lowered: a block holding one stays out of regions and is interpreted.
 */
final class RegionLowering {
    static final String CLASS_NAME = "dev/rivet/jit/JitRegion";
    private static final String HART = "dev/rivet/core/riscv/Hart";
    private static final String RT = "dev/rivet/jit/JitRuntime";
    static final String RUN_DESC = "(L" + HART + ";I)I";
    private static final String LINK = "dev/rivet/ir/exec/ExitLink", LINK_DESC = "L" + LINK + ";";
    private static final String COMPILED = "dev/rivet/ir/exec/CompiledBlock";
    private static final String SEGMENT_DESC = "Ljava/lang/foreign/MemorySegment;";
    /** The class data ({@code MethodHandles.classData}): the RAM segment, or null (see {@code JitCompiler}). */
    private static final ConstantDynamic RAM_DATA = new ConstantDynamic("_", SEGMENT_DESC,
            new Handle(H_INVOKESTATIC, "java/lang/invoke/MethodHandles", "classData",
                    "(Ljava/lang/invoke/MethodHandles$Lookup;Ljava/lang/String;Ljava/lang/Class;)Ljava/lang/Object;", false));

    /** Why a block was not lowered (null when it was). */
    String rejection;
    /** Bytecode size of the generated {@code execute} method. */
    int codeSize;
    /**
     * The same without the chaining tail (run once per exit, a few dozen bytes per exit
     * site): what regions are sized by, as they were before chaining.
     */
    int bodySize;

    private final List<IrBlock> blocks;
    /** Per block: the index of its last op (its final exit). */
    private final int[] ends;
    /** Per block: where its code starts. */
    private final Label[] starts;
    /** Block index by entry PC (copies of called functions are not here). */
    private final Map<Long, Integer> blockAt = new HashMap<>();
    /** Per block: -1, or for a copy of a called function, the block whose call it serves. */
    private final int[] inlinedAt;
    /** The block whose jumps {@link #internal} resolves. */
    private int node;
    /** The block being lowered. */
    private IrBlock blk;
    /** Per block: true when it is on a loop of the region (it can reach itself). */
    private boolean[] onLoop;
    /** The block being lowered is on a loop: its loads and stores probe the TLB inline. */
    private boolean inlineProbe;
    /**
     * Where indirect jumps go in a region of several blocks: with the exit's pc, count and
     * kind already set, it continues inside the region when the target is one of its blocks.
     */
    private final Label indirect = new Label();
    private final int[] localOf = new int[IrBlock.MAX_SLOT + 1];
    private final List<Integer> used = new ArrayList<>();
    /**
     * Per block: the slots that may be dirty at its start (written on some path from the
     * region's entry), and those its locals hold on arrival: the dirty ones plus, for a
     * block on a loop, what the loop's blocks read (see {@link #analyseSlots}). Every edge
     * into a block loads what it lacks of the latter from {@code hart.regs}.
     */
    private BitSet[] dirtyIn, cachedIn;
    /** The slots that may be dirty where an indirect jump reaches {@link #indirect}. */
    private final BitSet indirectDirty = new BitSet();
    /**
     * While lowering: the slots whose local holds the current value (every slot not here
     * still has its value in {@code hart.regs}), and those among them that may differ from
     * {@code hart.regs} and must be written back on the way out.
     */
    private BitSet cached, dirty;
    /** Write-back code by the set of slots it writes back (see {@link #writeBack}). */
    private final Map<BitSet, Label> writeBacks = new HashMap<>();
    private final List<WriteBack> writeBackCode = new ArrayList<>();

    // Fixed locals: this and the two parameters, then the register array and instret at entry.
    private static final int L_SELF = 0, L_HART = 1, L_BUDGET = 2, L_REGS = 3, L_BASE = 4;
    /** Instructions retired in this call before the current block (an int). */
    private int lCnt;
    /** The dynamic rounding mode, read at entry (an int). */
    private int lFrm;
    private int lPc, lN, lKind, lTmp, lSite, lCode, lLeft;
    /**
     * The hart's data TLB arrays and RAM segment, read once at entry when the region loads or
     * stores (see {@code Hart.ld(long, long[], long[], MemorySegment)}).
     */
    private int lReadTag, lReadAdd, lWriteTag, lWriteAdd, lRam;
    /**
     * Which F/D arithmetic may take its plain fast path (see {@link #emitPlainFp}), read at
     * entry when the region has F/D ops (an int: {@code JitRuntime.fpPlain}).
     */
    private int lFpPlain;
    /** The address of an access whose TLB probe is inline (a long), and its TLB index (an int). */
    private int lVa, lIdx;
    private boolean hasLoads, hasStores, hasFp;
    /** Chainable exit sites (see {@link #emitChains}); each has a link field {@code link<k>}. */
    private int siteCount;
    /** The chainable sites that are indirect jumps (see {@link #emitChains}). */
    private final BitSet indirectSites = new BitSet();

    private RegionLowering(List<IrBlock> blocks, int[] inlinedAt) {
        this.blocks = blocks;
        this.inlinedAt = inlinedAt;
        this.ends = new int[blocks.size()];
        this.starts = new Label[blocks.size()];
        for (int k = 0; k < blocks.size(); k++) {
            starts[k] = new Label();
            if (inlinedAt[k] < 0) {
                blockAt.putIfAbsent(blocks.get(k).pc, k);
            }
        }
    }

    /** Lowers the blocks (entry first); {@link #bytes} is null with {@link #rejection} set if it cannot. */
    static RegionLowering lower(List<IrBlock> blocks) {
        return lower(blocks, false);
    }

    /** Lowers the blocks with copies of called functions (see {@code Region.inlinedAt}). */
    static RegionLowering lower(List<IrBlock> blocks, int[] inlinedAt) {
        return lower(blocks, inlinedAt, false);
    }

    /**
     * The same; with {@code compactAccess}, loads and stores call the hart's accessors even
     * in blocks on a loop: a quarter of the bytecode, for a block of little else that would
     * not fit in {@code JitCompiler.MAX_CODE_SIZE} otherwise.
     */
    static RegionLowering lower(List<IrBlock> blocks, boolean compactAccess) {
        int[] none = new int[blocks.size()];
        java.util.Arrays.fill(none, -1);
        return lower(blocks, none, compactAccess);
    }

    private static RegionLowering lower(List<IrBlock> blocks, int[] inlinedAt, boolean compactAccess) {
        RegionLowering l = new RegionLowering(blocks, inlinedAt);
        l.compactAccess = compactAccess;
        l.bytes = l.generate();
        return l;
    }

    /** Loads and stores call {@code hart.lb..sd} everywhere (see {@link #lower(List, boolean)}). */
    private boolean compactAccess;

    byte[] bytes;

    /** Blocks in the lowered region. */
    int blockCount() {
        return blocks.size();
    }

    /** True for the ops this tier compiles: all but the block-ending system ops (CSRs, traps, xRET, WFI, fences). */
    static boolean supported(int op) {
        if ((op >= Op.NOP && op <= Op.CZERO_NEZ) || (op >= Op.FADD_S && op < Op.COUNT)) {
            return Op.isDefined(op);
        }
        return (op >= Op.LD8S && op <= Op.FST64) || (op >= Op.LR_32 && op <= Op.AMO_64) || op == Op.EXIT
                || op == Op.EXIT_IND || (op >= Op.BR_EQ && op <= Op.BR_GEU) || op == Op.FP_DIRTY;
    }

    private static boolean isFp(int op) {
        return op >= Op.FADD_S && op < Op.COUNT;
    }

    /** Why this tier cannot lower {@code b} (an unsupported op, no final exit), or null. */
    static String unsupported(IrBlock b) {
        for (int i = 0; i < b.size(); i++) {
            int op = b.op(i);
            if (!supported(op)) {
                return "op " + Op.name(op);
            }
            if (op == Op.EXIT || op == Op.EXIT_IND) {
                return null;
            }
        }
        return "no final exit";
    }

    private byte[] generate() {
        java.util.Arrays.fill(localOf, -1);
        for (int k = 0; k < blocks.size(); k++) {
            IrBlock b = blocks.get(k);
            rejection = unsupported(b);
            if (rejection != null) {
                return null;
            }
            for (int i = 0; ; i++) {
                int op = b.op(i);
                if (target(b, i) >= 0) {
                    use(target(b, i));
                }
                for (int src : sources(b, i)) {
                    if (src >= 0) {
                        use(src);
                    }
                }
                hasLoads |= (op >= Op.LD8S && op <= Op.LD64) || op == Op.FLD32 || op == Op.FLD64;
                hasStores |= (op >= Op.ST8 && op <= Op.ST64) || op == Op.FST32 || op == Op.FST64;
                hasFp |= isFp(op);
                if (op == Op.EXIT || op == Op.EXIT_IND) {
                    ends[k] = i;
                    break;
                }
            }
        }
        analyseSlots();
        int next = L_BASE + 2 + 2 * used.size();
        lPc = next;
        lN = next + 2;
        lKind = next + 3;
        lTmp = next + 4;
        lCnt = next + 6;
        lFrm = next + 7;
        lSite = next + 8;
        lCode = next + 10;
        lLeft = next + 11;
        lReadTag = next + 12;
        lReadAdd = next + 13;
        lWriteTag = next + 14;
        lWriteAdd = next + 15;
        lRam = next + 16;
        lFpPlain = next + 17;
        lVa = next + 18;
        lIdx = next + 20;

        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES | ClassWriter.COMPUTE_MAXS) {
            @Override
            protected String getCommonSuperClass(String a, String b) {
                return "java/lang/Object";
            }
        };
        cw.visit(V21, ACC_PUBLIC | ACC_FINAL | ACC_SUPER, CLASS_NAME, null, COMPILED, null);
        MethodVisitor mv = cw.visitMethod(ACC_PUBLIC, "execute", RUN_DESC, null, null);
        mv.visitCode();
        Label start = new Label();
        mv.visitLabel(start);
        emitBody(mv);
        Label last = new Label();
        mv.visitLabel(last);
        codeSize = last.getOffset();
        if (codeSize > JitCompiler.MAX_CODE_SIZE) {
            // Of no use, so stop before ASM computes the frames: that is most of the cost of
            // a lowering, and past 32 KB (a whole 48-block region of FP code) ASM gives up
            // anyway, with LimitExceededException or MethodTooLargeException.
            rejection = codeSize + " bytes of bytecode, over " + JitCompiler.MAX_CODE_SIZE;
            return null;
        }
        try {
            mv.visitMaxs(0, 0);
        } catch (LimitExceededException e) {
            rejection = "ASM frame computation: " + e.getMessage();
            return null;
        }
        mv.visitEnd();

        // One link per chainable exit site, made with the instance (never shared between
        // instances of a cached class: links are valid for one translation epoch).
        MethodVisitor init = cw.visitMethod(ACC_PUBLIC, "<init>", "()V", null, null);
        init.visitCode();
        init.visitVarInsn(ALOAD, 0);
        init.visitMethodInsn(INVOKESPECIAL, COMPILED, "<init>", "()V", false);
        for (int k = 0; k < siteCount; k++) {
            cw.visitField(ACC_PRIVATE | ACC_FINAL, "link" + k, LINK_DESC, null, null).visitEnd();
            init.visitVarInsn(ALOAD, 0);
            init.visitTypeInsn(NEW, LINK);
            init.visitInsn(DUP);
            init.visitMethodInsn(INVOKESPECIAL, LINK, "<init>", "()V", false);
            init.visitFieldInsn(PUTFIELD, CLASS_NAME, "link" + k, LINK_DESC);
        }
        init.visitInsn(RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();
        cw.visitEnd();
        return cw.toByteArray();
    }

    private static final String RVFLOAT = "dev/rivet/core/fp/RvFloat", FPOPS = "dev/rivet/ir/exec/FpOps";
    private static final String FP_STATUS_DESC = "Ldev/rivet/core/fp/FpStatus;";

    /**
     * F/D ops as direct calls to {@code RvFloat} on values held in locals (small enough for
     * HotSpot to inline the fast paths), or as a few bytecodes for moves and sign injection,
     * with the rounding mode a constant or the dynamic mode read once at entry ({@code frm}
     * changes only through CSR writes, which end a region). Semantics are those of
     * {@code FpOps.execute}, the interpreter's routine: single-precision sources are unboxed,
     * results boxed, fused multiply-adds negate their inputs. Returns false for an op it
     * does not know.
     */
    private boolean emitDirectFp(MethodVisitor mv, int i, int op, int d, int a, int b, long imm, List<Site> sites) {
        boolean single = op < Op.FADD_D;
        int rel = op == Op.FCVT_S_D || op == Op.FCVT_D_S ? -1 : op - (single ? Op.FADD_S : Op.FADD_D);
        String t = single ? "I" : "J";
        String w = single ? "32" : "64";
        // Operand kinds: f = FP value (unboxed for single), i = int register as int, l = as long.
        // Result kinds: f = FP value (boxed for single), i = int (sign-extended), l = long, z = boolean.
        String name;
        String args;
        char res;
        boolean takesRm = true, takesStatus = true;
        switch (rel) {
            case 0, 1, 2, 3 -> {
                name = new String[] {"add", "sub", "mul", "div"}[rel] + w;
                args = "ff";
                res = 'f';
            }
            case 4 -> {
                name = "sqrt" + w;
                args = "f";
                res = 'f';
            }
            case 5, 6 -> {
                name = (rel == 5 ? "min" : "max") + w;
                args = "ff";
                res = 'f';
                takesRm = false;
            }
            case 7, 8, 9, 10 -> {
                // fmsub = a*b-c, fnmsub = -(a*b)+c, fnmadd = -(a*b)-c: negated inputs, one rounding.
                name = "fma" + w;
                args = "fff";
                res = 'f';
            }
            case 11, 12, 13 -> {
                emitSignInjection(mv, rel - 11, single, d, a, b);
                return true;
            }
            case 14, 15, 16 -> {
                name = new String[] {"eq", "lt", "le"}[rel - 14] + w;
                args = "ff";
                res = 'z';
                takesRm = false;
            }
            case 17 -> {
                name = "classify" + w;
                args = "f";
                res = 'i';
                takesRm = false;
                takesStatus = false;
            }
            case 18, 19, 20, 21 -> {
                name = "cvtF" + w + "To" + new String[] {"I32", "U32", "I64", "U64"}[rel - 18];
                args = "f";
                res = rel < 20 ? 'i' : 'l';
            }
            case 22, 23, 24, 25 -> {
                name = "cvt" + new String[] {"I32", "U32", "I64", "U64"}[rel - 22] + "ToF" + w;
                args = rel < 24 ? "i" : "l";
                res = 'f';
            }
            case 26 -> {
                // fmv.x.w sign-extends the low word; fmv.x.d moves the bits.
                ld(mv, a);
                if (single) {
                    mv.visitInsn(L2I);
                    mv.visitInsn(I2L);
                }
                st(mv, d);
                return true;
            }
            case 27 -> {
                ld(mv, a);
                if (single) {
                    mv.visitInsn(L2I);
                    call(mv, FPOPS, "box", "(I)J");
                }
                st(mv, d);
                return true;
            }
            default -> {
                if (op == Op.FCVT_S_D) {
                    name = "cvtF64ToF32";
                    args = "d";
                    res = 's';
                } else if (op == Op.FCVT_D_S) {
                    name = "cvtF32ToF64";
                    args = "s";
                    res = 'd';
                    takesRm = false;
                } else {
                    return false;
                }
            }
        }
        int rm = (int) imm & 7;
        if (Op.is(op, Op.F_RM) && rm == Op.RM_DYN) {
            // An invalid frm makes the op an illegal instruction (checked where it is used).
            Label bad = new Label();
            sites.add(site(bad, blk.insnPc(i), blk.insnIndex(i), BlockExit.EXIT_SYSTEM, -1, true));
            mv.visitVarInsn(ILOAD, lFrm);
            push(mv, 4);
            mv.visitJumpInsn(IF_ICMPGT, bad);
        }
        int[] slots = {a, b, Op.isFma(op) ? fmaThird(blk, i) : -1};
        Label done = null;
        if (rel >= 0 && (rel <= 4 || Op.isFma(op)) && (rm == RNE || rm == Op.RM_DYN)) {
            done = new Label();
            emitPlainFp(mv, op, rel, rm == Op.RM_DYN, single, name, args.length(), slots, d, done);
        }
        StringBuilder desc = new StringBuilder("(");
        for (int k = 0; k < args.length(); k++) {
            char kind = args.charAt(k);
            ld(mv, slots[k]);
            switch (kind) {
                case 'f' -> {
                    fpOperand(mv, op, rel, single, k);
                    desc.append(t);
                }
                case 's' -> {
                    call(mv, FPOPS, "unbox", "(J)I");
                    desc.append('I');
                }
                case 'i' -> {
                    mv.visitInsn(L2I);
                    desc.append('I');
                }
                default -> desc.append('J'); // 'l' and 'd': the register as it is
            }
        }
        if (takesRm) {
            if (rm == Op.RM_DYN) {
                mv.visitVarInsn(ILOAD, lFrm);
            } else {
                push(mv, rm); // the decoder turned reserved static modes into traps
            }
            desc.append('I');
        }
        if (takesStatus) {
            mv.visitVarInsn(ALOAD, L_HART);
            mv.visitFieldInsn(GETFIELD, HART, "fp", FP_STATUS_DESC);
            desc.append(FP_STATUS_DESC);
        }
        desc.append(')').append(switch (res) {
            case 'f' -> t;
            case 'i', 's' -> "I";
            case 'z' -> "Z";
            default -> "J";
        });
        call(mv, RVFLOAT, name, desc.toString());
        switch (res) {
            case 'f' -> {
                if (single) {
                    call(mv, FPOPS, "box", "(I)J");
                }
            }
            case 's' -> call(mv, FPOPS, "box", "(I)J");
            case 'i', 'z' -> mv.visitInsn(I2L);
            default -> {
            }
        }
        st(mv, d);
        if (done != null) {
            mv.visitLabel(done);
        }
        return true;
    }

    /**
     * An F/D operand on the stack (the register's value) made the operation's argument:
     * unboxed for single precision, negated where a fused multiply-add negates it.
     */
    private static void fpOperand(MethodVisitor mv, int op, int rel, boolean single, int k) {
        if (single) {
            call(mv, FPOPS, "unbox", "(J)I");
        }
        boolean negate = Op.isFma(op) && (k == 0 ? rel == 9 || rel == 10 : k == 2 && (rel == 8 || rel == 10));
        if (negate) {
            if (single) {
                push(mv, Integer.MIN_VALUE);
                mv.visitInsn(IXOR);
            } else {
                pushLong(mv, Long.MIN_VALUE);
                mv.visitInsn(LXOR);
            }
        }
    }

    /**
     * The plain fast path of add, sub, mul, div, sqrt and the fused multiply-adds: when the
     * region was entered with NX set and the op rounds to nearest-even (statically, or
     * {@code dyn} and frm was RNE at entry), {@code RvFloat}'s {@code *Plain} method alone,
     * and its result if it is not {@code NOT_PLAIN}; otherwise on to the full operation,
     * emitted next. The full operations start with the same test, but they are too big for
     * HotSpot to inline everywhere in a large region, and a call per op was most of an FP
     * loop's time. Flags only accrue inside a region (fflags and fcsr writes end it), so NX
     * set at entry stays set; NX raised later in the region just keeps the full path.
     */
    private void emitPlainFp(MethodVisitor mv, int op, int rel, boolean dyn, boolean single, String name,
            int operands, int[] slots, int d, Label done) {
        Label full = new Label();
        mv.visitVarInsn(ILOAD, lFpPlain);
        if (dyn) {
            push(mv, JitRuntime.FP_PLAIN_ANY_RNE);
            mv.visitJumpInsn(IF_ICMPNE, full);
        } else {
            mv.visitJumpInsn(IFEQ, full);
        }
        String t = single ? "I" : "J";
        for (int k = 0; k < operands; k++) {
            ld(mv, slots[k]);
            fpOperand(mv, op, rel, single, k);
        }
        String w = single ? "32" : "64";
        call(mv, RVFLOAT, name.substring(0, name.length() - 2) + "Plain" + w, "(" + t.repeat(operands) + ")" + t);
        if (single) {
            mv.visitInsn(DUP);
            mv.visitVarInsn(ISTORE, lTmp);
            push(mv, RvFloat.NOT_PLAIN32);
            mv.visitJumpInsn(IF_ICMPEQ, full);
            mv.visitVarInsn(ILOAD, lTmp);
            call(mv, FPOPS, "box", "(I)J");
        } else {
            mv.visitInsn(DUP2);
            mv.visitVarInsn(LSTORE, lTmp);
            pushLong(mv, RvFloat.NOT_PLAIN64);
            mv.visitInsn(LCMP);
            mv.visitJumpInsn(IFEQ, full);
            mv.visitVarInsn(LLOAD, lTmp);
        }
        st(mv, d);
        mv.visitJumpInsn(GOTO, done);
        mv.visitLabel(full);
    }

    /** fsgnj, fsgnjn, fsgnjx ({@code kind} 0, 1, 2): a's magnitude with b's sign, its negation, or the xor of both. */
    private void emitSignInjection(MethodVisitor mv, int kind, boolean single, int d, int a, int b) {
        if (single) {
            ld(mv, a);
            call(mv, FPOPS, "unbox", "(J)I");
            if (kind != 2) {
                push(mv, Integer.MAX_VALUE);
                mv.visitInsn(IAND);
            }
            ld(mv, b);
            call(mv, FPOPS, "unbox", "(J)I");
            if (kind == 1) {
                push(mv, -1);
                mv.visitInsn(IXOR);
            }
            push(mv, Integer.MIN_VALUE);
            mv.visitInsn(IAND);
            mv.visitInsn(kind == 2 ? IXOR : IOR);
            call(mv, FPOPS, "box", "(I)J");
        } else {
            ld(mv, a);
            if (kind != 2) {
                pushLong(mv, Long.MAX_VALUE);
                mv.visitInsn(LAND);
            }
            ld(mv, b);
            if (kind == 1) {
                pushLong(mv, -1);
                mv.visitInsn(LXOR);
            }
            pushLong(mv, Long.MIN_VALUE);
            mv.visitInsn(LAND);
            mv.visitInsn(kind == 2 ? LXOR : LOR);
        }
        st(mv, d);
    }

    /** The third source slot of a fused multiply-add (imm bits 8–15). */
    private static int fmaThird(IrBlock b, int i) {
        return (int) (b.imm(i) >>> 8) & 0xFF;
    }

    /** The slot op {@code i} of {@code b} writes, or -1. */
    private static int target(IrBlock b, int i) {
        return Op.signature(b.op(i)).charAt(0) != '-' ? b.d(i) : -1;
    }

    /** The slots op {@code i} of {@code b} reads (-1 for none). */
    private static int[] sources(IrBlock b, int i) {
        String sig = Op.signature(b.op(i));
        return new int[] {
            sig.charAt(2) != '-' ? b.a(i) : -1,
            sig.charAt(3) != '-' ? b.b(i) : -1,
            Op.isFma(b.op(i)) ? fmaThird(b, i) : -1,
        };
    }

    /**
     * Which slots may be dirty at each block's start and at {@link #indirect}: a forward
     * "may" data flow over the region's direct internal edges (branches and jumps), to a
     * fixed point. An indirect jump that continues inside the region writes back what its
     * target does not track as dirty (see {@link #emitIndirectDispatch}): a return into the
     * region must not make every block load what the returning function wrote.
     * Then what each block expects in its locals on arrival. A region entered for a few
     * instructions so loads only what those read, and writes back only what they wrote;
     * a loop keeps what it reads and writes in locals across iterations.
     */
    private void analyseSlots() {
        int n = blocks.size();
        dirtyIn = new BitSet[n];
        cachedIn = new BitSet[n];
        for (int k = 0; k < n; k++) {
            dirtyIn[k] = new BitSet();
        }
        boolean changed = true;
        while (changed) {
            changed = false;
            for (int k = 0; k < n; k++) {
                IrBlock b = blocks.get(k);
                node = k;
                BitSet d = (BitSet) dirtyIn[k].clone();
                for (int i = 0; i <= ends[k]; i++) {
                    int t = edgeTarget(b, i);
                    if (t >= 0) {
                        changed |= addAll(dirtyIn[t], d);
                    } else if (b.op(i) == Op.EXIT_IND && n > 1) {
                        changed |= addAll(indirectDirty, d);
                        if (predicted(k) >= 0) {
                            changed |= addAll(dirtyIn[predicted(k)], d);
                        }
                    }
                    if (architectural(target(b, i))) {
                        d.set(target(b, i));
                    }
                }
            }
        }
        // What each block reads before writing it, and which blocks each reaches by direct edges.
        BitSet[] reads = new BitSet[n], reach = new BitSet[n];
        onLoop = new boolean[n];
        for (int k = 0; k < n; k++) {
            IrBlock b = blocks.get(k);
            node = k;
            BitSet r = new BitSet(), w = new BitSet();
            reach[k] = new BitSet();
            if (predicted(k) >= 0) {
                reach[k].set(predicted(k));
            }
            for (int i = 0; i <= ends[k]; i++) {
                for (int src : sources(b, i)) {
                    if (src >= 0 && !w.get(src)) {
                        r.set(src);
                    }
                }
                if (target(b, i) >= 0) {
                    w.set(target(b, i));
                }
                if (edgeTarget(b, i) >= 0) {
                    reach[k].set(edgeTarget(b, i));
                }
            }
            reads[k] = r;
        }
        for (boolean grew = true; grew; ) {
            grew = false;
            for (int k = 0; k < n; k++) {
                for (int t = reach[k].nextSetBit(0); t >= 0; t = reach[k].nextSetBit(t + 1)) {
                    grew |= addAll(reach[k], reach[t]);
                }
            }
        }
        // A block on a loop expects in its locals what any block of that loop reads, so the
        // loop carries them round in locals; they are loaded once, where the loop is entered.
        // Any other block loads what it reads where it first reads it.
        for (int k = 0; k < n; k++) {
            BitSet c = (BitSet) dirtyIn[k].clone();
            for (int t = reach[k].nextSetBit(0); t >= 0; t = reach[k].nextSetBit(t + 1)) {
                if (reach[t].get(k)) {
                    c.or(reads[t]);
                }
            }
            cachedIn[k] = c;
            onLoop[k] = reach[k].get(k);
        }
    }

    /** The block of this region a direct jump or branch (op {@code i} of {@code b}) goes to, or -1. */
    private int edgeTarget(IrBlock b, int i) {
        int op = b.op(i);
        return op == Op.EXIT || (op >= Op.BR_EQ && op <= Op.BR_GEU) ? internal(b.imm(i)) : -1;
    }

    /**
     * True for a slot that outlives the instruction writing it, i.e. one that may need
     * writing back: not -1, the slot absorbing writes to x0, or a temporary (temporaries
     * live within one guest instruction, see {@code RiscvSlots}).
     */
    private static boolean architectural(int slot) {
        return slot >= 0 && slot < Hart.DISCARD;
    }

    /** {@code to |= from}; true if that changed {@code to}. */
    private static boolean addAll(BitSet to, BitSet from) {
        int before = to.cardinality();
        to.or(from);
        return to.cardinality() != before;
    }

    /** Loads into their locals the slots of {@code want} not cached yet (their values are still those in {@code hart.regs}). */
    private void fill(MethodVisitor mv, BitSet want) {
        for (int s = want.nextSetBit(0); s >= 0; s = want.nextSetBit(s + 1)) {
            load(mv, s);
        }
    }

    /** Loads slot {@code s} into its local unless it is cached already. */
    private void load(MethodVisitor mv, int s) {
        if (!cached.get(s)) {
            if (!architectural(s)) {
                throw new IllegalStateException("temporary " + s + " read before the instruction wrote it");
            }
            mv.visitVarInsn(ALOAD, L_REGS);
            push(mv, s);
            mv.visitInsn(LALOAD);
            mv.visitVarInsn(LSTORE, localOf[s]);
            cached.set(s);
        }
    }

    /**
     * Before jumping to block {@code t}: what may be dirty here must be tracked as dirty
     * there (the analysis guarantees it), and the block's expected locals are loaded.
     */
    private void enter(MethodVisitor mv, int t, BitSet cachedHere, BitSet dirtyHere) {
        BitSet extra = (BitSet) dirtyHere.clone();
        extra.andNot(dirtyIn[t]);
        if (!extra.isEmpty()) {
            throw new IllegalStateException("slot analysis: dirty " + extra + " not tracked into block " + t);
        }
        BitSet saved = cached;
        cached = (BitSet) cachedHere.clone();
        fill(mv, cachedIn[t]);
        cached = saved;
    }

    /** One write-back: stores {@code slots} to {@code hart.regs}, then goes on to {@code next}. */
    private record WriteBack(Label label, BitSet slots, Label next) {
    }

    /**
     * Where an exit with {@code dirtySlots} dirty goes: code that writes them back and then
     * reaches {@code tail}. Exits with the same set share it; a larger set writes what it
     * adds to the largest smaller set that already has code and continues there (the sets
     * of one block grow one write at a time), so each block adds a few bytes per write.
     */
    private Label writeBack(BitSet dirtySlots, Label tail) {
        if (dirtySlots.isEmpty()) {
            return tail;
        }
        Label l = writeBacks.get(dirtySlots);
        if (l != null) {
            return l;
        }
        BitSet base = null;
        if (lastWriteBack != null && subset(lastWriteBack, dirtySlots)) {
            base = lastWriteBack; // the usual case: the same block, a few more writes
        } else {
            for (BitSet known : writeBacks.keySet()) {
                if (subset(known, dirtySlots) && (base == null || known.cardinality() > base.cardinality())) {
                    base = known;
                }
            }
        }
        BitSet own = (BitSet) dirtySlots.clone();
        if (base != null) {
            own.andNot(base);
        }
        l = new Label();
        BitSet key = (BitSet) dirtySlots.clone();
        writeBacks.put(key, l);
        writeBackCode.add(new WriteBack(l, own, base == null ? tail : writeBacks.get(base)));
        lastWriteBack = key;
        return l;
    }

    /** The set most recently given write-back code. */
    private BitSet lastWriteBack;

    private static boolean subset(BitSet a, BitSet b) {
        BitSet rest = (BitSet) a.clone();
        rest.andNot(b);
        return rest.isEmpty();
    }

    private void emitWriteBacks(MethodVisitor mv) {
        for (int k = 0; k < writeBackCode.size(); k++) { // grows no more: every exit is emitted
            WriteBack w = writeBackCode.get(k);
            mv.visitLabel(w.label);
            store(mv, w.slots);
            mv.visitJumpInsn(GOTO, w.next);
        }
    }

    /** Writes the locals of {@code slots} back to {@code hart.regs}. */
    private void store(MethodVisitor mv, BitSet slots) {
        for (int s = slots.nextSetBit(0); s >= 0; s = slots.nextSetBit(s + 1)) {
            mv.visitVarInsn(ALOAD, L_REGS);
            push(mv, s);
            mv.visitVarInsn(LLOAD, localOf[s]);
            mv.visitInsn(LASTORE);
        }
    }

    private void use(int slot) {
        if (localOf[slot] < 0) {
            localOf[slot] = L_BASE + 2 + 2 * used.size();
            used.add(slot);
        }
    }

    /**
     * An out-of-line exit: where the main path jumps, and what the site sets ({@code n}:
     * instructions retired in the current block). With {@code edge >= 0} it is an internal
     * edge to that block, taken unless the budget is used up.
     */
    private record Site(Label label, long pc, int n, int kind, int edge, boolean illegal, BitSet cached, BitSet dirty) {
    }

    /** A site where the code is now: the slots cached and dirty at this point go with it. */
    private Site site(Label label, long pc, int n, int kind, int edge, boolean illegal) {
        return new Site(label, pc, n, kind, edge, illegal, (BitSet) cached.clone(), (BitSet) dirty.clone());
    }

    private static void hartField(MethodVisitor mv, String name, String desc, int local) {
        mv.visitVarInsn(ALOAD, L_HART);
        mv.visitFieldInsn(GETFIELD, HART, name, desc);
        mv.visitVarInsn(ASTORE, local);
    }

    private void emitBody(MethodVisitor mv) {
        // Entry: regs and base, then every slot into its local.
        hartField(mv, "regs", "[J", L_REGS);
        mv.visitVarInsn(ALOAD, L_HART);
        mv.visitFieldInsn(GETFIELD, HART, "instret", "J");
        mv.visitVarInsn(LSTORE, L_BASE);
        mv.visitInsn(ICONST_0);
        mv.visitVarInsn(ISTORE, lCnt);
        mv.visitVarInsn(ALOAD, L_HART);
        mv.visitFieldInsn(GETFIELD, HART, "frm", "I");
        mv.visitVarInsn(ISTORE, lFrm);
        if (hasFp) {
            mv.visitVarInsn(ALOAD, L_HART);
            call(mv, RT, "fpPlain", "(L" + HART + ";)I");
            mv.visitVarInsn(ISTORE, lFpPlain);
        }
        if (hasLoads) {
            hartField(mv, "readTag", "[J", lReadTag);
            hartField(mv, "readAdd", "[J", lReadAdd);
        }
        if (hasStores) {
            hartField(mv, "writeTag", "[J", lWriteTag);
            hartField(mv, "writeAdd", "[J", lWriteAdd);
        }
        if (hasLoads || hasStores) {
            // The class's RAM when it was defined for one machine (a constant HotSpot folds
            // into every access), else the hart's.
            Label bound = new Label();
            mv.visitLdcInsn(RAM_DATA);
            mv.visitInsn(DUP);
            mv.visitJumpInsn(IFNONNULL, bound);
            mv.visitInsn(POP);
            mv.visitVarInsn(ALOAD, L_HART);
            mv.visitFieldInsn(GETFIELD, HART, "ram", SEGMENT_DESC);
            mv.visitLabel(bound);
            mv.visitVarInsn(ASTORE, lRam);
        }
        // The entry block's locals, as if from an edge with nothing cached or dirty.
        cached = new BitSet();
        dirty = new BitSet();
        fill(mv, cachedIn[0]);
        List<Site> sites = new ArrayList<>();
        Label tail = new Label();
        for (int k = 0; k < blocks.size(); k++) {
            blk = blocks.get(k);
            node = k;
            inlineProbe = onLoop[k] && !compactAccess;
            mv.visitLabel(starts[k]);
            cached = (BitSet) cachedIn[k].clone();
            dirty = (BitSet) dirtyIn[k].clone();
            for (int i = 0; i <= ends[k]; i++) {
                for (int src : sources(blk, i)) {
                    if (src >= 0) {
                        load(mv, src);
                    }
                }
                emitOp(mv, i, sites, tail);
            }
        }
        for (Site s : sites) {
            mv.visitLabel(s.label);
            if (s.edge >= 0) {
                emitEdge(mv, s.pc, s.n, s.kind, s.edge, tail, s.cached, s.dirty);
            } else {
                if (s.illegal) {
                    mv.visitVarInsn(ALOAD, L_HART);
                    call(mv, RT, "illegalInstruction", "(L" + HART + ";)V");
                }
                emitSiteConstants(mv, s.pc, s.n, s.kind);
                mv.visitJumpInsn(GOTO, writeBack(s.dirty, tail));
            }
        }
        if (blocks.size() > 1) {
            emitIndirectDispatch(mv, tail);
        }
        emitWriteBacks(mv);
        // The shared tail (every slot that was dirty is written back): set pc and
        // instret, take a pending fault.
        mv.visitLabel(tail);
        mv.visitVarInsn(ALOAD, L_HART);
        mv.visitVarInsn(LLOAD, lPc);
        mv.visitFieldInsn(PUTFIELD, HART, "pc", "J");
        mv.visitVarInsn(ALOAD, L_HART);
        mv.visitVarInsn(LLOAD, L_BASE);
        mv.visitVarInsn(ILOAD, lN);
        mv.visitInsn(I2L);
        mv.visitInsn(LADD);
        mv.visitFieldInsn(PUTFIELD, HART, "instret", "J");
        Label ret = new Label(), chain = new Label();
        mv.visitVarInsn(ILOAD, lKind);
        push(mv, BlockExit.EXIT_SYSTEM);
        mv.visitJumpInsn(IF_ICMPNE, chain);
        mv.visitVarInsn(ALOAD, L_HART);
        mv.visitMethodInsn(INVOKEVIRTUAL, HART, "takePendingException", "()V", false);
        mv.visitLabel(ret);
        mv.visitVarInsn(ILOAD, lKind);
        mv.visitInsn(IRETURN);
        mv.visitLabel(chain);
        bodySize = chain.getOffset();
        emitChains(mv, ret);
    }

    /**
     * Chaining: leaving through a jump to code outside the region (site {@code k}, with pc,
     * instret and registers already written back), the code goes on into the compiled code
     * {@code link<k>} holds for that pc, if the budget has room, nothing asks for the
     * dispatcher (a break, an interrupt pending, a stop) and the chain is not too deep;
     * otherwise it returns, handing an empty or mismatched link to the dispatcher to fill.
     * Each site calls through its own {@code invokeinterface}, so each call site sees one
     * receiver class and HotSpot makes it a direct call: the dispatcher's one call site
     * for all compiled code is megamorphic, and with regions left every ~16-40 guest
     * instructions that call and the dispatcher loop were about a third of the hart's time.
     */
    private void emitChains(MethodVisitor mv, Label ret) {
        if (siteCount == 0) {
            mv.visitJumpInsn(GOTO, ret);
            return;
        }
        Label[] cases = new Label[siteCount];
        for (int k = 0; k < siteCount; k++) {
            cases[k] = new Label();
        }
        mv.visitVarInsn(ILOAD, lSite);
        mv.visitTableSwitchInsn(0, siteCount - 1, ret, cases);
        for (int k = 0; k < siteCount; k++) {
            mv.visitLabel(cases[k]);
            mv.visitVarInsn(ALOAD, L_SELF);
            mv.visitFieldInsn(GETFIELD, CLASS_NAME, "link" + k, LINK_DESC);
            mv.visitVarInsn(ALOAD, L_HART);
            mv.visitVarInsn(LLOAD, lPc);
            mv.visitVarInsn(ILOAD, L_BUDGET);
            mv.visitVarInsn(ILOAD, lN);
            mv.visitInsn(ISUB);
            mv.visitInsn(DUP);
            mv.visitVarInsn(ISTORE, lLeft);
            call(mv, RT, "chainTarget", "(" + LINK_DESC + "L" + HART + ";JI)L" + COMPILED + ";");
            mv.visitInsn(DUP);
            mv.visitVarInsn(ASTORE, lCode);
            mv.visitJumpInsn(IFNULL, ret);
            mv.visitVarInsn(ALOAD, lCode);
            mv.visitVarInsn(ALOAD, L_HART);
            mv.visitVarInsn(ILOAD, lLeft);
            if (indirectSites.get(k)) {
                call(mv, RT, "enterIndirect", "(L" + COMPILED + ";L" + HART + ";I)I");
            } else {
                mv.visitMethodInsn(INVOKEVIRTUAL, COMPILED, "execute", RUN_DESC, false);
            }
            mv.visitInsn(IRETURN);
        }
    }

    /**
     * Sets the exit's pc, retired count (the running count plus {@code n}) and kind, and
     * for a jump to code outside the region, a new chainable site.
     */
    private void emitSiteConstants(MethodVisitor mv, long pc, int n, int kind) {
        emitSiteConstants(mv, pc, n, kind, kind == BlockExit.EXIT_SYSTEM ? -1 : siteCount++);
    }

    private void emitSiteConstants(MethodVisitor mv, long pc, int n, int kind, int site) {
        push(mv, site);
        mv.visitVarInsn(ISTORE, lSite);
        mv.visitLdcInsn(pc);
        mv.visitVarInsn(LSTORE, lPc);
        mv.visitVarInsn(ILOAD, lCnt);
        if (n != 0) {
            push(mv, n);
            mv.visitInsn(IADD);
        }
        mv.visitVarInsn(ISTORE, lN);
        push(mv, kind);
        mv.visitVarInsn(ISTORE, lKind);
    }

    /**
     * An internal edge after {@code n} instructions of the current block: count them, then
     * jump to block {@code target} unless the budget is used up, else leave for {@code pc}.
     */
    private void emitEdge(MethodVisitor mv, long pc, int n, int kind, int target, Label tail, BitSet cachedHere,
            BitSet dirtyHere) {
        Label leave = new Label();
        mv.visitIincInsn(lCnt, n);
        emitBudgetCheck(mv, leave);
        enter(mv, target, cachedHere, dirtyHere);
        mv.visitJumpInsn(GOTO, starts[target]);
        mv.visitLabel(leave);
        emitSiteConstants(mv, pc, 0, kind, -1); // left for the budget or a break: no chaining
        mv.visitJumpInsn(GOTO, writeBack(dirtyHere, tail));
    }

    /** Jumps to {@code leave} if the budget is used up or the hart asks for a break. */
    private void emitBudgetCheck(MethodVisitor mv, Label leave) {
        mv.visitVarInsn(ILOAD, lCnt);
        mv.visitVarInsn(ILOAD, L_BUDGET);
        mv.visitJumpInsn(IF_ICMPGE, leave);
        mv.visitVarInsn(ALOAD, L_HART);
        mv.visitFieldInsn(GETFIELD, HART, "unitBreak", "Z");
        mv.visitJumpInsn(IFNE, leave);
    }

    /**
     * The target of an indirect jump (a return, a call through a pointer) may be a block of
     * this region: one {@code lookupswitch} per region on the target's low 32 bits (region
     * blocks share a page, so those differ), then the full compare, then the budget check
     * of an internal edge. {@link #lPc}, {@link #lN} and {@link #lKind} are already those of
     * the exit, which is taken when the target is elsewhere or the budget is used up.
     */
    private void emitIndirectDispatch(MethodVisitor mv, Label tail) {
        int m = blockAt.size();
        Integer[] order = blockAt.values().toArray(new Integer[0]);
        java.util.Arrays.sort(order, (x, y) -> Integer.compare((int) blocks.get(x).pc, (int) blocks.get(y).pc));
        int[] keys = new int[m];
        Label[] cases = new Label[m];
        for (int k = 0; k < m; k++) {
            keys[k] = (int) blocks.get(order[k]).pc;
            cases[k] = new Label();
        }
        Label leave = writeBack(indirectDirty, tail);
        mv.visitLabel(indirect);
        mv.visitVarInsn(LLOAD, lPc);
        mv.visitInsn(L2I);
        mv.visitLookupSwitchInsn(leave, keys, cases);
        for (int k = 0; k < m; k++) {
            mv.visitLabel(cases[k]);
            mv.visitVarInsn(LLOAD, lPc);
            mv.visitLdcInsn(blocks.get(order[k]).pc);
            mv.visitInsn(LCMP);
            mv.visitJumpInsn(IFNE, leave);
            mv.visitVarInsn(ILOAD, lN);
            mv.visitVarInsn(ISTORE, lCnt);
            emitBudgetCheck(mv, leave);
            BitSet flush = (BitSet) indirectDirty.clone();
            flush.andNot(dirtyIn[order[k]]);
            store(mv, flush);
            BitSet stillDirty = (BitSet) indirectDirty.clone();
            stillDirty.and(dirtyIn[order[k]]);
            enter(mv, order[k], indirectDirty, stillDirty);
            mv.visitJumpInsn(GOTO, starts[order[k]]);
        }
    }

    /**
     * The block of this region starting at {@code pc} that a jump from block {@link #node}
     * goes to, or -1: within a copy of a called function, the copy's own blocks first; from
     * a call whose function was copied, the copy; else the region's block at that pc.
     */
    private int internal(long pc) {
        int call = inlinedAt[node] >= 0 ? inlinedAt[node] : node;
        for (int k = call + 1; k < blocks.size(); k++) {
            if (inlinedAt[k] == call && blocks.get(k).pc == pc) {
                return k;
            }
        }
        Integer k = blockAt.get(pc);
        return k == null ? -1 : k;
    }

    /**
     * Where block {@code k}'s final indirect jump is expected to go inside the region, or
     * -1: for a call through a register whose function was copied, the copy's entry; for a
     * return from a copy, the block after its call. The jump compares and goes there
     * directly; any other target takes the region's shared dispatch.
     */
    private int predicted(int k) {
        if (blocks.get(k).op(ends[k]) != Op.EXIT_IND) {
            return -1;
        }
        for (int j = k + 1; j < blocks.size(); j++) {
            if (inlinedAt[j] == k) {
                return j;
            }
        }
        if (inlinedAt[k] >= 0) {
            IrBlock call = blocks.get(inlinedAt[k]);
            Integer after = blockAt.get(call.pc + call.byteLength);
            return after == null ? -1 : after;
        }
        return -1;
    }


    private static void push(MethodVisitor mv, int v) {
        if (v >= -1 && v <= 5) {
            mv.visitInsn(ICONST_0 + v);
        } else if (v >= Byte.MIN_VALUE && v <= Byte.MAX_VALUE) {
            mv.visitIntInsn(BIPUSH, v);
        } else if (v >= Short.MIN_VALUE && v <= Short.MAX_VALUE) {
            mv.visitIntInsn(SIPUSH, v);
        } else {
            mv.visitLdcInsn(v);
        }
    }

    private static void pushLong(MethodVisitor mv, long v) {
        if (v == 0) {
            mv.visitInsn(LCONST_0);
        } else if (v == 1) {
            mv.visitInsn(LCONST_1);
        } else if (v >= -1 && v <= 5) {
            push(mv, (int) v);
            mv.visitInsn(I2L);
        } else {
            mv.visitLdcInsn(v);
        }
    }

    /** Pushes a slot's value: its local, which {@code emitBody} has loaded before the op. */
    private void ld(MethodVisitor mv, int slot) {
        if (!cached.get(slot)) {
            throw new IllegalStateException("slot " + slot + " read before it was loaded");
        }
        mv.visitVarInsn(LLOAD, localOf[slot]);
    }

    private void st(MethodVisitor mv, int slot) {
        mv.visitVarInsn(LSTORE, localOf[slot]);
        cached.set(slot);
        if (architectural(slot)) {
            dirty.set(slot);
        }
    }

    private static void rt(MethodVisitor mv, String name) {
        mv.visitMethodInsn(INVOKESTATIC, RT, name, "(JJ)J", false);
    }

    private static void rt1(MethodVisitor mv, String name) {
        mv.visitMethodInsn(INVOKESTATIC, RT, name, "(J)J", false);
    }

    private static void call(MethodVisitor mv, String owner, String name, String desc) {
        mv.visitMethodInsn(INVOKESTATIC, owner, name, desc, false);
    }

    private void emitOp(MethodVisitor mv, int i, List<Site> sites, Label tail) {
        final int op = blk.op(i), d = blk.d(i), a = blk.a(i), b = blk.b(i);
        final long imm = blk.imm(i);
        switch (op) {
            case Op.NOP -> {
            }
            case Op.FP_DIRTY -> {
                mv.visitVarInsn(ALOAD, L_HART);
                mv.visitMethodInsn(INVOKEVIRTUAL, HART, "markFpDirty", "()V", false);
            }
            case Op.MOV -> {
                ld(mv, a);
                st(mv, d);
            }
            case Op.MOVI -> {
                pushLong(mv, imm);
                st(mv, d);
            }
            case Op.ADD, Op.SUB, Op.AND, Op.OR, Op.XOR, Op.MUL -> {
                ld(mv, a);
                ld(mv, b);
                mv.visitInsn(switch (op) {
                    case Op.ADD -> LADD;
                    case Op.SUB -> LSUB;
                    case Op.AND -> LAND;
                    case Op.OR -> LOR;
                    case Op.XOR -> LXOR;
                    default -> LMUL;
                });
                st(mv, d);
            }
            case Op.SHL, Op.SHR, Op.SAR -> {
                ld(mv, a);
                ld(mv, b);
                mv.visitInsn(L2I);
                mv.visitInsn(op == Op.SHL ? LSHL : op == Op.SHR ? LUSHR : LSHR);
                st(mv, d);
            }
            case Op.SLT, Op.SLTU, Op.MULHSU, Op.DIV, Op.DIVU, Op.REM, Op.REMU, Op.DIV_32, Op.DIVU_32,
                 Op.REM_32, Op.REMU_32, Op.MAXU, Op.MINU, Op.BCLR, Op.BEXT, Op.BINV, Op.BSET,
                 Op.CZERO_EQZ, Op.CZERO_NEZ -> {
                ld(mv, a);
                ld(mv, b);
                rt(mv, switch (op) {
                    case Op.SLT -> "slt";
                    case Op.SLTU -> "sltu";
                    case Op.MULHSU -> "mulhsu";
                    case Op.DIV -> "div";
                    case Op.DIVU -> "divu";
                    case Op.REM -> "rem";
                    case Op.REMU -> "remu";
                    case Op.DIV_32 -> "div32";
                    case Op.DIVU_32 -> "divu32";
                    case Op.REM_32 -> "rem32";
                    case Op.REMU_32 -> "remu32";
                    case Op.MAXU -> "maxu";
                    case Op.MINU -> "minu";
                    case Op.BCLR -> "bclr";
                    case Op.BEXT -> "bext";
                    case Op.BINV -> "binv";
                    case Op.BSET -> "bset";
                    case Op.CZERO_EQZ -> "czeroEqz";
                    default -> "czeroNez";
                });
                st(mv, d);
            }
            case Op.SLTI, Op.SLTIU, Op.BCLRI, Op.BEXTI, Op.BINVI, Op.BSETI -> {
                ld(mv, a);
                pushLong(mv, imm);
                rt(mv, switch (op) {
                    case Op.SLTI -> "slt";
                    case Op.SLTIU -> "sltu";
                    case Op.BCLRI -> "bclr";
                    case Op.BEXTI -> "bext";
                    case Op.BINVI -> "binv";
                    default -> "bset";
                });
                st(mv, d);
            }
            case Op.MULH, Op.MULHU, Op.MAX, Op.MIN -> {
                ld(mv, a);
                ld(mv, b);
                call(mv, "java/lang/Math", switch (op) {
                    case Op.MULH -> "multiplyHigh";
                    case Op.MULHU -> "unsignedMultiplyHigh";
                    case Op.MAX -> "max";
                    default -> "min";
                }, "(JJ)J");
                st(mv, d);
            }
            case Op.ADDI, Op.ANDI, Op.ORI, Op.XORI -> {
                ld(mv, a);
                pushLong(mv, imm);
                mv.visitInsn(op == Op.ADDI ? LADD : op == Op.ANDI ? LAND : op == Op.ORI ? LOR : LXOR);
                st(mv, d);
            }
            case Op.SHLI, Op.SHRI, Op.SARI -> {
                ld(mv, a);
                push(mv, (int) imm);
                mv.visitInsn(op == Op.SHLI ? LSHL : op == Op.SHRI ? LUSHR : LSHR);
                st(mv, d);
            }
            case Op.ADD_32, Op.SUB_32 -> {
                ld(mv, a);
                ld(mv, b);
                mv.visitInsn(op == Op.ADD_32 ? LADD : LSUB);
                mv.visitInsn(L2I);
                mv.visitInsn(I2L);
                st(mv, d);
            }
            case Op.SHL_32, Op.SHR_32, Op.SAR_32 -> {
                ld(mv, a);
                mv.visitInsn(L2I);
                ld(mv, b);
                mv.visitInsn(L2I);
                mv.visitInsn(op == Op.SHL_32 ? ISHL : op == Op.SHR_32 ? IUSHR : ISHR);
                mv.visitInsn(I2L);
                st(mv, d);
            }
            case Op.MUL_32 -> {
                ld(mv, a);
                mv.visitInsn(L2I);
                ld(mv, b);
                mv.visitInsn(L2I);
                mv.visitInsn(IMUL);
                mv.visitInsn(I2L);
                st(mv, d);
            }
            case Op.ADDI_32 -> {
                ld(mv, a);
                pushLong(mv, imm);
                mv.visitInsn(LADD);
                mv.visitInsn(L2I);
                mv.visitInsn(I2L);
                st(mv, d);
            }
            case Op.SHLI_32, Op.SHRI_32, Op.SARI_32 -> {
                ld(mv, a);
                mv.visitInsn(L2I);
                push(mv, (int) imm);
                mv.visitInsn(op == Op.SHLI_32 ? ISHL : op == Op.SHRI_32 ? IUSHR : ISHR);
                mv.visitInsn(I2L);
                st(mv, d);
            }
            case Op.SHADD, Op.SHADD_UW -> {
                ld(mv, a);
                if (op == Op.SHADD_UW) {
                    mv.visitLdcInsn(0xFFFF_FFFFL);
                    mv.visitInsn(LAND);
                }
                push(mv, (int) imm);
                mv.visitInsn(LSHL);
                ld(mv, b);
                mv.visitInsn(LADD);
                st(mv, d);
            }
            case Op.ADD_UW -> {
                ld(mv, a);
                mv.visitLdcInsn(0xFFFF_FFFFL);
                mv.visitInsn(LAND);
                ld(mv, b);
                mv.visitInsn(LADD);
                st(mv, d);
            }
            case Op.SHLI_UW -> {
                ld(mv, a);
                mv.visitLdcInsn(0xFFFF_FFFFL);
                mv.visitInsn(LAND);
                push(mv, (int) imm);
                mv.visitInsn(LSHL);
                st(mv, d);
            }
            case Op.ANDN, Op.ORN -> {
                ld(mv, a);
                ld(mv, b);
                pushLong(mv, -1);
                mv.visitInsn(LXOR);
                mv.visitInsn(op == Op.ANDN ? LAND : LOR);
                st(mv, d);
            }
            case Op.XNOR -> {
                ld(mv, a);
                ld(mv, b);
                mv.visitInsn(LXOR);
                pushLong(mv, -1);
                mv.visitInsn(LXOR);
                st(mv, d);
            }
            case Op.CLZ, Op.CTZ, Op.CPOP -> {
                ld(mv, a);
                call(mv, "java/lang/Long", op == Op.CLZ ? "numberOfLeadingZeros"
                        : op == Op.CTZ ? "numberOfTrailingZeros" : "bitCount", "(J)I");
                mv.visitInsn(I2L);
                st(mv, d);
            }
            case Op.CLZ_32, Op.CTZ_32, Op.CPOP_32 -> {
                ld(mv, a);
                mv.visitInsn(L2I);
                call(mv, "java/lang/Integer", op == Op.CLZ_32 ? "numberOfLeadingZeros"
                        : op == Op.CTZ_32 ? "numberOfTrailingZeros" : "bitCount", "(I)I");
                mv.visitInsn(I2L);
                st(mv, d);
            }
            case Op.SEXT8, Op.SEXT16 -> {
                ld(mv, a);
                mv.visitInsn(L2I);
                mv.visitInsn(op == Op.SEXT8 ? I2B : I2S);
                mv.visitInsn(I2L);
                st(mv, d);
            }
            case Op.ZEXT16 -> {
                ld(mv, a);
                mv.visitLdcInsn(0xFFFFL);
                mv.visitInsn(LAND);
                st(mv, d);
            }
            case Op.ROL, Op.ROR -> {
                ld(mv, a);
                ld(mv, b);
                mv.visitInsn(L2I);
                call(mv, "java/lang/Long", op == Op.ROL ? "rotateLeft" : "rotateRight", "(JI)J");
                st(mv, d);
            }
            case Op.ROL_32, Op.ROR_32 -> {
                ld(mv, a);
                mv.visitInsn(L2I);
                ld(mv, b);
                mv.visitInsn(L2I);
                call(mv, "java/lang/Integer", op == Op.ROL_32 ? "rotateLeft" : "rotateRight", "(II)I");
                mv.visitInsn(I2L);
                st(mv, d);
            }
            case Op.RORI -> {
                ld(mv, a);
                push(mv, (int) imm);
                call(mv, "java/lang/Long", "rotateRight", "(JI)J");
                st(mv, d);
            }
            case Op.RORI_32 -> {
                ld(mv, a);
                mv.visitInsn(L2I);
                push(mv, (int) imm);
                call(mv, "java/lang/Integer", "rotateRight", "(II)I");
                mv.visitInsn(I2L);
                st(mv, d);
            }
            case Op.ORC_B -> {
                ld(mv, a);
                rt1(mv, "orcB");
                st(mv, d);
            }
            case Op.REV8 -> {
                ld(mv, a);
                call(mv, "java/lang/Long", "reverseBytes", "(J)J");
                st(mv, d);
            }

            case Op.LD8S, Op.LD8U, Op.LD16S, Op.LD16U, Op.LD32S, Op.LD32U, Op.LD64, Op.FLD32, Op.FLD64 -> {
                if (inlineProbe) {
                    emitLoad(mv, op, i, a, d, imm, sites);
                    return;
                }
                mv.visitVarInsn(ALOAD, L_HART);
                ld(mv, a);
                pushLong(mv, imm);
                mv.visitInsn(LADD);
                mv.visitVarInsn(ALOAD, lReadTag);
                mv.visitVarInsn(ALOAD, lReadAdd);
                mv.visitVarInsn(ALOAD, lRam);
                mv.visitMethodInsn(INVOKEVIRTUAL, HART, accessor(accessSize(op), false), "(J[J[J" + SEGMENT_DESC + ")J", false);
                mv.visitVarInsn(LSTORE, lTmp);
                faultCheck(mv, i, sites);
                mv.visitVarInsn(LLOAD, lTmp);
                finishLoad(mv, op, d);
            }
            case Op.ST8, Op.ST16, Op.ST32, Op.ST64, Op.FST32, Op.FST64 -> {
                if (inlineProbe) {
                    emitStore(mv, op, i, a, b, imm, sites);
                    return;
                }
                mv.visitVarInsn(ALOAD, L_HART);
                ld(mv, a);
                pushLong(mv, imm);
                mv.visitInsn(LADD);
                ld(mv, b);
                mv.visitVarInsn(ALOAD, lWriteTag);
                mv.visitVarInsn(ALOAD, lWriteAdd);
                mv.visitVarInsn(ALOAD, lRam);
                mv.visitMethodInsn(INVOKEVIRTUAL, HART, accessor(accessSize(op), true), "(JJ[J[J" + SEGMENT_DESC + ")V", false);
                faultCheck(mv, i, sites);
            }

            case Op.BR_EQ, Op.BR_NE, Op.BR_LT, Op.BR_GE, Op.BR_LTU, Op.BR_GEU -> {
                Label taken = new Label();
                sites.add(site(taken, imm, blk.insnIndex(i) + 1, BlockExit.EXIT_TAKEN, internal(imm), false));
                ld(mv, a);
                ld(mv, b);
                if (op == Op.BR_LTU || op == Op.BR_GEU) {
                    call(mv, "java/lang/Long", "compareUnsigned", "(JJ)I");
                } else {
                    mv.visitInsn(LCMP);
                }
                mv.visitJumpInsn(switch (op) {
                    case Op.BR_EQ -> IFEQ;
                    case Op.BR_NE -> IFNE;
                    case Op.BR_LT, Op.BR_LTU -> IFLT;
                    default -> IFGE;
                }, taken);
            }
            case Op.EXIT -> {
                int target = internal(imm);
                if (target >= 0) {
                    emitEdge(mv, imm, blk.insnIndex(i) + 1, BlockExit.EXIT_FALL, target, tail, cached, dirty);
                } else {
                    emitSiteConstants(mv, imm, blk.insnIndex(i) + 1, BlockExit.EXIT_FALL);
                    mv.visitJumpInsn(GOTO, writeBack(dirty, tail));
                }
            }
            case Op.EXIT_IND -> {
                int expected = predicted(node);
                if (expected >= 0) {
                    Label other = new Label();
                    ld(mv, a);
                    mv.visitLdcInsn(blocks.get(expected).pc);
                    mv.visitInsn(LCMP);
                    mv.visitJumpInsn(IFNE, other);
                    emitEdge(mv, blocks.get(expected).pc, blk.insnIndex(i) + 1, BlockExit.EXIT_FALL, expected, tail,
                            cached, dirty);
                    mv.visitLabel(other);
                }
                indirectSites.set(siteCount);
                push(mv, siteCount++);
                mv.visitVarInsn(ISTORE, lSite);
                ld(mv, a);
                mv.visitVarInsn(LSTORE, lPc);
                mv.visitVarInsn(ILOAD, lCnt);
                push(mv, blk.insnIndex(i) + 1);
                mv.visitInsn(IADD);
                mv.visitVarInsn(ISTORE, lN);
                push(mv, BlockExit.EXIT_FALL);
                mv.visitVarInsn(ISTORE, lKind);
                if (blocks.size() > 1) {
                    // Everything that may be dirty at the shared dispatch is in a local there.
                    fill(mv, indirectDirty);
                    mv.visitJumpInsn(GOTO, indirect);
                } else {
                    mv.visitJumpInsn(GOTO, writeBack(dirty, tail));
                }
            }
            case Op.LR_32, Op.LR_64, Op.SC_32, Op.SC_64, Op.AMO_32, Op.AMO_64 -> {
                // The shared semantics (reservation, code-page writes, alignment and RAM checks).
                mv.visitVarInsn(ALOAD, L_HART);
                push(mv, op);
                ld(mv, a);
                if (Op.signature(op).charAt(3) != '-') {
                    ld(mv, b);
                } else {
                    mv.visitInsn(LCONST_0);
                }
                push(mv, (int) imm);
                call(mv, "dev/rivet/ir/exec/Atomics", "compute", "(L" + HART + ";IJJI)J");
                mv.visitVarInsn(LSTORE, lTmp);
                faultCheck(mv, i, sites);
                mv.visitVarInsn(LLOAD, lTmp);
                st(mv, d);
            }
            default -> {
                if (!isFp(op) || !emitDirectFp(mv, i, op, d, a, b, imm, sites)) {
                    throw new IllegalStateException("unsupported op " + Op.name(op));
                }
            }
        }
    }

    /** The width in bytes of a load or store op (the F/D ones included). */
    private static int accessSize(int op) {
        return switch (op) {
            case Op.LD8S, Op.LD8U, Op.ST8 -> 1;
            case Op.LD16S, Op.LD16U, Op.ST16 -> 2;
            case Op.LD32S, Op.LD32U, Op.FLD32, Op.ST32, Op.FST32 -> 4;
            default -> 8;
        };
    }

    /** Hart's accessor for a load or store of {@code size} bytes: {@code lb}..{@code ld}, {@code sb}..{@code sd}. */
    private static String accessor(int size, boolean store) {
        char width = switch (size) {
            case 1 -> 'b';
            case 2 -> 'h';
            case 4 -> 'w';
            default -> 'd';
        };
        return (store ? "s" : "l") + width;
    }

    private static final String GUEST_RAM = "dev/rivet/core/bus/GuestRam";

    /** The GuestRam layout field and its ValueLayout type for an access of {@code size} bytes. */
    private static String[] layout(int size) {
        return switch (size) {
            case 1 -> new String[] {"I8", "Ljava/lang/foreign/ValueLayout$OfByte;", "B"};
            case 2 -> new String[] {"I16", "Ljava/lang/foreign/ValueLayout$OfShort;", "S"};
            case 4 -> new String[] {"I32", "Ljava/lang/foreign/ValueLayout$OfInt;", "I"};
            default -> new String[] {"I64", "Ljava/lang/foreign/ValueLayout$OfLong;", "J"};
        };
    }

    /**
     * The address into {@code lVa}, its TLB index into {@code lIdx}, and a jump to
     * {@code miss} unless the TLB entry ({@code tag}) holds the page for an aligned access
     * of {@code size} bytes: Hart's accessors' probe ({@code Hart.ld(long, long[], long[],
     * MemorySegment)}), inline. On a hit, the RAM segment, the access's layout and its host
     * offset ({@code add}) are left on the stack.
     */
    private void emitProbe(MethodVisitor mv, int a, long imm, int size, int tag, int add, String[] lay, Label miss) {
        ld(mv, a);
        pushLong(mv, imm);
        mv.visitInsn(LADD);
        mv.visitVarInsn(LSTORE, lVa);
        mv.visitVarInsn(LLOAD, lVa);
        push(mv, 12);
        mv.visitInsn(LUSHR);
        mv.visitInsn(L2I);
        push(mv, Hart.TLB_MASK);
        mv.visitInsn(IAND);
        mv.visitVarInsn(ISTORE, lIdx);
        mv.visitVarInsn(ALOAD, tag);
        mv.visitVarInsn(ILOAD, lIdx);
        mv.visitInsn(LALOAD);
        mv.visitVarInsn(LLOAD, lVa);
        pushLong(mv, Hart.PAGE_MASK | (size - 1));
        mv.visitInsn(LAND);
        mv.visitInsn(LCMP);
        mv.visitJumpInsn(IFNE, miss);
        mv.visitVarInsn(ALOAD, lRam);
        mv.visitFieldInsn(GETSTATIC, GUEST_RAM, lay[0], lay[1]);
        mv.visitVarInsn(LLOAD, lVa);
        mv.visitVarInsn(ALOAD, add);
        mv.visitVarInsn(ILOAD, lIdx);
        mv.visitInsn(LALOAD);
        mv.visitInsn(LADD);
    }

    /**
     * A load in a block on a loop: the TLB probe and the RAM read inline, the hart's slow
     * path and the fault check only on a miss. Same results as the hart's accessors.
     */
    private void emitLoad(MethodVisitor mv, int op, int i, int a, int d, long imm, List<Site> sites) {
        int size = accessSize(op);
        String[] lay = layout(size);
        Label miss = new Label(), done = new Label();
        emitProbe(mv, a, imm, size, lReadTag, lReadAdd, lay, miss);
        mv.visitMethodInsn(INVOKEINTERFACE, "java/lang/foreign/MemorySegment", "get",
                "(" + lay[1] + "J)" + lay[2], true);
        if (size < 8) {
            mv.visitInsn(I2L);
        }
        mv.visitVarInsn(LSTORE, lTmp);
        mv.visitJumpInsn(GOTO, done);
        mv.visitLabel(miss);
        mv.visitVarInsn(ALOAD, L_HART);
        mv.visitVarInsn(LLOAD, lVa);
        push(mv, size);
        mv.visitMethodInsn(INVOKEVIRTUAL, HART, "loadSlow", "(JI)J", false);
        if (size < 8) {
            narrow(mv, size);
            mv.visitInsn(I2L);
        }
        mv.visitVarInsn(LSTORE, lTmp);
        faultCheck(mv, i, sites);
        mv.visitLabel(done);
        mv.visitVarInsn(LLOAD, lTmp);
        finishLoad(mv, op, d);
    }

    /**
     * A load's sign-extended value (on the stack) into register {@code d}: zero-extended for
     * the unsigned loads, NaN-boxed for flw.
     */
    private void finishLoad(MethodVisitor mv, int op, int d) {
        long zeroExtend = switch (op) {
            case Op.LD8U -> 0xFFL;
            case Op.LD16U -> 0xFFFFL;
            case Op.LD32U -> 0xFFFF_FFFFL;
            default -> 0;
        };
        if (zeroExtend != 0) {
            pushLong(mv, zeroExtend);
            mv.visitInsn(LAND);
        }
        if (op == Op.FLD32) {
            mv.visitInsn(L2I);
            call(mv, FPOPS, "box", "(I)J");
        }
        st(mv, d);
    }

    /** The long on the stack as the int, short or byte of an access of {@code size} (1, 2 or 4) bytes. */
    private static void narrow(MethodVisitor mv, int size) {
        mv.visitInsn(L2I);
        if (size == 2) {
            mv.visitInsn(I2S);
        } else if (size == 1) {
            mv.visitInsn(I2B);
        }
    }

    /** A store in a block on a loop: as {@link #emitLoad}, with the hart's write TLB. */
    private void emitStore(MethodVisitor mv, int op, int i, int a, int b, long imm, List<Site> sites) {
        int size = accessSize(op);
        String[] lay = layout(size);
        Label miss = new Label(), done = new Label();
        emitProbe(mv, a, imm, size, lWriteTag, lWriteAdd, lay, miss);
        ld(mv, b);
        if (size < 8) {
            narrow(mv, size);
        }
        mv.visitMethodInsn(INVOKEINTERFACE, "java/lang/foreign/MemorySegment", "set",
                "(" + lay[1] + "J" + lay[2] + ")V", true);
        mv.visitJumpInsn(GOTO, done);
        mv.visitLabel(miss);
        mv.visitVarInsn(ALOAD, L_HART);
        mv.visitVarInsn(LLOAD, lVa);
        push(mv, size);
        ld(mv, b);
        mv.visitMethodInsn(INVOKEVIRTUAL, HART, "storeSlow", "(JIJ)V", false);
        faultCheck(mv, i, sites);
        mv.visitLabel(done);
    }

    /** After a load/store: if the hart recorded an exception, leave through a fault site. */
    private void faultCheck(MethodVisitor mv, int i, List<Site> sites) {
        Label fault = new Label();
        sites.add(site(fault, blk.insnPc(i), blk.insnIndex(i), BlockExit.EXIT_SYSTEM, -1, false));
        mv.visitVarInsn(ALOAD, L_HART);
        mv.visitFieldInsn(GETFIELD, HART, "excCause", "I");
        mv.visitJumpInsn(IFGE, fault);
    }
}
