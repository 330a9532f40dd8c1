package dev.rivet.core.bus;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A device's DMA into a 64 KiB RAM at 0x8000_0000: in range it works, out of range it throws DmaException. */
class DmaViewTest {
    static final long BASE = 0x8000_0000L;
    static final long SIZE = 0x1_0000;
    static final long END = BASE + SIZE;

    final GuestRam ram = new GuestRam(BASE, SIZE);
    final DmaView dma = new DmaView(ram);
    final List<Long> observed = new ArrayList<>();

    {
        ram.setWriteObserver(observed::add);
    }

    @AfterEach
    void close() {
        ram.close();
    }

    @Test
    void scalarsAreLittleEndianAndZeroExtended() throws DmaException {
        dma.writeU64(BASE + 8, 0x8877_6655_4433_2211L);
        assertEquals(0x11, dma.readU8(BASE + 8));
        assertEquals(0x2211, dma.readU16(BASE + 8));
        assertEquals(0x4433_2211, dma.readU32(BASE + 8));
        assertEquals(0x8877_6655_4433_2211L, dma.readU64(BASE + 8));
        assertEquals(0x88, dma.readU8(BASE + 15));
        assertEquals(0x8877, dma.readU16Acquire(BASE + 14));
        dma.writeU16Release(BASE + 3, 0xFFEE); // unaligned is fine
        assertEquals(0xFFEE, dma.readU16(BASE + 3));
        dma.writeU32(END - 4, 0xCAFE_F00D);
        assertEquals(0xCAFE_F00DL, dma.readU32(END - 4) & 0xFFFF_FFFFL);
        dma.writeU8(END - 1, 0x1FF);
        assertEquals(0xFF, dma.readU8(END - 1));
    }

    @Test
    void everyAccessOutsideRamThrows() {
        long[] bad = {BASE - 1, END, END - 1, 0, -1, -8, BASE - 0x1_0000_0000L, Long.MIN_VALUE};
        for (long a : bad) {
            String where = "0x" + Long.toHexString(a);
            if (a != END - 1) {
                assertThrows(DmaException.class, () -> dma.readU8(a), where);
                assertThrows(DmaException.class, () -> dma.writeU8(a, 0), where);
            }
            assertThrows(DmaException.class, () -> dma.readU16(a), where);
            assertThrows(DmaException.class, () -> dma.readU32(a), where);
            assertThrows(DmaException.class, () -> dma.readU64(a), where);
            assertThrows(DmaException.class, () -> dma.writeU16(a, 0), where);
            assertThrows(DmaException.class, () -> dma.writeU16Release(a, 0), where);
            assertThrows(DmaException.class, () -> dma.writeU32(a, 0), where);
            assertThrows(DmaException.class, () -> dma.writeU64(a, 0), where);
            assertThrows(DmaException.class, () -> dma.read(a, new byte[2], 0, 2), where);
            assertThrows(DmaException.class, () -> dma.write(a, new byte[2], 0, 2), where);
            assertThrows(DmaException.class, () -> dma.zero(a, 2), where);
        }
        assertTrue(observed.isEmpty(), "no write was observed, so none happened: " + observed);
    }

    @Test
    void lengthsThatWrapOrAreNegativeAreRefused() {
        assertFalse(dma.contains(BASE, -1));
        assertFalse(dma.contains(BASE + 16, Long.MAX_VALUE));
        assertFalse(dma.contains(END - 16, 17));
        assertFalse(dma.contains(-16, 32), "wraps around zero");
        assertTrue(dma.contains(BASE, SIZE));
        assertTrue(dma.contains(END - 1, 1));
        assertThrows(DmaException.class, () -> dma.zero(BASE, -1));
        assertThrows(DmaException.class, () -> dma.zero(BASE + 1, SIZE));
        assertThrows(DmaException.class, () -> dma.readView(END - 4, 5));
        assertThrows(DmaException.class, () -> dma.writeView(END - 4, 5));
        assertThrows(DmaException.class, () -> dma.read(END - 4, ByteBuffer.allocate(5)));
        assertThrows(DmaException.class, () -> dma.write(END - 4, ByteBuffer.allocate(5)));
        DmaException e = assertThrows(DmaException.class, () -> dma.readU64(END - 7));
        assertEquals(END - 7, e.address());
        assertEquals(8, e.length());
    }

