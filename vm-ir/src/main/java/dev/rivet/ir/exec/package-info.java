/** The contract between the interpreter and compiled-code tiers (exit codes, compiled blocks, compilers). */
package dev.rivet.ir.exec;
