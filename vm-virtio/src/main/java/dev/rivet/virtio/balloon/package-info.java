/**
 * The traditional memory balloon, virtio-balloon (VirtIO 1.2 section 5.5): the host sets a
 * target, the guest gives pages up and takes them back, reports free pages and sends memory
 * statistics. The device frees the host memory behind given-up pages through
 * {@link dev.rivet.core.bus.GuestRam#discard}.
 */
package dev.rivet.virtio.balloon;
