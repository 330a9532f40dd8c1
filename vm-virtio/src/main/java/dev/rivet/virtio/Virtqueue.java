package dev.rivet.virtio;

import dev.rivet.core.bus.DmaException;
import dev.rivet.core.bus.DmaView;

import java.util.concurrent.locks.ReentrantLock;

/**
 * The device side of one virtqueue, in the format the driver negotiated: split (VirtIO 1.2
 * section 2.7, described here) or, with VIRTIO_F_RING_PACKED, packed (section 2.8, handed
 * to {@link PackedRing}). Devices see one API for both: {@link #pop}, {@link #push},
 * {@link #fill}/{@link #flush}, {@link #unpop}, {@link #needsInterrupt}.
 *
 * <p>A split queue is a descriptor table, the driver-written available ring and the
 * device-written used ring, all in guest RAM.
 *
 * <pre>
 * descriptor (16 bytes, 2.7.5):  le64 addr; le32 len; le16 flags; le16 next
 * avail ring (2.7.6):            le16 flags; le16 idx; le16 ring[size]; le16 used_event
 * used ring (2.7.8):             le16 flags; le16 idx; {le32 id; le32 len} ring[size]; le16 avail_event
 * </pre>
 *
 * <p>Everything the driver wrote is distrusted (for packed rings see {@link PackedRing}):
 * {@link #pop} refuses loops and chains
 * longer than the table, {@code next} out of range, nested or malformed indirect tables,
 * readable-after-writable ordering, buffers outside RAM, chains over 4 GiB, and an avail
 * index more than {@code size} ahead, by throwing {@link VirtqueueException}; the caller
 * then marks the device broken. Every loop is bounded by the table size.
 *
 * <p>Ordering (2.7.13, 2.7.8, 2.7.10): the avail index is read with acquire before the
 * ring entry and descriptors; used entries are written before the used index is
 * published with release; a full fence separates publishing the used index (or
 * avail_event) from reading the driver's used_event (or avail index) again.
 *
 * <p>Threads: the transport configures the queue on a hart thread while it is not ready;
 * one thread at a time processes it, holding {@link #lock()} (see {@link QueueWorker}).
 * Reset and queue disable set {@link #stop()} and then take the lock, so they wait for
 * the request in progress and no more are started.
 */
public final class Virtqueue {
    /** Largest queue size, split (2.7) or packed (2.8). */
    public static final int MAX_SIZE = 32768;
    /** Largest indirect table accepted, in descriptors (Linux's virtio-blk uses at most seg_max + 2). */
    public static final int MAX_INDIRECT = 1024;

    static final int DESC_SIZE = 16;
    static final int DESC_F_NEXT = 1;
    static final int DESC_F_WRITE = 2;
    static final int DESC_F_INDIRECT = 4;
    static final int AVAIL_F_NO_INTERRUPT = 1;

    private final int index;
    private final int maxSize;
    private final DmaView dma;
    private final ReentrantLock lock = new ReentrantLock();

    // Programmed by the driver through the transport while not ready.
    private int size;
    private long descAddr;
    private long driverAddr;
    private long deviceAddr;
    private volatile boolean ready;
    /** Set by reset, disable or a device error: pop() finds nothing from then on. */
    private volatile boolean stopped;

    // Negotiated features, fixed while ready.
    private boolean eventIdx;
    private boolean indirect;
    /** The ring format, chosen at enable from the negotiated features. */
    private boolean packed;
    /** The packed ring's state, made at the first packed enable and kept for the next. */
    private PackedRing packedRing;

    // Device progress; touched only by the processing thread (under the lock).
    private int lastAvail;
    private int usedIdx;
    private int signalledUsed;

    public Virtqueue(int index, int maxSize, DmaView dma) {
        if (maxSize < 1 || maxSize > MAX_SIZE || Integer.bitCount(maxSize) != 1) {
            throw new IllegalArgumentException("queue max size must be a power of two up to 32768: " + maxSize);
        }
        this.index = index;
        this.maxSize = maxSize;
        this.dma = dma;
    }

