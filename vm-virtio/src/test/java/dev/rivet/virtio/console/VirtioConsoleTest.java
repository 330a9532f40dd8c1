package dev.rivet.virtio.console;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.virtio.GuestDriver;
import dev.rivet.virtio.GuestDriver.Wire;
import dev.rivet.virtio.Virtio;
import dev.rivet.virtio.mmio.VirtioMmio;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static dev.rivet.virtio.Virtio.bit;
import static dev.rivet.virtio.console.VirtioConsole.*;
import static dev.rivet.virtio.mmio.VirtioMmio.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * virtio-console as a plain console (no MULTIPORT), driven the way Linux's
 * drivers/char/virtio_console.c drives it when the device offers one port: probe, fill
 * receiveq0, hvc output through transmitq0. Also the emergency write register and the
 * console size.
 */
class VirtioConsoleTest {
    static final long ALL = bit(F_SIZE) | bit(F_MULTIPORT) | bit(F_EMERG_WRITE) | bit(Virtio.F_EVENT_IDX)
            | bit(Virtio.F_INDIRECT_DESC);

    final GuestRam ram = new GuestRam(GuestDriver.RAM_BASE, GuestDriver.RAM_SIZE);
    final Wire irq = new Wire();
    final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    final HostEnd hvc = new HostEnd();
    ExecutorService io;
    VirtioConsole console;
    VirtioMmio mmio;
    GuestDriver drv;
    LinuxConsoleDriver linux;

    @AfterEach
    void close() throws InterruptedException {
        if (io != null) {
            io.shutdownNow();
            assertTrue(io.awaitTermination(10, TimeUnit.SECONDS));
        }
        ram.close();
    }

