package dev.rivet.virtio;

import dev.rivet.core.bus.DmaException;
import dev.rivet.core.bus.DmaView;

import java.util.Arrays;

/**
 * The device side of a packed virtqueue (VirtIO 1.2 section 2.8), used by {@link Virtqueue}
 * when the driver accepted VIRTIO_F_RING_PACKED. One ring of descriptors in guest RAM, read
 * and written by both sides, plus two event suppression structures:
 *
 * <pre>
 * descriptor (16 bytes, 2.8.13):        le64 addr; le32 len; le16 id; le16 flags
 * driver area = driver event suppression (2.8.14, read by the device):  le16 off_wrap; le16 flags
 * device area = device event suppression (written by the device):       le16 off_wrap; le16 flags
 * </pre>
 *
 * <p>Positions. Both sides keep a wrap counter that starts at 1 and flips each time they
 * pass the end of the ring (2.8.1). Here a position is a counter modulo {@code 2 * size}:
 * its slot is {@code p mod size} and its wrap counter is 1 in the first half and 0 in the
 * second, so distances are plain subtractions. The driver marks a descriptor available
 * with AVAIL = its wrap counter and USED = the inverse; the device marks one used with both
 * equal to its own wrap counter.
 *
 * <p>Reading (2.8.6, 2.8.7, 2.8.17): a buffer is one descriptor, a list of descriptors in
 * consecutive slots joined by NEXT, or one descriptor pointing at an indirect table of
 * packed descriptors (in which only WRITE means anything). The Buffer ID is that of the
 * last descriptor. The device remembers how many slots each buffer in flight took, because
 * its used descriptor moves the device's used position on by that many (2.8.2, 2.8.6):
 * used descriptors go into the ring in the order buffers complete, over slots the driver
 * already handed over, and the driver skips the same number when it reads them.
 *
 * <p>Distrust, as for split rings: a list longer than the ring or running into slots the
 * device still holds, a slot inside a list that is not marked available, an indirect
 * descriptor without the feature, with NEXT, inside a list or inside its own table, a
 * table of a bad length or outside RAM, buffers outside RAM or readable after writable,
 * over 4 GiB in all, a buffer ID not below the queue size or already in flight: each
 * throws {@link VirtqueueException}. Every loop is bounded by the ring or table size.
 *
 * <p>Ordering: the first descriptor's flags are read with acquire before anything else of
 * the list (the driver writes them last, 2.8.21.1); a used descriptor's id and len are
 * written before its flags, which are stored with release. Several used descriptors
 * published together ({@link #flush}) get their flags in reverse order, so the first one,
 * the only one the driver polls, appears last (2.8.9, multi-buffer requests). A full fence
 * separates a flags store from reading the driver's event suppression, and publishing
 * the device's event suppression from looking at the ring again.
 *
 * <p>Not thread-safe: {@link Virtqueue} calls it under its lock. Arrays are sized when the
 * queue is enabled; nothing on the request path allocates.
 */
final class PackedRing {
    /** Flags of a packed descriptor (2.8.1) besides NEXT, WRITE and INDIRECT. */
    static final int DESC_F_AVAIL = 1 << 7;
    static final int DESC_F_USED = 1 << 15;

    /** Event suppression flags (2.8.10); 3 is reserved. */
    static final int EVENT_FLAGS_ENABLE = 0;
    static final int EVENT_FLAGS_DISABLE = 1;
    static final int EVENT_FLAGS_DESC = 2;
    private static final int EVENT_FLAGS_MASK = 3;
    /** Bit 15 of off_wrap: the wrap counter; bits 0-14: the slot. */
    static final int EVENT_WRAP = 1 << 15;
    private static final int EVENT_OFF_MASK = 0x7FFF;

    private static final int DESC_LEN = 8;
    private static final int DESC_ID = 12;
    private static final int DESC_FLAGS = 14;
    private static final int EVENT_FLAGS_SHIFT = 16;

    private final int queue;
    private final DmaView dma;

    private int size;
    private long ring;
    private long driverEvent;
    private long deviceEvent;
    private boolean eventIdx;
    private boolean indirect;

    private int nextAvail;
    private int nextUsed;
    private int signalled;
    /** Slots used since {@link #needsInterrupt} last looked, capped at 2 * size. */
    private int usedSinceSignal;
    private int chainsInFlight;
    private int slotsInFlight;

    /** Per buffer ID: slots its list took while in flight, else 0 (negative while flush checks a batch). */
    private int[] slotsOf = new int[0];
    /** Per buffer ID: the serial number of the pop that took it. */
    private int[] serialOf = new int[0];
    /** The IDs of the last {@code size} pops, a ring at popCursor (for unpop). */
    private int[] popped = new int[0];
    private int popCursor;
    /** Pops so far (wrapping); with serialOf, tells a buffer in flight from an earlier use of its ID. */
    private int popSerial;
    /** Used elements written by fill and not yet flushed, relative to pendingBase; ID -1 when not filled. */
    private int[] pendingId = new int[0];
    private int[] pendingLen = new int[0];
    private int pendingBase;

