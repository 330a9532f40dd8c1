package dev.rivet.virtio.blk;

import dev.rivet.core.bus.DmaException;
import dev.rivet.core.bus.DmaView;
import dev.rivet.devices.block.BlockBackend;
import dev.rivet.virtio.ConfigSpace;
import dev.rivet.virtio.DescriptorChain;
import dev.rivet.virtio.QueueWorker;
import dev.rivet.virtio.Virtio;
import dev.rivet.virtio.VirtioContext;
import dev.rivet.virtio.VirtioDevice;
import dev.rivet.virtio.Virtqueue;
import dev.rivet.virtio.VirtqueueException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * The block device, virtio-blk (VirtIO 1.2 section 5.2): device ID 2, one request queue,
 * over a {@link BlockBackend}.
 *
 * <p>A request (5.2.6) is a 16-byte header {@code le32 type; le32 reserved; le64 sector}
 * in the device-readable part, then data (readable for OUT, DISCARD and WRITE_ZEROES,
 * writable for IN and GET_ID), and a final writable status byte. The device does not
 * assume how the driver split this across descriptors (2.7.4): the readable part is one
 * byte stream and the writable part another, whose last byte is the status.
 *
 * <ul>
 * <li>IN / OUT move whole 512-byte sectors (also whole backend sectors) inside the disk;
 *     otherwise IOERR. Data goes between the backend and guest memory in place, with no
 *     bounce buffer. Writes to a read-only disk fail with IOERR (5.2.6.2).
 * <li>FLUSH makes completed writes durable ({@link BlockBackend#flush}). If the driver did
 *     not accept VIRTIO_BLK_F_FLUSH, the device is write-through (5.2.6.2): every write is
 *     flushed before it completes.
 * <li>GET_ID writes the backend's serial, at most 20 bytes, zero-padded, no terminator
 *     needed at 20 (5.2.6).
 * <li>DISCARD / WRITE_ZEROES take up to {@link #MAX_SEGMENTS} 16-byte segments
 *     {@code le64 sector; le32 num_sectors; le32 flags}; an unknown flag, or the unmap flag on
 *     a discard, gives UNSUPP; a segment past the limits or the disk gives IOERR. All
 *     segments are checked before any is carried out.
 * <li>Any other type gives UNSUPP; a malformed request (short header, wrong data or status
 *     lengths) IOERR; a backend {@link IOException} IOERR. A chain with no writable byte
 *     at all has nowhere to put a status: the device needs a reset.
 * </ul>
 *
 * <p>Requests are processed on the executor given at construction, never on a hart, one
 * thread at a time ({@link QueueWorker}); a reset waits for the request in progress.
 * Per-request state lives in reused fields, so the steady state allocates only the
 * {@code ByteBuffer} views the backend reads into and writes from.
 */
public final class VirtioBlk implements VirtioDevice {
    public static final int QUEUE_SIZE = 256;
    /** Data segments per request: the queue size less header and status, as QEMU reports. */
    public static final int SEG_MAX = QUEUE_SIZE - 2;
    public static final int MAX_SEGMENTS = 16;
    public static final int MAX_DISCARD_SECTORS = 0x3F_FFFF;
    public static final int MAX_WRITE_ZEROES_SECTORS = 0x3F_FFFF;
    public static final int SECTOR = 512;

    // Feature bits (5.2.3).
    public static final int F_SIZE_MAX = 1;
    public static final int F_SEG_MAX = 2;
    public static final int F_GEOMETRY = 4;
    public static final int F_RO = 5;
    public static final int F_BLK_SIZE = 6;
    public static final int F_FLUSH = 9;
    public static final int F_TOPOLOGY = 10;
    public static final int F_CONFIG_WCE = 11;
    public static final int F_MQ = 12;
    public static final int F_DISCARD = 13;
    public static final int F_WRITE_ZEROES = 14;

    // struct virtio_blk_config (5.2.4).
    public static final int CFG_CAPACITY = 0;
    public static final int CFG_SIZE_MAX = 8;
    public static final int CFG_SEG_MAX = 12;
    public static final int CFG_GEOMETRY = 16;
    public static final int CFG_BLK_SIZE = 20;
    public static final int CFG_TOPOLOGY = 24;
    public static final int CFG_WRITEBACK = 32;
    public static final int CFG_NUM_QUEUES = 34;
    public static final int CFG_MAX_DISCARD_SECTORS = 36;
    public static final int CFG_MAX_DISCARD_SEG = 40;
    public static final int CFG_DISCARD_SECTOR_ALIGNMENT = 44;
    public static final int CFG_MAX_WRITE_ZEROES_SECTORS = 48;
    public static final int CFG_MAX_WRITE_ZEROES_SEG = 52;
    public static final int CFG_WRITE_ZEROES_MAY_UNMAP = 56;
    /** Through write_zeroes_may_unmap and its padding; secure erase and zoned fields are not offered. */
    public static final int CONFIG_SIZE = 60;

    // Request types and status values (5.2.6).
    public static final int T_IN = 0;
    public static final int T_OUT = 1;
    public static final int T_FLUSH = 4;
    public static final int T_GET_ID = 8;
    public static final int T_GET_LIFETIME = 10;
    public static final int T_DISCARD = 11;
    public static final int T_WRITE_ZEROES = 13;
    public static final int T_SECURE_ERASE = 14;
    public static final int S_OK = 0;
    public static final int S_IOERR = 1;
    public static final int S_UNSUPP = 2;
    public static final int HEADER_SIZE = 16;
    public static final int ID_BYTES = 20;
    public static final int SEGMENT_SIZE = 16;
    public static final int FLAG_UNMAP = 1;

    /** Requests completed between used buffer notifications while a batch is long. */
    private static final int NOTIFY_BATCH = 32;
    /** Largest single backend call, so that a view's length fits an int with room to spare. */
    private static final int MAX_IO_CHUNK = 1 << 30;

    private final BlockBackend backend;
    private final Executor executor;
    private final ConfigSpace config = new ConfigSpace(CONFIG_SIZE);
    private final long capacityBytes;
    private final int sectorSize;
    private final byte[] serial;

    // Per-request scratch, used only by the one thread processing the queue.
    private final DescriptorChain chain = new DescriptorChain();
    private final byte[] header = new byte[HEADER_SIZE];
    private final byte[] one = new byte[1];
    private final byte[] segment = new byte[SEGMENT_SIZE];
    private final byte[] id = new byte[ID_BYTES];
    private final long[] segOffset = new long[MAX_SEGMENTS];
    private final long[] segLength = new long[MAX_SEGMENTS];
    private final boolean[] segUnmap = new boolean[MAX_SEGMENTS];

    private volatile VirtioContext context;
    private volatile QueueWorker worker;
    private volatile boolean writeThrough;

    public VirtioBlk(BlockBackend backend, Executor executor) {
        this(backend, executor, null);
    }

    /** With the serial GET_ID reports ({@code null}: the backend's). */
    public VirtioBlk(BlockBackend backend, Executor executor, String serialNumber) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.sectorSize = backend.sectorSize();
        if (sectorSize < SECTOR || Integer.bitCount(sectorSize) != 1) {
            throw new IllegalArgumentException("backend sector size must be a power of two >= 512: " + sectorSize);
        }
        this.capacityBytes = backend.size() - backend.size() % sectorSize;
        byte[] s = (serialNumber != null ? serialNumber : backend.serial()).getBytes(StandardCharsets.UTF_8);
        this.serial = java.util.Arrays.copyOf(s, Math.min(s.length, ID_BYTES));
        config.putU64(CFG_CAPACITY, capacityBytes / SECTOR)
                .putU32(CFG_SEG_MAX, SEG_MAX)
                .putU32(CFG_BLK_SIZE, sectorSize)
                .putU32(CFG_MAX_DISCARD_SECTORS, MAX_DISCARD_SECTORS)
                .putU32(CFG_MAX_DISCARD_SEG, MAX_SEGMENTS)
                .putU32(CFG_DISCARD_SECTOR_ALIGNMENT, sectorSize / SECTOR)
                .putU32(CFG_MAX_WRITE_ZEROES_SECTORS, MAX_WRITE_ZEROES_SECTORS)
                .putU32(CFG_MAX_WRITE_ZEROES_SEG, MAX_SEGMENTS)
                .putU8(CFG_WRITE_ZEROES_MAY_UNMAP, 1);
    }

    @Override
    public int deviceId() {
        return Virtio.ID_BLOCK;
    }

    @Override
    public String name() {
        return "virtio-blk";
    }

    @Override
    public long deviceFeatures() {
        long f = Virtio.bit(F_SEG_MAX) | Virtio.bit(F_BLK_SIZE) | Virtio.bit(F_FLUSH)
                | Virtio.bit(F_DISCARD) | Virtio.bit(F_WRITE_ZEROES);
        return backend.readOnly() ? f | Virtio.bit(F_RO) : f;
    }

    @Override
    public int queueCount() {
        return 1;
    }

    @Override
    public int maxQueueSize(int index) {
        return QUEUE_SIZE;
    }

    @Override
    public int configSize() {
        return CONFIG_SIZE;
    }

    @Override
    public long readConfig(int offset, int size) {
        return config.read(offset, size);
    }

    @Override
    public void activate(VirtioContext ctx) {
        writeThrough = !ctx.hasFeature(F_FLUSH);
        context = ctx;
        worker = new QueueWorker(executor, ctx, 0, this::serve);
    }

    @Override
    public void queueNotify(int index) {
        QueueWorker w = worker;
        if (w != null) {
            w.kick();
        }
    }

    @Override
    public void reset() {
        worker = null;
        context = null;
        writeThrough = false;
    }

    /** Serves every available request; runs on the executor with the queue lock held. */
    private void serve(Virtqueue q) throws VirtqueueException {
        VirtioContext ctx = context;
        int unsignalled = 0;
        while (q.pop(chain)) {
            q.push(chain.head(), handle(ctx, chain));
            if (++unsignalled == NOTIFY_BATCH) {
                ctx.usedBuffers(0);
                unsignalled = 0;
            }
        }
        if (unsignalled > 0) {
            ctx.usedBuffers(0);
        }
    }

    /** Carries out one request and writes its status; returns the used length. */
    private long handle(VirtioContext ctx, DescriptorChain c) throws VirtqueueException {
        long w = c.writableBytes();
        if (w < 1) {
            throw new VirtqueueException("virtio-blk: request at descriptor " + c.head() + " has no status byte");
        }
        DmaView dma = ctx.dma();
        try {
            int status = execute(ctx, dma, c, w - 1);
            one[0] = (byte) status;
            c.writeTo(dma, w - 1, one, 0, 1);
        } catch (DmaException e) {
            throw new VirtqueueException("virtio-blk: " + e.getMessage()); // pop checked every buffer
        }
        return w;
    }

    private int execute(VirtioContext ctx, DmaView dma, DescriptorChain c, long dataIn) throws DmaException {
        long readable = c.readableBytes();
        if (readable < HEADER_SIZE) {
            return bad(ctx, c, "header of %d bytes, not %d", readable, HEADER_SIZE);
        }
        c.readFrom(dma, 0, header, 0, HEADER_SIZE);
        int type = le32(header, 0);
        long sector = le64(header, 8);
        long dataOut = readable - HEADER_SIZE;
        try {
            return switch (type) {
                case T_IN -> {
                    if (dataOut != 0) {
                        yield bad(ctx, c, "IN with %d data bytes to read", dataOut);
                    }
                    long off = range(ctx, c, sector, dataIn);
                    if (off < 0) {
                        yield S_IOERR;
                    }
                    readDisk(dma, c, off, dataIn);
                    yield S_OK;
                }
                case T_OUT -> {
                    if (dataIn != 0) {
                        yield bad(ctx, c, "OUT with %d writable bytes besides the status", dataIn);
                    }
                    if (backend.readOnly()) {
                        yield S_IOERR;
                    }
                    long off = range(ctx, c, sector, dataOut);
                    if (off < 0) {
                        yield S_IOERR;
                    }
                    writeDisk(dma, c, off, dataOut);
                    if (writeThrough) {
                        backend.flush();
                    }
                    yield S_OK;
                }
                case T_FLUSH -> {
                    if (dataOut != 0 || dataIn != 0) {
                        yield bad(ctx, c, "FLUSH with data (%d out, %d in)", dataOut, dataIn);
                    }
                    backend.flush();
                    yield S_OK;
                }
                case T_GET_ID -> {
                    if (dataOut != 0) {
                        yield bad(ctx, c, "GET_ID with %d data bytes to read", dataOut);
                    }
                    java.util.Arrays.fill(id, (byte) 0);
                    System.arraycopy(serial, 0, id, 0, serial.length);
                    c.writeTo(dma, 0, id, 0, (int) Math.min(ID_BYTES, dataIn));
                    yield S_OK;
                }
                case T_DISCARD, T_WRITE_ZEROES -> discardOrZero(ctx, dma, c, type, dataOut, dataIn);
                default -> S_UNSUPP;
            };
        } catch (IOException e) {
            ctx.log().guestError(String.format("virtio-blk: backend I/O error (request type %d, sector %d): %s",
                    type, sector, e));
            return S_IOERR;
        }
    }

    /** The byte offset of {@code len} bytes at 512-byte {@code sector}, or -1 when outside the disk or misaligned. */
    private long range(VirtioContext ctx, DescriptorChain c, long sector, long len) {
        if (len % sectorSize != 0 || Long.compareUnsigned(sector, capacityBytes / SECTOR) > 0
                || sector * SECTOR > capacityBytes - len || (sector * SECTOR) % sectorSize != 0) {
            bad(ctx, c, "%d bytes at sector %d: outside the %d-sector disk or not whole %d-byte sectors",
                    len, sector, capacityBytes / SECTOR, sectorSize);
            return -1;
        }
        return sector * SECTOR;
    }

    /** Reads the disk into the writable buffers, all but the status byte. */
    private void readDisk(DmaView dma, DescriptorChain c, long off, long len) throws DmaException, IOException {
        for (int i = 0; i < c.writableCount() && len > 0; i++) {
            long addr = c.writableAddress(i);
            long n = Math.min(c.writableLength(i), len);
            len -= n;
            while (n > 0) {
                int k = (int) Math.min(n, MAX_IO_CHUNK);
                backend.read(off, dma.writeView(addr, k));
                off += k;
                addr += k;
                n -= k;
            }
        }
    }

    /** Writes the readable buffers after the header to the disk. */
    private void writeDisk(DmaView dma, DescriptorChain c, long off, long len) throws DmaException, IOException {
        long skip = HEADER_SIZE;
        for (int i = 0; i < c.readableCount() && len > 0; i++) {
            long l = c.readableLength(i);
            if (skip >= l) {
                skip -= l;
                continue;
            }
            long addr = c.readableAddress(i) + skip;
            long n = Math.min(l - skip, len);
            skip = 0;
            len -= n;
            while (n > 0) {
                int k = (int) Math.min(n, MAX_IO_CHUNK);
                backend.write(off, dma.readView(addr, k));
                off += k;
                addr += k;
                n -= k;
            }
        }
    }

    private int discardOrZero(VirtioContext ctx, DmaView dma, DescriptorChain c, int type, long dataOut,
            long dataIn) throws DmaException, IOException {
        boolean discard = type == T_DISCARD;
        if (!ctx.hasFeature(discard ? F_DISCARD : F_WRITE_ZEROES)) {
            return S_UNSUPP;
        }
        if (dataIn != 0) {
            return bad(ctx, c, "%s with %d writable bytes besides the status", discard ? "DISCARD" : "WRITE_ZEROES",
                    dataIn);
        }
        if (dataOut == 0 || dataOut % SEGMENT_SIZE != 0 || dataOut / SEGMENT_SIZE > MAX_SEGMENTS) {
            return bad(ctx, c, "%d bytes of segments (a multiple of 16, 1 to %d segments)", dataOut, MAX_SEGMENTS);
        }
        if (backend.readOnly()) {
            return S_IOERR;
        }
        int n = (int) (dataOut / SEGMENT_SIZE);
        long max = discard ? MAX_DISCARD_SECTORS : MAX_WRITE_ZEROES_SECTORS;
        for (int i = 0; i < n; i++) {
            c.readFrom(dma, HEADER_SIZE + (long) i * SEGMENT_SIZE, segment, 0, SEGMENT_SIZE);
            long sector = le64(segment, 0);
            long sectors = le32(segment, 8) & 0xFFFF_FFFFL;
            int flags = le32(segment, 12);
            if ((flags & ~FLAG_UNMAP) != 0 || discard && (flags & FLAG_UNMAP) != 0) {
                return S_UNSUPP; // 5.2.6.2: unknown flags, or unmap on a discard
            }
            if (sectors > max) {
                return bad(ctx, c, "segment of %d sectors, more than the %d allowed", sectors, max);
            }
            long off = range(ctx, c, sector, sectors * SECTOR);
            if (off < 0) {
                return S_IOERR;
            }
            segOffset[i] = off;
            segLength[i] = sectors * SECTOR;
            segUnmap[i] = (flags & FLAG_UNMAP) != 0;
        }
        for (int i = 0; i < n; i++) {
            if (discard) {
                backend.discard(segOffset[i], segLength[i]);
            } else {
                backend.writeZeroes(segOffset[i], segLength[i], segUnmap[i]);
            }
        }
        if (writeThrough) {
            backend.flush();
        }
        return S_OK;
    }

    private static int bad(VirtioContext ctx, DescriptorChain c, String fmt, Object... args) {
        ctx.log().guestError("virtio-blk: request at descriptor " + c.head() + ": " + String.format(fmt, args));
        return S_IOERR;
    }

    private static int le32(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF) << 16 | (b[off + 3] & 0xFF) << 24;
    }

    private static long le64(byte[] b, int off) {
        return (le32(b, off) & 0xFFFF_FFFFL) | (long) le32(b, off + 4) << 32;
    }
}
