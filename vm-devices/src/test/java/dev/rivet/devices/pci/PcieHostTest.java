package dev.rivet.devices.pci;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.MmioDevice;
import dev.rivet.core.irq.IrqLine;
import dev.rivet.devices.pci.PciBar.Kind;
import dev.rivet.devices.pci.TestPciDevice.Recorder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

import static dev.rivet.devices.pci.PciDevice.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Drives the host bridge the way Linux's pci-host-generic and the PCI core do: enumerate
 * through ECAM, size and program BARs, enable decoding, then access the BARs through the
 * windows; and INTx as the PLIC sees it.
 */
class PcieHostTest {
    static final PcieHost.Layout VIRT = PcieHost.Layout.QEMU_VIRT;
    static final long MMIO = VIRT.mmioBase();
    static final long MMIO64 = VIRT.mmio64Base();

    static final class Wire implements IrqLine {
        volatile boolean level;
        int edges;

        @Override
        public void set(boolean l) {
            if (l != level) {
                edges++;
            }
            level = l;
        }
    }

    final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    final Wire[] wires = {new Wire(), new Wire(), new Wire(), new Wire()};
    PcieHost host;

    @BeforeEach
    void setUp() {
        host = newHost();
    }

    PcieHost newHost() {
        return new PcieHost(VIRT, wires, errors::add);
    }

    // ---------------------------------------------------------------- guest-side helpers

    long cfg(int slot, int fn, int reg, int size) {
        return Bus.readDevice(host.ecam(), PciEcam.offset(0, slot, fn, reg), size);
    }

    long cfg32(int slot, int reg) {
        return cfg(slot, 0, reg, 4);
    }

    void setCfg(int slot, int fn, int reg, int size, long value) {
        Bus.writeDevice(host.ecam(), PciEcam.offset(0, slot, fn, reg), size, value);
    }

    void setCfg32(int slot, int reg, long value) {
        setCfg(slot, 0, reg, 4, value);
    }

    /** Linux's __pci_read_base: write all-ones, read back, restore. */
    long sizeBar(int slot, int bar) {
        int reg = BAR0 + 4 * bar;
        long old = cfg32(slot, reg);
        setCfg32(slot, reg, 0xFFFF_FFFFL);
        long mask = cfg32(slot, reg);
        setCfg32(slot, reg, old);
        return mask;
    }

    /** A CPU access to physical address {@code pa} through whichever window holds it. */
    long mem(long pa, int size) {
        if (pa >= MMIO64) {
            return Bus.readDevice(host.mmio64Window(), pa - MMIO64, size);
        }
        return Bus.readDevice(host.mmioWindow(), pa - MMIO, size);
    }

    void setMem(long pa, int size, long v) {
        if (pa >= MMIO64) {
            Bus.writeDevice(host.mmio64Window(), pa - MMIO64, size, v);
        } else {
            Bus.writeDevice(host.mmioWindow(), pa - MMIO, size, v);
        }
    }

    long io(long port, int size) {
        return Bus.readDevice(host.pioWindow(), port, size);
    }

    static long ones(int size) {
        return size == 8 ? -1L : (1L << 8 * size) - 1;
    }

    /** A device at slot 1 with the BAR set Linux sees on QEMU's virtio-net-pci: IO, 32-bit memory, 64-bit prefetchable memory. */
    TestPciDevice dev;
    Recorder ioBar, memBar, mem64Bar;

    void addTypicalDevice() {
        dev = new TestPciDevice("test", 1);
        ioBar = dev.bar(0, Kind.IO, 0x20, 0xA0);
        memBar = dev.bar(1, Kind.MEMORY_32, 0x1000, 0xA1);
        mem64Bar = dev.bar(4, Kind.MEMORY_64, 0x4000, true, 0xA4, MmioDevice.SIZES_ALL);
        host.add(1, dev);
    }

    /** Programs the typical device's BARs and enables IO and memory decoding. */
    void programTypicalDevice() {
        setCfg32(1, BAR0, 0x1000);
        setCfg32(1, BAR0 + 4, MMIO + 0x1_0000);
        setCfg32(1, BAR0 + 16, 0x20_0000);
        setCfg32(1, BAR0 + 20, MMIO64 >>> 32);
        setCfg(1, 0, COMMAND, 2, COMMAND_IO | COMMAND_MEMORY);
    }

    // ---------------------------------------------------------------- ECAM and the header

    @Test
    void slotZeroIsAHostBridgeLikeQemus() {
        // Values read from QEMU 7.2's virt ECAM (xp /16wx 0x30000000).
        assertEquals(0x0008_1b36L, cfg32(0, VENDOR_ID));
        assertEquals(0x0000_0000L, cfg32(0, COMMAND));
        assertEquals(0x0600_0000L, cfg32(0, REVISION_ID));
        assertEquals(0x0000_0000L, cfg32(0, CACHE_LINE_SIZE));
        for (int bar = 0; bar < BAR_COUNT; bar++) {
            assertEquals(0, sizeBar(0, bar), "the host bridge has no BAR " + bar);
        }
        assertEquals(0x1100_1af4L, cfg32(0, SUBSYSTEM_VENDOR_ID));
        assertEquals(0, cfg32(0, CAPABILITIES_POINTER));
        assertEquals(0, cfg32(0, INTERRUPT_LINE));
        assertEquals(0xFFFF_FFFFL, cfg32(0, 0x100), "a conventional function has 256 bytes");
        assertTrue(errors.isEmpty(), errors.toString());
    }

