package dev.rivet.core.bus;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BusTest {
    /** A 16-byte register file that accepts only 4-byte accesses and records them. */
    static final class Regs32 implements MmioDevice {
        final int[] regs = new int[4];
        final List<String> log = new ArrayList<>();

        @Override
        public String name() {
            return "regs32";
        }

        @Override
        public long read(long offset, int size) {
            log.add("r" + size + "@" + offset);
            return regs[(int) offset / 4] & 0xFFFF_FFFFL;
        }

        @Override
        public void write(long offset, int size, long value) {
            log.add("w" + size + "@" + offset + "=" + Long.toHexString(value));
            regs[(int) offset / 4] = (int) value;
        }
    }

    @Test
    void ramReadsAndWritesLittleEndian() {
        try (GuestRam ram = new GuestRam(0x8000_0000L, 1 << 20)) {
            Bus bus = new Bus(ram);
            bus.write(0x8000_0010L, 8, 0x1122_3344_5566_7788L);
            assertEquals(0x88, bus.read(0x8000_0010L, 1));
            assertEquals(0x5566_7788L, bus.read(0x8000_0010L, 4));
            assertEquals(0x1122_3344_5566_7788L, bus.read(0x8000_0010L, 8));
            assertEquals(0x6677L, bus.read(0x8000_0011L, 2), "unaligned RAM access");
        }
    }

    @Test
    void ramStartsZeroedAndResetZeroesItAgain() {
        try (GuestRam ram = new GuestRam(0x8000_0000L, 64 << 20)) {
            for (long off = 0; off < ram.size(); off += 1 << 20) {
                assertEquals(0, ram.read(off, 8));
                ram.write(off, 8, off | 1);
            }
            assertEquals((32L << 20) | 1, ram.read(32 << 20, 8));
            ram.zero();
            for (long off = 0; off < ram.size(); off += 1 << 20) {
                assertEquals(0, ram.read(off, 8), "offset " + off);
            }
        }
    }

    @Test
    void narrowAccessIsWidenedAndMerged() {
        try (GuestRam ram = new GuestRam(0x8000_0000L, 1 << 20)) {
            Bus bus = new Bus(ram);
            Regs32 dev = new Regs32();
            bus.map(0x1000_0000L, 16, dev);
            dev.regs[1] = 0xAABB_CCDD;
            assertEquals(0xCC, bus.read(0x1000_0005L, 1));
            bus.write(0x1000_0006L, 1, 0x11);
            assertEquals(0xAA11_CCDD, dev.regs[1], "byte write merges into the 32-bit register");
            assertEquals(List.of("r4@4", "r4@4", "w4@4=aa11ccdd"), dev.log);
        }
    }

    @Test
    void wideAccessIsSplitLittleEndian() {
        try (GuestRam ram = new GuestRam(0x8000_0000L, 1 << 20)) {
            Bus bus = new Bus(ram);
            Regs32 dev = new Regs32();
            bus.map(0x1000_0000L, 16, dev);
            bus.write(0x1000_0008L, 8, 0x0102_0304_0506_0708L);
            assertEquals(0x0506_0708, dev.regs[2]);
            assertEquals(0x0102_0304, dev.regs[3]);
            assertEquals(0x0102_0304_0506_0708L, bus.read(0x1000_0008L, 8));
        }
    }

    @Test
    void lookupFindsRegionsAndGaps() {
        try (GuestRam ram = new GuestRam(0x8000_0000L, 1 << 20)) {
            Bus bus = new Bus(ram);
            Regs32 a = new Regs32(), b = new Regs32();
            bus.map(0x2000, 16, b);
            bus.map(0x1000, 16, a);
            assertSame(a, bus.find(0x100F).device);
            assertNull(bus.find(0x1010));
            assertSame(b, bus.find(0x2000).device);
            assertNull(bus.find(0xFFF));
            assertNull(bus.find(0xFFFF_FFFF_FFFF_FFF0L));
            assertTrue(bus.isMapped(0x8000_0000L, 8));
            assertFalse(bus.isMapped(0x8000_0000L + (1 << 20) - 4, 8), "access running off the end of RAM");
            assertFalse(bus.isMapped(0x100C, 8), "access running off the end of a device");
        }
    }

    @Test
    void overlapsAreRejectedWithNames() {
        try (GuestRam ram = new GuestRam(0x8000_0000L, 1 << 20)) {
            Bus bus = new Bus(ram);
            bus.map(0x1000, 0x100, new Regs32());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> bus.map(0x10F0, 0x100, new Regs32()));
            assertTrue(e.getMessage().contains("overlaps regs32"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> bus.map(0x8000_1000L, 0x100, new Regs32()));
        }
    }
}