    public int index() {
        return index;
    }

    public int maxSize() {
        return maxSize;
    }

    // ---- configuration (transport, hart thread) ----

    public int size() {
        return size;
    }

    public long descAddr() {
        return descAddr;
    }

    public long driverAddr() {
        return driverAddr;
    }

    public long deviceAddr() {
        return deviceAddr;
    }

    public boolean ready() {
        return ready;
    }

    /** Setters are for the transport; they return false (changing nothing) while the queue is ready. */
    public boolean setSize(int size) {
        if (ready) {
            return false;
        }
        this.size = size;
        return true;
    }

    public boolean setDescAddr(long a) {
        if (ready) {
            return false;
        }
        descAddr = a;
        return true;
    }

    public boolean setDriverAddr(long a) {
        if (ready) {
            return false;
        }
        driverAddr = a;
        return true;
    }

    public boolean setDeviceAddr(long a) {
        if (ready) {
            return false;
        }
        deviceAddr = a;
        return true;
    }

    /**
     * QueueReady = 1: checks what the driver programmed for the ring format the features
     * name (split, 2.7: size a power of two no larger than the maximum; packed, 2.8.10.1:
     * any size up to the maximum; each part aligned and entirely in RAM) and starts from
     * the beginning. Returns null when the queue is ready, otherwise what is wrong (queue
     * left not ready).
     */
    String enable(long features) {
        boolean packedFormat = (features & Virtio.bit(Virtio.F_RING_PACKED)) != 0;
        String bad = packedFormat ? checkPacked() : checkSplit();
        if (bad != null) {
            return bad;
        }
        lock.lock();
        try {
            applyFeatures(features);
            packed = packedFormat;
            lastAvail = 0;
            usedIdx = 0;
            signalledUsed = 0;
            if (packed) {
                if (packedRing == null) {
                    packedRing = new PackedRing(index, dma);
                }
                packedRing.start(size, descAddr, driverAddr, deviceAddr, eventIdx, indirect);
            }
            stopped = false;
            ready = true;
        } catch (DmaException e) {
            return String.format("queue %d: %s", index, e.getMessage()); // cannot be: the area was checked
        } finally {
            lock.unlock();
        }
        return null;
    }

    private String checkSplit() {
        if (size < 1 || size > maxSize || Integer.bitCount(size) != 1) {
            return String.format("queue %d: size %d is not a power of two in 1..%d", index, size, maxSize);
        }
        String bad = checkArea("descriptor table", descAddr, 16, (long) DESC_SIZE * size);
        if (bad == null) {
            bad = checkArea("driver area (avail ring)", driverAddr, 2, 6 + 2L * size);
        }
        if (bad == null) {
            bad = checkArea("device area (used ring)", deviceAddr, 4, 6 + 8L * size);
        }
        return bad;
    }

    /** 2.8.10.1: a ring of 16-byte descriptors and two 4-byte event suppression structures. */
    private String checkPacked() {
        if (size < 1 || size > maxSize) {
            return String.format("queue %d: packed ring size %d is not in 1..%d", index, size, maxSize);
        }
        String bad = checkArea("descriptor ring", descAddr, 16, (long) DESC_SIZE * size);
        if (bad == null) {
            bad = checkArea("driver area (driver event suppression)", driverAddr, 4, 4);
        }
        if (bad == null) {
            bad = checkArea("device area (device event suppression)", deviceAddr, 4, 4);
        }
        return bad;
    }

    private String checkArea(String what, long addr, int align, long len) {
        if ((addr & (align - 1)) != 0) {
            return String.format("queue %d: %s at 0x%x is not %d-byte aligned", index, what, addr, align);
        }
        if (!dma.contains(addr, len)) {
            return String.format("queue %d: %s at 0x%x (%d bytes) is outside RAM", index, what, addr, len);
        }
        return null;
    }

