package dev.rivet.devices.pci;

import dev.rivet.core.fdt.Fdt;
import dev.rivet.core.irq.IrqLine;
import dev.rivet.devices.DeviceTrees;
import org.junit.jupiter.api.Test;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our {@code pci@30000000} node against the one QEMU's own {@code virt} board dumps
 * ({@code -M virt,dumpdtb=...}), both decompiled by dtc, with QEMU's PLIC phandle. Fails
 * (does not skip) when QEMU is missing.
 */
class PcieHostDeviceTreeTest {
    @Test
    void nodeMatchesQemuVirt() throws Exception {
        String qemu = DeviceTrees.qemuVirt();
        Matcher pm = Pattern.compile("plic@c000000 \\{\\s*phandle = <(0x[0-9a-f]+)>;").matcher(qemu);
        assertTrue(pm.find(), qemu);
        int plic = Integer.decode(pm.group(1));

        IrqLine[] lines = {IrqLine.NONE, IrqLine.NONE, IrqLine.NONE, IrqLine.NONE};
        PcieHost host = new PcieHost(PcieHost.Layout.QEMU_VIRT, lines, msg -> { });
        Fdt fdt = new Fdt();
        host.addTo(fdt.node("/soc"), plic, 32);

        assertEquals(DeviceTrees.node(qemu, "pci@30000000"), DeviceTrees.node(fdt, "pci@30000000"));
    }
}
