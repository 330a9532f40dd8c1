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
 * Besides QEMU's {@code restrict=on|off} there is {@code restrict=loopback} (issue 7: "only
 * loopback"), see {@link Restrict}.
 *
 * <p>Unlike QEMU, where {@code dns=} moves the guest-visible DNS address, here it names the
 * host resolver that queries to 10.0.2.3:53 are forwarded to; the guest always sees 10.0.2.3.
 *
 * @param hostForwards forwards set up when the backend starts (more can be added at run time)
 * @param restrict     which outbound TCP and UDP the guest may open (forwards work whatever it is)
 * @param dns          the upstream resolver, or {@code null} for the first {@code nameserver}
 *                     of the host's /etc/resolv.conf
 * @param limits       resource bounds and timeouts
 */
public record UserNetOptions(List<HostForward> hostForwards, Restrict restrict, InetSocketAddress dns, Limits limits) {
    /** The keys {@link #parse} knows. */
    public static final List<String> KEYS = List.of("hostfwd", "restrict", "dns");

    /** QEMU's defaults: no forwards, not restricted, the host's resolver, default limits. */
    public static final UserNetOptions DEFAULT = new UserNetOptions(List.of(), Restrict.OFF, null, Limits.DEFAULT);

    public UserNetOptions {
        hostForwards = List.copyOf(hostForwards);
        Objects.requireNonNull(restrict, "restrict");
        Objects.requireNonNull(limits, "limits");
    }

    /**
     * What the guest may reach through NAT. The gateway's own services (ARP, ICMP echo to
     * 10.0.2.2 and 10.0.2.3, DHCP, DNS forwarding from 10.0.2.3) and port forwards work under
     * every value; a refused destination is answered as a host that does not exist would be
     * (TCP: RST to the SYN; UDP: dropped), and counted as {@link UserNetCounter#DROP_RESTRICTED}.
     */
    public enum Restrict {
        /** {@code restrict=off}: any destination (10.0.2.2 meaning the host's 127.0.0.1). */
        OFF,
        /** {@code restrict=loopback}: only the host's loopback, through 10.0.2.2. */
        LOOPBACK,
        /** {@code restrict=on}: no outbound TCP or UDP at all, as in QEMU. */
        ON;

        /**
         * Whether the guest may open a NAT connection or flow to {@code dst}: an address outside
         * the guest network, or 10.0.2.2.
         */
        boolean allows(int dst) {
            return switch (this) {
                case OFF -> true;
                case LOOPBACK -> dst == VirtualNetwork.GATEWAY;
                case ON -> false;
            };
        }
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
     * @param tcpResetDrain      how long a connection the host reset may take to hand the guest the
     *                           bytes read before the reset; then the guest gets its RST anyway
     */
    public record Limits(int maxTcpConnections, int maxUdpFlows, int maxQueuedFrames, int maxPendingTransmit,
                         Duration udpIdleTimeout, Duration tcpConnectTimeout, Duration tcpTimeWait, int tcpMaxRetries,
                         Duration tcpResetDrain) {
        /** Default for {@link #tcpResetDrain}: a few seconds, well past a live guest's ACK delay. */
        public static final Duration DEFAULT_TCP_RESET_DRAIN = Duration.ofSeconds(5);

        public static final Limits DEFAULT = new Limits(1024, 512, 512, 4096, Duration.ofSeconds(60),
                Duration.ofSeconds(10), Duration.ofSeconds(2), 8, DEFAULT_TCP_RESET_DRAIN);

        /** As the canonical constructor, with the default {@link #tcpResetDrain}. */
        public Limits(int maxTcpConnections, int maxUdpFlows, int maxQueuedFrames, int maxPendingTransmit,
                      Duration udpIdleTimeout, Duration tcpConnectTimeout, Duration tcpTimeWait, int tcpMaxRetries) {
            this(maxTcpConnections, maxUdpFlows, maxQueuedFrames, maxPendingTransmit, udpIdleTimeout,
                    tcpConnectTimeout, tcpTimeWait, tcpMaxRetries, DEFAULT_TCP_RESET_DRAIN);
        }

        public Limits {
            positive("maxTcpConnections", maxTcpConnections);
            positive("maxUdpFlows", maxUdpFlows);
            positive("maxQueuedFrames", maxQueuedFrames);
            positive("maxPendingTransmit", maxPendingTransmit);
            positive("tcpMaxRetries", tcpMaxRetries);
            positive("udpIdleTimeout", udpIdleTimeout);
            positive("tcpConnectTimeout", tcpConnectTimeout);
            positive("tcpResetDrain", tcpResetDrain);
            Objects.requireNonNull(tcpTimeWait, "tcpTimeWait");
        }

        public Limits withTcpResetDrain(Duration d) {
            return new Limits(maxTcpConnections, maxUdpFlows, maxQueuedFrames, maxPendingTransmit, udpIdleTimeout,
                    tcpConnectTimeout, tcpTimeWait, tcpMaxRetries, d);
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

    public UserNetOptions withRestrict(Restrict r) {
        return new UserNetOptions(hostForwards, r, dns, limits);
    }

    /**
     * Parses {@code [user,]key=value,...} with keys {@code hostfwd} (repeatable, see
     * {@link HostForward#parse}), {@code restrict=on|off|loopback} and {@code dns=addr[:port]}.
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
        Restrict restrict = null;
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
                    restrict = restriction(key, value);
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
        return new UserNetOptions(forwards, restrict != null ? restrict : Restrict.OFF, dns, Limits.DEFAULT);
    }

    private static Restrict restriction(String key, String v) {
        return switch (v) {
            case "on", "yes", "true" -> Restrict.ON;
            case "off", "no", "false" -> Restrict.OFF;
            case "loopback" -> Restrict.LOOPBACK;
            default -> throw new IllegalArgumentException("net: " + key + "=" + v + " must be on, off or loopback");
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
