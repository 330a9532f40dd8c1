/**
 * The monitor: a control socket for a running machine, in the spirit of QEMU's human
 * monitor ({@code -monitor unix:PATH,server}) but our own line protocol.
 * {@link dev.rivet.platform.monitor.MonitorServer} owns the Unix socket and its clients,
 * {@link dev.rivet.platform.monitor.MonitorCommands} the command set, and
 * {@link dev.rivet.platform.monitor.MonitorTarget} is what they need of a machine
 * ({@link dev.rivet.platform.monitor.VirtMachineTarget} for the virt board). One command per
 * line; every reply ends with a line {@code OK} or {@code ERROR: <message>}.
 */
package dev.rivet.platform.monitor;
