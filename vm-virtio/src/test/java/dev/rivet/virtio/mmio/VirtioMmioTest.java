package dev.rivet.virtio.mmio;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.core.bus.MmioDevice;
import dev.rivet.core.fdt.Fdt;
import dev.rivet.devices.DeviceTrees;
import dev.rivet.devices.MmioDeviceContract;
import dev.rivet.virtio.EchoDevice;
import dev.rivet.virtio.GuestDriver;
import dev.rivet.virtio.GuestDriver.Buf;
import dev.rivet.virtio.GuestDriver.DriverQueue;
import dev.rivet.virtio.GuestDriver.Used;
import dev.rivet.virtio.GuestDriver.Wire;
import dev.rivet.virtio.Virtio;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static dev.rivet.virtio.Virtio.*;
import static dev.rivet.virtio.mmio.VirtioMmio.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Drives the virtio-mmio transport the way Linux's drivers/virtio/virtio_mmio.c does
 * (vm_get_features, vm_finalize_features, vm_setup_vq, vm_interrupt, vm_reset), with a
 * test device behind it.
 */
class VirtioMmioTest extends MmioDeviceContract {
    static final long DEVICE_BITS = 1L << 3 | 1L << 7;

    final GuestRam ram = new GuestRam(GuestDriver.RAM_BASE, GuestDriver.RAM_SIZE);
    final Wire irq = new Wire();
    EchoDevice echo;
    VirtioMmio mmio;
    GuestDriver drv;

    @BeforeEach
    void setUp() {
        echo = new EchoDevice(DEVICE_BITS, Runnable::run);
        mmio = new VirtioMmio(echo, new DmaView(ram), irq, log);
        drv = new GuestDriver(ram, mmio, irq);
    }

    @AfterEach
    void closeRam() {
        ram.close();
    }

    @Override
    protected MmioDevice newDevice() {
        return new VirtioMmio(new EchoDevice(DEVICE_BITS, Runnable::run), new DmaView(ram), new Wire(), log);
    }

    @Override
    protected long regionSize() {
        return MMIO_SIZE;
    }

    @Override
    protected long[] unknownOffsets() {
        return new long[] {0x018, 0x028, 0x03C, 0x040, 0x058, 0x0C0, 0x0F8, 0x108, 0x1F0, 0xFFC};
    }

    @Override
    protected Map<String, Long> readableState(MmioDevice d) {
        Map<String, Long> s = new LinkedHashMap<>();
        for (int reg : new int[] {MAGIC_VALUE, VERSION, DEVICE_ID, VENDOR_ID, DEVICE_FEATURES_SEL, DEVICE_FEATURES,
                DRIVER_FEATURES_SEL, DRIVER_FEATURES, QUEUE_SEL, INTERRUPT_STATUS, STATUS, CONFIG_GENERATION,
                SHM_SEL}) {
            s.put(String.format("0x%03x", reg), d.read(reg, 4));
        }
        for (int q = 0; q < 3; q++) {
            d.write(QUEUE_SEL, 4, q);
            for (int reg : new int[] {QUEUE_NUM_MAX, QUEUE_NUM, QUEUE_READY, QUEUE_DESC_LOW, QUEUE_DESC_HIGH,
                    QUEUE_DRIVER_LOW, QUEUE_DRIVER_HIGH, QUEUE_DEVICE_LOW, QUEUE_DEVICE_HIGH}) {
                s.put(String.format("q%d 0x%03x", q, reg), d.read(reg, 4));
            }
        }
        for (int off = 0; off < 8; off += 4) {
            s.put("config " + off, d.read(CONFIG + off, 4));
        }
        return s;
    }

    @Test
    void identifiesAsAModernVirtioMmioDevice() {
        assertEquals(0x74726976, drv.read(MAGIC_VALUE));
        assertEquals(2, drv.read(VERSION));
        assertEquals(EchoDevice.ID, drv.read(DEVICE_ID));
        assertEquals(0x554D4551, drv.read(VENDOR_ID));
        assertEquals(0, drv.read(STATUS));
        assertEquals(0xFFFF_FFFFL, drv.read(SHM_LEN_LOW), "no shared memory regions");
        assertEquals(0xFFFF_FFFFL, drv.read(SHM_LEN_HIGH));
    }

