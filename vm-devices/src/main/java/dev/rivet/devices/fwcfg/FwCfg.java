package dev.rivet.devices.fwcfg;

import dev.rivet.core.bus.GuestErrorLog;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.core.bus.MmioDevice;
import dev.rivet.core.fdt.FdtNode;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * QEMU's firmware configuration device (fw_cfg), memory-mapped as on the {@code virt}
 * boards at 0x1010_0000. Specification: QEMU docs/specs/fw_cfg.rst, sections "Selector
 * (Control) Register", "Data Register", "Register Locations" (the standard MMIO layout),
 * "Firmware Configuration Items" and "Guest-side DMA Interface"; MMIO details
 * (big-endian selector and DMA address, the DMA signature) as in QEMU hw/nvram/fw_cfg.c.
 *
 * <ul>
 * <li>Data register, {@code +0}: reads of 1, 2, 4 or 8 bytes return the next bytes of the
 *     selected item in address order (byte 0 of the access is the first byte of the
 *     stream); past the end of the item they read 0. Writes are ignored (read-only since
 *     QEMU 2.4).
 * <li>Selector, {@code +8}: a 16-bit big-endian write selects an item and rewinds to its
 *     start. Bit 15 selects the architecture-specific range (empty here), bit 14 (write
 *     access) is ignored.
 * <li>DMA address, {@code +16}: 64-bit big-endian guest physical address of an
 *     {@code FWCfgDmaAccess} {control, length, address} (big-endian fields). A 64-bit
 *     write, or a 32-bit write of the low half at {@code +20} after the high half at
 *     {@code +16}, runs the transfer at once; the control word is then written back as 0,
 *     or with the error bit set. Reads return the signature "QEMU CFG".
 * </ul>
 *
 * <p>Items: SIGNATURE ("QEMU"), ID (traditional interface and DMA), FILE_DIR and the
 * files added with {@link #addFile}, at selectors from 0x20 in name order (as QEMU sorts
 * them). DMA reaches guest RAM only through {@link GuestRam#contains} checks: a transfer
 * that points outside RAM sets the error bit and stops, it never throws or touches host
 * memory; a descriptor outside RAM is logged and ignored. No item is writable, so DMA
 * writes end in the error bit too.
 *
 * <p>Access sizes 1–8 (each register checks its own). Thread-safe.
 */
public final class FwCfg implements MmioDevice {
    /** Size of the register window in QEMU virt's device tree ({@code reg} size). */
    public static final long MMIO_SIZE = 0x18;

    // Register offsets (fw_cfg.rst "Register Locations", standard MMIO layout).
    public static final int DATA = 0x00;
    public static final int SELECTOR = 0x08;
    /** DMA address, high 32 bits when written 32 bits at a time. */
    public static final int DMA_ADDRESS = 0x10;
    /** DMA address, low 32 bits: writing it starts the transfer. */
    public static final int DMA_ADDRESS_LOW = 0x14;

    // Selector keys (fw_cfg.rst "Firmware Configuration Items").
    public static final int KEY_SIGNATURE = 0x0000;
    public static final int KEY_ID = 0x0001;
    public static final int KEY_FILE_DIR = 0x0019;
    public static final int KEY_FILE_FIRST = 0x0020;
    private static final int KEY_WRITE = 0x4000;
    private static final int KEY_ARCH_LOCAL = 0x8000;
    private static final int KEY_ENTRY_MASK = ~(KEY_WRITE | KEY_ARCH_LOCAL) & 0xFFFF;

    /** ID feature bits: bit 0 traditional interface, bit 1 DMA. */
    public static final int ID_TRADITIONAL = 0x1, ID_DMA = 0x2;

    // FWCfgDmaAccess control bits (fw_cfg.rst "Guest-side DMA Interface").
    public static final int DMA_CTL_ERROR = 0x01, DMA_CTL_READ = 0x02, DMA_CTL_SKIP = 0x04, DMA_CTL_SELECT = 0x08,
            DMA_CTL_WRITE = 0x10;
    /** Size of FWCfgDmaAccess: be32 control, be32 length, be64 address. */
    private static final int DMA_ACCESS_SIZE = 16;
    /** "QEMU CFG", read big-endian from the DMA address register. */
    public static final long DMA_SIGNATURE = 0x51454D5520434647L;

    /** File directory entry: be32 size, be16 select, be16 reserved, char name[56]. */
    private static final int FILE_ENTRY_SIZE = 64;
    public static final int MAX_FILE_NAME = 55;
    private static final byte[] EMPTY = new byte[0];

    private final GuestRam ram;
    private final GuestErrorLog log;
    /** Items by selector key (the configuration, fixed before the guest runs). */
    private final Map<Integer, byte[]> items = new TreeMap<>();
    private final Map<String, byte[]> files = new TreeMap<>();

    // Device state (plain fields, snapshot-ready). All guarded by this.
    /** Selected key, or -1 when the selection is invalid. */
    private int selected;
    private byte[] current = EMPTY;
    private int offset;
    private long dmaAddress;

    public FwCfg(GuestRam ram, GuestErrorLog log) {
        this.ram = Objects.requireNonNull(ram, "ram");
        this.log = Objects.requireNonNull(log, "log");
        items.put(KEY_SIGNATURE, "QEMU".getBytes(StandardCharsets.US_ASCII));
        items.put(KEY_ID, le32(ID_TRADITIONAL | ID_DMA));
        rebuildFileDir();
        reset();
    }

    /**
     * Adds a named file (e.g. {@code "etc/ramfb"}), listed in FILE_DIR. Files get selectors
     * from 0x20 in name order. Call before the guest runs.
     */
    public synchronized void addFile(String name, byte[] data) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        if (n.length == 0 || n.length > MAX_FILE_NAME) {
            throw new IllegalArgumentException("fw_cfg file name must be 1.." + MAX_FILE_NAME + " bytes: " + name);
        }
        if (files.containsKey(name)) {
            throw new IllegalArgumentException("fw_cfg file already exists: " + name);
        }
        if (KEY_FILE_FIRST + files.size() > KEY_ENTRY_MASK) {
            throw new IllegalStateException("fw_cfg has no more file slots");
        }
        files.put(name, data.clone());
        rebuildFileDir();
        select(selected < 0 ? KEY_ARCH_LOCAL : selected); // re-resolve the current item
    }

    private void rebuildFileDir() {
        items.keySet().removeIf(k -> k >= KEY_FILE_FIRST);
        byte[] dir = new byte[4 + FILE_ENTRY_SIZE * files.size()];
        putBe32(dir, 0, files.size());
        int i = 0;
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            int key = KEY_FILE_FIRST + i;
            int at = 4 + FILE_ENTRY_SIZE * i;
            putBe32(dir, at, f.getValue().length);
            dir[at + 4] = (byte) (key >>> 8);
            dir[at + 5] = (byte) key;
            byte[] n = f.getKey().getBytes(StandardCharsets.UTF_8);
            System.arraycopy(n, 0, dir, at + 8, n.length);
            items.put(key, f.getValue());
            i++;
        }
        items.put(KEY_FILE_DIR, dir);
    }

    @Override
    public String name() {
        return "fw-cfg";
    }

    @Override
    public int accessSizes() {
        return SIZES_ALL;
    }

    @Override
    public synchronized void reset() {
        select(KEY_SIGNATURE);
        dmaAddress = 0;
    }

    @Override
    public synchronized long read(long off, int size) {
        return switch (register(off)) {
            case DATA -> {
                if (off != DATA) {
                    yield badAccess("read", off, size, 0);
                }
                long v = 0;
                for (int i = 0; i < size; i++) {
                    v |= (long) nextByte() << (8 * i);
                }
                yield v;
            }
            case SELECTOR -> 0; // write-only
            case DMA_ADDRESS -> {
                long v = 0;
                for (int i = 0; i < size; i++) {
                    int index = (int) (off - DMA_ADDRESS) + i; // byte index into the big-endian signature
                    if (index < 8) {
                        v |= ((DMA_SIGNATURE >>> (56 - 8 * index)) & 0xFF) << (8 * i);
                    }
                }
                yield v;
            }
            default -> badAccess("read", off, size, 0);
        };
    }

    @Override
    public synchronized void write(long off, int size, long value) {
        switch (register(off)) {
            case DATA -> {
                // Read-only since QEMU 2.4: ignored.
            }
            case SELECTOR -> {
                if (off != SELECTOR || size != 2) {
                    badAccess("write", off, size, value);
                } else {
                    select(Short.reverseBytes((short) value) & 0xFFFF);
                }
            }
            case DMA_ADDRESS -> {
                if (off == DMA_ADDRESS && size == 8) {
                    dmaAddress = Long.reverseBytes(value);
                    dmaTransfer();
                } else if (off == DMA_ADDRESS && size == 4) {
                    dmaAddress = (Integer.reverseBytes((int) value) & 0xFFFF_FFFFL) << 32;
                } else if (off == DMA_ADDRESS_LOW && size == 4) {
                    dmaAddress |= Integer.reverseBytes((int) value) & 0xFFFF_FFFFL;
                    dmaTransfer();
                } else {
                    badAccess("write", off, size, value);
                }
            }
            default -> badAccess("write", off, size, value);
        }
    }

    /** Which register an access falls in, by the register's base offset, or -1. */
    private static int register(long off) {
        if (off >= DATA && off < DATA + 8) {
            return DATA;
        }
        if (off >= SELECTOR && off < SELECTOR + 2) {
            return SELECTOR;
        }
        if (off >= DMA_ADDRESS && off < DMA_ADDRESS + 8) {
            return DMA_ADDRESS;
        }
        return -1;
    }

    private long badAccess(String what, long off, int size, long value) {
        if (what.equals("read")) {
            log.guestError(String.format("%s: unsupported %d-byte read at offset 0x%x", name(), size, off));
        } else {
            log.guestError(String.format("%s: unsupported %d-byte write of 0x%x at offset 0x%x", name(), size, value, off));
        }
        return 0;
    }

    private void select(int key) {
        offset = 0;
        byte[] item = (key & KEY_ARCH_LOCAL) != 0 ? null : items.get(key & KEY_ENTRY_MASK);
        if (item == null) {
            selected = -1;
            current = EMPTY;
        } else {
            selected = key & KEY_ENTRY_MASK;
            current = item;
        }
    }

    private int nextByte() {
        return offset < current.length ? current[offset++] & 0xFF : 0;
    }

    // ---------------------------------------------------------------------------------
    // DMA (fw_cfg.rst "Guest-side DMA Interface").

    private void dmaTransfer() {
        long desc = dmaAddress;
        dmaAddress = 0;
        if (!ram.contains(desc, DMA_ACCESS_SIZE)) {
            log.guestError(String.format("%s: DMA descriptor at 0x%x is outside RAM", name(), desc));
            return;
        }
        long d = desc - ram.base();
        int control = Integer.reverseBytes((int) ram.read(d, 4));
        long length = Integer.reverseBytes((int) ram.read(d + 4, 4)) & 0xFFFF_FFFFL;
        long address = Long.reverseBytes(ram.read(d + 8, 8));

        if ((control & DMA_CTL_SELECT) != 0) {
            select(control >>> 16);
        }
        boolean read = false, write = false;
        if ((control & DMA_CTL_READ) != 0) {
            read = true;
        } else if ((control & DMA_CTL_WRITE) != 0) {
            write = true;
        } else if ((control & DMA_CTL_SKIP) == 0) {
            length = 0;
        }
        int status = 0;
        while (length > 0 && (status & DMA_CTL_ERROR) == 0) {
            long len;
            if (offset >= current.length) {
                // Past the end (or no item): reads fill with zeros, writes fail.
                len = length;
                if (read && !zeroGuest(address, len)) {
                    status |= DMA_CTL_ERROR;
                }
                if (write) {
                    status |= DMA_CTL_ERROR;
                }
            } else {
                len = Math.min(length, current.length - offset);
                if (read && !copyToGuest(address, current, offset, (int) len)) {
                    status |= DMA_CTL_ERROR;
                }
                if (write) {
                    status |= DMA_CTL_ERROR; // no item is writable
                }
                offset += (int) len;
            }
            address += len;
            length -= len;
        }
        if ((status & DMA_CTL_ERROR) != 0) {
            log.guestError(String.format("%s: DMA (control 0x%x) to 0x%x failed: outside RAM or not writable",
                    name(), control, address));
        }
        ram.write(d, 4, Integer.reverseBytes(status));
    }

    private boolean copyToGuest(long addr, byte[] src, int from, int len) {
        if (!ram.contains(addr, len)) {
            return false;
        }
        ram.load(addr, src, from, len);
        return true;
    }

    private boolean zeroGuest(long addr, long len) {
        if (!ram.contains(addr, len)) {
            return false;
        }
        ram.zeroRange(addr, len);
        return true;
    }

    // ---------------------------------------------------------------------------------

    /**
     * Adds {@code fw-cfg@<base>} under {@code parent} with QEMU virt's properties:
     * {@code dma-coherent}, {@code reg}, {@code compatible = "qemu,fw-cfg-mmio"}. QEMU puts
     * this node at the root of the tree, not under {@code /soc}.
     */
    public FdtNode addTo(FdtNode parent, long base, long size) {
        return parent.child("fw-cfg@" + Long.toHexString(base))
                .flag("dma-coherent")
                .reg(base, size)
                .prop("compatible", "qemu,fw-cfg-mmio");
    }

    private static byte[] le32(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }

    private static void putBe32(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }
}
