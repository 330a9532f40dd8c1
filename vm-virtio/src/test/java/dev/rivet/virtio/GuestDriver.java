package dev.rivet.virtio;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.DmaException;
import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.core.irq.IrqLine;
import dev.rivet.virtio.mmio.VirtioMmio;

import java.time.Duration;
import java.util.ArrayDeque;

import static dev.rivet.virtio.mmio.VirtioMmio.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Plays Linux's virtio_ring driver (drivers/virtio/virtio_ring.c) over a small guest RAM,
 * with a transport driver underneath: virtio_mmio (drivers/virtio/virtio_mmio.c) against a
 * {@link VirtioMmio}, or virtio_pci_modern through {@link GuestPciTransport}. It
 * negotiates features, lays out split rings in RAM (packed rings, through
 * {@link PackedDriverRing}, when VIRTIO_F_RING_PACKED was accepted), adds direct and
 * indirect chains, kicks, and reads used entries back. All register traffic goes through
 * {@link Bus#readDevice}/{@link Bus#writeDevice}, as a hart's would. Hostile tests use the
 * raw ring accessors to break the rules on purpose.
 */
public final class GuestDriver {
    public static final long RAM_BASE = 0x8000_0000L;
    public static final long RAM_SIZE = 4 << 20;

    /** An interrupt wire that remembers its level. */
    public static final class Wire implements IrqLine {
        public volatile boolean level;

        @Override
        public void set(boolean l) {
            level = l;
        }
    }

    /**
     * What the ring driver needs from a transport driver: the part of Linux's
     * {@code virtio_config_ops} the tests use.
     */
    public interface Transport {
        /** Checks the device is there and is the modern kind (probe). */
        void probe();

        long offeredFeatures();

        void writeFeatures(long features);

        int status();

        void writeStatus(int status);

        boolean queueReady(int index);

        /** Programs and enables queue {@code index} with the given ring addresses. */
        void setupQueue(int index, int size, long desc, long avail, long used);

        void notify(int queue);

        /** The interrupt handler's first step: reads (and acknowledges) why the device interrupted. */
        int takeInterrupt();

        long readConfig(int offset, int size);

        void writeConfig(int offset, int size, long value);

        /** The level of the device's interrupt line as the interrupt controller sees it. */
        boolean interruptLine();
    }

    public final GuestRam ram;
    public final DmaView dma;
    /** The MMIO transport, or null when the driver runs over another transport. */
    public final VirtioMmio mmio;
    /** The MMIO slot's interrupt wire, or null when the driver runs over another transport. */
    public final Wire irq;
    public final Transport transport;
    private long next;
    /** What the last {@link #negotiate} accepted: decides the ring format of {@link #queue}. */
    private long negotiated;

    public GuestDriver(GuestRam ram, VirtioMmio mmio, Wire irq) {
        this.ram = ram;
        this.dma = new DmaView(ram);
        this.mmio = mmio;
        this.irq = irq;
        this.transport = new MmioTransport();
        this.next = ram.base() + 0x1000;
    }

    /** A driver over {@code transport}; rings are allocated from RAM above its first 4 KiB. */
    public GuestDriver(GuestRam ram, Transport transport) {
        this.ram = ram;
        this.dma = new DmaView(ram);
        this.mmio = null;
        this.irq = null;
        this.transport = transport;
        this.next = ram.base() + 0x1000;
    }

    /** virtio_mmio's side of {@link Transport}. */
    private final class MmioTransport implements Transport {
        @Override
        public void probe() {
            assertEquals(MAGIC, read(MAGIC_VALUE));
            assertEquals(2, read(VERSION));
        }

        @Override
        public long offeredFeatures() {
            write(DEVICE_FEATURES_SEL, 1);
            long hi = read(DEVICE_FEATURES);
            write(DEVICE_FEATURES_SEL, 0);
            return hi << 32 | read(DEVICE_FEATURES);
        }

        @Override
        public void writeFeatures(long f) {
            write(DRIVER_FEATURES_SEL, 1);
            write(DRIVER_FEATURES, f >>> 32);
            write(DRIVER_FEATURES_SEL, 0);
            write(DRIVER_FEATURES, f & 0xFFFF_FFFFL);
        }

        @Override
        public int status() {
            return (int) read(STATUS);
        }

        @Override
        public void writeStatus(int status) {
            write(STATUS, status);
        }

        @Override
        public boolean queueReady(int index) {
            write(QUEUE_SEL, index);
            return read(QUEUE_READY) != 0;
        }

        @Override
        public void setupQueue(int index, int size, long desc, long avail, long used) {
            write(QUEUE_SEL, index);
            write(QUEUE_NUM, size);
            write(QUEUE_DESC_LOW, desc & 0xFFFF_FFFFL);
            write(QUEUE_DESC_HIGH, desc >>> 32);
            write(QUEUE_DRIVER_LOW, avail & 0xFFFF_FFFFL);
            write(QUEUE_DRIVER_HIGH, avail >>> 32);
            write(QUEUE_DEVICE_LOW, used & 0xFFFF_FFFFL);
            write(QUEUE_DEVICE_HIGH, used >>> 32);
            write(QUEUE_READY, 1);
        }

        @Override
        public void notify(int queue) {
            write(QUEUE_NOTIFY, queue);
        }

        @Override
        public int takeInterrupt() {
            int isr = (int) read(INTERRUPT_STATUS);
            write(INTERRUPT_ACK, isr);
            return isr;
        }

        @Override
        public long readConfig(int offset, int size) {
            return Bus.readDevice(mmio, CONFIG + offset, size);
        }

        @Override
        public void writeConfig(int offset, int size, long value) {
            Bus.writeDevice(mmio, CONFIG + offset, size, value);
        }

        @Override
        public boolean interruptLine() {
            return irq.level;
        }
    }

    /** An MMIO register read (MMIO transport only). */
    public long read(int reg) {
        return Bus.readDevice(mmio, reg, 4);
    }

    /** An MMIO register write (MMIO transport only). */
    public void write(int reg, long v) {
        Bus.writeDevice(mmio, reg, 4, v);
    }

    public int status() {
        return transport.status();
    }

    public long readConfig(int offset, int size) {
        return transport.readConfig(offset, size);
    }

    public void writeConfig(int offset, int size, long value) {
        transport.writeConfig(offset, size, value);
    }

    /** Bump allocator over guest RAM (never freed; tests are short). */
    public long alloc(long len, int align) {
        long a = (next + align - 1) & -(long) align;
        next = a + len;
        assertTrue(next <= ram.base() + ram.size(), "test RAM exhausted");
        return a;
    }

    /** vm_get_features / vp_get_features. */
    public long offered() {
        return transport.offeredFeatures();
    }

    /** vm_finalize_features. */
    public void writeFeatures(long f) {
        transport.writeFeatures(f);
    }

    public void addStatus(int bits) {
        transport.writeStatus(status() | bits);
    }

    /**
     * virtio_dev_probe up to FEATURES_OK: reset, ACKNOWLEDGE, DRIVER, accept
     * {@code wanted ∩ offered} plus VERSION_1, FEATURES_OK, and check it stuck.
     */
    public long negotiate(long wanted) {
        transport.probe();
        transport.writeStatus(0);
        addStatus(Virtio.STATUS_ACKNOWLEDGE);
        addStatus(Virtio.STATUS_DRIVER);
        long f = (offered() & wanted) | Virtio.bit(Virtio.F_VERSION_1);
        writeFeatures(f);
        addStatus(Virtio.STATUS_FEATURES_OK);
        assertTrue((status() & Virtio.STATUS_FEATURES_OK) != 0, "FEATURES_OK refused");
        negotiated = f;
        return f;
    }

    /** Whether the last {@link #negotiate} accepted VIRTIO_F_RING_PACKED. */
    public boolean ringPacked() {
        return (negotiated & Virtio.bit(Virtio.F_RING_PACKED)) != 0;
    }

    public void driverOk() {
        addStatus(Virtio.STATUS_DRIVER_OK);
    }

    /** vm_interrupt / vp_interrupt: reads why the device interrupted (acknowledging it), returns it. */
    public int takeInterrupt() {
        return transport.takeInterrupt();
    }

    /** The device's interrupt line as the interrupt controller sees it. */
    public boolean interruptLine() {
        return transport.interruptLine();
    }

    /** vm_setup_vq with rings allocated in RAM, split or packed as negotiated. */
    public DriverQueue queue(int index, int size) {
        if (ringPacked()) {
            long ring = alloc(16L * size, 16);
            long driverEvent = alloc(4, 4);
            long deviceEvent = alloc(4, 4);
            return queue(index, size, ring, driverEvent, deviceEvent);
        }
        long desc = alloc(16L * size, 16);
        long avail = alloc(6 + 2L * size, 2);
        long used = alloc(6 + 8L * size, 4);
        return queue(index, size, desc, avail, used);
    }

    /**
     * vm_setup_vq with the given ring addresses (hostile tests pass bad ones); for a packed
     * ring {@code avail} is the driver event suppression and {@code used} the device's.
     */
    public DriverQueue queue(int index, int size, long desc, long avail, long used) {
        assertFalse(transport.queueReady(index), "queue already set up");
        PackedDriverRing packed = null;
        if (ringPacked()) {
            // virtqueue_reset / vring_alloc_queue_packed zero the ring before it is handed over.
            packed = new PackedDriverRing(this, size, desc, avail, used,
                    (negotiated & Virtio.bit(Virtio.F_EVENT_IDX)) != 0);
        }
        transport.setupQueue(index, size, desc, avail, used);
        return new DriverQueue(index, size, desc, avail, used, packed);
    }

    /** A buffer of a chain: guest address, length, and whether the device writes it. */
    public record Buf(long addr, long len, boolean writable) {
        public static Buf out(long addr, long len) {
            return new Buf(addr, len, false);
        }

        public static Buf in(long addr, long len) {
            return new Buf(addr, len, true);
        }
    }

    /** One used ring element. */
    public record Used(int id, int len) {
    }

    /**
     * The driver's side of one virtqueue: split, or packed when the driver accepted
     * VIRTIO_F_RING_PACKED, in which case the common operations (add, addIndirect, kick,
     * poll, await, availIdx/kickNeeded, usedIdx, setUsedEvent, setAvailFlags) go to
     * {@link #packed()} and the split ring's raw accessors refuse.
     */
    public final class DriverQueue {
        public final int index;
        public final int size;
        /** Split: descriptor table, avail ring, used ring. Packed: ring, driver and device event suppression. */
        public final long desc, avail, used;
        private final ArrayDeque<Integer> free = new ArrayDeque<>();
        private final int[] chainLen;
        private final PackedDriverRing packed;
        private int availIdx;
        private int lastUsed;

        DriverQueue(int index, int size, long desc, long avail, long used, PackedDriverRing packed) {
            this.index = index;
            this.size = size;
            this.desc = desc;
            this.avail = avail;
            this.used = used;
            this.packed = packed;
            this.chainLen = new int[Math.max(size, 1)];
            for (int i = 0; i < size; i++) {
                free.add(i);
            }
        }

        /** The packed ring driver; fails the test when this queue is split. */
        public PackedDriverRing packed() {
            assertTrue(packed != null, "queue " + index + " is a split ring");
            return packed;
        }

        public boolean isPacked() {
            return packed != null;
        }

        private void splitOnly(String what) {
            if (packed != null) {
                throw new IllegalStateException(what + " is for split rings; queue " + index + " is packed");
            }
        }

        // ---- virtqueue_add_split ----

        /** Adds a direct chain and makes it available (does not kick); returns its head (packed: its buffer ID). */
        public int add(Buf... bufs) {
            if (packed != null) {
                return packed.add(bufs);
            }
            assertTrue(free.size() >= bufs.length, "ring full");
            int[] ids = new int[bufs.length];
            for (int i = 0; i < bufs.length; i++) {
                ids[i] = free.poll();
            }
            for (int i = 0; i < bufs.length; i++) {
                boolean last = i == bufs.length - 1;
                setDesc(ids[i], bufs[i].addr, bufs[i].len,
                        (bufs[i].writable ? Virtqueue.DESC_F_WRITE : 0) | (last ? 0 : Virtqueue.DESC_F_NEXT),
                        last ? 0 : ids[i + 1]);
            }
            chainLen[ids[0]] = bufs.length;
            publish(ids[0]);
            return ids[0];
        }

        /** Adds a chain through one indirect table (allocated in RAM); returns its head (packed: its buffer ID). */
        public int addIndirect(Buf... bufs) {
            if (packed != null) {
                return packed.addIndirect(bufs);
            }
            long table = alloc(16L * bufs.length, 16);
            for (int i = 0; i < bufs.length; i++) {
                boolean last = i == bufs.length - 1;
                rawDesc(table, i, bufs[i].addr, bufs[i].len,
                        (bufs[i].writable ? Virtqueue.DESC_F_WRITE : 0) | (last ? 0 : Virtqueue.DESC_F_NEXT),
                        last ? 0 : i + 1);
            }
            int head = free.poll();
            setDesc(head, table, 16L * bufs.length, Virtqueue.DESC_F_INDIRECT, 0);
            chainLen[head] = 1;
            publish(head);
            return head;
        }

        /** virtqueue_notify. */
        public void kick() {
            transport.notify(index);
        }

        /** virtqueue_kick_prepare with EVENT_IDX: does the device want a notification after adding since {@code old}? */
        public boolean kickNeeded(int old) {
            if (packed != null) {
                return packed.kickNeeded(old);
            }
            int event = u16(used + 4 + 8L * size);
            return ((availIdx - event - 1) & 0xFFFF) < ((availIdx - old) & 0xFFFF);
        }

        public int availIdx() {
            return packed != null ? packed.availIdx() : availIdx;
        }

        /** virtqueue_get_buf: the next used element, or null; frees its descriptors. */
        public Used poll() {
            if (packed != null) {
                return packed.poll();
            }
            if (usedIdx() == lastUsed) {
                return null;
            }
            long e = used + 4 + 8L * (lastUsed & (size - 1));
            Used u = new Used(u32(e), u32(e + 4));
            lastUsed = (lastUsed + 1) & 0xFFFF;
            if (u.id >= 0 && u.id < size) {
                reclaim(u.id);
            }
            return u;
        }

        private void reclaim(int head) {
            int id = head;
            for (int i = 0; i < chainLen[head]; i++) {
                free.add(id);
                id = u16(desc + 16L * id + 14);
            }
        }

        /** Polls until a used element arrives (the device may work on another thread). */
        public Used await(Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            for (;;) {
                Used u = poll();
                if (u != null) {
                    return u;
                }
                if (System.nanoTime() > deadline) {
                    fail("no used element on queue " + index + " within " + timeout);
                }
                Thread.onSpinWait();
            }
        }

        public Used await() {
            return await(Duration.ofSeconds(10));
        }

        // ---- raw access for tests that misbehave on purpose ----

        public void setDesc(int i, long addr, long len, int flags, int nextIdx) {
            splitOnly("setDesc");
            rawDesc(desc, i, addr, len, flags, nextIdx);
        }

        /** Puts {@code head} in the avail ring and publishes the new index. */
        public void publish(int head) {
            splitOnly("publish");
            put16(avail + 4 + 2L * (availIdx & (size - 1)), head);
            setAvailIdx((availIdx + 1) & 0xFFFF);
        }

        public void setAvailIdx(int idx) {
            splitOnly("setAvailIdx");
            availIdx = idx;
            put16(avail + 2, idx);
        }

        /** avail->flags; packed: NO_INTERRUPT is driver event DISABLE, anything else ENABLE. */
        public void setAvailFlags(int flags) {
            if (packed != null) {
                packed.setDriverEvent(u16(avail), (flags & Virtqueue.AVAIL_F_NO_INTERRUPT) != 0
                        ? PackedDriverRing.EVENT_DISABLE : PackedDriverRing.EVENT_ENABLE);
                return;
            }
            put16(avail, flags);
        }

        /** used_event: the driver wants an interrupt once the used index passes it (packed: see PackedDriverRing). */
        public void setUsedEvent(int v) {
            if (packed != null) {
                packed.setUsedEvent(v);
                return;
            }
            put16(avail + 4 + 2L * size, v);
        }

        /** avail_event, written by the device. */
        public int availEvent() {
            splitOnly("availEvent");
            return u16(used + 4 + 8L * size);
        }

        /** used->idx; packed: used buffers published (see {@link PackedDriverRing#usedIdx}). */
        public int usedIdx() {
            return packed != null ? packed.usedIdx() : u16(used + 2);
        }
    }

    // ---- guest memory helpers ----

    public void rawDesc(long table, int i, long addr, long len, int flags, int nextIdx) {
        long d = table + 16L * i;
        try {
            dma.writeU64(d, addr);
            dma.writeU32(d + 8, (int) len);
            dma.writeU16(d + 12, flags);
            dma.writeU16(d + 14, nextIdx);
        } catch (DmaException e) {
            throw new AssertionError(e);
        }
    }

    public int u16(long addr) {
        try {
            return dma.readU16(addr);
        } catch (DmaException e) {
            throw new AssertionError(e);
        }
    }

    public int u32(long addr) {
        try {
            return dma.readU32(addr);
        } catch (DmaException e) {
            throw new AssertionError(e);
        }
    }

    public void put16(long addr, int v) {
        try {
            dma.writeU16(addr, v);
        } catch (DmaException e) {
            throw new AssertionError(e);
        }
    }

    public void poke(long addr, byte[] data) {
        try {
            dma.write(addr, data, 0, data.length);
        } catch (DmaException e) {
            throw new AssertionError(e);
        }
    }

    public byte[] peek(long addr, int len) {
        byte[] b = new byte[len];
        try {
            dma.read(addr, b, 0, len);
        } catch (DmaException e) {
            throw new AssertionError(e);
        }
        return b;
    }
}
