package dev.rivet.platform.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * TCP address translation: the table of guest-visible connections ({@link TcpConnection}).
 * A guest SYN to {@code addr:port} opens a host connection to the same place (10.0.2.2
 * meaning the host's 127.0.0.1); the guest's SYN-ACK waits for that connect, and a refusal
 * or timeout answers the SYN with RST. A connection accepted by a TCP port forward becomes
 * a connection from {@code 10.0.2.2:p} ({@code p} a free port from 49152) to the guest.
 * A SYN to a destination the {@link UserNetOptions.Restrict restriction} forbids is answered
 * with RST at once, without a host connect. Segments for no connection get a reset (RFC 9293
 * section 3.5.2). The table is bounded by
 * {@link UserNetOptions.Limits#maxTcpConnections}. Event-loop thread only.
 */
final class TcpNat {
    private final EventLoop loop;
    private final GuestLink link;
    private final Counters counters;
    private final UserNetOptions.Limits limits;
    private final UserNetOptions.Restrict restrict;
    private final IntSupplier guestAddress;
    private final Map<TcpKey, TcpConnection> connections = new HashMap<>();
    private final LinkedHashSet<TcpConnection> waitingForLink = new LinkedHashSet<>();
    private final TcpSegment segment = new TcpSegment();
    private final SplittableRandom isnSource;
    private final AliasPorts aliases = new AliasPorts();
    private boolean closed;

    TcpNat(EventLoop loop, GuestLink link, Counters counters, UserNetOptions.Limits limits, UserNetOptions.Restrict restrict,
           IntSupplier guestAddress, long seed) {
        this.loop = loop;
        this.link = link;
        this.counters = counters;
        this.limits = limits;
        this.restrict = restrict;
        this.guestAddress = guestAddress;
        this.isnSource = new SplittableRandom(seed);
        link.onDrained(this::linkDrained);
    }

    GuestLink link() {
        return link;
    }

    Counters counters() {
        return counters;
    }

    UserNetOptions.Limits limits() {
        return limits;
    }

    long nowNanos() {
        return loop.ticker().nanoTime();
    }

    int newIss() {
        return isnSource.nextInt();
    }

    ScheduledFuture<?> schedule(Runnable task, long nanos) {
        return loop.schedule(task, nanos, TimeUnit.NANOSECONDS);
    }

    int connectionCount() {
        return connections.size();
    }

    /** A TCP segment from the guest ({@code length} bytes of IP payload at {@code off}). */
    void receive(byte[] f, int off, int length, int src, int dst) {
        TcpSegment s = segment;
        if (!s.parse(f, off, length, src, dst)) {
            counters.add(UserNetCounter.DROP_MALFORMED);
            return;
        }
        if (Packets.transportChecksum(f, off, length, src, dst, Packets.PROTO_TCP) != 0) {
            counters.add(UserNetCounter.DROP_BAD_CHECKSUM);
            return;
        }
        if (!VirtualNetwork.inNetwork(src) || VirtualNetwork.isBroadcast(dst) || VirtualNetwork.isMulticast(dst)) {
            counters.add(UserNetCounter.DROP_NOT_FOR_US);
            return;
        }
        TcpKey key = new TcpKey(src, s.srcPort, dst, s.dstPort);
        TcpConnection c = connections.get(key);
        boolean newSyn = s.has(TcpSegment.SYN) && !s.has(TcpSegment.ACK) && !s.has(TcpSegment.RST);
        if (c != null && c.state() == TcpConnection.State.TIME_WAIT && newSyn) {
            c.finish(); // the guest reuses the port pair: a new connection
            c = null;
        }
        if (c != null) {
            c.receive(s);
        } else if (newSyn) {
            open(key, s);
        } else if (!s.has(TcpSegment.RST)) {
            counters.add(UserNetCounter.TCP_NO_CONNECTION);
            if (s.has(TcpSegment.ACK)) {
                sendReset(dst, s.dstPort, src, s.srcPort, s.ack, 0, TcpSegment.RST);
            } else {
                sendReset(dst, s.dstPort, src, s.srcPort, 0, s.seq + s.sequenceLength(), TcpSegment.RST | TcpSegment.ACK);
            }
        }
    }

    private void open(TcpKey key, TcpSegment s) {
        int dst = key.remoteIp();
        boolean refuse;
        if (VirtualNetwork.inNetwork(dst) && dst != VirtualNetwork.GATEWAY) {
            counters.add(UserNetCounter.DROP_NOT_FOR_US); // DNS is UDP only, there is nobody else on the subnet
            refuse = true;
        } else if (!restrict.allows(dst)) {
            counters.add(UserNetCounter.DROP_RESTRICTED);
            refuse = true;
        } else if (closed || connections.size() >= limits.maxTcpConnections()) {
            counters.add(UserNetCounter.DROP_TCP_CONNECTION_LIMIT);
            refuse = true;
        } else {
            refuse = false;
        }
        if (refuse) {
            sendReset(dst, key.remotePort(), key.guestIp(), key.guestPort(), 0, s.seq + 1, TcpSegment.RST | TcpSegment.ACK);
            return;
        }
        TcpConnection c = new TcpConnection(this, key, TcpConnection.State.CONNECTING);
        c.guestSyn(s);
        connections.put(key, c);
        int target = dst == VirtualNetwork.GATEWAY ? VirtualNetwork.HOST_LOOPBACK : dst;
        ChannelFuture f = new Bootstrap().group(loop).channel(NioSocketChannel.class)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        limits.tcpConnectTimeout().toMillis()))
                .handler(c)
                .connect(new InetSocketAddress(Packets.inet(target), key.remotePort()));
        c.connecting(f);
    }

    /** A host connection accepted by {@code spec}'s listener: opened towards the guest. */
    void acceptForwarded(Channel ch, HostForward spec) {
        if (closed || connections.size() >= limits.maxTcpConnections()) {
            counters.add(UserNetCounter.DROP_TCP_CONNECTION_LIMIT);
            ch.config().setOption(ChannelOption.SO_LINGER, 0);
            ch.close();
            return;
        }
        int guestIp = spec.guestAddress() != null ? Packets.ip(spec.guestAddress()) : guestAddress.getAsInt();
        int port = aliases.allocate(p -> connections.containsKey(
                new TcpKey(guestIp, spec.guestPort(), VirtualNetwork.GATEWAY, p)));
        if (port < 0) {
            counters.add(UserNetCounter.DROP_TCP_CONNECTION_LIMIT);
            ch.close();
            return;
        }
        TcpKey key = new TcpKey(guestIp, spec.guestPort(), VirtualNetwork.GATEWAY, port);
        TcpConnection c = new TcpConnection(this, key, TcpConnection.State.SYN_SENT);
        connections.put(key, c);
        ch.pipeline().addLast(c);
        c.openToGuest(ch);
    }

    /** A reset not belonging to a live connection (RFC 9293 section 3.5.2). */
    void sendReset(int src, int srcPort, int dst, int dstPort, int seq, int ack, int flags) {
        byte[] fr = link.frame();
        int t = link.ipv4(Packets.PROTO_TCP, src, dst, TcpSegment.HLEN);
        Packets.put16(fr, t + TcpSegment.SRC_PORT, srcPort);
        Packets.put16(fr, t + TcpSegment.DST_PORT, dstPort);
        Packets.put32(fr, t + TcpSegment.SEQ, seq);
        Packets.put32(fr, t + TcpSegment.ACK_NUMBER, ack);
        fr[t + TcpSegment.DATA_OFFSET] = (byte) (TcpSegment.HLEN / 4 << 4);
        fr[t + TcpSegment.FLAGS] = (byte) flags;
        Packets.put16(fr, t + TcpSegment.WINDOW, 0);
        Packets.put16(fr, t + TcpSegment.CHECKSUM, 0);
        Packets.put16(fr, t + TcpSegment.URGENT, 0);
        Packets.put16(fr, t + TcpSegment.CHECKSUM,
                Packets.transportChecksum(fr, t, TcpSegment.HLEN, src, dst, Packets.PROTO_TCP));
        link.send(t + TcpSegment.HLEN);
    }

    void waitForLink(TcpConnection c) {
        waitingForLink.add(c);
    }

    private void linkDrained() {
        if (waitingForLink.isEmpty()) {
            return;
        }
        List<TcpConnection> ready = new ArrayList<>(waitingForLink);
        waitingForLink.clear();
        for (TcpConnection c : ready) {
            c.linkDrained();
        }
    }

    void remove(TcpConnection c) {
        connections.remove(c.key(), c);
        waitingForLink.remove(c);
    }

    /** Resets every connection's host side and forgets them all. */
    void close() {
        closed = true;
        for (TcpConnection c : new ArrayList<>(connections.values())) {
            c.abort(false);
        }
        connections.clear();
        waitingForLink.clear();
    }
}
