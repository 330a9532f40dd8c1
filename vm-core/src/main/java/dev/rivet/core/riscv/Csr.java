package dev.rivet.core.riscv;

/**
 * CSR numbers (RISC-V Privileged Architecture, Chapter 2 "Control and Status Registers",
 * tables 2.1–2.6) and field masks used by the hart.
 */
public final class Csr {
    private Csr() {
    }

    // Unprivileged floating-point CSRs (unprivileged spec, F extension, "fcsr").
    public static final int FFLAGS = 0x001, FRM = 0x002, FCSR = 0x003;
    // Unprivileged counters (Zicntr / Zihpm).
    public static final int CYCLE = 0xC00, TIME = 0xC01, INSTRET = 0xC02;
    public static final int HPMCOUNTER3 = 0xC03, HPMCOUNTER31 = 0xC1F;
    // Supervisor-level CSRs (Privileged Architecture, chapter "Supervisor-Level ISA"; Sstc).
    public static final int SSTATUS = 0x100, SIE = 0x104, STVEC = 0x105, SCOUNTEREN = 0x106, SENVCFG = 0x10A,
            SSCRATCH = 0x140, SEPC = 0x141, SCAUSE = 0x142, STVAL = 0x143, SIP = 0x144, STIMECMP = 0x14D,
            SATP = 0x180;
    // Machine information.
    public static final int MVENDORID = 0xF11, MARCHID = 0xF12, MIMPID = 0xF13, MHARTID = 0xF14, MCONFIGPTR = 0xF15;
    // Machine trap setup and handling.
    public static final int MSTATUS = 0x300, MISA = 0x301, MEDELEG = 0x302, MIDELEG = 0x303, MIE = 0x304,
            MTVEC = 0x305, MCOUNTEREN = 0x306, MENVCFG = 0x30A, MCOUNTINHIBIT = 0x320,
            MSCRATCH = 0x340, MEPC = 0x341, MCAUSE = 0x342, MTVAL = 0x343, MIP = 0x344;
    public static final int MHPMEVENT3 = 0x323, MHPMEVENT31 = 0x33F;
    public static final int MSECCFG = 0x747;
    // Physical memory protection.
    public static final int PMPCFG0 = 0x3A0, PMPCFG15 = 0x3AF, PMPADDR0 = 0x3B0, PMPADDR63 = 0x3EF;
    // Machine counters.
    public static final int MCYCLE = 0xB00, MINSTRET = 0xB02, MHPMCOUNTER3 = 0xB03, MHPMCOUNTER31 = 0xB1F;
    // Debug/trace trigger CSRs that firmware probes.
    public static final int TSELECT = 0x7A0, TDATA1 = 0x7A1, TDATA2 = 0x7A2, TDATA3 = 0x7A3;

    // mstatus fields.
    public static final long MSTATUS_SIE = 1L << 1, MSTATUS_MIE = 1L << 3, MSTATUS_SPIE = 1L << 5,
            MSTATUS_MPIE = 1L << 7, MSTATUS_SPP = 1L << 8;
    public static final int MSTATUS_MPP_SHIFT = 11;
    public static final long MSTATUS_MPP = 3L << MSTATUS_MPP_SHIFT;
    public static final int MSTATUS_FS_SHIFT = 13;
    public static final long MSTATUS_FS = 3L << MSTATUS_FS_SHIFT;
    public static final long MSTATUS_MPRV = 1L << 17, MSTATUS_SUM = 1L << 18, MSTATUS_MXR = 1L << 19,
            MSTATUS_TVM = 1L << 20, MSTATUS_TW = 1L << 21, MSTATUS_TSR = 1L << 22;
    public static final long MSTATUS_SD = 1L << 63;
    /** UXL (bits 33:32) and SXL (35:34): both read-only 2 (XLEN 64). */
    public static final long MSTATUS_UXL = 3L << 32, MSTATUS_SXL = 3L << 34;
    public static final long MSTATUS_UXL_SXL_64 = (2L << 32) | (2L << 34);
    public static final long MSTATUS_XS = 3L << 15;
    /** The fields of mstatus that sstatus shows (Privileged 4.1.1; no UBE, VS or XS state here). */
    public static final long SSTATUS_MASK = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_XS
            | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_UXL | MSTATUS_SD;

    // mip / mie bits (Privileged 3.1.9).
    public static final long MIP_SSIP = 1L << 1, MIP_MSIP = 1L << 3, MIP_STIP = 1L << 5, MIP_MTIP = 1L << 7,
            MIP_SEIP = 1L << 9, MIP_MEIP = 1L << 11;
    /** The supervisor-level interrupt bits: the only ones mideleg can delegate. */
    public static final long S_INTERRUPTS = MIP_SSIP | MIP_STIP | MIP_SEIP;
    public static final long ALL_INTERRUPTS = S_INTERRUPTS | MIP_MSIP | MIP_MTIP | MIP_MEIP;

    // menvcfg / senvcfg.
    public static final long ENVCFG_FIOM = 1L, MENVCFG_STCE = 1L << 63;

    // satp (Privileged 4.1.11, RV64 layout).
    public static final int SATP_MODE_SHIFT = 60;
    public static final long SATP_PPN = (1L << 44) - 1, SATP_ASID = 0xFFFFL << 44;
    public static final int SATP_BARE = 0, SATP_SV39 = 8, SATP_SV48 = 9, SATP_SV57 = 10;

    /** misa: MXL=2 (XLEN 64) and one bit per extension letter. */
    public static long misaBit(char ext) {
        return 1L << (ext - 'A');
    }
}