    @Test
    void absentFunctionsReadAllOnesAndIgnoreWritesQuietly() {
        addTypicalDevice();
        for (int size : new int[] {1, 2, 4}) {
            assertEquals(ones(size), cfg(5, 0, VENDOR_ID, size));
            assertEquals(ones(size), cfg(31, 0, 0xFFC, size));
            assertEquals(ones(size), cfg(1, 1, VENDOR_ID, size), "slot 1 has one function");
        }
        setCfg32(5, COMMAND, 0xFFFF);
        setCfg32(5, BAR0, 0x1234_0000);
        assertEquals(0xFFFF_FFFFL, cfg32(5, COMMAND));
        assertTrue(errors.isEmpty(), "enumeration probes empty slots; that is no error: " + errors);
        assertEquals(0x11E8_1234L, cfg32(1, VENDOR_ID));
    }

    @Test
    void otherBusesDoNotExist() {
        long off = PciEcam.offset(1, 0, 0, 0);
        assertEquals(0xFFFF_FFFFL, Bus.readDevice(host.ecam(), off, 4));
        assertEquals(1, errors.size());
        assertTrue(errors.getFirst().contains("pcie-ecam") && errors.getFirst().contains("0x100000"), errors.getFirst());
        Bus.writeDevice(host.ecam(), PciEcam.offset(255, 31, 7, 0xFFC), 4, 0);
        assertEquals(2, errors.size());
        assertEquals(0x0008_1b36L, cfg32(0, VENDOR_ID), "bus 1 is not an alias of bus 0");
    }

    @Test
    void accessesCrossingADwordAreRefused() {
        addTypicalDevice();
        assertEquals(0xFFFF_FFFFL, host.ecam().read(PciEcam.offset(0, 1, 0, INTERRUPT_LINE + 2), 4));
        assertEquals(1, errors.size());
        host.ecam().write(PciEcam.offset(0, 1, 0, INTERRUPT_LINE - 2), 4, 0xFFFF_FFFFL);
        assertEquals(2, errors.size());
        assertEquals(0x0100, cfg32(1, INTERRUPT_LINE), "the line register was not written");
        // Byte and word accesses inside one dword are fine.
        assertEquals(0x11E8, cfg(1, 0, DEVICE_ID, 2));
        assertEquals(0x12, cfg(1, 0, VENDOR_ID + 1, 1));
        assertEquals(0xE812, host.ecam().read(PciEcam.offset(0, 1, 0, 1), 2), "a word at an odd offset");
    }

    @Test
    void readOnlyFieldsStayReadOnly() {
        addTypicalDevice();
        long[] regs = {VENDOR_ID, REVISION_ID, CACHE_LINE_SIZE, CARDBUS_CIS, SUBSYSTEM_VENDOR_ID, EXPANSION_ROM,
            CAPABILITIES_POINTER, 0x38, INTERRUPT_LINE};
        long[] before = new long[regs.length];
        for (int i = 0; i < regs.length; i++) {
            before[i] = cfg32(1, (int) regs[i]);
            setCfg32(1, (int) regs[i], 0xFFFF_FFFFL);
        }
        assertEquals(0x11E8_1234L, cfg32(1, VENDOR_ID));
        assertEquals(0xFF00_0042L, cfg32(1, REVISION_ID), "class code and revision");
        assertEquals(0x0000_00FFL, cfg32(1, CACHE_LINE_SIZE), "cache line size is r/w; latency, header type, BIST are not");
        assertEquals(0, cfg32(1, CARDBUS_CIS));
        assertEquals(0, cfg32(1, SUBSYSTEM_VENDOR_ID));
        assertEquals(0, cfg32(1, EXPANSION_ROM), "no expansion ROM: the sizing write reads back 0");
        assertEquals(0, cfg32(1, CAPABILITIES_POINTER));
        assertEquals(0x0000_01FFL, cfg32(1, INTERRUPT_LINE), "line is r/w, pin and Min_Gnt/Max_Lat are not");
        // Status: no bit is guest-writable (the error bits are RW1C and never set).
        setCfg(1, 0, STATUS, 2, 0xFFFF);
        assertEquals(0, cfg(1, 0, STATUS, 2));
    }

    @Test
    void commandImplementsOnlyWhatTheFunctionHas() {
        TestPciDevice memOnly = new TestPciDevice("mem-only", 1);
        memOnly.bar(0, Kind.MEMORY_32, 0x1000, 1);
        host.add(2, memOnly);
        setCfg(2, 0, COMMAND, 2, 0xFFFF);
        assertEquals(COMMAND_MEMORY | COMMAND_BUS_MASTER | COMMAND_PARITY | COMMAND_SERR | COMMAND_INTX_DISABLE,
                cfg(2, 0, COMMAND, 2), "I/O Space Enable is hardwired to 0 without an I/O BAR");
        assertTrue(memOnly.busMasterEnabled());
        setCfg(2, 0, COMMAND, 2, 0);
        assertFalse(memOnly.busMasterEnabled());
    }

