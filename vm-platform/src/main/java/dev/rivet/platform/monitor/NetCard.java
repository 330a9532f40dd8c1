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
 * <p>{@link UserNet} tells the bound address of a forward only through the handle
 * {@link UserNet#addHostForward} returns, so the card keeps the handles of the forwards
 * added here; a forward from the command line is shown with the address it asked for
 * (its port is unknown if it asked for 0). Forwards added here come after those, so the
 * handles pair with the last forwards of their spec ({@link #forwards}). Adding, removing
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
    /** The forwards added through the monitor, oldest first. Guarded by this. */
    private final List<UserNet.ForwardHandle> added = new ArrayList<>();

    /** A forward and the host address it listens on ({@code null}: not known). */
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
        UserNet.ForwardHandle h = net.addHostForward(spec);
        added.add(h);
        return h.localAddress();
    }

    /**
     * Stops the one forward listening on {@code where}; returns it.
     *
     * @throws IllegalArgumentException when none or several match
     */
    synchronized Forward remove(HostPort where) {
        List<Forward> hits = new ArrayList<>();
        for (Forward f : forwards()) {
            InetSocketAddress a = f.bound() != null ? f.bound() : f.spec().hostSocketAddress();
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
        if (f.handle() != null) {
            f.handle().close();
            added.remove(f.handle());
        } else {
            // One from the command line: they were started first, so removing the first
            // forward of this spec removes it, not a later one added here with the same spec.
            net.removeHostForward(f.spec());
        }
        return f;
    }

    /**
     * The forwards running now, in the order they were started, with their bound addresses.
     * Handles of forwards that are gone (stopped by someone else) are forgotten.
     */
    synchronized List<Forward> forwards() {
        List<HostForward> specs = net.hostForwards();
        Forward[] out = new Forward[specs.size()];
        for (int h = added.size() - 1; h >= 0; h--) {
            UserNet.ForwardHandle handle = added.get(h);
            int i = specs.size() - 1;
            while (i >= 0 && (out[i] != null || !specs.get(i).equals(handle.spec()))) {
                i--;
            }
            if (i < 0) {
                added.remove(h);
            } else {
                out[i] = new Forward(specs.get(i), handle.localAddress(), handle);
            }
        }
        List<Forward> list = new ArrayList<>(specs.size());
        for (int i = 0; i < out.length; i++) {
            HostForward s = specs.get(i);
            list.add(out[i] != null ? out[i] : new Forward(s, s.hostPort() == 0 ? null : s.hostSocketAddress(), null));
        }
        return list;
    }
}
