package dev.rivet.devices.fwcfg;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.core.bus.MmioDevice;
import dev.rivet.core.fdt.Fdt;
import dev.rivet.devices.DeviceTrees;
import dev.rivet.devices.MmioDeviceContract;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.rivet.devices.fwcfg.FwCfg.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Drives fw_cfg the way Linux's drivers/firmware/qemu_fw_cfg.c does on an MMIO board:
 * big-endian selector writes, byte reads of the data register, and DMA with the
 * descriptor address written as two big-endian 32-bit halves.
 */
class FwCfgTest extends MmioDeviceContract {
    static final long RAM_BASE = 0x8000_0000L;
    static final long RAM_SIZE = 64 << 10;
    static final long DESC = RAM_BASE + 0x1000;
    static final long BUF = RAM_BASE + 0x2000;

    final List<GuestRam> rams = new ArrayList<>();
    GuestRam ram;
    FwCfg fw;

    GuestRam newRam() {
        GuestRam r = new GuestRam(RAM_BASE, RAM_SIZE);
        rams.add(r);
        return r;
    }

    @BeforeEach
    void setUp() {
        ram = newRam();
        fw = new FwCfg(ram, log);
    }

    @AfterEach
    void closeRam() {
        rams.forEach(GuestRam::close);
    }

    @Override
    protected MmioDevice newDevice() {
        FwCfg f = new FwCfg(newRam(), log);
        f.addFile("etc/test", new byte[] {1, 2, 3});
        return f;
    }

    @Override
    protected long regionSize() {
        return MMIO_SIZE;
    }

    @Override
    protected long[] unknownOffsets() {
        return new long[] {0x0A, 0x0B, 0x0C, 0x0E};
    }

    /** The selection and position show in the data stream; the DMA register shows its signature. */
    @Override
    protected Map<String, Long> readableState(MmioDevice d) {
        Map<String, Long> s = new LinkedHashMap<>();
        s.put("DATA[0..7]", d.read(DATA, 8));
        s.put("DATA[8..15]", d.read(DATA, 8));
        s.put("DMA_ADDRESS", d.read(DMA_ADDRESS, 8));
        return s;
    }

    /** iowrite16be(key, base + 8). */
    void select(int key) {
        Bus.writeDevice(fw, SELECTOR, 2, Short.reverseBytes((short) key) & 0xFFFF);
    }

