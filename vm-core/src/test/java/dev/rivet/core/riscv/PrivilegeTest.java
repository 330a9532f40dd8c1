package dev.rivet.core.riscv;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.core.time.ManualClock;
import dev.rivet.core.time.TimerQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.rivet.core.riscv.Csr.*;
import static dev.rivet.core.riscv.Hart.PRIV_M;
import static dev.rivet.core.riscv.Hart.PRIV_S;
import static dev.rivet.core.riscv.Hart.PRIV_U;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Privilege modes, the supervisor CSRs and their views of the machine ones, trap
 * delegation, interrupt enabling and priority, xRET, counter-enable rules, the
 * TVM/TSR/TW traps and Sstc (Privileged Architecture v1.12, chapters 3 and 4).
 */
class PrivilegeTest {
    static final long RAM = 0x8000_0000L;
    GuestRam ram;
    Hart hart;
    ManualClock clock;
    TimerQueue timers;

    @BeforeEach
    void setUp() {
        ram = new GuestRam(RAM, 1 << 20);
        hart = new Hart(0, new Bus(ram), new CodePageMap(RAM, 1 << 20));
        hart.reset(RAM);
        clock = new ManualClock();
        timers = new TimerQueue(clock);
        hart.attachTime(timers);
    }

    @AfterEach
    void tearDown() {
        ram.close();
    }

    /** csrAccess as a csrrs x0-free read: returns the value, or null when it trapped. */
    Long read(int csr) {
        long v = hart.csrAccess(csr, Hart.CSR_RS, 0, false);
        if (hart.excCause >= 0) {
            assertEquals(Cause.ILLEGAL_INSN, hart.excCause);
            hart.excCause = -1;
            return null;
        }
        return v;
    }

    boolean write(int csr, long v) {
        hart.csrAccess(csr, Hart.CSR_RW, v, true);
        if (hart.excCause >= 0) {
            hart.excCause = -1;
            return false;
        }
        return true;
    }

    // ---------------------------------------------------------------------------------
    // CSR fields and views.

    @Test
    void misaHasSupervisorAndUserModes() {
        long misa = hart.csrRead(MISA);
        assertTrue((misa & misaBit('S')) != 0);
        assertTrue((misa & misaBit('U')) != 0);
        assertEquals(0, misa & misaBit('H'));
    }

    @Test
    void warlMasksOfDelegationAndEnableRegisters() {
        write(MEDELEG, -1L);
        assertEquals(0xB3FFL, read(MEDELEG), "ecall from M (11) and the reserved 10, 14 cannot be delegated");
        write(MIDELEG, -1L);
        assertEquals(MIP_SSIP | MIP_STIP | MIP_SEIP, read(MIDELEG), "only S-level interrupts delegate");
        write(MIE, -1L);
        assertEquals(0xAAAL, read(MIE));
        write(MCOUNTEREN, -1L);
        write(SCOUNTEREN, -1L);
        assertEquals(0xFFFF_FFFFL, read(MCOUNTEREN));
        assertEquals(0xFFFF_FFFFL, read(SCOUNTEREN));
        write(MENVCFG, -1L);
        assertEquals(MENVCFG_STCE | ENVCFG_FIOM, read(MENVCFG), "STCE and FIOM; no PBMTE, ADUE, CBxE");
        write(SENVCFG, -1L);
        assertEquals(ENVCFG_FIOM, read(SENVCFG));
        write(SEPC, 0x1235);
        assertEquals(0x1234L, read(SEPC));
        write(STVEC, 0x8000_1003L);
        assertEquals(0x8000_1000L, read(STVEC), "mode 3 is reserved: the mode stays at its old, legal value");
        write(STVEC, 0x8000_2001L);
        assertEquals(0x8000_2001L, read(STVEC), "vectored");
    }

