package dev.rivet.virtio.vsock;

import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.virtio.GuestDriver;
import dev.rivet.virtio.GuestDriver.Buf;
import dev.rivet.virtio.GuestDriver.Wire;
import dev.rivet.virtio.Virtio;
import dev.rivet.virtio.mmio.VirtioMmio;
import dev.rivet.virtio.vsock.GuestVsock.Pkt;
import dev.rivet.virtio.vsock.TestBackend.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static dev.rivet.virtio.mmio.VirtioMmio.*;
import static dev.rivet.virtio.vsock.VirtioVsock.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * virtio-vsock driven the way Linux's virtio_transport.c and virtio_transport_common.c
 * drive it, with the device's processing on its own executor thread and an in-memory host
 * side ({@link TestBackend}).
 */
class VirtioVsockTest {
    static final long CID = 42;
    static final int BUF = 16384;

    final GuestRam ram = new GuestRam(GuestDriver.RAM_BASE, GuestDriver.RAM_SIZE);
    final Wire irq = new Wire();
    final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    final ExecutorService io = Executors.newSingleThreadExecutor(r -> new Thread(r, "vsock-io"));
    final TestBackend backend = new TestBackend();
    VirtioVsock dev;
    GuestDriver drv;
    GuestVsock g;

    @AfterEach
    void close() throws InterruptedException {
        if (dev != null) {
            dev.close();
        }
        io.shutdownNow();
        assertTrue(io.awaitTermination(10, TimeUnit.SECONDS));
        ram.close();
    }

    void attach(VsockLimits limits) {
        dev = new VirtioVsock(CID, backend, io, limits);
        drv = new GuestDriver(ram, new VirtioMmio(dev, new DmaView(ram), irq, errors::add), irq);
    }

    void probe(VsockLimits limits) {
        attach(limits);
        g = new GuestVsock(drv, 32);
    }

    void probe() {
        probe(new VsockLimits(BUF, 16));
    }

    /** A guest connect() to a listening host port: REQUEST, then the device's RESPONSE. */
    Stream connect(int guestPort, int hostPort, int guestBufAlloc) throws InterruptedException {
        backend.listening.add(hostPort);
        g.send(g.pkt(OP_REQUEST, guestPort, hostPort).withCredit(guestBufAlloc, 0));
        Pkt r = g.expect(OP_RESPONSE, guestPort, hostPort);
        assertEquals(dev.limits().bufAlloc(), r.bufAlloc(), "the device advertises its buffer");
        assertEquals(0, r.fwdCnt());
        Stream s = backend.nextAccepted();
        assertEquals(hostPort, s.hostPort);
        assertEquals(guestPort, s.guestPort);
        return s;
    }

    /** Proves nothing else is on its way for this connection: a CREDIT_REQUEST is answered next. */
    Pkt barrier(int guestPort, int hostPort, int guestBufAlloc, int guestFwdCnt) {
        g.send(g.pkt(OP_CREDIT_REQUEST, guestPort, hostPort).withCredit(guestBufAlloc, guestFwdCnt));
        return g.expect(OP_CREDIT_UPDATE, guestPort, hostPort);
    }

    Pkt rw(int guestPort, int hostPort, byte[] data, int fwdCnt) {
        return g.pkt(OP_RW, guestPort, hostPort).withData(data).withCredit(BUF, fwdCnt);
    }

    static byte[] bytes(int n, int salt) {
        byte[] b = new byte[n];
        new SplittableRandom(salt).nextBytes(b);
        return b;
    }

