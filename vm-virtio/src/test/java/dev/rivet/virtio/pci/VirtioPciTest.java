package dev.rivet.virtio.pci;

import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.devices.pci.PciDevice;
import dev.rivet.devices.pci.PcieHost;
import dev.rivet.virtio.EchoDevice;
import dev.rivet.virtio.GuestDriver;
import dev.rivet.virtio.GuestDriver.Buf;
import dev.rivet.virtio.GuestDriver.DriverQueue;
import dev.rivet.virtio.GuestDriver.Used;
import dev.rivet.virtio.GuestDriver.Wire;
import dev.rivet.virtio.GuestPciTransport;
import dev.rivet.virtio.Virtio;
import dev.rivet.virtio.rng.VirtioRng;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

import static dev.rivet.virtio.pci.VirtioPci.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Drives {@link VirtioPci} behind a {@link PcieHost} the way Linux's PCI core and
 * virtio_pci_modern driver do ({@link GuestPciTransport}), with the same ring driver the
 * MMIO tests use: enumeration, the capability layout, a request on each queue, INTx and
 * the ISR, the PCI_CFG window, and what a misbehaving driver gets.
 */
class VirtioPciTest {
    static final int SLOT = 1;

    final GuestRam ram = new GuestRam(GuestDriver.RAM_BASE, GuestDriver.RAM_SIZE);
    final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    final Wire[] intx = {new Wire(), new Wire(), new Wire(), new Wire()};
    final PcieHost host = new PcieHost(PcieHost.Layout.QEMU_VIRT, intx, errors::add);
    VirtioPci fn;
    GuestPciTransport pci;
    GuestDriver drv;

    @AfterEach
    void close() {
        ram.close();
    }

    GuestDriver attach(dev.rivet.virtio.VirtioDevice device, int classCode) {
        fn = new VirtioPci(device, classCode, new DmaView(ram), errors::add);
        host.add(SLOT, fn);
        pci = new GuestPciTransport(host, intx, SLOT, 0x10_0000);
        drv = new GuestDriver(ram, pci);
        return drv;
    }

    GuestDriver attachEcho() {
        return attach(new EchoDevice(), 0xFF0000);
    }

    // ---------------------------------------------------------------- what the guest enumerates

    @Test
    void identifiesAsAModernVirtioFunction() {
        attach(new VirtioRng(new SplittableRandom(1)), 0x00FF00);
        assertEquals(0x1AF4, pci.cfg(PciDevice.VENDOR_ID, 2));
        assertEquals(0x1044, pci.cfg(PciDevice.DEVICE_ID, 2), "0x1040 + device ID 4");
        assertEquals(1, pci.cfg(PciDevice.REVISION_ID, 1));
        assertEquals(0x00FF00, pci.cfg(PciDevice.REVISION_ID, 4) >>> 8, "class code");
        assertEquals(0x1AF4, pci.cfg(PciDevice.SUBSYSTEM_VENDOR_ID, 2));
        assertEquals(0x1100, pci.cfg(PciDevice.SUBSYSTEM_ID, 2));
        assertEquals(1, pci.cfg(PciDevice.INTERRUPT_PIN, 1), "INTA#");
        assertEquals(256, fn.configSize(), "a conventional function, as QEMU's virtio-pci on the root bus");
    }

    @Test
    void capabilitiesDescribeTheBarLayout() {
        attachEcho();
        List<String> caps = new ArrayList<>();
        for (int cap = (int) pci.cfg(PciDevice.CAPABILITIES_POINTER, 1); cap != 0; cap = (int) pci.cfg(cap + 1, 1)) {
            assertEquals(PciDevice.CAP_ID_VENDOR, pci.cfg(cap, 1));
            caps.add(String.format("type %d len %d bar %d off 0x%x length 0x%x", pci.cfg(cap + CAP_CFG_TYPE, 1),
                    pci.cfg(cap + CAP_LEN, 1), pci.cfg(cap + CAP_BAR, 1), pci.cfg(cap + CAP_OFFSET, 4),
                    pci.cfg(cap + CAP_LENGTH, 4)));
            if (pci.cfg(cap + CAP_CFG_TYPE, 1) == CAP_NOTIFY_CFG) {
                assertEquals(4, pci.cfg(cap + CAP_NOTIFY_MULTIPLIER, 4));
            }
        }
        assertEquals(List.of(
                "type 1 len 16 bar 4 off 0x0 length 0x1000",
                "type 3 len 16 bar 4 off 0x1000 length 0x1000",
                "type 4 len 16 bar 4 off 0x2000 length 0x1000",
                "type 2 len 20 bar 4 off 0x3000 length 0x1000",
                "type 5 len 20 bar 0 off 0x0 length 0x0"), caps);
        // BAR 4: 64-bit prefetchable memory of 16 KiB; the other BARs are not implemented.
        assertEquals(0x4000, fn.bar(4).size());
        for (int b : new int[] {0, 1, 2, 3}) {
            assertNull(fn.bar(b), "BAR " + b);
        }
    }

