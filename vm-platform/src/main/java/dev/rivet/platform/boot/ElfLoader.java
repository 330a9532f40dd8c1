package dev.rivet.platform.boot;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses bare-metal RV64 ELF executables into an {@link ElfImage}.
 *
 * <p>Layouts and constants follow the System V ABI generic ABI (gABI), chapter 4 "Object Files"
 * (ELF header, sections, string and symbol tables) and chapter 5 "Program Loading" (program
 * headers), in the 64-bit form given by "ELF-64 Object File Format" (version 1.5); {@code EM_RISCV}
 * comes from the RISC-V ELF psABI. Accepted: {@code ELFCLASS64}, {@code ELFDATA2LSB},
 * {@code EV_CURRENT}, {@code EM_RISCV}, {@code ET_EXEC} or {@code ET_DYN} (the latter loaded at its
 * link addresses; no relocation is done).
 *
 * <p>The input is untrusted. Every offset, size, count and index is checked against the file with
 * unsigned, overflow-safe comparisons before it is used, and resource use is capped (file size,
 * segment count and size, symbol count, total symbol-name bytes), so malformed input yields an
 * {@link ElfFormatException} with a one-line message and never any other exception.
 */
public final class ElfLoader {
    // e_ident (gABI "ELF Identification")
    static final int EI_NIDENT = 16;
    static final int EI_CLASS = 4;
    static final int EI_DATA = 5;
    static final int EI_VERSION = 6;
    static final byte[] ELFMAG = {0x7f, 'E', 'L', 'F'};
    static final int ELFCLASS32 = 1;
    static final int ELFCLASS64 = 2;
    static final int ELFDATA2LSB = 1;
    static final int ELFDATA2MSB = 2;
    static final int EV_CURRENT = 1;

    // e_type, e_machine
    static final int ET_REL = 1;
    static final int ET_EXEC = 2;
    static final int ET_DYN = 3;
    static final int ET_CORE = 4;
    static final int EM_RISCV = 243;

    // Elf64_Ehdr field offsets
    static final int E_TYPE = 16;
    static final int E_MACHINE = 18;
    static final int E_VERSION = 20;
    static final int E_ENTRY = 24;
    static final int E_PHOFF = 32;
    static final int E_SHOFF = 40;
    static final int E_EHSIZE = 52;
    static final int E_PHENTSIZE = 54;
    static final int E_PHNUM = 56;
    static final int E_SHENTSIZE = 58;
    static final int E_SHNUM = 60;
    static final int EHDR_SIZE = 64;

    // Elf64_Phdr field offsets
    static final int P_TYPE = 0;
    static final int P_FLAGS = 4;
    static final int P_OFFSET = 8;
    static final int P_VADDR = 16;
    static final int P_PADDR = 24;
    static final int P_FILESZ = 32;
    static final int P_MEMSZ = 40;
    static final int PHDR_SIZE = 56;
    static final int PT_LOAD = 1;
    static final int PN_XNUM = 0xffff;

    // Elf64_Shdr field offsets
    static final int SH_TYPE = 4;
    static final int SH_OFFSET = 24;
    static final int SH_SIZE = 32;
    static final int SH_LINK = 40;
    static final int SH_ENTSIZE = 56;
    static final int SHDR_SIZE = 64;
    static final int SHT_SYMTAB = 2;
    static final int SHT_STRTAB = 3;

    // Elf64_Sym field offsets
    static final int ST_NAME = 0;
    static final int ST_INFO = 4;
    static final int ST_SHNDX = 6;
    static final int ST_VALUE = 8;
    static final int SYM_SIZE = 24;
    static final int STB_LOCAL = 0;
    static final int STT_SECTION = 3;
    static final int STT_FILE = 4;
    static final int SHN_UNDEF = 0;

    // Resource caps for untrusted input.
    static final long MAX_FILE_SIZE = 1L << 30;        // 1 GiB
    static final long MAX_SEGMENT_MEM_SIZE = 16L << 30; // 16 GiB per segment
    static final int MAX_LOAD_SEGMENTS = 1024;
    static final int MAX_SYMBOLS = 1 << 20;
    static final long MAX_SYMBOL_NAME_BYTES = 64L << 20; // 64 MiB of names scanned in total

    private final byte[] file;
    private final ByteBuffer buf;
    private int symbolCount;
    private long nameBytes;

