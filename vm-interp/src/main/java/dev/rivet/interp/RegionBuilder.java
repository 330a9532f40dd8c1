package dev.rivet.interp;

import dev.rivet.ir.IrBlock;
import dev.rivet.ir.Op;
import dev.rivet.ir.exec.Region;
import dev.rivet.ir.riscv.RiscvSlots;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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
 *
 * <p>A small leaf function called from the region is copied for each call (see
 * {@code Region.inlinedAt}): one function body shared by the loops that call it is a second
 * way into each of those loops, and HotSpot does not optimise a loop it can enter in two
 * places (docs/BENCHMARKS.md, session 11). The blocks on the entry's innermost loop come
 * first, so that the compiler, which keeps the longest prefix that fits its size target,
 * cuts what is off that loop.
 */
final class RegionBuilder {
    /** The compiler shrinks regions that lower to too large a method; this bounds the work. */
    static final int MAX_BLOCKS = 48;
    /** Functions this small (in blocks) are copied into the region for each call site. */
    static final int MAX_FUNCTION_BLOCKS = 6;
    /** At most this many copied blocks per region. */
    static final int MAX_COPIED_BLOCKS = 24;

    private final BlockCache cache;
    private final CachedBlock entry;
    private final long page, physPage;
    private final List<CachedBlock> found = new ArrayList<>();
    private final Set<Long> seen = new HashSet<>();
    /** Blocks found that end in a call, with the PC called (see {@link #leafBody}). */
    private final Map<CachedBlock, Long> callees = new HashMap<>();

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
        // The calls that get a copy of their function: a small leaf whose call returns to a
        // block of the region.
        Map<CachedBlock, List<IrBlock>> bodies = new HashMap<>();
        Set<Long> copied = new HashSet<>();
        int copies = 0;
        for (CachedBlock cb : rb.found) {
            Long callee = rb.callees.get(cb);
            if (callee == null || !rb.found(cb.pc + cb.block.byteLength)) {
                continue;
            }
            List<IrBlock> body = rb.leafBody(callee);
            if (body != null && copies + body.size() <= MAX_COPIED_BLOCKS) {
                bodies.put(cb, body);
                copies += body.size();
                for (IrBlock b : body) {
                    copied.add(b.pc);
                }
            }
        }
        List<IrBlock> blocks = new ArrayList<>(rb.found.size() + copies);
        List<Integer> inlinedAt = new ArrayList<>(rb.found.size() + copies);
        for (CachedBlock cb : rb.loopFirst(bodies)) {
            if (cb != entry && copied.contains(cb.pc)) {
                continue; // a copied function runs as its copies
            }
            int site = blocks.size();
            blocks.add(cb.block);
            inlinedAt.add(-1);
            for (IrBlock b : bodies.getOrDefault(cb, List.of())) {
                blocks.add(b);
                inlinedAt.add(site);
            }
        }
        int[] at = new int[inlinedAt.size()];
        for (int k = 0; k < at.length; k++) {
            at[k] = inlinedAt.get(k);
        }
        return new Region(blocks, at);
    }

    /**
     * The blocks found, entry first, then those on cycles through the entry, shortest cycle
     * first, then the rest in breadth-first order. The compiler keeps the longest prefix
     * that fits its size target, so when not all fit, what it drops is what lies off the
     * entry's innermost loop: that loop stays inside the method instead of leaving and
     * re-entering compiled code on every iteration. A call whose function is copied counts
     * as an edge to where it returns.
     */
    private List<CachedBlock> loopFirst(Map<CachedBlock, List<IrBlock>> bodies) {
        int n = found.size();
        Map<Long, Integer> index = new HashMap<>();
        for (int k = 0; k < n; k++) {
            index.put(found.get(k).pc, k);
        }
        List<List<Integer>> succ = new ArrayList<>(n), pred = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            succ.add(new ArrayList<>());
            pred.add(new ArrayList<>());
        }
        for (int k = 0; k < n; k++) {
            CachedBlock cb = found.get(k);
            IrBlock b = cb.block;
            List<Long> to = new ArrayList<>();
            for (int i = 0; i < b.size(); i++) {
                int op = b.op(i);
                if ((op >= Op.BR_EQ && op <= Op.BR_GEU) || (op == Op.EXIT && !bodies.containsKey(cb))) {
                    to.add(b.imm(i));
                }
                if (op == Op.EXIT || op == Op.EXIT_IND) {
                    if (op == Op.EXIT_IND && cb.nextFall != null && !bodies.containsKey(cb)) {
                        to.add(cb.nextFall.pc);
                    }
                    if (isCall(b, i)) {
                        to.add(b.pc + b.byteLength);
                    }
                    break;
                }
            }
            for (long pc : to) {
                Integer t = index.get(pc);
                if (t != null && !succ.get(k).contains(t)) {
                    succ.get(k).add(t);
                    pred.get(t).add(k);
                }
            }
        }
        int[] from = distances(succ), back = distances(pred);
        List<Integer> order = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            order.add(k);
        }
        // On a cycle through the entry: reached from it and leading back to it over these
        // edges (a block found through an edge left out here, such as the call of a copied
        // function, may lead back without being reached).
        order.sort((x, y) -> {
            boolean cx = from[x] >= 0 && back[x] >= 0, cy = from[y] >= 0 && back[y] >= 0;
            if (cx != cy) {
                return cx ? -1 : 1;
            }
            if (cx && from[x] + back[x] != from[y] + back[y]) {
                return Integer.compare(from[x] + back[x], from[y] + back[y]);
            }
            return cx && from[x] != from[y] ? Integer.compare(from[x], from[y]) : Integer.compare(x, y);
        });
        List<CachedBlock> out = new ArrayList<>(n);
        for (int k : order) {
            out.add(found.get(k));
        }
        return out;
    }

    /** Edges from block 0 to each block over {@code edges}, or -1 where it does not lead. */
    private static int[] distances(List<List<Integer>> edges) {
        int[] dist = new int[edges.size()];
        Arrays.fill(dist, -1);
        dist[0] = 0;
        int[] queue = new int[edges.size()];
        int head = 0, tail = 0;
        queue[tail++] = 0;
        while (head < tail) {
            int x = queue[head++];
            for (int t : edges.get(x)) {
                if (dist[t] < 0) {
                    dist[t] = dist[x] + 1;
                    queue[tail++] = t;
                }
            }
        }
        return dist;
    }

    private boolean found(long pc) {
        for (CachedBlock cb : found) {
            if (cb.pc == pc) {
                return true;
            }
        }
        return false;
    }

    /**
     * The blocks of the function at {@code pc} when it is a small leaf that has run: what it
     * reaches from there by direct jumps and branches, in its entry's page, at most
     * {@link #MAX_FUNCTION_BLOCKS}, none of them ending in a call. Null otherwise.
     */
    private List<IrBlock> leafBody(long pc) {
        List<IrBlock> body = new ArrayList<>();
        Set<Long> in = new HashSet<>();
        in.add(pc);
        List<Long> todo = new ArrayList<>(List.of(pc));
        for (int k = 0; k < todo.size(); k++) {
            long at = todo.get(k);
            if ((at & ~0xFFFL) != page || body.size() == MAX_FUNCTION_BLOCKS) {
                return null;
            }
            CachedBlock cb = cache.find(at, physPage | (at & 0xFFF), entry.mode);
            if (cb == null || !cb.valid || cb.physPage2 != -1) {
                if (k == 0) {
                    return null;
                }
                continue; // never ran (or runs onto the next page): a jump there leaves
            }
            IrBlock b = cb.block;
            body.add(b);
            for (int i = 0; i < b.size(); i++) {
                int op = b.op(i);
                if (op == Op.EXIT || (op >= Op.BR_EQ && op <= Op.BR_GEU)) {
                    if (in.add(b.imm(i))) {
                        todo.add(b.imm(i));
                    }
                }
                if (op == Op.EXIT || op == Op.EXIT_IND) {
                    if (isCall(b, i)) {
                        return null;
                    }
                    break;
                }
            }
        }
        return body;
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
                    if (op == Op.EXIT) {
                        callees.put(cb, b.imm(i));
                    } else if (cb.nextFall != null) {
                        callees.put(cb, cb.nextFall.pc); // the function a pointer called last
                    }
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
