package dev.rivet.interp;

import dev.rivet.core.riscv.Cause;
import dev.rivet.core.riscv.Csr;
import dev.rivet.core.riscv.Hart;
import dev.rivet.core.riscv.Mmu;
import dev.rivet.ir.riscv.RiscvAssembler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.rivet.interp.GuestHarness.CODE;
import static dev.rivet.interp.GuestHarness.RAM;
import static dev.rivet.ir.riscv.RiscvAssembler.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * S- and U-mode programs with Sv39 paging, run through the decoder and the interpreter:
 * loads and stores through page tables, an ecall round trip U → S → M, and the
 * interpreter's virtual-PC caches (jump cache, chained exits, blocks that straddle a page,
 * blocks whose fetch faulted) following remapped pages after {@code sfence.vma} and satp
 * writes.
 */
class PagingBehaviourTest {
    static final int ZERO = 0, RA = 1, T0 = 5, T1 = 6, T2 = 7, S1 = 9, A0 = 10, A1 = 11, A2 = 12, A3 = 13, A4 = 14,
            S2 = 18, S3 = 19, S4 = 20, S5 = 21, T3 = 28;
    static final long V = Mmu.PTE_V, R = Mmu.PTE_R, W = Mmu.PTE_W, X = Mmu.PTE_X, U = Mmu.PTE_U, A = Mmu.PTE_A,
            D = Mmu.PTE_D;
    static final long TABLES = RAM + 0x80000;

    static int sret() {
        return 0x10200073;
    }

    static int sfenceVma(int rs1, int rs2) {
        return 0x12000073 | rs1 << 15 | rs2 << 20;
    }

    /** Sv39 tables in the harness RAM; RAM is identity-mapped for S by one gigapage. */
    static final class Tables {
        final GuestHarness g;
        final long root;
        long next;

        Tables(GuestHarness g, long at) {
            this.g = g;
            this.next = at;
            this.root = alloc();
            // VA 0x8000_0000 (1 GiB) -> PA 0x8000_0000: supervisor RWX.
            write(root + 2 * 8, pte(RAM, R | W | X | A | D | V));
        }

        long alloc() {
            long a = next;
            next += 4096;
            for (int o = 0; o < 4096; o += 8) {
                write(a + o, 0);
            }
            return a;
        }

        long satp() {
            return (8L << 60) | (root >>> 12);
        }

        long read(long pa) {
            return g.ram.read(pa - RAM, 8);
        }

        void write(long pa, long v) {
            g.ram.write(pa - RAM, 8, v);
        }

        static long pte(long pa, long flags) {
            return ((pa >>> 12) << 10) | flags;
        }

        /** The level-0 PTE address for {@code va} (a low address), creating the tables. */
        long pteAddr(long va) {
            long table = root;
            for (int lvl = 2; lvl > 0; lvl--) {
                long at = table + (((va >>> (12 + 9 * lvl)) & 0x1FF) << 3);
                long p = read(at);
                if ((p & V) == 0) {
                    p = pte(alloc(), V);
                    write(at, p);
                }
                table = (p >>> 10) << 12;
            }
            return table + (((va >>> 12) & 0x1FF) << 3);
        }

        long map(long va, long pa, long flags) {
            long at = pteAddr(va);
            write(at, pte(pa, flags | V));
            return at;
        }
    }

    /**
     * M-mode prologue at CODE: satp, stvec, medeleg, MPP = S, mret into label "s" (the S
     * program follows, identity-mapped).
     */
    static RiscvAssembler machineSetup(long satp, long stvec, long medeleg) {
        RiscvAssembler a = new RiscvAssembler();
        a.li(T0, satp).emit(csrrw(ZERO, Csr.SATP, T0));
        a.li(T0, stvec).emit(csrrw(ZERO, Csr.STVEC, T0));
        a.li(T0, medeleg).emit(csrrw(ZERO, Csr.MEDELEG, T0));
        a.li(T0, Csr.MSTATUS_MPP).emit(csrrc(ZERO, Csr.MSTATUS, T0));
        a.li(T0, 1L << Csr.MSTATUS_MPP_SHIFT).emit(csrrs(ZERO, Csr.MSTATUS, T0));
        a.emit(auipc(T0, 0));
        a.emitTo("s", o -> addi(T0, T0, o + 4)); // T0 = address of "s" (auipc is one word earlier)
        a.emit(csrrw(ZERO, Csr.MEPC, T0), mret());
        a.label("s");
        return a;
    }