    @Test
    void aDeviceWithoutConfigurationSpaceHasNoDeviceCapability() {
        attach(new VirtioRng(new SplittableRandom(1)), 0x00FF00);
        for (int cap = (int) pci.cfg(PciDevice.CAPABILITIES_POINTER, 1); cap != 0; cap = (int) pci.cfg(cap + 1, 1)) {
            assertNotEquals(CAP_DEVICE_CFG, pci.cfg(cap + CAP_CFG_TYPE, 1));
        }
    }

    // ---------------------------------------------------------------- the device at work

    @Test
    void entropyArrivesWithAnInterruptThatTheIsrReadClears() {
        attach(new VirtioRng(new SplittableRandom(7)), 0x00FF00);
        drv.negotiate(-1L);
        DriverQueue q = drv.queue(0, 8);
        drv.driverOk();
        long buf = drv.alloc(64, 8);
        int head = q.add(Buf.in(buf, 64));
        assertFalse(drv.interruptLine());
        q.kick();
        Used u = q.await();
        assertEquals(head, u.id());
        assertEquals(64, u.len());
        assertTrue(drv.interruptLine(), "INTA# of slot 1 is asserted");
        assertTrue((pci.cfg(PciDevice.STATUS, 2) & PciDevice.STATUS_INTERRUPT) != 0);
        assertEquals(ISR_QUEUE, drv.takeInterrupt());
        assertFalse(drv.interruptLine(), "reading the ISR deasserts");
        assertEquals(0, drv.takeInterrupt(), "and clears it");
        assertNotEquals(0, java.util.Arrays.hashCode(drv.peek(buf, 64)));
        assertTrue(errors.isEmpty(), errors.toString());
    }

    @Test
    void bothQueuesEchoAndDeviceConfigurationIsReachable() {
        attachEcho();
        drv.negotiate(0);
        DriverQueue q0 = drv.queue(0, 16);
        DriverQueue q1 = drv.queue(1, 8);
        drv.driverOk();
        assertEquals(EchoDevice.MAGIC, (int) drv.readConfig(0, 4));
        drv.writeConfig(4, 4, 0x1234_5678);
        assertEquals(0x1234_5678, drv.readConfig(4, 4));
        assertEquals(0x56, drv.readConfig(5, 1), "byte access at an odd offset");
        for (DriverQueue q : List.of(q0, q1)) {
            byte[] msg = ("queue " + q.index).getBytes(StandardCharsets.US_ASCII);
            long out = drv.alloc(msg.length, 8);
            long in = drv.alloc(64, 8);
            drv.poke(out, msg);
            q.add(Buf.out(out, msg.length), Buf.in(in, 64));
            q.kick();
            assertEquals(msg.length, q.await().len());
            assertArrayEquals(msg, drv.peek(in, msg.length));
        }
        assertTrue(errors.isEmpty(), errors.toString());
    }

    @Test
    void packedRingsOfAnySizeWorkThroughQueueSize() {
        attachEcho();
        drv.negotiate(Virtio.bit(Virtio.F_RING_PACKED) | Virtio.bit(Virtio.F_EVENT_IDX));
        DriverQueue q0 = drv.queue(0, 13); // 2.8: a packed ring need not be a power of two
        DriverQueue q1 = drv.queue(1, 5);
        drv.driverOk();
        assertEquals(13, fn.core().queue(0).size());
        assertTrue(fn.core().queue(0).packed() && q0.isPacked());
        for (DriverQueue q : List.of(q0, q1)) {
            for (int i = 0; i < 3 * q.size; i++) { // round both wrap counters a few times
                byte[] msg = ("queue " + q.index + " #" + i).getBytes(StandardCharsets.US_ASCII);
                long out = drv.alloc(msg.length, 8);
                long in = drv.alloc(64, 8);
                drv.poke(out, msg);
                int id = q.add(Buf.out(out, msg.length), Buf.in(in, 64));
                q.kick();
                assertEquals(new Used(id, msg.length), q.await());
                assertArrayEquals(msg, drv.peek(in, msg.length));
            }
        }
        assertTrue(errors.isEmpty(), errors.toString());
    }

