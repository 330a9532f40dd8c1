package dev.rivet.platform.net;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The host's resolver from resolv.conf(5): the first {@code nameserver} line with a numeric
 * address, port 53. That is where queries to 10.0.2.3 go unless the options name another.
 */
final class ResolvConf {
    static final Path DEFAULT = Path.of("/etc/resolv.conf");

    private ResolvConf() {
    }

    /** The first nameserver in {@code file}, or {@code null} when there is none or the file cannot be read. */
    static InetSocketAddress firstNameserver(Path file) {
        try {
            for (String line : Files.readAllLines(file)) {
                String[] words = line.strip().split("\\s+");
                if (words.length >= 2 && words[0].equals("nameserver")) {
                    InetAddress a = numeric(words[1]);
                    if (a != null) {
                        return new InetSocketAddress(a, VirtualNetwork.DNS_PORT);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }

    /** A numeric IPv4 or IPv6 literal (never a name lookup), else null. */
    private static InetAddress numeric(String text) {
        long v4 = Packets.parseIpv4(text);
        if (v4 >= 0) {
            return Packets.inet((int) v4);
        }
        if (text.indexOf(':') >= 0 && text.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.')) {
            try {
                return InetAddress.getByName(text); // a literal: no lookup happens
            } catch (UnknownHostException e) {
                return null;
            }
        }
        return null;
    }
}
