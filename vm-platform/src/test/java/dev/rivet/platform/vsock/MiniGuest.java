package dev.rivet.platform.vsock;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.DmaException;
import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.core.irq.IrqLine;
import dev.rivet.virtio.Virtio;
import dev.rivet.virtio.mmio.VirtioMmio;
import dev.rivet.virtio.vsock.VirtioVsock;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

import static dev.rivet.virtio.mmio.VirtioMmio.*;
import static dev.rivet.virtio.vsock.VirtioVsock.*;

/**
 * A small guest for end-to-end tests: virtio_mmio probing, split rings and the stream-socket
 * side of Linux's virtio_transport_common.c (credit on both sides, credit updates when the
 * reader frees space, SHUTDOWN and RST), polled from the test's thread. It checks the
 * device keeps to the guest's credit: a data packet beyond it fails the test.
 */
final class MiniGuest implements AutoCloseable {
    static final long BASE = 0x8000_0000L;
    static final long SIZE = 8 << 20;
    static final int HDR = 44;
    static final int RX_BUF = 4096;
    static final int QSIZE = 64;
    static final int MAX_TX = 64 * 1024;
    /** Linux sends a credit update once free space falls below this (VIRTIO_VSOCK_MAX_PKT_BUF_SIZE). */
    static final int CREDIT_LOW = 64 * 1024;

    final GuestRam ram = new GuestRam(BASE, SIZE);
    final DmaView dma = new DmaView(ram);
    final VirtioMmio mmio;
    final long cid;
    private long next = BASE + 0x1000;
    private final Ring rx;
    private final Ring tx;
    private final Ring event;
    private final Map<Integer, Long> rxBufs = new HashMap<>();
    private final long txBuf;
    private final Map<Long, Sock> socks = new HashMap<>();
    private final Map<Integer, ArrayDeque<Sock>> listening = new HashMap<>();
    private int nextPort = 40000;

    /** One guest socket. */
    final class Sock {
        final int local;
        final int peer;
        final int bufAlloc;
        boolean established;
        boolean reset;
        boolean peerShutSend;
        boolean shutSend;
        // receive side
        final ArrayDeque<byte[]> queue = new ArrayDeque<>();
        int rxBytes;
        int fwdCnt;
        int lastFwdCnt;
        // send side
        int txCnt;
        int peerBufAlloc;
        int peerFwdCnt;

        Sock(int local, int peer, int bufAlloc) {
            this.local = local;
            this.peer = peer;
            this.bufAlloc = bufAlloc;
        }

        long credit() {
            return Math.max(0, (peerBufAlloc & 0xFFFF_FFFFL) - ((txCnt - peerFwdCnt) & 0xFFFF_FFFFL));
        }

        /** Sends up to {@code len} bytes of {@code data} from {@code off} as far as credit allows; returns how many. */
        int write(byte[] data, int off, int len) {
            int n = (int) Math.min(Math.min(len, credit()), MAX_TX);
            if (n > 0) {
                send(this, OP_RW, 0, java.util.Arrays.copyOfRange(data, off, off + n));
                txCnt += n;
            }
            return n;
        }

        /** Reads what is queued into {@code out}; sends a credit update the way Linux's dequeue does. */
        int read(ByteArrayOutputStream out, int max) {
            int total = 0;
            while (!queue.isEmpty() && total < max) {
                byte[] b = queue.peek();
                int n = Math.min(b.length, max - total);
                out.write(b, 0, n);
                if (n == b.length) {
                    queue.poll();
                } else {
                    queue.poll();
                    queue.addFirst(java.util.Arrays.copyOfRange(b, n, b.length));
                }
                total += n;
            }
            rxBytes -= total;
            fwdCnt += total;
            int delta = fwdCnt - lastFwdCnt;
            if (delta != 0 && bufAlloc - delta < CREDIT_LOW) {
                send(this, OP_CREDIT_UPDATE, 0, new byte[0]);
            }
            return total;
        }

        void shutdown(int flags) {
            shutSend |= (flags & SHUTDOWN_SEND) != 0;
            send(this, OP_SHUTDOWN, flags, new byte[0]);
        }

        void rst() {
            send(this, OP_RST, 0, new byte[0]);
            reset = true;
            socks.remove(key(local, peer));
        }
    }

