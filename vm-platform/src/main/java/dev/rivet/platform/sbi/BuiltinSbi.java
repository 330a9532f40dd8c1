package dev.rivet.platform.sbi;

import dev.rivet.core.riscv.Hart;

/**
 * The SBI implemented inside the emulator (RISC-V Supervisor Binary Interface
 * Specification v2.0): when a hart in S-mode executes {@code ecall}, this class serves the
 * call and execution continues after it, with no M-mode firmware in the guest. Arguments
 * are in a0–a5, the extension ID in a7 and the function ID in a6; the result is
 * a0 = error, a1 = value (spec chapter 3, "Binary Encoding").
 */
public final class BuiltinSbi implements Hart.SupervisorCallHandler {
    // Extension IDs (spec chapter 3 onwards).
    static final long EXT_BASE = 0x10, EXT_TIME = 0x54494D45L, EXT_IPI = 0x735049L, EXT_RFENCE = 0x52464E43L,
            EXT_HSM = 0x48534DL, EXT_SRST = 0x53525354L, EXT_DBCN = 0x4442434EL, EXT_PMU = 0x504D55L;
    // Legacy extensions (chapter 5), one per function.
    static final long LEGACY_SET_TIMER = 0, LEGACY_PUTCHAR = 1, LEGACY_GETCHAR = 2, LEGACY_CLEAR_IPI = 3,
            LEGACY_SEND_IPI = 4, LEGACY_FENCE_I = 5, LEGACY_SFENCE_VMA = 6, LEGACY_SFENCE_VMA_ASID = 7,
            LEGACY_SHUTDOWN = 8;

    // Error codes (table 1).
    static final long SUCCESS = 0, ERR_FAILED = -1, ERR_NOT_SUPPORTED = -2, ERR_INVALID_PARAM = -3,
            ERR_ALREADY_AVAILABLE = -6;

    /** Spec version 2.0: major in bits 30:24, minor in 23:0. */
    static final long SPEC_VERSION = 2L << 24;
    /** Implementation ID: not a registered one; "Rivt" in ASCII. */
    static final long IMPL_ID = 0x52697674L;
    static final long IMPL_VERSION = 1;

    static final long MIP_SSIP = 1L << 1, MIP_STIP = 1L << 5;
    static final int A0 = 10, A1 = 11, A2 = 12, A3 = 13, A6 = 16, A7 = 17;

    private final SbiPlatform platform;

    public BuiltinSbi(SbiPlatform platform) {
        this.platform = platform;
    }

    @Override
    public long ecall(Hart h) {
        long ext = h.x(A7);
        long fid = h.x(A6);
        if (ext <= LEGACY_SHUTDOWN) {
            // Legacy calls return only a0 and leave a1 alone (chapter 5).
            long r = legacy(h, ext);
            h.setX(A0, r);
        } else {
            long[] r = call(h, ext, fid);
            h.setX(A0, r[0]);
            h.setX(A1, r[1]);
        }
        h.instret++; // the ecall retires once the "firmware" has handled it
        return h.pc + 4;
    }

    private long legacy(Hart h, long ext) {
        switch ((int) ext) {
            case (int) LEGACY_SET_TIMER -> {
                setTimer(h, h.x(A0));
                return SUCCESS;
            }
            case (int) LEGACY_PUTCHAR -> {
                platform.consoleWrite(new byte[] {(byte) h.x(A0)}, 0, 1);
                return SUCCESS;
            }
            case (int) LEGACY_GETCHAR -> {
                return platform.consoleRead();
            }
            case (int) LEGACY_CLEAR_IPI -> {
                h.clearPending(MIP_SSIP);
                return SUCCESS;
            }
            case (int) LEGACY_SEND_IPI -> {
                long mask = h.x(A0) == 0 ? -1L : readMask(h.x(A0));
                sendIpi(mask, 0);
                return SUCCESS;
            }
            case (int) LEGACY_FENCE_I -> {
                forEachHart(h.x(A0) == 0 ? -1L : readMask(h.x(A0)), 0, platform::fenceI);
                return SUCCESS;
            }
            case (int) LEGACY_SFENCE_VMA, (int) LEGACY_SFENCE_VMA_ASID -> {
                forEachHart(h.x(A0) == 0 ? -1L : readMask(h.x(A0)), 0, platform::sfenceVma);
                return SUCCESS;
            }
            default -> {
                platform.powerOff(false);
                return SUCCESS;
            }
        }
    }

