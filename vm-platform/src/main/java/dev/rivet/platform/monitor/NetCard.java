package dev.rivet.platform.monitor;

import dev.rivet.platform.net.HostForward;
import dev.rivet.platform.net.UserNet;
import dev.rivet.platform.net.UserNetCounter;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One virtio-net card on user-mode networking as the monitor shows and changes it: its
 * place ({@code netN}), MAC and transport, and its host port forwards.
 *
 * <p>Forwards are listed and removed through {@link UserNet#forwards}, which knows the
 * bound address of every forward, those from the command line included; adding, removing
 * and listing hold the card's lock, so clients working at once see consistent lists.
 *
 * <p>Threads: every {@link UserNet} method used here hands its work to the network's event
 * loop and waits for it, or reads atomic counters, so it is safe from monitor threads.
 */
public final class NetCard {
    private final int index;
    private final String mac;
    private final String transport;
    private final UserNet net;

    /** A forward and the host address it listens on. */
    public record Forward(HostForward spec, InetSocketAddress bound, UserNet.ForwardHandle handle) {
    }

    /**
     * @param index     the card's place among the machine's network cards (net0 first)
     * @param mac       its MAC address, as {@code 52:54:00:12:34:56}
     * @param transport {@code mmio} or {@code pci}
     * @param net       its user-mode network
     */
    public NetCard(int index, String mac, String transport, UserNet net) {
        if (index < 0) {
            throw new IllegalArgumentException("card index " + index);
        }
        this.index = index;
        this.mac = Objects.requireNonNull(mac, "mac");
        this.transport = Objects.requireNonNull(transport, "transport");
        this.net = Objects.requireNonNull(net, "net");
    }

    public int index() {
        return index;
    }

    /** The name commands use for the card: {@code net0}, {@code net1}... */
    public String name() {
        return "net" + index;
    }

    /** The one-line summary {@code info network} prints first for the card. */
    String summary() {
        return name() + " mac=" + mac + " transport=" + transport + " guest=" + net.guestAddress().getHostAddress()
                + " tcp-connections=" + net.tcpConnections() + " udp-flows=" + net.udpFlows()
                + " tcp-opened=" + net.counter(UserNetCounter.TCP_CONNECTIONS_OPENED)
                + " frames-from-guest=" + net.counter(UserNetCounter.FRAMES_FROM_GUEST)
                + " frames-to-guest=" + net.counter(UserNetCounter.FRAMES_TO_GUEST);
    }

    /**
     * Starts a forward; returns the address it listens on.
     *
     * @throws IllegalStateException when the host port cannot be bound or the network is closed
     */
    synchronized InetSocketAddress add(HostForward spec) {
        return net.addHostForward(spec).localAddress();
    }

    /**
     * Stops the one forward listening on {@code where}; returns it.
     *
     * @throws IllegalArgumentException when none or several match
     */
    synchronized Forward remove(HostPort where) {
        List<Forward> hits = new ArrayList<>();
        for (Forward f : forwards()) {
            InetSocketAddress a = f.bound();
            if (where.matches(f.spec().protocol(), a.getAddress(), a.getPort())) {
                hits.add(f);
            }
        }
        if (hits.isEmpty()) {
            throw new IllegalArgumentException(name() + " has no forward listening on " + where);
        }
        if (hits.size() > 1) {
            throw new IllegalArgumentException(name() + " has " + hits.size() + " forwards on port " + where.port()
                    + "; name the host address");
        }
        Forward f = hits.getFirst();
        f.handle().close();
        return f;
    }

    /** The forwards running now, in the order they were started, with their bound addresses. */
    synchronized List<Forward> forwards() {
        List<Forward> list = new ArrayList<>();
        for (UserNet.ForwardHandle h : net.forwards()) {
            list.add(new Forward(h.spec(), h.localAddress(), h));
        }
        return list;
    }
}