    private ElfLoader(byte[] file) {
        this.file = file;
        this.buf = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Parses an in-memory ELF file. The returned segments do not share the array. */
    public static ElfImage parse(byte[] file) throws ElfFormatException {
        if (file.length > MAX_FILE_SIZE) {
            throw new ElfFormatException("file is " + file.length + " bytes, larger than the 1 GiB limit");
        }
        return new ElfLoader(file).parse();
    }

    /** Reads and parses an ELF file; files over 1 GiB are rejected without being read in full. */
    public static ElfImage read(Path path) throws ElfFormatException, IOException {
        long size = Files.size(path);
        if (size > MAX_FILE_SIZE) {
            throw new ElfFormatException(path + ": file is " + size + " bytes, larger than the 1 GiB limit");
        }
        byte[] data;
        try (InputStream in = Files.newInputStream(path)) {
            data = in.readNBytes((int) MAX_FILE_SIZE + 1); // the file may have grown since size()
        }
        try {
            return parse(data);
        } catch (ElfFormatException e) {
            throw new ElfFormatException(path + ": " + e.getMessage());
        }
    }

    private ElfImage parse() throws ElfFormatException {
        checkHeader();
        List<ElfSegment> segments = readSegments();
        Map<String, Long> symbols = readSymbols();
        return new ElfImage(buf.getLong(E_ENTRY), segments, symbols);
    }

    private void checkHeader() throws ElfFormatException {
        if (file.length < ELFMAG.length || !Arrays.equals(file, 0, ELFMAG.length, ELFMAG, 0, ELFMAG.length)) {
            throw new ElfFormatException("not an ELF file (bad magic)");
        }
        if (file.length < EHDR_SIZE) {
            throw new ElfFormatException("truncated ELF header: file is " + file.length + " bytes, need " + EHDR_SIZE);
        }
        int elfClass = file[EI_CLASS];
        if (elfClass != ELFCLASS64) {
            throw new ElfFormatException(elfClass == ELFCLASS32
                    ? "ELF class is ELFCLASS32 (32-bit), expected ELFCLASS64"
                    : "invalid ELF class " + elfClass + ", expected ELFCLASS64 (2)");
        }
        int data = file[EI_DATA];
        if (data != ELFDATA2LSB) {
            throw new ElfFormatException(data == ELFDATA2MSB
                    ? "ELF data encoding is big-endian (ELFDATA2MSB), expected little-endian"
                    : "invalid ELF data encoding " + data + ", expected ELFDATA2LSB (1)");
        }
        if (file[EI_VERSION] != EV_CURRENT) {
            throw new ElfFormatException("ELF ident version is " + file[EI_VERSION] + ", expected EV_CURRENT (1)");
        }
        int machine = u16(E_MACHINE);
        if (machine != EM_RISCV) {
            String name = machineName(machine);
            throw new ElfFormatException("ELF machine is " + (name == null ? machine : name + " (" + machine + ")")
                    + ", expected RISC-V (" + EM_RISCV + ")");
        }
        int type = u16(E_TYPE);
        if (type != ET_EXEC && type != ET_DYN) {
            String what = switch (type) {
                case ET_REL -> "a relocatable object (ET_REL)";
                case ET_CORE -> "a core dump (ET_CORE)";
                default -> String.valueOf(type);
            };
            throw new ElfFormatException("ELF type is " + what + ", expected an executable (ET_EXEC or ET_DYN)");
        }
        if (u32(E_VERSION) != EV_CURRENT) {
            throw new ElfFormatException("ELF version is " + u32(E_VERSION) + ", expected EV_CURRENT (1)");
        }
        int ehsize = u16(E_EHSIZE);
        if (ehsize < EHDR_SIZE || ehsize > file.length) {
            throw new ElfFormatException("ELF header size e_ehsize is " + ehsize + ", expected " + EHDR_SIZE
                    + " (file is " + file.length + " bytes)");
        }
    }

    private record Loaded(int index, ElfSegment segment) {}

    private List<ElfSegment> readSegments() throws ElfFormatException {
        int phnum = u16(E_PHNUM);
        int phentsize = u16(E_PHENTSIZE);
        if (phnum == PN_XNUM) {
            throw new ElfFormatException("e_phnum is PN_XNUM: extended program header numbering is not supported");
        }
        if (phnum == 0) {
            throw new ElfFormatException("no program headers (e_phnum is 0), nothing to load");
        }
        if (phentsize < PHDR_SIZE) {
            throw new ElfFormatException("e_phentsize is " + phentsize + ", expected at least " + PHDR_SIZE);
        }
        int table = checkRange(buf.getLong(E_PHOFF), (long) phnum * phentsize, "program header table");

        List<Loaded> loaded = new ArrayList<>();
        long totalData = 0;
        for (int i = 0; i < phnum; i++) {
            int ph = table + i * phentsize;
            if (buf.getInt(ph + P_TYPE) != PT_LOAD) {
                continue;
            }
            long offset = buf.getLong(ph + P_OFFSET);
            long vaddr = buf.getLong(ph + P_VADDR);
            long paddr = buf.getLong(ph + P_PADDR);
            long filesz = buf.getLong(ph + P_FILESZ);
            long memsz = buf.getLong(ph + P_MEMSZ);
            if (filesz == 0 && memsz == 0) {
                continue;
            }
            String what = "program header " + i;
            if (Long.compareUnsigned(filesz, memsz) > 0) {
                throw new ElfFormatException(what + ": p_filesz " + hex(filesz) + " exceeds p_memsz " + hex(memsz));
            }
            if (Long.compareUnsigned(memsz, MAX_SEGMENT_MEM_SIZE) > 0) {
                throw new ElfFormatException(what + ": p_memsz " + hex(memsz) + " exceeds the 16 GiB limit");
            }
            checkNoWrap(paddr, memsz, what + ": physical");
            checkNoWrap(vaddr, memsz, what + ": virtual");
            int start = checkRange(offset, filesz, what);
            if (loaded.size() == MAX_LOAD_SEGMENTS) {
                throw new ElfFormatException("more than " + MAX_LOAD_SEGMENTS + " loadable segments");
            }
            totalData += filesz; // each filesz <= file.length <= 1 GiB and at most 1024 terms: no overflow
            if (totalData > MAX_FILE_SIZE) {
                throw new ElfFormatException("loadable segments total more than 1 GiB of file data");
            }
            byte[] bytes = Arrays.copyOfRange(file, start, start + (int) filesz);
            loaded.add(new Loaded(i, new ElfSegment(paddr, vaddr, bytes, memsz, buf.getInt(ph + P_FLAGS))));
        }
        if (loaded.isEmpty()) {
            throw new ElfFormatException("no loadable (PT_LOAD) segments");
        }
        checkNoOverlap(loaded);
        return loaded.stream().map(Loaded::segment).toList();
    }

    /** Rejects PT_LOAD segments whose physical ranges intersect: the load result would depend on order. */
    private static void checkNoOverlap(List<Loaded> loaded) throws ElfFormatException {
        List<Loaded> sorted = new ArrayList<>(loaded);
        sorted.sort(Comparator.comparing(l -> l.segment().physAddr(), Long::compareUnsigned));
        for (int i = 1; i < sorted.size(); i++) {
            ElfSegment a = sorted.get(i - 1).segment();
            ElfSegment b = sorted.get(i).segment();
            if (Long.compareUnsigned(a.memSize(), b.physAddr() - a.physAddr()) > 0) {
                throw new ElfFormatException("program headers " + sorted.get(i - 1).index() + " and "
                        + sorted.get(i).index() + " overlap in physical memory (" + hex(a.physAddr()) + "+"
                        + hex(a.memSize()) + " and " + hex(b.physAddr()) + "+" + hex(b.memSize()) + ")");
            }
        }
    }

    private Map<String, Long> readSymbols() throws ElfFormatException {
        long shoff = buf.getLong(E_SHOFF);
        int shnum = u16(E_SHNUM);
        int shentsize = u16(E_SHENTSIZE);
        if (shoff == 0) {
            if (shnum != 0) {
                throw new ElfFormatException("e_shnum is " + shnum + " but there is no section header table (e_shoff is 0)");
            }
            return Map.of();
        }
        if (shnum == 0) {
            throw new ElfFormatException("e_shnum is 0 with e_shoff set: extended section numbering is not supported");
        }
        if (shentsize < SHDR_SIZE) {
            throw new ElfFormatException("e_shentsize is " + shentsize + ", expected at least " + SHDR_SIZE);
        }
        int table = checkRange(shoff, (long) shnum * shentsize, "section header table");

        Map<String, Long> globals = new HashMap<>();
        Map<String, Long> locals = new HashMap<>();
        for (int i = 0; i < shnum; i++) {
            int sh = table + i * shentsize;
            if (buf.getInt(sh + SH_TYPE) == SHT_SYMTAB) {
                readSymbolTable(i, sh, table, shnum, shentsize, globals, locals);
            }
        }
        locals.putAll(globals); // a global definition wins over a same-named local one
        return locals;
    }

    private void readSymbolTable(int index, int sh, int table, int shnum, int shentsize,
                                 Map<String, Long> globals, Map<String, Long> locals) throws ElfFormatException {
        String what = "section " + index + " (symbol table)";
        long size = buf.getLong(sh + SH_SIZE);
        long entsize = buf.getLong(sh + SH_ENTSIZE);
        int start = checkRange(buf.getLong(sh + SH_OFFSET), size, what);
        if (Long.compareUnsigned(entsize, SYM_SIZE) < 0 || Long.compareUnsigned(entsize, MAX_FILE_SIZE) > 0) {
            throw new ElfFormatException(what + ": sh_entsize " + hex(entsize) + " is not a valid symbol entry size");
        }
        if (size % entsize != 0) { // both now in [0, 1 GiB]: signed arithmetic is exact
            throw new ElfFormatException(what + ": size " + hex(size) + " is not a multiple of sh_entsize " + entsize);
        }
        long link = u32(sh + SH_LINK);
        if (link >= shnum) {
            throw new ElfFormatException(what + ": sh_link " + link + " is out of range (" + shnum + " sections)");
        }
        int strHeader = table + (int) link * shentsize;
        if (buf.getInt(strHeader + SH_TYPE) != SHT_STRTAB) {
            throw new ElfFormatException(what + ": sh_link " + link + " is not a string table");
        }
        long strSize = buf.getLong(strHeader + SH_SIZE);
        int strStart = checkRange(buf.getLong(strHeader + SH_OFFSET), strSize, "section " + link + " (string table)");

        int count = (int) (size / entsize);
        if (count > MAX_SYMBOLS - symbolCount) {
            throw new ElfFormatException("more than " + MAX_SYMBOLS + " symbols");
        }
        symbolCount += count;
        for (int j = 0; j < count; j++) {
            int sym = start + (int) (j * entsize);
            long nameOffset = u32(sym + ST_NAME);
            if (nameOffset == 0) {
                continue; // unnamed
            }
            String symWhat = "symbol " + j + " in " + what;
            if (nameOffset >= strSize) {
                throw new ElfFormatException(symWhat + ": name offset " + hex(nameOffset)
                        + " is past the end of the string table (size " + hex(strSize) + ")");
            }
            int nameStart = strStart + (int) nameOffset;
            int nameEnd = nameStart;
            int strEnd = strStart + (int) strSize;
            while (nameEnd < strEnd && file[nameEnd] != 0) {
                nameEnd++;
            }
            if (nameEnd == strEnd) {
                throw new ElfFormatException(symWhat + ": name is not NUL-terminated within the string table");
            }
            nameBytes += nameEnd - nameStart;
            if (nameBytes > MAX_SYMBOL_NAME_BYTES) {
                throw new ElfFormatException("symbol names total more than 64 MiB");
            }
            int info = file[sym + ST_INFO] & 0xff;
            int type = info & 0xf;
            if (u16(sym + ST_SHNDX) == SHN_UNDEF || type == STT_SECTION || type == STT_FILE) {
                continue; // not a defined address
            }
            String name = new String(file, nameStart, nameEnd - nameStart, StandardCharsets.UTF_8);
            long value = buf.getLong(sym + ST_VALUE);
            ((info >>> 4) == STB_LOCAL ? locals : globals).putIfAbsent(name, value);
        }
    }

    /**
     * Checks that {@code [offset, offset+size)} (both unsigned) lies within the file and returns
     * the offset as an int.
     */
    private int checkRange(long offset, long size, String what) throws ElfFormatException {
        if (Long.compareUnsigned(offset, file.length) > 0 || Long.compareUnsigned(size, file.length - offset) > 0) {
            throw new ElfFormatException(what + " extends past end of file (offset " + hex(offset) + ", size "
                    + hex(size) + ", file is " + file.length + " bytes)");
        }
        return (int) offset;
    }

    /** Rejects ranges whose last byte would lie beyond 2^64 - 1. */
    private static void checkNoWrap(long addr, long size, String what) throws ElfFormatException {
        if (size != 0 && Long.compareUnsigned(size - 1, ~addr) > 0) {
            throw new ElfFormatException(what + " range " + hex(addr) + "+" + hex(size)
                    + " wraps past the end of the address space");
        }
    }

    private int u16(int offset) {
        return Short.toUnsignedInt(buf.getShort(offset));
    }

    private long u32(int offset) {
        return Integer.toUnsignedLong(buf.getInt(offset));
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    private static String machineName(int machine) {
        return switch (machine) {
            case 3 -> "x86";
            case 8 -> "MIPS";
            case 20 -> "PowerPC";
            case 21 -> "PowerPC64";
            case 22 -> "S/390";
            case 40 -> "ARM";
            case 62 -> "x86-64";
            case 183 -> "AArch64";
            case 258 -> "LoongArch";
            default -> null;
        };
    }
}
