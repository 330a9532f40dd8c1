package dev.rivet.ir.exec;

import dev.rivet.core.fp.FpStatus;
import dev.rivet.core.fp.RvFloat;
import dev.rivet.core.riscv.Cause;
import dev.rivet.core.riscv.Hart;
import dev.rivet.ir.Op;

/**
 * F and D extension ops (unprivileged spec, chapters "F" and "D"), shared by the
 * interpreter and compiled code so both tiers compute the same bits. Arithmetic goes
 * through {@link RvFloat}, which rounds exactly in all five modes and raises the flags.
 * Single-precision sources are unboxed (an improperly NaN-boxed value reads as the
 * canonical NaN) and results boxed; moves and sign injection do not canonicalize.
 */
public final class FpOps {
    private FpOps() {
    }

    private static final long BOX = 0xFFFF_FFFF_0000_0000L;

    /** The f32 in an FP register: the low half if NaN-boxed, else the canonical NaN. */
    public static int unbox(long v) {
        return (v & BOX) == BOX ? (int) v : RvFloat.CANONICAL_NAN_32;
    }

    /** An f32 NaN-boxed into a 64-bit FP register. */
    public static long box(int v) {
        return BOX | (v & 0xFFFF_FFFFL);
    }

    private static final int SIGN32 = 0x8000_0000;
    private static final long SIGN64 = 0x8000_0000_0000_0000L;