    void attach(VirtioConsole c) {
        console = c;
        mmio = new VirtioMmio(c, new DmaView(ram), irq, errors::add);
        drv = new GuestDriver(ram, mmio, irq);
        linux = new LinuxConsoleDriver(drv);
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void aConsoleAloneIsOnePortWithTwoQueues() {
        attach(new VirtioConsole(hvc, Runnable::run));
        assertEquals(Virtio.ID_CONSOLE, drv.read(DEVICE_ID));
        assertEquals(bit(F_EMERG_WRITE), drv.offered() & 0xFF_FFFFL, "no MULTIPORT, no SIZE for a bare console");
        assertEquals(1, linux.cfg(CFG_MAX_NR_PORTS, 4));
        drv.write(QUEUE_SEL, TRANSMITQ0);
        assertEquals(DATA_QUEUE_SIZE, drv.read(QUEUE_NUM_MAX));
        drv.write(QUEUE_SEL, CONTROL_RECEIVEQ);
        assertEquals(0, drv.read(QUEUE_NUM_MAX), "receiveq0 and transmitq0 only");
        assertEquals(1, console.portCount());
        assertTrue(console.port(0).isConsole());
    }

    @Test
    void consoleEchoesBothWays() {
        attach(new VirtioConsole(hvc, Runnable::run));
        assertFalse(console.port(0).guestConnected());
        linux.probe(ALL);
        assertEquals(0, linux.features & bit(F_MULTIPORT));
        assertTrue(console.port(0).guestConnected(), "without MULTIPORT the console is the guest's from DRIVER_OK");
        assertEquals(List.of("guest open"), hvc.events);
        linux.fill(RECEIVEQ0, 4); // add_port(0) -> fill_queue

        linux.write(0, ascii("login: "));
        assertEquals("login: ", hvc.text());
        assertTrue(irq.level, "used buffer notification for transmitq0");

        assertEquals(5, console.port(0).send(ascii("root\n")));
        assertArrayEquals(ascii("root\n"), linux.read(0));
        assertEquals(0, console.port(0).inputPending());

        // Longer than one receive buffer: spread over several, in order.
        byte[] line = ascii("x".repeat(150) + "\n");
        console.port(0).send(line);
        assertArrayEquals(line, linux.read(0));
        linux.write(0, line);
        assertEquals("login: " + new String(line, StandardCharsets.US_ASCII), hvc.text());
        assertEquals(List.of(), errors);
    }

    @Test
    void guestOutputRunsOnTheExecutorNotTheHart() {
        io = Executors.newSingleThreadExecutor(r -> new Thread(r, "console-io"));
        attach(new VirtioConsole(hvc, io));
        linux.probe(ALL);
        linux.fill(RECEIVEQ0, 2);
        linux.write(0, ascii("hello"));
        assertEquals("hello", hvc.text());
        assertEquals(List.of("console-io"), hvc.outputThreads);
        console.port(0).send(ascii("typed"));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        StringBuilder got = new StringBuilder();
        while (got.length() < 5 && System.nanoTime() < deadline) {
            got.append(new String(linux.read(0), StandardCharsets.US_ASCII));
            Thread.onSpinWait();
        }
        assertEquals("typed", got.toString());
    }

    @Test
    void inputSentBeforeBootWaitsForTheDriverAndItsBuffers() {
        attach(builder(Runnable::run).console(hvc).inputCapacity(100).build());
        ConsolePort p = console.port(0);
        byte[] early = new byte[130];
        for (int i = 0; i < early.length; i++) {
            early[i] = (byte) i;
        }
        assertEquals(100, p.send(early), "the input buffer is bounded: send takes what fits");
        assertEquals(100, p.inputPending());

        linux.probe(ALL); // includes the reset at the start of probe: the host's input survives it
        assertEquals(100, p.inputPending(), "DRIVER_OK but no receive buffers yet");
        assertEquals(0, linux.q[RECEIVEQ0].usedIdx());

        linux.fill(RECEIVEQ0, 1); // one 64-byte buffer
        assertEquals(36, p.inputPending(), "one buffer's worth went in");
        assertEquals(List.of("guest open", "space"), hvc.events, "room again after a short send");
        assertArrayEquals(java.util.Arrays.copyOf(early, 64), linux.read(0)); // the buffer goes back, takes the rest
        assertEquals(0, p.inputPending());
        assertEquals(30, p.send(early, 100, 30));
        assertEquals(30, p.inputPending(), "no free buffer");
        assertArrayEquals(java.util.Arrays.copyOfRange(early, 64, 100), linux.read(0));
        assertArrayEquals(java.util.Arrays.copyOfRange(early, 100, 130), linux.read(0));
        assertEquals(0, p.inputPending());
        assertEquals(List.of("guest open", "space"), hvc.events, "no short send since: no second call");
    }

    @Test
    void emergencyWriteWorksBeforeAnyNegotiationAndAfter() {
        attach(new VirtioConsole(hvc, Runnable::run));
        Bus.writeDevice(mmio, CONFIG + CFG_EMERG_WR, 1, 'P');
        Bus.writeDevice(mmio, CONFIG + CFG_EMERG_WR, 4, 0x1234_5600 | '!'); // the low byte goes out
        assertEquals("P!", hvc.text());
        assertEquals(0, linux.cfg(CFG_EMERG_WR, 4), "write-only: reads 0");
        Bus.writeDevice(mmio, CONFIG + CFG_EMERG_WR + 1, 1, 'x');
        assertTrue(errors.getLast().contains("read-only"), errors.toString());
        Bus.writeDevice(mmio, CONFIG + CFG_MAX_NR_PORTS, 4, 9);
        assertEquals(1, linux.cfg(CFG_MAX_NR_PORTS, 4), "max_nr_ports is not writable");

        linux.probe(ALL);
        linux.write(0, ascii("ok"));
        Bus.writeDevice(mmio, CONFIG + CFG_EMERG_WR, 1, '\n');
        assertEquals("P!ok\n", hvc.text());
        assertEquals(0, drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET);
    }

    @Test
    void emergencyWritesGoThroughTheExecutorInOrder() throws Exception {
        io = Executors.newSingleThreadExecutor(r -> new Thread(r, "console-io"));
        attach(new VirtioConsole(hvc, io));
        for (char c : "emergency".toCharArray()) {
            Bus.writeDevice(mmio, CONFIG + CFG_EMERG_WR, 1, c);
        }
        io.submit(() -> { }).get(10, TimeUnit.SECONDS); // drains run before this
        assertEquals("emergency", hvc.text());
        assertTrue(hvc.outputThreads.stream().allMatch("console-io"::equals), hvc.outputThreads.toString());
    }

    @Test
    void sizeIsOfferedOnlyWhenGivenAndResizeNotifiesTheDriver() {
        attach(builder(Runnable::run).console(hvc).size(80, 24).build());
        assertEquals(bit(F_SIZE) | bit(F_EMERG_WRITE), drv.offered() & 0xFF_FFFFL);
        assertEquals(80, linux.cfg(CFG_COLS, 2));
        assertEquals(24, linux.cfg(CFG_ROWS, 2));
        assertEquals(80 | 24 << 16, linux.cfg(CFG_COLS, 4), "cols at 0, rows at 2, as Linux lays them out");
        linux.probe(ALL);
        // Linux reads cols/rows only on a config change: one comes with DRIVER_OK.
        assertEquals(Virtio.INT_CONFIG_CHANGE, drv.takeInterrupt() & Virtio.INT_CONFIG_CHANGE);
        int gen = (int) drv.read(CONFIG_GENERATION);
        console.resize(132, 43);
        assertEquals(132, linux.cfg(CFG_COLS, 2));
        assertEquals(43, linux.cfg(CFG_ROWS, 2));
        assertEquals(gen + 1, drv.read(CONFIG_GENERATION));
        assertEquals(Virtio.INT_CONFIG_CHANGE, drv.takeInterrupt());
        assertThrows(IllegalArgumentException.class, () -> console.resize(70000, 1));
    }

    @Test
    void resizeIsRefusedWithoutASize() {
        attach(new VirtioConsole(hvc, Runnable::run));
        assertThrows(IllegalStateException.class, () -> console.resize(80, 24));
        linux.probe(ALL);
        assertEquals(0, drv.takeInterrupt() & Virtio.INT_CONFIG_CHANGE, "no size, no config change at DRIVER_OK");
    }

    @Test
    void anOldDriverWithoutMultiportGetsPortZeroOnly() {
        attach(builder(Runnable::run).console(hvc).port("agent", new HostEnd()).build());
        linux.probe(ALL & ~bit(F_MULTIPORT)); // an old driver: port 0 only
        assertEquals(2, linux.q.length);
        // A hostile one sets up queue 2 anyway and kicks it.
        drv.queue(CONTROL_RECEIVEQ, 16);
        drv.write(QUEUE_NOTIFY, CONTROL_RECEIVEQ);
        assertTrue(errors.getLast().contains("queue 2"), errors.toString());
        assertEquals(0, drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET);
        linux.fill(RECEIVEQ0, 1);
        console.port(0).send(ascii("still fine"));
        assertArrayEquals(ascii("still fine"), linux.read(0));
        assertFalse(console.port(1).guestConnected());
    }

    @Test
    void aFailingHostHandlerStopsTheDeviceNotTheHart() {
        attach(new VirtioConsole(hvc, Runnable::run));
        linux.probe(ALL);
        hvc.explode = true;
        long a = drv.alloc(4, 4);
        drv.poke(a, ascii("boom"));
        linux.q[TRANSMITQ0].add(GuestDriver.Buf.out(a, 4));
        linux.q[TRANSMITQ0].kick(); // returns: the hart carries on
        assertTrue((drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET) != 0);
        assertTrue(errors.getLast().contains("host handler bug"), errors.toString());
    }
}
