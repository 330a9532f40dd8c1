package dev.rivet.virtio.net;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.devices.net.NetBackend;
import dev.rivet.virtio.GuestDriver;
import dev.rivet.virtio.GuestDriver.Buf;
import dev.rivet.virtio.GuestDriver.DriverQueue;
import dev.rivet.virtio.GuestDriver.Used;
import dev.rivet.virtio.GuestDriver.Wire;
import dev.rivet.virtio.Virtio;
import dev.rivet.virtio.mmio.VirtioMmio;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static dev.rivet.virtio.Virtio.bit;
import static dev.rivet.virtio.mmio.VirtioMmio.*;
import static dev.rivet.virtio.net.VirtioNet.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * virtio-net driven the way Linux's drivers/net/virtio_net.c does: virtnet_probe reads the
 * MAC and link status; the receive queue is filled with single-descriptor writable buffers
 * (1530-byte "small" buffers without MRG_RXBUF, smaller mergeable ones with it) and frames
 * are read back by num_buffers; transmissions carry the 12-byte header in the same buffer as
 * the frame or just before it, with NEEDS_CSUM and the pseudo-header sum for checksum offload.
 * A fake backend stands for the host network.
 */
class VirtioNetTest {
    static final byte[] MAC = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    static final long ALL = bit(F_CSUM) | bit(F_MAC) | bit(F_MRG_RXBUF) | bit(F_STATUS) | bit(F_GUEST_CSUM)
            | bit(F_HOST_TSO4) | bit(F_GUEST_TSO4) | bit(F_CTRL_VQ) | bit(F_MQ) | bit(F_MTU)
            | bit(Virtio.F_INDIRECT_DESC) | bit(Virtio.F_EVENT_IDX);
    /** Linux's small receive buffer: header plus GOOD_PACKET_LEN (1518). */
    static final int SMALL_BUF = HDR_SIZE + 1518;

    final GuestRam ram = new GuestRam(GuestDriver.RAM_BASE, GuestDriver.RAM_SIZE);
    final Wire irq = new Wire();
    final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    final ExecutorService io = Executors.newSingleThreadExecutor(r -> new Thread(r, "net-io"));
    final FakeBackend backend = new FakeBackend();
    VirtioNet net;
    VirtioMmio mmio;
    GuestDriver drv;
    DriverQueue rx, tx;
    /** Guest address of each posted receive buffer, by head. */
    final Map<Integer, Long> rxBufs = new HashMap<>();
    long txArea;

    @AfterEach
    void close() throws InterruptedException {
        io.shutdownNow();
        assertTrue(io.awaitTermination(10, TimeUnit.SECONDS));
        ram.close();
    }

    void attach() {
        net = new VirtioNet(backend, MAC, io);
        mmio = new VirtioMmio(net, new DmaView(ram), irq, errors::add);
        drv = new GuestDriver(ram, mmio, irq);
        txArea = drv.alloc(4096, 64);
    }

    /** A new card, then {@link #up}. */
    long probe(long wanted) {
        attach();
        return up(wanted);
    }

    /** virtnet_probe and virtnet_open up to DRIVER_OK, accepting {@code wanted}. */
    long up(long wanted) {
        long f = drv.negotiate(wanted);
        rx = drv.queue(RX_QUEUE, 64);
        tx = drv.queue(TX_QUEUE, 64);
        rxBufs.clear();
        drv.driverOk();
        return f;
    }

    long cfg(int off, int size) {
        return Bus.readDevice(mmio, CONFIG + off, size);
    }

    // ---- the driver's side ----

    /** try_fill_recv: posts {@code n} writable buffers of {@code len} bytes (does not kick). */
    void post(int n, int len) {
        for (int i = 0; i < n; i++) {
            long a = drv.alloc(len, 64);
            rxBufs.put(rx.add(Buf.in(a, len)), a);
        }
    }

    /** A received frame as the driver sees it: the header and the data of each buffer. */
    record Received(byte[] header, byte[] frame, List<Used> used) {
        int numBuffers() {
            return (header[HDR_NUM_BUFFERS] & 0xFF) | (header[HDR_NUM_BUFFERS + 1] & 0xFF) << 8;
        }
    }

