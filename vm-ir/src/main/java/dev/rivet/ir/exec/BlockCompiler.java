package dev.rivet.ir.exec;

import dev.rivet.ir.IrBlock;

import java.util.function.Consumer;

/**
 * A compiler tier the interpreter hands hot blocks to. {@link #request} returns at once;
 * the compiler calls {@code install} later from its own thread when (and only if) it
 * produced code for the block. It must never block the hart that asked.
 */
public interface BlockCompiler {
    void request(IrBlock block, Consumer<CompiledBlock> install);
}
