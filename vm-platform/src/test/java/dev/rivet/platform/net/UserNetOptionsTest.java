package dev.rivet.platform.net;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code --net user,...} option string, host forwards, and the resolv.conf reader. */
class UserNetOptionsTest {
    @Test
    void parsesTheBriefsExample() {
        UserNetOptions o = UserNetOptions.parse("user,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=udp::5353-:53,restrict=on,dns=127.0.0.1:5300");
        assertEquals(UserNetOptions.Restrict.ON, o.restrict());
        assertEquals(new InetSocketAddress("127.0.0.1", 5300), o.dns());
        assertEquals(2, o.hostForwards().size());
        HostForward ssh = o.hostForwards().get(0);
        assertEquals(HostForward.Protocol.TCP, ssh.protocol());
        assertEquals("127.0.0.1", ssh.hostAddress().getHostAddress());
        assertEquals(2222, ssh.hostPort());
        assertNull(ssh.guestAddress());
        assertEquals(22, ssh.guestPort());
        HostForward dns = o.hostForwards().get(1);
        assertEquals(HostForward.Protocol.UDP, dns.protocol());
        assertEquals("0.0.0.0", dns.hostAddress().getHostAddress(), "an empty host address listens everywhere, as in QEMU");
        assertEquals(5353, dns.hostPort());
        assertEquals(53, dns.guestPort());
        assertEquals(UserNetOptions.Limits.DEFAULT, o.limits());
    }

    @Test
    void defaultsAndOptionalPrefix() {
        UserNetOptions o = UserNetOptions.parse("user");
        assertEquals(UserNetOptions.Restrict.OFF, o.restrict());
        assertNull(o.dns());
        assertTrue(o.hostForwards().isEmpty());
        assertEquals(o, UserNetOptions.DEFAULT);
        assertEquals(53, UserNetOptions.parse("dns=192.168.1.1").dns().getPort());
        assertEquals(UserNetOptions.Restrict.OFF, UserNetOptions.parse("restrict=off").restrict());
        assertEquals(UserNetOptions.Restrict.LOOPBACK, UserNetOptions.parse("user,restrict=loopback").restrict());
        assertEquals(UserNetOptions.Restrict.ON, UserNetOptions.parse("restrict=yes").restrict(), "QEMU's synonyms");
        HostForward f = UserNetOptions.parse("hostfwd=:10.0.0.1:80-10.0.2.20:8080").hostForwards().getFirst();
        assertEquals(HostForward.Protocol.TCP, f.protocol(), "an empty protocol is tcp");
        assertEquals("10.0.2.20", f.guestAddress().getHostAddress());
        assertEquals(f, HostForward.parse(f.spec()), "spec() reads back");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '#', value = {
            "tap,ifname=x # net 'tap': only 'user' networking is supported",
            "user,foo=1 # net: unknown key 'foo' (known: hostfwd, restrict, dns)",
            "user,restrict # net: 'restrict' is not key=value",
            "user,restrict=maybe # net: restrict=maybe must be on, off or loopback",
            "user,restrict=on,restrict=loopback # net: 'restrict' given twice",
            "user,restrict=on,restrict=off # net: 'restrict' given twice",
            "user,dns=1.2.3 # net: dns=1.2.3: '1.2.3' is not a dotted IPv4 address",
            "user,dns=1.2.3.4:0 # net: dns=1.2.3.4:0: port '0' is not 1-65535",
            "user,dns=1.2.3.4:x # net: dns=1.2.3.4:x: port 'x' is not 1-65535",
            "user,hostfwd=tcp:127.0.0.1:2222 # hostfwd=tcp:127.0.0.1:2222: expected [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport",
            "user,hostfwd=sctp::1-:2 # hostfwd=sctp::1-:2: protocol 'sctp' is not tcp or udp",
            "user,hostfwd=tcp::99999-:22 # hostfwd=tcp::99999-:22: host port 99999 is out of range 0-65535",
            "user,hostfwd=tcp::2222-:0 # hostfwd=tcp::2222-:0: guest port 0 is out of range 1-65535",
            "user,hostfwd=tcp::ssh-:22 # hostfwd=tcp::ssh-:22: host port 'ssh' is not a number",
            "user,hostfwd=tcp:localhost:2222-:22 # hostfwd=tcp:localhost:2222-:22: host address 'localhost' is not a dotted IPv4 address",
            "user,hostfwd=tcp::2222-192.168.0.5:22 # hostfwd=tcp::2222-192.168.0.5:22: guest address 192.168.0.5 is not in the guest network 10.0.2.0/24",
            "user,hostfwd=tcp::2222-:22-:23 # hostfwd=tcp::2222-:22-:23: expected [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport",
    })
    void badInputIsAOneLineError(String text, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UserNetOptions.parse(text));
        assertEquals(message, e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void resolvConfGivesTheFirstNumericNameserver(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("resolv.conf");
        Files.writeString(f, "# comment\nsearch example.org\nnameserver bogus\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n");
        assertEquals(new InetSocketAddress("192.0.2.53", 53), ResolvConf.firstNameserver(f));
        Files.writeString(f, "nameserver ::1\n");
        assertEquals(53, ResolvConf.firstNameserver(f).getPort());
        Files.writeString(f, "options ndots:2\n");
        assertNull(ResolvConf.firstNameserver(f));
        assertNull(ResolvConf.firstNameserver(dir.resolve("missing")));
    }
}
