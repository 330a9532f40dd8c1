/**
 * VirtIO 1.x (modern only): the device-independent core ({@link dev.rivet.virtio.VirtioCore}:
 * status state machine and feature negotiation), split virtqueues
 * ({@link dev.rivet.virtio.Virtqueue}), the device contract ({@link dev.rivet.virtio.VirtioDevice}),
 * the MMIO transport ({@code mmio}) and the devices ({@code rng}, {@code blk}).
 *
 * <p>Layering: a transport owns registers and interrupt delivery and implements
 * {@link dev.rivet.virtio.VirtioInterrupts}; the core owns what every transport shares;
 * a device owns behaviour and sees only {@link dev.rivet.virtio.VirtioContext}. Packed
 * virtqueues and the PCI transport come later.
 */
package dev.rivet.virtio;
