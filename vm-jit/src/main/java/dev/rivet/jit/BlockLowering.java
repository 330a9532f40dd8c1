package dev.rivet.jit;

import dev.rivet.core.riscv.Hart;
import dev.rivet.ir.IrBlock;
import dev.rivet.ir.Op;
import dev.rivet.ir.exec.BlockExit;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;

import java.util.ArrayList;
import java.util.List;

import static org.objectweb.asm.Opcodes.*;

/**
 * Lowers one {@link IrBlock} to the bytes of one class implementing
 * {@code CompiledBlock}: a static {@code run(Hart)} holding every guest slot the block
 * touches in a JVM local (loaded from {@code hart.regs} at entry) and an instance
 * {@code execute(Hart)} that calls it.
 *
 * <p>Every way out — taken branch, final exit, faulting load/store — jumps to one shared
 * tail that writes back every slot the block writes anywhere (a slot not yet written at
 * that point still holds its entry value, so writing it back is a no-op), then sets
 * {@code pc}/{@code instret} exactly as the interpreter does and, for a fault, takes the
 * pending exception. The per-site code is three constants and a goto.
 *
 * <p>Loads and stores probe the hart's data TLB inline, exactly as {@code Hart.lb..sd} do,
 * and call {@code loadSlow}/{@code storeSlow} on a miss. The current regime's TLB arrays
 * live in locals, loaded at entry and again after every slow-path call (the only thing in
 * a compiled block that can swap them). A block whose inline form would reach the size
 * limit is lowered again with plain calls to {@code hart.lb..sd}.
 */
final class BlockLowering {
    static final String CLASS_NAME = "dev/rivet/jit/JitBlock";
    private static final String HART = "dev/rivet/core/riscv/Hart";
    private static final String RT = "dev/rivet/jit/JitRuntime";
    static final String RUN_DESC = "(L" + HART + ";)I";
    private static final String SEGMENT = "java/lang/foreign/MemorySegment";
    private static final String SEGMENT_DESC = "L" + SEGMENT + ";";
    private static final String GUEST_RAM = "dev/rivet/core/bus/GuestRam";
    /** Indexed by access size (1, 2, 4, 8): GuestRam's layout field, its type, the primitive. */
    private static final String[] LAYOUT_NAME = {null, "I8", "I16", null, "I32", null, null, null, "I64"};
    private static final String[] LAYOUT_DESC = {null, "Ljava/lang/foreign/ValueLayout$OfByte;",
            "Ljava/lang/foreign/ValueLayout$OfShort;", null, "Ljava/lang/foreign/ValueLayout$OfInt;", null, null,
            null, "Ljava/lang/foreign/ValueLayout$OfLong;"};
    private static final String[] PRIM_DESC = {null, "B", "S", null, "I", null, null, null, "J"};

    /** Why a block was not lowered (null when it was). */
    String rejection;
    /** Bytecode size of the generated {@code run} method. */
    int codeSize;

    private final IrBlock blk;
    private final int[] localOf = new int[IrBlock.MAX_SLOT + 1];
    private final boolean[] written = new boolean[IrBlock.MAX_SLOT + 1];
    private final List<Integer> used = new ArrayList<>();
    private int end; // index of the block's last op (its exit)

    // Fixed locals.
    private static final int L_HART = 0, L_REGS = 1, L_BASE = 2;
    private int lPc, lN, lKind, lTmp, lVa, lIdx;
    /** The current regime's TLB arrays and the RAM segment, cached for the inline probe. */
    private int lReadTag, lReadAdd, lWriteTag, lWriteAdd, lRam;
    private boolean hasMemory;
    /** Loads and stores probe the TLB inline (else they call {@code hart.lb..sd}). */
    private final boolean inlineTlb;

    private BlockLowering(IrBlock blk, boolean inlineTlb) {
        this.blk = blk;
        this.inlineTlb = inlineTlb;
    }

    /**
     * Returns the class bytes, or null with {@link #rejection} set. Loads and stores get
     * the inline TLB probe unless that makes the method reach {@code maxCodeSize}; then the
     * block is lowered again with calls to {@code hart.lb..sd}, which are smaller.
     */
    static BlockLowering lower(IrBlock blk, int maxCodeSize) {
        BlockLowering l = lower(blk, true);
        if (l.bytes != null && l.codeSize > maxCodeSize) {
            l = lower(blk, false);
        }
        return l;
    }

    static BlockLowering lower(IrBlock blk, boolean inlineTlb) {
        BlockLowering l = new BlockLowering(blk, inlineTlb);
        l.bytes = l.generate();
        return l;
    }

