package dev.rivet.core.bus;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;

/**
 * Guest physical RAM: one off-heap, zero-filled {@link MemorySegment} at a fixed guest
 * physical base. All accessors are little-endian and tolerate unaligned offsets
 * (RISC-V is little-endian; the hart decides which misaligned accesses trap).
 *
 * <p>On Linux the memory is an anonymous private mapping, so pages are committed only when
 * the guest touches them (a 512 MiB guest that uses 60 MiB costs 60 MiB), as with QEMU.
 * Elsewhere it falls back to a zero-filled allocation.
 */
public final class GuestRam implements AutoCloseable {
    public static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;
    public static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    public static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    public static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    /** The granule of {@link #discard}: 4 KiB, the smallest RISC-V page and the balloon's page. */
    public static final long DISCARD_GRANULE = 4096;

    private final Arena arena;
    private final MemorySegment segment;
    private final long base;
    private final long size;

    public GuestRam(long base, long size) {
        if (size <= 0 || (size & 0xFFF) != 0) {
            throw new IllegalArgumentException("RAM size must be a positive multiple of 4 KiB: " + size);
        }
        if (base + size < base && base + size != 0) {
            throw new IllegalArgumentException("RAM range wraps the address space");
        }
        this.arena = Arena.ofShared();
        MemorySegment lazy = Mmap.anonymous(size, arena);
        this.segment = lazy != null ? lazy : arena.allocate(size, 4096);
        this.lazy = lazy != null;
        this.base = base;
        this.size = size;
    }

    private final boolean lazy;

    /** Sets all of RAM to zero (machine reset); with a lazy mapping, gives the pages back. */
    public void zero() {
        if (!lazy || !Mmap.discard(segment)) {
            segment.fill((byte) 0);
        }
    }

    /** Anonymous mmap/madvise through the FFM API (Linux x86-64 and aarch64 constants). */
    static final class Mmap {
        private static final int PROT_READ = 1, PROT_WRITE = 2;
        private static final int MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000;
        private static final int MADV_DONTNEED = 4;
        private static final MethodHandle MMAP, MUNMAP, MADVISE;
        /** The host's page size (madvise works in whole host pages), or 0 when unknown. */
        static final long HOST_PAGE;

