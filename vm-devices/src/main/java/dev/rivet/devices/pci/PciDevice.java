package dev.rivet.devices.pci;

import java.util.Arrays;
import java.util.Objects;

/**
 * One PCI function: its configuration space with a type-0 header (PCI Local Bus
 * Specification 3.0, 6.1 "Configuration Space Organization" and 6.2 "Configuration Space
 * Functions"), its Base Address Registers, its capability list (6.7 "Capabilities List")
 * and its INTx pin. A concrete device extends this class, describes itself in its
 * constructor ({@link #declareBar}, {@link #addCapability}, {@link #setInterruptPin},
 * {@link #setSubsystem}) and is then placed at a slot with {@link PcieHost#add}; the
 * layout is frozen from then on.
 *
 * <p>The configuration space is plain bytes plus a write mask per byte: a guest write
 * changes only the bits the mask allows, so read-only fields stay read-only whatever the
 * guest writes. BARs need no code of their own: the mask of a BAR of size {@code s} is
 * {@code ~(s-1)} above the flag bits, so writing all-ones and reading back yields the
 * size mask (6.2.5.1). The only live bit is Status.Interrupt Status, which reflects the
 * function's INTx level.
 *
 * <p>Locking: configuration accesses are serialized on this object, and the hooks
 * {@link #configRead}/{@link #configWritten}/{@link #deviceReset} run with it held, so the
 * lock order is "this function, then the device's own locks". {@link #setIrq},
 * {@link #command()} and {@link #busMasterEnabled()} take no lock of this object and are
 * safe from a device's I/O thread holding its own locks; {@link #configValue} and
 * {@link #setConfigValue} do lock it, so a device calls them from a hook or without
 * holding its own locks.
 */
public abstract class PciDevice {
    // Type-0 header registers (PCI 3.0, Figure 6-1).
    public static final int VENDOR_ID = 0x00;
    public static final int DEVICE_ID = 0x02;
    public static final int COMMAND = 0x04;
    public static final int STATUS = 0x06;
    public static final int REVISION_ID = 0x08;
    /** Programming interface (0x09), sub-class (0x0A), base class (0x0B). */
    public static final int CLASS_CODE = 0x09;
    public static final int CACHE_LINE_SIZE = 0x0C;
    public static final int LATENCY_TIMER = 0x0D;
    public static final int HEADER_TYPE = 0x0E;
    public static final int BIST = 0x0F;
    /** BAR n at BAR0 + 4*n, n = 0..5. */
    public static final int BAR0 = 0x10;
    public static final int CARDBUS_CIS = 0x28;
    public static final int SUBSYSTEM_VENDOR_ID = 0x2C;
    public static final int SUBSYSTEM_ID = 0x2E;
    public static final int EXPANSION_ROM = 0x30;
    public static final int CAPABILITIES_POINTER = 0x34;
    public static final int INTERRUPT_LINE = 0x3C;
    public static final int INTERRUPT_PIN = 0x3D;
    public static final int MIN_GNT = 0x3E;
    public static final int MAX_LAT = 0x3F;

    /** End of the header; capabilities live from here to {@link #CONFIG_SPACE_SIZE}. */
    public static final int HEADER_SIZE = 0x40;
    /** Conventional PCI configuration space. */
    public static final int CONFIG_SPACE_SIZE = 0x100;
    /** PCI Express configuration space (PCIe Base 4.0, 7.2.2 ECAM). */
    public static final int EXTENDED_CONFIG_SPACE_SIZE = 0x1000;
    public static final int BAR_COUNT = 6;

    // Command register bits (6.2.2).
    public static final int COMMAND_IO = 1 << 0;
    public static final int COMMAND_MEMORY = 1 << 1;
    public static final int COMMAND_BUS_MASTER = 1 << 2;
    public static final int COMMAND_PARITY = 1 << 6;
    public static final int COMMAND_SERR = 1 << 8;
    public static final int COMMAND_INTX_DISABLE = 1 << 10;