    PackedRing(int queue, DmaView dma) {
        this.queue = queue;
        this.dma = dma;
    }

    /**
     * Starts from slot 0 with both wrap counters at 1 over a ring the transport checked, and
     * writes the device event suppression: notify me of every buffer, or (EVENT_IDX) of the
     * one at slot 0.
     */
    void start(int size, long ring, long driverEvent, long deviceEvent, boolean eventIdx, boolean indirect)
            throws DmaException {
        this.size = size;
        this.ring = ring;
        this.driverEvent = driverEvent;
        this.deviceEvent = deviceEvent;
        features(eventIdx, indirect);
        if (slotsOf.length < size) {
            slotsOf = new int[size];
            serialOf = new int[size];
            popped = new int[size];
            pendingId = new int[size];
            pendingLen = new int[size];
        } else {
            Arrays.fill(slotsOf, 0);
        }
        Arrays.fill(pendingId, -1);
        nextAvail = nextUsed = signalled = 0;
        usedSinceSignal = chainsInFlight = slotsInFlight = 0;
        popSerial = popCursor = pendingBase = 0;
        if (eventIdx) {
            publishAvailEvent();
        } else {
            dma.writeU32(deviceEvent, EVENT_FLAGS_ENABLE << EVENT_FLAGS_SHIFT);
        }
    }

    void features(boolean eventIdx, boolean indirect) {
        this.eventIdx = eventIdx;
        this.indirect = indirect;
    }

    // ---- positions ----

    private long slotAddr(int p) {
        return ring + (long) Virtqueue.DESC_SIZE * slot(p);
    }

    private int slot(int p) {
        return p < size ? p : p - size;
    }

    /** The wrap counter at position p. */
    private boolean wrap(int p) {
        return p < size;
    }

    private int advance(int p, int n) {
        int q = p + n;
        return q >= 2 * size ? q - 2 * size : q;
    }

    private int retreat(int p, int n) {
        int q = p - n;
        return q < 0 ? q + 2 * size : q;
    }

    /** Position p as event suppression's off_wrap (slot, wrap counter in bit 15). */
    private int offWrap(int p) {
        return slot(p) | (wrap(p) ? EVENT_WRAP : 0);
    }

    /** 2.8.1: available at p when AVAIL matches p's wrap counter and USED does not. */
    private boolean available(int flags, int p) {
        boolean w = wrap(p);
        return ((flags & DESC_F_AVAIL) != 0) == w && ((flags & DESC_F_USED) != 0) != w;
    }

    // ---- reading available buffers ----

    /**
     * Takes the next available buffer into {@code chain}; false when the driver has not made
     * one available. With EVENT_IDX, finding none publishes the position the device waits at
     * (the driver notifies when it makes that descriptor available) and looks once more.
     */
    boolean pop(DescriptorChain chain) throws DmaException, VirtqueueException {
        long head = slotAddr(nextAvail);
        int flags = dma.readU16Acquire(head + DESC_FLAGS);
        if (!available(flags, nextAvail)) {
            if (!eventIdx) {
                return false;
            }
            publishAvailEvent();
            DmaView.fullFence();
            flags = dma.readU16Acquire(head + DESC_FLAGS);
            if (!available(flags, nextAvail)) {
                return false;
            }
        }
        walk(chain, flags);
        return true;
    }

    private void publishAvailEvent() throws DmaException {
        dma.writeU32(deviceEvent, offWrap(nextAvail) | EVENT_FLAGS_DESC << EVENT_FLAGS_SHIFT);
    }