    /**
     * Takes EVENT_IDX and INDIRECT_DESC from the features (at enable, and again at DRIVER_OK).
     * The ring format stays what it was at enable: a driver sets its queues up after
     * FEATURES_OK (3.1.1), and a ring in use cannot change shape.
     */
    void applyFeatures(long features) {
        eventIdx = (features & Virtio.bit(Virtio.F_EVENT_IDX)) != 0;
        indirect = (features & Virtio.bit(Virtio.F_INDIRECT_DESC)) != 0;
        if (packedRing != null) {
            packedRing.features(eventIdx, indirect);
        }
    }

    /** Whether the queue uses the packed format (VIRTIO_F_RING_PACKED, fixed at enable). */
    public boolean packed() {
        return packed;
    }

    /** Makes {@link #pop} find nothing from now on; does not wait. Any thread. */
    void stop() {
        stopped = true;
    }

    /**
     * Stops the queue, waits until no thread is processing it, and returns it to the
     * not-ready, unprogrammed state (QueueReady = 0 or device reset).
     */
    void disable(boolean forget) {
        stopped = true;
        lock.lock();
        try {
            ready = false;
            packed = false;
            lastAvail = usedIdx = signalledUsed = 0;
            if (forget) {
                size = 0;
                descAddr = driverAddr = deviceAddr = 0;
            }
        } finally {
            lock.unlock();
        }
    }

    /** The lock a processing thread holds; see {@link QueueWorker}. */
    public ReentrantLock lock() {
        return lock;
    }

    /** True while the driver has the queue enabled and nothing stopped it. */
    public boolean active() {
        return ready && !stopped;
    }

    // ---- device side (processing thread, lock held) ----

    private long availRing(int i) {
        return driverAddr + 4 + 2L * (i & (size - 1));
    }

    private long usedEventAddr() {
        return driverAddr + 4 + 2L * size;
    }

    private long availEventAddr() {
        return deviceAddr + 4 + 8L * size;
    }

    /**
     * Takes the next available chain into {@code chain}. Returns false when the ring is
     * empty or the queue is stopped. With VIRTIO_F_EVENT_IDX, an empty ring publishes
     * avail_event (the driver notifies again when it adds the next buffer) and looks once
     * more, so a buffer added in between is never missed (2.7.10; packed: 2.8.10).
     */
    public boolean pop(DescriptorChain chain) throws VirtqueueException {
        if (!ready || stopped) {
            return false;
        }
        try {
            if (packed) {
                return packedRing.pop(chain);
            }
            int pending = pending();
            if (pending == 0) {
                if (!eventIdx) {
                    return false;
                }
                dma.writeU16(availEventAddr(), lastAvail);
                DmaView.fullFence();
                pending = pending();
                if (pending == 0) {
                    return false;
                }
            }
            int head = dma.readU16(availRing(lastAvail));
            if (head >= size) {
                throw new VirtqueueException(String.format("queue %d: avail ring entry %d names descriptor %d, "
                        + "beyond the queue size %d", index, lastAvail, head, size));
            }
            walk(head, chain);
            lastAvail = (lastAvail + 1) & 0xFFFF;
            return true;
        } catch (DmaException e) {
            // Rings were checked at enable; only an indirect table or buffer can get here.
            throw new VirtqueueException(String.format("queue %d: %s", index, e.getMessage()));
        }
    }

    /** Chains available and not yet popped; throws if the driver claims more than the ring holds. */
    private int pending() throws DmaException, VirtqueueException {
        int availIdx = dma.readU16Acquire(driverAddr + 2);
        int pending = (availIdx - lastAvail) & 0xFFFF;
        if (pending > size) {
            throw new VirtqueueException(String.format("queue %d: avail idx %d is %d entries ahead of the device "
                    + "(%d), more than the queue size %d", index, availIdx, pending, lastAvail, size));
        }
        return pending;
    }

