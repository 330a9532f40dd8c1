package dev.rivet.virtio.mmio;

import dev.rivet.core.bus.MmioDevice;
import dev.rivet.devices.MmioDeviceContract;
import dev.rivet.virtio.GuestDriver.Wire;

import java.util.LinkedHashMap;
import java.util.Map;

import static dev.rivet.virtio.mmio.VirtioMmio.*;

/** The MMIO contract for a virt board slot with no device behind it. */
class EmptySlotTest extends MmioDeviceContract {
    @Override
    protected MmioDevice newDevice() {
        return VirtioMmio.emptySlot(new Wire(), log);
    }

    @Override
    protected long regionSize() {
        return MMIO_SIZE;
    }

    @Override
    protected long[] unknownOffsets() {
        return new long[] {0x018, 0x0C0, 0x100, 0x104, 0xFFC};
    }

    @Override
    protected Map<String, Long> readableState(MmioDevice d) {
        Map<String, Long> s = new LinkedHashMap<>();
        for (int reg = 0; reg < CONFIG; reg += 4) {
            if (reg != QUEUE_NOTIFY && reg != INTERRUPT_ACK && reg != 0x18 && reg != 0x28 && (reg < 0x3C || reg > 0x40)
                    && reg != 0x48 && reg != 0x4C && reg != 0x54 && reg != 0x58 && reg != 0x5C && (reg < 0x68 || reg > 0x6C)
                    && (reg < 0x74 || reg > 0x7C) && (reg < 0x88 || reg > 0x8C) && (reg < 0x98 || reg > 0x9C)
                    && reg != 0xA8 && (reg < 0xC0 || reg > 0xF8)) {
                s.put(String.format("0x%03x", reg), d.read(reg, 4));
            }
        }
        return s;
    }
}