    byte[] readBytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) Bus.readDevice(fw, DATA, 1);
        }
        return b;
    }

    /** Writes an FWCfgDmaAccess at {@code desc} and starts it like Linux: high half, then low half. */
    int dma(long desc, int control, long length, long address) {
        long d = desc - RAM_BASE;
        ram.write(d, 4, Integer.reverseBytes(control));
        ram.write(d + 4, 4, Integer.reverseBytes((int) length));
        ram.write(d + 8, 8, Long.reverseBytes(address));
        Bus.writeDevice(fw, DMA_ADDRESS, 4, Integer.reverseBytes((int) (desc >>> 32)) & 0xFFFF_FFFFL);
        Bus.writeDevice(fw, DMA_ADDRESS_LOW, 4, Integer.reverseBytes((int) desc) & 0xFFFF_FFFFL);
        return Integer.reverseBytes((int) ram.read(d, 4));
    }

    byte[] ramBytes(long addr, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ram.read(addr - RAM_BASE + i, 1);
        }
        return b;
    }

    static int be32(byte[] b, int at) {
        return (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
    }

    @Test
    void signatureThroughTheDataRegister() {
        select(KEY_SIGNATURE);
        assertEquals("QEMU", new String(readBytes(4), StandardCharsets.US_ASCII));
        assertEquals(0, Bus.readDevice(fw, DATA, 1), "past the end reads 0");
        select(KEY_SIGNATURE);
        long v = Bus.readDevice(fw, DATA, 4);
        assertEquals("QEMU", new String(new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24)},
                StandardCharsets.US_ASCII), "wide reads keep the bytes in address order");
        assertTrue(guestErrors.isEmpty(), guestErrors.toString());
    }

    @Test
    void idAdvertisesDma() {
        select(KEY_ID);
        assertEquals(ID_TRADITIONAL | ID_DMA, Bus.readDevice(fw, DATA, 4), "little-endian 32-bit item");
    }

    @Test
    void selectorIsBigEndian() {
        // A little-endian store of 0x0100 puts bytes 00 01 at +8 and +9: big-endian key 1.
        Bus.writeDevice(fw, SELECTOR, 2, 0x0100);
        assertEquals(ID_TRADITIONAL | ID_DMA, Bus.readDevice(fw, DATA, 4));
    }

    @Test
    void unknownKeysReadZero() {
        select(0x1234);
        assertEquals(0, Bus.readDevice(fw, DATA, 8));
        select(0x8000 | KEY_SIGNATURE); // the architecture-specific range is empty
        assertEquals(0, Bus.readDevice(fw, DATA, 8));
        select(0x4000 | KEY_SIGNATURE); // the write bit is ignored
        assertEquals("QEMU", new String(readBytes(4), StandardCharsets.US_ASCII));
    }

    @Test
    void dmaSignatureRegister() {
        assertEquals(Long.reverseBytes(DMA_SIGNATURE), Bus.readDevice(fw, DMA_ADDRESS, 8), "\"QEMU CFG\" in address order");
        assertEquals(Integer.reverseBytes(0x51454D55) & 0xFFFF_FFFFL, Bus.readDevice(fw, DMA_ADDRESS, 4));
        assertEquals(Integer.reverseBytes(0x20434647) & 0xFFFF_FFFFL, Bus.readDevice(fw, DMA_ADDRESS_LOW, 4));
    }

    /** fw_cfg_register_dir_entries: read the count, then the directory, by DMA. */
    @Test
    void dmaReadOfTheFileDirectory() {
        byte[] b = "second file".getBytes(StandardCharsets.US_ASCII);
        byte[] a = "first".getBytes(StandardCharsets.US_ASCII);
        fw.addFile("opt/rivet/b", b);
        fw.addFile("opt/rivet/a", a);

        assertEquals(0, dma(DESC, KEY_FILE_DIR << 16 | DMA_CTL_SELECT | DMA_CTL_READ, 4, BUF), "control 0: success");
        assertEquals(2, be32(ramBytes(BUF, 4), 0));
        assertEquals(0, dma(DESC, DMA_CTL_READ, 2 * 64, BUF + 4), "continues where the last transfer stopped");
        byte[] dir = ramBytes(BUF, 4 + 2 * 64);

        assertEquals(a.length, be32(dir, 4));
        assertEquals(KEY_FILE_FIRST, (dir[8] & 0xFF) << 8 | (dir[9] & 0xFF), "files in name order");
        assertEquals("opt/rivet/a", new String(dir, 12, 11, StandardCharsets.US_ASCII));
        assertEquals(0, dir[12 + 11], "NUL-terminated");
        assertEquals(b.length, be32(dir, 68));
        assertEquals(KEY_FILE_FIRST + 1, (dir[72] & 0xFF) << 8 | (dir[73] & 0xFF));
        assertEquals("opt/rivet/b", new String(dir, 76, 11, StandardCharsets.US_ASCII));

        // Read a file by its selector, asking for more than it holds: the rest is zero-filled.
        for (int i = 0; i < 16; i++) {
            ram.write(BUF + 0x100 - RAM_BASE + i, 1, 0xEE);
        }
        assertEquals(0, dma(DESC, (KEY_FILE_FIRST + 1) << 16 | DMA_CTL_SELECT | DMA_CTL_READ, 16, BUF + 0x100));
        byte[] got = ramBytes(BUF + 0x100, 16);
        byte[] want = new byte[16];
        System.arraycopy(b, 0, want, 0, b.length);
        assertArrayEquals(want, got);
        assertTrue(guestErrors.isEmpty(), guestErrors.toString());
    }

    @Test
    void dmaWithOneSixtyFourBitWrite() {
        long d = DESC - RAM_BASE;
        ram.write(d, 4, Integer.reverseBytes(KEY_SIGNATURE << 16 | DMA_CTL_SELECT | DMA_CTL_READ));
        ram.write(d + 4, 4, Integer.reverseBytes(4));
        ram.write(d + 8, 8, Long.reverseBytes(BUF));
        Bus.writeDevice(fw, DMA_ADDRESS, 8, Long.reverseBytes(DESC));
        assertEquals(0, ram.read(d, 4));
        assertEquals("QEMU", new String(ramBytes(BUF, 4), StandardCharsets.US_ASCII));
    }

    @Test
    void dmaSkipThenRead() {
        assertEquals(0, dma(DESC, KEY_SIGNATURE << 16 | DMA_CTL_SELECT | DMA_CTL_SKIP, 2, 0));
        assertEquals(0, dma(DESC, DMA_CTL_READ, 2, BUF));
        assertEquals("MU", new String(ramBytes(BUF, 2), StandardCharsets.US_ASCII));
    }

    /** A guest that points DMA outside RAM gets the error bit, never a host exception. */
    @Test
    void dmaWithABadAddressSetsTheErrorBit() {
        int control = KEY_FILE_DIR << 16 | DMA_CTL_SELECT | DMA_CTL_READ;
        assertEquals(DMA_CTL_ERROR, dma(DESC, control, 4, 0x1000)); // below RAM
        assertEquals(DMA_CTL_ERROR, dma(DESC, control, 4, RAM_BASE + RAM_SIZE)); // just past it
        assertEquals(DMA_CTL_ERROR, dma(DESC, control, 4, RAM_BASE + RAM_SIZE - 2)); // straddling the end
        assertEquals(DMA_CTL_ERROR, dma(DESC, control, 0xFFFF_FFFFL, RAM_BASE)); // too long
        assertEquals(DMA_CTL_ERROR, dma(DESC, control, 16, -8L)); // wrapping the address space
        assertEquals(5, guestErrors.size(), guestErrors.toString());
        assertTrue(guestErrors.stream().allMatch(m -> m.contains("fw-cfg")), guestErrors.toString());
    }

    @Test
    void dmaDescriptorOutsideRamIsLoggedAndIgnored() {
        Bus.writeDevice(fw, DMA_ADDRESS, 8, Long.reverseBytes(0x1000L));
        Bus.writeDevice(fw, DMA_ADDRESS, 8, Long.reverseBytes(RAM_BASE + RAM_SIZE - 8)); // straddles the end
        Bus.writeDevice(fw, DMA_ADDRESS, 8, Long.reverseBytes(-1L));
        assertEquals(3, guestErrors.size(), guestErrors.toString());
    }

    @Test
    void dmaWritesFailBecauseNoItemIsWritable() {
        assertEquals(DMA_CTL_ERROR, dma(DESC, KEY_SIGNATURE << 16 | DMA_CTL_SELECT | DMA_CTL_WRITE, 4, BUF));
        select(KEY_SIGNATURE);
        assertEquals("QEMU", new String(readBytes(4), StandardCharsets.US_ASCII));
    }

    @Test
    void dmaWithoutAnOperationDoesNothing() {
        assertEquals(0, dma(DESC, KEY_ID << 16 | DMA_CTL_SELECT, 4, BUF));
        assertEquals(ID_TRADITIONAL | ID_DMA, Bus.readDevice(fw, DATA, 4), "the select still happened");
        assertEquals(0, ram.read(BUF - RAM_BASE, 4));
    }

    @Test
    void dataWritesAreIgnored() {
        select(KEY_SIGNATURE);
        Bus.writeDevice(fw, DATA, 1, 'X');
        assertEquals("QEMU", new String(readBytes(4), StandardCharsets.US_ASCII));
    }

    @Test
    void resetSelectsTheSignature() {
        select(KEY_ID);
        fw.reset();
        assertEquals("QEMU", new String(readBytes(4), StandardCharsets.US_ASCII));
    }

    @Test
    void fileNamesAreChecked() {
        fw.addFile("etc/x", new byte[0]);
        assertThrows(IllegalArgumentException.class, () -> fw.addFile("etc/x", new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> fw.addFile("", new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> fw.addFile("x".repeat(56), new byte[0]));
        fw.addFile("y".repeat(55), new byte[0]);
    }

    @Test
    void deviceTreeNode() throws Exception {
        Fdt fdt = new Fdt();
        fw.addTo(fdt.root(), 0x1010_0000L, MMIO_SIZE);
        String dts = DeviceTrees.decompile(fdt.toBlob());
        assertEquals("""
                fw-cfg@10100000 {
                dma-coherent;
                reg = <0x00 0x10100000 0x00 0x18>;
                compatible = "qemu,fw-cfg-mmio";
                };
                """, DeviceTrees.node(dts, "fw-cfg@10100000"));
        assertTrue(dts.contains("\n\tfw-cfg@10100000 {"), "at the root, as in QEMU: " + dts);
    }

    @Test
    void deviceTreeNodeMatchesQemu() throws Exception {
        String qemu = DeviceTrees.qemuVirt();
        assertTrue(qemu.contains("\n\tfw-cfg@10100000 {"), "QEMU has it at the root");
        Fdt fdt = new Fdt();
        fw.addTo(fdt.root(), 0x1010_0000L, MMIO_SIZE);
        assertEquals(DeviceTrees.node(qemu, "fw-cfg@10100000"), DeviceTrees.node(fdt, "fw-cfg@10100000"));
    }
}