    private static void assertStoppedAt(Hart h, long cause) {
        assertEquals(cause, h.mcause, () -> "mcause " + Cause.name(h.mcause) + " at 0x" + Long.toHexString(h.mepc)
                + ", scause " + Cause.name(h.scause) + " sepc 0x" + Long.toHexString(h.sepc) + " stval 0x"
                + Long.toHexString(h.stval));
    }

    @Test
    void supervisorProgramWithPagingAndAUserModeRoundTrip() {
        try (GuestHarness g = new GuestHarness()) {
            Tables t = new Tables(g, TABLES);
            long sData = 0x20_0000L, uCode = 0x1_0000L, uData = 0x1_1000L;
            long sDataPa = RAM + 0x21000, uCodePa = RAM + 0x22000, uDataPa = RAM + 0x23000;
            t.map(sData, sDataPa, R | W);                 // A/D clear: the hart sets them
            t.map(uCode, uCodePa, R | X | U | A);
            t.map(uData, uDataPa, R | W | U | A | D);
            g.ram.write(sDataPa - RAM, 8, 0x5555);
            g.ram.write(uDataPa - RAM, 8, 0x7777);

            RiscvAssembler a = machineSetup(t.satp(), 0, 1L << Cause.ECALL_U);
            // S: stvec = handler; load/store through the mapping; sret to U.
            a.emit(auipc(T0, 0));
            a.emitTo("handler", o -> addi(T0, T0, o + 4));
            a.emit(csrrw(ZERO, Csr.STVEC, T0));
            a.li(T0, sData).emit(ld(A0, T0, 0), addi(A0, A0, 1), sd(A0, T0, 8));
            a.li(T0, uCode).emit(csrrw(ZERO, Csr.SEPC, T0));
            a.li(T0, Csr.MSTATUS_SPP).emit(csrrc(ZERO, Csr.SSTATUS, T0));
            a.emit(sret());
            a.emit(ebreak()); // not reached
            // S trap handler: record scause/sepc, then ecall (not delegated: to M).
            a.label("handler").emit(csrrs(A3, Csr.SCAUSE, ZERO), csrrs(A4, Csr.SEPC, ZERO), ecall());
            g.put(CODE, a.assemble());
            // U: load/store its data page, ecall.
            RiscvAssembler u = new RiscvAssembler().li(T1, uData)
                    .emit(ld(A1, T1, 0), addi(A1, A1, 1), sd(A1, T1, 8), ecall());
            g.put(uCodePa, u.assemble());

            Hart h = g.runFromCode(10_000);
            assertStoppedAt(h, Cause.ECALL_S);
            assertEquals(0x5556, h.x(A0));
            assertEquals(0x5556, g.ram.read(sDataPa + 8 - RAM, 8));
            assertEquals(0x7778, h.x(A1));
            assertEquals(0x7778, g.ram.read(uDataPa + 8 - RAM, 8));
            assertEquals(Cause.ECALL_U, h.x(A3), "U's ecall was delegated to S");
            assertEquals(uCode + u.sizeBytes() - 4, h.x(A4), "sepc = the U ecall's virtual address");
            assertEquals(Hart.PRIV_S, (h.mstatus & Csr.MSTATUS_MPP) >>> Csr.MSTATUS_MPP_SHIFT);
            long pte = t.read(t.pteAddr(sData));
            assertEquals(A | D, pte & (A | D), "the hart set A and D in the S data PTE");
        }
    }

