package dev.rivet.platform.net;

/** A TCP connection as the guest names it: its own address and port, and the remote end's. */
record TcpKey(int guestIp, int guestPort, int remoteIp, int remotePort) {
}
