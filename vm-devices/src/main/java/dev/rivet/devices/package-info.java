/**
 * Board devices (CLINT, PLIC, UART, RTC, syscon, fw_cfg, ...) and PC-class PCI devices. Not built yet: arrives with the virt board.
 */
package dev.rivet.devices;