    // ---------------------------------------------------------------- BARs

    @Test
    void barSizingReadsBackTheSizeMaskAndFlags() {
        TestPciDevice d = new TestPciDevice("sizes", 1);
        d.bar(0, Kind.IO, 0x20, 0);
        d.bar(1, Kind.MEMORY_32, 0x1000, false, 0, MmioDevice.SIZES_ALL);
        d.bar(2, Kind.MEMORY_32, 0x10_0000, true, 0, MmioDevice.SIZES_ALL);
        host.add(3, d);
        assertEquals(0x0000_0001L, cfg32(3, BAR0), "I/O BAR at power-on: unassigned, flag bit 0");
        assertEquals(0xFFFF_FFE1L, sizeBar(3, 0), "32-byte I/O BAR");
        assertEquals(0xFFFF_F000L, sizeBar(3, 1), "4 KiB memory BAR");
        assertEquals(0xFFF0_0008L, sizeBar(3, 2), "1 MiB prefetchable memory BAR");
        assertEquals(0, sizeBar(3, 3), "unimplemented BAR");
        assertEquals(0x0000_0001L, cfg32(3, BAR0), "restored");
        setCfg32(3, BAR0 + 4, 0x4000_1234L);
        assertEquals(0x4000_1000L, cfg32(3, BAR0 + 4), "address bits below the size are read-only 0");
    }

    @Test
    void sixtyFourBitBarsSizeAcrossTwoRegisters() {
        TestPciDevice d = new TestPciDevice("wide", 1);
        d.bar(0, Kind.MEMORY_64, 0x4000, true, 0, MmioDevice.SIZES_ALL);
        d.bar(2, Kind.MEMORY_64, 8L << 30, false, 0, MmioDevice.SIZES_ALL);
        host.add(4, d);
        assertEquals(0x0000_000CL, cfg32(4, BAR0), "64-bit prefetchable at power-on");
        assertEquals(0xFFFF_C00CL, sizeBar(4, 0));
        assertEquals(0xFFFF_FFFFL, sizeBar(4, 1), "upper half of a 16 KiB BAR: all address bits");
        assertEquals(0x0000_0004L, sizeBar(4, 2), "8 GiB: no writable bit in the low half");
        assertEquals(0xFFFF_FFFEL, sizeBar(4, 3), "8 GiB: bit 33 and up in the high half");
        long size = ~((sizeBar(4, 3) << 32) | (sizeBar(4, 2) & ~0xFL)) + 1;
        assertEquals(8L << 30, size, "the size Linux computes");
    }

    @Test
    void declaringImpossibleBarsIsAnAuthorError() {
        TestPciDevice d = new TestPciDevice("bad");
        Recorder r = new Recorder("r", 0, MmioDevice.SIZES_ALL);
        assertThrows(IllegalArgumentException.class, () -> d.declareBar(5, PciBar.memory64(0x1000, false, r)));
        d.declareBar(0, PciBar.memory64(0x1000, false, r));
        assertThrows(IllegalArgumentException.class, () -> d.declareBar(1, PciBar.memory32(0x1000, false, r)));
        assertThrows(IllegalArgumentException.class, () -> d.declareBar(0, PciBar.io(0x10, r)));
        assertThrows(IllegalArgumentException.class, () -> PciBar.memory32(0x1800, false, r));
        assertThrows(IllegalArgumentException.class, () -> PciBar.memory32(8, false, r));
        assertThrows(IllegalArgumentException.class, () -> PciBar.io(0x200, r));
        assertThrows(IllegalArgumentException.class, () -> d.declareBar(6, PciBar.io(0x10, r)));
        host.add(1, d);
        assertThrows(IllegalStateException.class, () -> d.declareBar(2, PciBar.io(0x10, r)), "layout is frozen once attached");
        assertThrows(IllegalArgumentException.class, () -> host.add(1, new TestPciDevice("again")));
    }

    @Test
    void windowsRouteToTheDecodingBarAtTheOffsetIntoIt() {
        addTypicalDevice();
        programTypicalDevice();
        assertEquals(Recorder.answer(0xA1, 0x10), mem(MMIO + 0x1_0010, 8));
        assertEquals(0x10, memBar.lastOffset);
        assertEquals(8, memBar.lastSize);
        assertEquals(Recorder.answer(0xA4, 0x3FF8), mem(MMIO64 + 0x20_0000 + 0x3FF8, 8));
        assertEquals(Recorder.answer(0xA0, 0x1F) & 0xFF, io(0x101F, 1));
        assertEquals(0x1F, ioBar.lastOffset);
        setMem(MMIO + 0x1_0FFC, 4, 0xDEAD_BEEFL);
        assertEquals(0xFFC, memBar.lastOffset);
        assertEquals(0xDEAD_BEEFL, memBar.lastValue);
        Bus.writeDevice(host.pioWindow(), 0x1004, 2, 0xBEEF);
        assertEquals(4, ioBar.lastOffset);
        assertEquals(0xBEEF, ioBar.lastValue);
        assertTrue(errors.isEmpty(), errors.toString());
    }