    byte[] bytes;

    /** True for the ops this slice compiles. */
    static boolean supported(int op) {
        if (op >= Op.NOP && op <= Op.CZERO_NEZ) {
            return Op.isDefined(op);
        }
        return (op >= Op.LD8S && op <= Op.FST64) || op == Op.EXIT || op == Op.EXIT_IND
                || (op >= Op.BR_EQ && op <= Op.BR_GEU) || op == Op.FP_DIRTY;
    }

    private byte[] generate() {
        java.util.Arrays.fill(localOf, -1);
        end = -1;
        for (int i = 0; i < blk.size(); i++) {
            int op = blk.op(i);
            if (!supported(op)) {
                rejection = "op " + Op.name(op);
                return null;
            }
            String sig = Op.signature(op);
            if (sig.charAt(0) != '-') {
                use(blk.d(i));
                written[blk.d(i)] = true;
            }
            if (sig.charAt(2) != '-') {
                use(blk.a(i));
            }
            if (sig.charAt(3) != '-') {
                use(blk.b(i));
            }
            if (op >= Op.LD8S && op <= Op.FST64) {
                hasMemory = true;
            }
            if (op == Op.EXIT || op == Op.EXIT_IND) {
                end = i;
                break;
            }
        }
        if (end < 0) {
            rejection = "no final exit";
            return null;
        }
        int next = L_BASE + 2 + 2 * used.size();
        lPc = next;
        lN = next + 2;
        lKind = next + 3;
        lTmp = next + 4;
        lVa = next + 6;
        lIdx = next + 8;
        lReadTag = next + 9;
        lReadAdd = next + 10;
        lWriteTag = next + 11;
        lWriteAdd = next + 12;
        lRam = next + 13;

        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES | ClassWriter.COMPUTE_MAXS) {
            @Override
            protected String getCommonSuperClass(String a, String b) {
                return "java/lang/Object";
            }
        };
        cw.visit(V21, ACC_PUBLIC | ACC_FINAL | ACC_SUPER, CLASS_NAME, null, "java/lang/Object",
                new String[] {"dev/rivet/ir/exec/CompiledBlock"});
        MethodVisitor init = cw.visitMethod(ACC_PUBLIC, "<init>", "()V", null, null);
        init.visitCode();
        init.visitVarInsn(ALOAD, 0);
        init.visitMethodInsn(INVOKESPECIAL, "java/lang/Object", "<init>", "()V", false);
        init.visitInsn(RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();

        MethodVisitor ex = cw.visitMethod(ACC_PUBLIC, "execute", RUN_DESC, null, null);
        ex.visitCode();
        ex.visitVarInsn(ALOAD, 1);
        ex.visitMethodInsn(INVOKESTATIC, CLASS_NAME, "run", RUN_DESC, false);
        ex.visitInsn(IRETURN);
        ex.visitMaxs(0, 0);
        ex.visitEnd();

        MethodVisitor mv = cw.visitMethod(ACC_PUBLIC | ACC_STATIC, "run", RUN_DESC, null, null);
        mv.visitCode();
        Label start = new Label();
        mv.visitLabel(start);
        emitBody(mv);
        Label last = new Label();
        mv.visitLabel(last);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        codeSize = last.getOffset();
        cw.visitEnd();
        return cw.toByteArray();
    }

    private void use(int slot) {
        if (localOf[slot] < 0) {
            localOf[slot] = L_BASE + 2 + 2 * used.size();
            used.add(slot);
        }
    }

    /** An out-of-line exit: where the main path jumps, and what the site sets. */
    private record Site(Label label, long pc, int n, int kind) {
    }

