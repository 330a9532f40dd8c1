package dev.rivet.core.riscv;

import dev.rivet.core.bus.GuestRam;

/**
 * Builds Sv39/Sv48/Sv57 page tables in guest RAM for tests, the way an OS would: tables are
 * taken from a bump allocator, pointers are V-only PTEs, leaves get the flags given.
 */
final class PageTables {
    static final long V = Mmu.PTE_V, R = Mmu.PTE_R, W = Mmu.PTE_W, X = Mmu.PTE_X, U = Mmu.PTE_U, G = Mmu.PTE_G,
            A = Mmu.PTE_A, D = Mmu.PTE_D;

    final GuestRam ram;
    final int levels;
    final int satpMode;
    final long root;
    private long next;

    /** Tables are allocated from physical {@code firstFree} upwards (4 KiB aligned). */
    PageTables(GuestRam ram, long firstFree, int satpMode) {
        this.ram = ram;
        this.satpMode = satpMode;
        this.levels = Mmu.levels(satpMode);
        this.next = firstFree;
        this.root = alloc();
    }

    long alloc() {
        long a = next;
        next += 4096;
        for (long o = 0; o < 4096; o += 8) {
            write(a + o, 0);
        }
        return a;
    }

    long satp(long asid) {
        return ((long) satpMode << 60) | (asid << 44) | (root >>> 12);
    }

    long satp() {
        return satp(0);
    }

    long read(long pa) {
        return ram.read(pa - ram.base(), 8);
    }

    void write(long pa, long v) {
        ram.write(pa - ram.base(), 8, v);
    }

    static long pte(long pa, long flags) {
        return ((pa >>> 12) << 10) | flags;
    }

    /** Address of the PTE for {@code va} at {@code level}, creating pointer tables above it. */
    long pteAddr(long va, int level) {
        long table = root;
        for (int i = levels - 1; i > level; i--) {
            long at = table + (((va >>> (12 + 9 * i)) & 0x1FF) << 3);
            long p = read(at);
            if ((p & V) == 0) {
                long t = alloc();
                p = pte(t, V);
                write(at, p);
            }
            table = ((p >>> 10) & ((1L << 44) - 1)) << 12;
        }
        return table + (((va >>> (12 + 9 * level)) & 0x1FF) << 3);
    }

    /**
     * Maps {@code va} to {@code pa} with a valid leaf ({@code flags} | V) at {@code level}
     * (0 = 4 KiB page); returns the PTE address.
     */
    long map(long va, long pa, int level, long flags) {
        long at = pteAddr(va, level);
        write(at, pte(pa, flags | V));
        return at;
    }

    long map4k(long va, long pa, long flags) {
        return map(va, pa, 0, flags);
    }
}
