package dev.rivet.platform.net;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.Objects;

/**
 * One host-to-guest port forward, QEMU's {@code hostfwd=[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport}:
 * connections (or datagrams) arriving at {@code hostAddress:hostPort} on the host are
 * carried into the guest at {@code guestAddress:guestPort}.
 *
 * @param protocol     TCP or UDP
 * @param hostAddress  the host address to listen on; as in QEMU, an empty one means every
 *                     address (0.0.0.0)
 * @param hostPort     the host port; 0 picks a free one (the handle tells which)
 * @param guestAddress the guest's address, or {@code null} for the address DHCP gave it
 *                     (10.0.2.15 before any lease)
 * @param guestPort    the guest port, 1 to 65535
 */
public record HostForward(Protocol protocol, InetAddress hostAddress, int hostPort, Inet4Address guestAddress,
                          int guestPort) {
    /** The transport protocol a forward carries. */
    public enum Protocol {
        TCP, UDP;

        /** The lower-case spelling of the option string. */
        public String spelling() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public HostForward {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(hostAddress, "hostAddress");
        if (hostPort < 0 || hostPort > 65535) {
            throw new IllegalArgumentException("host port " + hostPort + " is out of range 0-65535");
        }
        if (guestPort < 1 || guestPort > 65535) {
            throw new IllegalArgumentException("guest port " + guestPort + " is out of range 1-65535");
        }
        if (guestAddress != null && !VirtualNetwork.inNetwork(Packets.ip(guestAddress))) {
            throw new IllegalArgumentException("guest address " + guestAddress.getHostAddress()
                    + " is not in the guest network 10.0.2.0/24");
        }
    }

    /** The host socket address to listen on. */
    public InetSocketAddress hostSocketAddress() {
        return new InetSocketAddress(hostAddress, hostPort);
    }

    /**
     * Parses {@code [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport}, for example
     * {@code tcp:127.0.0.1:2222-:22} or {@code udp::5353-10.0.2.15:53}. Addresses are numeric.
     *
     * @throws IllegalArgumentException with a one-line message naming what is wrong
     */
    public static HostForward parse(String spec) {
        Objects.requireNonNull(spec, "spec");
        int dash = spec.indexOf('-');
        if (dash < 0 || spec.indexOf('-', dash + 1) >= 0) {
            throw bad(spec, "expected [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport");
        }
        String[] host = spec.substring(0, dash).split(":", -1);
        String[] guest = spec.substring(dash + 1).split(":", -1);
        if (host.length != 3 || guest.length != 2) {
            throw bad(spec, "expected [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport");
        }
        Protocol protocol = switch (host[0]) {
            case "", "tcp" -> Protocol.TCP;
            case "udp" -> Protocol.UDP;
            default -> throw bad(spec, "protocol '" + host[0] + "' is not tcp or udp");
        };
        InetAddress hostAddress = host[1].isEmpty() ? anyAddress() : numericIpv4(spec, "host address", host[1]);
        int hostPort = port(spec, "host port", host[2], 0);
        Inet4Address guestAddress = guest[0].isEmpty() ? null : numericIpv4(spec, "guest address", guest[0]);
        int guestPort = port(spec, "guest port", guest[1], 1);
        try {
            return new HostForward(protocol, hostAddress, hostPort, guestAddress, guestPort);
        } catch (IllegalArgumentException e) {
            throw bad(spec, e.getMessage());
        }
    }

    /** The option string {@link #parse} reads back to this forward. */
    public String spec() {
        String guest = guestAddress == null ? "" : guestAddress.getHostAddress();
        return protocol.spelling() + ":" + hostAddress.getHostAddress() + ":" + hostPort + "-" + guest + ":" + guestPort;
    }

    private static InetAddress anyAddress() {
        return Packets.inet(0);
    }

    private static Inet4Address numericIpv4(String spec, String what, String text) {
        long ip = Packets.parseIpv4(text);
        if (ip < 0) {
            throw bad(spec, what + " '" + text + "' is not a dotted IPv4 address");
        }
        return (Inet4Address) Packets.inet((int) ip);
    }

    private static int port(String spec, String what, String text, int min) {
        if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw bad(spec, what + " '" + text + "' is not a number");
        }
        int p = Integer.parseInt(text);
        if (p < min || p > 65535) {
            throw bad(spec, what + " " + p + " is out of range " + min + "-65535");
        }
        return p;
    }

    private static IllegalArgumentException bad(String spec, String why) {
        return new IllegalArgumentException("hostfwd=" + spec + ": " + why);
    }
}