    @Test
    void aSixtyFourBitBarMayLiveInTheThirtyTwoBitWindow() {
        addTypicalDevice();
        programTypicalDevice();
        setCfg32(1, BAR0 + 16, MMIO + 0x2_0000);
        setCfg32(1, BAR0 + 20, 0);
        assertEquals(Recorder.answer(0xA4, 0x100), mem(MMIO + 0x2_0100, 8));
    }

    @Test
    void handlersSeeOnlyTheAccessSizesTheyDeclare() {
        TestPciDevice d = new TestPciDevice("dword-only", 1);
        Recorder r = d.bar(0, Kind.MEMORY_32, 0x100, false, 0x77, MmioDevice.SIZE_4);
        host.add(2, d);
        setCfg32(2, BAR0, MMIO + 0x100);
        setCfg(2, 0, COMMAND, 2, COMMAND_MEMORY);
        assertEquals((Recorder.answer(0x77, 0x10) >>> 8) & 0xFF, mem(MMIO + 0x111, 1));
        assertEquals(0x10, r.lastOffset, "widened to the containing dword");
        assertEquals(4, r.lastSize);
        r.clear();
        mem(MMIO + 0x120, 8);
        assertEquals(2, r.reads, "split into two dwords");
    }

    @Test
    void nothingDecodesWhileDecodingIsDisabled() {
        addTypicalDevice();
        programTypicalDevice();
        setCfg(1, 0, COMMAND, 2, 0);
        assertEquals(0xFFFF_FFFFL, mem(MMIO + 0x1_0000, 4), "master abort reads all-ones");
        assertEquals(-1L, mem(MMIO64 + 0x20_0000, 8));
        assertEquals(0xFF, io(0x1000, 1));
        setMem(MMIO + 0x1_0000, 4, 1);
        assertEquals(0, memBar.reads + memBar.writes + mem64Bar.reads + ioBar.reads);
        assertEquals(4, errors.size(), errors.toString());
        assertTrue(errors.getFirst().contains("pcie-mmio") && errors.getFirst().contains("0x10000"), errors.getFirst());

        setCfg(1, 0, COMMAND, 2, COMMAND_MEMORY);
        assertEquals(Recorder.answer(0xA1, 0), mem(MMIO + 0x1_0000, 8));
        assertEquals(0xFFFF, io(0x1000, 2), "memory enabled, I/O still off");
        setCfg(1, 0, COMMAND, 2, COMMAND_IO);
        assertEquals(Recorder.answer(0xA0, 0) & 0xFFFF, io(0x1000, 2));
        assertEquals(0xFFFF_FFFFL, mem(MMIO + 0x1_0000, 4));
    }

    @Test
    void aMovedBarNoLongerAnswersAtItsOldAddress() {
        addTypicalDevice();
        programTypicalDevice();
        setCfg32(1, BAR0 + 4, MMIO + 0x8_0000);
        assertEquals(0xFFFF_FFFFL, mem(MMIO + 0x1_0000, 4));
        assertEquals(Recorder.answer(0xA1, 8), mem(MMIO + 0x8_0008, 8));
        // 64-bit BAR moved by its high half only.
        setCfg32(1, BAR0 + 20, (MMIO64 >>> 32) + 1);
        assertEquals(-1L, mem(MMIO64 + 0x20_0000, 8));
        assertEquals(Recorder.answer(0xA4, 0), mem(MMIO64 + (1L << 32) + 0x20_0000, 8));
    }

    @Test
    void anAccessStraddlingABarsEndIsAMasterAbort() {
        addTypicalDevice();
        programTypicalDevice();
        assertEquals(-1L, mem(MMIO + 0x1_0FFC, 8));
        assertEquals(0, memBar.reads);
        assertEquals(1, errors.size());
    }

    @Test
    void overlappingBarsHaveADefinedWinner() {
        addTypicalDevice();
        TestPciDevice other = new TestPciDevice("other", 1);
        Recorder big = other.bar(0, Kind.MEMORY_32, 0x4000, 0xB0);
        host.add(2, other);
        programTypicalDevice();
        setCfg32(2, BAR0, MMIO + 0x1_0000); // 0x4001_0000..0x4001_4000 covers slot 1's 4 KiB BAR
        errors.clear();
        setCfg(2, 0, COMMAND, 2, COMMAND_MEMORY);
        assertEquals(1, errors.size(), "the overlap is reported");
        assertTrue(errors.getFirst().contains("overlap"), errors.getFirst());
        assertEquals(Recorder.answer(0xA1, 0x10), mem(MMIO + 0x1_0010, 8), "slot 1 wins over slot 2");
        assertEquals(Recorder.answer(0xB0, 0x1010), mem(MMIO + 0x1_1010, 8), "slot 2 still answers where it is alone");
        assertEquals(-1L, mem(MMIO + 0x1_0FFC, 8), "straddles the winner's end");
        setCfg32(1, BAR0 + 4, MMIO + 0x9_0000);
        assertEquals(Recorder.answer(0xB0, 0x10), mem(MMIO + 0x1_0010, 8), "moved away: slot 2 owns it all");
        assertEquals(0, big.writes);
    }

