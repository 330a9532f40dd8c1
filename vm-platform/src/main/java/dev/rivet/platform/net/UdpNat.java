package dev.rivet.platform.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * UDP network address translation. Each guest source endpoint (address and port) gets one
 * host datagram socket, like QEMU's slirp: the guest's datagrams leave through it to any
 * destination (10.0.2.2 meaning the host's 127.0.0.1), and whatever arrives on it goes back
 * to that guest port, its source translated the same way (127.0.0.1 shows as 10.0.2.2).
 * Queries to 10.0.2.3:53 use separate sockets that talk only to the upstream resolver, and
 * its answers come back from 10.0.2.3:53.
 *
 * <p>It also holds the sessions of UDP port forwards (one per host peer, see
 * {@link UdpForwarder}) so guest replies addressed to a session's port on 10.0.2.2 go back
 * to the peer. Flows and sessions idle for {@link UserNetOptions.Limits#udpIdleTimeout} are
 * closed by a periodic sweep; their number is bounded by {@link UserNetOptions.Limits#maxUdpFlows}.
 *
 * <p>Flow control, UDP style: every host datagram socket feeding the guest (flows, resolver
 * sockets, forwards) stops being read while the guest's link is backed up (see
 * {@link GuestLink}); and a guest datagram for a host socket that cannot take more (Netty's
 * write buffer above its high water mark) is dropped and counted, never queued. Event-loop
 * thread only.
 */
final class UdpNat {
    /** Datagrams kept per flow while its socket binds. */
    private static final int MAX_PENDING_PER_FLOW = 16;

    private final EventLoop loop;
    private final Counters counters;
    private final UserNetOptions.Limits limits;
    private final InetSocketAddress resolver;
    private final Udp udp;
    private final ChannelFactory<? extends DatagramChannel> channels;
    /** Every open host datagram socket whose datagrams go to the guest. */
    private final Set<Channel> readers = new HashSet<>();
    private boolean readsPaused;
    /** Key: guest address, port and a DNS bit (see {@link #key}). */
    private final Map<Long, Flow> flows = new HashMap<>();
    /** Forward sessions by their port on 10.0.2.2. */
    private final Map<Integer, UdpForwarder.Session> sessions = new HashMap<>();
    private final AliasPorts aliases = new AliasPorts();
    private boolean closed;

    UdpNat(EventLoop loop, Counters counters, UserNetOptions.Limits limits, InetSocketAddress resolver, Udp udp,
           GuestLink link, ChannelFactory<? extends DatagramChannel> channels) {
        this.loop = loop;
        this.counters = counters;
        this.limits = limits;
        this.resolver = resolver;
        this.udp = udp;
        this.channels = channels;
        link.onDatagramBackpressure(() -> setReading(false), () -> setReading(true));
        long period = Math.clamp(limits.udpIdleTimeout().toNanos() / 2, TimeUnit.MILLISECONDS.toNanos(10),
                TimeUnit.SECONDS.toNanos(10));
        loop.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.NANOSECONDS);
    }

    Udp udp() {
        return udp;
    }

    /**
     * A host datagram socket whose datagrams go to the guest through {@code handler}: read
     * into buffers that hold the largest datagram, and paused with the others while the
     * guest's link is backed up.
     */
    ChannelFuture bindReader(ChannelHandler handler, InetSocketAddress local) {
        ChannelFuture f = new Bootstrap().group(loop).channelFactory(channels)
                .option(ChannelOption.RCVBUF_ALLOCATOR, Udp.receiveAllocator())
                .option(ChannelOption.AUTO_READ, !readsPaused)
                .handler(handler)
                .bind(local);
        Channel ch = f.channel();
        if (ch.isOpen() && readers.add(ch)) {
            ch.closeFuture().addListener(c -> readers.remove(ch));
        }
        return f;
    }

    private void setReading(boolean on) {
        readsPaused = !on;
        for (Channel ch : readers) {
            ch.config().setAutoRead(on);
        }
    }

    /**
     * True when {@code ch} can take a datagram now; otherwise the datagram is to be dropped,
     * and is counted here: UDP may lose it, and queueing it would grow without bound.
     */
    boolean writable(Channel ch) {
        if (ch.isWritable()) {
            return true;
        }
        counters.add(UserNetCounter.DROP_UDP_HOST_BACKLOG);
        return false;
    }

    private static long key(int guestIp, int guestPort, boolean dns) {
        return (guestIp & 0xffffffffL) << 17 | (long) guestPort << 1 | (dns ? 1 : 0);
    }

    private long now() {
        return loop.ticker().nanoTime();
    }

    int flowCount() {
        return flows.size() + sessions.size();
    }

    /** Sends a guest datagram to a host: through the resolver socket when {@code dns}, else NAT. */
    void fromGuest(byte[] f, int off, int length, int src, int srcPort, int dst, int dstPort, boolean dns) {
        InetSocketAddress target;
        if (dns) {
            if (resolver == null) {
                counters.add(UserNetCounter.DROP_UDP);
                return;
            }
            target = resolver;
        } else {
            target = new InetSocketAddress(Packets.inet(dst == VirtualNetwork.GATEWAY ? VirtualNetwork.HOST_LOOPBACK : dst),
                    dstPort);
        }
        long k = key(src, srcPort, dns);
        Flow flow = flows.get(k);
        if (flow == null) {
            if (closed || flowCount() >= limits.maxUdpFlows()) {
                counters.add(UserNetCounter.DROP_UDP_FLOW_LIMIT);
                return;
            }
            flow = new Flow(k, src, srcPort, dns);
            flows.put(k, flow);
            counters.add(UserNetCounter.UDP_FLOWS_OPENED);
            flow.open();
        }
        flow.send(f, off, length, target);
    }

    /**
     * A guest datagram to {@code 10.0.2.2:dstPort}: if that port is a forward session's and
     * the datagram comes from the forwarded guest port, it goes to the session's host peer.
     */
    boolean toForward(byte[] f, int off, int length, int src, int srcPort, int dstPort) {
        UdpForwarder.Session s = sessions.get(dstPort);
        if (s == null || s.guestPort() != srcPort || s.guestIp() != src) {
            return false;
        }
        s.toPeer(f, off, length, now());
        return true;
    }

    /** Registers a forward session, giving it a free port on 10.0.2.2; -1 when the table is full. */
    int addSession(UdpForwarder.Session s) {
        if (closed || flowCount() >= limits.maxUdpFlows()) {
            counters.add(UserNetCounter.DROP_UDP_FLOW_LIMIT);
            return -1;
        }
        int port = aliases.allocate(sessions::containsKey);
        if (port >= 0) {
            sessions.put(port, s);
            counters.add(UserNetCounter.UDP_FLOWS_OPENED);
        }
        return port;
    }

    void removeSession(int aliasPort) {
        sessions.remove(aliasPort);
    }

    long nowNanos() {
        return now();
    }

    private void sweep() {
        long now = now();
        long idle = limits.udpIdleTimeout().toNanos();
        for (Iterator<Flow> it = flows.values().iterator(); it.hasNext(); ) {
            Flow fl = it.next();
            if (now - fl.lastActive >= idle) {
                it.remove();
                fl.close();
                counters.add(UserNetCounter.UDP_FLOWS_EXPIRED);
            }
        }
        List<UdpForwarder.Session> idleSessions = new ArrayList<>();
        for (UdpForwarder.Session s : sessions.values()) {
            if (now - s.lastActive() >= idle) {
                idleSessions.add(s);
            }
        }
        for (UdpForwarder.Session s : idleSessions) {
            s.expire();
            counters.add(UserNetCounter.UDP_FLOWS_EXPIRED);
        }
    }

    /** Closes every flow socket; forward sessions die with their forwarders. */
    void close() {
        closed = true;
        for (Flow fl : flows.values()) {
            fl.close();
        }
        flows.clear();
        sessions.clear();
    }

    /** One guest source endpoint's host socket. */
    private final class Flow extends SimpleChannelInboundHandler<DatagramPacket> {
        private final long key;
        private final int guestIp;
        private final int guestPort;
        private final boolean dns;
        private ChannelFuture bound;
        private List<DatagramPacket> pending = new ArrayList<>();
        long lastActive;

        Flow(long key, int guestIp, int guestPort, boolean dns) {
            this.key = key;
            this.guestIp = guestIp;
            this.guestPort = guestPort;
            this.dns = dns;
            this.lastActive = now();
        }

        void open() {
            bound = bindReader(this, new InetSocketAddress(0));
            bound.addListener((ChannelFuture f) -> {
                List<DatagramPacket> waiting = pending;
                pending = null;
                if (!f.isSuccess()) {
                    counters.add(UserNetCounter.DROP_UDP);
                    waiting.forEach(DatagramPacket::release);
                    if (flows.remove(key, this)) {
                        f.channel().close();
                    }
                    return;
                }
                for (DatagramPacket p : waiting) {
                    write(p);
                }
                f.channel().flush();
            });
        }

        void send(byte[] f, int off, int length, InetSocketAddress target) {
            lastActive = now();
            if (pending == null && !writable(bound.channel())) {
                return;
            }
            ByteBuf data = bound.channel().alloc().buffer(length).writeBytes(f, off, length);
            DatagramPacket p = new DatagramPacket(data, target);
            if (pending != null) {
                if (pending.size() >= MAX_PENDING_PER_FLOW) {
                    p.release();
                    counters.add(UserNetCounter.DROP_UDP);
                } else {
                    pending.add(p);
                }
                return;
            }
            write(p);
            bound.channel().flush();
        }

        private void write(DatagramPacket p) {
            bound.channel().write(p).addListener(w -> {
                if (!w.isSuccess()) {
                    counters.add(UserNetCounter.DROP_UDP);
                }
            });
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
            InetSocketAddress from = p.sender();
            int srcIp, srcPort;
            if (dns) {
                if (!from.equals(resolver)) {
                    counters.add(UserNetCounter.DROP_NOT_FOR_US);
                    return;
                }
                srcIp = VirtualNetwork.DNS;
                srcPort = VirtualNetwork.DNS_PORT;
            } else {
                srcIp = Packets.ip(from.getAddress());
                if (from.getAddress().isLoopbackAddress()) {
                    srcIp = VirtualNetwork.GATEWAY;
                } else if (srcIp == 0) {
                    counters.add(UserNetCounter.DROP_UNSUPPORTED);
                    return;
                }
                srcPort = from.getPort();
            }
            lastActive = now();
            udp.toGuest(srcIp, srcPort, guestIp, guestPort, p.content());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // An ICMP error for an earlier datagram (port unreachable): UDP just loses it.
            counters.add(UserNetCounter.DROP_UDP);
        }

        void close() {
            if (pending != null) {
                pending.forEach(DatagramPacket::release);
                pending = new ArrayList<>();
            }
            bound.channel().close();
        }
    }
}
