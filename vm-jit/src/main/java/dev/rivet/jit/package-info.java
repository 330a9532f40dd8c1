/**
 * IR to JVM bytecode compiler (ASM) and its compile queue: {@link dev.rivet.jit.JitCompiler}.
 * First slice: one IR block becomes one hidden class; blocks with FP arithmetic, atomics
 * or system ops are rejected and stay interpreted.
 */
package dev.rivet.jit;