        static {
            MethodHandle mmap = null, munmap = null, madvise = null;
            long hostPage = 0;
            if (System.getProperty("os.name", "").equals("Linux")) {
                try {
                    Linker l = Linker.nativeLinker();
                    var lib = l.defaultLookup();
                    mmap = l.downcallHandle(lib.find("mmap").orElseThrow(), FunctionDescriptor.of(ValueLayout.ADDRESS,
                            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
                    munmap = l.downcallHandle(lib.find("munmap").orElseThrow(),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
                    madvise = l.downcallHandle(lib.find("madvise").orElseThrow(), FunctionDescriptor.of(
                            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
                } catch (RuntimeException e) {
                    mmap = munmap = madvise = null; // native access not enabled: use the fallback
                }
                try {
                    Linker l = Linker.nativeLinker();
                    MethodHandle getpagesize = l.downcallHandle(l.defaultLookup().find("getpagesize").orElseThrow(),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT));
                    hostPage = (int) getpagesize.invokeExact();
                } catch (Throwable t) {
                    hostPage = 0; // discard() zero-fills instead
                }
            }
            MMAP = mmap;
            MUNMAP = munmap;
            MADVISE = madvise;
            HOST_PAGE = hostPage > 0 && Long.bitCount(hostPage) == 1 ? hostPage : 0;
        }

        private Mmap() {
        }

        static MemorySegment anonymous(long size, Arena arena) {
            if (MMAP == null) {
                return null;
            }
            try {
                MemorySegment p = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
                if (p.address() == -1L || p.address() == 0) {
                    return null;
                }
                return p.reinterpret(size, arena, seg -> unmap(seg, size));
            } catch (Throwable t) {
                return null;
            }
        }

        private static void unmap(MemorySegment seg, long size) {
            try {
                int rc = (int) MUNMAP.invokeExact(seg, size);
                assert rc == 0;
            } catch (Throwable t) {
                // the process keeps the mapping; nothing else to do at close
            }
        }

        static boolean discard(MemorySegment seg) {
            try {
                return (int) MADVISE.invokeExact(seg, seg.byteSize(), MADV_DONTNEED) == 0;
            } catch (Throwable t) {
                return false;
            }
        }
    }

    public MemorySegment segment() {
        return segment;
    }

    public long base() {
        return base;
    }

    public long size() {
        return size;
    }

    /** True when {@code [addr, addr+len)} lies entirely inside this RAM. */
    public boolean contains(long addr, long len) {
        long off = addr - base;
        return Long.compareUnsigned(off, size) < 0 && len <= size - off;
    }

    /** Told before anything other than a hart's fast path writes RAM (loaders, DMA). */
    @FunctionalInterface
    public interface WriteObserver {
        void beforeWrite(long physAddr);
    }

    private volatile WriteObserver observer;

    /**
     * Installs the observer of host-side writes: the machine's code-page map, so that a
     * device's DMA or a loader writing over translated guest code drops that code.
     */
    public void setWriteObserver(WriteObserver o) {
        this.observer = o;
    }

    private void observe(long addr, long len) {
        WriteObserver o = observer;
        if (o != null && len > 0) {
            for (long page = addr & ~0xFFFL; page < addr + len; page += 0x1000) {
                o.beforeWrite(page);
            }
        }
    }

    /** Copies host bytes into guest RAM; the caller checked the range with {@link #contains}. */
    public void load(long addr, byte[] data, int from, int len) {
        observe(addr, len);
        MemorySegment.copy(data, from, segment, I8, addr - base, len);
    }

    /**
     * Copies {@code src}'s remaining bytes into guest RAM at {@code addr} (advancing its
     * position); the caller checked the range with {@link #contains}. Observed, like
     * {@link #load(long, byte[], int, int)}: device DMA goes through here.
     */
    public void load(long addr, ByteBuffer src) {
        int len = src.remaining();
        observe(addr, len);
        if (src.hasArray()) {
            MemorySegment.copy(src.array(), src.arrayOffset() + src.position(), segment, I8, addr - base, len);
        } else {
            MemorySegment.copy(MemorySegment.ofBuffer(src), 0, segment, addr - base, len);
        }
        src.position(src.position() + len);
    }

    /**
     * A writable view of {@code [addr, addr+len)} for a host component that fills guest
     * memory in place (a disk read straight into a guest buffer). The range is observed
     * now, before the caller writes through the view; the caller checked it with
     * {@link #contains}.
     */
    public ByteBuffer writableView(long addr, int len) {
        observe(addr, len);
        return segment.asSlice(addr - base, len).asByteBuffer();
    }

    public long read(long offset, int size) {
        return switch (size) {
            case 1 -> segment.get(I8, offset) & 0xFFL;
            case 2 -> segment.get(I16, offset) & 0xFFFFL;
            case 4 -> segment.get(I32, offset) & 0xFFFF_FFFFL;
            default -> segment.get(I64, offset);
        };
    }

    /** Zeroes {@code [addr, addr+len)} (a guest address range the caller checked). */
    public void zeroRange(long addr, long len) {
        observe(addr, len);
        segment.asSlice(addr - base, len).fill((byte) 0);
    }

    /**
     * Gives the host memory behind {@code [addr, addr+len)} back and leaves the range reading
     * as zero: a page the guest put in a memory balloon or reported free (VirtIO 1.2 5.5.6).
     * The write observer hears of every page first, as for any host-side write, so code
     * translated from those pages is dropped.
     *
     * <p>With the lazy mapping, the host pages wholly inside the range are released with
     * {@code madvise(MADV_DONTNEED)} (a private anonymous mapping then reads zero and costs
     * nothing until touched again) and any part of a larger host page at either end is
     * zero-filled, so nothing outside the range changes. Otherwise the range is zero-filled.
     *
     * @throws IllegalArgumentException unless {@code addr} (relative to the RAM base) and
     *         {@code len} are multiples of {@link #DISCARD_GRANULE} and the range is inside RAM:
     *         the caller validates what the guest asked for first
     */
    public void discard(long addr, long len) {
        long off = addr - base;
        if (len < 0 || ((off | len) & (DISCARD_GRANULE - 1)) != 0 || !contains(addr, len)) {
            throw new IllegalArgumentException(String.format(
                    "discard 0x%x+0x%x: not whole 4 KiB pages inside RAM 0x%x+0x%x", addr, len, base, size));
        }
        if (len == 0) {
            return;
        }
        observe(addr, len);
        long hostPage = Mmap.HOST_PAGE;
        if (lazy && hostPage != 0) {
            long from = (off + hostPage - 1) & -hostPage;
            long to = (off + len) & -hostPage;
            if (from < to && Mmap.discard(segment.asSlice(from, to - from))) {
                segment.asSlice(off, from - off).fill((byte) 0);
                segment.asSlice(to, off + len - to).fill((byte) 0);
                return;
            }
        }
        segment.asSlice(off, len).fill((byte) 0);
    }

    /** Writes at an offset into RAM (not a guest address); host-side writers are observed. */
    public void write(long offset, int size, long value) {
        observe(base + offset, size);
        switch (size) {
            case 1 -> segment.set(I8, offset, (byte) value);
            case 2 -> segment.set(I16, offset, (short) value);
            case 4 -> segment.set(I32, offset, (int) value);
            default -> segment.set(I64, offset, value);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
