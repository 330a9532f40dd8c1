package dev.rivet.core.riscv;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.GuestRam;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static dev.rivet.core.riscv.Csr.*;
import static dev.rivet.core.riscv.Hart.PRIV_M;
import static dev.rivet.core.riscv.Hart.PRIV_S;
import static dev.rivet.core.riscv.Hart.PRIV_U;
import static dev.rivet.core.riscv.PageTables.A;
import static dev.rivet.core.riscv.PageTables.D;
import static dev.rivet.core.riscv.PageTables.R;
import static dev.rivet.core.riscv.PageTables.U;
import static dev.rivet.core.riscv.PageTables.W;
import static dev.rivet.core.riscv.PageTables.X;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Loads, stores, AMOs and fetches through the hart with paging on: the software TLBs per
 * translation regime (U, S, S+SUM, untranslated) must never let one regime use another's
 * permissions, must survive privilege switches, and must be flushed by satp writes,
 * sfence.vma and MXR changes. MPRV applies MPP's translation to M-mode loads and stores.
 */
class TranslationTest {
    static final long RAM = 0x8000_0000L;
    static final int RAM_SIZE = 4 << 20;
    GuestRam ram;
    Hart hart;
    PageTables pt;

    static final long UPAGE = 0x1000, SPAGE = 0x2000, XONLY = 0x3000, RO = 0x4000, CLEAN = 0x5000;
    static final long UPA = RAM + 0x10000, SPA = RAM + 0x11000, XPA = RAM + 0x12000, ROPA = RAM + 0x13000,
            CLEANPA = RAM + 0x14000;

    @BeforeEach
    void setUp() {
        ram = new GuestRam(RAM, RAM_SIZE);
        hart = new Hart(0, new Bus(ram), new CodePageMap(RAM, RAM_SIZE));
        hart.reset(RAM);
        pt = new PageTables(ram, RAM + 0x20_0000, SATP_SV39);
        pt.map4k(UPAGE, UPA, R | W | U | A | D);
        pt.map4k(SPAGE, SPA, R | W | A | D);
        pt.map4k(XONLY, XPA, X | A);
        pt.map4k(RO, ROPA, R | A);
        pt.map4k(CLEAN, CLEANPA, R | W);
        ram.write(UPA - RAM, 8, 0x1111);
        ram.write(SPA - RAM, 8, 0x2222);
        ram.write(XPA - RAM, 8, 0x3333);
        ram.write(ROPA - RAM, 8, 0x4444);
        hart.csrWrite(SATP, pt.satp());
    }

    @AfterEach
    void tearDown() {
        ram.close();
    }

    /** A load, and the cause it raised (-1 for none; the exception is consumed). */
    long[] load(long va) {
        long v = hart.ld(va);
        long c = hart.excCause;
        long tval = hart.excTval;
        hart.excCause = -1;
        return new long[] {v, c, tval};
    }

    int store(long va, long v) {
        hart.sd(va, v);
        int c = hart.excCause;
        hart.excCause = -1;
        return c;
    }

    @Test
    void machineModeIsUntranslatedWhateverSatpSays() {
        assertEquals(0x1111, load(UPA)[0]);
        assertEquals(Cause.LOAD_ACCESS_FAULT, load(UPAGE)[1], "VA 0x1000 is physical 0x1000 in M: nothing there");
    }

    @Test
    void uAndSSeeTheirOwnPermissionsAndSwitchingDoesNotMixThem() {
        hart.setPriv(PRIV_U);
        assertEquals(0x1111, load(UPAGE)[0]);
        long[] f = load(SPAGE);
        assertEquals(Cause.LOAD_PAGE_FAULT, f[1], "U cannot read an S page");
        assertEquals(SPAGE, f[2], "tval = the virtual address");
        long[] uTag = hart.readTag;
        hart.setPriv(PRIV_S);
        assertNotSame(uTag, hart.readTag, "S has its own TLB set");
        assertEquals(0x2222, load(SPAGE)[0]);
        assertEquals(Cause.LOAD_PAGE_FAULT, load(UPAGE)[1], "the U entry cached above must not serve S (SUM = 0)");
        assertEquals(Cause.STORE_PAGE_FAULT, store(UPAGE, 1));
        hart.setPriv(PRIV_U);
        assertSame(uTag, hart.readTag);
        assertEquals(Cause.LOAD_PAGE_FAULT, load(SPAGE)[1], "the S entry must not serve U");
        // Entries survive the round trip: change the PTE behind the TLB's back and the U
        // mapping still reads the old page (no flush on privilege changes).
        pt.map4k(UPAGE, SPA, R | W | U | A | D);
        assertEquals(0x1111, load(UPAGE)[0]);
        hart.sfenceVma(true, 0);
        assertEquals(0x2222, load(UPAGE)[0], "sfence.vma: the new mapping");
        assertTrue(hart.translationsChanged, "execution tiers are told");
    }