    @Test
    void barsAtZeroOrWrappingDecodeNothing() {
        addTypicalDevice();
        programTypicalDevice();
        setCfg32(1, BAR0 + 16, 0xFFFF_F000L);
        setCfg32(1, BAR0 + 20, 0xFFFF_FFFFL); // 0xFFFF_FFFF_FFFF_C000 + 16 KiB wraps to 0
        setCfg32(1, BAR0 + 4, 0);
        assertEquals(-1L, mem(MMIO64 + 0x20_0000, 8));
        assertEquals(0, host.memorySpace().segments(), "neither memory BAR decodes");
        assertEquals(0, dev.memoryDecodes().length, "a wrapping BAR is not even offered to the address table");
        setCfg32(1, BAR0, 0xFFFF_FFE0L); // I/O at the top of 4 GiB: decodes, but outside the 64 KiB window
        assertEquals(0xFF, io(0xFFE0, 1));
        assertEquals(0, ioBar.reads);
    }

    @Test
    void garbageFromTheGuestNeverThrowsAndRoutesConsistently() {
        long seed = Long.getLong("rivet.seed", new SplittableRandom().nextLong(1L << 40));
        System.out.printf("PcieHostTest.garbageFromTheGuestNeverThrowsAndRoutesConsistently: seed %d (-Drivet.seed=%d)%n",
                seed, seed);
        SplittableRandom r = new SplittableRandom(seed);
        List<TestPciDevice> devs = new ArrayList<>();
        List<Recorder[]> recs = new ArrayList<>();
        for (int s = 1; s <= 4; s++) {
            TestPciDevice d = new TestPciDevice("g" + s, 1 + r.nextInt(4));
            Recorder[] rr = new Recorder[BAR_COUNT];
            rr[0] = d.bar(0, Kind.MEMORY_32, 0x1000L << r.nextInt(4), s * 16);
            rr[1] = d.bar(1, Kind.IO, 4L << r.nextInt(7), s * 16 + 1);
            rr[2] = d.bar(2, Kind.MEMORY_64, 0x100L << r.nextInt(12), true, s * 16 + 2, MmioDevice.SIZES_ALL);
            host.add(s, d);
            devs.add(d);
            recs.add(rr);
        }
        int[] regs = {COMMAND, BAR0, BAR0 + 4, BAR0 + 8, BAR0 + 12, BAR0 + 16};
        for (int step = 0; step < 4000; step++) {
            int slot = 1 + r.nextInt(4);
            String where = "seed " + seed + " step " + step;
            if (r.nextInt(3) == 0) {
                // Garbage into a register: nearby addresses so BARs collide and land in the windows.
                int reg = regs[r.nextInt(regs.length)];
                long v = switch (r.nextInt(5)) {
                    case 0 -> r.nextLong(1L << 32);
                    case 1 -> 0xFFFF_FFFFL;
                    case 2 -> reg == COMMAND ? r.nextInt(8) : MMIO + r.nextInt(0x8000);
                    case 3 -> reg == COMMAND ? 3 : r.nextInt(0x200);
                    default -> reg == COMMAND ? 3 : MMIO64 >>> 32;
                };
                if (reg == COMMAND && r.nextInt(4) != 0) {
                    v = COMMAND_IO | COMMAND_MEMORY; // mostly decoding, so that accesses land
                }
                int size = 1 << r.nextInt(3);
                setCfg(slot, 0, reg + (r.nextInt(4) & -size & 3), size, v);
                continue;
            }
            // An access: through a window, checked against a model computed from config reads.
            boolean io = r.nextInt(3) == 0;
            int size = 1 << r.nextInt(4);
            long addr = io ? r.nextInt(0x200) : r.nextBoolean() ? MMIO + r.nextInt(0x9000) : MMIO64 + r.nextInt(0x1000);
            if (r.nextBoolean()) { // at, inside or just around a BAR where the guest put it
                int bar = r.nextInt(3);
                long barSize = host.device(slot, 0).bar(bar).size();
                long near = barAddress(slot, bar) + r.nextLong(-8, barSize + 8);
                io = bar == 1;
                boolean inWindow = io ? near >= 0 && near + size <= VIRT.pioSize()
                        : near >= MMIO && near + size <= MMIO + VIRT.mmioSize()
                                || near >= MMIO64 && near + size <= MMIO64 + VIRT.mmio64Size();
                if (!inWindow) {
                    continue;
                }
                addr = near;
            }
            int[] expected = modelWinner(addr, size, io);
            for (Recorder[] rr : recs) {
                for (Recorder x : rr) {
                    if (x != null) {
                        x.clear();
                    }
                }
            }
            long got = io ? io(addr, size) : mem(addr, size);
            if (expected == null) {
                assertEquals(ones(size), got, where + ": unclaimed 0x" + Long.toHexString(addr));
                for (Recorder[] rr : recs) {
                    for (Recorder x : rr) {
                        assertEquals(0, x == null ? 0 : x.reads, where);
                    }
                }
            } else {
                Recorder x = recs.get(expected[0] - 1)[expected[1]];
                long barOffset = addr - barAddress(expected[0], expected[1]);
                assertEquals(barOffset, x.lastOffset, where + ": offset into " + x.name);
                assertEquals(Recorder.answer(x.tag, barOffset) & ones(size), got, where);
                assertTrue(barOffset + size <= devs.get(expected[0] - 1).bar(expected[1]).size(), where);
            }
        }
    }

