package dev.rivet.platform.net;

import dev.rivet.devices.net.NetBackend;
import dev.rivet.devices.net.NetPort;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * The wire towards the guest's card. Frames are built in one scratch buffer and offered to
 * {@link NetPort#deliver}; when the guest has no receive buffers they wait in a bounded
 * queue (in order) until {@link #guestReady}. TCP asks {@link #congested} before sending and
 * is told through the drain listener when the queue has room again, so a slow guest slows
 * the host sockets feeding it instead of growing the queue. UDP has no window to close, so
 * once the queue is half full the host datagram sockets stop being read (the datagram
 * listener's pause), and are read again when the guest has taken the queue back down to
 * TCP's congestion mark: a datagram flood towards a slow guest then overflows the host
 * kernel's socket buffer instead of costing us a read, a copy and a drop per datagram (the
 * {@link NetBackend} contract: stop reading host sockets that feed the guest). The other
 * half of the queue stays free for ARP, ICMP, DHCP, TCP ACKs and the last fragments of a
 * datagram already read. Event-loop thread only.
 */
final class GuestLink {
    /** At a quarter of the queue TCP holds back. */
    private static final int CONGESTION_FRACTION = 4;
    /** At half the queue host datagram sockets stop being read. */
    private static final int DATAGRAM_PAUSE_FRACTION = 2;

    private final NetPort port;
    private final Counters counters;
    private final int maxQueued;
    private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
    private final byte[] scratch = new byte[NetBackend.MAX_FRAME];
    private final ByteBuffer scratchBuffer = ByteBuffer.wrap(scratch);
    /** The guest's MAC: the card's, then whatever source address the guest last used. */
    private final byte[] guestMac;
    private final int datagramPauseAt;
    private final int datagramResumeAt;
    private Runnable drainListener = () -> { };
    private Runnable pauseDatagrams = () -> { };
    private Runnable resumeDatagrams = () -> { };
    private boolean datagramsPaused;
    private int ipId;

    GuestLink(NetPort port, Counters counters, int maxQueued) {
        this.port = port;
        this.counters = counters;
        this.maxQueued = maxQueued;
        this.datagramPauseAt = Math.max(1, maxQueued / DATAGRAM_PAUSE_FRACTION);
        this.datagramResumeAt = maxQueued / CONGESTION_FRACTION;
        this.guestMac = port.mac().clone();
        if (guestMac.length != 6) {
            throw new IllegalArgumentException("a MAC address has 6 bytes, not " + guestMac.length);
        }
    }

    void onDrained(Runnable listener) {
        this.drainListener = listener;
    }

    /** Who stops and restarts reading the host datagram sockets as the queue backs up and drains. */
    void onDatagramBackpressure(Runnable pause, Runnable resume) {
        this.pauseDatagrams = pause;
        this.resumeDatagrams = resume;
    }

    /** True while host datagram sockets are not being read. */
    boolean datagramsPaused() {
        return datagramsPaused;
    }

    byte[] guestMac() {
        return guestMac;
    }

    /** Notes the source MAC of a guest frame (unicast only) as the guest's address. */
    void learn(byte[] frame) {
        if (!Packets.isMulticastMac(frame, Packets.ETH_SRC)) {
            System.arraycopy(frame, Packets.ETH_SRC, guestMac, 0, 6);
        }
    }

    /** The buffer to build the next frame in, valid until {@link #send}. */
    byte[] frame() {
        return scratch;
    }

    /** A fresh IPv4 identification for a datagram to the guest. */
    int nextIpId() {
        ipId = (ipId + 1) & 0xffff;
        return ipId;
    }

    /**
     * Writes Ethernet (gateway to guest) and IPv4 headers into the scratch frame for a
     * datagram with {@code payloadLength} bytes after the IP header; returns the payload offset.
     */
    int ipv4(int protocol, int src, int dst, int payloadLength) {
        int ip = Packets.writeEthernet(scratch, guestMac, VirtualNetwork.GATEWAY_MAC, Packets.ETHERTYPE_IPV4);
        Packets.writeIpv4(scratch, ip, protocol, src, dst, Packets.IP_HLEN + payloadLength, nextIpId(), Packets.IP_DF);
        return ip + Packets.IP_HLEN;
    }

    /** True when TCP should hold back until the drain listener runs. */
    boolean congested() {
        return queue.size() >= Math.max(1, maxQueued / CONGESTION_FRACTION);
    }

    /** Sends the first {@code length} bytes of the scratch frame; false if it had to be dropped. */
    boolean send(int length) {
        return send(scratch, length);
    }

    /** Sends {@code frame[0, length)}; the array is not kept. False if it had to be dropped. */
    boolean send(byte[] frame, int length) {
        if (queue.isEmpty()) {
            ByteBuffer b = frame == scratch ? scratchBuffer.clear().limit(length) : ByteBuffer.wrap(frame, 0, length);
            if (port.deliver(b)) {
                counters.add(UserNetCounter.FRAMES_TO_GUEST);
                return true;
            }
        }
        if (queue.size() >= maxQueued) {
            counters.add(UserNetCounter.DROP_GUEST_QUEUE_FULL);
            return false;
        }
        byte[] copy = new byte[length];
        System.arraycopy(frame, 0, copy, 0, length);
        queue.add(copy);
        if (!datagramsPaused && queue.size() >= datagramPauseAt) {
            datagramsPaused = true;
            counters.add(UserNetCounter.UDP_READS_PAUSED);
            pauseDatagrams.run();
        }
        return true;
    }

    /** The guest posted receive buffers: delivers what waits, then lets UDP and TCP send again. */
    void guestReady() {
        while (!queue.isEmpty() && port.deliver(ByteBuffer.wrap(queue.peek()))) {
            queue.poll();
            counters.add(UserNetCounter.FRAMES_TO_GUEST);
        }
        if (datagramsPaused && queue.size() <= datagramResumeAt) {
            datagramsPaused = false;
            resumeDatagrams.run();
        }
        if (queue.isEmpty()) {
            drainListener.run();
        }
    }

    int queued() {
        return queue.size();
    }

    void clear() {
        queue.clear();
    }
}
