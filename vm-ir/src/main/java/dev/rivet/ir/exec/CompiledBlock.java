package dev.rivet.ir.exec;

import dev.rivet.core.riscv.Hart;

/**
 * Executable code for a {@link Region}: its entry block and, inside it, jumps between its
 * blocks. The contract is that of the interpreter running those blocks one after another:
 * afterwards the hart's registers, memory, {@code pc} and {@code instret} are what
 * interpreting them would have left, and the return value is the {@link BlockExit} code of
 * the last block. Faults are taken precisely (through {@link Hart#takePendingException()}),
 * never thrown.
 *
 * <p>{@code budget} bounds the time spent inside: at a jump from one of its blocks to another,
 * the code returns instead of jumping once it has retired {@code budget} or more
 * instructions in this call, or once any slow path (TLB miss, MMIO, fault check) ran since
 * the last jump. The dispatcher passes the instructions left until its next timer poll or
 * stop check, so it sees the same block boundaries the interpreter would have stopped at.
 *
 * <p>An abstract class rather than an interface: the dispatcher's call and every chained
 * call from one unit into the next see hundreds of implementations, and HotSpot makes such
 * a call through the vtable (a fixed slot) for a class, but through an itable stub that
 * searches the receiver's interfaces for an interface (docs/BENCHMARKS.md).
 */
public abstract class CompiledBlock {
    protected CompiledBlock() {
    }

    public abstract int execute(Hart h, int budget);
}
