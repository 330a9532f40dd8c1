package dev.rivet.virtio.p9;

import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.virtio.GuestDriver;
import dev.rivet.virtio.GuestDriver.Buf;
import dev.rivet.virtio.GuestDriver.DriverQueue;
import dev.rivet.virtio.GuestDriver.Used;
import dev.rivet.virtio.GuestDriver.Wire;
import dev.rivet.virtio.Virtio;
import dev.rivet.virtio.mmio.VirtioMmio;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static dev.rivet.virtio.mmio.VirtioMmio.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * virtio-9p driven the way Linux's net/9p/trans_virtio.c does: the mount tag from the
 * configuration space, then each request as a readable T-message and a writable buffer
 * for the answer, served off the notifying thread.
 */
class Virtio9pTest {
    final GuestRam ram = new GuestRam(GuestDriver.RAM_BASE, GuestDriver.RAM_SIZE);
    final Wire irq = new Wire();
    final List<String> errors = new ArrayList<>();
    final ExecutorService io = Executors.newSingleThreadExecutor();

    @AfterEach
    void close() {
        io.shutdownNow();
        ram.close();
    }

    VirtioMmio mmio;

    GuestDriver driver(Path share, String tag) throws Exception {
        mmio = new VirtioMmio(new Virtio9p(new P9Server(share, false), tag, io), new DmaView(ram), irq,
                errors::add);
        return new GuestDriver(ram, mmio, irq);
    }

    @Test
    void theMountTagIsInTheConfigurationSpace(@TempDir Path share) throws Exception {
        GuestDriver drv = driver(share, "hostshare");
        assertEquals(Virtio.ID_9P, drv.read(DEVICE_ID));
        assertEquals(1L, drv.offered() & 1, "VIRTIO_9P_MOUNT_TAG offered");
        assertEquals(9, drv.read(CONFIG) & 0xFFFF, "tag_len");
        StringBuilder tag = new StringBuilder();
        for (int i = 0; i < 9; i++) {
            tag.append((char) mmio.read(CONFIG + 2 + i, 1)); // Linux reads the tag byte by byte
        }
        assertEquals("hostshare", tag.toString());
        assertThrows(IllegalArgumentException.class, () -> driver(share, ""));
    }

    /** Tversion then Tattach through the queue: the answers come back in the writable buffers. */
    @Test
    void versionAndAttachRoundTripThroughTheQueue(@TempDir Path share) throws Exception {
        GuestDriver drv = driver(share, "t");
        drv.negotiate(1);
        DriverQueue q = drv.queue(0, 128);
        drv.driverOk();
        long req = drv.alloc(4096, 16), resp = drv.alloc(4096, 16);

        byte[] version = message(100, 0xFFFF, b -> b.putInt(8192).put(str("9P2000.L")));
        drv.poke(req, version);
        int head = q.add(Buf.out(req, version.length), Buf.in(resp, 4096));
        q.kick();
        Used u = q.await(Duration.ofSeconds(10));
        assertEquals(head, u.id());
        ByteBuffer r = ByteBuffer.wrap(drv.peek(resp, u.len())).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(u.len(), r.getInt(), "size field = used length");
        assertEquals(101, r.get(), "Rversion");
        r.getShort();
        assertEquals(8192, r.getInt(), "msize");

        byte[] attach = message(104, 1, b -> b.putInt(0).putInt(-1).put(str("root")).put(str("")).putInt(0));
        drv.poke(req, attach);
        head = q.add(Buf.out(req, attach.length), Buf.in(resp, 4096));
        q.kick();
        u = q.await(Duration.ofSeconds(10));
        r = ByteBuffer.wrap(drv.peek(resp, u.len())).order(ByteOrder.LITTLE_ENDIAN);
        r.getInt();
        assertEquals(105, r.get(), "Rattach");
        assertEquals(0, drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET, errors.toString());
    }

    /** A request chain with no room for an answer is used with length 0; the device stays usable. */
    @Test
    void aChainWithNoRoomForTheAnswerIsUsedEmpty(@TempDir Path share) throws Exception {
        GuestDriver drv = driver(share, "t");
        drv.negotiate(1);
        DriverQueue q = drv.queue(0, 128);
        drv.driverOk();
        long req = drv.alloc(4096, 16), resp = drv.alloc(4096, 16);
        byte[] version = message(100, 0xFFFF, b -> b.putInt(8192).put(str("9P2000.L")));
        drv.poke(req, version);
        int head = q.add(Buf.out(req, version.length), Buf.in(resp, 4));
        q.kick();
        assertEquals(new Used(head, 0), q.await(Duration.ofSeconds(10)));
        head = q.add(Buf.out(req, version.length), Buf.in(resp, 4096));
        q.kick();
        assertTrue(q.await(Duration.ofSeconds(10)).len() > 0);
    }

    interface Body {
        void put(ByteBuffer b);
    }

    static byte[] message(int type, int tag, Body body) {
        ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0).put((byte) type).putShort((short) tag);
        body.put(b);
        b.putInt(0, b.position());
        byte[] out = new byte[b.position()];
        b.flip().get(out);
        return out;
    }

    static byte[] str(String s) {
        byte[] raw = s.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + raw.length).order(ByteOrder.LITTLE_ENDIAN).putShort((short) raw.length).put(raw)
                .array();
    }
}
