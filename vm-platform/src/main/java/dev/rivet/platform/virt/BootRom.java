package dev.rivet.platform.virt;

import dev.rivet.ir.riscv.RiscvAssembler;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static dev.rivet.ir.riscv.RiscvAssembler.*;

/**
 * The reset vector QEMU's virt board puts in its boot ROM at 0x1000 (hw/riscv/boot.c,
 * riscv_setup_rom_reset_vec), so that firmware built for QEMU (OpenSBI {@code fw_dynamic})
 * starts exactly as it would there: a0 = mhartid, a1 = FDT address, a2 = address of
 * {@code struct fw_dynamic_info} (OpenSBI include/sbi/fw_dynamic.h), then jump to the
 * firmware.
 */
public final class BootRom {
    private BootRom() {
    }

    /** fw_dynamic_info magic ("OSBI") and version 2 (adds boot_hart). */
    static final long FW_DYNAMIC_MAGIC = 0x4942534F, FW_DYNAMIC_VERSION = 2;
    /** Next-stage privilege: 1 = S-mode. */
    static final long NEXT_MODE_S = 1;

    static final int T0 = 5, A0 = 10, A1 = 11, A2 = 12;
    static final int MHARTID = 0xF14;

    /**
     * The ROM image: six instructions, the firmware address and FDT address as data words,
     * then fw_dynamic_info.
     */
    public static byte[] resetVector(long firmware, long fdt, long kernel, int bootHart) {
        RiscvAssembler a = new RiscvAssembler().emit(
                auipc(T0, 0),            // t0 = 0x1000
                addi(A2, T0, 40),        // a2 = &fw_dynamic_info (0x1028)
                csrrs(A0, MHARTID, 0),   // a0 = mhartid
                ld(A1, T0, 32),          // a1 = FDT address (0x1020)
                ld(T0, T0, 24),          // t0 = firmware entry (0x1018)
                jalr(0, T0, 0));
        ByteBuffer b = ByteBuffer.allocate(24 + 16 + 48).order(ByteOrder.LITTLE_ENDIAN);
        b.put(a.assemble());
        b.putLong(firmware).putLong(fdt);
        b.putLong(FW_DYNAMIC_MAGIC).putLong(FW_DYNAMIC_VERSION).putLong(kernel).putLong(NEXT_MODE_S)
                .putLong(0).putLong(bootHart);
        return b.array();
    }
}