    /** PCI address of a BAR as the guest sees it in config space. */
    long barAddress(int slot, int bar) {
        long lo = cfg32(slot, BAR0 + 4 * bar);
        if ((lo & BAR_IO) != 0) {
            return lo & ~3L;
        }
        long a = lo & ~0xFL;
        if ((lo & BAR_MEMORY_64) != 0) {
            a |= cfg32(slot, BAR0 + 4 * bar + 4) << 32;
        }
        return a;
    }

    /**
     * Which (slot, BAR) should serve the access, from config reads only: per byte, the
     * decoding BAR of lowest (slot, BAR); the access is claimed when every byte has the same.
     */
    int[] modelWinner(long addr, int size, boolean io) {
        int[] first = null;
        for (int i = 0; i < size; i++) {
            int[] w = null;
            for (int slot = 1; slot <= 4 && w == null; slot++) {
                int cmd = (int) cfg(slot, 0, COMMAND, 2);
                for (int bar = 0; bar < 3 && w == null; bar++) {
                    long lo = cfg32(slot, BAR0 + 4 * bar);
                    boolean isIo = (lo & BAR_IO) != 0;
                    if (isIo != io || (cmd & (io ? COMMAND_IO : COMMAND_MEMORY)) == 0) {
                        continue;
                    }
                    long base = barAddress(slot, bar);
                    long size0 = host.device(slot, 0).bar(bar).size();
                    boolean wide = (lo & BAR_MEMORY_64) != 0;
                    boolean wraps = wide ? Long.compareUnsigned(base + size0, base) <= 0 : base + size0 > 1L << 32;
                    if (base != 0 && !wraps && Long.compareUnsigned(addr + i - base, size0) < 0) {
                        w = new int[] {slot, bar};
                    }
                }
            }
            if (w == null) {
                return null;
            }
            if (first == null) {
                first = w;
            } else if (first[0] != w[0] || first[1] != w[1]) {
                return null;
            }
        }
        return first;
    }

    // ---------------------------------------------------------------- INTx

    @Test
    void intxFollowsQemuVirtsSwizzle() {
        for (int slot = 1; slot < PcieHost.SLOTS; slot++) {
            for (int pin = 1; pin <= 4; pin++) {
                for (Wire w : wires) {
                    w.level = false;
                }
                host = newHost();
                TestPciDevice d = new TestPciDevice("irq", pin);
                host.add(slot, d);
                d.irq(true);
                int line = (slot + pin - 1) % 4; // interrupt-map: PLIC 32 + (slot + pin - 1) % 4
                for (int l = 0; l < 4; l++) {
                    assertEquals(l == line, wires[l].level, "slot " + slot + " pin " + pin + " line " + l);
                }
                d.irq(false);
                assertFalse(wires[line].level);
            }
        }
        assertEquals(1, PcieHost.intxLine(1, 1));
        assertEquals(0, PcieHost.intxLine(3, 2));
    }

    @Test
    void functionsSharingALineAreOred() {
        TestPciDevice a = new TestPciDevice("a", 1); // slot 1 INTA -> line 1
        TestPciDevice b = new TestPciDevice("b", 2); // slot 4 INTB -> line (4 + 1) % 4 = 1
        host.add(1, a);
        host.add(4, b);
        a.irq(true);
        b.irq(true);
        assertTrue(wires[1].level);
        a.irq(false);
        assertTrue(wires[1].level, "b still asserts it");
        b.irq(false);
        assertFalse(wires[1].level);
        assertEquals(2, wires[1].edges, "one rise and one fall: the line is level, not a sum");
    }

    @Test
    void intxDisableMasksTheLineButNotTheStatusBit() {
        TestPciDevice d = new TestPciDevice("d", 1);
        host.add(1, d);
        d.irq(true);
        assertTrue(wires[1].level);
        assertEquals(STATUS_INTERRUPT, cfg(1, 0, STATUS, 2));
        assertEquals((long) STATUS_INTERRUPT << 16, cfg32(1, COMMAND), "visible in a dword read too");
        setCfg(1, 0, COMMAND, 2, COMMAND_INTX_DISABLE);
        assertFalse(wires[1].level);
        assertEquals(STATUS_INTERRUPT, cfg(1, 0, STATUS, 2), "Interrupt Status shows the device's level");
        setCfg(1, 0, COMMAND, 2, 0);
        assertTrue(wires[1].level);
        setCfg(1, 0, COMMAND, 2, COMMAND_INTX_DISABLE);
        d.irq(false);
        setCfg(1, 0, COMMAND, 2, 0);
        assertFalse(wires[1].level);
        assertEquals(0, cfg(1, 0, STATUS, 2));
    }