    @Test
    void queueSizeReadsTheMaximumUntilWrittenAndAnUnwrittenSizeIsTheMaximum() {
        attachEcho();
        drv.negotiate(0);
        pci.setBar(CAP_COMMON_CFG, QUEUE_SELECT, 2, 1);
        assertEquals(8, pci.bar(CAP_COMMON_CFG, QUEUE_SIZE, 2));
        assertEquals(1, pci.bar(CAP_COMMON_CFG, QUEUE_NOTIFY_OFF, 2));
        assertEquals(2, pci.bar(CAP_COMMON_CFG, NUM_QUEUES, 2));
        pci.setBar(CAP_COMMON_CFG, QUEUE_SELECT, 2, 5);
        assertEquals(0, pci.bar(CAP_COMMON_CFG, QUEUE_SIZE, 2), "no queue 5");
        // Program queue 1 without writing queue_size: the device's maximum is used.
        long desc = drv.alloc(16 * 8, 16), avail = drv.alloc(6 + 2 * 8, 2), used = drv.alloc(6 + 8 * 8, 4);
        pci.setBar(CAP_COMMON_CFG, QUEUE_SELECT, 2, 1);
        pci.setBar(CAP_COMMON_CFG, QUEUE_DESC, 4, desc);
        pci.setBar(CAP_COMMON_CFG, QUEUE_DRIVER, 4, avail);
        pci.setBar(CAP_COMMON_CFG, QUEUE_DEVICE, 4, used);
        pci.setBar(CAP_COMMON_CFG, QUEUE_ENABLE, 2, 1);
        assertEquals(1, pci.bar(CAP_COMMON_CFG, QUEUE_ENABLE, 2));
        assertEquals(8, fn.core().queue(1).size());
        // Ring addresses cannot change under an enabled queue.
        pci.setBar(CAP_COMMON_CFG, QUEUE_DESC, 4, desc + 0x1000);
        assertEquals(desc, pci.bar(CAP_COMMON_CFG, QUEUE_DESC, 4));
        assertTrue(errors.getLast().contains("while queue 1 is enabled"), errors.toString());
    }

    @Test
    void msixVectorsReadNoVector() {
        attachEcho();
        assertEquals(NO_VECTOR, pci.bar(CAP_COMMON_CFG, CONFIG_MSIX_VECTOR, 2));
        pci.setBar(CAP_COMMON_CFG, QUEUE_MSIX_VECTOR, 2, 0);
        assertEquals(NO_VECTOR, pci.bar(CAP_COMMON_CFG, QUEUE_MSIX_VECTOR, 2));
        assertTrue(errors.getLast().contains("no MSI-X"), errors.toString());
    }

    // ---------------------------------------------------------------- misbehaving drivers

    @Test
    void aBrokenChainSetsNeedsResetWithAConfigurationInterrupt() {
        attachEcho();
        drv.negotiate(0);
        DriverQueue q = drv.queue(0, 16);
        drv.driverOk();
        long buf = drv.alloc(64, 8);
        q.setDesc(0, buf, 8, 1 /* NEXT */, 0); // a chain that loops on itself
        q.publish(0);
        q.kick();
        assertTrue((drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET) != 0);
        assertTrue(drv.interruptLine());
        assertEquals(ISR_CONFIG, drv.takeInterrupt());
        // Reset (status 0) brings it back.
        drv.negotiate(0);
        assertEquals(0, drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET);
        assertFalse(pci.queueReady(0));
    }

    @Test
    void notificationsWithBusMasteringOffAreIgnored() {
        attachEcho();
        drv.negotiate(0);
        DriverQueue q = drv.queue(0, 16);
        drv.driverOk();
        pci.setCfg(PciDevice.COMMAND, 2, PciDevice.COMMAND_MEMORY);
        long out = drv.alloc(8, 8), in = drv.alloc(8, 8);
        q.add(Buf.out(out, 8), Buf.in(in, 8));
        q.kick();
        assertNull(q.poll(), "no DMA without Bus Master Enable");
        assertTrue(errors.getLast().contains("Bus Master Enable"), errors.toString());
        pci.setCfg(PciDevice.COMMAND, 2, PciDevice.COMMAND_MEMORY | PciDevice.COMMAND_BUS_MASTER);
        q.kick();
        assertEquals(8, q.await().len());
    }