    /**
     * The value op {@code op} writes to its destination, from the source values {@code x},
     * {@code y} and (fused multiply-adds only) {@code z}; {@code imm} holds the rounding mode.
     * Accrues flags in the hart's FP status. On an invalid dynamic rounding mode it raises an
     * illegal-instruction exception in the hart ({@link Hart#excCause}) and returns 0.
     */
    public static long compute(Hart h, int op, long x, long y, long z, long imm) {
        int rm = (int) imm & 7;
        if (rm == Op.RM_DYN && Op.is(op, Op.F_RM)) {
            rm = h.frm;
        }
        if (rm > 4 && Op.is(op, Op.F_RM)) {
            h.raise(Cause.ILLEGAL_INSN, 0); // dynamic mode with an invalid frm
            return 0;
        }
        final FpStatus st = h.fp;
        return switch (op) {
            case Op.FADD_S -> box(RvFloat.add32(unbox(x), unbox(y), rm, st));
            case Op.FSUB_S -> box(RvFloat.sub32(unbox(x), unbox(y), rm, st));
            case Op.FMUL_S -> box(RvFloat.mul32(unbox(x), unbox(y), rm, st));
            case Op.FDIV_S -> box(RvFloat.div32(unbox(x), unbox(y), rm, st));
            case Op.FSQRT_S -> box(RvFloat.sqrt32(unbox(x), rm, st));
            case Op.FMIN_S -> box(RvFloat.min32(unbox(x), unbox(y), st));
            case Op.FMAX_S -> box(RvFloat.max32(unbox(x), unbox(y), st));
            case Op.FMADD_S, Op.FMSUB_S, Op.FNMSUB_S, Op.FNMADD_S -> {
                int p = unbox(x), q = unbox(y), t = unbox(z);
                // fmsub = a*b-c, fnmsub = -(a*b)+c, fnmadd = -(a*b)-c: negate inputs, one rounding.
                if (op == Op.FNMSUB_S || op == Op.FNMADD_S) {
                    p ^= SIGN32;
                }
                if (op == Op.FMSUB_S || op == Op.FNMADD_S) {
                    t ^= SIGN32;
                }
                yield box(RvFloat.fma32(p, q, t, rm, st));
            }
            case Op.FSGNJ_S -> box((unbox(x) & ~SIGN32) | (unbox(y) & SIGN32));
            case Op.FSGNJN_S -> box((unbox(x) & ~SIGN32) | (~unbox(y) & SIGN32));
            case Op.FSGNJX_S -> box(unbox(x) ^ (unbox(y) & SIGN32));
            case Op.FEQ_S -> RvFloat.eq32(unbox(x), unbox(y), st) ? 1 : 0;
            case Op.FLT_S -> RvFloat.lt32(unbox(x), unbox(y), st) ? 1 : 0;
            case Op.FLE_S -> RvFloat.le32(unbox(x), unbox(y), st) ? 1 : 0;
            case Op.FCLASS_S -> RvFloat.classify32(unbox(x));
            case Op.FCVT_W_S -> RvFloat.cvtF32ToI32(unbox(x), rm, st);
            case Op.FCVT_WU_S -> RvFloat.cvtF32ToU32(unbox(x), rm, st);
            case Op.FCVT_L_S -> RvFloat.cvtF32ToI64(unbox(x), rm, st);
            case Op.FCVT_LU_S -> RvFloat.cvtF32ToU64(unbox(x), rm, st);
            case Op.FCVT_S_W -> box(RvFloat.cvtI32ToF32((int) x, rm, st));
            case Op.FCVT_S_WU -> box(RvFloat.cvtU32ToF32((int) x, rm, st));
            case Op.FCVT_S_L -> box(RvFloat.cvtI64ToF32(x, rm, st));
            case Op.FCVT_S_LU -> box(RvFloat.cvtU64ToF32(x, rm, st));
            case Op.FMV_X_W -> (int) x;
            case Op.FMV_W_X -> box((int) x);

            case Op.FADD_D -> RvFloat.add64(x, y, rm, st);
            case Op.FSUB_D -> RvFloat.sub64(x, y, rm, st);
            case Op.FMUL_D -> RvFloat.mul64(x, y, rm, st);
            case Op.FDIV_D -> RvFloat.div64(x, y, rm, st);
            case Op.FSQRT_D -> RvFloat.sqrt64(x, rm, st);
            case Op.FMIN_D -> RvFloat.min64(x, y, st);
            case Op.FMAX_D -> RvFloat.max64(x, y, st);
            case Op.FMADD_D, Op.FMSUB_D, Op.FNMSUB_D, Op.FNMADD_D -> {
                long p = x, t = z;
                if (op == Op.FNMSUB_D || op == Op.FNMADD_D) {
                    p ^= SIGN64;
                }
                if (op == Op.FMSUB_D || op == Op.FNMADD_D) {
                    t ^= SIGN64;
                }
                yield RvFloat.fma64(p, y, t, rm, st);
            }
            case Op.FSGNJ_D -> (x & ~SIGN64) | (y & SIGN64);
            case Op.FSGNJN_D -> (x & ~SIGN64) | (~y & SIGN64);
            case Op.FSGNJX_D -> x ^ (y & SIGN64);
            case Op.FEQ_D -> RvFloat.eq64(x, y, st) ? 1 : 0;
            case Op.FLT_D -> RvFloat.lt64(x, y, st) ? 1 : 0;
            case Op.FLE_D -> RvFloat.le64(x, y, st) ? 1 : 0;
            case Op.FCLASS_D -> RvFloat.classify64(x);
            case Op.FCVT_W_D -> RvFloat.cvtF64ToI32(x, rm, st);
            case Op.FCVT_WU_D -> RvFloat.cvtF64ToU32(x, rm, st);
            case Op.FCVT_L_D -> RvFloat.cvtF64ToI64(x, rm, st);
            case Op.FCVT_LU_D -> RvFloat.cvtF64ToU64(x, rm, st);
            case Op.FCVT_D_W -> RvFloat.cvtI32ToF64((int) x, rm, st);
            case Op.FCVT_D_WU -> RvFloat.cvtU32ToF64((int) x, rm, st);
            case Op.FCVT_D_L -> RvFloat.cvtI64ToF64(x, rm, st);
            case Op.FCVT_D_LU -> RvFloat.cvtU64ToF64(x, rm, st);
            case Op.FMV_X_D, Op.FMV_D_X -> x;
            case Op.FCVT_S_D -> box(RvFloat.cvtF64ToF32(x, rm, st));
            case Op.FCVT_D_S -> RvFloat.cvtF32ToF64(unbox(x), st);
            default -> {
                // The decoder never emits an unknown op; treat one as an illegal instruction.
                h.raise(Cause.ILLEGAL_INSN, 0);
                yield 0;
            }
        };
    }
}