    @Test
    void aFunctionWithoutAPinRaisesNothing() {
        TestPciDevice d = new TestPciDevice("no-pin");
        host.add(1, d);
        d.irq(true);
        for (Wire w : wires) {
            assertFalse(w.level);
        }
        assertEquals(0, cfg(1, 0, INTERRUPT_PIN, 1));
    }

    // ---------------------------------------------------------------- reset

    @Test
    void resetReturnsEveryFunctionToPowerOn() {
        addTypicalDevice();
        programTypicalDevice();
        setCfg(1, 0, INTERRUPT_LINE, 1, 0x21);
        setCfg(1, 0, CACHE_LINE_SIZE, 1, 0x10);
        dev.irq(true);
        assertTrue(wires[1].level);
        int resets = dev.resets;

        host.ecam().reset();

        assertEquals(resets + 1, dev.resets, "the device's own state is reset too");
        assertFalse(wires[1].level);
        assertEquals(0, cfg(1, 0, COMMAND, 2));
        assertEquals(0, dev.command(), "the device's lock-free view of Command too");
        assertEquals(0, cfg(1, 0, STATUS, 2));
        assertEquals(0x0000_0001L, cfg32(1, BAR0));
        assertEquals(0, cfg32(1, BAR0 + 4));
        assertEquals(0x0000_000CL, cfg32(1, BAR0 + 16));
        assertEquals(0, cfg32(1, BAR0 + 20));
        assertEquals(0x0000_0100L, cfg32(1, INTERRUPT_LINE));
        assertEquals(0, cfg32(1, CACHE_LINE_SIZE));
        assertEquals(0xFFFF_FFFFL, mem(MMIO + 0x1_0000, 4), "nothing decodes after reset");
        // Working again after reset.
        programTypicalDevice();
        assertEquals(Recorder.answer(0xA1, 0), mem(MMIO + 0x1_0000, 8));
    }

    // ---------------------------------------------------------------- capabilities and hooks

    @Test
    void theCapabilityListWalksLikeLinuxsPciFindCapability() {
        TestPciDevice d = new TestPciDevice("caps", 1);
        // A virtio-style vendor capability: cap_len, cfg_type, bar, padding, offset, length.
        byte[] vendor = {16, 1, 4, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x10, 0, 0};
        int vOff = d.addCapability(CAP_ID_VENDOR, vendor, null);
        // An MSI-X-like capability whose Message Control high byte is writable.
        byte[] msix = {3, 0, 1, 0, 0, 0, 1, 0x08, 0, 0};
        byte[] msixMask = {0, (byte) 0xC0, 0, 0, 0, 0, 0, 0, 0, 0};
        int mOff = d.addCapability(CAP_ID_MSIX, msix, msixMask);
        int eOff = d.addPcieCapability();
        host.add(1, d);

        assertEquals(STATUS_CAPABILITIES, cfg(1, 0, STATUS, 2));
        List<Integer> ids = new ArrayList<>();
        List<Integer> offsets = new ArrayList<>();
        int pos = (int) cfg(1, 0, CAPABILITIES_POINTER, 1);
        for (int ttl = 48; pos != 0 && ttl > 0; ttl--) { // Linux's __pci_find_next_cap_ttl
            assertTrue(pos >= HEADER_SIZE && (pos & 3) == 0, "capability at 0x" + Integer.toHexString(pos));
            ids.add((int) cfg(1, 0, pos, 1));
            offsets.add(pos);
            pos = (int) cfg(1, 0, pos + 1, 1);
        }
        assertEquals(List.of(CAP_ID_VENDOR, CAP_ID_MSIX, CAP_ID_EXP), ids);
        assertEquals(List.of(vOff, mOff, eOff), offsets);
        assertEquals(0x40, vOff);
        for (int i = 0; i < vendor.length; i++) {
            assertEquals(vendor[i] & 0xFF, cfg(1, 0, vOff + 2 + i, 1), "vendor body byte " + i);
        }
        // Write masks: only Message Control bits 14..15 (MSI-X Enable, Function Mask) stick.
        setCfg(1, 0, mOff + 2, 2, 0xFFFF);
        assertEquals(0xC003, cfg(1, 0, mOff + 2, 2));
        assertEquals(mOff + 2, d.lastWriteOffset, "the device hears about the write");
        assertEquals(0xFFFF, d.lastWriteValue);
        setCfg32(1, vOff, 0xFFFF_FFFFL);
        assertEquals(CAP_ID_VENDOR | mOff << 8 | 16 << 16 | 1 << 24, cfg32(1, vOff), "the vendor capability is read-only");
        // The PCIe capability: RC integrated endpoint, version 2; extended space present and empty.
        assertEquals(2 | EXP_TYPE_RC_END << 4, cfg(1, 0, eOff + EXP_FLAGS, 2));
        assertEquals(0, cfg32(1, 0x100), "no extended capabilities (PCIe 7.6.2)");
        assertEquals(0, cfg32(1, 0xFFC));
        setCfg(1, 0, eOff + EXP_DEVCTL, 2, 0xFFFF);
        assertEquals(0x79FF, cfg(1, 0, eOff + EXP_DEVCTL, 2), "no FLR, phantom functions or aux power");
        host.reset();
        assertEquals(0x2810, cfg(1, 0, eOff + EXP_DEVCTL, 2), "power-on Device Control");
        assertEquals(0x0003, cfg(1, 0, mOff + 2, 2));
    }

