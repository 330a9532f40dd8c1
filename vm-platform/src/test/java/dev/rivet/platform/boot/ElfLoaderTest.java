package dev.rivet.platform.boot;

import static dev.rivet.platform.boot.ElfTestWriter.*;
import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ElfLoaderTest {

    @Test
    void parsesSampleImage() throws ElfFormatException {
        ElfImage image = ElfLoader.parse(sample().build());

        assertEquals(TEXT, image.entry());
        assertEquals(3, image.segments().size(), "non-PT_LOAD and empty PT_LOAD segments are skipped");

        ElfSegment text = image.segments().get(0);
        assertEquals(new ElfSegment(TEXT, TEXT, pattern(0x100, 1), 0x100, ElfSegment.PF_R | ElfSegment.PF_X), text);
        assertEquals(0, text.zeroFillSize());

        ElfSegment data = image.segments().get(1);
        assertEquals(DATA, data.physAddr());
        assertArrayEquals(pattern(0x48, 2), data.data());
        assertEquals(0x1000, data.memSize());
        assertEquals(0x1000 - 0x48, data.zeroFillSize());
        assertEquals(ElfSegment.PF_R | ElfSegment.PF_W, data.flags());

        ElfSegment high = image.segments().get(2);
        assertEquals(LMA, high.physAddr());
        assertEquals(HIGH_VMA, high.virtAddr());
        assertArrayEquals(pattern(8, 4), high.data());

        assertEquals(Map.of(
                "_start", TEXT,
                "tohost", DATA,
                "fromhost", DATA + 0x40,
                "counter", DATA + 8,
                "helper", 0x2222L), image.symbols(),
                "undefined, STT_FILE and STT_SECTION symbols are dropped; globals beat same-named locals");
        assertEquals(Optional.of(DATA), image.symbol("tohost"));
        assertEquals(Optional.empty(), image.symbol("nope"));
    }

    @Test
    void segmentDataIsACopy() throws ElfFormatException {
        byte[] file = sample().build();
        ElfImage image = ElfLoader.parse(file);
        java.util.Arrays.fill(file, (byte) 0);
        assertArrayEquals(pattern(0x100, 1), image.segments().get(0).data());
    }

    @Test
    void noSectionHeadersMeansNoSymbols() throws ElfFormatException {
        ElfImage image = ElfLoader.parse(sample().withoutSections().build());
        assertEquals(3, image.segments().size());
        assertTrue(image.symbols().isEmpty());
    }

    @Test
    void acceptsPositionIndependentExecutableAtLinkAddresses() throws ElfFormatException {
        ElfImage image = ElfLoader.parse(new ElfTestWriter().type(ElfLoader.ET_DYN).entry(0x40)
                .load(ElfSegment.PF_R | ElfSegment.PF_X, 0, 0, pattern(0x80, 5), 0x80).build());
        assertEquals(0x40, image.entry());
        assertEquals(0, image.segments().get(0).physAddr());
    }

    @Test
    void bssOnlySegmentAndSegmentEndingAtTopOfAddressSpace() throws ElfFormatException {
        ElfImage image = ElfLoader.parse(new ElfTestWriter().entry(TEXT)
                .load(ElfSegment.PF_R | ElfSegment.PF_W, 0x8100_0000L, 0x8100_0000L, new byte[0], 0x10_0000)
                .load(ElfSegment.PF_R, -0x1000L, -0x1000L, pattern(0x10, 6), 0x1000)
                .build());
        assertEquals(0x10_0000, image.segments().get(0).zeroFillSize());
        assertEquals(0x1000, image.segments().get(1).memSize());
    }

    @Test
    void readsFromPath(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("prog.elf");
        Files.write(path, sample().build());
        assertEquals(Optional.of(DATA + 0x40), ElfLoader.read(path).symbol("fromhost"));
    }

    @Test
    void readPrefixesErrorsWithThePath(@TempDir Path dir) throws IOException {
        Path path = dir.resolve("junk.bin");
        Files.writeString(path, "#!/bin/sh\n");
        ElfFormatException e = assertThrows(ElfFormatException.class, () -> ElfLoader.read(path));
        assertEquals(path + ": not an ELF file (bad magic)", e.getMessage());
    }

    @Test
    void readRejectsFilesOverOneGibWithoutReadingThem(@TempDir Path dir) throws IOException {
        Path path = dir.resolve("huge.elf");
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
            f.write(sample().build());
            f.setLength(ElfLoader.MAX_FILE_SIZE + 1); // sparse
        }
        ElfFormatException e = assertThrows(ElfFormatException.class, () -> ElfLoader.read(path));
        assertTrue(e.getMessage().endsWith("file is 1073741825 bytes, larger than the 1 GiB limit"), e.getMessage());
    }
}
