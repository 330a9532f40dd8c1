package dev.rivet.platform.virt;

import com.sun.net.httpserver.HttpServer;
import dev.rivet.platform.net.HostForward;
import dev.rivet.platform.net.UserNet;
import dev.rivet.platform.net.UserNetOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.SplittableRandom;

import static dev.rivet.platform.virt.LinuxBootTest.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * virtio-net on user-mode networking, as the reference guest's virtio_net driver and
 * busybox use it, over both transports: udhcpc gets a lease; ping reaches the gateway; a
 * name only the test's own resolver knows resolves; wget fetches a file from an HTTP
 * server on the host's loopback (through NAT, addressed as 10.0.2.2); nc sends a file to a
 * host socket; and the host fetches a file from busybox httpd in the guest through a
 * forwarded port. Every transfer is checked by SHA-256. Sizes are {@code -Drivet.net.mib}
 * MiB each way (default 4; 100 for the soak run).
 */
class NetGuestTest {
    static final int MIB = Integer.getInteger("rivet.net.mib", 4);
    static final String NAME = "files.rivet.test";

    HttpServer http;

    /**
     * Writes /tmp/dhcp.sh, the udhcpc script that applies a lease (busybox's default script
     * is not in the initramfs) and prints {@code lease: IP ROUTER DNS}.
     */
    static final String DHCP_SCRIPT = """
            cat > /tmp/dhcp.sh <<'EOF'
            #!/bin/sh
            if [ "$1" = bound ]; then
              ifconfig $interface $ip netmask $subnet up
              route add default gw $router
              echo "nameserver $dns" > /etc/resolv.conf
              echo "lease: $ip $router $dns"
            fi
            EOF
            chmod +x /tmp/dhcp.sh
            """;
    ServerSocket sink;
    DatagramSocket dns;
    Thread sinkThread, dnsThread;
    volatile String uploadSum = "none";

    @AfterEach
    void close() throws Exception {
        if (http != null) {
            http.stop(0);
        }
        if (sink != null) {
            sink.close();
            sinkThread.join(10_000);
        }
        if (dns != null) {
            dns.close();
            dnsThread.join(10_000);
        }
    }

