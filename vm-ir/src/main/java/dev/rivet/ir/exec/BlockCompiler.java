package dev.rivet.ir.exec;

import java.util.function.Consumer;

/**
 * A compiler tier the interpreter hands hot regions to. {@link #request} returns at once;
 * the compiler calls {@code install} later from its own thread when (and only if) it
 * produced code for the region's entry. It must never block the hart that asked.
 */
public interface BlockCompiler {
    void request(Region region, Consumer<CompiledBlock> install);
}
