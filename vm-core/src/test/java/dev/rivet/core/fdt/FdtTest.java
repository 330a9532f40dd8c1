package dev.rivet.core.fdt;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FdtTest {
    static Fdt sample() {
        Fdt fdt = new Fdt();
        FdtNode root = fdt.root().cells("#address-cells", 2).cells("#size-cells", 2)
                .prop("compatible", "riscv-virtio").prop("model", "riscv-virtio,qemu");
        FdtNode intc = fdt.node("/cpus/cpu@0/interrupt-controller").prop("compatible", "riscv,cpu-intc")
                .cells("#interrupt-cells", 1).flag("interrupt-controller");
        int ph = intc.phandle();
        fdt.node("/soc/clint@2000000").prop("compatible", "sifive,clint0", "riscv,clint0")
                .reg(0x2000000L, 0x10000L).cells("interrupts-extended", ph, 3, ph, 7);
        fdt.node("/chosen").prop("bootargs", "console=ttyS0");
        assertEquals(ph, intc.phandle(), "phandle is stable");
        root.prop("model", "riscv-virtio,qemu");
        return fdt;
    }

    @Test
    void blobHasAValidHeader() {
        byte[] b = sample().toBlob();
        assertEquals(0xD00DFEED, u32(b, 0));
        assertEquals(b.length, u32(b, 4));
        assertEquals(17, u32(b, 20));
        assertEquals(0, b.length % 8);
    }

    /** The device tree compiler must read our blob back to the source we meant. */
    @Test
    void dtcDecompilesTheBlob(@TempDir Path dir) throws Exception {
        Path dtb = dir.resolve("t.dtb");
        Files.write(dtb, sample().toBlob());
        Process p = new ProcessBuilder("dtc", "-I", "dtb", "-O", "dts", dtb.toString()).redirectErrorStream(true).start();
        String dts = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), dts);
        // dtc prints a string list either as "a", "b" or as "a\0b" depending on its version.
        assertTrue(dts.contains("compatible = \"sifive,clint0\", \"riscv,clint0\";")
                || dts.contains("compatible = \"sifive,clint0\\0riscv,clint0\";"), dts);
        assertTrue(dts.contains("reg = <0x00 0x2000000 0x00 0x10000>;"), dts);
        assertTrue(dts.contains("interrupts-extended = <0x01 0x03 0x01 0x07>;"), dts);
        assertTrue(dts.contains("interrupt-controller;"), dts);
        assertTrue(dts.contains("bootargs = \"console=ttyS0\";"), dts);
        assertTrue(dts.contains("cpu@0 {"), dts);
    }

    static int u32(byte[] b, int off) {
        return ((b[off] & 0xFF) << 24) | ((b[off + 1] & 0xFF) << 16) | ((b[off + 2] & 0xFF) << 8) | (b[off + 3] & 0xFF);
    }
}
