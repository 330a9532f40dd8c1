/**
 * The console device, virtio-console (VirtIO 1.2 section 5.3): {@link dev.rivet.virtio.console.VirtioConsole}
 * with its console port ({@code hvc0}) and, with multiport, named ports, each reached from the
 * host through a {@link dev.rivet.virtio.console.ConsolePort} and a
 * {@link dev.rivet.virtio.console.PortHandler}.
 */
package dev.rivet.virtio.console;
