/**
 * Host side of virtio-vsock: {@link dev.rivet.platform.vsock.UnixSocketVsock}, the
 * Firecracker-style mapping of guest vsock ports onto host Unix sockets, and
 * {@link dev.rivet.platform.vsock.VsockOptions}, the {@code cid=N,uds=PATH} option.
 */
package dev.rivet.platform.vsock;
