package dev.rivet.core.riscv;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.GuestRam;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HartTest {
    static final long RAM = 0x8000_0000L;
    GuestRam ram;
    Bus bus;
    Hart hart;

    @BeforeEach
    void setUp() {
        ram = new GuestRam(RAM, 1 << 20);
        bus = new Bus(ram);
        hart = new Hart(0, bus, new CodePageMap(RAM, 1 << 20));
        hart.reset(RAM);
    }

    @AfterEach
    void tearDown() {
        ram.close();
    }

    @Test
    void loadsSignAndZeroExtend() {
        hart.sd(RAM + 8, 0xFFFF_FFFF_8000_80F0L);
        assertEquals(-16, hart.lb(RAM + 8));
        assertEquals(0xF0, hart.lbu(RAM + 8));
        assertEquals((short) 0x80F0, hart.lh(RAM + 8));
        assertEquals(0x80F0, hart.lhu(RAM + 8));
        assertEquals(0xFFFF_FFFF_8000_80F0L, hart.lw(RAM + 8));
        assertEquals(0x8000_80F0L, hart.lwu(RAM + 8));
        assertEquals(-1, hart.excCause);
    }

    @Test
    void accessAcrossAPageBoundaryWorksInRam() {
        hart.sd(RAM + 0xFFC, 0x0102_0304_0506_0708L);
        assertEquals(0x0102_0304_0506_0708L, hart.ld(RAM + 0xFFC));
        assertEquals(0x0506_0708L, ram.read(0xFFC, 4));
        assertEquals(0x0102_0304L, ram.read(0x1000, 4));
    }

    @Test
    void unmappedLoadRecordsAccessFaultWithAddress() {
        assertEquals(0, hart.ld(0x10));
        assertEquals(Cause.LOAD_ACCESS_FAULT, hart.excCause);
        assertEquals(0x10, hart.excTval);
        hart.pc = RAM + 0x40;
        hart.mtvec = RAM + 0x100;
        hart.takePendingException();
        assertEquals(RAM + 0x100, hart.pc);
        assertEquals(RAM + 0x40, hart.mepc);
        assertEquals(Cause.LOAD_ACCESS_FAULT, hart.mcause);
        assertEquals(0x10, hart.mtval);
        assertEquals(-1, hart.excCause);
    }

    @Test
    void storeRunningOffTheEndOfRamFaultsWithoutWritingAnything() {
        long last = RAM + (1 << 20) - 4;
        hart.sd(last, -1L);
        assertEquals(Cause.STORE_ACCESS_FAULT, hart.excCause);
        assertEquals(0, ram.read((1 << 20) - 4, 4));
    }

    @Test
    void trapAndMretFollowThePrivilegedSpec() {
        hart.mstatus |= Csr.MSTATUS_MIE;
        hart.pc = RAM + 0x20;
        hart.mtvec = RAM + 0x200 | 1; // vectored: exceptions still go to the base
        hart.trap(Cause.ECALL_M, 0);
        assertEquals(RAM + 0x200, hart.pc);
        assertEquals(0, hart.mstatus & Csr.MSTATUS_MIE);
        assertTrue((hart.mstatus & Csr.MSTATUS_MPIE) != 0);
        assertEquals(3, (hart.mstatus & Csr.MSTATUS_MPP) >>> Csr.MSTATUS_MPP_SHIFT);
        hart.mepc = RAM + 0x24;
        hart.mret();
        assertEquals(RAM + 0x24, hart.pc);
        assertTrue((hart.mstatus & Csr.MSTATUS_MIE) != 0);
        assertTrue((hart.mstatus & Csr.MSTATUS_MPIE) != 0);
    }

    @Test
    void vectoredInterruptsJumpToBasePlusFourTimesCause() {
        hart.pc = RAM;
        hart.mtvec = RAM + 0x400 | 1;
        hart.trap(Cause.INTERRUPT | 7, 0);
        assertEquals(RAM + 0x400 + 28, hart.pc);
        assertEquals(Cause.INTERRUPT | 7, hart.mcause);
    }

    @Test
    void csrAccessRulesAndReadOnlyTrap() {
        assertEquals(0, hart.csrAccess(Csr.MSCRATCH, Hart.CSR_RW, 0x1234, true));
        assertEquals(0x1234, hart.csrAccess(Csr.MSCRATCH, Hart.CSR_RS, 0xF0000, true));
        assertEquals(0xF1234, hart.csrAccess(Csr.MSCRATCH, Hart.CSR_RC, 0x34, true));
        assertEquals(0xF1200, hart.csrRead(Csr.MSCRATCH));
        // Reading a read-only CSR without writing is legal; writing it is illegal.
        hart.csrAccess(Csr.MHARTID, Hart.CSR_RS, 0, false);
        assertEquals(-1, hart.excCause);
        hart.csrAccess(Csr.MHARTID, Hart.CSR_RW, 5, true);
        assertEquals(Cause.ILLEGAL_INSN, hart.excCause);
        hart.excCause = -1;
        hart.csrAccess(0x7C0, Hart.CSR_RS, 0, false); // custom, unimplemented
        assertEquals(Cause.ILLEGAL_INSN, hart.excCause);
    }

    @Test
    void fcsrIsInaccessibleWhileTheFpuIsOffAndAliasesWhenOn() {
        hart.csrRead(Csr.FCSR);
        assertEquals(Cause.ILLEGAL_INSN, hart.excCause, "mstatus.FS = Off");
        hart.excCause = -1;
        hart.csrWrite(Csr.MSTATUS, 1L << Csr.MSTATUS_FS_SHIFT);
        hart.csrWrite(Csr.FCSR, (3 << 5) | 0x11);
        assertEquals(3, hart.csrRead(Csr.FRM));
        assertEquals(0x11, hart.csrRead(Csr.FFLAGS));
        assertEquals(-1, hart.excCause);
    }

    @Test
    void misaSaysRv64imafdc() {
        long misa = hart.csrRead(Csr.MISA);
        assertEquals(2, misa >>> 62);
        for (char c : "IMAFDC".toCharArray()) {
            assertTrue((misa & Csr.misaBit(c)) != 0, "misa has " + c);
        }
        assertEquals(0, misa & Csr.misaBit('V'));
    }

    @Test
    void codePagesNeverEnterTheWriteTlbAndStoresInvalidate() {
        long[] dropped = {-1};
        hart.codePages().setInvalidator(p -> dropped[0] = p);
        hart.sw(RAM + 0x2000, 0x13); // warm the write TLB for that page
        assertEquals(0x13, hart.fetchParcel(RAM + 0x2000));
        assertTrue(hart.codePages().isCode(RAM + 0x2000));
        hart.sw(RAM + 0x2004, 0x13);
        assertEquals(RAM + 0x2000, dropped[0], "store to a code page drops its code");
        assertTrue(!hart.codePages().isCode(RAM + 0x2000));
    }

    @Test
    void fetchFromUnmappedMemoryReportsInstructionAccessFault() {
        assertEquals(-1 - Cause.INSN_ACCESS_FAULT, hart.fetchParcel(0x40));
        assertEquals(-1, hart.excCause, "fetch faults are returned, not left pending");
    }
}
