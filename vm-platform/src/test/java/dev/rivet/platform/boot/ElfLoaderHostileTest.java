package dev.rivet.platform.boot;

import static dev.rivet.platform.boot.ElfLoader.*;
import static dev.rivet.platform.boot.ElfTestWriter.*;
import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Malformed and hostile inputs: the loader may only ever throw {@link ElfFormatException}. */
class ElfLoaderHostileTest {
    private static final byte[] SAMPLE = sample().build();

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static int phdr(byte[] f, int index) {
        return (int) le(f).getLong(E_PHOFF) + index * PHDR_SIZE;
    }

    private static int shdr(byte[] f, int index) {
        return (int) le(f).getLong(E_SHOFF) + index * SHDR_SIZE;
    }

    /** Offset of symbol {@code index} (0 is the null symbol; the sample's locals come first). */
    private static int sym(byte[] f, int index) {
        return (int) le(f).getLong(shdr(f, SYMTAB_SECTION) + SH_OFFSET) + index * SYM_SIZE;
    }

    /** Parses, expecting rejection with a one-line message; returns the message. */
    private static String reject(byte[] file) {
        ElfFormatException e = assertThrows(ElfFormatException.class, () -> ElfLoader.parse(file));
        assertOneLine(e);
        return e.getMessage();
    }

    private static void assertOneLine(ElfFormatException e) {
        String m = e.getMessage();
        assertNotNull(m);
        assertFalse(m.isBlank(), "blank message");
        assertFalse(m.contains("\n") || m.contains("\r"), () -> "multi-line message: " + m);
    }

    @Test
    void sampleIsValid() throws ElfFormatException {
        assertEquals(3, ElfLoader.parse(SAMPLE).segments().size());
    }

    @Test
    void everyTruncationIsRejected() {
        for (int len = 0; len < SAMPLE.length; len++) {
            byte[] cut = Arrays.copyOf(SAMPLE, len);
            int n = len;
            ElfFormatException e = assertThrows(ElfFormatException.class, () -> ElfLoader.parse(cut),
                    () -> "truncated to " + n + " of " + SAMPLE.length + " bytes was accepted");
            assertOneLine(e);
        }
    }

    @Test
    void rejectsNonElf() {
        assertEquals("not an ELF file (bad magic)", reject(new byte[0]));
        assertEquals("not an ELF file (bad magic)", reject("\u007fEL".getBytes()));
        assertEquals("not an ELF file (bad magic)", reject("MZ this is not ELF at all, it is a PE or a text file".getBytes()));
        assertEquals("truncated ELF header: file is 20 bytes, need 64", reject(Arrays.copyOf(SAMPLE, 20)));
    }

    @Test
    void rejectsHostExecutable() throws IOException {
        Path hostBinary = Path.of("/bin/true");
        assertTrue(Files.isReadable(hostBinary), "/bin/true is expected on any Linux build host");
        ElfFormatException e = assertThrows(ElfFormatException.class, () -> ElfLoader.read(hostBinary));
        assertOneLine(e);
        assertTrue(e.getMessage().contains("expected RISC-V (243)"), e.getMessage());
        if ("amd64".equals(System.getProperty("os.arch"))) {
            assertTrue(e.getMessage().endsWith("ELF machine is x86-64 (62), expected RISC-V (243)"), e.getMessage());
        }
    }