    @Test
    void capabilitiesMustFitInTheConventionalSpace() {
        TestPciDevice d = new TestPciDevice("full");
        assertEquals(0x40, d.addCapability(CAP_ID_VENDOR, new byte[0xBA], null)); // 0x40..0xFC
        assertThrows(IllegalArgumentException.class, () -> d.addCapability(CAP_ID_VENDOR, new byte[4], null));
        assertEquals(0xFC, d.addCapability(CAP_ID_VENDOR, new byte[2], null)); // 0xFC..0xFF fits exactly
    }

    @Test
    void aDeviceMayServeLiveRegistersFromItsReadHook() {
        TestPciDevice d = new TestPciDevice("live");
        int off = d.addCapability(CAP_ID_VENDOR, new byte[6], null);
        host.add(1, d);
        d.liveOffset = off + 4;
        d.liveValue = 0xCAFE_F00D;
        assertEquals(0xCAFE_F00DL, cfg32(1, off + 4));
        d.liveValue = 0x1234_5678;
        assertEquals(0x1234_5678L, cfg32(1, off + 4));
    }

    @Test
    void functionZeroOfAMultiFunctionSlotSaysSo() {
        TestPciDevice f0 = new TestPciDevice("f0", 1);
        TestPciDevice f2 = new TestPciDevice("f2", 2);
        host.add(3, 0, f0);
        assertEquals(0, cfg(3, 0, HEADER_TYPE, 1));
        host.add(3, 2, f2);
        assertEquals(HEADER_MULTI_FUNCTION, cfg(3, 0, HEADER_TYPE, 1));
        assertEquals(0, cfg(3, 2, HEADER_TYPE, 1));
        assertEquals(0xFFFF, cfg(3, 1, VENDOR_ID, 2));
        assertEquals(TestPciDevice.VENDOR, cfg(3, 2, VENDOR_ID, 2));
        host.reset();
        assertEquals(HEADER_MULTI_FUNCTION, cfg(3, 0, HEADER_TYPE, 1), "survives reset");
        f2.irq(true);
        assertTrue(wires[PcieHost.intxLine(3, 2)].level, "function 2 interrupts through its slot's swizzle");
    }

    // ---------------------------------------------------------------- hot path

    @Test
    void windowAccessesDoNotAllocate() {
        addTypicalDevice();
        programTypicalDevice();
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sink = 0;
        for (int i = 0; i < 200_000; i++) { // warm up
            sink += mem(MMIO + 0x1_0000 + (i & 0xFF8), 8) + io(0x1000 + (i & 0x1C), 4);
        }
        long before = mx.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 100_000; i++) {
            sink += mem(MMIO + 0x1_0000 + (i & 0xFF8), 8) + io(0x1000 + (i & 0x1C), 4);
            setMem(MMIO64 + 0x20_0000 + (i & 0xFF8), 4, i);
        }
        long allocated = mx.getCurrentThreadAllocatedBytes() - before;
        assertNotEquals(0, sink);
        assertTrue(allocated < 4096, allocated + " bytes allocated by 300000 window accesses");
    }

    @Test
    void layoutMatchesQemuVirt() {
        assertArrayEquals(new long[] {0x3000_0000L, 0x1000_0000L, 0x0300_0000L, 0x1_0000L, 0x4000_0000L, 0x4000_0000L,
            0x4_0000_0000L, 0x4_0000_0000L},
                new long[] {VIRT.ecamBase(), VIRT.ecamSize(), VIRT.pioBase(), VIRT.pioSize(), VIRT.mmioBase(),
                    VIRT.mmioSize(), VIRT.mmio64Base(), VIRT.mmio64Size()});
        assertEquals(256, VIRT.buses());
        // ranges of qemu-system-riscv64 -M virt -m N dumps: the 64-bit window sits above RAM.
        assertEquals(VIRT, PcieHost.Layout.qemuVirt(128L << 20));
        assertEquals(0x4_0000_0000L, PcieHost.Layout.qemuVirt(14L << 30).mmio64Base());
        assertEquals(0x8_0000_0000L, PcieHost.Layout.qemuVirt(15L << 30).mmio64Base());
        assertEquals(0x8_0000_0000L, PcieHost.Layout.qemuVirt(16L << 30).mmio64Base());
        assertEquals(0x4_0000_0000L, PcieHost.Layout.qemuVirt(16L << 30).mmio64Size());
    }
}