    static void eventually(BooleanSupplier cond, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within 10 s: " + what);
            }
            Thread.onSpinWait();
        }
    }

    boolean needsReset() {
        return (drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET) != 0;
    }

    void assertLogged(String fragment) {
        synchronized (errors) {
            assertTrue(errors.stream().anyMatch(e -> e.contains(fragment)), "expected '" + fragment + "' in " + errors);
        }
    }

    // ---- identity ----

    @Test
    void identityFeaturesAndGuestCid() {
        attach(VsockLimits.DEFAULT);
        assertEquals(Virtio.ID_VSOCK, drv.read(DEVICE_ID));
        assertEquals(19, Virtio.ID_VSOCK);
        long f = drv.offered();
        assertEquals(Virtio.bit(F_STREAM), f & 0xFF_FFFFL, "stream sockets only, no SEQPACKET");
        assertEquals(CID, drv.readConfig(CFG_GUEST_CID, 4));
        assertEquals(0, drv.readConfig(CFG_GUEST_CID + 4, 4), "the upper half of the CID is zero");
        drv.writeConfig(CFG_GUEST_CID, 4, 7);
        assertEquals(CID, drv.readConfig(CFG_GUEST_CID, 4), "read-only");
        int[] max = {QUEUE_SIZE, QUEUE_SIZE, EVENT_QUEUE_SIZE, 0};
        for (int q = 0; q < 4; q++) {
            drv.write(QUEUE_SEL, q);
            assertEquals(max[q], drv.read(QUEUE_NUM_MAX), "queue " + q);
        }
        assertTrue(backend.host != null, "the device started its backend");
        assertEquals(CID, backend.host.guestCid());
    }

    @Test
    void reservedGuestCidsAreRefused() {
        for (long bad : new long[] {0, 1, 2, 0xFFFF_FFFFL, 1L << 32, -1}) {
            try {
                new VirtioVsock(bad, backend, io);
                fail("CID " + bad + " accepted");
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage().contains("CID"), e.getMessage());
            }
        }
    }

    // ---- connection setup ----

    @Test
    void guestConnectIsAnsweredWithResponseAndTheDevicesCredit() throws InterruptedException {
        probe();
        Stream s = connect(5000, 1234, 65536);
        assertEquals(1, dev.connectionCount());
        assertFalse(s.closedByDevice);
        assertTrue(errors.isEmpty(), errors.toString());
    }

    @Test
    void refusedPortsUnknownConnectionsOtherCidsAndOtherTypesGetRst() {
        probe();
        g.send(g.pkt(OP_REQUEST, 5000, 99).withCredit(BUF, 0));
        Pkt r = g.expect(OP_RST, 5000, 99);
        assertEquals(0, r.len());
        assertEquals(0, dev.connectionCount());

        g.send(g.pkt(OP_RW, 7, 8).withData(new byte[10]));
        g.expect(OP_RST, 7, 8);
        g.send(g.pkt(OP_SHUTDOWN, 7, 8).withFlags(3));
        g.expect(OP_RST, 7, 8);

        g.send(g.pkt(OP_REQUEST, 6000, 1).withCids(CID, 5));
        Pkt other = g.recv();
        assertEquals(OP_RST, other.op());
        assertEquals(5, other.srcCid(), "the RST comes from the CID that was asked for");
        assertEquals(1, other.srcPort());
        assertEquals(6000, other.dstPort());

        backend.listening.add(80);
        g.send(g.pkt(OP_REQUEST, 6001, 80).withType(2)); // SEQPACKET was not negotiated
        g.expect(OP_RST, 6001, 80);
        assertTrue(backend.accepted.isEmpty(), "no host connection for a seqpacket request");

        // A RST is never answered: the next packet is the reply to the REQUEST that follows it.
        g.send(g.pkt(OP_RST, 7, 8));
        g.send(g.pkt(OP_REQUEST, 7, 100));
        g.expect(OP_RST, 7, 100);
        assertNull(g.poll());
        assertFalse(needsReset());
    }

    @Test
    void connectionsBeyondTheLimitAreRefused() throws InterruptedException {
        probe(new VsockLimits(BUF, 2));
        connect(1, 80, BUF);
        connect(2, 80, BUF);
        backend.listening.add(80);
        g.send(g.pkt(OP_REQUEST, 3, 80).withCredit(BUF, 0));
        g.expect(OP_RST, 3, 80);
        assertLogged("limit");
        Stream host = backend.connectToGuest(9);
        eventually(() -> host.closedByDevice, "a host connection beyond the limit is closed");
        assertEquals(2, dev.connectionCount());
        g.send(g.pkt(OP_RST, 1, 80));
        connect(3, 80, BUF);
    }

    // ---- guest to host ----

    @Test
    void guestDataReachesTheHostAndCreditUpdatesFollowWhatTheHostTook() throws InterruptedException {
        probe();
        Stream s = connect(5000, 1234, BUF);
        s.limitWrites(0);
        byte[] all = bytes(BUF + 10000, 1);
        for (int off = 0; off < BUF; off += 4096) { // exactly the credit the RESPONSE gave
            g.send(rw(5000, 1234, Arrays.copyOfRange(all, off, off + 4096), 0));
        }
        assertEquals(0, s.receivedBytes().length, "the host took nothing yet");
        assertNull(g.poll(), "nothing to tell the guest while the host takes nothing");

        s.allowWrite(10000);
        Pkt u = g.expect(OP_CREDIT_UPDATE, 5000, 1234); // the guest's view of our space is 0 < BUF/2
        assertEquals(BUF, u.bufAlloc());
        assertEquals(10000, u.fwdCnt(), "fwd_cnt counts what the host took");
        assertArrayEquals(Arrays.copyOf(all, 10000), s.receivedBytes());

        s.allowWrite(Long.MAX_VALUE / 2);
        eventually(() -> s.receivedBytes().length == BUF, "the rest of the buffered data reaches the host");
        // The guest now believes in 10000 bytes of space (>= BUF/2): no update was needed.
        Pkt b = barrier(5000, 1234, BUF, 0);
        assertEquals(BUF, b.fwdCnt());

        g.send(rw(5000, 1234, Arrays.copyOfRange(all, BUF, BUF + 10000), 0));
        assertArrayEquals(all, s.receivedBytes(), "in order, nothing lost or repeated");
        // The host took it at once, but the guest now believes in only BUF - 10000 bytes.
        Pkt u2 = g.expect(OP_CREDIT_UPDATE, 5000, 1234);
        assertEquals(BUF + 10000, u2.fwdCnt());
        barrier(5000, 1234, BUF, 0);
        assertNull(g.poll());
        assertTrue(errors.isEmpty(), errors.toString());
    }

    @Test
    void guestDataBeyondTheCreditResetsTheConnection() throws InterruptedException {
        probe();
        Stream s = connect(5000, 1234, BUF);
        s.limitWrites(100);
        g.send(rw(5000, 1234, new byte[BUF - 50], 0));
        Pkt u = g.expect(OP_CREDIT_UPDATE, 5000, 1234); // the host took 100: the guest may send 150
        assertEquals(100, u.fwdCnt());
        g.send(rw(5000, 1234, new byte[150], 0)); // exactly the credit
        assertTrue(errors.isEmpty(), errors.toString());
        g.send(rw(5000, 1234, new byte[1], 0)); // 1 byte more than the device can hold
        g.expect(OP_RST, 5000, 1234);
        assertTrue(s.closedByDevice);
        assertLogged("beyond the credit");
        assertEquals(0, dev.connectionCount());
        assertFalse(needsReset(), "a connection problem, not a device one");
    }

    @Test
    void guestShutdownSendHalfClosesTheHostOnlyAfterBufferedData() throws InterruptedException {
        probe();
        Stream s = connect(5000, 1234, BUF);
        s.limitWrites(0);
        g.send(rw(5000, 1234, bytes(100, 2), 0));
        g.send(g.pkt(OP_SHUTDOWN, 5000, 1234).withFlags(SHUTDOWN_SEND).withCredit(BUF, 0));
        assertFalse(s.outputShut, "100 bytes still wait for the host");
        s.allowWrite(1000);
        eventually(() -> s.outputShut, "host output shut after the data");
        assertArrayEquals(bytes(100, 2), s.receivedBytes());

        s.offer(bytes(50, 3)); // the other direction still works
        Pkt p = g.expect(OP_RW, 5000, 1234);
        assertArrayEquals(bytes(50, 3), p.data());
        assertEquals(100, p.fwdCnt());

        // Now neither side will send: the device passes the host's EOF on as a SHUTDOWN
        // (the guest shut first, yet it still learns the host closed its side), then
        // finishes with RST.
        s.hostEof();
        assertEquals(SHUTDOWN_SEND, g.expect(OP_SHUTDOWN, 5000, 1234).flags());
        g.expect(OP_RST, 5000, 1234);
        assertTrue(s.closedByDevice);
        assertEquals(0, dev.connectionCount());
    }

    @Test
    void aGuestCloseEndsWithRstAndClosesTheHostEnd() throws InterruptedException {
        probe();
        Stream s = connect(5000, 1234, BUF);
        g.send(g.pkt(OP_SHUTDOWN, 5000, 1234).withFlags(SHUTDOWN_RCV | SHUTDOWN_SEND));
        g.expect(OP_RST, 5000, 1234);
        assertTrue(s.closedByDevice);
        assertEquals(0, dev.connectionCount());
        assertEquals(0, s.callsAfterClose);
    }

    @Test
    void aGuestRstClosesTheHostEndWithoutReply() throws InterruptedException {
        probe();
        Stream s = connect(5000, 1234, BUF);
        g.send(g.pkt(OP_RST, 5000, 1234));
        assertTrue(s.closedByDevice);
        assertEquals(0, dev.connectionCount());
        g.send(g.pkt(OP_REQUEST, 5000, 77));
        g.expect(OP_RST, 5000, 77); // the first packet after the guest's RST
    }

    // ---- host to guest ----

    @ParameterizedTest(name = "split rx buffers: {0}")
    @ValueSource(booleans = {false, true})
    void hostDataNeverExceedsTheGuestsCredit(boolean split) throws InterruptedException {
        attach(new VsockLimits(BUF, 16));
        g = new GuestVsock(drv, 32, split, Virtio.bit(Virtio.F_EVENT_IDX));
        Stream s = connect(5000, 1234, 10000);
        s.endless();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        while (got.size() < 10000) {
            Pkt p = g.expect(OP_RW, 5000, 1234);
            assertTrue(p.len() <= GuestVsock.RX_PAYLOAD, "fits the guest's buffer");
            got.writeBytes(p.data());
        }
        assertEquals(10000, got.size(), "exactly the guest's buf_alloc");
        barrier(5000, 1234, 10000, 0); // no RW in between: the device stopped
        assertEquals(10000, s.totalRead(), "and the host stream was not read beyond the credit");
        assertTrue(s.largestReadAsked <= GuestVsock.RX_PAYLOAD);

        // The guest's application read 6000 bytes; Linux sends a credit update.
        g.send(g.pkt(OP_CREDIT_UPDATE, 5000, 1234).withCredit(10000, 6000));
        while (got.size() < 16000) {
            got.writeBytes(g.expect(OP_RW, 5000, 1234).data());
        }
        barrier(5000, 1234, 10000, 6000);
        assertEquals(16000, s.totalRead());
        byte[] all = got.toByteArray();
        for (int i = 0; i < all.length; i++) {
            assertEquals((byte) i, all[i], "byte " + i);
        }
    }

    @Test
    void dataThatArrivesWhileTheDeviceFindsNoneIsNotLost() throws InterruptedException {
        probe();
        Stream s = connect(5000, 1234, BUF);
        barrier(5000, 1234, BUF, 0); // the device has read once and found nothing
        synchronized (s) {
            s.arriveDuringEmptyRead = new byte[] {4, 5, 6};
        }
        s.offer(new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {1, 2, 3}, g.expect(OP_RW, 5000, 1234).data());
        assertArrayEquals(new byte[] {4, 5, 6}, g.expect(OP_RW, 5000, 1234).data(),
                "signalled during the read that found nothing");
    }

    @Test
    void aGuestWithNoBufferSpaceIsNotSentAnything() throws InterruptedException {
        probe();
        Stream s = connect(5000, 1234, 0);
        s.endless();
        barrier(5000, 1234, 0, 0);
        assertEquals(0, s.totalRead(), "the host stream is not read at all");
        g.send(g.pkt(OP_CREDIT_UPDATE, 5000, 1234).withCredit(100, 0));
        assertEquals(100, g.expect(OP_RW, 5000, 1234).len());
        barrier(5000, 1234, 100, 0);
        assertEquals(100, s.totalRead());
    }

    @Test
    void hostEndOfStreamBecomesShutdownSendAfterTheLastByte() throws InterruptedException {
        probe();
        Stream s = connect(5000, 1234, BUF);
        s.offer(bytes(3000, 4));
        s.hostEof();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        Pkt p;
        while ((p = g.recv()).op() == OP_RW) {
            got.writeBytes(p.data());
        }
        assertEquals(OP_SHUTDOWN, p.op());
        assertEquals(SHUTDOWN_SEND, p.flags());
        assertArrayEquals(bytes(3000, 4), got.toByteArray());
        assertFalse(s.closedByDevice, "the guest may still send");

        g.send(rw(5000, 1234, bytes(10, 5), 3000));
        assertArrayEquals(bytes(10, 5), s.receivedBytes());
        // Linux's close() then: SHUTDOWN(RCV|SEND), answered with RST.
        g.send(g.pkt(OP_SHUTDOWN, 5000, 1234).withFlags(SHUTDOWN_RCV | SHUTDOWN_SEND));
        g.expect(OP_RST, 5000, 1234);
        assertTrue(s.closedByDevice);
        assertEquals(0, dev.connectionCount());
    }

    @Test
    void hostErrorsAndAbortsResetTheConnection() throws InterruptedException {
        probe();
        Stream w = connect(1, 80, BUF);
        w.writeError = new IOException("EPIPE");
        g.send(rw(1, 80, new byte[5], 0));
        g.expect(OP_RST, 1, 80);
        assertTrue(w.closedByDevice);

        Stream r = connect(2, 80, BUF);
        r.readError = new IOException("ECONNRESET");
        r.endless();
        g.expect(OP_RST, 2, 80);
        assertTrue(r.closedByDevice);

        Stream a = connect(3, 80, BUF);
        a.connection.abort();
        g.expect(OP_RST, 3, 80);
        assertTrue(a.closedByDevice);
        assertEquals(0, dev.connectionCount());
        assertEquals(0, w.callsAfterClose + r.callsAfterClose + a.callsAfterClose);
    }

    // ---- host-initiated ----

    @Test
    void hostInitiatedConnectionsAreRequestedAndEstablishedByTheGuestsResponse() {
        probe();
        Stream s = backend.connectToGuest(80);
        Pkt req = g.recv();
        assertEquals(OP_REQUEST, req.op());
        assertEquals(80, req.dstPort());
        int hostPort = req.srcPort();
        assertEquals(1 << 30, hostPort, "host ports start at 2^30, as Firecracker's do");
        assertEquals(BUF, req.bufAlloc());
        assertEquals(-1, s.established, "not before the guest answers");

        g.send(g.pkt(OP_RESPONSE, 80, hostPort).withCredit(BUF, 0));
        eventually(() -> s.established == hostPort, "established with the host port");
        s.offer("hello".getBytes());
        assertArrayEquals("hello".getBytes(), g.expect(OP_RW, 80, hostPort).data());
        g.send(rw(80, hostPort, "world".getBytes(), 0));
        assertArrayEquals("world".getBytes(), s.receivedBytes());

        Stream refused = backend.connectToGuest(81); // nobody listens on 81 in the guest
        Pkt req2 = g.expect(OP_REQUEST, 81, (1 << 30) + 1);
        g.send(g.pkt(OP_RST, 81, req2.srcPort()));
        assertTrue(refused.closedByDevice);
        assertEquals(-1, refused.established);
        assertEquals(1, dev.connectionCount());

        Stream gaveUp = backend.connectToGuest(82);
        g.expect(OP_REQUEST, 82, (1 << 30) + 2);
        gaveUp.connection.abort(); // e.g. the backend's connect timeout
        g.expect(OP_RST, 82, (1 << 30) + 2);
        assertTrue(gaveUp.closedByDevice);
    }

    @Test
    void hostConnectionsBeforeTheDriverIsReadyAreRefused() {
        attach(VsockLimits.DEFAULT);
        Stream s = backend.connectToGuest(80);
        assertTrue(s.closedByDevice);
    }

    // ---- reset ----

    @Test
    void deviceResetWithLiveConnectionsClosesEveryHostEnd() throws InterruptedException {
        probe();
        Stream a = connect(1, 80, BUF);
        Stream b = connect(2, 80, BUF);
        b.limitWrites(0);
        g.send(rw(2, 80, new byte[1000], 0)); // buffered in the device
        Stream c = connect(3, 81, BUF);
        c.endless();
        Stream d = backend.connectToGuest(90); // requested, never answered
        g.recv();
        eventually(() -> dev.connectionCount() == 4, "four connections");

        drv.write(STATUS, 0);
        for (Stream s : List.of(a, b, c, d)) {
            assertTrue(s.closedByDevice, "closed by the reset");
        }
        assertEquals(0, dev.connectionCount());
        for (Stream s : List.of(a, b, c, d)) {
            assertEquals(0, s.callsAfterClose, "never used after close");
        }

        g = new GuestVsock(drv, 8);
        Stream e = connect(1, 80, BUF); // the same ports again
        e.offer(new byte[] {7});
        assertEquals(1, g.expect(OP_RW, 1, 80).len());
    }

    @Test
    void transportResetDropsConnectionsAndTellsTheGuest() throws InterruptedException {
        probe();
        Stream a = connect(1, 80, BUF);
        Stream b = backend.connectToGuest(90);
        g.recv();
        dev.transportReset();
        assertEquals(EVENT_TRANSPORT_RESET, g.awaitEvent());
        assertTrue(a.closedByDevice);
        assertTrue(b.closedByDevice);
        assertEquals(0, dev.connectionCount());
        g.send(rw(1, 80, new byte[3], 0));
        g.expect(OP_RST, 1, 80); // the old connection is unknown now
        connect(1, 80, BUF);
    }

    // ---- hostile guests ----

    @Test
    void malformedPacketsAreDroppedOrResetNeverBreakTheDevice() throws InterruptedException {
        probe();
        Stream s = connect(5000, 1234, BUF);

        g.sendRaw(new byte[20], new byte[0]); // shorter than a header
        assertLogged("shorter than the 44-byte header");

        g.send(g.pkt(OP_REQUEST, 5001, 1234).withCids(7, 2)); // not the guest's own CID
        assertLogged("not the guest's CID");

        byte[] hdr = GuestVsock.encode(rw(5000, 1234, new byte[10], 0).withLen(-1)); // len 4 GiB - 1
        g.sendRaw(hdr, new byte[10]);
        g.expect(OP_RST, 5000, 1234);
        assertLogged("RW of 4294967295 bytes in a packet carrying 10");
        assertTrue(s.closedByDevice);

        Stream s2 = connect(5002, 1234, BUF); // a length overrun well within the credit
        g.sendRaw(GuestVsock.encode(rw(5002, 1234, new byte[10], 0).withLen(100)), new byte[10]);
        g.expect(OP_RST, 5002, 1234);
        assertLogged("RW of 100 bytes in a packet carrying 10");
        assertEquals(0, s2.receivedBytes().length, "nothing of it reached the host");

        for (int op : new int[] {OP_INVALID, 8, 0xFFFF, OP_REQUEST, OP_RESPONSE}) {
            connect(6000 + op, 1234, BUF);
            g.send(g.pkt(op, 6000 + op, 1234));
            g.expect(OP_RST, 6000 + op, 1234);
        }
        assertLogged("unknown op 8");
        assertLogged("REQUEST for a connection that exists");
        assertLogged("RESPONSE on an established connection");

        assertFalse(needsReset());
        assertEquals(0, dev.connectionCount(), "every connection that misbehaved is gone");
        assertEquals(0, s.callsAfterClose);
    }

    @Test
    void rxBuffersWithNoRoomForThePacketAreUsedEmpty() throws InterruptedException {
        attach(new VsockLimits(BUF, 16));
        g = new GuestVsock(drv, 0);
        g.addOddRxBuffer(16); // not even a header fits
        g.addSmallRxBuffer(GuestVsock.HDR); // a header fits: good for the RESPONSE
        Stream s = connect(7000, 1234, BUF);
        assertLogged("less than a header");
        assertEquals(1, g.oddUsed);

        g.addOddRxBuffer(GuestVsock.HDR); // no room for data: used empty, the next one carries it
        g.addRxBuffers(1);
        s.offer(new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {1, 2, 3}, g.expect(OP_RW, 7000, 1234).data());
        assertLogged("no room for data");
        assertEquals(2, g.oddUsed);
        assertFalse(needsReset());
    }

    @Test
    void aFloodOfUnansweredPacketsHoldsBoundedReplies() {
        attach(new VsockLimits(BUF, 4));
        g = new GuestVsock(drv, 0); // no rx buffers: the device cannot reply
        for (int i = 0; i < 3 * VsockMux.RST_BACKLOG; i++) {
            g.send(g.pkt(OP_RW, i, 1).withData(new byte[1]));
        }
        assertLogged("further ones dropped");
        assertFalse(needsReset(), "tx kept being processed with rx full");
        g.addRxBuffers(100);
        for (int i = 0; i < VsockMux.RST_BACKLOG; i++) {
            g.expect(OP_RST, i, 1); // the first ones, in order
        }
        g.send(g.pkt(OP_REQUEST, 7, 999));
        g.expect(OP_RST, 7, 999); // and nothing more of the flood
    }

    static final long SEED = Long.getLong("rivet.seed", new SplittableRandom().nextLong(1L << 40));

    @Test
    void randomHostilePacketsNeverBreakTheDeviceNorExceedItsLimits() throws InterruptedException {
        System.out.printf("VirtioVsockTest: seed %d (-Drivet.seed=%d)%n", SEED, SEED);
        SplittableRandom r = new SplittableRandom(SEED);
        probe(new VsockLimits(4096, 8));
        for (int p = 1; p <= 4; p++) {
            backend.listening.add(p);
        }
        int[] ops = {OP_INVALID, OP_REQUEST, OP_RESPONSE, OP_RST, OP_SHUTDOWN, OP_RW, OP_CREDIT_UPDATE,
            OP_CREDIT_REQUEST, 9};
        for (int i = 0; i < 3000; i++) {
            int op = ops[r.nextInt(ops.length)];
            Pkt p = g.pkt(op, r.nextInt(6), r.nextInt(6)).withCredit(r.nextInt(8192), r.nextInt(8192))
                    .withFlags(r.nextInt(4));
            if (r.nextInt(10) == 0) {
                p = p.withType(r.nextInt(4));
            }
            if (r.nextInt(20) == 0) {
                p = p.withCids(r.nextBoolean() ? CID : r.nextLong(), r.nextInt(5));
            }
            byte[] data = new byte[op == OP_RW ? r.nextInt(3000) : r.nextInt(3) == 0 ? r.nextInt(50) : 0];
            p = p.withData(data);
            if (r.nextInt(10) == 0) {
                p = p.withLen(r.nextInt());
            }
            g.send(p);
            if (r.nextInt(4) == 0) {
                for (TestBackend.Stream s : backend.streams.toArray(new TestBackend.Stream[0])) {
                    if (r.nextBoolean()) {
                        s.offer(new byte[r.nextInt(100)]);
                    }
                }
            }
            while (g.poll() != null) {
                // the guest keeps reading
            }
            assertFalse(needsReset(), "seed " + SEED + ", packet " + i + ": " + p);
            assertTrue(dev.connectionCount() <= 8, "seed " + SEED);
        }
        for (TestBackend.Stream s : backend.streams.toArray(new TestBackend.Stream[0])) {
            assertEquals(0, s.callsAfterClose, "seed " + SEED);
        }
        // Still a working device: a clean connection from a port the fuzz never used. What
        // the device still owed the fuzz's connections (an RST after a host-side event, say)
        // may come first: skip it, but nothing may be for the new connection but its RESPONSE.
        g.send(g.pkt(OP_RST, 4, 4));
        backend.accepted.clear();
        backend.listening.add(4);
        g.send(g.pkt(OP_REQUEST, 100, 4).withCredit(BUF, 0));
        Pkt answer = g.recv();
        while (answer.dstPort() != 100) {
            assertTrue(answer.dstPort() < 6, "only the fuzz's guest ports (0-5) have leftovers: " + answer);
            answer = g.recv();
        }
        assertEquals(OP_RESPONSE, answer.op(), "seed " + SEED + ": " + answer);
        assertEquals(4, answer.srcPort());
        Stream s = backend.nextAccepted();
        assertEquals(100, s.guestPort);
        s.offer(new byte[] {9});
        assertEquals(9, g.expect(OP_RW, 100, 4).data()[0]);
    }
}
