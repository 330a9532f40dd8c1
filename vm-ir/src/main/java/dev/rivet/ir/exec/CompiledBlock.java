package dev.rivet.ir.exec;

import dev.rivet.core.riscv.Hart;

/**
 * Executable code for one IR block. The contract is exactly that of the interpreter's
 * block executor: afterwards the hart's registers, memory, {@code pc} and {@code instret}
 * are what interpreting the block would have left, and the return value is the same
 * {@link BlockExit} code. Faults are taken precisely (through
 * {@link Hart#takePendingException()}), never thrown.
 */
@FunctionalInterface
public interface CompiledBlock {
    int execute(Hart h);
}
