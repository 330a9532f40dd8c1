package dev.rivet.core.riscv;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.GuestRam;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static dev.rivet.core.riscv.Hart.ACCESS_EXEC;
import static dev.rivet.core.riscv.Hart.ACCESS_READ;
import static dev.rivet.core.riscv.Hart.ACCESS_WRITE;
import static dev.rivet.core.riscv.Hart.PRIV_S;
import static dev.rivet.core.riscv.Hart.PRIV_U;
import static dev.rivet.core.riscv.PageTables.A;
import static dev.rivet.core.riscv.PageTables.D;
import static dev.rivet.core.riscv.PageTables.R;
import static dev.rivet.core.riscv.PageTables.U;
import static dev.rivet.core.riscv.PageTables.V;
import static dev.rivet.core.riscv.PageTables.W;
import static dev.rivet.core.riscv.PageTables.X;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The page-table walker (Privileged 4.3.2) on tables built in RAM: every translation
 * mode and page size, superpage alignment, the U/SUM/MXR permission rules, A/D updates
 * written back to the PTE, non-canonical addresses and page tables outside RAM.
 */
class MmuTest {
    static final long RAM = 0x8000_0000L;
    static final int RAM_SIZE = 4 << 20;
    static final long TABLES = RAM + 0x20_0000;

    GuestRam ram;
    CodePageMap codePages;
    Mmu mmu;

    @BeforeEach
    void setUp() {
        ram = new GuestRam(RAM, RAM_SIZE);
        codePages = new CodePageMap(RAM, RAM_SIZE);
        mmu = new Mmu(ram, codePages);
    }

    @AfterEach
    void tearDown() {
        ram.close();
    }

    static long fault(int cause) {
        return -1 - cause;
    }

    long walkS(PageTables pt, long va, int access) {
        return mmu.walk(pt.satp(), va, access, PRIV_S, false, false);
    }

    @Test
    void bareIsTheIdentity() {
        assertEquals(0x1234_5678_9ABCL, mmu.walk(0, 0x1234_5678_9ABCL, ACCESS_READ, PRIV_U, false, false));
    }

    @ParameterizedTest(name = "satp mode {0}")
    @ValueSource(ints = {Csr.SATP_SV39, Csr.SATP_SV48, Csr.SATP_SV57})
    void fourKilobytePagesKeepTheOffsetAndUseEveryLevel(int mode) {
        PageTables pt = new PageTables(ram, TABLES, mode);
        int levels = Mmu.levels(mode);
        // A VA that uses a different index at every level (and the top bit of its range,
        // sign-extended: a kernel-half address).
        long va = 0;
        for (int i = 0; i < levels; i++) {
            va |= (long) (0x101 + 7 * i) << (12 + 9 * i);
        }
        va |= 1L << (12 + 9 * levels - 1);
        va = (va << (64 - 12 - 9 * levels)) >> (64 - 12 - 9 * levels);
        pt.map4k(va, RAM + 0x5000, R | W | X | A | D);
        pt.map4k(va + 0x1000, RAM + 0x9000, R | A);
        assertEquals(RAM + 0x5ABC, walkS(pt, va + 0xABC, ACCESS_READ));
        assertEquals(RAM + 0x5FF8, walkS(pt, va + 0xFF8, ACCESS_WRITE));
        assertEquals(RAM + 0x5000, walkS(pt, va, ACCESS_EXEC));
        assertEquals(RAM + 0x9010, walkS(pt, va + 0x1010, ACCESS_READ));
        assertEquals(fault(Cause.STORE_PAGE_FAULT), walkS(pt, va + 0x1010, ACCESS_WRITE), "read-only page");
        assertEquals(fault(Cause.INSN_PAGE_FAULT), walkS(pt, va + 0x1010, ACCESS_EXEC), "not executable");
        assertEquals(fault(Cause.LOAD_PAGE_FAULT), walkS(pt, va + 0x2000, ACCESS_READ), "unmapped neighbour");
    }

    @Test
    void sv39MegaAndGigaPages() {
        PageTables pt = new PageTables(ram, TABLES, Csr.SATP_SV39);
        pt.map(0x4000_0000L, RAM, 2, R | W | A | D);            // 1 GiB at VA 1 GiB -> RAM
        pt.map(0x0020_0000L, RAM + 0x20_0000, 1, R | X | A);   // 2 MiB at VA 2 MiB
        assertEquals(RAM + 0x3FFF_FFF8L, walkS(pt, 0x7FFF_FFF8L, ACCESS_WRITE));
        assertEquals(RAM + 0x12_3456, walkS(pt, 0x4012_3456L, ACCESS_READ));
        assertEquals(RAM + 0x3F_FFFE, walkS(pt, 0x003F_FFFEL, ACCESS_EXEC));
        assertEquals(RAM + 0x20_0000, walkS(pt, 0x0020_0000L, ACCESS_READ));
    }