    /**
     * Accesses that straddle two virtual pages mapped to physical pages far apart reach
     * both, also when both pages are in the data TLB: the TLB probe must never take a
     * straddling access for one within the first page (the physical page after it holds a
     * decoy that must not be read or written).
     */
    @Test
    void accessesAcrossAPageBoundaryReachBothPhysicalPages() {
        try (GuestHarness g = new GuestHarness()) {
            Tables t = new Tables(g, TABLES);
            long va = 0x20_0000L, lowPa = RAM + 0x21000, decoyPa = RAM + 0x22000, highPa = RAM + 0x25000;
            t.map(va, lowPa, R | W | A | D);
            t.map(va + 0x1000, highPa, R | W | A | D);
            t.write(lowPa + 0xFF8, 0x1111_2222_3333_4444L);
            t.write(highPa, 0x5555_6666_7777_8888L);
            t.write(decoyPa, 0xDEAD_DEAD_DEAD_DEADL);

            RiscvAssembler a = machineSetup(t.satp(), 0, 0);
            a.li(T0, va + 0xFF8).li(T1, va + 0x1000);
            // Aligned accesses first, so both pages are in the read and the write TLB.
            a.emit(ld(A0, T0, 0), ld(A0, T1, 0), sd(A0, T0, -8), sd(A0, T1, 8));
            a.emit(ld(A1, T0, 4), lw(A2, T0, 6), lh(A3, T0, 7));
            a.li(S2, 0x0102_0304_0506_0708L).li(S3, 0x0A0B_0C0DL).li(S4, 0xEEFFL);
            a.emit(sd(S2, T0, 5), sw(S3, T0, 6), sh(S4, T0, 7), ebreak());
            g.put(CODE, a.assemble());

            Hart h = g.runFromCode(10_000);
            assertStoppedAt(h, Cause.BREAKPOINT);
            assertEquals(0x7777_8888_1111_2222L, h.x(A1));
            assertEquals(0xFFFF_FFFF_8888_1111L, h.x(A2));
            assertEquals(0xFFFF_FFFF_FFFF_8811L, h.x(A3));
            assertEquals(0xFF0D_0822_3333_4444L, t.read(lowPa + 0xFF8));
            assertEquals(0x5555_6601_0203_0AEEL, t.read(highPa));
            assertEquals(0xDEAD_DEAD_DEAD_DEADL, t.read(decoyPa), "the decoy page is untouched");
        }
    }

    @Test
    void userAccessToASupervisorPageFaultsIntoS() {
        try (GuestHarness g = new GuestHarness()) {
            Tables t = new Tables(g, TABLES);
            long uCode = 0x1_0000L, uCodePa = RAM + 0x22000;
            t.map(uCode, uCodePa, R | X | U | A);
            RiscvAssembler a = machineSetup(t.satp(), 0, 1L << Cause.LOAD_PAGE_FAULT | 1L << Cause.STORE_PAGE_FAULT);
            a.emit(auipc(T0, 0));
            a.emitTo("handler", o -> addi(T0, T0, o + 4));
            a.emit(csrrw(ZERO, Csr.STVEC, T0));
            a.li(T0, uCode).emit(csrrw(ZERO, Csr.SEPC, T0), sret());
            a.label("handler").emit(csrrs(A3, Csr.SCAUSE, ZERO), csrrs(A4, Csr.STVAL, ZERO),
                    csrrs(A2, Csr.SSTATUS, ZERO), ebreak());
            g.put(CODE, a.assemble());
            // U reads the S-only identity mapping of RAM.
            RiscvAssembler u = new RiscvAssembler().li(T1, RAM + 0x40).emit(ld(A1, T1, 8));
            g.put(uCodePa, u.assemble());
            Hart h = g.runFromCode(10_000);
            assertStoppedAt(h, Cause.BREAKPOINT);
            assertEquals(Cause.LOAD_PAGE_FAULT, h.x(A3));
            assertEquals(RAM + 0x48, h.x(A4), "stval = the faulting virtual address");
            assertEquals(0, h.x(A2) & Csr.MSTATUS_SPP, "came from U");
        }
    }

