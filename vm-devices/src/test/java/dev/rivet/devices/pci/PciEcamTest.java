package dev.rivet.devices.pci;

import dev.rivet.core.bus.MmioDevice;
import dev.rivet.core.irq.IrqLine;
import dev.rivet.devices.MmioDeviceContract;
import dev.rivet.devices.pci.PciBar.Kind;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The ECAM window under the device contract. Where no register lives is a bus number
 * behind no bridge (only bus 0 exists): a guest error that reads all-ones, as a master
 * abort does, rather than 0. The contract's random writes land mostly in the host bridge
 * (slot 0) and on other buses; {@link PcieHostTest} covers the functions' registers.
 */
class PciEcamTest extends MmioDeviceContract {
    @Override
    protected MmioDevice newDevice() {
        IrqLine[] lines = {IrqLine.NONE, IrqLine.NONE, IrqLine.NONE, IrqLine.NONE};
        PcieHost host = new PcieHost(PcieHost.Layout.QEMU_VIRT, lines, log);
        TestPciDevice d = new TestPciDevice("contract", 1);
        d.bar(0, Kind.IO, 0x40, 1);
        d.bar(1, Kind.MEMORY_32, 0x1000, 2);
        d.bar(2, Kind.MEMORY_64, 0x10000, 3);
        d.addCapability(PciDevice.CAP_ID_VENDOR, new byte[] {0, 0, 0, 0, 0, 0}, new byte[] {0, (byte) 0xFF, 0, 0, 0, 0});
        d.addPcieCapability();
        host.add(1, d);
        return host.ecam();
    }

    @Override
    protected long regionSize() {
        return PcieHost.Layout.QEMU_VIRT.ecamSize();
    }

    @Override
    protected long[] unknownOffsets() {
        return new long[] {PciEcam.offset(1, 0, 0, 0), PciEcam.offset(2, 1, 0, 0x10), PciEcam.offset(255, 31, 7, 0xFFC)};
    }

    @Override
    protected long unknownReadValue(int size) {
        return size == 8 ? -1L : (1L << 8 * size) - 1;
    }

    @Override
    protected Map<String, Long> readableState(MmioDevice d) {
        Map<String, Long> s = new LinkedHashMap<>();
        for (int slot = 0; slot < 2; slot++) {
            for (int reg = 0; reg < PciDevice.CONFIG_SPACE_SIZE; reg += 4) {
                s.put(String.format("slot %d 0x%02x", slot, reg), d.read(PciEcam.offset(0, slot, 0, reg), 4));
            }
        }
        return s;
    }
}