    @Test
    void sumSelectsItsOwnSetBothWays() {
        hart.setPriv(PRIV_S);
        hart.csrWrite(SSTATUS, MSTATUS_SUM);
        assertEquals(0x1111, load(UPAGE)[0]);
        assertEquals(-1, store(UPAGE, 0x1234));
        hart.csrWrite(SSTATUS, 0);
        assertEquals(Cause.LOAD_PAGE_FAULT, load(UPAGE)[1], "SUM cleared: the cached entry is not used");
        assertEquals(Cause.STORE_PAGE_FAULT, store(UPAGE, 1));
        hart.csrWrite(SSTATUS, MSTATUS_SUM);
        assertEquals(0x1234, load(UPAGE)[0]);
        assertEquals(0x2222, load(SPAGE)[0], "S pages are readable either way");
    }

    @Test
    void mxrChangesFlushTheReadEntries() {
        hart.setPriv(PRIV_S);
        assertEquals(Cause.LOAD_PAGE_FAULT, load(XONLY)[1]);
        hart.csrWrite(SSTATUS, MSTATUS_MXR);
        assertEquals(0x3333, load(XONLY)[0], "MXR: execute-only is readable");
        hart.csrWrite(SSTATUS, 0);
        assertEquals(Cause.LOAD_PAGE_FAULT, load(XONLY)[1], "MXR cleared: the entry from before is gone");
    }

    @Test
    void writeEntriesOnlyForWritableDirtyPages() {
        hart.setPriv(PRIV_S);
        assertEquals(0x4444, load(RO)[0]);
        assertEquals(Cause.STORE_PAGE_FAULT, store(RO, 5), "a read entry never allows a store");
        assertEquals(0x4444, load(RO)[0]);
        long pteAddr = pt.pteAddr(CLEAN, 0);
        assertEquals(-1, load(CLEAN)[1]);
        assertEquals(A, pt.read(pteAddr) & (A | D), "the load set A only");
        assertEquals(-1, store(CLEAN + 8, 0x55));
        assertEquals(A | D, pt.read(pteAddr) & (A | D), "the first store went through the walker and set D");
        assertEquals(0x55, ram.read(CLEANPA + 8 - RAM, 8));
    }

    @Test
    void satpWritesFlushAndSwitchAddressSpaces() {
        hart.setPriv(PRIV_S);
        assertEquals(0x2222, load(SPAGE)[0]);
        PageTables other = new PageTables(ram, RAM + 0x30_0000, SATP_SV48);
        other.map4k(SPAGE, ROPA, R | A);
        hart.translationsChanged = false;
        hart.setPriv(PRIV_M);
        hart.csrWrite(SATP, other.satp(7));
        assertTrue(hart.translationsChanged);
        hart.setPriv(PRIV_S);
        assertEquals(0x4444, load(SPAGE)[0], "the new address space");
        hart.setPriv(PRIV_M);
        hart.csrWrite(SATP, 0);
        hart.setPriv(PRIV_S);
        assertEquals(Cause.LOAD_ACCESS_FAULT, load(SPAGE)[1], "Bare: VA = PA");
        assertEquals(0x2222, load(SPA)[0]);
    }

    @Test
    void mprvTranslatesMachineLoadsAndStoresWithMpp() {
        hart.csrWrite(MSTATUS, MSTATUS_MPRV | (long) PRIV_U << MSTATUS_MPP_SHIFT);
        assertEquals(0x1111, load(UPAGE)[0]);
        assertEquals(Cause.LOAD_PAGE_FAULT, load(SPAGE)[1], "with U's permissions");
        assertEquals(PRIV_M, hart.priv);
        hart.csrWrite(MSTATUS, MSTATUS_MPRV | (long) PRIV_S << MSTATUS_MPP_SHIFT);
        assertEquals(0x2222, load(SPAGE)[0]);
        assertEquals(Cause.LOAD_PAGE_FAULT, load(UPAGE)[1], "with S's permissions");
        hart.csrWrite(MSTATUS, MSTATUS_MPRV | MSTATUS_MPP);
        assertEquals(0x2222, load(SPA)[0], "MPP = M: untranslated");
        hart.csrWrite(MSTATUS, (long) PRIV_S << MSTATUS_MPP_SHIFT);
        assertEquals(0x2222, load(SPA)[0], "MPRV = 0: untranslated");
        // Fetches ignore MPRV.
        hart.csrWrite(MSTATUS, MSTATUS_MPRV | (long) PRIV_U << MSTATUS_MPP_SHIFT);
        assertEquals(XPA, hart.fetchPhys(XPA));
        // mret to S clears MPRV and S uses its own regime.
        hart.mstatus = (hart.mstatus & ~MSTATUS_MPP) | (long) PRIV_S << MSTATUS_MPP_SHIFT;
        hart.mret();
        assertEquals(0, hart.mstatus & MSTATUS_MPRV);
        assertEquals(0x2222, load(SPAGE)[0]);
    }

