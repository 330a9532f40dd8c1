package dev.rivet.core.riscv;

import dev.rivet.core.bus.GuestRam;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import static dev.rivet.core.riscv.Csr.SATP_PPN;

/**
 * The page-table walker for Sv39, Sv48 and Sv57 (Privileged Architecture 4.3.2 "Virtual
 * Address Translation Process", 4.4–4.6), with hardware updating of the A and D bits
 * (Svadu behaviour: the walker sets them in the PTE in RAM, atomically).
 *
 * <p>Stateless apart from the memory it reads: the hart passes satp, the effective
 * privilege and mstatus.SUM/MXR, and keeps the results in its own TLBs. The result is a
 * physical address, or {@code -1 - cause} for a page fault or an access fault (a PTE that
 * lies outside RAM). Neither Svnapot nor Svpbmt is implemented, so PTE bits 63..54 are
 * all reserved: a PTE with any of them set is a page fault. PMP is not enforced (see
 * {@link Hart}), so page-table accesses are checked only against RAM.
 */
public final class Mmu {
    public static final long PTE_V = 1, PTE_R = 2, PTE_W = 4, PTE_X = 8, PTE_U = 16, PTE_G = 32, PTE_A = 64,
            PTE_D = 128;
    /** N (63), PBMT (62:61) and the reserved bits 60:54. */
    public static final long PTE_RESERVED = 0xFFC0_0000_0000_0000L;
    private static final int PPN_SHIFT = 10;

    /** 8-byte aligned access to PTEs, for the atomic A/D update. */
    private static final VarHandle PTE = ValueLayout.JAVA_LONG.varHandle();

    private final GuestRam ram;
    private final MemorySegment seg;
    private final long ramBase;
    private final CodePageMap codePages;

    public Mmu(GuestRam ram, CodePageMap codePages) {
        this.ram = ram;
        this.seg = ram.segment();
        this.ramBase = ram.base();
        this.codePages = codePages;
    }

    /** Levels of the page table for a satp MODE (3, 4, 5), or 0 for Bare or an unsupported mode. */
    public static int levels(int satpMode) {
        return switch (satpMode) {
            case Csr.SATP_SV39 -> 3;
            case Csr.SATP_SV48 -> 4;
            case Csr.SATP_SV57 -> 5;
            default -> 0;
        };
    }

    static int pageFault(int access) {
        return switch (access) {
            case Hart.ACCESS_WRITE -> Cause.STORE_PAGE_FAULT;
            case Hart.ACCESS_EXEC -> Cause.INSN_PAGE_FAULT;
            default -> Cause.LOAD_PAGE_FAULT;
        };
    }

    static int accessFault(int access) {
        return switch (access) {
            case Hart.ACCESS_WRITE -> Cause.STORE_ACCESS_FAULT;
            case Hart.ACCESS_EXEC -> Cause.INSN_ACCESS_FAULT;
            default -> Cause.LOAD_ACCESS_FAULT;
        };
    }

    /** The level of the leaf the last successful {@link #walk} ended at: 0 for a 4 KiB page, more for a superpage. */
    private int lastLeafLevel;

    public int lastLeafLevel() {
        return lastLeafLevel;
    }

    /**
     * Translates {@code va} for an access of kind {@code access} ({@link Hart#ACCESS_READ},
     * {@code _WRITE} (stores and AMOs), {@code _EXEC}) at privilege {@code priv} (U or S)
     * under {@code satp}. Returns the physical address or {@code -1 - cause}.
     */
    public long walk(long satp, long va, int access, int priv, boolean sum, boolean mxr) {
        lastLeafLevel = 0;
        int levels = levels((int) (satp >>> Csr.SATP_MODE_SHIFT));
        if (levels == 0) {
            return va;
        }
        // Bits 63..VALEN-1 must all equal bit VALEN-1 (4.4.1 and following).
        int vaBits = 12 + 9 * levels;
        if ((va << (64 - vaBits)) >> (64 - vaBits) != va) {
            return -1 - pageFault(access);
        }
        walk:
        while (true) {
            long table = (satp & SATP_PPN) << 12;
            for (int i = levels - 1; ; i--) {
                long pteAddr = table + (((va >>> (12 + 9 * i)) & 0x1FF) << 3);
                if (!ram.contains(pteAddr, 8)) {
                    return -1 - accessFault(access);
                }
                long off = pteAddr - ramBase;
                long pte = (long) PTE.getAcquire(seg, off);
                if ((pte & PTE_V) == 0 || (pte & (PTE_R | PTE_W)) == PTE_W || (pte & PTE_RESERVED) != 0) {
                    return -1 - pageFault(access);
                }
                long ppn = (pte >>> PPN_SHIFT) & SATP_PPN;
                if ((pte & (PTE_R | PTE_X)) == 0) {
                    // A pointer to the next level. D, A and U are reserved in non-leaf PTEs.
                    if (i == 0 || (pte & (PTE_D | PTE_A | PTE_U)) != 0) {
                        return -1 - pageFault(access);
                    }
                    table = ppn << 12;
                    continue;
                }
                // A leaf: check the permissions (4.3.2 step 5).
                if (!allowed(pte, access, priv, sum, mxr)) {
                    return -1 - pageFault(access);
                }
                // A superpage's low PPN fields must be zero (step 6).
                long levelMask = (1L << (9 * i)) - 1;
                if ((ppn & levelMask) != 0) {
                    return -1 - pageFault(access);
                }
                // Svadu: set A, and D for a store, atomically with respect to other
                // accesses to the PTE; if the PTE changed meanwhile, walk again (step 7).
                long want = PTE_A | (access == Hart.ACCESS_WRITE ? PTE_D : 0);
                if ((pte & want) != want) {
                    if (!PTE.compareAndSet(seg, off, pte, pte | want)) {
                        continue walk;
                    }
                    codePages.notifyWrite(pteAddr);
                }
                long pageMask = (1L << (12 + 9 * i)) - 1;
                lastLeafLevel = i;
                return ((ppn << 12) & ~pageMask) | (va & pageMask);
            }
        }
    }

    /** The leaf permission rules: R/W/X, U against the privilege, SUM and MXR. */
    static boolean allowed(long pte, int access, int priv, boolean sum, boolean mxr) {
        boolean user = (pte & PTE_U) != 0;
        if (priv == Hart.PRIV_U) {
            if (!user) {
                return false;
            }
        } else if (user && (access == Hart.ACCESS_EXEC || !sum)) {
            return false; // S never executes U pages; it reads/writes them only with SUM
        }
        return switch (access) {
            case Hart.ACCESS_EXEC -> (pte & PTE_X) != 0;
            case Hart.ACCESS_WRITE -> (pte & PTE_W) != 0;
            default -> (pte & PTE_R) != 0 || (mxr && (pte & PTE_X) != 0);
        };
    }
}
