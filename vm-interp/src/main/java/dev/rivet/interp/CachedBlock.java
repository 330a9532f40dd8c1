package dev.rivet.interp;

import dev.rivet.ir.IrBlock;
import dev.rivet.ir.exec.CompiledBlock;

/**
 * A translated block as the dispatcher holds it: the IR plus run-time bookkeeping
 * (execution count for tiering, validity, and one remembered successor per exit kind
 * so that hot paths skip the cache lookup).
 */
public final class CachedBlock {
    public final IrBlock block;
    public final long pc;
    public final int mode;
    /**
     * Physical page holding the block's last bytes when the block runs onto the next
     * virtual page (a 32-bit instruction straddling the boundary), else -1. With paging
     * that page need not follow the first one physically, so it is part of the identity.
     */
    public final long physPage2;
    /** Times this block was entered; the JIT's tiering policy reads it. */
    public long executions;
    /** Compiled code for the block, installed by the compiler thread; null until then. */
    public volatile CompiledBlock compiled;
    /** Compilation was requested (hart thread only). */
    public boolean requested;
    /** Blocks in the region last requested for this entry; hart thread only. */
    int regionSize;
    /** Execution count at which the region is gathered again to see whether it grew (0: never). */
    long recheckAt;
    /** Cleared when the guest code under the block changes; never set again. */
    public boolean valid = true;
    /** Last successor seen through the taken (mid-block) exit and the final exit. */
    CachedBlock nextTaken, nextFall;
    /** The {@link BlockCache#epoch()} in which the successor links were made. */
    int linkEpoch;

    CachedBlock(IrBlock block, long physPage2) {
        this.block = block;
        this.pc = block.pc;
        this.mode = block.mode;
        this.physPage2 = physPage2;
    }
}
