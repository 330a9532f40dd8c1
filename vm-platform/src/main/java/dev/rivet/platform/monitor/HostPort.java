package dev.rivet.platform.monitor;

import dev.rivet.platform.net.HostForward;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * The host end of a port forward as {@code hostfwd_remove} names it,
 * {@code [tcp|udp]:[hostaddr]:hostport}: the host side of {@link HostForward}'s syntax, with
 * the same rules (an empty protocol is TCP, addresses are dotted IPv4). An empty address
 * matches a forward on any address, as long as only one has that port.
 *
 * @param protocol TCP or UDP
 * @param address  the host address, or {@code null} for "whichever"
 * @param port     the bound host port, 1 to 65535
 */
record HostPort(HostForward.Protocol protocol, Inet4Address address, int port) {
    private static final String SYNTAX = "expected [tcp|udp]:[hostaddr]:hostport";
    private static final int MAX_PORT = 65535;

    HostPort {
        Objects.requireNonNull(protocol, "protocol");
        if (port < 1 || port > MAX_PORT) {
            throw new IllegalArgumentException("host port " + port + " is out of range 1-65535");
        }
    }

    /** @throws IllegalArgumentException with a one-line message naming what is wrong */
    static HostPort parse(String text) {
        String[] p = text.split(":", -1);
        if (p.length != 3) {
            throw new IllegalArgumentException(SYNTAX + ", not '" + text + "'");
        }
        HostForward.Protocol protocol = switch (p[0]) {
            case "", "tcp" -> HostForward.Protocol.TCP;
            case "udp" -> HostForward.Protocol.UDP;
            default -> throw new IllegalArgumentException("protocol '" + p[0] + "' is not tcp or udp");
        };
        Inet4Address address = p[1].isEmpty() ? null : dottedIpv4(p[1]);
        if (p[2].isEmpty() || p[2].length() > 5 || !p[2].chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("host port '" + p[2] + "' is not a number");
        }
        return new HostPort(protocol, address, Integer.parseInt(p[2]));
    }

    /** Four decimal numbers 0-255 separated by dots; never a name lookup. */
    private static Inet4Address dottedIpv4(String s) {
        String[] parts = s.split("\\.", -1);
        byte[] b = new byte[4];
        boolean ok = parts.length == 4;
        for (int i = 0; ok && i < 4; i++) {
            String d = parts[i];
            ok = !d.isEmpty() && d.length() <= 3 && d.chars().allMatch(c -> c >= '0' && c <= '9')
                    && Integer.parseInt(d) <= 255;
            if (ok) {
                b[i] = (byte) Integer.parseInt(d);
            }
        }
        if (!ok) {
            throw new IllegalArgumentException("host address '" + s + "' is not a dotted IPv4 address");
        }
        try {
            return (Inet4Address) InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // four bytes are always an address
        }
    }

    /** Whether a forward of {@code protocol} listening on {@code host}:{@code hostPort} is the one named. */
    boolean matches(HostForward.Protocol protocol, InetAddress host, int hostPort) {
        return this.protocol == protocol && port == hostPort && (address == null || address.equals(host));
    }

    @Override
    public String toString() {
        return protocol.spelling() + ":" + (address == null ? "" : address.getHostAddress()) + ":" + port;
    }
}
