package dev.rivet.devices.rom;

import dev.rivet.core.bus.GuestErrorLog;
import dev.rivet.core.bus.MmioDevice;

import java.util.Objects;

/**
 * A read-only memory region, such as the boot ROM ({@code mrom}) at 0x0000_1000 on QEMU's
 * {@code virt} board (hw/riscv/virt.c maps a ROM region there that holds the reset vector
 * and, after it, the {@code fw_dynamic_info} block). The board fills it with
 * {@link #load} before the machine runs; the guest can only read it.
 *
 * <p>Reads of any size (1, 2, 4, 8 bytes, aligned or not) return the bytes little-endian;
 * guest writes are guest errors and change nothing. Bytes past the end (only reachable by
 * calling the device directly, the bus never maps them) read as 0 and are logged. Its
 * contents are not device state: {@link #reset()} keeps them, and the board reloads them.
 *
 * <p>QEMU's device tree has no node for this ROM, so neither does this class.
 */
public final class Rom implements MmioDevice {
    private final String name;
    private final byte[] contents;
    private final GuestErrorLog log;

    /** An all-zero ROM of {@code size} bytes named {@code name} in logs. */
    public Rom(String name, int size, GuestErrorLog log) {
        if (size <= 0) {
            throw new IllegalArgumentException("ROM size must be positive: " + size);
        }
        this.name = Objects.requireNonNull(name, "name");
        this.contents = new byte[size];
        this.log = Objects.requireNonNull(log, "log");
    }

    /** Copies {@code data} into the ROM at {@code offset} (host side, before the guest runs). */
    public void load(int offset, byte[] data) {
        if (offset < 0 || data.length > contents.length - offset) {
            throw new IllegalArgumentException(String.format("%d bytes at offset 0x%x do not fit in %s (0x%x bytes)",
                    data.length, offset, name, contents.length));
        }
        System.arraycopy(data, 0, contents, offset, data.length);
    }

    /** Size in bytes. */
    public int size() {
        return contents.length;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int accessSizes() {
        return SIZES_ALL;
    }

    @Override
    public long read(long offset, int size) {
        if (offset < 0 || offset + size > contents.length) {
            log.guestError(String.format("%s: read of %d bytes at offset 0x%x, past the end (0x%x bytes)",
                    name, size, offset, contents.length));
        }
        long v = 0;
        for (int i = 0; i < size; i++) {
            long at = offset + i;
            if (at >= 0 && at < contents.length) {
                v |= (contents[(int) at] & 0xFFL) << (8 * i);
            }
        }
        return v;
    }

    @Override
    public void write(long offset, int size, long value) {
        log.guestError(String.format("%s: write of 0x%x (%d bytes) at offset 0x%x to read-only memory, ignored",
                name, value, size, offset));
    }
}
