package dev.rivet.platform.virt;

import dev.rivet.platform.vsock.UnixSocketVsock;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static dev.rivet.platform.virt.LinuxBootTest.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * virtio-vsock as the reference guest's vsock transport uses it, over both transports,
 * with the Firecracker-style Unix-socket host side and a small static guest program
 * (src/test/guest/linux/vsock.c): the guest connects to host port 5000 (the host listens on
 * {@code <uds>_5000}) and sends 2 MiB; then the guest listens on port 1234 and the host
 * connects through {@code <uds>} with {@code CONNECT 1234} and sends 2 MiB. Each side
 * reports the FNV-1a hash of what it received, and they must match what was sent.
 */
class VsockGuestTest {
    static final Path PROGRAM = Path.of("target", "guest", "linux", "vsock");
    static final int BYTES = 2 << 20;

    @ParameterizedTest
    @EnumSource(VirtioSpec.Transport.class)
    void streamsCarryDataBothWaysBetweenHostSocketsAndTheGuest(VirtioSpec.Transport t, @TempDir Path dir)
            throws Exception {
        Path uds = dir.resolve("vm.sock");
        String[] hostGot = new String[1];
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(dir.resolve("vm.sock_5000")));
            Thread server = Thread.ofVirtual().start(() -> {
                try (SocketChannel c = listener.accept()) {
                    long h = fnv(FNV_BASIS, Channels.newInputStream(c));
                    hostGot[0] = String.format("%016x", h);
                    c.write(ByteBuffer.wrap((hostGot[0] + "\n").getBytes(StandardCharsets.US_ASCII)));
                } catch (Exception e) {
                    hostGot[0] = "host: " + e;
                }
            });
            GuestBoot g = new GuestBoot().guest(GuestBoot.REFERENCE)
                    .device(() -> new VirtioSpec.Vsock(3, UnixSocketVsock.open(uds), t))
                    .file("vsock", Files.readAllBytes(PROGRAM))
                    .vmtest("""
                            echo "vsock-devices: $(ls /sys/bus/virtio/drivers/vmw_vsock_virtio_transport/ | grep -c virtio)"
                            /vsock connect 2 5000 %d
                            /vsock listen 1234
                            """.formatted(BYTES));
            g.deterministic = false; // the guest's connect timeout runs on the host's clock
            byte[] data = new byte[BYTES];
            new SplittableRandom(0xF00D).nextBytes(data);
            String reply;
            try (GuestBoot.Running run = new GuestBoot.Running(g.machine())) {
                GuestBoot.waitFor(g, "listening: 1234", 900);
                try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(uds))) {
                    OutputStream out = Channels.newOutputStream(c);
                    InputStream in = Channels.newInputStream(c);
                    out.write("CONNECT 1234\n".getBytes(StandardCharsets.US_ASCII));
                    String ok = line(in);
                    assertTrue(ok.startsWith("OK "), ok);
                    out.write(data);
                    c.shutdownOutput();
                    reply = line(in);
                }
                assertTrue(run.awaitEnd(600), g.tail());
                assertEquals(VirtMachine.Ending.POWEROFF, run.result.ending(), g.tail());
            }
            server.join(10_000);
            String c = g.console();
            assertEquals("1", field(c, "vsock-devices"), "the vsock driver bound one device\n" + g.tail());
            assertEquals(field(c, "sent-fnv"), hostGot[0], "the host received the guest's bytes intact\n" + g.tail());
            assertEquals(hostGot[0], field(c, "reply"), g.tail());
            String want = String.format("%016x", fnv(FNV_BASIS, new java.io.ByteArrayInputStream(data)));
            assertEquals(want, field(c, "recv-fnv"), "the guest received the host's bytes intact\n" + g.tail());
            assertEquals(Integer.toString(BYTES), field(c, "recv-bytes"));
            assertEquals(want, reply);
        }
    }

    static final long FNV_BASIS = 0xcbf29ce484222325L;

    static long fnv(long h, InputStream in) throws java.io.IOException {
        byte[] buf = new byte[64 * 1024];
        for (int n; (n = in.read(buf)) > 0; ) {
            for (int i = 0; i < n; i++) {
                h ^= buf[i] & 0xFF;
                h *= 0x100000001b3L;
            }
        }
        return h;
    }

    static String line(InputStream in) throws java.io.IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int ch; (ch = in.read()) >= 0 && ch != '\n'; ) {
            b.write(ch);
        }
        return b.toString(StandardCharsets.US_ASCII);
    }
}
