package dev.rivet.ir.exec;

import java.util.function.Consumer;

/**
 * A compiler tier the interpreter hands hot regions to. {@link #request} returns at once;
 * the compiler calls {@code install} later from its own thread when (and only if) it
 * produced code for the region's entry. It must never block the hart that asked.
 */
public interface BlockCompiler {
    void request(Region region, Consumer<CompiledBlock> install);

    /**
     * Warm start: the layout (virtual PCs, entry first, and copies) of a region that was hot
     * the last time this guest ran and whose code the compiler holds ready, for a block just
     * translated at {@code physPc} in {@code mode}; null when there is none. The interpreter
     * then requests that region at once instead of waiting for the block's counter. The
     * compiler still keys the region on its IR, so code decoded from other bytes misses.
     */
    default Region.Layout warmRegion(long physPc, int mode) {
        return null;
    }
}
