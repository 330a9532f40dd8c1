/**
 * Persistent two-layer cache (memory + disk) of compiled classes. Not built yet: see the AOT cache issue.
 */
package dev.rivet.aot;
