package dev.rivet.platform.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * A UDP port forward ({@code hostfwd=udp:...}): a host datagram socket whose traffic is
 * carried to one guest port. Each host peer gets a session with its own port on 10.0.2.2,
 * so the guest sees datagrams from {@code 10.0.2.2:sessionPort} and its replies to that
 * port go back to the right peer, from the forward's host socket. Sessions expire when idle,
 * like NAT flows (see {@link UdpNat}); the socket is paused, and replies to a socket that
 * cannot take more are dropped, as for NAT flows. Event-loop thread only.
 */
final class UdpForwarder extends SimpleChannelInboundHandler<DatagramPacket> implements Forwarder {
    private final HostForward spec;
    private final UdpNat nat;
    private final IntSupplier guestAddress;
    private final Map<InetSocketAddress, Session> byPeer = new HashMap<>();
    private Channel channel;

    UdpForwarder(HostForward spec, UdpNat nat, IntSupplier guestAddress) {
        this.spec = spec;
        this.nat = nat;
        this.guestAddress = guestAddress;
    }

    @Override
    public HostForward spec() {
        return spec;
    }

    @Override
    public ChannelFuture bind() {
        ChannelFuture f = nat.bindReader(this, spec.hostSocketAddress());
        channel = f.channel();
        return f;
    }

    @Override
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
        InetSocketAddress peer = p.sender();
        Session s = byPeer.get(peer);
        if (s == null) {
            int guestIp = spec.guestAddress() != null ? Packets.ip(spec.guestAddress()) : guestAddress.getAsInt();
            s = new Session(peer, guestIp);
            s.alias = nat.addSession(s);
            if (s.alias < 0) {
                return;
            }
            byPeer.put(peer, s);
        }
        s.lastActive = nat.nowNanos();
        nat.udp().toGuest(VirtualNetwork.GATEWAY, s.alias, s.guestIp, spec.guestPort(), p.content());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // ICMP errors for earlier datagrams: nothing to do for UDP.
    }

    @Override
    public void close() {
        for (Session s : new ArrayList<>(byPeer.values())) {
            s.expire();
        }
        if (channel != null) {
            channel.close();
        }
    }

    /** One host peer's traffic through the forward. */
    final class Session {
        private final InetSocketAddress peer;
        private final int guestIp;
        private int alias;
        private long lastActive;

        Session(InetSocketAddress peer, int guestIp) {
            this.peer = peer;
            this.guestIp = guestIp;
        }

        int guestIp() {
            return guestIp;
        }

        int guestPort() {
            return spec.guestPort();
        }

        long lastActive() {
            return lastActive;
        }

        /** A guest reply: to the peer, from the forward's socket. */
        void toPeer(byte[] f, int off, int length, long now) {
            lastActive = now;
            if (!nat.writable(channel)) {
                return;
            }
            channel.writeAndFlush(new DatagramPacket(channel.alloc().buffer(length).writeBytes(f, off, length), peer));
        }

        void expire() {
            nat.removeSession(alias);
            byPeer.remove(peer);
        }
    }
}