    @ParameterizedTest
    @EnumSource(VirtioSpec.Transport.class)
    void dhcpDnsNatAndPortForwardingCarryFilesIntact(VirtioSpec.Transport t) throws Exception {
        byte[] download = new byte[MIB << 20];
        new SplittableRandom(0x5EED).nextBytes(download);
        startHttp(download);
        startSink(MIB << 20);
        startDns();
        UserNetOptions options = UserNetOptions.parse("user,dns=127.0.0.1:" + dns.getLocalPort());
        UserNet[] net = new UserNet[1];
        GuestBoot g = new GuestBoot().guest(GuestBoot.REFERENCE).device(() -> {
            net[0] = new UserNet(options);
            return new VirtioSpec.Net(net[0], VirtioSpec.Net.defaultMac(0), t);
        });
        // The guest's clock follows the host's: with the deterministic clock an idle guest
        // would skip its timeouts (udhcpc's, TCP's) before the host network could answer.
        g.deterministic = false;
        int httpPort = http.getAddress().getPort();
        g.vmtest(DHCP_SCRIPT + """
                echo "bus: $(ls -l /sys/class/net/eth0 | grep -q /pci0000: && echo PCI || echo MMIO)"
                echo "mac: $(cat /sys/class/net/eth0/address)"
                ifconfig eth0 up
                udhcpc -i eth0 -n -q -t 5 -s /tmp/dhcp.sh 2>/dev/null | grep lease
                ping -c 1 -W 5 10.0.2.2 >/dev/null; echo "ping: $?"
                echo "resolved: $(nslookup %1$s 2>/dev/null | sed -n 's/^Address: *\\(10\\.[0-9.]*\\).*/\\1/p' | tail -1)"
                wget -q -O /tmp/down http://%1$s:%2$d/data; echo "wget: $?"
                echo "down-sum: $(sha256sum /tmp/down | cut -d' ' -f1)"
                dd if=/dev/urandom of=/tmp/up bs=1M count=%3$d 2>/dev/null
                echo "up-sum: $(sha256sum /tmp/up | cut -d' ' -f1)"
                echo "host-sum: $(nc 10.0.2.2 %4$d < /tmp/up)"
                mkdir -p /tmp/www && mv /tmp/up /tmp/www/up
                httpd -p 8080 -h /tmp/www && echo "httpd: up"
                read -r go; echo "done: $go"
                """.formatted(NAME, httpPort, MIB, sink.getLocalPort()));
        try (GuestBoot.Running run = new GuestBoot.Running(g.machine())) {
            UserNet.ForwardHandle fwd = net[0].addHostForward(HostForward.parse("tcp:127.0.0.1:0-:8080"));
            GuestBoot.waitFor(g, "httpd: up", 900);
            String fetched = fetch("http://127.0.0.1:" + fwd.localAddress().getPort() + "/up");
            assertEquals(field(g.console(), "up-sum"), fetched, "the guest's file, fetched through the forward");
            run.machine.input("bye\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(run.awaitEnd(600), g.tail());
            assertEquals(VirtMachine.Ending.POWEROFF, run.result.ending(), g.tail());
        }
        String c = g.console();
        assertEquals(t.name(), field(c, "bus"), g.tail());
        assertEquals("52:54:00:12:34:56", field(c, "mac"));
        assertEquals("10.0.2.15 10.0.2.2 10.0.2.3", field(c, "lease"), g.tail());
        assertEquals("0", field(c, "ping"), g.tail());
        assertEquals("10.0.2.2", field(c, "resolved"), g.tail());
        assertEquals("0", field(c, "wget"), g.tail());
        assertEquals(sha256(download), field(c, "down-sum"));
        assertEquals(field(c, "up-sum"), field(c, "host-sum"), "the host received the guest's file intact");
        assertEquals(field(c, "up-sum"), uploadSum);
        assertEquals("bye", field(c, "done"));
        assertEquals(0, net[0].tcpConnections(), "no connection left after the machine closed");
    }

    void startHttp(byte[] body) throws IOException {
        http = serveData(body);
    }

    /** An HTTP server on the host's loopback serving {@code body} at {@code /data} (the guest's 10.0.2.2). */
    static HttpServer serveData(byte[] body) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/data", ex -> {
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        });
        server.start();
        return server;
    }

    /** Reads {@code size} bytes, answers their SHA-256 and closes: what the guest's nc uploads to. */
    void startSink(int size) throws IOException {
        sink = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
        sinkThread = Thread.ofVirtual().start(() -> {
            try (Socket s = sink.accept(); InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                byte[] buf = new byte[64 * 1024];
                int left = size;
                for (int n; left > 0 && (n = in.read(buf, 0, Math.min(buf.length, left))) > 0; left -= n) {
                    md.update(buf, 0, n);
                }
                uploadSum = HexFormat.of().formatHex(md.digest());
                out.write((uploadSum + "\n").getBytes(StandardCharsets.US_ASCII));
            } catch (Exception e) {
                uploadSum = "sink: " + e;
            }
        });
    }

    /** A resolver that knows one name, {@link #NAME} = 10.0.2.2, and answers NXDOMAIN otherwise (RFC 1035 4.1). */
    void startDns() throws IOException {
        dns = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        dnsThread = Thread.ofVirtual().start(() -> {
            byte[] buf = new byte[512];
            while (!dns.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    dns.receive(p);
                    byte[] reply = answer(buf, p.getLength());
                    if (reply != null) {
                        dns.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
                    }
                } catch (IOException e) {
                    return; // closed
                }
            }
        });
    }

    static byte[] answer(byte[] q, int len) {
        if (len < 12) {
            return null;
        }
        // The question: labels from offset 12, then QTYPE and QCLASS.
        StringBuilder name = new StringBuilder();
        int i = 12;
        while (i < len && q[i] != 0) {
            int l = q[i] & 0xFF;
            if (name.length() > 0) {
                name.append('.');
            }
            name.append(new String(q, i + 1, Math.min(l, len - i - 1), StandardCharsets.US_ASCII));
            i += l + 1;
        }
        int qend = i + 5; // the zero label, QTYPE, QCLASS
        if (qend > len) {
            return null;
        }
        int qtype = (q[i + 1] & 0xFF) << 8 | q[i + 2] & 0xFF;
        boolean known = name.toString().equalsIgnoreCase(NAME) && qtype == 1;
        ByteBuffer r = ByteBuffer.allocate(qend + 16);
        r.put(q, 0, 2);                                   // ID
        r.putShort((short) (0x8180 | (known || name.toString().equalsIgnoreCase(NAME) ? 0 : 3))); // QR RD RA, rcode
        r.putShort((short) 1).putShort((short) (known ? 1 : 0)).putShort((short) 0).putShort((short) 0);
        r.put(q, 12, qend - 12);
        if (known) {
            r.putShort((short) 0xC00C).putShort((short) 1).putShort((short) 1).putInt(60).putShort((short) 4);
            r.put(new byte[] {10, 0, 2, 2});
        }
        byte[] out = new byte[r.position()];
        r.flip().get(out);
        return out;
    }

    static String fetch(String url) throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {
            HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(URI.create(url)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, r.statusCode());
            return sha256(r.body());
        }
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