    @Test
    void atomicsTranslateAsStoresAndLrAsLoads() {
        hart.setPriv(PRIV_S);
        assertEquals(Cause.STORE_PAGE_FAULT, amoFault(RO, false));
        assertEquals(-1, amoFault(RO, true), "lr on a read-only page is fine");
        assertEquals(Cause.STORE_PAGE_FAULT, amoFault(UPAGE, false));
        assertEquals(Cause.LOAD_PAGE_FAULT, amoFault(UPAGE, true));
        long pteAddr = pt.pteAddr(CLEAN, 0);
        pt.write(pteAddr, PageTables.pte(CLEANPA, R | W | PageTables.V));
        assertEquals(-1, amoFault(CLEAN, false));
        assertEquals(A | D, pt.read(pteAddr) & (A | D), "an AMO sets D");
        assertEquals(CLEANPA - RAM, hart.atomicAddress(CLEAN, 8, false));
    }

    private int amoFault(long va, boolean lr) {
        hart.atomicAddress(va, 8, lr);
        int c = hart.excCause;
        hart.excCause = -1;
        return c;
    }

    @Test
    void fetchesUseTheFetchPrivilegeAndPageFaultWithTheAddress() {
        hart.setPriv(PRIV_S);
        assertEquals(XPA + 0x10, hart.fetchPhys(XONLY + 0x10));
        assertEquals(-1 - Cause.INSN_PAGE_FAULT, hart.fetchParcel(SPAGE), "not executable");
        assertEquals(-1 - Cause.INSN_PAGE_FAULT, hart.fetchParcel(UPAGE), "S never executes U pages");
        assertEquals(0x3333, hart.fetchParcel(XONLY));
        assertTrue(hart.codePages().isCode(XPA), "the physical page is marked as code");
        hart.setPriv(PRIV_U);
        assertEquals(-1 - Cause.INSN_PAGE_FAULT, hart.fetchParcel(XONLY), "U needs the U bit");
        pt.map4k(0x6000, UPA, R | X | U | A);
        assertEquals(0x1111, hart.fetchParcel(0x6000));
        // Remap, sfence: the fetch TLB follows.
        pt.map4k(0x6000, SPA, R | X | U | A);
        assertEquals(0x1111, hart.fetchParcel(0x6000), "stale until sfence.vma (allowed)");
        hart.sfenceVma(false, 0x6000);
        assertEquals(0x2222, hart.fetchParcel(0x6000));
        assertEquals(-1, hart.excCause);
    }

    @Test
    void sfenceVmaWithAnAddressDropsOnlyThatPage() {
        hart.setPriv(PRIV_S);
        assertEquals(0x2222, load(SPAGE)[0]);
        assertEquals(0x4444, load(RO)[0]);
        hart.translationsChanged = false;
        // Swap both mappings behind the TLB's back, then fence one page by address.
        pt.map4k(SPAGE, ROPA, R | W | A | D);
        pt.map4k(RO, SPA, R | A);
        hart.sfenceVma(false, SPAGE + 0x123);
        assertEquals(0x4444, load(SPAGE)[0], "the fenced page: the new mapping");
        assertEquals(0x4444, load(RO)[0], "another page keeps its entry (stale until fenced, as allowed)");
        assertFalse(hart.translationsChanged, "no whole flush");
        assertEquals(SPAGE, hart.staleVirtualPage, "the execution tiers are told which page");
        // A second page fenced before the tiers caught up: they are told to drop everything.
        hart.sfenceVma(false, RO);
        assertEquals(0x2222, load(RO)[0]);
        assertTrue(hart.translationsChanged);
    }