    @Test
    void anEmptySlotReadsDeviceIdZeroAndIgnoresWrites() {
        VirtioMmio empty = VirtioMmio.emptySlot(irq, log);
        assertEquals(MAGIC, empty.read(MAGIC_VALUE, 4));
        assertEquals(2, empty.read(VERSION, 4));
        assertEquals(0, empty.read(DEVICE_ID, 4), "Linux skips device ID 0");
        empty.write(STATUS, 4, 0xF);
        empty.write(QUEUE_NOTIFY, 4, 0);
        assertEquals(0, empty.read(STATUS, 4));
        assertEquals(0, empty.read(QUEUE_NUM_MAX, 4));
        assertEquals(0, empty.read(DEVICE_FEATURES, 4));
        assertTrue(guestErrors.isEmpty(), guestErrors.toString());
    }

    @Test
    void offersVersion1IndirectEventIdxAndPackedRings() {
        long f = drv.offered();
        assertEquals(DEVICE_BITS | bit(F_VERSION_1) | bit(F_INDIRECT_DESC) | bit(F_EVENT_IDX) | bit(F_RING_PACKED), f);
        for (long sel : new long[] {2, 0xFFFF_FFFFL, 0x8000_0000L}) {
            drv.write(DEVICE_FEATURES_SEL, sel);
            assertEquals(0, drv.read(DEVICE_FEATURES), "no feature word " + sel);
        }
    }

