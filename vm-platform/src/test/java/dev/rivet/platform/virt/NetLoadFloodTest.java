package dev.rivet.platform.virt;

import com.sun.net.httpserver.HttpServer;
import dev.rivet.platform.net.UserNet;
import dev.rivet.platform.net.UserNetCounter;
import dev.rivet.platform.net.UserNetOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Flooded rings (issue 7, "Load and faults"), in two phases while a heartbeat program and
 * ping to the gateway run in the guest.
 *
 * <p>Transmit flood: for a few seconds one program sends 1400-byte UDP datagrams as fast
 * as it can to a slow host reader and another sends raw Ethernet frames of an EtherType
 * nobody speaks through AF_PACKET. The hart must not stall (beats and ping replies appear
 * between the phase's start and end lines), and every raw frame is accounted for by a
 * backend counter.
 *
 * <p>Receive flood: the guest sends datagrams to a host peer that echoes them and also
 * blasts datagrams back at that flow far faster than the guest can take them, so the
 * receive ring stays full and the backend's queue for the guest backs up. Beats still
 * appear; the backend stops reading the host sockets (the host kernel drops the overflow)
 * instead of reading datagrams only to drop them: the pause is counted, no frame for the
 * guest is dropped, and the queue, sampled from the host throughout, never exceeds its limit.
 * The event loop's CPU time during the blast is printed.
 *
 * <p>Each UDP socket of the guest used one host socket, and the network still works
 * afterwards: a wget fetches a file intact and leaves no connection behind.
 */
class NetLoadFloodTest {
    static final int FLOOD_MILLIS = 3000;
    static final int DATAGRAM = 1400;
    static final int FILE_BYTES = 256 * 1024;

    private UdpPeer slow, blaster;
    private HttpServer http;

    @AfterEach
    void close() throws Exception {
        for (UdpPeer p : new UdpPeer[] {slow, blaster}) {
            if (p != null) {
                p.close();
            }
        }
        if (http != null) {
            http.stop(0);
        }
    }

    @Test
    void floodedRingsDoNotStallTheHartAndTheBackendsQueueStaysBounded() throws Exception {
        slow = new UdpPeer(false);
        blaster = new UdpPeer(true);
        byte[] file = new byte[FILE_BYTES];
        new SplittableRandom(0xF100D).nextBytes(file);
        startHttp(file);
        UserNetOptions options = UserNetOptions.DEFAULT;
        NetLoadGuest g = new NetLoadGuest(options, VirtioSpec.Transport.MMIO, """
                /netload beat 100 /tmp/stop &
                ping 10.0.2.2 &
                PING=$!
                echo "flood: start"
                /netload udpflood 10.0.2.2 %1$d %3$d %4$d > /tmp/udp.out &
                UDP=$!
                /netload rawflood eth0 %3$d
                wait $UDP
                echo "flood: end"
                echo "blast: start"
                /netload udpflood 10.0.2.2 %2$d %3$d %4$d > /tmp/blast.out
                echo "blast: end"
                touch /tmp/stop
                kill $PING
                wait
                cat /tmp/udp.out
                sed 's/^udp-/blast-/' /tmp/blast.out
                wget -q -O /tmp/after http://10.0.2.2:%5$d/data; echo "wget: $?"
                echo "after-sum: $(sha256sum /tmp/after | cut -d' ' -f1)"
                """.formatted(slow.port(), blaster.port(), FLOOD_MILLIS, DATAGRAM, http.getAddress().getPort()));
        AtomicInteger maxQueued = new AtomicInteger(), maxFlows = new AtomicInteger();
        long queueDrops, readPauses;
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long[] blastCpuNanos = {-1, -1};
        try (GuestBoot.Running run = new GuestBoot.Running(g.boot.machine())) {
            g.waitFor("flood: start", 120);
            UserNet net = g.net();
            // The backend's gauges are sampled from the host for as long as both phases last.
            Runnable sample = () -> {
                maxQueued.accumulateAndGet(net.queuedFrames(), Math::max);
                maxFlows.accumulateAndGet(net.udpFlows(), Math::max);
            };
            g.await(() -> {
                sample.run();
                return g.console().contains("flood: end");
            }, 120, () -> "the end of the transmit flood");
            // Every raw frame reached the backend and was counted: as unsupported, or dropped
            // (with other frames) if the event loop fell behind. Some may still be on their
            // way. Nothing else the guest sends before the blast ends is unsupported.
            long rawSent = Long.parseLong(g.field("raw-sent"));
            g.await(() -> {
                sample.run();
                return net.counter(UserNetCounter.DROP_UNSUPPORTED) + net.counter(UserNetCounter.DROP_TRANSMIT_BACKLOG)
                        >= rawSent;
            }, 60, () -> rawSent + " raw frames sent, " + net.counter(UserNetCounter.DROP_UNSUPPORTED)
                    + " counted unsupported, " + net.counter(UserNetCounter.DROP_TRANSMIT_BACKLOG)
                    + " dropped for backlog");
            Thread loop = eventLoopThread();
            g.await(() -> {
                sample.run();
                if (blastCpuNanos[0] < 0 && loop != null && g.console().contains("blast: start")) {
                    blastCpuNanos[0] = mx.getThreadCpuTime(loop.threadId());
                }
                return g.console().contains("blast: end");
            }, 120, () -> "the end of the receive flood");
            if (loop != null && blastCpuNanos[0] >= 0) {
                blastCpuNanos[1] = mx.getThreadCpuTime(loop.threadId()) - blastCpuNanos[0];
            }
            blaster.stopBlast();
            g.waitFor("after-sum:", 120);
            g.awaitNoConnections();
            assertEquals(2, net.counter(UserNetCounter.UDP_FLOWS_OPENED), "one host socket per guest socket");
            queueDrops = net.counter(UserNetCounter.DROP_GUEST_QUEUE_FULL);
            readPauses = net.counter(UserNetCounter.UDP_READS_PAUSED);
            System.out.println("receive flood: event loop CPU " + (blastCpuNanos[1] < 0 ? "n/a" : blastCpuNanos[1] / 1_000_000
                    + " ms") + " over about " + FLOOD_MILLIS + " ms; guest datagrams at the blaster " + blaster.received.get()
                    + "; max queued " + maxQueued + "; " + g.counters());
            g.finish(run);
        }
        String c = g.console();
        String flood = between(c, "flood: start", "flood: end");
        assertTrue(count(flood, "(?m)^beat: \\d+") >= 2, "the heartbeat kept running during the transmit flood\n"
                + g.boot.tail());
        assertTrue(count(flood, "(?m)bytes from 10\\.0\\.2\\.2: ") >= 1,
                "the gateway answered ping during the transmit flood\n" + g.boot.tail());
        assertTrue(count(between(c, "blast: start", "blast: end"), "(?m)^beat: \\d+") >= 2,
                "the heartbeat kept running during the receive flood\n" + g.boot.tail());
        assertTrue(Long.parseLong(g.field("udp-sent")) > 0, g.boot.tail());
        assertTrue(Long.parseLong(g.field("raw-sent")) > 0, g.boot.tail());
        assertTrue(slow.received.get() > 0, "datagrams reached the slow reader");
        assertTrue(blaster.received.get() > 0, "datagrams reached the blaster");
        assertTrue(Long.parseLong(g.field("blast-received")) > 0, "the blast reached the guest\n" + g.boot.tail());
        assertTrue(readPauses > 0, "the blast backed the queue for the guest up and the backend stopped reading");
        assertEquals(0, queueDrops, "no frame for the guest was read only to be dropped");
        assertTrue(maxQueued.get() <= options.limits().maxQueuedFrames(), "frames queued for the guest: " + maxQueued);
        assertTrue(maxFlows.get() <= 2, "UDP flows: " + maxFlows);
        assertEquals("0", g.field("wget"), g.boot.tail());
        assertEquals(NetGuestTest.sha256(file), g.field("after-sum"), "the file after the floods arrived intact");
    }

    /** The backend's event loop thread, if exactly one is alive (for a CPU figure). */
    private static Thread eventLoopThread() {
        var loops = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("rivet-usernet") && t.isAlive()).toList();
        return loops.size() == 1 ? loops.getFirst() : null;
    }

    static String between(String text, String from, String to) {
        int a = text.indexOf(from), b = text.indexOf(to, Math.max(a, 0));
        assertTrue(a >= 0 && b > a, "'" + from + "' before '" + to + "'");
        return text.substring(a, b);
    }

    static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /**
     * A host UDP peer on 127.0.0.1. A slow one has a small receive buffer and takes a
     * millisecond over each datagram (the kernel drops the rest). A blasting one sends every
     * datagram back where it came from and, from the first one on, also sends datagrams to
     * that address from another thread as fast as it can until {@link #stopBlast}.
     */
    static final class UdpPeer implements AutoCloseable {
        private static final int SLOW_RECEIVE_BUFFER = 16 * 1024;
        private static final int BLAST_BURST = 32;
        final DatagramSocket socket;
        final AtomicLong received = new AtomicLong();
        private final Thread thread;
        private volatile Thread blastThread;
        private volatile boolean blasting;

        UdpPeer(boolean blast) throws IOException {
            socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            if (!blast) {
                socket.setReceiveBufferSize(SLOW_RECEIVE_BUFFER);
            }
            blasting = blast;
            thread = Thread.ofVirtual().start(() -> {
                byte[] buf = new byte[65536];
                while (!socket.isClosed()) {
                    try {
                        DatagramPacket p = new DatagramPacket(buf, buf.length);
                        socket.receive(p);
                        received.incrementAndGet();
                        if (!blast) {
                            Thread.sleep(1);
                            continue;
                        }
                        socket.send(new DatagramPacket(buf, p.getLength(), p.getSocketAddress()));
                        if (blasting && blastThread == null) {
                            SocketAddress guest = p.getSocketAddress();
                            blastThread = Thread.ofVirtual().start(() -> blast(guest));
                        }
                    } catch (IOException | InterruptedException e) {
                        return; // closed
                    }
                }
            });
        }

        int port() {
            return socket.getLocalPort();
        }

        /**
         * Bursts of {@link #BLAST_BURST} datagrams a millisecond apart: several times what an
         * emulated guest can take in, without a spinning thread starving the hart's on a small
         * machine.
         */
        private void blast(SocketAddress to) {
            byte[] data = new byte[DATAGRAM];
            try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
                while (blasting) {
                    for (int i = 0; i < BLAST_BURST; i++) {
                        s.send(new DatagramPacket(data, data.length, to));
                    }
                    Thread.sleep(1);
                }
            } catch (IOException | InterruptedException e) {
                // nothing to report: the guest's side counts what arrived
            }
        }

        void stopBlast() throws InterruptedException {
            blasting = false;
            Thread t = blastThread;
            if (t != null) {
                t.join(10_000);
            }
        }

        @Override
        public void close() throws InterruptedException {
            stopBlast();
            socket.close();
            thread.join(10_000);
        }
    }

    private void startHttp(byte[] body) throws IOException {
        http = NetGuestTest.serveData(body);
    }
}