    /** receive_buf: takes one frame off the used ring, following num_buffers (null when there is none). */
    Received receive() {
        Used first = rx.poll();
        if (first == null) {
            return null;
        }
        byte[] b = drv.peek(rxBufs.get(first.id()), first.len());
        byte[] header = Arrays.copyOf(b, HDR_SIZE);
        int num = (header[HDR_NUM_BUFFERS] & 0xFF) | (header[HDR_NUM_BUFFERS + 1] & 0xFF) << 8;
        List<Used> used = new ArrayList<>(List.of(first));
        ByteBuffer data = ByteBuffer.allocate(64 * 1024);
        data.put(b, HDR_SIZE, b.length - HDR_SIZE);
        for (int i = 1; i < num; i++) {
            Used u = rx.poll();
            assertTrue(u != null, "num_buffers " + num + " but only " + i + " buffers used");
            used.add(u);
            data.put(drv.peek(rxBufs.get(u.id()), u.len()));
        }
        return new Received(header, Arrays.copyOf(data.array(), data.position()), used);
    }

    /** start_xmit with the header pushed in front of the frame (one buffer); waits for the chain back. */
    Used send(byte[] header, byte[] frame) {
        drv.poke(txArea, header);
        drv.poke(txArea + header.length, frame);
        int head = tx.add(Buf.out(txArea, header.length + frame.length));
        tx.kick();
        Used u = tx.await();
        assertEquals(head, u.id());
        return u;
    }

    static byte[] header(int flags, int gsoType, int csumStart, int csumOffset) {
        return ByteBuffer.allocate(HDR_SIZE).order(ByteOrder.LITTLE_ENDIAN).put((byte) flags).put((byte) gsoType)
                .putShort((short) 0).putShort((short) 0).putShort((short) csumStart).putShort((short) csumOffset)
                .putShort((short) 0).array();
    }

    static byte[] plainHeader() {
        return header(0, GSO_NONE, 0, 0);
    }

    /** An Ethernet frame of {@code len} bytes to the card, with a pattern from {@code seed}. */
    static byte[] frame(int len, int seed) {
        byte[] f = new byte[len];
        new SplittableRandom(seed).nextBytes(f);
        System.arraycopy(MAC, 0, f, 0, 6);
        f[12] = (byte) 0x88;
        f[13] = (byte) 0xB5; // local experimental EtherType
        return f;
    }

    // ---- features and configuration ----

    @Test
    void offersMacStatusMergeableBuffersAndChecksumOffloadOnly() {
        attach();
        assertEquals(Virtio.ID_NET, drv.read(DEVICE_ID));
        long device = drv.offered() & ((1L << 24) - 1); // the device-specific bits
        assertEquals(bit(F_CSUM) | bit(F_MAC) | bit(F_MRG_RXBUF) | bit(F_STATUS), device, Long.toHexString(device));
        drv.write(QUEUE_SEL, RX_QUEUE);
        assertEquals(QUEUE_SIZE, drv.read(QUEUE_NUM_MAX));
        drv.write(QUEUE_SEL, TX_QUEUE);
        assertEquals(QUEUE_SIZE, drv.read(QUEUE_NUM_MAX));
        drv.write(QUEUE_SEL, 2);
        assertEquals(0, drv.read(QUEUE_NUM_MAX), "no control queue");
    }

    @Test
    void configHoldsTheMacAndLinkUp() {
        attach();
        byte[] mac = new byte[6];
        for (int i = 0; i < 6; i++) {
            mac[i] = (byte) cfg(CFG_MAC + i, 1); // virtio_cread_bytes reads byte by byte
        }
        assertArrayEquals(MAC, mac);
        assertEquals(0x1200_5452L, cfg(0, 4), "bytes in order, read little-endian");
        assertEquals(0x0001_5634L, cfg(4, 4), "the last of the MAC, then le16 status");
        assertEquals(S_LINK_UP, cfg(CFG_STATUS, 2));
        assertArrayEquals(MAC, backend.port.mac());
        assertArrayEquals(MAC, net.mac());

        Bus.writeDevice(mmio, CONFIG + CFG_MAC, 1, 0x02);
        assertTrue(errors.getLast().contains("read-only"), errors.toString());
        assertEquals(0x52, cfg(CFG_MAC, 1));
        cfg(CONFIG_SIZE, 1);
        assertTrue(errors.getLast().contains("0x108"), "an 8-byte config space: " + errors);
    }

