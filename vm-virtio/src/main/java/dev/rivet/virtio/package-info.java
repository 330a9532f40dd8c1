/**
 * VirtIO virtqueues, MMIO and PCI transports and devices. Not built yet: see the VirtIO issue.
 */
package dev.rivet.virtio;