    @Test
    void bulkCopiesWithArraysAndBuffers() throws DmaException {
        byte[] data = new byte[300];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 7);
        }
        dma.write(BASE + 0x0FF0, data, 0, data.length);
        byte[] back = new byte[300];
        dma.read(BASE + 0x0FF0, back, 0, back.length);
        assertArrayEquals(data, back);

        ByteBuffer heap = ByteBuffer.allocate(310).position(10);
        dma.read(BASE + 0x0FF0, heap);
        assertEquals(310, heap.position());
        ByteBuffer direct = ByteBuffer.allocateDirect(300);
        dma.read(BASE + 0x0FF0, direct);
        assertEquals(0, direct.remaining());
        for (int i = 0; i < 300; i++) {
            assertEquals(data[i], heap.get(10 + i));
            assertEquals(data[i], direct.get(i));
        }

        dma.write(BASE + 0x2000, direct.flip());
        dma.write(BASE + 0x3000, heap.position(10));
        assertEquals(0, direct.remaining());
        dma.read(BASE + 0x2000, back, 0, 300);
        assertArrayEquals(data, back);
        dma.read(BASE + 0x3000, back, 0, 300);
        assertArrayEquals(data, back);

        dma.zero(BASE + 0x2001, 298);
        assertEquals(data[0], (byte) dma.readU8(BASE + 0x2000));
        assertEquals(0, dma.readU8(BASE + 0x2001));
        assertEquals(0, dma.readU8(BASE + 0x2001 + 297));
        assertEquals(data[299], (byte) dma.readU8(BASE + 0x2000 + 299));
    }

    @Test
    void viewsShareGuestMemory() throws DmaException {
        ByteBuffer w = dma.writeView(BASE + 0x100, 8);
        w.put(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        assertEquals(0x0807_0605_0403_0201L, dma.readU64(BASE + 0x100));
        ByteBuffer r = dma.readView(BASE + 0x100, 8);
        assertTrue(r.isReadOnly());
        assertEquals(8, r.remaining());
        assertEquals(5, r.get(4));
    }

    @Test
    void everyWriteIsObservedPageByPage() throws DmaException {
        dma.writeU32(BASE + 0x1FFE, 0); // straddles two pages
        assertEquals(List.of(BASE + 0x1000, BASE + 0x2000), observed);
        observed.clear();
        dma.write(BASE + 0x3FFF, new byte[0x1002], 0, 0x1002);
        assertEquals(List.of(BASE + 0x3000, BASE + 0x4000, BASE + 0x5000), observed);
        observed.clear();
        dma.write(BASE + 0x6000, ByteBuffer.allocateDirect(16));
        dma.zero(BASE + 0x7000, 1);
        dma.writeView(BASE + 0x8000, 1);
        dma.writeU16Release(BASE + 0x9000, 1);
        dma.writeU8(BASE + 0xA000, 1);
        dma.writeU16(BASE + 0xB000, 1);
        dma.writeU64(BASE + 0xC000, 1);
        assertEquals(List.of(BASE + 0x6000, BASE + 0x7000, BASE + 0x8000, BASE + 0x9000, BASE + 0xA000,
                BASE + 0xB000, BASE + 0xC000), observed);
        observed.clear();
        dma.readU64(BASE);
        dma.read(BASE, new byte[64], 0, 64);
        dma.readView(BASE, 64);
        assertTrue(observed.isEmpty(), "reads are not observed");
    }
}