    private void emitBody(MethodVisitor mv) {
        // Entry: regs and base, then every slot into its local.
        mv.visitVarInsn(ALOAD, L_HART);
        mv.visitFieldInsn(GETFIELD, HART, "regs", "[J");
        mv.visitVarInsn(ASTORE, L_REGS);
        mv.visitVarInsn(ALOAD, L_HART);
        mv.visitFieldInsn(GETFIELD, HART, "instret", "J");
        mv.visitVarInsn(LSTORE, L_BASE);
        for (int s : used) {
            mv.visitVarInsn(ALOAD, L_REGS);
            push(mv, s);
            mv.visitInsn(LALOAD);
            mv.visitVarInsn(LSTORE, localOf[s]);
        }
        if (inlineTlb && hasMemory) {
            mv.visitVarInsn(ALOAD, L_HART);
            mv.visitFieldInsn(GETFIELD, HART, "ram", SEGMENT_DESC);
            mv.visitVarInsn(ASTORE, lRam);
            loadTlbArrays(mv);
        }
        List<Site> sites = new ArrayList<>();
        Label tail = new Label();
        for (int i = 0; i <= end; i++) {
            emitOp(mv, i, sites, tail);
        }
        for (Site s : sites) {
            mv.visitLabel(s.label);
            emitSiteConstants(mv, s.pc, s.n, s.kind);
            mv.visitJumpInsn(GOTO, tail);
        }
        // The shared tail: write back, set pc and instret, take a pending fault.
        mv.visitLabel(tail);
        for (int s : used) {
            if (written[s]) {
                mv.visitVarInsn(ALOAD, L_REGS);
                push(mv, s);
                mv.visitVarInsn(LLOAD, localOf[s]);
                mv.visitInsn(LASTORE);
            }
        }
        mv.visitVarInsn(ALOAD, L_HART);
        mv.visitVarInsn(LLOAD, lPc);
        mv.visitFieldInsn(PUTFIELD, HART, "pc", "J");
        mv.visitVarInsn(ALOAD, L_HART);
        mv.visitVarInsn(LLOAD, L_BASE);
        mv.visitVarInsn(ILOAD, lN);
        mv.visitInsn(I2L);
        mv.visitInsn(LADD);
        mv.visitFieldInsn(PUTFIELD, HART, "instret", "J");
        Label ret = new Label();
        mv.visitVarInsn(ILOAD, lKind);
        push(mv, BlockExit.EXIT_SYSTEM);
        mv.visitJumpInsn(IF_ICMPNE, ret);
        mv.visitVarInsn(ALOAD, L_HART);
        mv.visitMethodInsn(INVOKEVIRTUAL, HART, "takePendingException", "()V", false);
        mv.visitLabel(ret);
        mv.visitVarInsn(ILOAD, lKind);
        mv.visitInsn(IRETURN);
    }

