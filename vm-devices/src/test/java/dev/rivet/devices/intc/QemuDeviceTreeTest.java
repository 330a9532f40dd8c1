package dev.rivet.devices.intc;

import dev.rivet.core.fdt.Fdt;
import dev.rivet.core.fdt.FdtNode;
import dev.rivet.core.irq.IrqLine;
import dev.rivet.core.time.ManualClock;
import dev.rivet.core.time.TimerQueue;
import dev.rivet.devices.DeviceTrees;
import dev.rivet.devices.timer.Clint;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Our CLINT and PLIC nodes against the ones QEMU's own {@code virt} board dumps
 * ({@code -M virt,dumpdtb=...}), both decompiled by dtc, with QEMU's phandle numbers.
 * Skipped where QEMU is missing.
 *
 * <p>One deliberate difference: QEMU up to 7.2 prints {@code riscv,ndev} as the number of
 * sources including the reserved 0 (0x60); the binding means the highest source ID, which is
 * what later QEMU prints and we print (0x5f). Otherwise Linux writes the priority of a
 * source 96 that does not exist.
 */
class QemuDeviceTreeTest {
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void nodesMatchQemuVirt(int harts, @TempDir Path dir) throws Exception {
        Path qemuDtb = dir.resolve("qemu.dtb");
        Process q;
        try {
            q = new ProcessBuilder("qemu-system-riscv64", "-M", "virt,dumpdtb=" + qemuDtb, "-smp", Integer.toString(harts),
                    "-nographic").redirectErrorStream(true).start();
        } catch (IOException e) {
            fail("qemu-system-riscv64 is not installed (Debian qemu-system-misc; .ci/run installs it): " + e.getMessage());
            return;
        }
        String qemuOut = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(q.waitFor(60, TimeUnit.SECONDS));
        assertTrue(Files.exists(qemuDtb), "QEMU did not dump its tree: " + qemuOut);
        String qemu = DeviceTrees.decompile(Files.readAllBytes(qemuDtb));

        // QEMU's phandles: each hart's cpu-intc, then the PLIC.
        Matcher m = Pattern.compile("cpu@(\\d+) \\{.*?interrupt-controller \\{.*?phandle = <(0x[0-9a-f]+)>;", Pattern.DOTALL)
                .matcher(qemu);
        List<Integer> intc = new ArrayList<>();
        while (m.find()) {
            assertEquals(intc.size(), Integer.parseInt(m.group(1)));
            intc.add(Integer.decode(m.group(2)));
        }
        assertEquals(harts, intc.size(), qemu);
        Matcher pm = Pattern.compile("plic@c000000 \\{\\s*phandle = <(0x[0-9a-f]+)>;").matcher(qemu);
        assertTrue(pm.find(), qemu);

        Fdt fdt = new Fdt();
        int[] phandles = intc.stream().mapToInt(Integer::intValue).toArray();
        for (int h = 0; h < harts; h++) {
            fdt.node("/cpus/cpu@" + h + "/interrupt-controller").cells("phandle", phandles[h]);
        }
        FdtNode soc = fdt.node("/soc");
        IrqLine[] ctx = new IrqLine[2 * harts];
        Arrays.fill(ctx, IrqLine.NONE);
        Plic plic = new Plic(96, 2 * harts, ctx, msg -> { });
        soc.child("plic@c000000").cells("phandle", Integer.decode(pm.group(1)));
        plic.addTo(soc, 0xc000000L, phandles);
        IrqLine[] none = new IrqLine[harts];
        Arrays.fill(none, IrqLine.NONE);
        ManualClock clock = new ManualClock();
        new Clint(harts, clock, new TimerQueue(clock), none, none, msg -> { }).addTo(soc, 0x2000000L, phandles);
        String rivet = DeviceTrees.decompile(fdt.toBlob());

        String qemuPlic = DeviceTrees.node(qemu, "plic@c000000");
        assertTrue(qemuPlic.contains("riscv,ndev = <0x60>;") || qemuPlic.contains("riscv,ndev = <0x5f>;"), qemuPlic);
        assertEquals(qemuPlic.replace("riscv,ndev = <0x60>;", "riscv,ndev = <0x5f>;"), DeviceTrees.node(rivet, "plic@c000000"));
        assertEquals(DeviceTrees.node(qemu, "clint@2000000"), DeviceTrees.node(rivet, "clint@2000000"));
    }
}
