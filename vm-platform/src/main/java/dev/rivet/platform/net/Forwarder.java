package dev.rivet.platform.net;

import io.netty.channel.ChannelFuture;

import java.net.InetSocketAddress;

/** A running host-to-guest port forward (TCP or UDP): a host listener. Event-loop thread only. */
interface Forwarder {
    HostForward spec();

    /** Starts listening; the future completes when the socket is bound (or failed). */
    ChannelFuture bind();

    /** The bound host address (with the real port when the spec asked for port 0). */
    InetSocketAddress localAddress();

    /** Stops listening and ends the forward's sessions. */
    void close();
}