    // Status register bits (6.2.3).
    public static final int STATUS_INTERRUPT = 1 << 3;
    public static final int STATUS_CAPABILITIES = 1 << 4;

    /** Header Type bit 7: the device has more functions than function 0. */
    public static final int HEADER_MULTI_FUNCTION = 0x80;

    // BAR low bits (6.2.5.1).
    public static final int BAR_IO = 0x1;
    public static final int BAR_MEMORY_64 = 0x4;
    public static final int BAR_PREFETCHABLE = 0x8;

    // Capability IDs (PCI Code and ID Assignment Specification, 2 "Capability IDs").
    public static final int CAP_ID_PM = 0x01;
    public static final int CAP_ID_MSI = 0x05;
    public static final int CAP_ID_VENDOR = 0x09;
    public static final int CAP_ID_EXP = 0x10;
    public static final int CAP_ID_MSIX = 0x11;

    /** PCI Express Capability (PCIe Base 4.0, 7.5.3), version 2 layout: 0x3C bytes. */
    public static final int EXP_CAP_SIZE = 0x3C;
    public static final int EXP_FLAGS = 0x02;
    public static final int EXP_DEVCAP = 0x04;
    public static final int EXP_DEVCTL = 0x08;
    public static final int EXP_DEVSTA = 0x0A;
    /** Device/Port Type "Root Complex Integrated Endpoint" (7.5.3.2). */
    public static final int EXP_TYPE_RC_END = 0x9;
    /** Device Control defaults (7.5.3.4): Relaxed Ordering, No Snoop, Max Read Request 512 bytes. */
    private static final int EXP_DEVCTL_DEFAULT = 0x0010 | 0x0800 | 0x2 << 12;
    /** Device Control bits a function without FLR, phantom functions or aux power lets the guest write. */
    private static final int EXP_DEVCTL_WRITABLE = 0x01FF | 0x0800 | 0x7000;
    /** Device Capabilities: Role-Based Error Reporting (required since PCIe 1.1), max payload 128. */
    private static final int EXP_DEVCAP_RBER = 1 << 15;

    private final String name;

    // Configuration space (plain arrays, snapshot-ready). Guarded by this.
    private final byte[] config = new byte[EXTENDED_CONFIG_SPACE_SIZE];
    private final byte[] writeMask = new byte[EXTENDED_CONFIG_SPACE_SIZE];
    /** The configuration space as it was when attached: what reset() restores. */
    private byte[] powerOn;
    private int configSize = CONFIG_SPACE_SIZE;

    private final PciBar[] bars = new PciBar[BAR_COUNT];
    /** Offset of the last capability added (its next pointer is patched by the following one), 0 if none. */
    private int lastCapability;
    /** First free byte of the capability area. */
    private int capabilityEnd = HEADER_SIZE;

    // Topology, set once by the host (host last, volatile: it publishes slot and function).
    private volatile PcieHost host;
    private int slot = -1;
    private int function = -1;

    /** The device's INTx level as it last drove it (independent of INTx Disable). */
    private volatile boolean intxLevel;
    /** Mirror of Command.INTx Disable, read by the host without locking this function. */
    private volatile boolean intxDisabled;
    /** Mirror of the Command register, for the device's I/O threads (no lock of this function). */
    private volatile int command;

    /** BARs currently decoding, per space; rebuilt on writes to Command or a BAR. */
    private volatile PciAddressSpace.Decode[] memoryDecodes = PciAddressSpace.NO_DECODES;
    private volatile PciAddressSpace.Decode[] ioDecodes = PciAddressSpace.NO_DECODES;

    /**
     * @param name      short name for logs, e.g. {@code "virtio-net-pci"}
     * @param classCode 24-bit class code: base class, sub-class, programming interface
     */
    protected PciDevice(String name, int vendorId, int deviceId, int classCode, int revision) {
        this.name = Objects.requireNonNull(name, "name");
        set16(VENDOR_ID, vendorId);
        set16(DEVICE_ID, deviceId);
        set8(REVISION_ID, revision);
        set8(CLASS_CODE, classCode);
        set8(CLASS_CODE + 1, classCode >>> 8);
        set8(CLASS_CODE + 2, classCode >>> 16);
        // Writable header fields; IO/Memory enable follow the BARs, see freeze().
        mask16(COMMAND, COMMAND_BUS_MASTER | COMMAND_PARITY | COMMAND_SERR | COMMAND_INTX_DISABLE);
        mask8(CACHE_LINE_SIZE, 0xFF);
        mask8(INTERRUPT_LINE, 0xFF);
    }

