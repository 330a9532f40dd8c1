/**
 * VirtIO 1.x (modern only): the device-independent core ({@link dev.rivet.virtio.VirtioCore}:
 * status state machine and feature negotiation), split virtqueues
 * ({@link dev.rivet.virtio.Virtqueue}), the device contract ({@link dev.rivet.virtio.VirtioDevice}),
 * the MMIO and PCI transports ({@code mmio}, {@code pci}) and the devices ({@code blk},
 * {@code net}, {@code console}, {@code rng}, {@code p9}, {@code balloon}, {@code vsock}).
 *
 * <p>Layering: a transport owns registers and interrupt delivery and implements
 * {@link dev.rivet.virtio.VirtioInterrupts}; the core owns what every transport shares;
 * a device owns behaviour and sees only {@link dev.rivet.virtio.VirtioContext}. Split and
 * packed virtqueues are both the core's: a device never knows which one the driver chose.
 */
package dev.rivet.virtio;