    @Test
    void wrongWidthsAndUnknownOffsetsAreGuestErrors() {
        attachEcho();
        assertEquals(0, pci.bar(CAP_COMMON_CFG, NUM_QUEUES, 4));
        assertTrue(errors.getLast().contains("4-byte read of the 2-byte"), errors.toString());
        pci.setBar(CAP_COMMON_CFG, DEVICE_STATUS, 2, Virtio.STATUS_ACKNOWLEDGE);
        assertEquals(0, drv.status(), "a 2-byte write to the 1-byte status is ignored");
        assertEquals(0, pci.bar(CAP_COMMON_CFG, 0x40, 4));
        assertTrue(errors.getLast().contains("unknown"), errors.toString());
        pci.setBar(CAP_COMMON_CFG, NUM_QUEUES, 2, 9);
        assertEquals(2, pci.bar(CAP_COMMON_CFG, NUM_QUEUES, 2));
        assertTrue(errors.getLast().contains("read-only"), errors.toString());
        assertEquals(0, drv.readConfig(8, 4), "past the 8-byte device configuration");
        assertTrue(errors.getLast().contains("unknown"), errors.toString());
    }

    @Test
    void queueEnableZeroIsRefusedWithoutRingReset() {
        attachEcho();
        drv.negotiate(0);
        drv.queue(0, 16);
        pci.setBar(CAP_COMMON_CFG, QUEUE_SELECT, 2, 0);
        pci.setBar(CAP_COMMON_CFG, QUEUE_ENABLE, 2, 0);
        assertEquals(1, pci.bar(CAP_COMMON_CFG, QUEUE_ENABLE, 2));
        assertTrue(errors.getLast().contains("only 1 is allowed"), errors.toString());
    }

    // ---------------------------------------------------------------- PCI_CFG window, reset

    @Test
    void thePciCfgWindowReachesTheBarThroughConfigurationSpace() {
        attachEcho();
        int cap = pci.pciCfgCap;
        assertNotEquals(0, cap);
        pci.setCfg(cap + CAP_BAR, 1, BAR);
        pci.setCfg(cap + CAP_OFFSET, 4, COMMON_BASE + NUM_QUEUES);
        pci.setCfg(cap + CAP_LENGTH, 4, 2);
        assertEquals(2, pci.cfg(cap + CAP_PCI_CFG_DATA, 4), "num_queues through the window");
        pci.setCfg(cap + CAP_OFFSET, 4, COMMON_BASE + DEVICE_STATUS);
        pci.setCfg(cap + CAP_LENGTH, 4, 1);
        pci.setCfg(cap + CAP_PCI_CFG_DATA, 4, Virtio.STATUS_ACKNOWLEDGE);
        assertEquals(Virtio.STATUS_ACKNOWLEDGE, drv.status(), "device_status written through the window");
        // A window outside the BAR, or through another BAR, does nothing.
        pci.setCfg(cap + CAP_OFFSET, 4, BAR_SIZE);
        assertEquals(0, pci.cfg(cap + CAP_PCI_CFG_DATA, 4));
        assertTrue(errors.getLast().contains("pci_cfg_data"), errors.toString());
        pci.setCfg(cap + CAP_BAR, 1, 0);
        pci.setCfg(cap + CAP_OFFSET, 4, COMMON_BASE + DEVICE_STATUS);
        pci.setCfg(cap + CAP_PCI_CFG_DATA, 4, 0);
        assertEquals(Virtio.STATUS_ACKNOWLEDGE, drv.status());
    }

    @Test
    void hostResetReturnsTheFunctionAndDeviceToPowerOn() {
        EchoDevice echo = new EchoDevice();
        attach(echo, 0xFF0000);
        drv.negotiate(0);
        DriverQueue q = drv.queue(0, 16);
        drv.driverOk();
        long out = drv.alloc(8, 8), in = drv.alloc(8, 8);
        q.add(Buf.out(out, 8), Buf.in(in, 8));
        q.kick();
        q.await();
        assertTrue(drv.interruptLine());
        host.reset();
        assertFalse(drv.interruptLine());
        assertEquals(0, fn.core().status());
        assertEquals(0, fn.isrStatus());
        assertFalse(fn.core().queue(0).ready());
        assertEquals(0, pci.cfg(PciDevice.COMMAND, 2), "Command back to 0");
        assertTrue(echo.resets > 0);
    }
}