    @Test
    void remappedPagesAreSeenByLoadsAndFetchesAfterSfenceVma() {
        try (GuestHarness g = new GuestHarness()) {
            Tables t = new Tables(g, TABLES);
            long fnVa = 0x4_0000L, dataVa = 0x5_0000L;
            long c1 = RAM + 0x30000, c2 = RAM + 0x31000, d1 = RAM + 0x32000, d2 = RAM + 0x33000;
            long pteFn = t.map(fnVa, c1, R | X | A);
            long pteData = t.map(dataVa, d1, R | A);
            // The function: a small loop (chained blocks within the page), result in a0.
            g.put(c1, addi(A0, ZERO, 0), addi(T2, ZERO, 3), addi(A0, A0, 1), addi(T2, T2, -1), bne(T2, ZERO, -8),
                    jalr(ZERO, RA, 0));
            g.put(c2, addi(A0, ZERO, 0), addi(T2, ZERO, 3), addi(A0, A0, 2), addi(T2, T2, -1), bne(T2, ZERO, -8),
                    jalr(ZERO, RA, 0));
            g.ram.write(d1 - RAM, 8, 10);
            g.ram.write(d2 - RAM, 8, 20);

            RiscvAssembler a = machineSetup(t.satp(), 0, 0);
            a.li(T0, fnVa).emit(jalr(RA, T0, 0), addi(S1, A0, 0));
            a.li(T0, fnVa).emit(jalr(RA, T0, 0)); // again: now from the jump cache and links
            a.li(T0, dataVa).emit(ld(S2, T0, 0));
            // Remap both pages (the page tables are reachable through the identity map).
            a.li(T1, pteFn).li(T2, Tables.pte(c2, R | X | A | V)).emit(sd(T2, T1, 0));
            a.li(T1, pteData).li(T2, Tables.pte(d2, R | A | V)).emit(sd(T2, T1, 0));
            a.emit(sfenceVma(ZERO, ZERO));
            a.li(T0, fnVa).emit(jalr(RA, T0, 0), addi(S3, A0, 0));
            a.li(T0, dataVa).emit(ld(S4, T0, 0));
            a.emit(ebreak());
            g.put(CODE, a.assemble());
            Hart h = g.runFromCode(10_000);
            assertStoppedAt(h, Cause.BREAKPOINT);
            assertEquals(3, h.x(S1));
            assertEquals(10, h.x(S2));
            assertEquals(6, h.x(S3), "the remapped function ran");
            assertEquals(20, h.x(S4), "the remapped data was read");
            assertTrue(g.interp.cache().epochs() > 0);
        }
    }

    @Test
    void theSameVirtualAddressInTwoAddressSpaces() {
        try (GuestHarness g = new GuestHarness()) {
            Tables ta = new Tables(g, TABLES);
            Tables tb = new Tables(g, TABLES + 0x10000);
            long uCode = 0x1_0000L, ua = RAM + 0x22000, ub = RAM + 0x23000;
            ta.map(uCode, ua, R | X | U | A);
            tb.map(uCode, ub, R | X | U | A);
            g.put(ua, addi(A0, ZERO, 1), ecall());
            g.put(ub, addi(A0, ZERO, 2), ecall());

            RiscvAssembler a = machineSetup(ta.satp(), 0, 1L << Cause.ECALL_U);
            a.emit(auipc(T0, 0));
            a.emitTo("handler", o -> addi(T0, T0, o + 4));
            a.emit(csrrw(ZERO, Csr.STVEC, T0));
            a.li(T0, uCode).emit(csrrw(ZERO, Csr.SEPC, T0), sret());
            a.label("handler");
            a.emitTo("second", o -> bne(S5, ZERO, o));
            // First ecall (address space A): switch to B without sfence.vma, run U again.
            a.emit(addi(S1, A0, 0), addi(S5, ZERO, 1));
            a.li(T0, tb.satp()).emit(csrrw(ZERO, Csr.SATP, T0));
            a.li(T0, uCode).emit(csrrw(ZERO, Csr.SEPC, T0), sret());
            a.label("second").emit(addi(S2, A0, 0), ebreak());
            g.put(CODE, a.assemble());
            Hart h = g.runFromCode(10_000);
            assertStoppedAt(h, Cause.BREAKPOINT);
            assertEquals(1, h.x(S1));
            assertEquals(2, h.x(S2), "U code at the same VA in the other address space");
        }
    }