    @Test
    void sv48AndSv57LargestLeaves() {
        PageTables pt48 = new PageTables(ram, TABLES, Csr.SATP_SV48);
        pt48.map(0x0000_8000_0000_0000L - (1L << 39), 0, 3, R | A); // a 512 GiB leaf mapping PA 0
        assertEquals(0x12_3456_789AL, walkS(pt48, 0x0000_7F92_3456_789AL, ACCESS_READ));
        PageTables pt57 = new PageTables(ram, TABLES + 0x10_0000, Csr.SATP_SV57);
        pt57.map(1L << 48, 0, 4, R | A); // a 256 TiB leaf
        assertEquals(0x1234_5678_9ABCL, mmu.walk(pt57.satp(), (1L << 48) + 0x1234_5678_9ABCL, ACCESS_READ, PRIV_S, false, false));
    }

    @Test
    void misalignedSuperpagesFault() {
        PageTables pt = new PageTables(ram, TABLES, Csr.SATP_SV39);
        pt.map(0x4000_0000L, RAM + 0x20_0000, 2, R | W | X | A | D); // gigapage, PA only 2 MiB aligned
        pt.map(0x0020_0000L, RAM + 0x1000, 1, R | W | X | A | D);     // megapage, PA only 4 KiB aligned
        pt.map(0x0040_0000L, RAM + 0x40_0000, 1, R | W | X | A | D);  // aligned: fine
        for (int access : new int[] {ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC}) {
            assertEquals(fault(Mmu.pageFault(access)), walkS(pt, 0x4000_0000L, access));
            assertEquals(fault(Mmu.pageFault(access)), walkS(pt, 0x0020_1000L, access));
            assertEquals(RAM + 0x40_1000, walkS(pt, 0x0040_1000L, access));
        }
        PageTables pt48 = new PageTables(ram, TABLES + 0x10_0000, Csr.SATP_SV48);
        pt48.map(1L << 39, 1L << 30, 3, R | A); // 512 GiB leaf at a 1 GiB-aligned PA
        assertEquals(fault(Cause.LOAD_PAGE_FAULT), walkS(pt48, 1L << 39, ACCESS_READ));
    }

    @ParameterizedTest(name = "satp mode {0}")
    @ValueSource(ints = {Csr.SATP_SV39, Csr.SATP_SV48, Csr.SATP_SV57})
    void nonCanonicalAddressesPageFault(int mode) {
        PageTables pt = new PageTables(ram, TABLES, mode);
        int vaBits = 12 + 9 * Mmu.levels(mode);
        long top = 1L << (vaBits - 1);
        // Map everything a truncating walker could land on for these addresses.
        pt.map4k(0, RAM, R | W | X | A | D);
        pt.map4k(top, RAM, R | W | X | A | D);
        pt.map4k(-top, RAM, R | W | X | A | D);
        assertEquals(RAM, walkS(pt, 0, ACCESS_READ));
        assertEquals(RAM, walkS(pt, -top, ACCESS_READ), "sign-extended top half is canonical");
        for (int access : new int[] {ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC}) {
            assertEquals(fault(Mmu.pageFault(access)), walkS(pt, top, access), "bit VALEN-1 set, not extended");
            assertEquals(fault(Mmu.pageFault(access)), walkS(pt, 1L << vaBits, access), "a bit above VALEN");
            assertEquals(fault(Mmu.pageFault(access)), walkS(pt, 1L << 63, access));
            assertEquals(fault(Mmu.pageFault(access)), walkS(pt, -top - 0x1000, access));
        }
    }