    MiniGuest(VirtioVsock device) {
        mmio = new VirtioMmio(device, dma, IrqLine.NONE, msg -> System.err.println("guest error: " + msg));
        if (reg(MAGIC_VALUE) != MAGIC || reg(DEVICE_ID) != Virtio.ID_VSOCK) {
            throw new AssertionError("not a virtio-vsock device");
        }
        set(STATUS, 0);
        set(STATUS, Virtio.STATUS_ACKNOWLEDGE);
        set(STATUS, Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER);
        set(DRIVER_FEATURES_SEL, 1);
        set(DRIVER_FEATURES, 1); // VERSION_1
        set(DRIVER_FEATURES_SEL, 0);
        set(DRIVER_FEATURES, 0);
        set(STATUS, Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER | Virtio.STATUS_FEATURES_OK);
        rx = new Ring(QUEUE_RX, QSIZE);
        tx = new Ring(QUEUE_TX, QSIZE);
        event = new Ring(QUEUE_EVENT, EVENT_QUEUE_SIZE);
        cid = Bus.readDevice(mmio, CONFIG, 4) | Bus.readDevice(mmio, CONFIG + 4, 4) << 32;
        set(STATUS, Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER | Virtio.STATUS_FEATURES_OK
                | Virtio.STATUS_DRIVER_OK);
        txBuf = alloc(HDR + MAX_TX, 16);
        for (int i = 0; i < QSIZE; i++) {
            long b = alloc(HDR + RX_BUF, 16);
            rxBufs.put(rx.add(new long[] {b}, new int[] {HDR + RX_BUF}, true), b);
        }
        rx.kick();
        for (int i = 0; i < 8; i++) {
            event.add(new long[] {alloc(4, 4)}, new int[] {4}, true);
        }
        event.kick();
    }

    private long reg(int off) {
        return Bus.readDevice(mmio, off, 4);
    }

    private void set(int off, long v) {
        Bus.writeDevice(mmio, off, 4, v);
    }

    private long alloc(long len, int align) {
        long a = (next + align - 1) & -(long) align;
        next = a + len;
        if (next > BASE + SIZE) {
            throw new AssertionError("guest RAM exhausted");
        }
        return a;
    }

    boolean broken() {
        return (reg(STATUS) & Virtio.STATUS_DEVICE_NEEDS_RESET) != 0;
    }

    static long key(int local, int peer) {
        return (local & 0xFFFF_FFFFL) << 32 | (peer & 0xFFFF_FFFFL);
    }

    // ---- sockets ----

    void listen(int port) {
        listening.put(port, new ArrayDeque<>());
    }

    /** A connection accepted on {@code port}, or null. */
    Sock accept(int port) {
        return listening.get(port).poll();
    }

    /** connect() to the host's {@code port}: sends REQUEST; established once the RESPONSE arrives. */
    Sock connect(int port, int bufAlloc) {
        Sock s = new Sock(nextPort++, port, bufAlloc);
        socks.put(key(s.local, s.peer), s);
        send(s, OP_REQUEST, 0, new byte[0]);
        return s;
    }

    int openSockets() {
        return socks.size();
    }