    private void emitSiteConstants(MethodVisitor mv, long pc, int n, int kind) {
        mv.visitLdcInsn(pc);
        mv.visitVarInsn(LSTORE, lPc);
        push(mv, n);
        mv.visitVarInsn(ISTORE, lN);
        push(mv, kind);
        mv.visitVarInsn(ISTORE, lKind);
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

    private void ld(MethodVisitor mv, int slot) {
        mv.visitVarInsn(LLOAD, localOf[slot]);
    }

    private void st(MethodVisitor mv, int slot) {
        mv.visitVarInsn(LSTORE, localOf[slot]);
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
                if (inlineTlb) {
                    emitInlineLoad(mv, i, op, d, a, imm, sites);
                    break;
                }
                mv.visitVarInsn(ALOAD, L_HART);
                ld(mv, a);
                pushLong(mv, imm);
                mv.visitInsn(LADD);
                String m = switch (op) {
                    case Op.LD8S -> "lb";
                    case Op.LD8U -> "lbu";
                    case Op.LD16S -> "lh";
                    case Op.LD16U -> "lhu";
                    case Op.LD32S, Op.FLD32 -> "lw";
                    case Op.LD32U -> "lwu";
                    default -> "ld";
                };
                mv.visitMethodInsn(INVOKEVIRTUAL, HART, m, "(J)J", false);
                mv.visitVarInsn(LSTORE, lTmp);
                faultCheck(mv, i, sites);
                mv.visitVarInsn(LLOAD, lTmp);
                if (op == Op.FLD32) {
                    rt1(mv, "box");
                }
                st(mv, d);
            }
            case Op.ST8, Op.ST16, Op.ST32, Op.ST64, Op.FST32, Op.FST64 -> {
                if (inlineTlb) {
                    emitInlineStore(mv, i, op, a, b, imm, sites);
                    break;
                }
                mv.visitVarInsn(ALOAD, L_HART);
                ld(mv, a);
                pushLong(mv, imm);
                mv.visitInsn(LADD);
                ld(mv, b);
                String m = switch (op) {
                    case Op.ST8 -> "sb";
                    case Op.ST16 -> "sh";
                    case Op.ST32, Op.FST32 -> "sw";
                    default -> "sd";
                };
                mv.visitMethodInsn(INVOKEVIRTUAL, HART, m, "(JJ)V", false);
                faultCheck(mv, i, sites);
            }

            case Op.BR_EQ, Op.BR_NE, Op.BR_LT, Op.BR_GE, Op.BR_LTU, Op.BR_GEU -> {
                Label taken = new Label();
                sites.add(new Site(taken, imm, blk.insnIndex(i) + 1, BlockExit.EXIT_TAKEN));
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
                emitSiteConstants(mv, imm, blk.insnIndex(i) + 1, BlockExit.EXIT_FALL);
                mv.visitJumpInsn(GOTO, tail);
            }
            case Op.EXIT_IND -> {
                ld(mv, a);
                mv.visitVarInsn(LSTORE, lPc);
                push(mv, blk.insnIndex(i) + 1);
                mv.visitVarInsn(ISTORE, lN);
                push(mv, BlockExit.EXIT_FALL);
                mv.visitVarInsn(ISTORE, lKind);
                mv.visitJumpInsn(GOTO, tail);
            }
            default -> throw new IllegalStateException("unsupported op " + Op.name(op));
        }
    }

    /**
     * (Re)loads the current regime's TLB arrays into locals. The hart swaps them only when
     * the regime changes, which inside a compiled block can happen only in a slow path, so
     * this runs at entry and after every slow-path call.
     */
    private void loadTlbArrays(MethodVisitor mv) {
        String[] fields = {"readTag", "readAdd", "writeTag", "writeAdd"};
        int[] locals = {lReadTag, lReadAdd, lWriteTag, lWriteAdd};
        for (int k = 0; k < 4; k++) {
            mv.visitVarInsn(ALOAD, L_HART);
            mv.visitFieldInsn(GETFIELD, HART, fields[k], "[J");
            mv.visitVarInsn(ASTORE, locals[k]);
        }
    }

    private static int accessSize(int op) {
        return switch (op) {
            case Op.LD8S, Op.LD8U, Op.ST8 -> 1;
            case Op.LD16S, Op.LD16U, Op.ST16 -> 2;
            case Op.LD32S, Op.LD32U, Op.FLD32, Op.ST32, Op.FST32 -> 4;
            default -> 8;
        };
    }

    /**
     * The TLB probe shared by inline loads and stores: computes {@code va = a + imm} into
     * {@link #lVa} and the TLB index into {@link #lIdx}, and jumps to {@code miss} unless the
     * entry of the current regime (the local copy of {@code hart.readTag}/{@code writeTag},
     * reloaded after every slow path since the hart swaps the arrays per regime) holds va's
     * page and the access stays inside that page. Same test as {@code Hart.lb..sd}.
     */
    private void emitProbe(MethodVisitor mv, int tagLocal, int a, long imm, int size, Label miss) {
        ld(mv, a);
        if (imm != 0) {
            pushLong(mv, imm);
            mv.visitInsn(LADD);
        }
        mv.visitVarInsn(LSTORE, lVa);
        mv.visitVarInsn(ALOAD, tagLocal);
        mv.visitVarInsn(LLOAD, lVa);
        push(mv, 12);
        mv.visitInsn(LUSHR);
        mv.visitInsn(L2I);
        push(mv, Hart.TLB_MASK);
        mv.visitInsn(IAND);
        mv.visitInsn(DUP);
        mv.visitVarInsn(ISTORE, lIdx);
        mv.visitInsn(LALOAD);
        mv.visitVarInsn(LLOAD, lVa);
        mv.visitLdcInsn(Hart.PAGE_MASK);
        mv.visitInsn(LAND);
        mv.visitInsn(LCMP);
        mv.visitJumpInsn(IFNE, miss);
        if (size > 1) {
            mv.visitVarInsn(LLOAD, lVa);
            mv.visitInsn(L2I);
            push(mv, 0xFFF);
            mv.visitInsn(IAND);
            push(mv, 0x1000 - size);
            mv.visitJumpInsn(IF_ICMPGT, miss);
        }
    }

    /** Pushes {@code hart.ram}, the layout for {@code size} and {@code va + add[idx]}. */
    private void emitRamAddress(MethodVisitor mv, int addLocal, int size) {
        mv.visitVarInsn(ALOAD, lRam);
        mv.visitFieldInsn(GETSTATIC, GUEST_RAM, LAYOUT_NAME[size], LAYOUT_DESC[size]);
        mv.visitVarInsn(LLOAD, lVa);
        mv.visitVarInsn(ALOAD, addLocal);
        mv.visitVarInsn(ILOAD, lIdx);
        mv.visitInsn(LALOAD);
        mv.visitInsn(LADD);
    }

    /**
     * An inline load: TLB hit reads RAM directly; a miss calls {@code hart.loadSlow}
     * (zero-extended) and leaves through a fault site if it recorded an exception. Both
     * paths extend as the op says and (FLD32) NaN-box.
     */
    private void emitInlineLoad(MethodVisitor mv, int i, int op, int d, int a, long imm, List<Site> sites) {
        int size = accessSize(op);
        Label miss = new Label(), done = new Label();
        emitProbe(mv, lReadTag, a, imm, size, miss);
        emitRamAddress(mv, lReadAdd, size);
        mv.visitMethodInsn(INVOKEINTERFACE, SEGMENT, "get",
                "(" + LAYOUT_DESC[size] + "J)" + PRIM_DESC[size], true);
        // The segment read gives a signed primitive: widen to long, then zero-extend if asked.
        if (size < 8) {
            mv.visitInsn(I2L);
        }
        emitLoadExtend(mv, op, true);
        st(mv, d);
        mv.visitJumpInsn(GOTO, done);

        mv.visitLabel(miss);
        mv.visitVarInsn(ALOAD, L_HART);
        mv.visitVarInsn(LLOAD, lVa);
        push(mv, size);
        mv.visitMethodInsn(INVOKEVIRTUAL, HART, "loadSlow", "(JI)J", false);
        emitLoadExtend(mv, op, false);
        mv.visitVarInsn(LSTORE, lTmp);
        faultCheck(mv, i, sites);
        loadTlbArrays(mv);
        mv.visitVarInsn(LLOAD, lTmp);
        st(mv, d);
        mv.visitLabel(done);
    }

    /**
     * Turns the long on the stack into the op's result. {@code signed} says the value is
     * sign-extended from the access size (hit path); otherwise it is zero-extended (slow path).
     */
    private static void emitLoadExtend(MethodVisitor mv, int op, boolean signed) {
        switch (op) {
            case Op.LD8U -> {
                if (signed) {
                    mv.visitLdcInsn(0xFFL);
                    mv.visitInsn(LAND);
                }
            }
            case Op.LD16U -> {
                if (signed) {
                    mv.visitLdcInsn(0xFFFFL);
                    mv.visitInsn(LAND);
                }
            }
            case Op.LD32U -> {
                if (signed) {
                    mv.visitLdcInsn(0xFFFF_FFFFL);
                    mv.visitInsn(LAND);
                }
            }
            case Op.LD8S -> {
                if (!signed) {
                    mv.visitInsn(L2I);
                    mv.visitInsn(I2B);
                    mv.visitInsn(I2L);
                }
            }
            case Op.LD16S -> {
                if (!signed) {
                    mv.visitInsn(L2I);
                    mv.visitInsn(I2S);
                    mv.visitInsn(I2L);
                }
            }
            case Op.LD32S -> {
                if (!signed) {
                    mv.visitInsn(L2I);
                    mv.visitInsn(I2L);
                }
            }
            case Op.FLD32 -> rt1(mv, "box"); // takes the low 32 bits either way
            default -> {
            }
        }
    }

    /** An inline store: TLB hit writes RAM directly; a miss calls {@code hart.storeSlow}. */
    private void emitInlineStore(MethodVisitor mv, int i, int op, int a, int b, long imm, List<Site> sites) {
        int size = accessSize(op);
        Label miss = new Label(), done = new Label();
        emitProbe(mv, lWriteTag, a, imm, size, miss);
        emitRamAddress(mv, lWriteAdd, size);
        ld(mv, b);
        if (size < 8) {
            mv.visitInsn(L2I);
            if (size == 1) {
                mv.visitInsn(I2B);
            } else if (size == 2) {
                mv.visitInsn(I2S);
            }
        }
        mv.visitMethodInsn(INVOKEINTERFACE, SEGMENT, "set",
                "(" + LAYOUT_DESC[size] + "J" + PRIM_DESC[size] + ")V", true);
        mv.visitJumpInsn(GOTO, done);

        mv.visitLabel(miss);
        mv.visitVarInsn(ALOAD, L_HART);
        mv.visitVarInsn(LLOAD, lVa);
        push(mv, size);
        ld(mv, b);
        mv.visitMethodInsn(INVOKEVIRTUAL, HART, "storeSlow", "(JIJ)V", false);
        faultCheck(mv, i, sites);
        loadTlbArrays(mv);
        mv.visitLabel(done);
    }

    /** After a load/store: if the hart recorded an exception, leave through a fault site. */
    private void faultCheck(MethodVisitor mv, int i, List<Site> sites) {
        Label fault = new Label();
        sites.add(new Site(fault, blk.insnPc(i), blk.insnIndex(i), BlockExit.EXIT_SYSTEM));
        mv.visitVarInsn(ALOAD, L_HART);
        mv.visitFieldInsn(GETFIELD, HART, "excCause", "I");
        mv.visitJumpInsn(IFGE, fault);
    }
}