    static Stream<Arguments> malformed() {
        List<Arguments> cases = new ArrayList<>();
        Object[][] table = {
            {"32-bit class", (Consumer<byte[]>) f -> f[EI_CLASS] = ELFCLASS32,
                "ELF class is ELFCLASS32 (32-bit), expected ELFCLASS64"},
            {"bogus class", (Consumer<byte[]>) f -> f[EI_CLASS] = 7, "invalid ELF class 7, expected ELFCLASS64 (2)"},
            {"big-endian", (Consumer<byte[]>) f -> f[EI_DATA] = ELFDATA2MSB,
                "ELF data encoding is big-endian (ELFDATA2MSB), expected little-endian"},
            {"ident version", (Consumer<byte[]>) f -> f[EI_VERSION] = 2, "ELF ident version is 2, expected EV_CURRENT (1)"},
            {"x86-64", (Consumer<byte[]>) f -> le(f).putShort(E_MACHINE, (short) 62),
                "ELF machine is x86-64 (62), expected RISC-V (243)"},
            {"unknown machine", (Consumer<byte[]>) f -> le(f).putShort(E_MACHINE, (short) 0xbeef),
                "ELF machine is 48879, expected RISC-V (243)"},
            {"relocatable", (Consumer<byte[]>) f -> le(f).putShort(E_TYPE, (short) ET_REL),
                "ELF type is a relocatable object (ET_REL), expected an executable (ET_EXEC or ET_DYN)"},
            {"e_version", (Consumer<byte[]>) f -> le(f).putInt(E_VERSION, -1), "ELF version is 4294967295, expected EV_CURRENT (1)"},
            {"e_ehsize", (Consumer<byte[]>) f -> le(f).putShort(E_EHSIZE, (short) 52), "e_ehsize is 52"},
            {"PN_XNUM", (Consumer<byte[]>) f -> le(f).putShort(E_PHNUM, (short) PN_XNUM),
                "e_phnum is PN_XNUM: extended program header numbering is not supported"},
            {"huge phnum", (Consumer<byte[]>) f -> le(f).putShort(E_PHNUM, (short) 0xfffe),
                "program header table extends past end of file"},
            {"no phdrs", (Consumer<byte[]>) f -> le(f).putShort(E_PHNUM, (short) 0), "no program headers"},
            {"small phentsize", (Consumer<byte[]>) f -> le(f).putShort(E_PHENTSIZE, (short) 32),
                "e_phentsize is 32, expected at least 56"},
            {"huge phentsize", (Consumer<byte[]>) f -> le(f).putShort(E_PHENTSIZE, (short) 0xffff),
                "program header table extends past end of file"},
            {"phoff near Long.MAX", (Consumer<byte[]>) f -> le(f).putLong(E_PHOFF, Long.MAX_VALUE - 8),
                "program header table extends past end of file (offset 0x7ffffffffffffff7"},
            {"phoff -1", (Consumer<byte[]>) f -> le(f).putLong(E_PHOFF, -1), "program header table extends past end of file"},
            {"segment offset near Long.MAX", (Consumer<byte[]>) f -> le(f).putLong(phdr(f, 0) + P_OFFSET, Long.MAX_VALUE - 0x10),
                "program header 0 extends past end of file"},
            {"segment offset+size wraps", (Consumer<byte[]>) f -> le(f).putLong(phdr(f, 1) + P_OFFSET, -0x10),
                "program header 1 extends past end of file"},
            {"filesz past end", (Consumer<byte[]>) f -> le(f).putLong(phdr(f, 1) + P_FILESZ, 0x1000),
                "program header 1 extends past end of file"},
            {"filesz > memsz", (Consumer<byte[]>) f -> le(f).putLong(phdr(f, 0) + P_MEMSZ, 0x10),
                "program header 0: p_filesz 0x100 exceeds p_memsz 0x10"},
            {"filesz and memsz Long.MAX", (Consumer<byte[]>) f -> le(f).putLong(phdr(f, 0) + P_FILESZ, Long.MAX_VALUE)
                    .putLong(phdr(f, 0) + P_MEMSZ, Long.MAX_VALUE),
                "program header 0: p_memsz 0x7fffffffffffffff exceeds the 16 GiB limit"},
            {"memsz over 16 GiB", (Consumer<byte[]>) f -> le(f).putLong(phdr(f, 1) + P_MEMSZ, (16L << 30) + 1),
                "program header 1: p_memsz 0x400000001 exceeds the 16 GiB limit"},
            {"paddr wraps", (Consumer<byte[]>) f -> le(f).putLong(phdr(f, 1) + P_PADDR, -0x800),
                "program header 1: physical range 0xfffffffffffff800+0x1000 wraps past the end of the address space"},
            {"vaddr wraps", (Consumer<byte[]>) f -> le(f).putLong(phdr(f, 1) + P_VADDR, -1),
                "program header 1: virtual range 0xffffffffffffffff+0x1000 wraps"},
            {"overlap", (Consumer<byte[]>) f -> le(f).putLong(phdr(f, 4) + P_PADDR, DATA + 0xff8),
                "program headers 1 and 4 overlap in physical memory (0x80001000+0x1000 and 0x80001ff8+0x8)"},
            {"no PT_LOAD", (Consumer<byte[]>) f -> {
                for (int i = 0; i < 5; i++) {
                    le(f).putInt(phdr(f, i) + P_TYPE, PT_NOTE);
                }
            }, "no loadable (PT_LOAD) segments"},
            {"shoff near Long.MAX", (Consumer<byte[]>) f -> le(f).putLong(E_SHOFF, Long.MAX_VALUE),
                "section header table extends past end of file"},
            {"huge shnum", (Consumer<byte[]>) f -> le(f).putShort(E_SHNUM, (short) 0xffff),
                "section header table extends past end of file"},
            {"shnum 0 with shoff", (Consumer<byte[]>) f -> le(f).putShort(E_SHNUM, (short) 0),
                "e_shnum is 0 with e_shoff set: extended section numbering is not supported"},
            {"shoff 0 with shnum", (Consumer<byte[]>) f -> le(f).putLong(E_SHOFF, 0),
                "e_shnum is 4 but there is no section header table (e_shoff is 0)"},
            {"small shentsize", (Consumer<byte[]>) f -> le(f).putShort(E_SHENTSIZE, (short) 40),
                "e_shentsize is 40, expected at least 64"},
            {"symtab offset past end", (Consumer<byte[]>) f -> le(f).putLong(shdr(f, SYMTAB_SECTION) + SH_OFFSET, Long.MIN_VALUE),
                "section 1 (symbol table) extends past end of file (offset 0x8000000000000000"},
            {"symtab size past end", (Consumer<byte[]>) f -> le(f).putLong(shdr(f, SYMTAB_SECTION) + SH_SIZE, -SYM_SIZE),
                "section 1 (symbol table) extends past end of file"},
            {"symtab entsize 0", (Consumer<byte[]>) f -> le(f).putLong(shdr(f, SYMTAB_SECTION) + SH_ENTSIZE, 0),
                "section 1 (symbol table): sh_entsize 0x0 is not a valid symbol entry size"},
            {"symtab entsize huge", (Consumer<byte[]>) f -> le(f).putLong(shdr(f, SYMTAB_SECTION) + SH_ENTSIZE, -SYM_SIZE),
                "sh_entsize 0xffffffffffffffe8 is not a valid symbol entry size"},
            {"symtab size not a multiple", (Consumer<byte[]>) f -> le(f).putLong(shdr(f, SYMTAB_SECTION) + SH_SIZE, SYM_SIZE * 3 + 1),
                "section 1 (symbol table): size 0x49 is not a multiple of sh_entsize 24"},
            {"sh_link out of range", (Consumer<byte[]>) f -> le(f).putInt(shdr(f, SYMTAB_SECTION) + SH_LINK, -1),
                "section 1 (symbol table): sh_link 4294967295 is out of range (4 sections)"},
            {"sh_link not strtab", (Consumer<byte[]>) f -> le(f).putInt(shdr(f, SYMTAB_SECTION) + SH_LINK, 0),
                "section 1 (symbol table): sh_link 0 is not a string table"},
            {"strtab past end", (Consumer<byte[]>) f -> le(f).putLong(shdr(f, STRTAB_SECTION) + SH_SIZE, 0x7fff_ffff_ffffL),
                "section 2 (string table) extends past end of file"},
            {"name offset past strtab", (Consumer<byte[]>) f -> le(f).putInt(sym(f, 1) + ST_NAME, 0x10000),
                "symbol 1 in section 1 (symbol table): name offset 0x10000 is past the end of the string table"},
            {"unterminated strtab", (Consumer<byte[]>) f -> {
                ByteBuffer b = le(f);
                int strtab = shdr(f, STRTAB_SECTION);
                b.putLong(strtab + SH_SIZE, b.getLong(strtab + SH_SIZE) - 1); // drop the final NUL
            }, "name is not NUL-terminated within the string table"},
        };
        for (Object[] row : table) {
            cases.add(Arguments.of(row));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void rejectsMalformedField(String name, Consumer<byte[]> corrupt, String expected) {
        byte[] f = SAMPLE.clone();
        corrupt.accept(f);
        String message = reject(f);
        assertTrue(message.contains(expected), () -> "expected \"" + expected + "\" in \"" + message + "\"");
    }

    // ---- random mutation ----------------------------------------------------------------

    private static final int MUTATIONS = 20_000;
    private static final long[] INTERESTING = {
        0, 1, 2, 7, 8, 24, 56, 64, 0xff, 0xffff, 0x7fff_ffffL, 0x8000_0000L, 0xffff_ffffL, 1L << 30,
        16L << 30, (16L << 30) + 1, Long.MAX_VALUE, Long.MIN_VALUE, -1, -2, -8, -0x1000,
    };

    @Test
    void randomMutationsOnlyEverRaiseElfFormatException() {
        long seed = Long.getLong("rivet.seed", new SplittableRandom().nextLong());
        SplittableRandom random = new SplittableRandom(seed);
        byte[][] bases = {SAMPLE, sample().withoutSections().build()};
        int accepted = 0;
        for (int i = 0; i < MUTATIONS; i++) {
            byte[] base = bases[random.nextInt(bases.length)];
            byte[] f = mutate(base, random);
            try {
                ElfImage image = ElfLoader.parse(f);
                accepted++;
                for (ElfSegment s : image.segments()) {
                    assertTrue(Long.compareUnsigned(s.data().length, s.memSize()) <= 0);
                }
            } catch (ElfFormatException e) {
                String m = e.getMessage();
                if (m == null || m.isBlank() || m.contains("\n")) {
                    fail("bad message \"" + m + "\" at mutation " + i + "; rerun with -Drivet.seed=" + seed);
                }
            } catch (Throwable t) {
                throw new AssertionError("mutation " + i + " threw " + t + "; rerun with -Drivet.seed=" + seed, t);
            }
        }
        System.out.printf("ElfLoader fuzz: seed=%d, %d of %d mutants accepted%n", seed, accepted, MUTATIONS);
    }

    /** Applies 1-4 edits: bit flips, random bytes, interesting values on field boundaries, truncation. */
    private static byte[] mutate(byte[] base, SplittableRandom random) {
        byte[] f = base.clone();
        int edits = 1 + random.nextInt(4);
        for (int e = 0; e < edits; e++) {
            int choice = random.nextInt(10);
            if (choice < 3) {
                int at = random.nextInt(f.length);
                f[at] ^= (byte) (1 << random.nextInt(8));
            } else if (choice < 5) {
                f[random.nextInt(f.length)] = (byte) random.nextInt(256);
            } else if (choice < 9) {
                // Most damage is done in structure fields: bias towards the header and the tables.
                int at = structureOffset(base, random) & ~3;
                long value = INTERESTING[random.nextInt(INTERESTING.length)]
                        + (random.nextInt(4) == 0 ? random.nextInt(-64, 65) : 0);
                int width = random.nextBoolean() ? 8 : 4;
                if (at + width <= f.length) {
                    if (width == 8) {
                        le(f).putLong(at & ~7, value);
                    } else {
                        le(f).putInt(at, (int) value);
                    }
                }
            } else {
                f = Arrays.copyOf(f, random.nextInt(f.length + 1));
                if (f.length == 0) {
                    return f;
                }
            }
        }
        return f;
    }

    private static int structureOffset(byte[] base, SplittableRandom random) {
        ByteBuffer b = le(base);
        int phoff = (int) b.getLong(E_PHOFF);
        int shoff = (int) b.getLong(E_SHOFF);
        return switch (shoff == 0 ? random.nextInt(2) : random.nextInt(4)) {
            case 0 -> random.nextInt(EHDR_SIZE);
            case 1 -> phoff + random.nextInt(b.getShort(E_PHNUM) * PHDR_SIZE);
            case 2 -> shoff + random.nextInt(b.getShort(E_SHNUM) * SHDR_SIZE);
            default -> {
                int symtab = shoff + SYMTAB_SECTION * SHDR_SIZE;
                yield (int) b.getLong(symtab + SH_OFFSET) + random.nextInt((int) b.getLong(symtab + SH_SIZE));
            }
        };
    }
}
