package dev.rivet.virtio.vsock;

import dev.rivet.virtio.GuestDriver;
import dev.rivet.virtio.GuestDriver.Buf;
import dev.rivet.virtio.GuestDriver.DriverQueue;
import dev.rivet.virtio.GuestDriver.Used;
import dev.rivet.virtio.Virtio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Plays the ring side of Linux's net/vmw_vsock/virtio_transport.c over a {@link GuestDriver}:
 * virtio_vsock_probe reads guest_cid, fills the event queue with 8 four-byte buffers and the rx
 * queue with header + 4 KiB buffers (one descriptor each as Linux 6.x does, or a header and a
 * data descriptor as older kernels did), and sends each packet as a header descriptor
 * followed by a payload descriptor. The header is encoded here from the spec's layout, not
 * with the device's own codec.
 */
final class GuestVsock {
    static final int HDR = 44;
    static final int RX_PAYLOAD = 4096;
    static final long HOST = 2;

    /** One packet either way: {@code struct virtio_vsock_hdr} and its payload. */
    record Pkt(long srcCid, long dstCid, int srcPort, int dstPort, int type, int op, int flags, int bufAlloc,
            int fwdCnt, byte[] data, int len) {
        Pkt withData(byte[] d) {
            return new Pkt(srcCid, dstCid, srcPort, dstPort, type, op, flags, bufAlloc, fwdCnt, d, d.length);
        }

        Pkt withLen(int l) {
            return new Pkt(srcCid, dstCid, srcPort, dstPort, type, op, flags, bufAlloc, fwdCnt, data, l);
        }

        Pkt withFlags(int f) {
            return new Pkt(srcCid, dstCid, srcPort, dstPort, type, op, f, bufAlloc, fwdCnt, data, len);
        }

        Pkt withType(int t) {
            return new Pkt(srcCid, dstCid, srcPort, dstPort, t, op, flags, bufAlloc, fwdCnt, data, len);
        }

        Pkt withCids(long src, long dst) {
            return new Pkt(src, dst, srcPort, dstPort, type, op, flags, bufAlloc, fwdCnt, data, len);
        }

        Pkt withCredit(int alloc, int fwd) {
            return new Pkt(srcCid, dstCid, srcPort, dstPort, type, op, flags, alloc, fwd, data, len);
        }

        @Override
        public String toString() {
            return String.format("%d:%d -> %d:%d op %d type %d len %d flags %d buf_alloc %d fwd_cnt %d", srcCid,
                    srcPort & 0xFFFF_FFFFL, dstCid, dstPort & 0xFFFF_FFFFL, op, type, len, flags,
                    bufAlloc & 0xFFFF_FFFFL, fwdCnt & 0xFFFF_FFFFL);
        }
    }

    final GuestDriver drv;
    final DriverQueue rx;
    final DriverQueue tx;
    final DriverQueue event;
    final long cid;
    private final boolean splitRx;
    private final Map<Integer, Long> rxBuffers = new HashMap<>();
    private final Map<Integer, Long> eventBuffers = new HashMap<>();
    /** Odd-sized rx buffers a test posted; the device must use them empty. */
    private final java.util.Set<Integer> odd = new java.util.HashSet<>();
    /** Small rx buffers a test posted once. */
    private final java.util.Set<Integer> small = new java.util.HashSet<>();
    private final long txArea;
    private final int txAreaSize;

    /** virtio_vsock_probe with {@code rxBuffers} receive buffers. */
    GuestVsock(GuestDriver drv, int rxBuffers, boolean splitRx, long wantedFeatures) {
        this.drv = drv;
        this.splitRx = splitRx;
        drv.negotiate(wantedFeatures);
        rx = drv.queue(VirtioVsock.QUEUE_RX, 128);
        tx = drv.queue(VirtioVsock.QUEUE_TX, 128);
        event = drv.queue(VirtioVsock.QUEUE_EVENT, 16);
        cid = drv.readConfig(VirtioVsock.CFG_GUEST_CID, 4) | drv.readConfig(VirtioVsock.CFG_GUEST_CID + 4, 4) << 32;
        drv.driverOk();
        txAreaSize = HDR + 256 * 1024;
        txArea = drv.alloc(txAreaSize, 16);
        for (int i = 0; i < rxBuffers; i++) {
            postRx(drv.alloc(HDR + RX_PAYLOAD, 16));
        }
        rx.kick();
        for (int i = 0; i < 8; i++) {
            long b = drv.alloc(8, 8);
            eventBuffers.put(event.add(Buf.in(b, 4)), b);
        }
        event.kick();
    }

    GuestVsock(GuestDriver drv, int rxBuffers) {
        this(drv, rxBuffers, false, Virtio.bit(Virtio.F_EVENT_IDX) | Virtio.bit(Virtio.F_INDIRECT_DESC));
    }

    /** Posts {@code n} more normal receive buffers. */
    void addRxBuffers(int n) {
        for (int i = 0; i < n; i++) {
            postRx(drv.alloc(HDR + RX_PAYLOAD, 16));
        }
        rx.kick();
    }