    private void walk(int head, DescriptorChain chain) throws DmaException, VirtqueueException {
        chain.clear(head);
        long table = descAddr;
        int tableLen = size;
        boolean inIndirect = false;
        int i = head;
        int seen = 0;
        long total = 0;
        for (;;) {
            if (++seen > tableLen) {
                throw error(head, "is longer than its table (%d descriptors): a loop", tableLen);
            }
            long d = table + (long) DESC_SIZE * i;
            long addr = dma.readU64(d);
            long len = dma.readU32(d + 8) & 0xFFFF_FFFFL;
            int flags = dma.readU16(d + 12);
            int next = dma.readU16(d + 14);
            if ((flags & DESC_F_INDIRECT) != 0) {
                // 2.7.5.3: only with the feature, never nested, never with NEXT, a whole
                // number of descriptors. The WRITE flag of this descriptor is ignored.
                if (!indirect) {
                    throw error(head, "uses an indirect table but VIRTIO_F_INDIRECT_DESC was not negotiated");
                }
                if (inIndirect) {
                    throw error(head, "has an indirect descriptor inside an indirect table");
                }
                if ((flags & DESC_F_NEXT) != 0) {
                    throw error(head, "has a descriptor with both INDIRECT and NEXT");
                }
                if (len == 0 || len % DESC_SIZE != 0 || len / DESC_SIZE > MAX_INDIRECT) {
                    throw error(head, "has an indirect table of %d bytes (a multiple of 16 up to %d descriptors)",
                            len, MAX_INDIRECT);
                }
                if (!dma.contains(addr, len)) {
                    throw error(head, "has an indirect table at 0x%x+%d outside RAM", addr, len);
                }
                table = addr;
                tableLen = (int) (len / DESC_SIZE);
                inIndirect = true;
                i = 0;
                seen = 0;
                continue;
            }
            if (!dma.contains(addr, len)) {
                throw error(head, "has a buffer at 0x%x+%d outside RAM", addr, len);
            }
            boolean write = (flags & DESC_F_WRITE) != 0;
            if (!write && chain.writableCount() > 0) {
                throw error(head, "has a device-readable buffer after a device-writable one");
            }
            total += len;
            if (total > 0xFFFF_FFFFL) {
                throw error(head, "is longer than 4 GiB");
            }
            chain.add(addr, len, write);
            if ((flags & DESC_F_NEXT) == 0) {
                return;
            }
            if (next >= tableLen) {
                throw error(head, "has next = %d beyond its table of %d descriptors", next, tableLen);
            }
            i = next;
        }
    }

    private VirtqueueException error(int head, String fmt, Object... args) {
        return new VirtqueueException(String.format("queue %d: chain at descriptor %d ", index, head)
                + String.format(fmt, args));
    }

    /**
     * Returns a chain to the driver: writes the used element, then publishes the used
     * index with release ordering (2.7.8; packed: the used descriptor's flags, 2.8.22).
     * {@code head} is the chain's {@link DescriptorChain#head}; {@code written} is the
     * number of bytes the device wrote into the chain's writable buffers.
     */
    public void push(int head, long written) throws VirtqueueException {
        fill(0, head, written);
        flush(1);
    }

    /**
     * Writes a used element {@code offset} places past the last published one, without
     * publishing it: the driver sees nothing until {@link #flush}. For a device that returns
     * several chains as one unit (virtio-net's merged receive buffers, 5.1.6.4, whose driver
     * reads num_buffers and then expects that many used elements to be there). A packed ring
     * only notes the element here and writes it at {@link #flush}: where its used descriptor
     * goes depends on the slots taken by the buffers returned before it.
     */
    public void fill(int offset, int head, long written) throws VirtqueueException {
        if (offset < 0 || offset >= inFlight()) {
            throw new IllegalArgumentException(String.format("queue %d: used element %d past the %d chains popped "
                    + "and not yet returned", index, offset, inFlight()));
        }
        if (packed) {
            packedRing.fill(offset, head, written); // written to the ring by flush
            return;
        }
        try {
            long e = deviceAddr + 4 + 8L * ((usedIdx + offset) & (size - 1));
            dma.writeU32(e, head);
            dma.writeU32(e + 4, (int) written);
        } catch (DmaException e) {
            throw new VirtqueueException(String.format("queue %d: %s", index, e.getMessage()));
        }
    }

