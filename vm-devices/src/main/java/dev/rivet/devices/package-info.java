/**
 * Board devices (CLINT, PLIC, NS16550A UART, goldfish RTC, SiFive test finisher, boot ROM,
 * fw_cfg), the PCI Express host bridge and its configuration-space framework ({@code pci}) and,
 * later, PC-class PCI devices. One device per package; each contributes its own
 * device-tree node.
 */
package dev.rivet.devices;