    public final String name() {
        return name;
    }

    // ---------------------------------------------------------------- describing the function

    /** Sets the subsystem vendor and subsystem IDs (read-only to the guest). */
    protected final void setSubsystem(int subsystemVendorId, int subsystemId) {
        checkNotFrozen();
        set16(SUBSYSTEM_VENDOR_ID, subsystemVendorId);
        set16(SUBSYSTEM_ID, subsystemId);
    }

    /** Which INTx pin the function uses: 0 none, 1..4 INTA#..INTD#. */
    protected final void setInterruptPin(int pin) {
        checkNotFrozen();
        if (pin < 0 || pin > 4) {
            throw new IllegalArgumentException("interrupt pin must be 0 (none) or 1..4 (INTA..INTD), not " + pin);
        }
        set8(INTERRUPT_PIN, pin);
    }

    /**
     * Declares BAR {@code index} (0..5). A 64-bit memory BAR also takes {@code index + 1}.
     * Unused BARs read 0 and ignore writes, which tells the guest they are not implemented.
     */
    protected final void declareBar(int index, PciBar bar) {
        checkNotFrozen();
        Objects.requireNonNull(bar, "bar");
        boolean wide = bar.kind() == PciBar.Kind.MEMORY_64;
        if (index < 0 || index >= BAR_COUNT || wide && index == BAR_COUNT - 1) {
            throw new IllegalArgumentException("no room for " + bar.kind() + " at BAR " + index);
        }
        if (bars[index] != null || isUpperHalf(index) || wide && bars[index + 1] != null) {
            throw new IllegalArgumentException("BAR " + index + " of " + name + " is already declared");
        }
        bars[index] = bar;
        int reg = BAR0 + 4 * index;
        long addrMask = ~(bar.size() - 1);
        switch (bar.kind()) {
            case IO -> {
                set32(reg, BAR_IO);
                mask32(reg, (int) addrMask & ~0x3);
            }
            case MEMORY_32 -> {
                set32(reg, bar.prefetchable() ? BAR_PREFETCHABLE : 0);
                mask32(reg, (int) addrMask & ~0xF);
            }
            case MEMORY_64 -> {
                set32(reg, BAR_MEMORY_64 | (bar.prefetchable() ? BAR_PREFETCHABLE : 0));
                mask32(reg, (int) addrMask & ~0xF);
                mask32(reg + 4, (int) (addrMask >>> 32));
            }
        }
    }

    /**
     * Appends a capability to the list (PCI 3.0, 6.7): {@code body} is everything after the
     * two-byte header (ID, next pointer), {@code bodyWriteMask} (same length, or null for
     * read-only) the bits the guest may change. Returns the capability's offset in
     * configuration space, where the device finds it again (e.g. in {@link #configWritten}).
     * Capabilities are placed dword-aligned from 0x40 in the order added.
     */
    protected final int addCapability(int id, byte[] body, byte[] bodyWriteMask) {
        checkNotFrozen();
        if (id <= 0 || id > 0xFF) {
            throw new IllegalArgumentException("capability ID out of range: " + id);
        }
        if (bodyWriteMask != null && bodyWriteMask.length != body.length) {
            throw new IllegalArgumentException("write mask length " + bodyWriteMask.length + " != body length " + body.length);
        }
        int offset = capabilityEnd;
        int end = offset + 2 + body.length;
        if (end > CONFIG_SPACE_SIZE) {
            throw new IllegalArgumentException("capability of " + body.length + " bytes does not fit in "
                    + name + "'s configuration space (next free offset 0x" + Integer.toHexString(offset) + ")");
        }
        set8(offset, id);
        System.arraycopy(body, 0, config, offset + 2, body.length);
        if (bodyWriteMask != null) {
            System.arraycopy(bodyWriteMask, 0, writeMask, offset + 2, body.length);
        }
        if (lastCapability == 0) {
            set8(CAPABILITIES_POINTER, offset);
            set16(STATUS, get16(STATUS) | STATUS_CAPABILITIES);
        } else {
            set8(lastCapability + 1, offset);
        }
        lastCapability = offset;
        capabilityEnd = (end + 3) & ~3;
        return offset;
    }

