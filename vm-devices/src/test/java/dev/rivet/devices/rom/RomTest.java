package dev.rivet.devices.rom;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.MmioDevice;
import dev.rivet.devices.DeviceTrees;
import dev.rivet.devices.MmioDeviceContract;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The boot ROM as the hart sees it when it fetches QEMU's reset vector. */
class RomTest extends MmioDeviceContract {
    static final int SIZE = 0xF000; // QEMU virt's mrom
    /** QEMU's reset vector's first instructions: auipc t0, 0; addi a2, t0, 40; csrr a0, mhartid. */
    static final byte[] CODE = {
            (byte) 0x97, 0x02, 0x00, 0x00,
            0x13, (byte) 0x86, (byte) 0x82, 0x02,
            0x73, 0x25, 0x40, (byte) 0xF1,
    };

    Rom rom;

    @BeforeEach
    void setUp() {
        rom = new Rom("mrom", SIZE, log);
        rom.load(0, CODE);
    }

    @Override
    protected MmioDevice newDevice() {
        Rom r = new Rom("mrom", SIZE, log);
        r.load(0, CODE);
        return r;
    }

    @Override
    protected long regionSize() {
        return SIZE;
    }

    /** A ROM has no gaps: past its end is the only place without bytes. */
    @Override
    protected long[] unknownOffsets() {
        return new long[] {SIZE, SIZE + 8};
    }

    @Override
    protected Map<String, Long> readableState(MmioDevice d) {
        Map<String, Long> s = new LinkedHashMap<>();
        for (long off : new long[] {0, 8, 0x100, SIZE - 8}) {
            s.put("0x" + Long.toHexString(off), d.read(off, 8));
        }
        return s;
    }

    @Test
    void readsEverySizeLittleEndian() {
        assertEquals(0x97, Bus.readDevice(rom, 0, 1));
        assertEquals(0x0297, Bus.readDevice(rom, 0, 2));
        assertEquals(0x0000_0297L, Bus.readDevice(rom, 0, 4));
        assertEquals(0x0282_8613_0000_0297L, Bus.readDevice(rom, 0, 8));
        assertEquals(0xF140_2573L, Bus.readDevice(rom, 8, 4));
        assertEquals(0x7302_8286L, Bus.readDevice(rom, 5, 4), "unaligned");
        assertEquals(0, Bus.readDevice(rom, SIZE - 8, 8), "the rest is zero");
        assertTrue(guestErrors.isEmpty(), guestErrors.toString());
    }

    @Test
    void guestWritesAreLoggedAndIgnored() {
        Bus.writeDevice(rom, 0, 4, 0xDEAD_BEEFL);
        assertEquals(0x0000_0297L, Bus.readDevice(rom, 0, 4));
        assertEquals(1, guestErrors.size());
        assertTrue(guestErrors.getFirst().contains("mrom") && guestErrors.getFirst().contains("read-only"),
                guestErrors.toString());
    }

    @Test
    void resetKeepsTheContents() {
        rom.reset();
        assertEquals(0x0297, Bus.readDevice(rom, 0, 2));
    }

    @Test
    void loadIsBoundsChecked() {
        assertThrows(IllegalArgumentException.class, () -> rom.load(SIZE - 2, CODE));
        assertThrows(IllegalArgumentException.class, () -> rom.load(-1, CODE));
        rom.load(SIZE - CODE.length, CODE);
        assertEquals(0x97, Bus.readDevice(rom, SIZE - CODE.length, 1));
    }

    /** QEMU's virt tree has no node for the boot ROM, and Rom contributes none. */
    @Test
    void qemuHasNoDeviceTreeNodeForTheBootRom() throws Exception {
        String qemu = DeviceTrees.qemuVirt();
        assertFalse(qemu.contains("@1000 {"), qemu);
    }
}
