/**
 * Shared folders: a 9P2000.L file server ({@link dev.rivet.virtio.p9.P9Server}) that serves
 * one host directory to a guest, independent of the transport. The virtio-9p device (VirtIO
 * 1.2, device id 9) wraps it: it gathers each T-message from a chain's readable buffers,
 * calls {@code handle}, and scatters the R-message into the writable ones.
 */
package dev.rivet.virtio.p9;