    /**
     * Adds a PCI Express Capability (version 2) describing a Root Complex Integrated
     * Endpoint, the type of a function on the root bus of a host bridge without root ports,
     * and makes the 4 KiB extended configuration space visible (it reads 0 past 0x100: no
     * extended capabilities, PCIe Base 4.0, 7.6.2). Conventional functions (what QEMU's
     * virtio-pci is on the virt root bus) leave this out and show 256 bytes.
     */
    protected final int addPcieCapability() {
        byte[] body = new byte[EXP_CAP_SIZE - 2];
        byte[] mask = new byte[body.length];
        put16(body, EXP_FLAGS - 2, 2 | EXP_TYPE_RC_END << 4);
        put32(body, EXP_DEVCAP - 2, EXP_DEVCAP_RBER);
        put16(body, EXP_DEVCTL - 2, EXP_DEVCTL_DEFAULT);
        put16(mask, EXP_DEVCTL - 2, EXP_DEVCTL_WRITABLE);
        int off = addCapability(CAP_ID_EXP, body, mask);
        configSize = EXTENDED_CONFIG_SPACE_SIZE;
        return off;
    }

    private static void put16(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
    }

    private static void put32(byte[] b, int off, int v) {
        put16(b, off, v);
        put16(b, off + 2, v >>> 16);
    }

    private boolean isUpperHalf(int index) {
        return index > 0 && bars[index - 1] != null && bars[index - 1].kind() == PciBar.Kind.MEMORY_64;
    }

    private void checkNotFrozen() {
        if (host != null) {
            throw new IllegalStateException(name + " is already attached to a host; describe it in its constructor");
        }
    }

    // ---------------------------------------------------------------- what the device uses at run time

    /**
     * Drives the function's INTx pin (level-sensitive). The host delivers it unless the
     * guest set Command.INTx Disable; Status.Interrupt Status shows it either way. Safe from
     * any thread, takes no lock of this function.
     */
    protected final void setIrq(boolean level) {
        intxLevel = level;
        PcieHost h = host;
        if (h != null) {
            h.intxChanged();
        }
    }

    protected final void raiseIrq() {
        setIrq(true);
    }

    protected final void lowerIrq() {
        setIrq(false);
    }

    /** The Command register as the guest last wrote it. Lock-free: safe from a device's I/O thread. */
    public final int command() {
        return command;
    }

    /** Bus Master Enable: a DMA-capable device must not touch guest memory while this is clear. */
    public final boolean busMasterEnabled() {
        return (command() & COMMAND_BUS_MASTER) != 0;
    }

    /** Slot (device number) on bus 0, or -1 before the function is attached. */
    public final int slot() {
        return slot;
    }

    public final int function() {
        return function;
    }

    /** Size of the configuration space the guest sees: 256, or 4096 with a PCI Express Capability. */
    public final int configSize() {
        return configSize;
    }

    /** Reads {@code size} (1, 2, 4) bytes of configuration space as stored, without hooks. */
    protected final synchronized int configValue(int offset, int size) {
        return getN(offset, size);
    }