    /**
     * Publishes the next {@code count} used elements written by {@link #fill} with one
     * release store of the used index (2.7.8), so the driver sees all of them or none.
     * A packed ring writes their used descriptors now, the first one's flags last (2.8.9).
     */
    public void flush(int count) throws VirtqueueException {
        if (count < 0 || count > inFlight()) {
            throw new IllegalArgumentException(String.format("queue %d: cannot publish %d used elements, %d chains "
                    + "popped and not yet returned", index, count, inFlight()));
        }
        try {
            if (packed) {
                packedRing.flush(count);
                return;
            }
            usedIdx = (usedIdx + count) & 0xFFFF;
            dma.writeU16Release(deviceAddr + 2, usedIdx);
        } catch (DmaException e) {
            throw new VirtqueueException(String.format("queue %d: %s", index, e.getMessage()));
        }
    }

    /**
     * Puts back the last {@code count} chains popped and not returned: the next {@link #pop}s
     * find them again (re-reading and re-checking them from guest memory). For a device that
     * needs several chains at once and found too few: it leaves them all to the driver
     * rather than use some. The driver may not touch available buffers (2.7.13), so they
     * are still there; with VIRTIO_F_EVENT_IDX the avail_event written by the pop that found
     * the ring empty stays, so the driver notifies when it adds the next buffer.
     */
    public void unpop(int count) {
        if (count < 0 || count > inFlight()) {
            throw new IllegalArgumentException(String.format("queue %d: cannot put back %d chains, %d popped and "
                    + "not yet returned", index, count, inFlight()));
        }
        if (packed) {
            packedRing.unpop(count);
            return;
        }
        lastAvail = (lastAvail - count) & 0xFFFF;
    }

    /** Chains popped and not yet returned (each chain gets exactly one used element). */
    private int inFlight() {
        return packed ? packedRing.inFlight() : (lastAvail - usedIdx) & 0xFFFF;
    }

    /**
     * Whether the driver wants a used buffer notification for what was pushed since the
     * last call that returned true (2.7.10): with VIRTIO_F_EVENT_IDX, when the used index
     * passed used_event; otherwise unless avail->flags has NO_INTERRUPT. Packed rings:
     * the driver event suppression structure (2.8.10).
     */
    public boolean needsInterrupt() throws VirtqueueException {
        try {
            if (packed) {
                return packedRing.needsInterrupt();
            }
            DmaView.fullFence(); // the used idx store before the used_event / flags load
            if (!eventIdx) {
                return (dma.readU16(driverAddr) & AVAIL_F_NO_INTERRUPT) == 0;
            }
            int usedEvent = dma.readU16(usedEventAddr());
            int old = signalledUsed;
            int now = usedIdx;
            signalledUsed = now;
            // vring_need_event: used_event lies in [old, now).
            return ((now - usedEvent - 1) & 0xFFFF) < ((now - old) & 0xFFFF);
        } catch (DmaException e) {
            throw new VirtqueueException(String.format("queue %d: %s", index, e.getMessage()));
        }
    }

    /**
     * Used ring entries the device has published (its shadow of used->idx); for a packed
     * ring, the position of the next used descriptor as an event suppression off_wrap
     * (slot, with the device's wrap counter in bit 15).
     */
    public int usedIndex() {
        return packed ? packedRing.usedIndex() : usedIdx;
    }

    /** The next avail ring position the device will read (packed: as off_wrap, see {@link #usedIndex}). */
    public int lastAvailIndex() {
        return packed ? packedRing.lastAvailIndex() : lastAvail;
    }
}