    private void walk(DescriptorChain chain, int headFlags) throws DmaException, VirtqueueException {
        int start = slot(nextAvail);
        chain.clear(-1);
        int room = size - slotsInFlight; // slots not held by the device
        int p = nextAvail;
        int flags = headFlags;
        long total = 0;
        for (int n = 1; ; n++) {
            if (n > room) {
                throw n > size ? error(start, "is longer than the queue size %d: a loop", size)
                        : error(start, "runs into descriptors the device has not returned (%d of %d in use): "
                                + "the driver made more available than the ring holds", slotsInFlight, size);
            }
            long d = slotAddr(p);
            if (n > 1) {
                flags = dma.readU16(d + DESC_FLAGS);
                if (!available(flags, p)) {
                    throw error(start, "continues into descriptor %d, which is not marked available", slot(p));
                }
            }
            long addr = dma.readU64(d);
            long len = dma.readU32(d + DESC_LEN) & 0xFFFF_FFFFL;
            int id = dma.readU16(d + DESC_ID);
            p = advance(p, 1);
            if ((flags & Virtqueue.DESC_F_INDIRECT) != 0) {
                // 2.8.7 and its driver requirements: only with the feature, the one
                // descriptor of its list, never with NEXT. Its WRITE flag is ignored.
                if (!indirect) {
                    throw error(start, "uses an indirect table but VIRTIO_F_INDIRECT_DESC was not negotiated");
                }
                if (n > 1) {
                    throw error(start, "has an indirect descriptor after a descriptor with NEXT");
                }
                if ((flags & Virtqueue.DESC_F_NEXT) != 0) {
                    throw error(start, "has a descriptor with both INDIRECT and NEXT");
                }
                table(chain, start, addr, len);
                taken(chain, start, id, n);
                return;
            }
            total = add(chain, start, addr, len, (flags & Virtqueue.DESC_F_WRITE) != 0, total);
            if ((flags & Virtqueue.DESC_F_NEXT) == 0) {
                taken(chain, start, id, n);
                return;
            }
        }
    }

    /** An indirect table: every entry in order; of their flags only WRITE counts (2.8.7). */
    private void table(DescriptorChain chain, int start, long addr, long len) throws DmaException,
            VirtqueueException {
        if (len == 0 || len % Virtqueue.DESC_SIZE != 0 || len / Virtqueue.DESC_SIZE > Virtqueue.MAX_INDIRECT) {
            throw error(start, "has an indirect table of %d bytes (a multiple of 16 up to %d descriptors)", len,
                    Virtqueue.MAX_INDIRECT);
        }
        if (!dma.contains(addr, len)) {
            throw error(start, "has an indirect table at 0x%x+%d outside RAM", addr, len);
        }
        int count = (int) (len / Virtqueue.DESC_SIZE);
        long total = 0;
        for (int i = 0; i < count; i++) {
            long e = addr + (long) Virtqueue.DESC_SIZE * i;
            int flags = dma.readU16(e + DESC_FLAGS);
            if ((flags & Virtqueue.DESC_F_INDIRECT) != 0) {
                throw error(start, "has an indirect descriptor inside an indirect table");
            }
            total = add(chain, start, dma.readU64(e), dma.readU32(e + DESC_LEN) & 0xFFFF_FFFFL,
                    (flags & Virtqueue.DESC_F_WRITE) != 0, total);
        }
    }

    private long add(DescriptorChain chain, int start, long addr, long len, boolean write, long total)
            throws VirtqueueException {
        if (!dma.contains(addr, len)) {
            throw error(start, "has a buffer at 0x%x+%d outside RAM", addr, len);
        }
        if (!write && chain.writableCount() > 0) {
            throw error(start, "has a device-readable buffer after a device-writable one");
        }
        total += len;
        if (total > 0xFFFF_FFFFL) {
            throw error(start, "is longer than 4 GiB");
        }
        chain.add(addr, len, write);
        return total;
    }

    /** The list at {@code start} took {@code slots} slots for buffer {@code id}: it is in flight. */
    private void taken(DescriptorChain chain, int start, int id, int slots) throws VirtqueueException {
        if (id >= size) {
            throw error(start, "has buffer ID %d, not below the queue size %d", id, size);
        }
        if (slotsOf[id] != 0) {
            throw error(start, "has buffer ID %d, which is still in use by a buffer the device has not returned",
                    id);
        }
        slotsOf[id] = slots;
        serialOf[id] = popSerial;
        popped[popCursor] = id;
        popCursor = popCursor + 1 == size ? 0 : popCursor + 1;
        popSerial++;
        nextAvail = advance(nextAvail, slots);
        chainsInFlight++;
        slotsInFlight += slots;
        chain.setHead(id);
    }

    private VirtqueueException error(int start, String fmt, Object... args) {
        return new VirtqueueException(String.format("queue %d: buffer at descriptor %d ", queue, start)
                + String.format(fmt, args));
    }

    // ---- returning used buffers ----

    /** Buffers popped and not yet returned. */
    int inFlight() {
        return chainsInFlight;
    }