    /** Takes every packet the device delivered; returns how many. */
    int poll() {
        int n = 0;
        for (int[] u; (u = rx.poll()) != null; n++) {
            long b = rxBufs.remove(u[0]);
            byte[] h = peek(b, HDR);
            ByteBuffer bb = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN);
            long src = bb.getLong(0), dst = bb.getLong(8);
            int sp = bb.getInt(16), dp = bb.getInt(20), len = bb.getInt(24), op = bb.getShort(30) & 0xFFFF;
            int flags = bb.getInt(32), alloc = bb.getInt(36), fwd = bb.getInt(40);
            if (src != HOST_CID || dst != cid || u[1] != HDR + len) {
                throw new AssertionError("bad packet from the device: " + src + "->" + dst + " len " + len);
            }
            byte[] data = peek(b + HDR, len);
            rxBufs.put(rx.add(new long[] {b}, new int[] {HDR + RX_BUF}, true), b);
            rx.kick();
            receive(sp, dp, op, flags, alloc, fwd, data);
        }
        return n;
    }

    private void receive(int hostPort, int guestPort, int op, int flags, int alloc, int fwd, byte[] data) {
        Sock s = socks.get(key(guestPort, hostPort));
        if (s == null) {
            ArrayDeque<Sock> l = listening.get(guestPort);
            if (op == OP_REQUEST && l != null) {
                s = new Sock(guestPort, hostPort, 128 * 1024);
                s.peerBufAlloc = alloc;
                s.peerFwdCnt = fwd;
                s.established = true;
                socks.put(key(guestPort, hostPort), s);
                send(s, OP_RESPONSE, 0, new byte[0]);
                l.add(s);
            } else if (op != OP_RST) {
                Sock t = new Sock(guestPort, hostPort, 0);
                send(t, OP_RST, 0, new byte[0]);
            }
            return;
        }
        s.peerBufAlloc = alloc;
        s.peerFwdCnt = fwd;
        switch (op) {
            case OP_RESPONSE -> s.established = true;
            case OP_RW -> {
                if (s.rxBytes + data.length > s.bufAlloc) {
                    throw new AssertionError("the device sent " + data.length + " bytes with "
                            + (s.bufAlloc - s.rxBytes) + " of credit");
                }
                s.queue.add(data);
                s.rxBytes += data.length;
            }
            case OP_SHUTDOWN -> s.peerShutSend |= (flags & SHUTDOWN_SEND) != 0;
            case OP_RST -> {
                s.reset = true;
                socks.remove(key(s.local, s.peer));
            }
            case OP_CREDIT_REQUEST -> send(s, OP_CREDIT_UPDATE, 0, new byte[0]);
            default -> { }
        }
    }

    private void send(Sock s, int op, int flags, byte[] data) {
        ByteBuffer h = ByteBuffer.allocate(HDR).order(ByteOrder.LITTLE_ENDIAN);
        h.putLong(cid).putLong(HOST_CID).putInt(s.local).putInt(s.peer).putInt(data.length)
                .putShort((short) TYPE_STREAM).putShort((short) op).putInt(flags).putInt(s.bufAlloc).putInt(s.fwdCnt);
        s.lastFwdCnt = s.fwdCnt;
        poke(txBuf, h.array());
        int head;
        if (data.length == 0) {
            head = tx.add(new long[] {txBuf}, new int[] {HDR}, false);
        } else {
            poke(txBuf + HDR, data);
            head = tx.add(new long[] {txBuf, txBuf + HDR}, new int[] {HDR, data.length}, false);
        }
        tx.kick();
        long deadline = System.nanoTime() + 10_000_000_000L;
        for (int[] u; (u = tx.poll()) == null;) {
            if (System.nanoTime() > deadline || broken()) {
                throw new AssertionError("the device did not take a tx packet");
            }
            Thread.onSpinWait();
        }
    }

    private byte[] peek(long addr, int len) {
        byte[] b = new byte[len];
        try {
            dma.read(addr, b, 0, len);
        } catch (DmaException e) {
            throw new AssertionError(e);
        }
        return b;
    }

    private void poke(long addr, byte[] b) {
        try {
            dma.write(addr, b, 0, b.length);
        } catch (DmaException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        ram.close();
    }

    /** The driver side of one split virtqueue (VirtIO 1.2 section 2.7), without features. */
    private final class Ring {
        final int index;
        final int size;
        final long desc;
        final long avail;
        final long used;
        final ArrayDeque<Integer> free = new ArrayDeque<>();
        final int[] chainLen;
        int availIdx;
        int lastUsed;

        Ring(int index, int size) {
            this.index = index;
            this.size = size;
            chainLen = new int[size];
            desc = alloc(16L * size, 16);
            avail = alloc(6 + 2L * size, 2);
            used = alloc(6 + 8L * size, 4);
            for (int i = 0; i < size; i++) {
                free.add(i);
            }
            set(QUEUE_SEL, index);
            set(QUEUE_NUM, size);
            set(QUEUE_DESC_LOW, desc & 0xFFFF_FFFFL);
            set(QUEUE_DESC_HIGH, desc >>> 32);
            set(QUEUE_DRIVER_LOW, avail & 0xFFFF_FFFFL);
            set(QUEUE_DRIVER_HIGH, avail >>> 32);
            set(QUEUE_DEVICE_LOW, used & 0xFFFF_FFFFL);
            set(QUEUE_DEVICE_HIGH, used >>> 32);
            set(QUEUE_READY, 1);
        }

        int add(long[] addrs, int[] lens, boolean writable) {
            int[] ids = new int[addrs.length];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = free.poll();
            }
            try {
                for (int i = 0; i < ids.length; i++) {
                    long d = desc + 16L * ids[i];
                    boolean last = i == ids.length - 1;
                    dma.writeU64(d, addrs[i]);
                    dma.writeU32(d + 8, lens[i]);
                    dma.writeU16(d + 12, (writable ? 2 : 0) | (last ? 0 : 1));
                    dma.writeU16(d + 14, last ? 0 : ids[i + 1]);
                }
                chainLen[ids[0]] = ids.length;
                dma.writeU16(avail + 4 + 2L * (availIdx % size), ids[0]);
                availIdx = (availIdx + 1) & 0xFFFF;
                dma.writeU16Release(avail + 2, availIdx);
            } catch (DmaException e) {
                throw new AssertionError(e);
            }
            return ids[0];
        }

        void kick() {
            set(QUEUE_NOTIFY, index);
        }

        /** The next used element as {id, len}, or null; its descriptors are free again. */
        int[] poll() {
            try {
                if (dma.readU16Acquire(used + 2) == lastUsed) {
                    return null;
                }
                long e = used + 4 + 8L * (lastUsed % size);
                int id = dma.readU32(e), len = dma.readU32(e + 4);
                lastUsed = (lastUsed + 1) & 0xFFFF;
                for (int i = 0, d = id; i < chainLen[id]; i++) {
                    free.add(d);
                    d = dma.readU16(desc + 16L * d + 14);
                }
                return new int[] {id, len};
            } catch (DmaException e) {
                throw new AssertionError(e);
            }
        }
    }
}
