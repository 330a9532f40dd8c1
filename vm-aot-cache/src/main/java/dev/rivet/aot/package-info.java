/**
 * The persistent two-layer code cache: {@link dev.rivet.aot.MemoryCache} (layer 1, per JVM)
 * in front of {@link dev.rivet.aot.DiskCache} (layer 2, shared by concurrent VMs and kept
 * across runs), both keyed by a content hash ({@link dev.rivet.aot.CacheKey}).
 *
 * <p>Payloads are opaque byte arrays: this module knows nothing about the JIT, so the
 * format of what is stored (class bytes and whatever validates them) belongs to the caller,
 * which also owns the format version that invalidates old entries.
 */
package dev.rivet.aot;