    /** Legacy calls pass hart masks by (virtual) address; we read them physically. */
    private long readMask(long addr) {
        if (!platform.isRam(addr, 8)) {
            return 0;
        }
        byte[] b = platform.readRam(addr, 8);
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xFF);
        }
        return v;
    }

    private long[] call(Hart h, long ext, long fid) {
        if (ext == EXT_BASE) {
            return base(h, fid);
        } else if (ext == EXT_TIME) {
            if (fid != 0) {
                return err(ERR_NOT_SUPPORTED);
            }
            setTimer(h, h.x(A0));
            return ok(0);
        } else if (ext == EXT_IPI) {
            if (fid != 0) {
                return err(ERR_NOT_SUPPORTED);
            }
            return sendIpi(h.x(A0), h.x(A1));
        } else if (ext == EXT_RFENCE) {
            return rfence(h, fid);
        } else if (ext == EXT_HSM) {
            return hsm(h, fid);
        } else if (ext == EXT_SRST) {
            return srst(h, fid);
        } else if (ext == EXT_DBCN) {
            return dbcn(h, fid);
        } else if (ext == EXT_PMU) {
            return pmu(h, fid);
        }
        return err(ERR_NOT_SUPPORTED);
    }

    /** The counters the PMU extension reports: cycle, time, instret (CSRs 0xC00-0xC02). */
    static final int PMU_COUNTERS = 3;

    /**
     * The PMU extension (SBI spec chapter 11), as far as the hart has counters: the three
     * fixed ones, reported as 64-bit hardware counters. No event can be programmed
     * (config-matching says not supported), so perf has no hardware events, but Linux's
     * PMU driver probes it and then grants user mode the time counter in scounteren, which
     * is what the vDSO's clock_gettime reads. Without the extension Linux leaves
     * scounteren at 0, and every user-mode rdtime is an illegal instruction.
     */
    private long[] pmu(Hart h, long fid) {
        return switch ((int) fid) {
            case 0 -> ok(PMU_COUNTERS); // num_counters
            case 1 -> { // counter_get_info(idx): CSR number, width - 1 in bits 17:12, type 0 = hardware
                long idx = h.x(A0);
                yield idx >= 0 && idx < PMU_COUNTERS ? ok((0xC00 + idx) | (63L << 12)) : err(ERR_INVALID_PARAM);
            }
            case 3, 4 -> ok(0); // counter_start/stop: the fixed counters always count
            default -> err(ERR_NOT_SUPPORTED); // config_matching, fw_read, snapshot, event info
        };
    }

    private long[] base(Hart h, long fid) {
        return switch ((int) fid) {
            case 0 -> ok(SPEC_VERSION);
            case 1 -> ok(IMPL_ID);
            case 2 -> ok(IMPL_VERSION);
            case 3 -> ok(supported(h.x(A0)) ? 1 : 0);
            case 4, 5, 6 -> ok(0); // mvendorid, marchid, mimpid: all zero on this hart
            default -> err(ERR_NOT_SUPPORTED);
        };
    }

    static boolean supported(long ext) {
        return ext == EXT_BASE || ext == EXT_TIME || ext == EXT_IPI || ext == EXT_RFENCE || ext == EXT_HSM
                || ext == EXT_SRST || ext == EXT_DBCN || ext == EXT_PMU || (ext >= 0 && ext <= LEGACY_SHUTDOWN);
    }

    private void setTimer(Hart h, long deadline) {
        // Per the TIME extension, programming the timer clears the pending supervisor timer.
        h.clearPending(MIP_STIP);
        platform.setTimer(h, deadline);
    }

    /** Hart masks: bit i means hart (base + i); base = -1 means every hart (spec 3.1). */
    private long[] sendIpi(long mask, long base) {
        int bad = forEachHart(mask, base, target -> target.setPending(MIP_SSIP));
        return bad == 0 ? ok(0) : err(ERR_INVALID_PARAM);
    }

    private int forEachHart(long mask, long base, java.util.function.Consumer<Hart> action) {
        int n = platform.hartCount();
        if (base == -1) {
            for (int i = 0; i < n; i++) {
                action.accept(platform.hart(i));
            }
            return 0;
        }
        int bad = 0;
        for (int bit = 0; bit < 64; bit++) {
            if ((mask & (1L << bit)) != 0) {
                long id = base + bit;
                if (id < 0 || id >= n) {
                    bad++;
                } else {
                    action.accept(platform.hart((int) id));
                }
            }
        }
        return bad;
    }

    private long[] rfence(Hart h, long fid) {
        long mask = h.x(A0), base = h.x(A1);
        int bad = switch ((int) fid) {
            case 0 -> forEachHart(mask, base, platform::fenceI);
            case 1, 2 -> forEachHart(mask, base, platform::sfenceVma);
            default -> -1;
        };
        if (bad < 0) {
            return err(ERR_NOT_SUPPORTED); // hypervisor fences: no H extension
        }
        return bad == 0 ? ok(0) : err(ERR_INVALID_PARAM);
    }

    private long[] hsm(Hart h, long fid) {
        switch ((int) fid) {
            case 0 -> { // hart_start(hartid, start_addr, opaque)
                long id = h.x(A0);
                if (id < 0 || id >= platform.hartCount()) {
                    return err(ERR_INVALID_PARAM);
                }
                return platform.startHart((int) id, h.x(A1), h.x(A2)) ? ok(0) : err(ERR_ALREADY_AVAILABLE);
            }
            case 1 -> { // hart_stop
                platform.stopHart(h);
                return ok(0);
            }
            case 2 -> { // hart_get_status(hartid)
                long id = h.x(A0);
                if (id < 0 || id >= platform.hartCount()) {
                    return err(ERR_INVALID_PARAM);
                }
                return ok(platform.hartState((int) id));
            }
            default -> {
                return err(ERR_NOT_SUPPORTED); // hart_suspend: wfi does the same job for Linux
            }
        }
    }

    private long[] srst(Hart h, long fid) {
        if (fid != 0) {
            return err(ERR_NOT_SUPPORTED);
        }
        long type = h.x(A0), reason = h.x(A1);
        if (type == 0) {
            platform.powerOff(reason == 1);
        } else if (type == 1 || type == 2) {
            platform.reboot();
        } else {
            return err(ERR_INVALID_PARAM);
        }
        return ok(0);
    }

    private long[] dbcn(Hart h, long fid) {
        switch ((int) fid) {
            case 0 -> { // console_write(num_bytes, base_lo, base_hi)
                long len = h.x(A0), addr = h.x(A1);
                if (h.x(A2) != 0 || len < 0 || len > (1 << 20) || !platform.isRam(addr, len)) {
                    return err(ERR_INVALID_PARAM);
                }
                byte[] b = platform.readRam(addr, (int) len);
                platform.consoleWrite(b, 0, b.length);
                return ok(len);
            }
            case 1 -> { // console_read(num_bytes, base_lo, base_hi)
                long len = h.x(A0), addr = h.x(A1);
                if (h.x(A2) != 0 || len < 0 || !platform.isRam(addr, Math.max(len, 1))) {
                    return err(ERR_INVALID_PARAM);
                }
                int n = 0;
                byte[] buf = new byte[(int) Math.min(len, 4096)];
                while (n < buf.length) {
                    int c = platform.consoleRead();
                    if (c < 0) {
                        break;
                    }
                    buf[n++] = (byte) c;
                }
                platform.writeRam(addr, java.util.Arrays.copyOf(buf, n));
                return ok(n);
            }
            case 2 -> { // console_write_byte(byte)
                platform.consoleWrite(new byte[] {(byte) h.x(A0)}, 0, 1);
                return ok(0);
            }
            default -> {
                return err(ERR_NOT_SUPPORTED);
            }
        }
    }

    private static long[] ok(long value) {
        return new long[] {SUCCESS, value};
    }

    private static long[] err(long code) {
        return new long[] {code, 0};
    }
}