    @Test
    void pageTablesOutsideRamAreAccessFaults() {
        // Root table at physical 0x1000 (no RAM there).
        long satp = ((long) Csr.SATP_SV39 << 60) | 1;
        assertEquals(fault(Cause.LOAD_ACCESS_FAULT), mmu.walk(satp, 0x1000, ACCESS_READ, PRIV_S, false, false));
        assertEquals(fault(Cause.STORE_ACCESS_FAULT), mmu.walk(satp, 0x1000, ACCESS_WRITE, PRIV_S, false, false));
        assertEquals(fault(Cause.INSN_ACCESS_FAULT), mmu.walk(satp, 0x1000, ACCESS_EXEC, PRIV_S, false, false));
        // A second-level pointer that leads outside RAM, and one into the last bytes of RAM.
        PageTables pt = new PageTables(ram, TABLES, Csr.SATP_SV39);
        pt.write(pt.root, PageTables.pte(0x4000_0000L, V));
        assertEquals(fault(Cause.LOAD_ACCESS_FAULT), walkS(pt, 0x1000, ACCESS_READ));
        pt.write(pt.root + 8, PageTables.pte(RAM + RAM_SIZE, V)); // the page right after RAM
        assertEquals(fault(Cause.STORE_ACCESS_FAULT), walkS(pt, 0x4000_0000L, ACCESS_WRITE));
    }

    @Test
    void invalidAndReservedEncodingsPageFault() {
        PageTables pt = new PageTables(ram, TABLES, Csr.SATP_SV39);
        long va = 0x1000;
        long at = pt.pteAddr(va, 0);
        long good = PageTables.pte(RAM, R | W | X | A | D | V);
        pt.write(at, good);
        assertEquals(RAM, walkS(pt, va, ACCESS_READ));
        long[] bad = {
                good & ~V,                                   // not valid
                PageTables.pte(RAM, W | A | D | V),          // W without R: reserved
                PageTables.pte(RAM, W | X | A | D | V),      // W without R (with X): reserved
                good | 1L << 63,                             // N: Svnapot not implemented
                good | 1L << 61,                             // PBMT = 1: Svpbmt not implemented
                good | 2L << 61,
                good | 1L << 54,                             // reserved bits 60:54
                good | 1L << 60,
        };
        for (long pte : bad) {
            pt.write(at, pte);
            assertEquals(fault(Cause.LOAD_PAGE_FAULT), walkS(pt, va, ACCESS_READ), () -> "pte 0x" + Long.toHexString(pte));
        }
        // A pointer at the last level, and pointers with the reserved D/A/U bits set.
        pt.write(at, PageTables.pte(RAM, V));
        assertEquals(fault(Cause.LOAD_PAGE_FAULT), walkS(pt, va, ACCESS_READ));
        pt.write(at, good);
        long l1 = pt.pteAddr(va, 1);
        long ptr = pt.read(l1);
        for (long bit : new long[] {D, A, U}) {
            pt.write(l1, ptr | bit);
            assertEquals(fault(Cause.LOAD_PAGE_FAULT), walkS(pt, va, ACCESS_READ), "non-leaf with bit " + bit);
        }
        pt.write(l1, ptr | PageTables.G);
        assertEquals(RAM, walkS(pt, va, ACCESS_READ), "G is fine in a pointer");
    }

    @Test
    void accessedAndDirtyBitsAreWrittenBack() {
        PageTables pt = new PageTables(ram, TABLES, Csr.SATP_SV39);
        long rw = pt.map4k(0x1000, RAM + 0x1000, R | W | V);
        long rx = pt.map4k(0x2000, RAM + 0x2000, R | X | V);
        long ro = pt.map4k(0x3000, RAM + 0x3000, R | V);
        walkS(pt, 0x1008, ACCESS_READ);
        assertEquals(A, pt.read(rw) & (A | D), "a load sets A only");
        walkS(pt, 0x1008, ACCESS_WRITE);
        assertEquals(A | D, pt.read(rw) & (A | D), "a store sets D");
        walkS(pt, 0x2000, ACCESS_EXEC);
        assertEquals(A, pt.read(rx) & (A | D), "a fetch sets A");
        assertEquals(fault(Cause.STORE_PAGE_FAULT), walkS(pt, 0x3000, ACCESS_WRITE));
        assertEquals(0, pt.read(ro) & (A | D), "a faulting access sets nothing");
        long user = pt.map4k(0x4000, RAM + 0x4000, R | W | U | V);
        assertEquals(fault(Cause.LOAD_PAGE_FAULT), walkS(pt, 0x4000, ACCESS_READ));
        assertEquals(0, pt.read(user) & (A | D), "not even A when the U check fails");
        // A store to a PTE's page drops code translated from it (the walker writes RAM).
        codePages.mark(rw);
        long[] dropped = {-1};
        codePages.setInvalidator(p -> dropped[0] = p);
        pt.write(rw, pt.read(rw) & ~D);
        walkS(pt, 0x1000, ACCESS_WRITE);
        assertEquals(rw & ~0xFFFL, dropped[0]);
    }

