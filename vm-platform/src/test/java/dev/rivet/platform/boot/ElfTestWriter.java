package dev.rivet.platform.boot;

import static dev.rivet.platform.boot.ElfLoader.*;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Test-only writer of small ELF64 RISC-V executables (gABI layouts; see {@link ElfLoader}).
 *
 * <p>File layout: ELF header, program headers, segment data (8-aligned), then unless
 * {@link #withoutSections()}: {@code .strtab}, {@code .symtab}, {@code .shstrtab} and the section
 * header table last, so that every truncation cuts something the loader needs.
 * Sections: 0 null, 1 {@code .symtab} (sh_link 2), 2 {@code .strtab}, 3 {@code .shstrtab}.
 */
public final class ElfTestWriter {
    static final int PT_NOTE = 4;
    static final int PT_RISCV_ATTRIBUTES = 0x70000003;
    public static final int STB_GLOBAL = 1;
    static final int STB_WEAK = 2;
    static final int STT_NOTYPE = 0;
    public static final int STT_OBJECT = 1;
    public static final int STT_FUNC = 2;
    static final int SHN_ABS = 0xfff1;
    static final int SYMTAB_SECTION = 1;
    static final int STRTAB_SECTION = 2;

    record Segment(int type, int flags, long paddr, long vaddr, byte[] data, long memsz) {}

    record Symbol(String name, long value, int bind, int type, int shndx) {}

    public static final long TEXT = 0x8000_0000L;
    public static final long DATA = 0x8000_1000L;
    static final long LMA = 0x8001_0000L;
    static final long HIGH_VMA = 0xffff_ffff_8001_0000L;

    /**
     * The standard fixture: text, data+bss, a non-load segment, an empty PT_LOAD, a segment whose
     * load address differs from its link address, and symbols of every kind the loader filters.
     */
    public static ElfTestWriter sample() {
        return new ElfTestWriter()
                .entry(TEXT)
                .load(ElfSegment.PF_R | ElfSegment.PF_X, TEXT, TEXT, pattern(0x100, 1), 0x100)
                .load(ElfSegment.PF_R | ElfSegment.PF_W, DATA, DATA, pattern(0x48, 2), 0x1000)
                .segment(PT_RISCV_ATTRIBUTES, ElfSegment.PF_R, 0, 0, pattern(0x10, 3), 0x10)
                .load(ElfSegment.PF_R, 0x9000_0000L, 0x9000_0000L, new byte[0], 0)
                .load(ElfSegment.PF_R, LMA, HIGH_VMA, pattern(8, 4), 8)
                .symbol("_start", TEXT, STB_GLOBAL, STT_FUNC)
                .symbol("tohost", DATA, STB_GLOBAL, STT_OBJECT)
                .symbol("fromhost", DATA + 0x40, STB_GLOBAL, STT_OBJECT)
                .symbol("counter", DATA + 8, STB_LOCAL, STT_OBJECT)
                .symbol("helper", 0x1111, STB_LOCAL, STT_FUNC)
                .symbol("helper", 0x2222, STB_WEAK, STT_FUNC)
                .symbol("extern_fn", 0, STB_GLOBAL, STT_FUNC, SHN_UNDEF)
                .symbol("start.S", 0, STB_LOCAL, STT_FILE)
                .symbol(".text", TEXT, STB_LOCAL, STT_SECTION);
    }

    public static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed * 7 + 1);
        }
        return b;
    }

    private int elfType = ET_EXEC;
    private long entry;
    private boolean sections = true;
    private final List<Segment> segments = new ArrayList<>();
    private final List<Symbol> symbols = new ArrayList<>();

    public ElfTestWriter entry(long entry) {
        this.entry = entry;
        return this;
    }

    public ElfTestWriter type(int elfType) {
        this.elfType = elfType;
        return this;
    }

    public ElfTestWriter withoutSections() {
        this.sections = false;
        return this;
    }

    public ElfTestWriter load(int flags, long paddr, long vaddr, byte[] data, long memsz) {
        return segment(PT_LOAD, flags, paddr, vaddr, data, memsz);
    }

    public ElfTestWriter segment(int type, int flags, long paddr, long vaddr, byte[] data, long memsz) {
        segments.add(new Segment(type, flags, paddr, vaddr, data, memsz));
        return this;
    }

    public ElfTestWriter symbol(String name, long value, int bind, int type, int shndx) {
        symbols.add(new Symbol(name, value, bind, type, shndx));
        return this;
    }

    public ElfTestWriter symbol(String name, long value, int bind, int type) {
        return symbol(name, value, bind, type, SHN_ABS);
    }

    public byte[] build() {
        Out out = new Out();
        out.skip(EHDR_SIZE);
        long phoff = out.pos();
        out.skip(segments.size() * PHDR_SIZE);
        long[] dataOffsets = new long[segments.size()];
        for (int i = 0; i < segments.size(); i++) {
            out.align(8);
            dataOffsets[i] = out.pos();
            out.bytes(segments.get(i).data());
        }

        long shoff = 0;
        if (sections) {
            // gABI: local symbols precede global ones; entry 0 is the null symbol.
            List<Symbol> ordered = new ArrayList<>(symbols);
            ordered.sort(Comparator.comparingInt(s -> s.bind() == STB_LOCAL ? 0 : 1));
            ByteArrayOutputStream strtab = new ByteArrayOutputStream();
            strtab.write(0);
            int[] nameOffsets = new int[ordered.size()];
            for (int i = 0; i < ordered.size(); i++) {
                nameOffsets[i] = strtab.size();
                strtab.writeBytes(ordered.get(i).name().getBytes(StandardCharsets.UTF_8));
                strtab.write(0);
            }
            long strtabOff = out.pos();
            out.bytes(strtab.toByteArray());

            out.align(8);
            long symtabOff = out.pos();
            out.skip(SYM_SIZE); // null symbol
            int firstGlobal = 1;
            for (int i = 0; i < ordered.size(); i++) {
                Symbol s = ordered.get(i);
                if (s.bind() == STB_LOCAL) {
                    firstGlobal = i + 2;
                }
                out.u32(nameOffsets[i]).u8(s.bind() << 4 | s.type()).u8(0).u16(s.shndx()).u64(s.value()).u64(0);
            }
            long symtabSize = out.pos() - symtabOff;

            byte[] shstrtab = "\0.symtab\0.strtab\0.shstrtab\0".getBytes(StandardCharsets.US_ASCII);
            long shstrtabOff = out.pos();
            out.bytes(shstrtab);

            out.align(8);
            shoff = out.pos();
            out.skip(SHDR_SIZE); // SHN_UNDEF
            out.shdr(1, SHT_SYMTAB, symtabOff, symtabSize, STRTAB_SECTION, firstGlobal, 8, SYM_SIZE);
            out.shdr(9, SHT_STRTAB, strtabOff, strtab.size(), 0, 0, 1, 0);
            out.shdr(17, SHT_STRTAB, shstrtabOff, shstrtab.length, 0, 0, 1, 0);
        }

        ByteBuffer b = ByteBuffer.wrap(out.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, ELFMAG).put(EI_CLASS, (byte) ELFCLASS64).put(EI_DATA, (byte) ELFDATA2LSB)
                .put(EI_VERSION, (byte) EV_CURRENT);
        b.putShort(E_TYPE, (short) elfType).putShort(E_MACHINE, (short) EM_RISCV).putInt(E_VERSION, EV_CURRENT)
                .putLong(E_ENTRY, entry).putLong(E_PHOFF, phoff).putLong(E_SHOFF, shoff)
                .putInt(48, 0x5 /* e_flags: RVC | double-float ABI */).putShort(E_EHSIZE, (short) EHDR_SIZE)
                .putShort(E_PHENTSIZE, (short) PHDR_SIZE).putShort(E_PHNUM, (short) segments.size())
                .putShort(E_SHENTSIZE, (short) SHDR_SIZE).putShort(E_SHNUM, (short) (sections ? 4 : 0))
                .putShort(62, (short) (sections ? 3 : 0)); // e_shstrndx
        for (int i = 0; i < segments.size(); i++) {
            Segment s = segments.get(i);
            int ph = (int) phoff + i * PHDR_SIZE;
            b.putInt(ph + P_TYPE, s.type()).putInt(ph + P_FLAGS, s.flags()).putLong(ph + P_OFFSET, dataOffsets[i])
                    .putLong(ph + P_VADDR, s.vaddr()).putLong(ph + P_PADDR, s.paddr())
                    .putLong(ph + P_FILESZ, s.data().length).putLong(ph + P_MEMSZ, s.memsz())
                    .putLong(ph + 48, 8); // p_align
        }
        return b.array();
    }

    /** Little-endian append buffer. */
    private static final class Out {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        long pos() {
            return out.size();
        }

        Out skip(int n) {
            out.writeBytes(new byte[n]);
            return this;
        }

        Out align(int a) {
            return skip((int) (-pos() & (a - 1)));
        }

        Out bytes(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        Out u8(int v) {
            out.write(v);
            return this;
        }

        Out u16(int v) {
            return u8(v).u8(v >>> 8);
        }

        Out u32(int v) {
            return u16(v).u16(v >>> 16);
        }

        Out u64(long v) {
            return u32((int) v).u32((int) (v >>> 32));
        }

        void shdr(int name, int type, long offset, long size, int link, int info, long align, long entsize) {
            u32(name).u32(type).u64(0).u64(0).u64(offset).u64(size).u32(link).u32(info).u64(align).u64(entsize);
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }
}