    @Test
    void featuresOkIsRefusedWithoutVersion1() {
        drv.addStatus(STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        drv.writeFeatures(DEVICE_BITS);
        drv.addStatus(STATUS_FEATURES_OK);
        assertEquals(0, drv.status() & STATUS_FEATURES_OK, "a legacy driver must see FEATURES_OK clear");
        assertTrue(guestErrors.getLast().contains("VERSION_1"), guestErrors.toString());
    }

    @Test
    void featuresOkIsRefusedWithABitNotOffered() {
        drv.addStatus(STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        drv.writeFeatures(bit(F_VERSION_1) | 1L << 5);
        drv.addStatus(STATUS_FEATURES_OK);
        assertEquals(0, drv.status() & STATUS_FEATURES_OK);
        drv.writeFeatures(bit(F_VERSION_1) | bit(F_RING_PACKED) | 1L << 35);
        drv.addStatus(STATUS_FEATURES_OK);
        assertEquals(0, drv.status() & STATUS_FEATURES_OK, "bit 35 is not offered");
        drv.writeFeatures(bit(F_VERSION_1) | 1L << 3);
        drv.addStatus(STATUS_FEATURES_OK);
        assertEquals(STATUS_FEATURES_OK, drv.status() & STATUS_FEATURES_OK);
    }

    @Test
    void driverOkActivatesTheDeviceWithTheNegotiatedFeatures() {
        long f = drv.negotiate(1L << 7 | bit(F_EVENT_IDX));
        assertEquals(-1, echo.activatedWith);
        drv.writeFeatures(-1L); // after FEATURES_OK: ignored
        assertTrue(guestErrors.getLast().contains("after FEATURES_OK"), guestErrors.toString());
        drv.driverOk();
        assertEquals(f, echo.activatedWith);
        assertEquals(bit(F_VERSION_1) | 1L << 7 | bit(F_EVENT_IDX), f);
        assertEquals(STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK, drv.status());
        drv.write(DRIVER_FEATURES_SEL, 1);
        assertEquals(1, drv.read(DRIVER_FEATURES));
    }

    @Test
    void driverOkWithoutFeaturesOkNeedsReset() {
        drv.addStatus(STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        drv.addStatus(STATUS_DRIVER_OK);
        assertEquals(-1, echo.activatedWith, "not activated");
        assertEquals(STATUS_DEVICE_NEEDS_RESET, drv.status() & STATUS_DEVICE_NEEDS_RESET);
        assertEquals(INT_CONFIG_CHANGE, drv.takeInterrupt(), "DEVICE_NEEDS_RESET comes with a config interrupt");
    }

    @Test
    void theDriverCannotClearStatusBitsOrSetNeedsReset() {
        drv.negotiate(0);
        drv.write(STATUS, STATUS_ACKNOWLEDGE);
        assertEquals(STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK, drv.status());
        assertTrue(guestErrors.getLast().contains("clears bits"), guestErrors.toString());
        drv.write(STATUS, drv.status() | STATUS_DEVICE_NEEDS_RESET);
        assertEquals(0, drv.status() & STATUS_DEVICE_NEEDS_RESET);
    }

    @Test
    void writingZeroResetsTheDevice() {
        drv.negotiate(bit(F_EVENT_IDX));
        DriverQueue q = drv.queue(0, 8);
        drv.driverOk();
        long buf = drv.alloc(64, 8);
        q.add(Buf.out(buf, 4), Buf.in(buf + 32, 4));
        q.kick();
        assertTrue(irq.level);
        drv.write(DEVICE_FEATURES_SEL, 1);
        drv.write(QUEUE_SEL, 1);
        int resets = echo.resets;

        drv.write(STATUS, 0);
        assertEquals(0, drv.status());
        assertFalse(irq.level, "reset drops the interrupt");
        assertEquals(0, drv.read(INTERRUPT_STATUS));
        assertEquals(0, drv.read(QUEUE_SEL));
        assertEquals(0, drv.read(DEVICE_FEATURES_SEL));
        assertEquals(0, drv.read(QUEUE_READY), "queue 0 forgotten");
        assertEquals(0, drv.read(QUEUE_NUM));
        assertEquals(0, drv.read(DRIVER_FEATURES));
        assertEquals(resets + 1, echo.resets);
        // And it comes back up.
        drv.negotiate(0);
        DriverQueue q2 = drv.queue(0, 8);
        drv.driverOk();
        q2.add(Buf.out(buf, 4), Buf.in(buf + 32, 4));
        q2.kick();
        assertEquals(new Used(0, 4), q2.poll());
    }

    @Test
    void queueRegistersFollowVmSetupVq() {
        drv.negotiate(0);
        drv.write(QUEUE_SEL, 0);
        assertEquals(16, drv.read(QUEUE_NUM_MAX));
        drv.write(QUEUE_SEL, 1);
        assertEquals(8, drv.read(QUEUE_NUM_MAX));
        drv.write(QUEUE_SEL, 2);
        assertEquals(0, drv.read(QUEUE_NUM_MAX), "no queue 2: Linux stops at QueueNumMax 0");
        assertEquals(0, drv.read(QUEUE_READY));

        DriverQueue q = drv.queue(1, 4);
        drv.write(QUEUE_SEL, 1);
        assertEquals(1, drv.read(QUEUE_READY));
        assertEquals(4, drv.read(QUEUE_NUM));
        assertEquals(q.desc & 0xFFFF_FFFFL, drv.read(QUEUE_DESC_LOW));
        assertEquals(q.avail, drv.read(QUEUE_DRIVER_LOW) | drv.read(QUEUE_DRIVER_HIGH) << 32);
        assertEquals(q.used, drv.read(QUEUE_DEVICE_LOW) | drv.read(QUEUE_DEVICE_HIGH) << 32);

        guestErrors.clear();
        drv.write(QUEUE_NUM, 2);
        drv.write(QUEUE_DESC_LOW, 0x1000);
        assertEquals(4, drv.read(QUEUE_NUM), "changes while ready are ignored");
        assertEquals(q.desc & 0xFFFF_FFFFL, drv.read(QUEUE_DESC_LOW));
        assertEquals(2, guestErrors.size(), guestErrors.toString());

        // vm_del_vq: QueueReady = 0, read back 0.
        drv.write(QUEUE_READY, 0);
        assertEquals(0, drv.read(QUEUE_READY));
        drv.write(QUEUE_NUM, 2);
        assertEquals(2, drv.read(QUEUE_NUM));
    }

    @Test
    void aUsedBufferRaisesTheLineUntilAcknowledged() {
        drv.negotiate(0);
        DriverQueue q = drv.queue(0, 16);
        drv.driverOk();
        long buf = drv.alloc(64, 8);
        drv.poke(buf, new byte[] {1, 2, 3, 4, 5});
        q.add(Buf.out(buf, 5), Buf.in(buf + 32, 8));
        assertFalse(irq.level);
        q.kick();
        assertTrue(irq.level);
        assertEquals(INT_USED_BUFFER, drv.read(INTERRUPT_STATUS));
        assertEquals(new Used(0, 5), q.poll());
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 0, 0, 0}, drv.peek(buf + 32, 8));
        assertEquals(INT_USED_BUFFER, drv.takeInterrupt());
        assertFalse(irq.level);
        assertEquals(0, drv.read(INTERRUPT_STATUS));
    }

    @Test
    void buffersAddedBeforeDriverOkAreServedAtDriverOk() {
        drv.negotiate(0);
        DriverQueue q = drv.queue(0, 16);
        long buf = drv.alloc(64, 8);
        q.add(Buf.out(buf, 4), Buf.in(buf + 32, 4));
        q.kick();
        assertNull(q.poll(), "nothing is processed before DRIVER_OK (3.1.1)");
        assertFalse(irq.level);
        drv.driverOk();
        assertEquals(new Used(0, 4), q.poll());
        assertTrue(irq.level);
    }

    @Test
    void notifyingAQueueThatDoesNotExistIsAGuestError() {
        drv.negotiate(0);
        drv.driverOk();
        guestErrors.clear();
        drv.write(QUEUE_NOTIFY, 7);
        assertTrue(guestErrors.getLast().contains("queue 7"), guestErrors.toString());
        assertEquals(0, drv.status() & STATUS_DEVICE_NEEDS_RESET);
    }

    @Test
    void configSpaceTakesNarrowAccessesAndHasAGeneration() {
        assertEquals(EchoDevice.MAGIC & 0xFFFF_FFFFL, Bus.readDevice(mmio, CONFIG, 4));
        assertEquals(0xEC40, Bus.readDevice(mmio, CONFIG + 2, 2));
        assertEquals(0xEC, Bus.readDevice(mmio, CONFIG + 1, 1));
        Bus.writeDevice(mmio, CONFIG + 4, 2, 0xBEEF);
        assertEquals(0xBEEF, Bus.readDevice(mmio, CONFIG + 4, 4));
        guestErrors.clear();
        Bus.writeDevice(mmio, CONFIG, 4, 0);
        assertEquals(EchoDevice.MAGIC & 0xFFFF_FFFFL, Bus.readDevice(mmio, CONFIG, 4));
        assertTrue(guestErrors.getLast().contains("read-only"), guestErrors.toString());

        drv.negotiate(0);
        drv.driverOk();
        long gen = drv.read(CONFIG_GENERATION);
        echo.changeConfig(7);
        assertEquals(gen + 1, drv.read(CONFIG_GENERATION));
        assertEquals(7, Bus.readDevice(mmio, CONFIG + 4, 4));
        assertTrue(irq.level);
        assertEquals(INT_CONFIG_CHANGE, drv.takeInterrupt());
    }

    @Test
    void registersTakeOnlyWordAccesses() {
        guestErrors.clear();
        assertEquals(0, Bus.readDevice(mmio, MAGIC_VALUE, 2));
        assertTrue(guestErrors.getLast().contains("0x0") && guestErrors.getLast().contains("4-byte"), guestErrors.toString());
        Bus.writeDevice(mmio, STATUS, 1, STATUS_ACKNOWLEDGE);
        assertEquals(0, drv.status(), "a byte write to Status is ignored");
        assertTrue(guestErrors.getLast().contains("0x70"), guestErrors.toString());
        // An 8-byte access is split by the bus into two 4-byte ones (little-endian).
        assertEquals(2L << 32 | MAGIC, Bus.readDevice(mmio, MAGIC_VALUE, 8));
    }

    @Test
    void deviceTreeNode() throws Exception {
        Fdt fdt = new Fdt();
        mmio.addTo(fdt.node("/soc"), 0x1000_8000L, MMIO_SIZE, 8, 3);
        assertEquals("""
                virtio_mmio@10008000 {
                interrupts = <0x08>;
                interrupt-parent = <0x03>;
                reg = <0x00 0x10008000 0x00 0x1000>;
                compatible = "virtio,mmio";
                };
                """, DeviceTrees.node(fdt, "virtio_mmio@10008000"));
    }

    @Test
    void deviceTreeNodeMatchesQemu() throws Exception {
        String qemu = DeviceTrees.node(DeviceTrees.qemuVirt(), "virtio_mmio@10001000");
        Fdt fdt = new Fdt();
        VirtioMmio.emptySlot(irq, log).addTo(fdt.node("/soc"), 0x1000_1000L, MMIO_SIZE, 1, 3);
        assertEquals(qemu, DeviceTrees.node(fdt, "virtio_mmio@10001000"));
    }
}