    /**
     * Demand paging of code, including a 32-bit instruction whose second half lies on an
     * unmapped page: the fault blocks must not be cached, and a block that straddles two
     * pages must follow a remap of its second page, whether the fences name the address
     * (as Linux's do) or not.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void demandPagedCodeAndAStraddlingInstruction(boolean fenceByAddress) {
        try (GuestHarness g = new GuestHarness()) {
            Tables t = new Tables(g, TABLES);
            long fnVa = 0x6_0000L, fnPa = RAM + 0x34000;
            long hVa = 0x7_0000L, hPa = RAM + 0x35000, h2Va = 0x7_1000L, x1 = RAM + 0x36000, x2 = RAM + 0x37000;
            long pteFn = t.pteAddr(fnVa);                 // left invalid
            long pteH2 = t.pteAddr(h2Va);                 // left invalid
            t.map(hVa, hPa, R | X | A);
            g.put(fnPa, addi(A0, ZERO, 7), jalr(ZERO, RA, 0));
            // H + 0xFFC: c.nop; H + 0xFFE: addi a0, zero, imm (straddles into H2); H2 + 2: ret.
            g.ram.write(hPa + 0xFFC - RAM, 2, 0x0001);
            int addi9 = addi(A0, ZERO, 9), addi11 = addi(A0, ZERO, 11);
            g.ram.write(hPa + 0xFFE - RAM, 2, addi9 & 0xFFFF);
            g.ram.write(x1 - RAM, 2, addi9 >>> 16);
            g.ram.write(x1 + 2 - RAM, 4, jalr(ZERO, RA, 0));
            g.ram.write(x2 - RAM, 2, addi11 >>> 16);
            g.ram.write(x2 + 2 - RAM, 4, jalr(ZERO, RA, 0));
            // What the fault handler maps, in order: (PTE address, PTE).
            long fixups = RAM + 0x38000, record = RAM + 0x39000;
            g.ram.write(fixups - RAM, 8, pteFn);
            g.ram.write(fixups + 8 - RAM, 8, Tables.pte(fnPa, R | X | A | V));
            g.ram.write(fixups + 16 - RAM, 8, pteH2);
            g.ram.write(fixups + 24 - RAM, 8, Tables.pte(x1, R | X | A | V));

            RiscvAssembler a = machineSetup(t.satp(), 0, 1L << Cause.INSN_PAGE_FAULT);
            a.emit(auipc(T0, 0));
            a.emitTo("handler", o -> addi(T0, T0, o + 4));
            a.emit(csrrw(ZERO, Csr.STVEC, T0));
            a.li(T0, fnVa).emit(jalr(RA, T0, 0), addi(S1, A0, 0));
            a.li(T0, hVa + 0xFFC).emit(jalr(RA, T0, 0), addi(S2, A0, 0));
            a.li(T0, hVa + 0xFFC).emit(jalr(RA, T0, 0), addi(S3, A0, 0)); // cached path
            // Remap H2 to x2 and sfence: the straddling block must be re-fetched.
            a.li(T1, pteH2).li(T2, Tables.pte(x2, R | X | A | V)).li(T3, h2Va)
                    .emit(sd(T2, T1, 0), fenceByAddress ? sfenceVma(T3, ZERO) : sfenceVma(ZERO, ZERO));
            a.li(T0, hVa + 0xFFC).emit(jalr(RA, T0, 0), addi(S4, A0, 0));
            a.emit(ebreak());
            // Handler: record scause/stval/sepc, apply fixup #s5, sfence.vma, sret.
            a.label("handler");
            a.li(T0, record).emit(slli(T1, S5, 5), add(T0, T0, T1),
                    csrrs(T1, Csr.SCAUSE, ZERO), sd(T1, T0, 0),
                    csrrs(T1, Csr.STVAL, ZERO), sd(T1, T0, 8),
                    csrrs(T1, Csr.SEPC, ZERO), sd(T1, T0, 16));
            a.li(T0, fixups).emit(slli(T1, S5, 4), add(T0, T0, T1), ld(T1, T0, 0), ld(T2, T0, 8), sd(T2, T1, 0),
                    csrrs(T3, Csr.STVAL, ZERO), fenceByAddress ? sfenceVma(T3, ZERO) : sfenceVma(ZERO, ZERO),
                    addi(S5, S5, 1), sret());
            g.put(CODE, a.assemble());

            Hart h = g.runFromCode(10_000);
            assertStoppedAt(h, Cause.BREAKPOINT);
            assertEquals(2, h.x(S5), "two page faults");
            assertEquals(Cause.INSN_PAGE_FAULT, g.ram.read(record - RAM, 8));
            assertEquals(fnVa, g.ram.read(record + 8 - RAM, 8), "stval = the function's address");
            assertEquals(fnVa, g.ram.read(record + 16 - RAM, 8));
            assertEquals(Cause.INSN_PAGE_FAULT, g.ram.read(record + 32 - RAM, 8));
            assertEquals(h2Va, g.ram.read(record + 40 - RAM, 8), "stval = the part of the instruction that faulted");
            assertEquals(hVa + 0xFFE, g.ram.read(record + 48 - RAM, 8), "sepc = the instruction");
            assertEquals(7, h.x(S1), "the function ran once mapped");
            assertEquals(9, h.x(S2));
            assertEquals(9, h.x(S3));
            assertEquals(11, h.x(S4), "the straddling instruction's second page was remapped");
            assertEquals(fenceByAddress ? 3 : 0, g.interp.cache().pageForgets(), "pages forgotten one at a time");
        }
    }

    @Test
    void aJumpToANonCanonicalAddressReportsAllSixtyFourBits() {
        try (GuestHarness g = new GuestHarness()) {
            Tables t = new Tables(g, TABLES);
            long target = 0x8000_0000_0000_1000L; // bits 63..39 not a sign extension: Sv39 page fault
            RiscvAssembler a = machineSetup(t.satp(), 0, 1L << Cause.INSN_PAGE_FAULT);
            a.emit(auipc(T0, 0));
            a.emitTo("handler", o -> addi(T0, T0, o + 4));
            a.emit(csrrw(ZERO, Csr.STVEC, T0));
            a.li(T1, target).emit(jalr(RA, T1, 0));
            a.label("handler").emit(csrrs(A3, Csr.SCAUSE, ZERO), csrrs(A4, Csr.STVAL, ZERO),
                    csrrs(A2, Csr.SEPC, ZERO), ebreak());
            g.put(CODE, a.assemble());
            Hart h = g.runFromCode(10_000);
            assertStoppedAt(h, Cause.BREAKPOINT);
            assertEquals(Cause.INSN_PAGE_FAULT, h.x(A3));
            assertEquals(target, h.x(A4), "stval");
            assertEquals(target, h.x(A2), "sepc");
        }
    }

    @Test
    void trapTvalRecoversAddressesBeyondFiftySixBits() {
        long pc = 0xFF60_0000_0000_1000L; // an Sv57 kernel address: bit 55 differs from bit 56
        long truncated = (pc << 8) >> 8;
        assertEquals(pc, SystemOps.trapTval(Cause.BREAKPOINT, truncated, pc));
        assertEquals(pc, SystemOps.trapTval(Cause.INSN_PAGE_FAULT, truncated, pc));
        assertEquals(pc + 2, SystemOps.trapTval(Cause.INSN_PAGE_FAULT, ((pc + 2) << 8) >> 8, pc));
        assertEquals(0x1234L, SystemOps.trapTval(Cause.ILLEGAL_INSN, 0x1234L, pc));
    }

    @Test
    void privilegedInstructionTrapsDependOnMstatus() {
        try (GuestHarness g = new GuestHarness()) {
            Tables t = new Tables(g, TABLES);
            // S runs with TSR, TW and TVM set: sret, wfi, sfence.vma and satp accesses trap to M.
            RiscvAssembler a = new RiscvAssembler();
            a.li(T0, t.satp()).emit(csrrw(ZERO, Csr.SATP, T0));
            a.li(T0, Csr.MSTATUS_MPP).emit(csrrc(ZERO, Csr.MSTATUS, T0));
            a.li(T0, 1L << Csr.MSTATUS_MPP_SHIFT | Csr.MSTATUS_TSR | Csr.MSTATUS_TW | Csr.MSTATUS_TVM)
                    .emit(csrrs(ZERO, Csr.MSTATUS, T0));
            a.emit(auipc(T0, 0));
            a.emitTo("s", o -> addi(T0, T0, o + 4));
            a.emit(csrrw(ZERO, Csr.MEPC, T0), mret());
            a.label("s").emit(sret());
            g.put(CODE, a.assemble());
            Hart h = g.runFromCode(1000);
            assertStoppedAt(h, Cause.ILLEGAL_INSN);
            assertEquals(0x10200073L, h.mtval, "tval = the sret encoding");
            for (int insn : new int[] {wfi(), sfenceVma(T0, ZERO), csrrs(A0, Csr.SATP, ZERO)}) {
                h.mcause = 0;
                g.put(h.mepc, insn);
                g.interp.cache().flush();
                h.setPriv(Hart.PRIV_S);
                h.pc = h.mepc;
                g.interp.run(100);
                assertStoppedAt(h, Cause.ILLEGAL_INSN);
                assertEquals(insn & 0xFFFF_FFFFL, h.mtval);
            }
        }
    }
}
