package dev.rivet.interp;

import dev.rivet.ir.IrBlock;
import dev.rivet.ir.Op;
import dev.rivet.ir.exec.Region;
import dev.rivet.ir.riscv.RiscvSlots;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Gathers the region handed to the compiler when a block gets hot: the block, then
 * breadth-first the blocks it leads to that stay in the entry's virtual page and mode and
 * have already been translated (i.e. have run): direct jump and branch targets, the
 * successors the dispatcher last saw after indirect jumps (the function a pointer called,
 * the caller a {@code ret} went back to), and the address after a block that ends in a
 * call (where it returns to). Other pages and code that never ran stay exits. Loops
 * inside a page — including calls and returns between functions of one page — therefore
 * become loops inside one compiled method, which is what lets HotSpot optimise them.
 */
final class RegionBuilder {
    /** The compiler shrinks regions that lower to too large a method; this bounds the work. */
    static final int MAX_BLOCKS = 48;

    private final BlockCache cache;
    private final CachedBlock entry;
    private final long page, physPage;
    private final List<CachedBlock> found = new ArrayList<>();
    private final Set<Long> seen = new HashSet<>();

    private RegionBuilder(BlockCache cache, CachedBlock entry) {
        this.cache = cache;
        this.entry = entry;
        this.page = entry.pc & ~0xFFFL;
        this.physPage = entry.block.physPc & ~0xFFFL;
    }

    static Region build(BlockCache cache, CachedBlock entry) {
        RegionBuilder rb = new RegionBuilder(cache, entry);
        rb.found.add(entry);
        rb.seen.add(entry.pc);
        for (int k = 0; k < rb.found.size() && rb.found.size() < MAX_BLOCKS; k++) {
            rb.expand(rb.found.get(k));
        }
        List<IrBlock> blocks = new ArrayList<>(rb.found.size());
        for (CachedBlock cb : rb.found) {
            blocks.add(cb.block);
        }
        return new Region(blocks);
    }

    private void expand(CachedBlock cb) {
        IrBlock b = cb.block;
        for (int i = 0; i < b.size(); i++) {
            int op = b.op(i);
            if (op == Op.EXIT || (op >= Op.BR_EQ && op <= Op.BR_GEU)) {
                consider(b.imm(i));
            }
            if (op == Op.EXIT || op == Op.EXIT_IND) {
                if (op == Op.EXIT_IND) {
                    CachedBlock seenNext = cb.nextFall;
                    if (seenNext != null) {
                        consider(seenNext.pc);
                    }
                }
                if (isCall(b, i)) {
                    consider(b.pc + b.byteLength); // where the call returns
                }
                break;
            }
        }
    }

    /**
     * True when the block's final exit (op {@code i}) is a call: the jump is preceded by
     * setting a link register (x1 or x5, the two the calling convention and the spec's
     * return-address stack hints use) to the address after the block.
     */
    private static boolean isCall(IrBlock b, int i) {
        for (int k = i - 1; k >= 0 && b.insnIndex(k) == b.insnIndex(i); k--) {
            if (b.op(k) == Op.MOVI && (b.d(k) == RiscvSlots.x(1) || b.d(k) == RiscvSlots.x(5))
                    && b.imm(k) == b.pc + b.byteLength) {
                return true;
            }
        }
        return false;
    }

    private void consider(long target) {
        if (found.size() >= MAX_BLOCKS || (target & ~0xFFFL) != page || !seen.add(target)) {
            return;
        }
        CachedBlock cb = cache.find(target, physPage | (target & 0xFFF), entry.mode);
        // A block running onto the next page depends on that page's mapping too.
        if (cb != null && cb.valid && cb.physPage2 == -1) {
            found.add(cb);
        }
    }
}
