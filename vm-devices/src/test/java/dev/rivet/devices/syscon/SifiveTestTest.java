package dev.rivet.devices.syscon;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.MmioDevice;
import dev.rivet.core.fdt.Fdt;
import dev.rivet.core.fdt.FdtNode;
import dev.rivet.devices.DeviceTrees;
import dev.rivet.devices.MmioDeviceContract;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.rivet.devices.syscon.SifiveTest.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The test finisher as Linux's syscon-poweroff/syscon-reboot and OpenSBI's sifive_test driver use it. */
class SifiveTestTest extends MmioDeviceContract {
    /** Records what the device asked of the board. */
    static final class Recorder implements PowerControl {
        final List<String> calls = new ArrayList<>();

        @Override
        public void poweroff(int code) {
            calls.add("poweroff " + code);
        }

        @Override
        public void reset() {
            calls.add("reset");
        }
    }

    final Recorder power = new Recorder();
    SifiveTest test;

    @BeforeEach
    void setUp() {
        test = new SifiveTest(power, log);
    }

    @Override
    protected MmioDevice newDevice() {
        return new SifiveTest(new Recorder(), log);
    }

    @Override
    protected long regionSize() {
        return MMIO_SIZE;
    }

    @Override
    protected long[] unknownOffsets() {
        return new long[] {4, 8, 0x800, 0xFFC};
    }

    @Override
    protected Map<String, Long> readableState(MmioDevice d) {
        return Map.of("FINISHER", d.read(FINISHER, 4));
    }

    @Test
    void linuxSysconPoweroffWrites32Bits() {
        Bus.writeDevice(test, FINISHER, 4, FINISHER_PASS);
        assertEquals(List.of("poweroff 0"), power.calls);
    }

    @Test
    void linuxSysconRebootWrites32Bits() {
        Bus.writeDevice(test, FINISHER, 4, FINISHER_RESET);
        assertEquals(List.of("reset"), power.calls);
    }

    @Test
    void failCarriesTheExitCode() {
        Bus.writeDevice(test, FINISHER, 4, 42L << 16 | FINISHER_FAIL);
        assertEquals(List.of("poweroff 42"), power.calls);
    }

    /** OpenSBI's sifive_test_system_reset: writew(FINISHER_PASS) / writew(FINISHER_RESET). */
    @Test
    void openSbiWrites16Bits() {
        Bus.writeDevice(test, FINISHER, 2, FINISHER_PASS);
        Bus.writeDevice(test, FINISHER, 2, FINISHER_RESET);
        assertEquals(List.of("poweroff 0", "reset"), power.calls);
    }

    @Test
    void readsAreZeroAndUnknownCommandsAreGuestErrors() {
        assertEquals(0, Bus.readDevice(test, FINISHER, 4));
        Bus.writeDevice(test, FINISHER, 4, 0x1234);
        assertTrue(power.calls.isEmpty());
        assertEquals(1, guestErrors.size());
        assertTrue(guestErrors.getFirst().contains("sifive-test"), guestErrors.toString());
    }

    Fdt tree() {
        Fdt fdt = new Fdt();
        // QEMU's phandles: cpu@0 1, its interrupt controller 2, the PLIC 3, then the test device 4.
        for (String n : new String[] {"/cpus/cpu@0", "/cpus/cpu@0/interrupt-controller", "/soc/plic@c000000"}) {
            fdt.node(n).phandle();
        }
        FdtNode test = this.test.addTo(fdt.node("/soc"), fdt.root(), 0x10_0000L, MMIO_SIZE);
        assertEquals("test@100000", test.name());
        return fdt;
    }

    @Test
    void deviceTreeNodes() throws Exception {
        String dts = DeviceTrees.decompile(tree().toBlob());
        assertEquals("""
                test@100000 {
                phandle = <0x04>;
                reg = <0x00 0x100000 0x00 0x1000>;
                compatible = "sifive,test1\\0sifive,test0\\0syscon";
                };
                """, DeviceTrees.node(dts, "test@100000"));
        assertEquals("""
                poweroff {
                value = <0x5555>;
                offset = <0x00>;
                regmap = <0x04>;
                compatible = "syscon-poweroff";
                };
                """, DeviceTrees.node(dts, "poweroff"));
        assertEquals("""
                reboot {
                value = <0x7777>;
                offset = <0x00>;
                regmap = <0x04>;
                compatible = "syscon-reboot";
                };
                """, DeviceTrees.node(dts, "reboot"));
        assertTrue(dts.contains("\n\tpoweroff {") && dts.contains("\n\treboot {"), "poweroff and reboot at the root: " + dts);
    }

    @Test
    void deviceTreeNodesMatchQemu() throws Exception {
        String qemu = DeviceTrees.qemuVirt();
        String ours = DeviceTrees.decompile(tree().toBlob());
        for (String node : new String[] {"test@100000", "poweroff", "reboot"}) {
            assertEquals(DeviceTrees.node(qemu, node), DeviceTrees.node(ours, node), node);
        }
    }
}