    /** Posts one receive buffer of {@code len} bytes that is used once and not posted again. */
    void addSmallRxBuffer(int len) {
        long b = drv.alloc(len, 16);
        int head = rx.add(Buf.in(b, len));
        rxBuffers.put(head, b);
        small.add(head);
        rx.kick();
    }

    /** Posts one receive buffer of {@code len} bytes, too small for what the device has to send. */
    void addOddRxBuffer(int len) {
        odd.add(rx.add(Buf.in(drv.alloc(len, 16), len)));
        rx.kick();
    }

    /** How many odd buffers the device used (empty) so far. */
    int oddUsed;

    private void postRx(long buf) {
        int head = splitRx ? rx.add(Buf.in(buf, HDR), Buf.in(buf + HDR, RX_PAYLOAD)) : rx.add(Buf.in(buf, HDR + RX_PAYLOAD));
        rxBuffers.put(head, buf);
    }

    // ---- building packets the way virtio_transport_init_hdr does ----

    Pkt pkt(int op, int guestPort, int hostPort) {
        return new Pkt(cid, HOST, guestPort, hostPort, VirtioVsock.TYPE_STREAM, op, 0, 0, 0, new byte[0], 0);
    }

    static byte[] encode(Pkt p) {
        ByteBuffer b = ByteBuffer.allocate(HDR).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(p.srcCid).putLong(p.dstCid).putInt(p.srcPort).putInt(p.dstPort).putInt(p.len)
                .putShort((short) p.type).putShort((short) p.op).putInt(p.flags).putInt(p.bufAlloc).putInt(p.fwdCnt);
        return b.array();
    }

    static Pkt decode(byte[] h, byte[] data) {
        ByteBuffer b = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN);
        long src = b.getLong(), dst = b.getLong();
        int sp = b.getInt(), dp = b.getInt(), len = b.getInt();
        int type = b.getShort() & 0xFFFF, op = b.getShort() & 0xFFFF;
        return new Pkt(src, dst, sp, dp, type, op, b.getInt(), b.getInt(), b.getInt(), data, len);
    }

    // ---- tx ----

    /**
     * virtio_transport_send_pkt_work: header and payload as two descriptors (no payload
     * descriptor when empty), kick, and wait until the device used the chain.
     */
    void send(Pkt p) {
        sendRaw(encode(p), p.data);
    }

    void sendRaw(byte[] header, byte[] payload) {
        assertTrue(header.length + payload.length <= txAreaSize);
        drv.poke(txArea, header);
        int head;
        if (payload.length == 0) {
            head = tx.add(Buf.out(txArea, header.length));
        } else {
            drv.poke(txArea + header.length, payload);
            head = tx.add(Buf.out(txArea, header.length), Buf.out(txArea + header.length, payload.length));
        }
        tx.kick();
        Used u = tx.await();
        assertEquals(head, u.id());
        assertEquals(0, u.len(), "tx chains are used with length 0");
    }

    // ---- rx ----

    /** virtio_transport_rx_work for one buffer: the next packet, its buffer posted again; null if none yet. */
    Pkt poll() {
        Used u = rx.poll();
        while (u != null && odd.remove(u.id())) {
            assertEquals(0, u.len(), "a buffer with no room for the packet is used empty");
            oddUsed++;
            u = rx.poll();
        }
        if (u == null) {
            return null;
        }
        Long buf = rxBuffers.remove(u.id());
        assertTrue(buf != null, "used id " + u.id() + " is not an rx buffer");
        assertTrue(u.len() >= HDR && u.len() <= HDR + RX_PAYLOAD, "used length " + u.len());
        byte[] h = drv.peek(buf, HDR);
        int len = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).getInt(24);
        assertEquals(HDR + len, u.len(), "used length = header + len");
        Pkt p = decode(h, drv.peek(buf + HDR, len));
        if (p.op != VirtioVsock.OP_RST) {
            assertEquals(VirtioVsock.TYPE_STREAM, p.type); // a RST echoes the type it answers
        }
        assertEquals(cid, p.dstCid, "packets to the guest carry its CID");
        if (!small.remove(u.id())) {
            postRx(buf);
            rx.kick();
        }
        return p;
    }

    /** Waits for the next packet from the device (it works on its own thread). */
    Pkt recv() {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        for (;;) {
            Pkt p = poll();
            if (p != null) {
                return p;
            }
            if (System.nanoTime() > deadline) {
                fail("no packet from the device within 10 s");
            }
            Thread.onSpinWait();
        }
    }

    /** The next packet, which must be {@code op} between these ports. */
    Pkt expect(int op, int guestPort, int hostPort) {
        Pkt p = recv();
        assertEquals(op, p.op, () -> "op of " + p);
        assertEquals(HOST, p.srcCid, () -> "src cid of " + p);
        assertEquals(hostPort, p.srcPort, () -> "src port of " + p);
        assertEquals(guestPort, p.dstPort, () -> "dst port of " + p);
        return p;
    }

    /** Waits for the next used event buffer and returns its event id. */
    int awaitEvent() {
        Used u = event.await();
        assertEquals(4, u.len(), "an event is 4 bytes");
        long b = eventBuffers.remove(u.id());
        int id = ByteBuffer.wrap(drv.peek(b, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
        eventBuffers.put(event.add(Buf.in(b, 4)), b);
        event.kick();
        return id;
    }
}
