package dev.rivet.virtio;

import dev.rivet.core.bus.DmaException;
import dev.rivet.core.bus.DmaView;
import dev.rivet.virtio.GuestDriver.Buf;
import dev.rivet.virtio.GuestDriver.Used;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The driver's side of one packed virtqueue (VirtIO 1.2 section 2.8), played the way Linux's
 * drivers/virtio/virtio_ring.c does it ({@code virtqueue_add_packed},
 * {@code virtqueue_add_indirect_packed}, {@code virtqueue_kick_prepare_packed},
 * {@code virtqueue_get_buf_ctx_packed}, {@code virtqueue_enable_cb_prepare_packed}):
 * buffer IDs from a free list below the queue size, lists in consecutive slots with every
 * descriptor's AVAIL/USED bits set from the driver's wrap counter and the first
 * descriptor's flags written last, indirect tables of packed descriptors with only WRITE,
 * used descriptors read at the driver's used position, which then moves on by the slots
 * that buffer took.
 *
 * <p>{@link GuestDriver.DriverQueue} hands its calls here when the driver accepted
 * VIRTIO_F_RING_PACKED; tests reach the packed-only operations (raw descriptors, event
 * suppression) through {@link GuestDriver.DriverQueue#packed()}.
 */
public final class PackedDriverRing {
    public static final int AVAIL = PackedRing.DESC_F_AVAIL;
    public static final int USED = PackedRing.DESC_F_USED;
    public static final int NEXT = Virtqueue.DESC_F_NEXT;
    public static final int WRITE = Virtqueue.DESC_F_WRITE;
    public static final int INDIRECT = Virtqueue.DESC_F_INDIRECT;
    public static final int EVENT_ENABLE = PackedRing.EVENT_FLAGS_ENABLE;
    public static final int EVENT_DISABLE = PackedRing.EVENT_FLAGS_DISABLE;
    public static final int EVENT_DESC = PackedRing.EVENT_FLAGS_DESC;
    public static final int EVENT_WRAP = PackedRing.EVENT_WRAP;

    /** A raw descriptor for tests that break the rules: flags without AVAIL/USED, which {@link #addRaw} adds. */
    public record Desc(long addr, long len, int id, int flags) {
    }

    private final GuestDriver drv;
    public final int size;
    /** The descriptor ring, the driver event suppression (driver area) and the device's (device area). */
    public final long ring, driverEvent, deviceEvent;
    private final boolean eventIdx;

    private final ArrayDeque<Integer> freeIds = new ArrayDeque<>();
    /** Per buffer ID in flight: slots its list took (Linux's desc_state[id].num); 0 when free. */
    private final int[] slotsOf;
    private int freeSlots;
    private int nextAvail;
    private boolean availWrap = true;
    private int lastUsed;
    private boolean usedWrap = true;
    /** Slots made available so far, modulo 2^16 (what {@link #availIdx} reports). */
    private int added;
    /** Used buffers taken so far, modulo 2^16. */
    private int taken;
    /** Linux's event_flags_shadow. */
    private int eventFlags = EVENT_ENABLE;

    PackedDriverRing(GuestDriver drv, int size, long ring, long driverEvent, long deviceEvent, boolean eventIdx) {
        this.drv = drv;
        this.size = size;
        this.ring = ring;
        this.driverEvent = driverEvent;
        this.deviceEvent = deviceEvent;
        this.eventIdx = eventIdx;
        this.slotsOf = new int[Math.max(size, 1)];
        this.freeSlots = size;
        for (int i = 0; i < size; i++) {
            freeIds.add(i);
        }
        // vring_alloc_queue_packed: the ring and both event structures start zeroed (where
        // they are RAM: hostile tests place them elsewhere on purpose).
        zero(ring, 16L * size);
        zero(driverEvent, 4);
        zero(deviceEvent, 4);
    }

    private void zero(long addr, long len) {
        if (drv.dma.contains(addr, len)) {
            drv.poke(addr, new byte[(int) len]);
        }
    }

    /** AVAIL/USED as the driver marks a descriptor available at its current wrap counter. */
    public int availBits() {
        return availWrap ? AVAIL : USED;
    }

    // ---- virtqueue_add_packed ----

    /** Adds a buffer of direct descriptors and makes it available (does not kick); returns its ID. */
    public int add(Buf... bufs) {
        assertTrue(bufs.length >= 1 && freeSlots >= bufs.length && !freeIds.isEmpty(), "ring full");
        int id = freeIds.poll();
        Desc[] d = new Desc[bufs.length];
        for (int i = 0; i < bufs.length; i++) {
            boolean last = i == bufs.length - 1;
            d[i] = new Desc(bufs[i].addr(), bufs[i].len(), id, (bufs[i].writable() ? WRITE : 0) | (last ? 0 : NEXT));
        }
        slotsOf[id] = bufs.length;
        freeSlots -= bufs.length;
        addRaw(d);
        return id;
    }

    /** Adds a buffer as one descriptor pointing at an indirect table (allocated in RAM); returns its ID. */
    public int addIndirect(Buf... bufs) {
        assertTrue(freeSlots >= 1 && !freeIds.isEmpty(), "ring full");
        long table = drv.alloc(16L * bufs.length, 16);
        for (int i = 0; i < bufs.length; i++) {
            writeDesc(table, i, bufs[i].addr(), bufs[i].len(), 0, bufs[i].writable() ? WRITE : 0);
        }
        int id = freeIds.poll();
        slotsOf[id] = 1;
        freeSlots -= 1;
        addRaw(new Desc(table, 16L * bufs.length, id, INDIRECT));
        return id;
    }

    /**
     * {@link #addRaw} for a well-formed buffer whose ID (the last descriptor's) the driver
     * then counts as in flight, so {@link #poll} takes it back. Returns the ID.
     */
    public int addRawBuffer(Desc... descs) {
        int id = descs[descs.length - 1].id();
        assertTrue(freeIds.remove(id), "buffer ID " + id + " is in use");
        assertTrue(freeSlots >= descs.length, "ring full");
        slotsOf[id] = descs.length;
        freeSlots -= descs.length;
        addRaw(descs);
        return id;
    }

    /**
     * Writes {@code descs} into consecutive slots from the driver's next position, each with
     * the AVAIL/USED bits of its slot's wrap counter added, the first one's flags last with
     * release (2.8.21.1); the driver position moves on. No buffer ID bookkeeping: hostile
     * tests use it directly. Returns the slot of the first.
     */
    public int addRaw(Desc... descs) {
        int first = nextAvail;
        int firstFlags = 0;
        for (int i = 0; i < descs.length; i++) {
            int flags = descs[i].flags() | availBits();
            if (i == 0) {
                firstFlags = flags; // the slot's old flags stay until the whole list is written
                writeBody(ring, nextAvail, descs[i].addr(), descs[i].len(), descs[i].id());
            } else {
                writeDesc(ring, nextAvail, descs[i].addr(), descs[i].len(), descs[i].id(), flags);
            }
            if (++nextAvail == size) {
                nextAvail = 0;
                availWrap = !availWrap;
            }
        }
        added = (added + descs.length) & 0xFFFF;
        try {
            drv.dma.writeU16Release(ring + 16L * first + 14, firstFlags);
        } catch (DmaException e) {
            throw new AssertionError(e);
        }
        return first;
    }

    /** Writes one packed descriptor (table index {@code i}) exactly as given. */
    public void writeDesc(long table, int i, long addr, long len, int id, int flags) {
        writeBody(table, i, addr, len, id);
        drv.put16(table + 16L * i + 14, flags);
    }

    private void writeBody(long table, int i, long addr, long len, int id) {
        long d = table + 16L * i;
        try {
            drv.dma.writeU64(d, addr);
            drv.dma.writeU32(d + 8, (int) len);
            drv.dma.writeU16(d + 12, id);
        } catch (DmaException e) {
            throw new AssertionError(e);
        }
    }

    /** The flags of ring slot {@code slot}. */
    public int flagsAt(int slot) {
        return drv.u16(ring + 16L * slot + 14);
    }

    public int nextAvail() {
        return nextAvail;
    }

    public boolean availWrap() {
        return availWrap;
    }

    public int lastUsed() {
        return lastUsed;
    }

    public boolean usedWrap() {
        return usedWrap;
    }

    /** Slots made available so far, modulo 2^16: the "avail index" for {@link #kickNeeded}. */
    public int availIdx() {
        return added;
    }

    /**
     * virtqueue_kick_prepare_packed: after adding since {@code old} (an {@link #availIdx}),
     * does the device want a notification? Device event suppression: DISABLE no, ENABLE
     * yes, DESC when the slots just made available include off_wrap's.
     */
    public boolean kickNeeded(int old) {
        DmaView.fullFence();
        int snapshot = drv.u32(deviceEvent);
        int flags = snapshot >>> 16;
        if (flags != EVENT_DESC) {
            return flags != EVENT_DISABLE;
        }
        int numAdded = (added - old) & 0xFFFF;
        int newPos = nextAvail;
        int oldPos = newPos - numAdded;
        int offWrap = snapshot & 0xFFFF;
        int event = offWrap & 0x7FFF;
        if (((offWrap & EVENT_WRAP) != 0) != availWrap) {
            event -= size;
        }
        return ((newPos - event - 1) & 0xFFFF) < ((newPos - oldPos) & 0xFFFF);
    }

    /** The device event suppression structure: off_wrap in the low half, flags in the high. */
    public int deviceEvent() {
        return drv.u32(deviceEvent);
    }

    // ---- virtqueue_get_buf_ctx_packed ----

    private boolean usedAt(int slot, boolean wrap) {
        int flags;
        try {
            flags = drv.dma.readU16Acquire(ring + 16L * slot + 14);
        } catch (DmaException e) {
            throw new AssertionError(e);
        }
        boolean avail = (flags & AVAIL) != 0;
        boolean used = (flags & USED) != 0;
        return avail == used && used == wrap;
    }

    /** The next used buffer, or null; frees its ID and slots. */
    public Used poll() {
        if (!usedAt(lastUsed, usedWrap)) {
            return null;
        }
        long d = ring + 16L * lastUsed;
        int id = drv.u16(d + 12);
        int len = drv.u32(d + 8);
        if (id >= size || slotsOf[id] == 0) {
            fail(String.format("the device returned buffer ID %d at slot %d, which is not in flight", id, lastUsed));
        }
        int n = slotsOf[id];
        slotsOf[id] = 0;
        freeSlots += n;
        freeIds.add(id);
        lastUsed += n;
        if (lastUsed >= size) {
            lastUsed -= size;
            usedWrap = !usedWrap;
        }
        taken = (taken + 1) & 0xFFFF;
        return new Used(id, len);
    }

    /**
     * Used buffers the device has published, modulo 2^16: those taken plus those waiting at
     * the used position (the packed counterpart of the split ring's used->idx).
     */
    public int usedIdx() {
        return (taken + peekUsed().size()) & 0xFFFF;
    }

    /** The used buffers waiting at the used position, in order, without taking them. */
    public List<Used> peekUsed() {
        List<Used> out = new ArrayList<>();
        int pos = lastUsed;
        boolean wrap = usedWrap;
        int[] seen = slotsOf.clone();
        while (out.size() < size && usedAt(pos, wrap)) {
            long d = ring + 16L * pos;
            int id = drv.u16(d + 12);
            if (id >= size || seen[id] == 0) {
                break;
            }
            out.add(new Used(id, drv.u32(d + 8)));
            pos += seen[id];
            seen[id] = 0;
            if (pos >= size) {
                pos -= size;
                wrap = !wrap;
            }
        }
        return out;
    }

    // ---- driver event suppression (virtqueue_enable_cb_prepare_packed, virtqueue_disable_cb_packed) ----

    /** Writes the driver event suppression: off_wrap first, then (after a write barrier) flags. */
    public void setDriverEvent(int offWrap, int flags) {
        try {
            drv.dma.writeU16(driverEvent, offWrap);
            drv.dma.writeU16Release(driverEvent + 2, flags);
        } catch (DmaException e) {
            throw new AssertionError(e);
        }
        eventFlags = flags;
    }

    /** virtqueue_disable_cb_packed. */
    public void disableCallbacks() {
        setDriverEvent(drv.u16(driverEvent), EVENT_DISABLE);
    }

    /** virtqueue_enable_cb_prepare_packed: an interrupt for the next used buffer. */
    public void enableCallbacks() {
        setDriverEvent(lastUsed | (usedWrap ? EVENT_WRAP : 0), eventIdx ? EVENT_DESC : EVENT_ENABLE);
    }

    public int driverEventFlags() {
        return eventFlags;
    }

    /**
     * The split ring's "interrupt me when used->idx passes {@code v}" in packed terms: off_wrap
     * at the slot where used buffer number {@code v} will be written. That slot is known only
     * up to the first buffer not yet published, so {@code v} may not lie beyond it.
     */
    public void setUsedEvent(int v) {
        int k = (v - taken) & 0xFFFF;
        int pos = lastUsed;
        boolean wrap = usedWrap;
        int[] seen = slotsOf.clone();
        for (int i = 0; i < k; i++) {
            int id = drv.u16(ring + 16L * pos + 12);
            if (!usedAt(pos, wrap) || id >= size || seen[id] == 0) {
                fail("used event " + v + " lies past the next buffer the device has not returned");
            }
            pos += seen[id];
            seen[id] = 0;
            if (pos >= size) {
                pos -= size;
                wrap = !wrap;
            }
        }
        setDriverEvent(pos | (wrap ? EVENT_WRAP : 0), EVENT_DESC);
    }
}