    @Test
    void superpagesInMoreThanEightRegionsMakeEveryFenceAWholeFlush() {
        hart.setPriv(PRIV_S);
        for (long g = 1; g <= 9; g++) {
            pt.map(g << 30, RAM, 1, R | W | A | D);
            assertEquals(0x1111, load((g << 30) + (UPA - RAM))[0]);
            hart.translationsChanged = false;
            hart.sfenceVma(false, SPAGE);
            assertEquals(g > 8, hart.translationsChanged, "after superpages in " + g + " regions");
            hart.staleVirtualPage = -1;
        }
    }

    @Test
    void sfenceVmaWithAnAddressFlushesEverythingWhereASuperpageMayBeCached() {
        hart.setPriv(PRIV_S);
        long mega = 0x4000_0000L; // a 2 MiB superpage at 1 GiB, over the first 2 MiB of RAM
        pt.map(mega, RAM, 1, R | W | A | D);
        assertEquals(0x1111, load(mega + (UPA - RAM))[0]);
        assertEquals(0x2222, load(mega + (SPA - RAM))[0]);
        hart.translationsChanged = false;
        // Point the superpage at the next 2 MiB; fence one address inside it. Both cached 4 KiB
        // pieces must go, though only one was named.
        pt.map(mega, RAM + 0x20_0000, 1, R | W | A | D);
        ram.write(0x20_0000 + (UPA - RAM), 8, 0x5555);
        ram.write(0x20_0000 + (SPA - RAM), 8, 0x6666);
        hart.sfenceVma(false, mega + (UPA - RAM));
        assertEquals(0x5555, load(mega + (UPA - RAM))[0]);
        assertEquals(0x6666, load(mega + (SPA - RAM))[0], "the other piece of the superpage went too");
        assertTrue(hart.translationsChanged, "a whole flush");
        // Elsewhere (another 1 GiB region, only 4 KiB pages) fencing stays by address.
        hart.translationsChanged = false;
        hart.sfenceVma(false, SPAGE);
        assertFalse(hart.translationsChanged);
    }

    @Test
    void aStoreToATranslatedCodePageAlwaysTakesTheSlowPath() {
        hart.setPriv(PRIV_S);
        pt.map4k(0x7000, XPA, R | W | X | A | D);
        assertEquals(-1, store(0x7000, 0x13));             // write TLB entry for the page
        assertEquals(0x13, hart.fetchParcel(0x7000));     // now it holds code: write TLBs dropped
        long[] dropped = {-1};
        hart.codePages().setInvalidator(p -> dropped[0] = p);
        hart.setPriv(PRIV_M);
        hart.sd(XPA + 8, 0x13);                           // through another regime and alias
        assertEquals(XPA, dropped[0]);
    }

    @Test
    void crossPageAccessesCheckBothPages() {
        hart.setPriv(PRIV_S);
        assertEquals(Cause.STORE_PAGE_FAULT, store(SPAGE + 0xFFC, -1L), "second half is the x-only page");
        assertEquals(0x2222, load(SPAGE)[0]);
        assertEquals(0, ram.read(SPA + 0xFFC - RAM, 4), "nothing was written");
        long[] f = load(SPAGE + 0xFFC);
        assertEquals(Cause.LOAD_PAGE_FAULT, f[1]);
        assertEquals(XONLY, f[2], "tval: the part that faulted");
        ram.write(SPA + 0xFFC - RAM, 4, 0xAABBCCDDL);
        ram.write(XPA - RAM, 4, 0x11223344L);
        hart.csrWrite(SSTATUS, MSTATUS_MXR);
        assertEquals(0x11223344_AABBCCDDL, load(SPAGE + 0xFFC)[0]);
    }

    @Test
    void trapsAndReturnsSwapRegimes() {
        hart.medeleg = 1L << Cause.ECALL_U;
        hart.setPriv(PRIV_U);
        long[] u = hart.readTag;
        hart.trap(Cause.ECALL_U, 0);
        assertEquals(PRIV_S, hart.priv);
        long[] s = hart.readTag;
        assertNotSame(u, s);
        hart.sret();
        assertSame(u, hart.readTag);
        hart.trap(Cause.ILLEGAL_INSN, 0); // to M
        assertNotSame(u, hart.readTag);
        assertNotSame(s, hart.readTag);
        hart.priv = PRIV_U;          // a direct write ...
        hart.modeChanged();          // ... needs this
        assertSame(u, hart.readTag);
        hart.setPriv(PRIV_M);
        assertEquals(PRIV_M, hart.priv());
    }
}
