/**
 * IR to JVM bytecode compiler (ASM), compile queue and tiering policy. Not built yet: see the JIT issue.
 */
package dev.rivet.jit;