    /**
     * Puts back the last {@code count} buffers popped (the caller checked {@code count}): the
     * next pops read them from the ring again. Each must still be in flight, so no used
     * descriptor has been written over them (used descriptors only go below the position of
     * the oldest buffer put back).
     */
    void unpop(int count) {
        int slots = 0;
        for (int k = 1; k <= count; k++) {
            int serial = popSerial - k;
            int id = popped[Math.floorMod(popCursor - k, size)];
            if (slotsOf[id] <= 0 || serialOf[id] != serial) {
                throw new IllegalArgumentException(String.format("queue %d: cannot put back buffer %d, popped %d "
                        + "pops ago: it was returned already", queue, id, k));
            }
            slots += slotsOf[id];
        }
        for (int k = 1; k <= count; k++) {
            slotsOf[popped[Math.floorMod(popCursor - k, size)]] = 0;
        }
        popSerial -= count;
        popCursor = Math.floorMod(popCursor - count, size);
        nextAvail = retreat(nextAvail, slots);
        chainsInFlight -= count;
        slotsInFlight -= slots;
    }

    /** Notes used element {@code offset} (the caller checked it) for the next {@link #flush}. */
    void fill(int offset, int id, long written) {
        if (id < 0 || id >= size || slotsOf[id] <= 0) {
            throw new IllegalArgumentException(String.format("queue %d: buffer ID %d is not in flight", queue, id));
        }
        int i = pendingIndex(offset);
        pendingId[i] = id;
        pendingLen[i] = (int) written;
    }

    private int pendingIndex(int offset) {
        int i = pendingBase + offset;
        return i >= size ? i - size : i;
    }

    /**
     * Writes the next {@code count} filled used elements (the caller checked {@code count})
     * as used descriptors, each at the device's used position, which then moves on by the
     * slots that buffer took; ids and lengths first, then the flags from last to first, so
     * the driver, which polls the first, sees all of them or none.
     */
    void flush(int count) throws DmaException {
        for (int k = 0; k < count; k++) {
            int i = pendingIndex(k);
            int id = pendingId[i];
            String bad = id < 0 ? "was not filled" : slotsOf[id] <= 0 ? "returns buffer ID " + id + " twice" : null;
            if (bad != null) {
                for (int j = 0; j < k; j++) {
                    int undo = pendingId[pendingIndex(j)];
                    slotsOf[undo] = -slotsOf[undo];
                }
                throw new IllegalArgumentException(String.format("queue %d: used element %d %s", queue, k, bad));
            }
            slotsOf[id] = -slotsOf[id]; // marks it taken by this batch
        }
        int p = nextUsed;
        for (int k = 0; k < count; k++) {
            int i = pendingIndex(k);
            long d = slotAddr(p);
            dma.writeU32(d + DESC_LEN, pendingLen[i]);
            dma.writeU16(d + DESC_ID, pendingId[i]);
            p = advance(p, -slotsOf[pendingId[i]]);
        }
        int end = p;
        for (int k = count - 1; k >= 0; k--) {
            int i = pendingIndex(k);
            int id = pendingId[i];
            int slots = -slotsOf[id];
            p = retreat(p, slots);
            int flags = (wrap(p) ? DESC_F_AVAIL | DESC_F_USED : 0)
                    | (pendingLen[i] != 0 ? Virtqueue.DESC_F_WRITE : 0); // 2.8.3: "the device wrote something"
            dma.writeU16Release(slotAddr(p) + DESC_FLAGS, flags);
            slotsOf[id] = 0;
            pendingId[i] = -1;
            slotsInFlight -= slots;
            usedSinceSignal = Math.min(usedSinceSignal + slots, 2 * size);
        }
        nextUsed = end;
        chainsInFlight -= count;
        pendingBase = pendingIndex(count);
    }

    /**
     * Whether the driver wants a used buffer notification for what was returned since the
     * last call (2.8.10): never with DISABLE; with DESC (EVENT_IDX) when the used position
     * went past off_wrap since then; otherwise always.
     */
    boolean needsInterrupt() throws DmaException {
        DmaView.fullFence(); // the flags stores before the event suppression load
        int event = dma.readU32(driverEvent);
        int flags = (event >>> EVENT_FLAGS_SHIFT) & EVENT_FLAGS_MASK;
        int old = signalled;
        int advanced = usedSinceSignal;
        signalled = nextUsed;
        usedSinceSignal = 0;
        if (flags == EVENT_FLAGS_DISABLE) {
            return false;
        }
        if (flags != EVENT_FLAGS_DESC || !eventIdx) {
            return true; // ENABLE; DESC without EVENT_IDX and the reserved value: better spurious than lost
        }
        int off = event & EVENT_OFF_MASK;
        if (off >= size || advanced >= 2 * size) {
            return true;
        }
        int at = (event & EVENT_WRAP) != 0 ? off : off + size;
        // The event lies in [old, old + advanced) going round the 2 * size positions.
        return Math.floorMod(at - old, 2 * size) < advanced;
    }

    /** The device's used position as off_wrap. */
    int usedIndex() {
        return offWrap(nextUsed);
    }

    /** The next position the device reads, as off_wrap. */
    int lastAvailIndex() {
        return offWrap(nextAvail);
    }
}
