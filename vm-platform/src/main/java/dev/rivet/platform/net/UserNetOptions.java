package dev.rivet.platform.net;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How a {@link UserNet} is set up: port forwards, the {@code restrict} switch, the upstream
 * DNS resolver and the resource limits. {@link #parse} reads QEMU-style option strings, e.g.
 * {@code user,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=udp::5353-:53,restrict=on,dns=127.0.0.1:5300}.
 *
 * <p>Unlike QEMU, where {@code dns=} moves the guest-visible DNS address, here it names the
 * host resolver that queries to 10.0.2.3:53 are forwarded to; the guest always sees 10.0.2.3.
 *
 * @param hostForwards forwards set up when the backend starts (more can be added at run time)
 * @param restrict     the guest reaches only the virtual gateway and DNS services (ARP, ICMP
 *                     echo, DHCP, DNS forwarding): no outbound TCP or UDP; forwards still work
 * @param dns          the upstream resolver, or {@code null} for the first {@code nameserver}
 *                     of the host's /etc/resolv.conf
 * @param limits       resource bounds and timeouts
 */
public record UserNetOptions(List<HostForward> hostForwards, boolean restrict, InetSocketAddress dns, Limits limits) {
    /** The keys {@link #parse} knows. */
    public static final List<String> KEYS = List.of("hostfwd", "restrict", "dns");

    /** QEMU's defaults: no forwards, not restricted, the host's resolver, default limits. */
    public static final UserNetOptions DEFAULT = new UserNetOptions(List.of(), false, null, Limits.DEFAULT);

    public UserNetOptions {
        hostForwards = List.copyOf(hostForwards);
        Objects.requireNonNull(limits, "limits");
    }

    /**
     * Resource bounds: a guest that floods connections or flows hits these and gets resets
     * or drops (counted in {@link UserNetCounter}), never unbounded host memory or sockets.
     *
     * @param maxTcpConnections  guest-visible TCP connections at once (NAT and forwarded)
     * @param maxUdpFlows        UDP flows (host sockets) at once
     * @param maxQueuedFrames    frames kept for the guest while it has no receive buffers
     * @param maxPendingTransmit guest frames handed to the event loop and not yet processed
     * @param udpIdleTimeout     a UDP flow with no traffic this long is closed
     * @param tcpConnectTimeout  how long a host connect may take before the guest gets a reset
     * @param tcpTimeWait        how long a closed connection lingers to re-acknowledge a late FIN
     * @param tcpMaxRetries      retransmissions of one segment before the connection is reset
     */
    public record Limits(int maxTcpConnections, int maxUdpFlows, int maxQueuedFrames, int maxPendingTransmit,
                         Duration udpIdleTimeout, Duration tcpConnectTimeout, Duration tcpTimeWait, int tcpMaxRetries) {
        public static final Limits DEFAULT = new Limits(1024, 512, 512, 4096, Duration.ofSeconds(60),
                Duration.ofSeconds(10), Duration.ofSeconds(2), 8);

        public Limits {
            positive("maxTcpConnections", maxTcpConnections);
            positive("maxUdpFlows", maxUdpFlows);
            positive("maxQueuedFrames", maxQueuedFrames);
            positive("maxPendingTransmit", maxPendingTransmit);
            positive("tcpMaxRetries", tcpMaxRetries);
            positive("udpIdleTimeout", udpIdleTimeout);
            positive("tcpConnectTimeout", tcpConnectTimeout);
            Objects.requireNonNull(tcpTimeWait, "tcpTimeWait");
        }

        private static void positive(String what, int v) {
            if (v <= 0) {
                throw new IllegalArgumentException(what + " must be positive: " + v);
            }
        }

        private static void positive(String what, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive: " + d);
            }
        }
    }

    public UserNetOptions withLimits(Limits l) {
        return new UserNetOptions(hostForwards, restrict, dns, l);
    }

    public UserNetOptions withDns(InetSocketAddress resolver) {
        return new UserNetOptions(hostForwards, restrict, resolver, limits);
    }

    /**
     * Parses {@code [user,]key=value,...} with keys {@code hostfwd} (repeatable, see
     * {@link HostForward#parse}), {@code restrict=on|off} and {@code dns=addr[:port]}.
     *
     * @throws IllegalArgumentException with a one-line message naming the bad part
     */
    public static UserNetOptions parse(String text) {
        Objects.requireNonNull(text, "text");
        String[] parts = text.split(",", -1);
        int from = 0;
        if (!parts[0].contains("=")) {
            if (!parts[0].equals("user")) {
                throw new IllegalArgumentException("net '" + parts[0] + "': only 'user' networking is supported");
            }
            from = 1;
        }
        List<HostForward> forwards = new ArrayList<>();
        Boolean restrict = null;
        InetSocketAddress dns = null;
        for (int i = from; i < parts.length; i++) {
            String part = parts[i];
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("net: '" + part + "' is not key=value");
            }
            String key = part.substring(0, eq), value = part.substring(eq + 1);
            switch (key) {
                case "hostfwd" -> forwards.add(HostForward.parse(value));
                case "restrict" -> {
                    if (restrict != null) {
                        throw new IllegalArgumentException("net: 'restrict' given twice");
                    }
                    restrict = onOff(key, value);
                }
                case "dns" -> {
                    if (dns != null) {
                        throw new IllegalArgumentException("net: 'dns' given twice");
                    }
                    dns = resolver(value);
                }
                default -> throw new IllegalArgumentException("net: unknown key '" + key + "' (known: "
                        + String.join(", ", KEYS) + ")");
            }
        }
        return new UserNetOptions(forwards, restrict != null && restrict, dns, Limits.DEFAULT);
    }

    private static boolean onOff(String key, String v) {
        return switch (v) {
            case "on", "yes", "true" -> true;
            case "off", "no", "false" -> false;
            default -> throw new IllegalArgumentException("net: " + key + "=" + v + " must be on or off");
        };
    }

    /** {@code a.b.c.d[:port]}, port 53 by default. */
    static InetSocketAddress resolver(String v) {
        int colon = v.indexOf(':');
        String addr = colon < 0 ? v : v.substring(0, colon);
        int port = VirtualNetwork.DNS_PORT;
        if (colon >= 0) {
            String p = v.substring(colon + 1);
            if (p.isEmpty() || p.length() > 5 || !p.chars().allMatch(c -> c >= '0' && c <= '9')
                    || Integer.parseInt(p) < 1 || Integer.parseInt(p) > 65535) {
                throw new IllegalArgumentException("net: dns=" + v + ": port '" + p + "' is not 1-65535");
            }
            port = Integer.parseInt(p);
        }
        long ip = Packets.parseIpv4(addr);
        if (ip < 0) {
            throw new IllegalArgumentException("net: dns=" + v + ": '" + addr + "' is not a dotted IPv4 address");
        }
        return new InetSocketAddress(Packets.inet((int) ip), port);
    }
}