    @Test
    void mstatusFieldsAndTheirWarlRules() {
        long s = read(MSTATUS);
        assertEquals(2, (s >>> 32) & 3, "UXL = 64 bit");
        assertEquals(2, (s >>> 34) & 3, "SXL = 64 bit");
        write(MSTATUS, 0); // UXL/SXL are read-only
        assertEquals(MSTATUS_UXL_SXL_64, read(MSTATUS) & (MSTATUS_UXL | MSTATUS_SXL));
        long fields = MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPRV
                | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR;
        write(MSTATUS, fields);
        assertEquals(fields, read(MSTATUS) & fields);
        for (int mpp : new int[] {PRIV_U, PRIV_S, PRIV_M}) {
            write(MSTATUS, (long) mpp << MSTATUS_MPP_SHIFT);
            assertEquals(mpp, (read(MSTATUS) & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT);
        }
        write(MSTATUS, (long) PRIV_S << MSTATUS_MPP_SHIFT);
        write(MSTATUS, 2L << MSTATUS_MPP_SHIFT);
        assertEquals(PRIV_S, (read(MSTATUS) & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT, "MPP = 2 is not a mode: unchanged");
        write(MSTATUS, MSTATUS_FS);
        assertTrue(read(MSTATUS) < 0, "SD summarises FS = Dirty");
        write(MSTATUS, 1L << MSTATUS_FS_SHIFT);
        assertTrue(read(MSTATUS) > 0);
        write(MSTATUS, 3L << 15 | 1L << 36 | 1L << 37 | 3L << 9);
        assertEquals(0, read(MSTATUS) & (3L << 15 | 1L << 36 | 1L << 37 | 3L << 9), "XS, SBE, MBE, VS read zero");
    }

    @Test
    void sstatusIsARestrictedViewOfMstatus() {
        write(MSTATUS, -1L);
        long m = read(MSTATUS);
        long sstatus = read(SSTATUS);
        long visible = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_UXL | MSTATUS_SD;
        assertEquals(m & visible, sstatus);
        assertEquals(0, sstatus & (MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW
                | MSTATUS_TSR | MSTATUS_SXL));
        // Writing sstatus leaves the machine-only fields alone.
        write(SSTATUS, 0);
        long after = read(MSTATUS);
        assertEquals(m & ~(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_SD), after);
        write(SSTATUS, -1L);
        assertEquals(m, read(MSTATUS));
    }

    @Test
    void sieAndSipAreViewsThroughMideleg() {
        write(MIE, -1L);
        assertEquals(0, read(SIE), "nothing delegated: sie reads zero");
        write(MIDELEG, MIP_STIP | MIP_SSIP);
        assertEquals(MIP_STIP | MIP_SSIP, read(SIE));
        write(SIE, 0);
        assertEquals(0xAAAL & ~(MIP_STIP | MIP_SSIP), read(MIE), "sie writes only delegated bits");
        write(SIE, -1L);
        assertEquals(0xAAAL, read(MIE));

        hart.setPending(MIP_MTIP | MIP_STIP | MIP_MSIP);
        write(MIP, MIP_SSIP);
        assertEquals(MIP_MTIP | MIP_MSIP | MIP_SSIP, read(MIP), "M-level bits kept; STIP written by M (STCE = 0)");
        write(MIP, MIP_SSIP | MIP_STIP);
        assertEquals(MIP_MTIP | MIP_STIP | MIP_MSIP | MIP_SSIP, read(MIP));
        assertEquals(MIP_STIP | MIP_SSIP, read(SIP), "sip shows delegated bits only");
        write(SIP, 0);
        assertEquals(MIP_STIP, read(SIP), "sip: only SSIP is writable");
        write(SIP, -1L);
        assertEquals(MIP_STIP | MIP_SSIP, read(SIP));
        write(MIDELEG, 0);
        write(SIP, 0);
        assertEquals(MIP_SSIP, read(MIP) & MIP_SSIP, "undelegated SSIP is not writable through sip");
        assertEquals(0, read(SIP));
    }

    @Test
    void mipWritableBitsAndSeipLine() {
        write(MIP, -1L);
        assertEquals(MIP_SSIP | MIP_STIP | MIP_SEIP, read(MIP), "M writes SSIP, STIP, SEIP; M-level bits are read-only");
        write(MIP, 0);
        assertEquals(0, read(MIP));
        hart.setExternalSeip(true);
        assertEquals(MIP_SEIP, read(MIP), "the external line shows in SEIP");
        write(MIP, 0);
        assertEquals(MIP_SEIP, read(MIP), "and cannot be cleared by software");
        hart.csrAccess(MIP, Hart.CSR_RS, MIP_SSIP, true); // csrrs uses the software SEIP bit
        hart.setExternalSeip(false);
        assertEquals(MIP_SSIP, read(MIP), "csrrs did not latch the line into the software bit");
        write(MIP, MIP_SEIP);
        hart.setExternalSeip(true);
        hart.setExternalSeip(false);
        assertEquals(MIP_SEIP | MIP_SSIP, read(MIP) | MIP_SSIP, "software SEIP survives the line dropping");
        hart.clearPending(MIP_SEIP);
        assertEquals(MIP_SEIP, read(MIP) & MIP_SEIP, "device clears do not touch the software bit");
    }

    @Test
    void satpWritesWithUnsupportedModesAreIgnored() {
        long ppnAsid = (0x1234L << 44) | 0x80123L;
        for (int mode : new int[] {SATP_SV39, SATP_SV48, SATP_SV57, SATP_BARE}) {
            write(SATP, ((long) mode << 60) | ppnAsid);
            assertEquals(((long) mode << 60) | ppnAsid, read(SATP));
        }
        write(SATP, ((long) SATP_SV48 << 60) | 5);
        for (int mode : new int[] {1, 7, 11, 12, 15}) {
            write(SATP, ((long) mode << 60) | 9);
            assertEquals(((long) SATP_SV48 << 60) | 5, read(SATP), "mode " + mode);
        }
    }

    // ---------------------------------------------------------------------------------
    // Traps and delegation.

    @Test
    void exceptionsFromUAndSAreDelegatedWhenMedelegSaysSo() {
        hart.medeleg = 1L << Cause.ECALL_U | 1L << Cause.LOAD_PAGE_FAULT | 1L << Cause.ILLEGAL_INSN;
        hart.stvec = RAM + 0x400 | 1; // vectored: exceptions still go to BASE
        hart.mtvec = RAM + 0x800;
        hart.setPriv(PRIV_U);
        hart.mstatus |= MSTATUS_SIE;
        hart.pc = RAM + 0x10;
        hart.trap(Cause.ECALL_U, 0);
        assertEquals(PRIV_S, hart.priv);
        assertEquals(RAM + 0x400, hart.pc);
        assertEquals(Cause.ECALL_U, hart.scause);
        assertEquals(RAM + 0x10, hart.sepc);
        assertEquals(0, hart.mstatus & MSTATUS_SPP, "SPP = U");
        assertTrue((hart.mstatus & MSTATUS_SPIE) != 0, "SPIE <- SIE");
        assertEquals(0, hart.mstatus & MSTATUS_SIE);
        assertEquals(0, hart.mcause, "M-mode state untouched");

        // From S, a delegated exception stays in S and records SPP = S.
        hart.pc = RAM + 0x20;
        hart.trap(Cause.LOAD_PAGE_FAULT, 0xDEAD_B000L);
        assertEquals(PRIV_S, hart.priv);
        assertEquals(0xDEAD_B000L, hart.stval);
        assertEquals(RAM + 0x20, hart.sepc);
        assertTrue((hart.mstatus & MSTATUS_SPP) != 0);
        assertEquals(0, hart.mstatus & MSTATUS_SPIE, "SPIE <- SIE (0 now)");

        // Not delegated: to M, MPP = S.
        hart.trap(Cause.STORE_PAGE_FAULT, 0x40);
        assertEquals(PRIV_M, hart.priv);
        assertEquals(RAM + 0x800, hart.pc);
        assertEquals(Cause.STORE_PAGE_FAULT, hart.mcause);
        assertEquals(0x40, hart.mtval);
        assertEquals(PRIV_S, (hart.mstatus & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT);

        // In M, delegation never applies.
        hart.trap(Cause.ILLEGAL_INSN, 0);
        assertEquals(PRIV_M, hart.priv);
        assertEquals(Cause.ILLEGAL_INSN, hart.mcause);
        assertEquals(PRIV_M, (hart.mstatus & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT);
    }

    @Test
    void delegatedInterruptsUseTheSupervisorVector() {
        hart.mideleg = MIP_STIP;
        hart.stvec = RAM + 0x400 | 1;
        hart.setPriv(PRIV_U);
        hart.trap(Cause.INTERRUPT | 5, 0);
        assertEquals(PRIV_S, hart.priv);
        assertEquals(RAM + 0x400 + 4 * 5, hart.pc);
        assertEquals(Cause.INTERRUPT | 5, hart.scause);
        hart.stvec = RAM + 0x400;
        hart.trap(Cause.INTERRUPT | 5, 0);
        assertEquals(RAM + 0x400, hart.pc, "direct mode");
    }

    @Test
    void builtInSbiStillServicesEcallFromS() {
        hart.medeleg = Hart.MEDELEG_MASK;
        hart.sbi = h -> h.pc + 4;
        hart.setPriv(PRIV_S);
        hart.pc = RAM + 0x100;
        hart.trap(Cause.ECALL_S, 0);
        assertEquals(RAM + 0x104, hart.pc);
        assertEquals(PRIV_S, hart.priv);
        assertEquals(0, hart.scause);
        assertEquals(0, hart.mcause);
    }

    @Test
    void mretAndSretFollowTheStacks() {
        hart.mstatus = (hart.mstatus & ~MSTATUS_MPP) | (long) PRIV_S << MSTATUS_MPP_SHIFT | MSTATUS_MPIE | MSTATUS_MPRV;
        hart.mepc = RAM + 0x40;
        hart.mret();
        assertEquals(PRIV_S, hart.priv);
        assertEquals(RAM + 0x40, hart.pc);
        assertEquals(0, hart.mstatus & MSTATUS_MPP, "MPP <- U");
        assertEquals(0, hart.mstatus & MSTATUS_MPRV, "MPRV cleared when returning below M");
        assertTrue((hart.mstatus & MSTATUS_MIE) != 0);

        hart.mstatus |= MSTATUS_SPIE | MSTATUS_SPP;
        hart.sepc = RAM + 0x80;
        hart.sret();
        assertEquals(PRIV_S, hart.priv, "SPP was S");
        assertTrue((hart.mstatus & MSTATUS_SIE) != 0);
        assertTrue((hart.mstatus & MSTATUS_SPIE) != 0);
        assertEquals(0, hart.mstatus & MSTATUS_SPP, "SPP <- U");
        hart.mstatus &= ~MSTATUS_SPIE;
        hart.sret();
        assertEquals(PRIV_U, hart.priv);
        assertEquals(0, hart.mstatus & MSTATUS_SIE);

        // mret to M keeps MPRV.
        hart.setPriv(PRIV_M);
        hart.mstatus |= MSTATUS_MPP | MSTATUS_MPRV;
        hart.mret();
        assertEquals(PRIV_M, hart.priv);
        assertTrue((hart.mstatus & MSTATUS_MPRV) != 0);
    }

    @Test
    void privilegedInstructionTrapsFromMstatus() {
        hart.setPriv(PRIV_S);
        assertFalse(hart.sretIllegal());
        assertFalse(hart.wfiIllegal());
        assertFalse(hart.sfenceIllegal());
        assertTrue(write(SATP, 0));
        hart.mstatus |= MSTATUS_TSR | MSTATUS_TW | MSTATUS_TVM;
        assertTrue(hart.sretIllegal());
        assertTrue(hart.wfiIllegal());
        assertTrue(hart.sfenceIllegal());
        assertEquals(null, read(SATP), "TVM: satp is illegal in S");
        assertFalse(write(SATP, 0));
        hart.setPriv(PRIV_M);
        assertFalse(hart.sretIllegal());
        assertFalse(hart.wfiIllegal());
        assertFalse(hart.sfenceIllegal());
        assertEquals(0L, read(SATP));
        hart.setPriv(PRIV_U);
        hart.mstatus &= ~(MSTATUS_TSR | MSTATUS_TW | MSTATUS_TVM);
        assertTrue(hart.sretIllegal());
        assertTrue(hart.wfiIllegal());
        assertTrue(hart.sfenceIllegal());
        assertEquals(null, read(SSTATUS), "S CSRs are illegal in U");
        assertEquals(null, read(MSTATUS));
        hart.setPriv(PRIV_S);
        assertEquals(null, read(MSTATUS), "M CSRs are illegal in S");
    }

    // ---------------------------------------------------------------------------------
    // Interrupts.

    static final int[] PRIORITY = {11, 3, 7, 9, 1, 5};

    /** 3.1.9, stated case by case: which interrupt traps now, or -1. */
    static int expectedInterrupt(int priv, boolean mieBit, boolean sieBit, long mip, long mie, long mideleg) {
        List<Integer> toM = new ArrayList<>(), toS = new ArrayList<>();
        for (int i : PRIORITY) {
            long bit = 1L << i;
            if ((mip & bit) == 0 || (mie & bit) == 0) {
                continue;
            }
            if ((mideleg & bit) == 0) {
                if (priv < PRIV_M || mieBit) {
                    toM.add(i);
                }
            } else if (priv == PRIV_U || (priv == PRIV_S && sieBit)) {
                toS.add(i); // delegated interrupts are never taken in M
            }
        }
        return !toM.isEmpty() ? toM.get(0) : !toS.isEmpty() ? toS.get(0) : -1;
    }

    @Test
    void interruptEnableAndPriorityMatrix() {
        long[] delegs = {0, MIP_SSIP, MIP_STIP | MIP_SEIP, S_INTERRUPTS};
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (int priv : new int[] {PRIV_U, PRIV_S, PRIV_M}) {
            for (int st = 0; st < 4; st++) {
                for (long deleg : delegs) {
                    for (long bits = 0; bits < 64; bits++) {
                        long mip = 0;
                        for (int k = 0; k < 6; k++) {
                            if ((bits & (1L << k)) != 0) {
                                mip |= 1L << PRIORITY[k];
                            }
                        }
                        for (long mie : new long[] {ALL_INTERRUPTS, MIP_STIP | MIP_MTIP | MIP_SSIP, 0}) {
                            boolean mieBit = (st & 1) != 0, sieBit = (st & 2) != 0;
                            hart.reset(RAM);
                            hart.setPriv(priv);
                            hart.mstatus |= (mieBit ? MSTATUS_MIE : 0) | (sieBit ? MSTATUS_SIE : 0);
                            hart.mideleg = deleg;
                            hart.mie = mie;
                            hart.mip = mip;
                            int want = expectedInterrupt(priv, mieBit, sieBit, mip, mie, deleg);
                            int got = hart.pendingInterrupt();
                            checked++;
                            if (got != want) {
                                failures.add(String.format("priv=%d MIE=%b SIE=%b mideleg=%x mie=%x mip=%x: got %d want %d",
                                        priv, mieBit, sieBit, deleg, mie, mip, got, want));
                            } else if (got >= 0) {
                                hart.trap(Cause.INTERRUPT | got, 0);
                                int dest = (deleg & (1L << got)) != 0 ? PRIV_S : PRIV_M;
                                if (hart.priv != dest) {
                                    failures.add("irq " + got + " went to " + hart.priv + " not " + dest);
                                }
                            }
                        }
                    }
                }
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + "/" + checked + " wrong:\n"
                + String.join("\n", failures.subList(0, Math.min(20, failures.size()))));
    }

    @Test
    void interruptCasesByHand() {
        hart.mie = ALL_INTERRUPTS;
        hart.mideleg = S_INTERRUPTS;
        hart.mip = MIP_STIP | MIP_MTIP;
        assertEquals(-1, hart.pendingInterrupt(), "M with MIE = 0: nothing");
        hart.mstatus |= MSTATUS_MIE;
        assertEquals(7, hart.pendingInterrupt(), "M with MIE: MTI, never the delegated STI");
        hart.mip = MIP_STIP;
        assertEquals(-1, hart.pendingInterrupt());
        hart.setPriv(PRIV_S);
        hart.mstatus &= ~MSTATUS_MIE;
        assertEquals(-1, hart.pendingInterrupt(), "S with SIE = 0");
        hart.mip = MIP_STIP | MIP_MTIP;
        assertEquals(7, hart.pendingInterrupt(), "below M, M-level interrupts ignore MIE");
        hart.mip = MIP_STIP | MIP_SSIP | MIP_SEIP;
        hart.mstatus |= MSTATUS_SIE;
        assertEquals(9, hart.pendingInterrupt(), "SEI before SSI before STI");
        hart.mip = MIP_STIP | MIP_SSIP;
        assertEquals(1, hart.pendingInterrupt());
        hart.setPriv(PRIV_U);
        hart.mstatus &= ~MSTATUS_SIE;
        assertEquals(1, hart.pendingInterrupt(), "in U, S-level interrupts ignore SIE");
        hart.mideleg = MIP_STIP;
        hart.mip = MIP_STIP | MIP_SSIP;
        assertEquals(1, hart.pendingInterrupt(), "SSI for M outranks STI for S");
        hart.trap(Cause.INTERRUPT | 1, 0);
        assertEquals(PRIV_M, hart.priv);
    }

    // ---------------------------------------------------------------------------------
    // Counters.

    @Test
    void counterAccessFollowsMcounterenAndScounteren() {
        int[] counters = {CYCLE, TIME, INSTRET, HPMCOUNTER3, HPMCOUNTER3 + 5, HPMCOUNTER31};
        List<String> failures = new ArrayList<>();
        for (int csr : counters) {
            int bit = csr - CYCLE;
            for (int priv : new int[] {PRIV_U, PRIV_S, PRIV_M}) {
                for (int m = 0; m < 2; m++) {
                    for (int s = 0; s < 2; s++) {
                        hart.setPriv(PRIV_M);
                        write(MCOUNTEREN, m == 1 ? 1L << bit : ~(1L << bit));
                        write(SCOUNTEREN, s == 1 ? 1L << bit : ~(1L << bit));
                        hart.setPriv(priv);
                        boolean want = priv == PRIV_M || (m == 1 && (priv == PRIV_S || s == 1));
                        boolean got = read(csr) != null;
                        if (got != want) {
                            failures.add(String.format("csr %x priv %d mcounteren %d scounteren %d: got %b", csr, priv, m, s, got));
                        }
                    }
                }
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    @Test
    void timeReadsTheMachineClock() {
        clock.set(12345);
        assertEquals(12345L, read(TIME));
        hart.attachTime(null);
        assertEquals(null, read(TIME), "no timer on the board: time does not exist");
    }

    // ---------------------------------------------------------------------------------
    // Sstc.

    @Test
    void enablingSstcAfterResetDoesNotRaiseStip() {
        clock.set(1_000_000);
        write(MENVCFG, MENVCFG_STCE);
        assertEquals(0, read(MIP) & MIP_STIP);
        write(STIMECMP, 999_999);
        assertEquals(MIP_STIP, read(MIP) & MIP_STIP);
    }

    @Test
    void stimecmpDrivesStipWhenStceIsSet() {
        clock.set(1000);
        write(STIMECMP, 500);
        assertEquals(0, read(MIP) & MIP_STIP, "STCE = 0: stimecmp has no effect");
        write(MIP, MIP_STIP);
        assertEquals(MIP_STIP, read(MIP) & MIP_STIP, "STCE = 0: STIP is written by M");
        write(MIP, 0);

        write(MENVCFG, MENVCFG_STCE);
        assertEquals(MIP_STIP, read(MIP) & MIP_STIP, "mtime 1000 >= stimecmp 500");
        write(MIP, 0);
        assertEquals(MIP_STIP, read(MIP) & MIP_STIP, "STCE = 1: mip.STIP is read-only");
        write(STIMECMP, 2000);
        assertEquals(0, read(MIP) & MIP_STIP, "pushed into the future: cleared");
        clock.set(1999);
        timers.runDue();
        assertEquals(0, hart.mip & MIP_STIP);
        clock.set(2000);
        assertTrue(timers.runDue(), "the hart armed a timer for stimecmp");
        assertEquals(MIP_STIP, hart.mip & MIP_STIP);
        write(STIMECMP, -1L);
        assertEquals(0, read(MIP) & MIP_STIP, "stimecmp = 2^64-1 (unsigned) is never reached");
        clock.set(Long.MAX_VALUE / 2);
        assertFalse(timers.runDue());
        assertEquals(0, read(MIP) & MIP_STIP);
        // Reading mip is up to date even before the timer is polled.
        write(STIMECMP, Long.MAX_VALUE / 2 + 10);
        clock.set(Long.MAX_VALUE / 2 + 10);
        assertEquals(MIP_STIP, read(SIP) | read(MIP) & MIP_STIP);
    }

    @Test
    void stimecmpAccessFromSNeedsStceAndTm() {
        hart.setPriv(PRIV_S);
        assertEquals(null, read(STIMECMP));
        hart.menvcfg = MENVCFG_STCE;
        assertEquals(null, read(STIMECMP), "mcounteren.TM = 0");
        hart.mcounteren = 2;
        assertEquals(-1L, read(STIMECMP), "reset value: never");
        assertTrue(write(STIMECMP, 77));
        hart.setPriv(PRIV_M);
        hart.menvcfg = 0;
        assertEquals(77L, read(STIMECMP), "M always has access");
        hart.setPriv(PRIV_U);
        hart.menvcfg = MENVCFG_STCE;
        assertEquals(null, read(STIMECMP));
    }
}
