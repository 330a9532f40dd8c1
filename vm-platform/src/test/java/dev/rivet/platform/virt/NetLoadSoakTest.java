package dev.rivet.platform.virt;

import dev.rivet.platform.net.UserNet;
import dev.rivet.platform.net.UserNetCounter;
import dev.rivet.platform.net.UserNetOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A big transfer through NAT in both directions at once (issue 7, "Load and faults"):
 * the guest receives 100 MiB (the figure; {@code -Drivet.net.soak.mib} changes it)
 * from one host socket while it sends as much to another, and each side checks the FNV-1a
 * hash of what it received against the sender's. About a minute; {@code run-tests}' second
 * pass (the same suite with every block compiled) runs it at 8 MiB, since what it proves
 * there is the compiled guest code, not the NAT.
 */
class NetLoadSoakTest {
    static final int MIB = Integer.getInteger("rivet.net.soak.mib", 100);
    static final long BYTES = (long) MIB << 20;
    static final long FNV_BASIS = 0xcbf29ce484222325L;

    private ServerSocket source, sink;
    private Thread sourceThread, sinkThread;
    private volatile String sourceFnv = "none", sinkFnv = "none";
    private volatile long sinkBytes;

    @AfterEach
    void close() throws Exception {
        for (ServerSocket s : new ServerSocket[] {source, sink}) {
            if (s != null) {
                s.close();
            }
        }
        for (Thread t : new Thread[] {sourceThread, sinkThread}) {
            if (t != null) {
                t.join(10_000);
            }
        }
    }

    @Test
    void megabytesBothWaysAtOnceArriveIntact() throws Exception {
        startServers();
        NetLoadGuest g = new NetLoadGuest(UserNetOptions.DEFAULT, VirtioSpec.Transport.MMIO, """
                /netload recv 10.0.2.2 %d > /tmp/recv.out &
                /netload send 10.0.2.2 %d %d
                wait
                cat /tmp/recv.out
                """.formatted(source.getLocalPort(), sink.getLocalPort(), BYTES));
        long seconds = 120 + 2L * MIB; // a bound, not an expectation
        try (GuestBoot.Running run = new GuestBoot.Running(g.boot.machine())) {
            g.waitFor("recv-bytes:", seconds);
            UserNet net = g.net();
            g.awaitNoConnections();
            for (UserNetCounter c : List.of(UserNetCounter.TCP_ABORTED, UserNetCounter.TCP_RESETS_FROM_GUEST,
                    UserNetCounter.TCP_RESETS_FROM_HOST)) {
                assertEquals(0, net.counter(c), c.name());
            }
            g.finish(run);
        }
        sourceThread.join(10_000);
        sinkThread.join(10_000);
        assertEquals(Long.toString(BYTES), g.field("recv-bytes"), g.boot.tail());
        assertEquals(sourceFnv, g.field("recv-fnv"), "the guest received the host's bytes intact");
        assertEquals(BYTES, sinkBytes, "the host received every byte the guest sent\n" + g.boot.tail());
        assertEquals(g.field("send-fnv"), sinkFnv, "the host received the guest's bytes intact");
        assertEquals(sinkFnv, g.field("send-reply"), "the host's answer reached the guest after its half-close");
    }

    /**
     * The source writes {@link #BYTES} pseudo-random bytes, then half-closes; the sink reads
     * to end of stream and answers the hash of what it read.
     */
    private void startServers() throws IOException {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        source = new ServerSocket();
        source.bind(any, 1);
        sink = new ServerSocket();
        sink.bind(any, 1);
        sourceThread = Thread.ofVirtual().start(() -> {
            try (Socket s = source.accept(); OutputStream out = s.getOutputStream(); InputStream in = s.getInputStream()) {
                SplittableRandom random = new SplittableRandom(MIB);
                byte[] chunk = new byte[64 * 1024];
                long h = FNV_BASIS;
                for (long left = BYTES; left > 0; left -= chunk.length) {
                    random.nextBytes(chunk);
                    int n = (int) Math.min(chunk.length, left);
                    h = fnv(h, chunk, n);
                    out.write(chunk, 0, n);
                }
                sourceFnv = String.format("%016x", h);
                s.shutdownOutput();
                in.transferTo(OutputStream.nullOutputStream()); // until the guest closes
            } catch (IOException e) {
                sourceFnv = "source: " + e;
            }
        });
        sinkThread = Thread.ofVirtual().start(() -> {
            try (Socket s = sink.accept(); InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                byte[] buf = new byte[64 * 1024];
                long h = FNV_BASIS, total = 0;
                for (int n; (n = in.read(buf)) > 0; total += n) {
                    h = fnv(h, buf, n);
                }
                sinkBytes = total;
                sinkFnv = String.format("%016x", h);
                out.write((sinkFnv + "\n").getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                sinkFnv = "sink: " + e;
            }
        });
    }

    static long fnv(long h, byte[] b, int n) {
        for (int i = 0; i < n; i++) {
            h ^= b[i] & 0xFF;
            h *= 0x100000001b3L;
        }
        return h;
    }
}