    /** Stores {@code size} bytes into configuration space regardless of the write mask (device-owned fields). */
    protected final synchronized void setConfigValue(int offset, int size, int value) {
        for (int i = 0; i < size; i++) {
            config[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    // ---------------------------------------------------------------- hooks

    /**
     * Called (with this function locked) after a configuration read assembled {@code value}
     * from the stored bytes; returns what the guest sees. For registers whose value is live
     * or has read side effects. Never called for bytes past {@link #configSize()}.
     */
    protected int configRead(int offset, int size, int value) {
        return value;
    }

    /**
     * Called (with this function locked) after a guest configuration write was applied
     * through the write masks; {@code value} is what the guest wrote.
     */
    protected void configWritten(int offset, int size, int value) {
    }

    /** Returns the device's own state (BAR-side registers, queues) to power-on. Config space is already reset. */
    protected void deviceReset() {
    }

    // ---------------------------------------------------------------- host side

    /** Called by the host when the function is placed; freezes the layout. */
    final synchronized void attach(PcieHost host, int slot, int function) {
        if (this.host != null) {
            throw new IllegalStateException(name + " is already attached");
        }
        // IO/Memory Space Enable are hardwired to 0 without a BAR of that kind (6.2.2).
        int cmdMask = get16Mask(COMMAND);
        for (PciBar b : bars) {
            if (b != null) {
                cmdMask |= b.isMemory() ? COMMAND_MEMORY : COMMAND_IO;
            }
        }
        mask16(COMMAND, cmdMask);
        this.powerOn = config.clone();
        this.slot = slot;
        this.function = function;
        this.host = host;
    }

    /** Sets or clears the multi-function bit (function 0 of a slot with more functions). */
    final synchronized void setMultiFunction(boolean multi) {
        int h = get8(HEADER_TYPE);
        set8(HEADER_TYPE, multi ? h | HEADER_MULTI_FUNCTION : h & ~HEADER_MULTI_FUNCTION);
        powerOn[HEADER_TYPE] = config[HEADER_TYPE];
    }

    /**
     * Power-on state: configuration space as attached (BARs unassigned, Command 0), INTx
     * dropped, then the device's own {@link #deviceReset()}. The host rebuilds its decode
     * tables and interrupt lines afterwards.
     */
    final synchronized void reset() {
        System.arraycopy(powerOn, 0, config, 0, config.length);
        intxLevel = false;
        intxDisabled = false;
        command = get16(COMMAND);
        memoryDecodes = PciAddressSpace.NO_DECODES;
        ioDecodes = PciAddressSpace.NO_DECODES;
        deviceReset();
    }

    /** A configuration read by the host: {@code size} 1, 2 or 4 bytes within one dword. */
    final synchronized int hostConfigRead(int offset, int size) {
        int v = getN(offset, size);
        if (intxLevel && offset <= STATUS && STATUS < offset + size) {
            v |= STATUS_INTERRUPT << (8 * (STATUS - offset));
        }
        return configRead(offset, size, v);
    }

    /** A configuration write by the host: applies the masks, then rebuilds decoding if Command or a BAR changed. */
    final synchronized void hostConfigWrite(int offset, int size, int value) {
        for (int i = 0; i < size; i++) {
            int m = writeMask[offset + i];
            config[offset + i] = (byte) ((config[offset + i] & ~m) | ((value >>> (8 * i)) & m));
        }
        boolean touchesCommand = offset < COMMAND + 2 && COMMAND < offset + size;
        boolean touchesBars = offset < BAR0 + 4 * BAR_COUNT && BAR0 < offset + size;
        if (touchesCommand) {
            command = get16(COMMAND);
            boolean disabled = (get16(COMMAND) & COMMAND_INTX_DISABLE) != 0;
            if (disabled != intxDisabled) {
                intxDisabled = disabled;
                host.intxChanged();
            }
        }
        if (touchesCommand || touchesBars) {
            updateDecodes();
        }
        configWritten(offset, size, value);
    }

    boolean intxAsserted() {
        return intxLevel && !intxDisabled;
    }

    /** 1..4, or 0 for none. */
    int interruptPin() {
        return config[INTERRUPT_PIN];
    }

    PciAddressSpace.Decode[] memoryDecodes() {
        return memoryDecodes;
    }

    PciAddressSpace.Decode[] ioDecodes() {
        return ioDecodes;
    }

    /**
     * Recomputes which BARs decode and where (PCI 3.0, 6.2.2: a BAR responds only while
     * its space is enabled in Command). A BAR at address 0 counts as unassigned, and one
     * whose range wraps past the top of its address width decodes nothing: both are what a
     * guest that has not programmed (or has garbled) a BAR leaves behind.
     */
    private void updateDecodes() {
        int cmd = get16(COMMAND);
        PciAddressSpace.Decode[] mem = PciAddressSpace.NO_DECODES;
        PciAddressSpace.Decode[] io = PciAddressSpace.NO_DECODES;
        for (int i = 0; i < BAR_COUNT; i++) {
            PciBar b = bars[i];
            if (b == null) {
                continue;
            }
            int reg = BAR0 + 4 * i;
            long base;
            long limit; // exclusive top of the BAR's address width
            switch (b.kind()) {
                case IO -> {
                    if ((cmd & COMMAND_IO) == 0) {
                        continue;
                    }
                    base = get32(reg) & 0xFFFF_FFFCL;
                    limit = 1L << 32;
                }
                case MEMORY_32 -> {
                    if ((cmd & COMMAND_MEMORY) == 0) {
                        continue;
                    }
                    base = get32(reg) & 0xFFFF_FFF0L;
                    limit = 1L << 32;
                }
                default -> {
                    if ((cmd & COMMAND_MEMORY) == 0) {
                        continue;
                    }
                    base = (get32(reg) & 0xFFFF_FFF0L) | (long) get32(reg + 4) << 32;
                    limit = 0; // 2^64: checked by unsigned overflow below
                }
            }
            long end = base + b.size();
            boolean wraps = limit == 0 ? Long.compareUnsigned(end, base) <= 0 : end > limit;
            if (base == 0 || wraps) {
                continue;
            }
            PciAddressSpace.Decode d = new PciAddressSpace.Decode(base, b.size(), b.handler(),
                    (slot << 3 | function) * BAR_COUNT + i, name + " BAR" + i);
            if (b.isMemory()) {
                mem = append(mem, d);
            } else {
                io = append(io, d);
            }
        }
        boolean changed = !Arrays.equals(mem, memoryDecodes) || !Arrays.equals(io, ioDecodes);
        memoryDecodes = mem;
        ioDecodes = io;
        if (changed) {
            host.decodesChanged();
        }
    }

    private static PciAddressSpace.Decode[] append(PciAddressSpace.Decode[] a, PciAddressSpace.Decode d) {
        PciAddressSpace.Decode[] r = Arrays.copyOf(a, a.length + 1);
        r[a.length] = d;
        return r;
    }

    // ---------------------------------------------------------------- little-endian byte helpers

    private int getN(int off, int size) {
        int v = 0;
        for (int i = 0; i < size; i++) {
            v |= (config[off + i] & 0xFF) << (8 * i);
        }
        return v;
    }

    private int get8(int off) {
        return config[off] & 0xFF;
    }

    private int get16(int off) {
        return getN(off, 2);
    }

    private int get32(int off) {
        return getN(off, 4);
    }

    private int get16Mask(int off) {
        return (writeMask[off] & 0xFF) | (writeMask[off + 1] & 0xFF) << 8;
    }

    private void set8(int off, int v) {
        config[off] = (byte) v;
    }

    private void set16(int off, int v) {
        config[off] = (byte) v;
        config[off + 1] = (byte) (v >>> 8);
    }

    private void set32(int off, int v) {
        set16(off, v);
        set16(off + 2, v >>> 16);
    }

    private void mask8(int off, int m) {
        writeMask[off] = (byte) m;
    }

    private void mask16(int off, int m) {
        writeMask[off] = (byte) m;
        writeMask[off + 1] = (byte) (m >>> 8);
    }

    private void mask32(int off, int m) {
        mask16(off, m);
        mask16(off + 2, m >>> 16);
    }

    /** For tests and snapshots: the BAR declared at {@code index}, or null. */
    public final PciBar bar(int index) {
        return bars[index];
    }
}
