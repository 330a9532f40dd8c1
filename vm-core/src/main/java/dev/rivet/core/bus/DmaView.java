package dev.rivet.core.bus;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Guest RAM as a device sees it: every access is checked against the RAM region
 * ({@link GuestRam#contains}, with a negative or wrapping length refused) and a range that
 * is not entirely RAM throws {@link DmaException} instead of touching host memory. Writes
 * go through {@link GuestRam}'s write observer, so DMA over translated guest code drops
 * that code.
 *
 * <p>Little-endian and tolerant of unaligned addresses, like RAM itself. Accesses are plain
 * (no ordering); where a shared-memory protocol needs order, the caller uses the
 * {@code Acquire}/{@code Release} variants or {@link #fullFence()}. The driver on a hart
 * thread and a device on an I/O thread then see each other's ring updates in the order the
 * protocol (e.g. VirtIO 1.2 section 2.7.13, "Supplying Buffers to The Device") requires.
 *
 * <p>Thread-safe (stateless apart from the RAM it wraps); one instance may serve every
 * device of a machine.
 */
public final class DmaView {
    private final GuestRam ram;
    private final MemorySegment seg;
    private final long base;

    public DmaView(GuestRam ram) {
        this.ram = Objects.requireNonNull(ram, "ram");
        this.seg = ram.segment();
        this.base = ram.base();
    }

    public GuestRam ram() {
        return ram;
    }

    /** True when {@code [addr, addr+len)} is entirely guest RAM; false for a negative length. */
    public boolean contains(long addr, long len) {
        return len >= 0 && ram.contains(addr, len);
    }

    /** The RAM offset of {@code [addr, addr+len)}, or throws. */
    private long check(long addr, long len) throws DmaException {
        if (len < 0 || !ram.contains(addr, len)) {
            throw new DmaException(addr, len);
        }
        return addr - base;
    }

    // ---- scalar reads (zero-extended) ----

    public int readU8(long addr) throws DmaException {
        return seg.get(GuestRam.I8, check(addr, 1)) & 0xFF;
    }

    public int readU16(long addr) throws DmaException {
        return seg.get(GuestRam.I16, check(addr, 2)) & 0xFFFF;
    }

    /** Reads a u32 (returned as the raw 32 bits; mask with {@code & 0xFFFF_FFFFL} for unsigned). */
    public int readU32(long addr) throws DmaException {
        return seg.get(GuestRam.I32, check(addr, 4));
    }

    public long readU64(long addr) throws DmaException {
        return seg.get(GuestRam.I64, check(addr, 8));
    }

    /**
     * Reads a u16 with acquire semantics: no later read (descriptors, ring entries) is
     * satisfied before it. For an index the other side publishes with a release store.
     */
    public int readU16Acquire(long addr) throws DmaException {
        int v = readU16(addr);
        VarHandle.acquireFence();
        return v;
    }

    // ---- scalar writes (observed) ----

    public void writeU8(long addr, int value) throws DmaException {
        ram.write(check(addr, 1), 1, value);
    }

    public void writeU16(long addr, int value) throws DmaException {
        ram.write(check(addr, 2), 2, value);
    }

    public void writeU32(long addr, int value) throws DmaException {
        ram.write(check(addr, 4), 4, value);
    }

    public void writeU64(long addr, long value) throws DmaException {
        ram.write(check(addr, 8), 8, value);
    }

    /**
     * Writes a u16 with release semantics: every earlier write (ring entries, buffer
     * contents) is visible before it. For an index the other side reads with acquire.
     */
    public void writeU16Release(long addr, int value) throws DmaException {
        long off = check(addr, 2);
        VarHandle.releaseFence();
        ram.write(off, 2, value);
    }

    /**
     * Orders every earlier read and write before every later one (a store followed by a
     * load of another location, as in "publish the used index, then read used_event").
     */
    public static void fullFence() {
        VarHandle.fullFence();
    }

    // ---- bulk copies ----

    /** Copies {@code len} guest bytes at {@code addr} into {@code dst[off..]}. */
    public void read(long addr, byte[] dst, int off, int len) throws DmaException {
        Objects.checkFromIndexSize(off, len, dst.length);
        MemorySegment.copy(seg, GuestRam.I8, check(addr, len), dst, off, len);
    }

    /** Fills {@code dst}'s remaining bytes from guest memory at {@code addr}, advancing its position. */
    public void read(long addr, ByteBuffer dst) throws DmaException {
        int len = dst.remaining();
        long off = check(addr, len);
        if (dst.hasArray()) {
            MemorySegment.copy(seg, GuestRam.I8, off, dst.array(), dst.arrayOffset() + dst.position(), len);
        } else {
            MemorySegment.copy(seg, off, MemorySegment.ofBuffer(dst), 0, len);
        }
        dst.position(dst.position() + len);
    }

    /** Copies {@code src[off..off+len)} into guest memory at {@code addr}. */
    public void write(long addr, byte[] src, int off, int len) throws DmaException {
        Objects.checkFromIndexSize(off, len, src.length);
        check(addr, len);
        ram.load(addr, src, off, len);
    }

    /** Copies {@code src}'s remaining bytes into guest memory at {@code addr}, advancing its position. */
    public void write(long addr, ByteBuffer src) throws DmaException {
        check(addr, src.remaining());
        ram.load(addr, src);
    }

    /** Zeroes {@code len} guest bytes at {@code addr}. */
    public void zero(long addr, long len) throws DmaException {
        check(addr, len);
        ram.zeroRange(addr, len);
    }

    /**
     * A read-only view of {@code len} guest bytes at {@code addr}, for a host component
     * that consumes guest memory in place (a disk write straight from a guest buffer).
     */
    public ByteBuffer readView(long addr, int len) throws DmaException {
        long off = check(addr, len);
        return seg.asSlice(off, len).asByteBuffer().asReadOnlyBuffer();
    }

    /**
     * A writable view of {@code len} guest bytes at {@code addr}, for a host component
     * that fills guest memory in place (a disk read straight into a guest buffer). The
     * range is reported to the write observer now, before the caller writes through it.
     */
    public ByteBuffer writeView(long addr, int len) throws DmaException {
        check(addr, len);
        return ram.writableView(addr, len);
    }
}
