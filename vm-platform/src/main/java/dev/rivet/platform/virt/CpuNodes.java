package dev.rivet.platform.virt;

import dev.rivet.core.fdt.FdtNode;
import dev.rivet.core.riscv.Hart;

import java.util.List;

/**
 * The {@code /cpus} part of the device tree (Devicetree bindings: riscv/cpus.yaml,
 * riscv/extensions.yaml). The ISA description lists exactly what the hart implements, in
 * the canonical order: single letters, then Z extensions by category letter
 * (I, M, A, F, D, Q, L, C, B, …) and alphabetically within one, then S extensions.
 */
public final class CpuNodes {
    private CpuNodes() {
    }

    /** Extensions beyond the single letters, as implemented by {@link Hart}. */
    public static final List<String> MULTI_LETTER = List.of(
            "zicntr", "zicond", "zicsr", "zifencei", "zihintpause", "zihpm",
            "zba", "zbb", "zbs",
            "sstc", "svadu");

    /** The single-letter extensions in misa, in canonical order. */
    static String letters(Hart h) {
        StringBuilder sb = new StringBuilder();
        for (char c : "IMAFDQLCBKJTPVH".toCharArray()) {
            if ((h.misa & (1L << (c - 'A'))) != 0) {
                sb.append(Character.toLowerCase(c));
            }
        }
        return sb.toString();
    }

    /** The {@code riscv,isa} string, e.g. {@code rv64imafdc_zicntr_…_svadu}. */
    public static String isaString(Hart h) {
        return "rv64" + letters(h) + "_" + String.join("_", MULTI_LETTER);
    }

    /** Adds {@code /cpus} with one node per hart; returns the phandles of their interrupt controllers. */
    public static int[] addTo(FdtNode root, Hart[] harts, long timebaseHz) {
        FdtNode cpus = root.child("cpus").cells("#address-cells", 1).cells("#size-cells", 0)
                .cells("timebase-frequency", (int) timebaseHz);
        int[] intc = new int[harts.length];
        FdtNode map = cpus.child("cpu-map").child("cluster0");
        for (int i = 0; i < harts.length; i++) {
            Hart h = harts[i];
            String letters = letters(h);
            String[] ext = new String[letters.length() + MULTI_LETTER.size()];
            for (int k = 0; k < letters.length(); k++) {
                ext[k] = String.valueOf(letters.charAt(k));
            }
            for (int k = 0; k < MULTI_LETTER.size(); k++) {
                ext[letters.length() + k] = MULTI_LETTER.get(k);
            }
            FdtNode cpu = cpus.child("cpu@" + h.hartId).prop("device_type", "cpu").cells("reg", h.hartId)
                    .prop("status", "okay").prop("compatible", "riscv")
                    .prop("riscv,isa", isaString(h))
                    .prop("riscv,isa-base", "rv64i")
                    .prop("riscv,isa-extensions", ext)
                    .prop("mmu-type", "riscv,sv57");
            FdtNode ic = cpu.child("interrupt-controller").cells("#interrupt-cells", 1).flag("interrupt-controller")
                    .prop("compatible", "riscv,cpu-intc");
            intc[i] = ic.phandle();
            map.child("core" + i).cells("cpu", cpu.phandle());
        }
        return intc;
    }
}
