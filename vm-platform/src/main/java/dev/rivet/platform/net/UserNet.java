package dev.rivet.platform.net;

import dev.rivet.devices.net.NetBackend;
import dev.rivet.devices.net.NetPort;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * User-mode networking, like QEMU's {@code -netdev user} (slirp): the guest sits on a
 * private 10.0.2.0/24 network behind a virtual gateway that answers ARP and ping, hands out
 * addresses by DHCP, forwards DNS to the host's resolver, and translates the guest's UDP and
 * TCP traffic onto ordinary host sockets; port forwards carry host connections in. Needs no
 * privileges and no host configuration. See {@link VirtualNetwork} for the addresses.
 *
 * <p>Threads: one Netty NIO event loop owns every piece of state (the link queue, DHCP
 * leases, NAT tables, connections, timers). {@link #transmit} copies the guest's frame and
 * queues it to the loop (dropping, and counting, past {@link UserNetOptions.Limits#maxPendingTransmit}),
 * so the card's thread never waits on the host network. Frames reach the guest through
 * {@link NetPort#deliver} from the loop thread.
 *
 * <p>Layers, each in its own class: Ethernet and IPv4 checks here ({@link Packets}), then
 * {@link Arp}, {@link Icmp}, {@link DhcpServer}, {@link Udp} / {@link UdpNat} /
 * {@link UdpForwarder}, and {@link TcpNat} / {@link TcpConnection} / {@link TcpForwarder}.
 * IPv4 fragments and header options from the guest are dropped and counted; IPv6 is not
 * carried.
 */
public final class UserNet implements NetBackend {
    private static final String THREAD_NAME = "rivet-usernet";
    private static final long CLOSE_WAIT_SECONDS = 5;

    private final UserNetOptions options;
    private final InetSocketAddress resolver;
    private final long seed;
    private final EventLoopGroup group;
    private final EventLoop loop;
    private final ChannelFactory<? extends DatagramChannel> datagramChannels;
    private final Counters counters = new Counters();
    private final AtomicInteger pendingTransmit = new AtomicInteger();
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final List<Forwarder> forwarders = new ArrayList<>();

    private GuestLink link;
    private Arp arp;
    private Icmp icmp;
    private DhcpServer dhcp;
    private Udp udp;
    private UdpNat udpNat;
    private TcpNat tcp;

    /** A backend with {@code options}; its upstream resolver is read from /etc/resolv.conf if the options name none. */
    public UserNet(UserNetOptions options) {
        this(options, new SecureRandom().nextLong());
    }

    /** As {@link #UserNet(UserNetOptions)}, with TCP initial sequence numbers drawn from {@code seed} (tests). */
    public UserNet(UserNetOptions options, long seed) {
        this(options, seed, NioDatagramChannel::new);
    }

    /**
     * As {@link #UserNet(UserNetOptions, long)}, making host UDP sockets with {@code datagramChannels}
     * (NIO datagram channels; tests wrap them to play a host network that cannot keep up).
     */
    UserNet(UserNetOptions options, long seed, ChannelFactory<? extends DatagramChannel> datagramChannels) {
        this.datagramChannels = Objects.requireNonNull(datagramChannels, "datagramChannels");
        this.options = Objects.requireNonNull(options, "options");
        this.resolver = options.dns() != null ? options.dns() : ResolvConf.firstNameserver(ResolvConf.DEFAULT);
        this.seed = seed;
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(THREAD_NAME, true),
                NioIoHandler.newFactory());
        this.loop = group.next();
    }

    public UserNetOptions options() {
        return options;
    }

    /** The resolver DNS queries are forwarded to, or {@code null} if none was found. */
    public InetSocketAddress resolver() {
        return resolver;
    }

    /**
     * Connects the guest's card and opens the forwards of the options.
     *
     * @throws IllegalStateException when called twice, or when a forward cannot listen
     *         (the backend is closed then)
     */
    @Override
    public void start(NetPort guest) {
        Objects.requireNonNull(guest, "guest");
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("user network already started");
        }
        onLoop(() -> {
            link = new GuestLink(guest, counters, options.limits().maxQueuedFrames());
            arp = new Arp(link, counters);
            icmp = new Icmp(link, counters);
            dhcp = new DhcpServer(link, counters);
            udp = new Udp(link, counters, dhcp, options.restrict());
            udpNat = new UdpNat(loop, counters, options.limits(), resolver, udp, link, datagramChannels);
            udp.route(udpNat);
            tcp = new TcpNat(loop, link, counters, options.limits(), options.restrict(), dhcp::guestAddress, seed);
            return null;
        });
        try {
            for (HostForward f : options.hostForwards()) {
                addHostForward(f);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public void transmit(ByteBuffer frame) {
        int n = frame.remaining();
        if (closed.get() || !started.get()) {
            counters.add(UserNetCounter.DROP_TRANSMIT_BACKLOG);
            return;
        }
        if (n > MAX_FRAME) {
            counters.add(UserNetCounter.DROP_MALFORMED);
            return;
        }
        if (pendingTransmit.incrementAndGet() > options.limits().maxPendingTransmit()) {
            pendingTransmit.decrementAndGet();
            counters.add(UserNetCounter.DROP_TRANSMIT_BACKLOG);
            return;
        }
        byte[] copy = new byte[n];
        frame.get(frame.position(), copy);
        try {
            loop.execute(() -> {
                pendingTransmit.decrementAndGet();
                if (!closed.get()) {
                    receive(copy);
                }
            });
        } catch (RejectedExecutionException e) {
            pendingTransmit.decrementAndGet();
            counters.add(UserNetCounter.DROP_TRANSMIT_BACKLOG);
        }
    }

    @Override
    public void guestReady() {
        if (closed.get() || !started.get()) {
            return;
        }
        try {
            loop.execute(() -> {
                if (!closed.get()) {
                    link.guestReady();
                }
            });
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    /** Stops all traffic: resets host connections, closes every socket and the event loop. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (started.get()) {
            try {
                onLoop(() -> {
                    for (Forwarder f : forwarders) {
                        f.close();
                    }
                    forwarders.clear();
                    tcp.close();
                    udpNat.close();
                    link.clear();
                    return null;
                });
            } catch (RuntimeException e) {
                // the loop is already gone: shutting it down below releases what is left
            }
        }
        group.shutdownGracefully(0, CLOSE_WAIT_SECONDS, TimeUnit.SECONDS).awaitUninterruptibly(CLOSE_WAIT_SECONDS,
                TimeUnit.SECONDS);
    }

    /**
     * Starts a port forward at run time.
     *
     * @return a handle that tells the bound address and stops the forward
     * @throws IllegalStateException when the host socket cannot be bound (one line, naming the forward)
     */
    public ForwardHandle addHostForward(HostForward spec) {
        Objects.requireNonNull(spec, "spec");
        requireRunning();
        Forwarder fw = onLoop(() -> spec.protocol() == HostForward.Protocol.TCP
                ? new TcpForwarder(spec, loop, tcp)
                : new UdpForwarder(spec, udpNat, dhcp::guestAddress));
        ChannelFuture bound = onLoop(fw::bind);
        bound.awaitUninterruptibly();
        if (!bound.isSuccess()) {
            onLoop(() -> {
                fw.close();
                return null;
            });
            throw new IllegalStateException("hostfwd=" + spec.spec() + ": cannot listen on "
                    + spec.hostSocketAddress() + ": " + bound.cause().getMessage());
        }
        InetSocketAddress local = onLoop(() -> {
            forwarders.add(fw);
            return fw.localAddress();
        });
        return new ForwardHandle(this, fw, local);
    }

    /**
     * Stops the forward started for {@code spec} (the first, if given twice); false when there
     * is none. Connections it made run on. Java NIO releases the listening socket at the event
     * loop's next turn, so a connect racing this call may still be accepted (and then forwarded).
     */
    public boolean removeHostForward(HostForward spec) {
        if (closed.get() || !started.get()) {
            return false;
        }
        return onLoop(() -> {
            for (Forwarder f : forwarders) {
                if (f.spec().equals(spec)) {
                    forwarders.remove(f);
                    f.close();
                    return true;
                }
            }
            return false;
        });
    }

    /**
     * Handles of every forward running now, those of the command line (options) first, in
     * the order they started, each with the address it listens on.
     */
    public List<ForwardHandle> forwards() {
        if (closed.get() || !started.get()) {
            return List.of();
        }
        return onLoop(() -> forwarders.stream().map(f -> new ForwardHandle(this, f, f.localAddress())).toList());
    }

    /** The forwards running now. */
    public List<HostForward> hostForwards() {
        if (closed.get() || !started.get()) {
            return List.of();
        }
        return onLoop(() -> forwarders.stream().map(Forwarder::spec).toList());
    }

    /** A running port forward; {@link #close} stops it as {@link #removeHostForward} does. */
    public static final class ForwardHandle implements AutoCloseable {
        private final UserNet net;
        private final Forwarder forwarder;
        private final InetSocketAddress localAddress;

        private ForwardHandle(UserNet net, Forwarder forwarder, InetSocketAddress localAddress) {
            this.net = net;
            this.forwarder = forwarder;
            this.localAddress = localAddress;
        }

        public HostForward spec() {
            return forwarder.spec();
        }

        /** The bound host address, with the real port when the spec asked for port 0. */
        public InetSocketAddress localAddress() {
            return localAddress;
        }

        @Override
        public void close() {
            if (net.closed.get()) {
                return;
            }
            net.onLoop(() -> {
                if (net.forwarders.remove(forwarder)) {
                    forwarder.close();
                }
                return null;
            });
        }
    }

    /** How often {@code c} happened since the backend was made. */
    public long counter(UserNetCounter c) {
        return counters.get(c);
    }

    /** Guest-visible TCP connections alive now (including those lingering in TIME_WAIT). */
    public int tcpConnections() {
        return gauge(() -> tcp.connectionCount());
    }

    /** UDP flows and forward sessions alive now. */
    public int udpFlows() {
        return gauge(() -> udpNat.flowCount());
    }

    /** Frames waiting for the guest to post receive buffers. */
    public int queuedFrames() {
        return gauge(() -> link.queued());
    }

    /** The guest's address: the one DHCP last acknowledged, else 10.0.2.15. */
    public Inet4Address guestAddress() {
        int ip = started.get() && !closed.get() ? gauge(() -> dhcp.guestAddress()) : VirtualNetwork.DHCP_START;
        return (Inet4Address) Packets.inet(ip);
    }

    private int gauge(Callable<Integer> read) {
        if (closed.get() || !started.get()) {
            return 0;
        }
        try {
            return onLoop(read);
        } catch (RuntimeException e) {
            return 0;
        }
    }

    private void requireRunning() {
        if (!started.get()) {
            throw new IllegalStateException("user network not started");
        }
        if (closed.get()) {
            throw new IllegalStateException("user network closed");
        }
    }

    /** Runs {@code task} on the event loop and waits for it (directly when already on the loop). */
    private <T> T onLoop(Callable<T> task) {
        try {
            if (loop.inEventLoop()) {
                return task.call();
            }
            return loop.submit(task).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- Ethernet and IPv4 (event loop) -----------------------------------------------

    private void receive(byte[] f) {
        counters.add(UserNetCounter.FRAMES_FROM_GUEST);
        int n = f.length;
        if (n < Packets.ETH_HLEN) {
            counters.add(UserNetCounter.DROP_MALFORMED);
            return;
        }
        if (!Packets.isBroadcastMac(f, Packets.ETH_DST) && !Packets.macEquals(f, Packets.ETH_DST, VirtualNetwork.GATEWAY_MAC)) {
            counters.add(UserNetCounter.DROP_NOT_FOR_US);
            return;
        }
        link.learn(f);
        switch (Packets.u16(f, Packets.ETH_TYPE)) {
            case Packets.ETHERTYPE_ARP -> arp.receive(f, Packets.ETH_HLEN, n);
            case Packets.ETHERTYPE_IPV4 -> ipv4(f, Packets.ETH_HLEN, n);
            default -> counters.add(UserNetCounter.DROP_UNSUPPORTED);
        }
    }

    /** RFC 791 section 3.1 header checks, then the protocol. */
    private void ipv4(byte[] f, int off, int n) {
        if (n - off < Packets.IP_HLEN || (f[off] & 0xf0) != 0x40) {
            counters.add(UserNetCounter.DROP_MALFORMED);
            return;
        }
        int hlen = (f[off] & 0x0f) * 4;
        int total = Packets.u16(f, off + Packets.IP_TOTAL_LENGTH);
        if (hlen < Packets.IP_HLEN || total < hlen || off + total > n) {
            counters.add(UserNetCounter.DROP_MALFORMED);
            return;
        }
        if (Packets.checksum(f, off, hlen) != 0) {
            counters.add(UserNetCounter.DROP_BAD_CHECKSUM);
            return;
        }
        if (hlen != Packets.IP_HLEN) {
            counters.add(UserNetCounter.DROP_IP_OPTIONS);
            return;
        }
        if ((Packets.u16(f, off + Packets.IP_FRAGMENT) & (Packets.IP_MF | Packets.IP_OFFSET_MASK)) != 0) {
            counters.add(UserNetCounter.DROP_IP_FRAGMENT);
            return;
        }
        int src = Packets.i32(f, off + Packets.IP_SRC);
        int dst = Packets.i32(f, off + Packets.IP_DST);
        int payload = off + hlen;
        int length = total - hlen;
        switch (Packets.u8(f, off + Packets.IP_PROTOCOL)) {
            case Packets.PROTO_ICMP -> icmp.receive(f, payload, length, src, dst);
            case Packets.PROTO_UDP -> udp.receive(f, payload, length, src, dst);
            case Packets.PROTO_TCP -> tcp.receive(f, payload, length, src, dst);
            default -> counters.add(UserNetCounter.DROP_UNSUPPORTED);
        }
    }
}