    @Test
    void unpluggingTheCableClearsLinkUpWithAConfigInterrupt() {
        probe(ALL);
        int gen = (int) drv.read(CONFIG_GENERATION);
        net.setLinkUp(false);
        assertEquals(0, cfg(CFG_STATUS, 2));
        assertEquals(Virtio.INT_CONFIG_CHANGE, drv.takeInterrupt());
        assertTrue(drv.read(CONFIG_GENERATION) != gen);
        net.setLinkUp(true);
        assertEquals(S_LINK_UP, cfg(CFG_STATUS, 2));
        assertEquals(Virtio.INT_CONFIG_CHANGE, drv.takeInterrupt());
    }

    @Test
    void theBackendStartsOnceWithTheCardAndClosesWithIt() {
        attach();
        assertEquals(1, backend.starts.get());
        assertTrue(backend.port != null);
        up(ALL);
        drv.write(STATUS, 0);
        up(ALL);
        assertEquals(1, backend.starts.get(), "not again at DRIVER_OK or reset");
        assertFalse(backend.closed, "a guest reset leaves the link alone");
        net.close();
        assertTrue(backend.closed);
    }

    @Test
    void macAddressesAreCheckedAndParsed() {
        assertArrayEquals(MAC, VirtioNet.parseMac("52:54:00:12:34:56"));
        assertEquals("52:54:00:12:34:56", VirtioNet.formatMac(MAC));
        assertArrayEquals(new byte[] {0x02, 0, 0, 0, 0, (byte) 0xff}, VirtioNet.parseMac("02:00:00:00:00:FF"));
        for (String bad : List.of("52:54:00:12:34", "52:54:00:12:34:56:78", "52-54-00-12-34-56", "52:54:00:12:34:5g",
                "52:54:00:12:34:567", "01:00:5e:00:00:01", "00:00:00:00:00:00", "52:54:00:12:34:+5")) {
            assertThrows(IllegalArgumentException.class, () -> VirtioNet.parseMac(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> new VirtioNet(backend, new byte[5], io));
        assertEquals(0, backend.starts.get(), "a card refused is not started");
    }

    // ---- transmit ----

    @Test
    void transmitsAPlainFrameOnTheIoThread() {
        probe(ALL);
        byte[] f = frame(60, 1);
        assertEquals(0, send(plainHeader(), f).len(), "nothing written into a transmit chain");
        assertEquals(1, backend.sent.size());
        assertArrayEquals(f, backend.sent.getFirst());
        assertEquals(List.of("net-io"), backend.sendThreads, "never on the hart thread");
        assertEquals(Virtio.INT_USED_BUFFER, drv.takeInterrupt());
        assertEquals(new VirtioNet.Stats(0, 0, 0, 0, 1, 60, 0), net.stats());
    }

    @Test
    void headerAndFrameMaySplitAcrossDescriptorsAndIndirectTables() {
        probe(ALL);
        byte[] f = frame(NetBackend.MAX_FRAME, 2);
        drv.poke(txArea, plainHeader());
        drv.poke(txArea + 100, f);
        tx.add(Buf.out(txArea, HDR_SIZE), Buf.out(txArea + 100, 700), Buf.out(txArea + 800, f.length - 700));
        tx.kick();
        tx.await();
        byte[] g = frame(1000, 3);
        drv.poke(txArea + 100, g);
        tx.addIndirect(Buf.out(txArea, 5), Buf.out(txArea + 5, HDR_SIZE - 5), Buf.out(txArea + 100, g.length));
        tx.kick();
        tx.await();
        assertEquals(2, backend.sent.size());
        assertArrayEquals(f, backend.sent.get(0));
        assertArrayEquals(g, backend.sent.get(1));
        assertTrue(errors.isEmpty(), errors.toString());
    }

    // ---- checksum offload ----

    static final byte[] SRC_IP = {10, 0, 2, 15}, DST_IP = {93, (byte) 184, (byte) 215, 14};

    /** An IPv4 frame carrying {@code l4} (protocol {@code proto}) as Linux hands it to the card. */
    static byte[] ipv4Frame(int proto, byte[] l4) {
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + l4.length);
        b.put(MAC).put(new byte[] {0x52, 0x55, 10, 0, 2, 2}).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + l4.length)).putShort((short) 0x1234)
                .putShort((short) 0x4000).put((byte) 64).put((byte) proto).putShort((short) 0).put(SRC_IP)
                .put(DST_IP);
        b.put(l4);
        return b.array();
    }

    static byte[] ipv4Pseudo(int proto, int len) {
        return ByteBuffer.allocate(12).put(SRC_IP).put(DST_IP).put((byte) 0).put((byte) proto).putShort((short) len)
                .array();
    }

    /** RFC 1071 by the book: 32-bit accumulation of the concatenated bytes, folded. */
    static int onesSum(byte[]... parts) {
        int total = 0;
        for (byte[] p : parts) {
            total += p.length;
        }
        ByteBuffer all = ByteBuffer.allocate(total + 1);
        for (byte[] p : parts) {
            all.put(p);
        }
        all.flip();
        long sum = 0;
        while (all.remaining() >= 2) {
            sum += all.getShort() & 0xFFFF;
        }
        if (all.hasRemaining()) {
            sum += (all.get() & 0xFF) << 8;
        }
        while (sum > 0xFFFF) {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (int) sum;
    }

    /** Sends {@code l4} with NEEDS_CSUM and the pseudo-header seed in its checksum field; returns what the backend got. */
    byte[] sendWithChecksumOffload(int proto, byte[] l4, int csumOffset) {
        byte[] seeded = l4.clone();
        int seed = onesSum(ipv4Pseudo(proto, l4.length)); // ~csum_tcpudp_magic(..., 0): the folded sum
        seeded[csumOffset] = (byte) (seed >> 8);
        seeded[csumOffset + 1] = (byte) seed;
        send(header(HDR_F_NEEDS_CSUM, GSO_NONE, 34, csumOffset), ipv4Frame(proto, seeded));
        return backend.sent.getLast();
    }

    void assertChecksumCompleted(int proto, byte[] l4, int csumOffset, byte[] got) {
        byte[] sentL4 = Arrays.copyOfRange(got, 34, got.length);
        assertEquals(0xFFFF, onesSum(ipv4Pseudo(proto, l4.length), sentL4), "checksum verifies");
        byte[] zeroed = l4.clone();
        zeroed[csumOffset] = zeroed[csumOffset + 1] = 0;
        int want = ~onesSum(ipv4Pseudo(proto, l4.length), zeroed) & 0xFFFF;
        int have = (sentL4[csumOffset] & 0xFF) << 8 | (sentL4[csumOffset + 1] & 0xFF);
        assertEquals(want == 0 ? 0xFFFF : want, have);
        // Everything else is untouched.
        byte[] expect = ipv4Frame(proto, l4);
        expect[34 + csumOffset] = sentL4[csumOffset];
        expect[34 + csumOffset + 1] = sentL4[csumOffset + 1];
        assertArrayEquals(expect, got);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 7, 1000, 1460})
    void completesTcpChecksumsFromThePseudoHeaderSeed(int payload) {
        probe(ALL);
        byte[] tcp = new byte[20 + payload];
        new SplittableRandom(payload).nextBytes(tcp);
        tcp[12] = 0x50; // data offset 5
        byte[] got = sendWithChecksumOffload(6, tcp, 16);
        assertChecksumCompleted(6, tcp, 16, got);
        assertEquals(0, net.stats().txDropped());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 333, 1472})
    void completesUdpChecksums(int payload) {
        probe(ALL);
        byte[] udp = new byte[8 + payload];
        new SplittableRandom(payload * 31L).nextBytes(udp);
        udp[4] = (byte) (udp.length >> 8);
        udp[5] = (byte) udp.length;
        byte[] got = sendWithChecksumOffload(17, udp, 6);
        assertChecksumCompleted(17, udp, 6, got);
    }

    @Test
    void aUdpChecksumThatComesOutZeroIsSentAsFfff() {
        probe(ALL);
        // Choose the last two payload bytes so that the sum over pseudo-header and datagram is 0xFFFF.
        byte[] udp = new byte[8 + 10];
        udp[0] = 0x30;
        udp[1] = 0x39;
        udp[2] = 0x00;
        udp[3] = 0x35;
        udp[5] = (byte) udp.length;
        int partial = onesSum(ipv4Pseudo(17, udp.length), udp);
        int fill = ~partial & 0xFFFF; // adding it makes the folded sum 0xFFFF, the checksum 0
        udp[16] = (byte) (fill >> 8);
        udp[17] = (byte) fill;
        assertEquals(0xFFFF, onesSum(ipv4Pseudo(17, udp.length), udp));
        byte[] got = sendWithChecksumOffload(17, udp, 6);
        assertEquals(0xFF, got[34 + 6] & 0xFF);
        assertEquals(0xFF, got[34 + 7] & 0xFF);
    }

    @Test
    void theChecksumFieldMayEndTheFrame() {
        probe(ALL);
        byte[] f = frame(64, 4);
        f[62] = f[63] = 0; // no pseudo-header: the seed is 0
        send(header(HDR_F_NEEDS_CSUM, GSO_NONE, 14, 48), f); // field at 62..63, the last two bytes
        byte[] got = backend.sent.getLast();
        assertEquals(0xFFFF, onesSum(Arrays.copyOfRange(got, 14, 64)));
        assertTrue(errors.isEmpty(), errors.toString());
    }

    // ---- hostile transmissions: dropped, logged, returned; the card keeps working ----

    void assertDroppedAndStillWorking(String errorPart) {
        assertEquals(0, backend.sent.size(), "dropped");
        assertTrue(errors.stream().anyMatch(e -> e.contains(errorPart)), errors.toString());
        assertEquals(0, drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET);
        assertEquals(1, net.stats().txDropped());
        byte[] f = frame(100, 9);
        send(plainHeader(), f);
        assertArrayEquals(f, backend.sent.getLast(), "the next frame goes out");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3})
    void aChecksumOutsideTheFrameIsDropped(int which) {
        probe(ALL);
        int[][] startOffset = {{99, 0}, {98, 1}, {0, 99}, {0xFFFF, 0xFFFF}}; // a 100-byte frame
        assertEquals(0, send(header(HDR_F_NEEDS_CSUM, GSO_NONE, startOffset[which][0], startOffset[which][1]),
                frame(100, 5)).len());
        assertDroppedAndStillWorking("csum_start");
    }

    @Test
    void needsCsumWithoutTheFeatureIsDropped() {
        probe(ALL & ~bit(F_CSUM));
        send(header(HDR_F_NEEDS_CSUM, GSO_NONE, 14, 2), frame(100, 6));
        assertDroppedAndStillWorking("NEEDS_CSUM");
    }

    @Test
    void aSegmentationRequestIsDropped() {
        probe(ALL);
        send(header(0, 1 /* GSO_TCPV4 */, 0, 0), frame(100, 7));
        assertDroppedAndStillWorking("gso_type 1");
    }

    @Test
    void anOversizeFrameIsDropped() {
        probe(ALL);
        long big = drv.alloc(HDR_SIZE + NetBackend.MAX_FRAME + 1, 64);
        drv.poke(big, plainHeader());
        drv.poke(big + HDR_SIZE, frame(NetBackend.MAX_FRAME + 1, 8));
        tx.add(Buf.out(big, HDR_SIZE + NetBackend.MAX_FRAME + 1));
        tx.kick();
        assertEquals(0, tx.await().len());
        assertDroppedAndStillWorking("1531 readable bytes");
    }

    @Test
    void aRuntFrameIsDropped() {
        probe(ALL);
        send(plainHeader(), frame(ETH_HEADER, 10)); // the smallest frame goes out
        backend.sent.clear();
        send(plainHeader(), Arrays.copyOf(frame(20, 10), ETH_HEADER - 1));
        assertDroppedAndStillWorking("25 readable bytes");
    }

    @Test
    void aChainWithNothingToReadIsReturnedUnsent() {
        probe(ALL);
        int head = tx.add(Buf.in(txArea, 200));
        tx.kick();
        assertEquals(new Used(head, 0), tx.await());
        assertDroppedAndStillWorking("0 readable bytes");
    }

    @Test
    void aHeaderWithoutAFrameIsDropped() {
        probe(ALL);
        drv.poke(txArea, plainHeader());
        tx.add(Buf.out(txArea, HDR_SIZE));
        tx.kick();
        tx.await();
        assertDroppedAndStillWorking("12 readable bytes");
    }

    // ---- receive ----

    @Test
    void withoutMergeableBuffersEachFrameFillsOneSmallBuffer() {
        probe(ALL & ~bit(F_MRG_RXBUF));
        post(4, SMALL_BUF);
        rx.kick();
        byte[] f = frame(NetBackend.MAX_FRAME, 11);
        byte[] g = frame(60, 12);
        assertTrue(backend.deliver(f));
        assertTrue(backend.deliver(g));
        Received a = receive();
        assertArrayEquals(f, a.frame());
        assertEquals(HDR_SIZE + f.length, a.used().getFirst().len());
        byte[] expectHeader = new byte[HDR_SIZE];
        expectHeader[HDR_NUM_BUFFERS] = 1;
        assertArrayEquals(expectHeader, a.header(), "no flags, GSO_NONE, num_buffers 1");
        assertArrayEquals(g, receive().frame());
        assertNull(receive());
        assertEquals(Virtio.INT_USED_BUFFER, drv.takeInterrupt());
        assertEquals(new VirtioNet.Stats(2, f.length + g.length, 0, 0, 0, 0, 0), net.stats());
    }

    @Test
    void aMergedFrameSpansThreeBuffersWithNumBuffersInTheFirst() {
        probe(ALL);
        post(4, 600);
        rx.kick();
        byte[] f = frame(1514, 13);
        assertTrue(backend.deliver(f));
        Received r = receive();
        assertEquals(3, r.numBuffers());
        assertEquals(List.of(600, 600, HDR_SIZE + 1514 - 1200), r.used().stream().map(Used::len).toList());
        assertArrayEquals(f, r.frame());
        assertNull(rx.poll(), "the fourth buffer is untouched");
        byte[] g = frame(200, 14);
        assertTrue(backend.deliver(g), "a small frame fits the fourth buffer");
        Received s = receive();
        assertEquals(1, s.numBuffers());
        assertArrayEquals(g, s.frame());
    }

    @Test
    void aMergedFrameIsPublishedWithOneUsedIndexStore() {
        attach();
        drv.negotiate(ALL);
        long used = drv.alloc(4096, 4096); // its own page, so that the observer sees only ring writes
        rx = drv.queue(RX_QUEUE, 64, drv.alloc(16 * 64, 16), drv.alloc(6 + 2 * 64, 2), used);
        tx = drv.queue(TX_QUEUE, 64);
        drv.driverOk();
        drv.alloc(4096, 4096);
        post(3, 600);
        List<Integer> usedIdxSeen = new ArrayList<>();
        ram.setWriteObserver(page -> {
            if (page == used) {
                usedIdxSeen.add(drv.u16(used + 2));
            }
        });
        assertTrue(backend.deliver(frame(1514, 15)));
        ram.setWriteObserver(null);
        assertEquals(3, rx.usedIdx());
        assertFalse(usedIdxSeen.isEmpty());
        assertTrue(usedIdxSeen.stream().allMatch(i -> i == 0),
                "the used index never showed part of the frame: " + usedIdxSeen);
        assertEquals(3, receive().numBuffers());
    }

    @Test
    void tooFewBuffersConsumeNoneUntilTheGuestPostsMore() {
        probe(ALL); // EVENT_IDX: the driver kicks only when avail_event asks
        post(2, 600);
        rx.kick();
        byte[] f = frame(1514, 16);
        assertFalse(backend.deliver(f), "1526 bytes do not fit in 1200");
        assertEquals(0, rx.usedIdx(), "nothing consumed");
        assertFalse(irq.level);
        assertEquals(0, backend.ready.get());
        assertFalse(backend.deliver(f), "still not");
        assertEquals(1, net.stats().rxNoBuffers(), "one wait, however many retries");

        int old = rx.availIdx();
        post(1, 600);
        assertTrue(rx.kickNeeded(old), "the device asked to hear of the next buffer");
        rx.kick();
        assertEquals(1, backend.ready.get(), "guestReady on the receive queue notification");
        assertTrue(backend.deliver(f));
        Received r = receive();
        assertEquals(3, r.numBuffers());
        assertArrayEquals(f, r.frame());
        rx.kick();
        assertEquals(1, backend.ready.get(), "no guestReady without a refused frame");
    }

    @Test
    void withoutMergeableBuffersAnEmptyRingRefusesTheFrameUntilTheGuestPosts() {
        probe(ALL & ~bit(F_MRG_RXBUF));
        byte[] f = frame(300, 17);
        assertFalse(backend.deliver(f));
        post(1, SMALL_BUF);
        rx.kick();
        assertEquals(1, backend.ready.get());
        assertTrue(backend.deliver(f));
        assertArrayEquals(f, receive().frame());
    }

    @Test
    void framesBeforeDriverOkAreDropped() {
        attach();
        assertTrue(backend.deliver(frame(100, 18)), "no driver: dropped, not refused");
        drv.negotiate(ALL);
        rx = drv.queue(RX_QUEUE, 64);
        tx = drv.queue(TX_QUEUE, 64);
        post(2, 2048);
        assertTrue(backend.deliver(frame(100, 19)), "queues ready but no DRIVER_OK: dropped");
        assertEquals(0, rx.usedIdx());
        drv.driverOk();
        byte[] f = frame(100, 20);
        assertTrue(backend.deliver(f));
        assertArrayEquals(f, receive().frame());
        assertEquals(2, net.stats().rxDropped());
        assertEquals(1, net.stats().rxFrames());
    }

    @Test
    void resetReleasesABackendWaitingForBuffers() {
        probe(ALL);
        assertFalse(backend.deliver(frame(100, 21)));
        drv.write(STATUS, 0);
        assertEquals(1, backend.ready.get(), "the backend stops waiting");
        assertTrue(backend.deliver(frame(100, 21)), "dropped while the driver is away");
        up(ALL);
        post(1, 2048);
        byte[] f = frame(100, 22);
        assertTrue(backend.deliver(f));
        assertArrayEquals(f, receive().frame());
    }

    // ---- hostile receive rings ----

    @Test
    void aReceiveBufferSmallerThanTheHeaderNeedsReset() {
        probe(ALL);
        post(1, HDR_SIZE - 1);
        rx.kick();
        assertTrue(backend.deliver(frame(100, 22)), "dropped, not refused");
        assertTrue((drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET) != 0);
        assertTrue(errors.getLast().contains("less than the 12-byte header"), errors.toString());
        assertEquals(Virtio.INT_CONFIG_CHANGE, drv.takeInterrupt() & Virtio.INT_CONFIG_CHANGE);
        assertTrue(backend.deliver(frame(100, 23)), "a broken card drops frames");
        assertEquals(0, rx.usedIdx());
    }

    @Test
    void aMergedFrameWhoseLaterBufferIsTooSmallNeedsReset() {
        probe(ALL);
        post(1, 600);
        post(1, 4);
        post(1, 600);
        assertTrue(backend.deliver(frame(1000, 24)));
        assertTrue((drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET) != 0);
        assertEquals(0, rx.usedIdx(), "nothing published");
    }

    @Test
    void withoutMergeableBuffersAFrameTooBigForTheBufferIsDroppedAndTheBufferKept() {
        probe(ALL & ~bit(F_MRG_RXBUF));
        post(1, 512);
        assertTrue(backend.deliver(frame(1000, 25)), "dropped");
        assertTrue(backend.deliver(frame(1200, 26)), "dropped");
        assertEquals(1, errors.size(), "logged once: " + errors);
        assertTrue(errors.getFirst().contains("does not fit"), errors.toString());
        assertEquals(0, rx.usedIdx());
        byte[] f = frame(500, 27);
        assertTrue(backend.deliver(f));
        assertArrayEquals(f, receive().frame());
        assertEquals(0, drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET);
        assertEquals(2, net.stats().rxDropped());
    }

    @Test
    void anAvailIndexTooFarAheadNeedsReset() {
        probe(ALL);
        rx.setAvailIdx(1000);
        assertTrue(backend.deliver(frame(100, 28)));
        assertTrue((drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET) != 0);
        assertTrue(errors.getLast().contains("avail idx"), errors.toString());
    }

    @Test
    void framesTheBackendShouldNotSendAreDropped() {
        probe(ALL);
        post(4, 2048);
        assertTrue(backend.deliver(new byte[NetBackend.MAX_FRAME + 1]));
        assertTrue(backend.deliver(new byte[ETH_HEADER - 1]));
        assertEquals(0, rx.usedIdx());
        assertEquals(2, net.stats().rxDropped());
        assertTrue(errors.isEmpty(), "not the guest's fault: " + errors);
    }
}
