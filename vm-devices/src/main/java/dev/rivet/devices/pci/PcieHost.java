package dev.rivet.devices.pci;

import dev.rivet.core.bus.GuestErrorLog;
import dev.rivet.core.bus.MmioDevice;
import dev.rivet.core.fdt.FdtNode;
import dev.rivet.core.irq.IrqLine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A PCI Express host bridge with an ECAM configuration window, as Linux's
 * {@code pci-host-ecam-generic} binding (Documentation/devicetree/bindings/pci/
 * host-generic-pci.yaml) describes it and QEMU's {@code virt} board lays it out: one root
 * bus (bus 0) of 32 slots with up to 8 functions each, the host bridge function itself at
 * slot 0, and three apertures through which the CPU reaches the BARs: I/O (PCI I/O address
 * 0 at {@code pioBase}), 32-bit memory and 64-bit memory (both identity-mapped).
 *
 * <p>The board maps {@link #ecam()}, {@link #pioWindow()}, {@link #mmioWindow()} and
 * {@link #mmio64Window()} at the bases of {@link #layout()}, hands the four INTx lines
 * (PLIC sources 32..35 on virt) to the constructor, and adds the device-tree node with
 * {@link #addTo}. Functions are added before the guest runs.
 *
 * <p>INTx (PCI 3.0, 2.2.6 "Interrupt Pins"): the function at slot {@code s} using pin
 * {@code p} (1..4 = INTA#..INTD#) drives host line {@code (s + p - 1) mod 4}, the swizzle
 * QEMU's {@code interrupt-map} encodes. A line is the OR of the functions driving it, each
 * masked by its Command.INTx Disable.
 *
 * <p>Locking: the decode tables are immutable and published through volatile fields
 * (window accesses take no lock); rebuilding them and driving the INTx lines each take a
 * host-private lock and never call into a function while holding it.
 */
public final class PcieHost {
    public static final int SLOTS = 32;
    public static final int FUNCTIONS = 8;
    public static final int INTX_LINES = 4;
    public static final int HOST_BRIDGE_SLOT = 0;
    /** QEMU virt emits interrupt-map entries for this many slots; the mask repeats them for the rest. */
    public static final int INTERRUPT_MAP_SLOTS = 4;

    /** Device-tree {@code ranges} space codes (IEEE 1275 PCI binding, phys.hi "ss" field). */
    private static final int RANGE_IO = 0x0100_0000, RANGE_MEM32 = 0x0200_0000, RANGE_MEM64 = 0x0300_0000;

    /**
     * Where the host's windows sit in the CPU's physical address space. The memory windows
     * are identity-mapped (PCI address = CPU address); the PIO window starts at PCI I/O
     * address 0.
     */
    public record Layout(long ecamBase, long ecamSize, long pioBase, long pioSize, long mmioBase, long mmioSize,
            long mmio64Base, long mmio64Size) {
        /** QEMU's virt board (hw/riscv/virt.c memory map) with less than 14 GiB of RAM. */
        public static final Layout QEMU_VIRT = new Layout(0x3000_0000L, 0x1000_0000L, 0x0300_0000L, 0x1_0000L,
                0x4000_0000L, 0x4000_0000L, 0x4_0000_0000L, 0x4_0000_0000L);

        /** Where QEMU virt's RAM starts; the 64-bit window is placed above its end. */
        private static final long VIRT_DRAM_BASE = 0x8000_0000L;

        /**
         * QEMU virt's layout for {@code ramSize} bytes of RAM: the 64-bit window (16 GiB)
         * starts at the end of RAM rounded up to its own size, so it moves from 16 GiB to
         * 32 GiB once RAM reaches 14 GiB (checked against {@code -m 14G/15G} dumps).
         */
        public static Layout qemuVirt(long ramSize) {
            long size = QEMU_VIRT.mmio64Size();
            long base = (VIRT_DRAM_BASE + ramSize + size - 1) & -size;
            return new Layout(QEMU_VIRT.ecamBase(), QEMU_VIRT.ecamSize(), QEMU_VIRT.pioBase(), QEMU_VIRT.pioSize(),
                    QEMU_VIRT.mmioBase(), QEMU_VIRT.mmioSize(), base, size);
        }

        public Layout {
            if (ecamSize < 1L << PciEcam.BUS_SHIFT || ecamSize > 256L << PciEcam.BUS_SHIFT
                    || (ecamSize & ((1L << PciEcam.BUS_SHIFT) - 1)) != 0) {
                throw new IllegalArgumentException("ECAM size must be 1..256 buses of 1 MiB, not 0x" + Long.toHexString(ecamSize));
            }
            if (pioSize <= 0 || pioSize > 1L << 32 || mmioSize <= 0 || mmio64Size <= 0) {
                throw new IllegalArgumentException("window sizes must be positive (and I/O at most 4 GiB)");
            }
        }

        /** Number of buses the ECAM window covers (bus-range 0..buses-1). */
        public int buses() {
            return (int) (ecamSize >>> PciEcam.BUS_SHIFT);
        }
    }

    private final Layout layout;
    private final IrqLine[] intx;
    private final GuestErrorLog log;
    private final PciEcam ecam;
    private final PciWindow pio;
    private final PciWindow mmio;
    private final PciWindow mmio64;

    /** functions[slot * FUNCTIONS + function]; written only while adding, before the guest runs. */
    private final PciDevice[] functions = new PciDevice[SLOTS * FUNCTIONS];
    /** The present functions, in (slot, function) order; copy-on-write. */
    private volatile PciDevice[] present = new PciDevice[0];

    private volatile PciAddressSpace memorySpace = PciAddressSpace.EMPTY;
    private volatile PciAddressSpace ioSpace = PciAddressSpace.EMPTY;
    private final Object decodeLock = new Object();

    /** Last level driven on each INTx line. Guarded by intxLock. */
    private final boolean[] intxLevel = new boolean[INTX_LINES];
    private final Object intxLock = new Object();

    /**
     * @param intx the four host interrupt lines, in order (virt: PLIC sources 32, 33, 34, 35)
     */
    public PcieHost(Layout layout, IrqLine[] intx, GuestErrorLog log) {
        this.layout = Objects.requireNonNull(layout, "layout");
        if (intx.length != INTX_LINES) {
            throw new IllegalArgumentException("a host bridge has " + INTX_LINES + " INTx lines, not " + intx.length);
        }
        this.intx = intx.clone();
        for (IrqLine l : this.intx) {
            Objects.requireNonNull(l, "intx line");
        }
        this.log = Objects.requireNonNull(log, "log");
        this.ecam = new PciEcam(this, layout.ecamSize(), log);
        this.pio = new PciWindow("pcie-pio", this, true, 0, log);
        this.mmio = new PciWindow("pcie-mmio", this, false, layout.mmioBase(), log);
        this.mmio64 = new PciWindow("pcie-mmio-high", this, false, layout.mmio64Base(), log);
        add(HOST_BRIDGE_SLOT, new PciHostBridge());
    }

    public Layout layout() {
        return layout;
    }

    /** The ECAM configuration window; map at {@code layout().ecamBase()}, size {@code ecamSize()}. Its reset resets the host. */
    public MmioDevice ecam() {
        return ecam;
    }

    /** The I/O window; map at {@code layout().pioBase()}, size {@code pioSize()}. */
    public MmioDevice pioWindow() {
        return pio;
    }

    /** The 32-bit memory window; map at {@code layout().mmioBase()}, size {@code mmioSize()}. */
    public MmioDevice mmioWindow() {
        return mmio;
    }

    /** The 64-bit memory window; map at {@code layout().mmio64Base()}, size {@code mmio64Size()}. */
    public MmioDevice mmio64Window() {
        return mmio64;
    }

    /** Adds a single-function device at {@code slot} (1..31; slot 0 holds the host bridge). */
    public void add(int slot, PciDevice device) {
        add(slot, 0, device);
    }

    /**
     * Adds {@code device} as function {@code function} of {@code slot}. Function 0 of a
     * slot with other functions gets the multi-function bit in its Header Type (a guest
     * only looks for functions 1..7 when function 0 has it).
     */
    public synchronized void add(int slot, int function, PciDevice device) {
        Objects.requireNonNull(device, "device");
        if (slot < 0 || slot >= SLOTS || function < 0 || function >= FUNCTIONS) {
            throw new IllegalArgumentException("no slot " + slot + " function " + function + " on a PCI bus");
        }
        int i = slot * FUNCTIONS + function;
        if (functions[i] != null) {
            throw new IllegalArgumentException("slot " + slot + " function " + function + " already holds "
                    + functions[i].name());
        }
        device.attach(this, slot, function);
        functions[i] = device;
        List<PciDevice> all = new ArrayList<>();
        for (PciDevice f : functions) {
            if (f != null) {
                all.add(f);
            }
        }
        present = all.toArray(new PciDevice[0]);
        PciDevice f0 = functions[slot * FUNCTIONS];
        if (f0 != null) {
            boolean multi = false;
            for (int fn = 1; fn < FUNCTIONS; fn++) {
                multi |= functions[slot * FUNCTIONS + fn] != null;
            }
            f0.setMultiFunction(multi);
        }
    }

    /** The function at {@code slot}/{@code function} of bus 0, or null. */
    public PciDevice device(int slot, int function) {
        return functions[slot * FUNCTIONS + function];
    }

    /** Which of the four host INTx lines (0..3) the function at {@code slot} using {@code pin} (1..4) drives. */
    public static int intxLine(int slot, int pin) {
        if (pin < 1 || pin > 4) {
            throw new IllegalArgumentException("interrupt pin must be 1..4, not " + pin);
        }
        return (slot + pin - 1) % INTX_LINES;
    }

    /** Every function back to power-on: BARs unassigned, Command 0, nothing decoding, INTx lines low. */
    public void reset() {
        for (PciDevice f : present) {
            f.reset();
        }
        decodesChanged();
        intxChanged();
    }

    PciAddressSpace memorySpace() {
        return memorySpace;
    }

    PciAddressSpace ioSpace() {
        return ioSpace;
    }

    /** A function's decoding changed: rebuild both tables from every function's published decodes. */
    void decodesChanged() {
        synchronized (decodeLock) {
            List<PciAddressSpace.Decode> mem = new ArrayList<>();
            List<PciAddressSpace.Decode> io = new ArrayList<>();
            for (PciDevice f : present) {
                mem.addAll(Arrays.asList(f.memoryDecodes()));
                io.addAll(Arrays.asList(f.ioDecodes()));
            }
            PciAddressSpace m = PciAddressSpace.build(mem);
            PciAddressSpace i = PciAddressSpace.build(io);
            memorySpace = m;
            ioSpace = i;
            if (m.overlap() != null) {
                log.guestError("pcie-host: memory BARs overlap, the lower slot/function/BAR wins: " + m.overlap());
            }
            if (i.overlap() != null) {
                log.guestError("pcie-host: I/O BARs overlap, the lower slot/function/BAR wins: " + i.overlap());
            }
        }
    }

    /** A function's INTx level or INTx Disable changed: recompute the four lines. */
    void intxChanged() {
        synchronized (intxLock) {
            int asserted = 0; // bit l: line l
            for (PciDevice f : present) {
                int pin = f.interruptPin();
                if (pin != 0 && f.intxAsserted()) {
                    asserted |= 1 << intxLine(f.slot(), pin);
                }
            }
            for (int l = 0; l < INTX_LINES; l++) {
                boolean level = (asserted & 1 << l) != 0;
                if (level != intxLevel[l]) {
                    intxLevel[l] = level;
                    intx[l].set(level);
                }
            }
        }
    }

    /**
     * Adds {@code pci@<ecamBase>} under {@code soc} with the properties, in the order, that
     * QEMU virt gives it: the ECAM {@code reg}, {@code ranges} for the I/O, 32-bit and
     * 64-bit windows, and an {@code interrupt-map} for {@link #INTERRUPT_MAP_SLOTS} slots x 4
     * pins whose {@code interrupt-map-mask} (slot bits 11..12, pin) repeats it for every
     * slot, sending INTx to PLIC sources {@code firstIrq + intxLine(slot, pin)}.
     */
    public FdtNode addTo(FdtNode soc, int plicPhandle, int firstIrq) {
        int[] map = new int[INTERRUPT_MAP_SLOTS * 4 * 6];
        int k = 0;
        for (int slot = 0; slot < INTERRUPT_MAP_SLOTS; slot++) {
            for (int pin = 1; pin <= 4; pin++) {
                map[k++] = slot << 11; // phys.hi: device number in bits 11..15
                map[k++] = 0;
                map[k++] = 0;
                map[k++] = pin;
                map[k++] = plicPhandle;
                map[k++] = firstIrq + intxLine(slot, pin);
            }
        }
        Layout l = layout;
        int[] ranges = {
            RANGE_IO, 0, 0, hi(l.pioBase()), lo(l.pioBase()), hi(l.pioSize()), lo(l.pioSize()),
            RANGE_MEM32, hi(l.mmioBase()), lo(l.mmioBase()), hi(l.mmioBase()), lo(l.mmioBase()),
            hi(l.mmioSize()), lo(l.mmioSize()),
            RANGE_MEM64, hi(l.mmio64Base()), lo(l.mmio64Base()), hi(l.mmio64Base()), lo(l.mmio64Base()),
            hi(l.mmio64Size()), lo(l.mmio64Size()),
        };
        return soc.child("pci@" + Long.toHexString(l.ecamBase()))
                .cells("interrupt-map-mask", (INTERRUPT_MAP_SLOTS - 1) << 11, 0, 0, 7)
                .cells("interrupt-map", map)
                .cells("ranges", ranges)
                .reg(l.ecamBase(), l.ecamSize())
                .flag("dma-coherent")
                .cells("bus-range", 0, l.buses() - 1)
                .cells("linux,pci-domain", 0)
                .prop("device_type", "pci")
                .prop("compatible", "pci-host-ecam-generic")
                .cells("#size-cells", 2)
                .cells("#interrupt-cells", 1)
                .cells("#address-cells", 3);
    }

    private static int hi(long v) {
        return (int) (v >>> 32);
    }

    private static int lo(long v) {
        return (int) v;
    }
}