    @Test
    void superpageLeavesGetTheirADBitsToo() {
        PageTables pt = new PageTables(ram, TABLES, Csr.SATP_SV39);
        long mega = pt.map(0x20_0000, RAM + 0x20_0000, 1, R | W | V);
        walkS(pt, 0x3F_F000, ACCESS_WRITE);
        assertEquals(A | D, pt.read(mega) & (A | D));
    }

    /**
     * The permission rules of 4.3.1 and 4.3.2 step 5 for every leaf encoding, both
     * privileges, SUM and MXR, against the rules spelled out case by case.
     */
    @Test
    void permissionMatrix() {
        long[] encodings = {R, R | W, X, R | X, R | W | X};
        List<String> failures = new ArrayList<>();
        PageTables pt = new PageTables(ram, TABLES, Csr.SATP_SV39);
        long at = pt.pteAddr(0x1000, 0);
        for (long perm : encodings) {
            for (boolean user : new boolean[] {false, true}) {
                for (int priv : new int[] {PRIV_U, PRIV_S}) {
                    for (boolean sum : new boolean[] {false, true}) {
                        for (boolean mxr : new boolean[] {false, true}) {
                            for (int access : new int[] {ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC}) {
                                pt.write(at, PageTables.pte(RAM + 0x7000, perm | (user ? U : 0) | V | A | D));
                                boolean ok = expectedAllowed(perm, user, priv, sum, mxr, access);
                                long got = mmu.walk(pt.satp(), 0x1234, access, priv, sum, mxr);
                                long want = ok ? RAM + 0x7234 : fault(Mmu.pageFault(access));
                                if (got != want) {
                                    failures.add(String.format("perm=%s U=%b priv=%d SUM=%b MXR=%b access=%d: got %d want %d",
                                            Long.toBinaryString(perm), user, priv, sum, mxr, access, got, want));
                                }
                            }
                        }
                    }
                }
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    /** The rules, as the spec states them, one case at a time. */
    private static boolean expectedAllowed(long perm, boolean user, int priv, boolean sum, boolean mxr, int access) {
        boolean r = (perm & R) != 0, w = (perm & W) != 0, x = (perm & X) != 0;
        if (priv == PRIV_U && !user) {
            return false;                       // U-mode may only access U pages
        }
        if (priv == PRIV_S && user && access == ACCESS_EXEC) {
            return false;                       // S-mode never executes from U pages, SUM or not
        }
        if (priv == PRIV_S && user && !sum) {
            return false;                       // S-mode loads/stores to U pages need SUM
        }
        if (access == ACCESS_EXEC) {
            return x;
        }
        if (access == ACCESS_WRITE) {
            return w;
        }
        if (r) {
            return true;
        }
        return mxr && x;                        // MXR: execute-only pages become readable
    }

    @Test
    void selectedPermissionCasesByHand() {
        PageTables pt = new PageTables(ram, TABLES, Csr.SATP_SV39);
        pt.map4k(0x1000, RAM + 0x1000, R | W | U | V | A | D);
        pt.map4k(0x2000, RAM + 0x2000, X | V | A);
        pt.map4k(0x3000, RAM + 0x3000, R | W | V | A | D);
        long satp = pt.satp();
        assertEquals(fault(Cause.LOAD_PAGE_FAULT), mmu.walk(satp, 0x1000, ACCESS_READ, PRIV_S, false, false));
        assertEquals(RAM + 0x1000, mmu.walk(satp, 0x1000, ACCESS_READ, PRIV_S, true, false));
        assertEquals(RAM + 0x1000, mmu.walk(satp, 0x1000, ACCESS_WRITE, PRIV_S, true, false));
        assertEquals(RAM + 0x1000, mmu.walk(satp, 0x1000, ACCESS_WRITE, PRIV_U, false, false));
        assertEquals(fault(Cause.LOAD_PAGE_FAULT), mmu.walk(satp, 0x3000, ACCESS_READ, PRIV_U, true, true));
        assertEquals(fault(Cause.LOAD_PAGE_FAULT), mmu.walk(satp, 0x2000, ACCESS_READ, PRIV_S, false, false));
        assertEquals(RAM + 0x2000, mmu.walk(satp, 0x2000, ACCESS_READ, PRIV_S, false, true));
        assertEquals(fault(Cause.STORE_PAGE_FAULT), mmu.walk(satp, 0x2000, ACCESS_WRITE, PRIV_S, false, true));
    }
}
