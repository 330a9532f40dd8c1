/**
 * The socket device, virtio-vsock (VirtIO 1.2 section 5.10): {@link dev.rivet.virtio.vsock.VirtioVsock}
 * carries the guest's AF_VSOCK stream connections to and from the host (CID 2), with the
 * credit-based flow control of section 5.10.6.3 in both directions. The host end of each
 * connection comes from a {@link dev.rivet.virtio.vsock.VsockBackend} as a non-blocking
 * {@link dev.rivet.virtio.vsock.VsockStream}; vm-platform's Unix-socket backend is one.
 */
package dev.rivet.virtio.vsock;
