package dev.rivet.virtio.console;

import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.virtio.GuestDriver;
import dev.rivet.virtio.GuestDriver.Wire;
import dev.rivet.virtio.Virtio;
import dev.rivet.virtio.mmio.VirtioMmio;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static dev.rivet.virtio.Virtio.bit;
import static dev.rivet.virtio.console.ControlMessage.*;
import static dev.rivet.virtio.console.LinuxConsoleDriver.message;
import static dev.rivet.virtio.console.LinuxConsoleDriver.rxQueue;
import static dev.rivet.virtio.console.VirtioConsole.*;
import static dev.rivet.virtio.mmio.VirtioMmio.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * virtio-console with VIRTIO_CONSOLE_F_MULTIPORT, driven as Linux's virtio_console.c does:
 * DEVICE_READY after probe, add_port on each DEVICE_ADD (fill the port's receiveq, then
 * PORT_READY), init_port_console on CONSOLE_PORT (PORT_OPEN 1), and PORT_OPEN when a guest
 * process opens or closes /dev/vportNpM. Three ports: the console, "org.rivet.agent" and
 * "com.example.data".
 */
class VirtioConsoleMultiportTest {
    static final long ALL = bit(F_MULTIPORT) | bit(F_EMERG_WRITE) | bit(Virtio.F_EVENT_IDX)
            | bit(Virtio.F_INDIRECT_DESC);
    static final String AGENT = "org.rivet.agent";
    static final String DATA = "com.example.data";

    final GuestRam ram = new GuestRam(GuestDriver.RAM_BASE, GuestDriver.RAM_SIZE);
    final Wire irq = new Wire();
    final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    final HostEnd hvc = new HostEnd(), agent = new HostEnd(), data = new HostEnd();
    ExecutorService io;
    VirtioConsole console;
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

    void attach(java.util.concurrent.Executor executor) {
        console = builder(executor).console(hvc).port(AGENT, agent).port(DATA, data).build();
        VirtioMmio mmio = new VirtioMmio(console, new DmaView(ram), irq, errors::add);
        drv = new GuestDriver(ram, mmio, irq);
        linux = new LinuxConsoleDriver(drv);
    }

    void attach() {
        attach(Runnable::run);
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    static List<String> hex(List<byte[]> msgs) {
        return msgs.stream().map(VirtioConsoleMultiportTest::hex).toList();
    }

    static List<String> hexs(byte[]... msgs) {
        return hex(List.of(msgs));
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** The whole of Linux's bring-up of all three ports; the console becomes hvc0. */
    void bringUp() {
        linux.probe(ALL);
        linux.deviceReady();
        linux.controlMessages();
        for (int p = 0; p < 3; p++) {
            linux.fill(rxQueue(p), 4);
            linux.control(p, PORT_READY, 1);
            List<byte[]> m = linux.controlMessages();
            if (p == 0 && m.stream().anyMatch(b -> event(b) == CONSOLE_PORT)) {
                linux.control(0, PORT_OPEN, 1); // init_port_console
            }
        }
    }

    @Test
    void configurationAndQueuesForThreePorts() {
        attach();
        assertEquals(bit(F_MULTIPORT) | bit(F_EMERG_WRITE), drv.offered() & 0xFF_FFFFL);
        linux.probe(ALL);
        assertEquals(3, linux.maxPorts);
        assertEquals(8, linux.q.length, "receiveq0, transmitq0, control receiveq and transmitq, two per other port");
        drv.write(QUEUE_SEL, CONTROL_TRANSMITQ);
        assertEquals(CONTROL_QUEUE_SIZE, drv.read(QUEUE_NUM_MAX));
        drv.write(QUEUE_SEL, 8);
        assertEquals(0, drv.read(QUEUE_NUM_MAX), "no queue 8");
        assertEquals(AGENT, console.port(1).name());
        assertEquals(2, console.port(DATA).id());
    }

    @Test
    void bringUpHandshakeFollowsLinuxWithExactMessages() {
        attach();
        console.port(2).setHostConnected(false); // nothing listens on the host end of the data port
        linux.probe(ALL);
        assertFalse(console.port(0).guestConnected(), "with MULTIPORT the console waits for the control protocol");

        linux.deviceReady();
        List<byte[]> adds = linux.controlMessages();
        assertEquals(hexs(message(0, DEVICE_ADD, 1, null), message(1, DEVICE_ADD, 1, null),
                message(2, DEVICE_ADD, 1, null)), hex(adds));
        assertEquals("0100000001000100", hex(adds.get(1)), "le32 id 1, le16 event 1, le16 value 1");

        // add_port(0): receive buffers, then PORT_READY; the device names it the console.
        linux.fill(rxQueue(0), 4);
        linux.control(0, PORT_READY, 1);
        assertEquals(hexs(message(0, CONSOLE_PORT, 1, null), message(0, PORT_OPEN, 1, null)),
                hex(linux.controlMessages()));
        assertEquals(List.of(), hvc.events);
        linux.control(0, PORT_OPEN, 1); // init_port_console: hvc0 exists
        assertEquals(List.of("guest open"), hvc.events);
        assertTrue(console.port(0).guestConnected());

        // Host open state changing before PORT_READY is not sent on its own: PORT_READY carries it.
        console.port(1).setHostConnected(false);
        console.port(1).setHostConnected(true);
        assertEquals(List.of(), linux.controlMessages());

        linux.fill(rxQueue(1), 4);
        linux.control(1, PORT_READY, 1);
        List<byte[]> named = linux.controlMessages();
        assertEquals(hexs(message(1, PORT_NAME, 1, AGENT), message(1, PORT_OPEN, 1, null)), hex(named));
        assertEquals("01000000070001006f72672e72697665742e6167656e7400", hex(named.get(0)),
                "header then the UTF-8 name and a NUL; the used length covers exactly that");

        linux.fill(rxQueue(2), 4);
        linux.control(2, PORT_READY, 1);
        assertEquals(hexs(message(2, PORT_NAME, 1, DATA)), hex(linux.controlMessages()),
                "host end closed: no PORT_OPEN");
        assertFalse(console.port(1).guestConnected(), "named ports wait for a guest process to open them");
        assertEquals(List.of(), agent.events);
        assertEquals(List.of(), errors);
    }

    @Test
    void theConsoleTakesInputOnlyOnceItIsHvc0() {
        attach();
        console.port(0).send(ascii("early"));
        linux.probe(ALL);
        linux.deviceReady();
        linux.controlMessages();
        linux.fill(rxQueue(0), 4);
        linux.control(0, PORT_READY, 1);
        linux.controlMessages();
        assertArrayEquals(new byte[0], linux.read(0), "Linux would drop it: the port is not connected yet");
        linux.control(0, PORT_OPEN, 1);
        assertArrayEquals(ascii("early"), linux.read(0));
        linux.write(0, ascii("Welcome\n"));
        assertEquals("Welcome\n", hvc.text());
    }

    @Test
    void aNamedPortCarriesDataBothWaysWhileOpen() {
        attach();
        bringUp();
        ConsolePort port = console.port(AGENT);
        assertEquals(4, port.send(ascii("ping")));
        assertArrayEquals(new byte[0], linux.read(1), "no guest process has the port open yet");

        linux.control(1, PORT_OPEN, 1); // a guest process opens /dev/vport0p1
        assertEquals(List.of("guest open"), agent.events);
        assertTrue(port.guestConnected());
        assertArrayEquals(ascii("ping"), linux.read(1));
        linux.write(1, ascii("pong"));
        assertEquals("pong", agent.text());
        assertEquals("", hvc.text(), "ports do not mix");
        assertEquals("", data.text());

        // The host end closes and opens: the guest hears each change once.
        port.setHostConnected(false);
        port.setHostConnected(false);
        assertEquals(hexs(message(1, PORT_OPEN, 0, null)), hex(linux.controlMessages()));
        port.setHostConnected(true);
        assertEquals(hexs(message(1, PORT_OPEN, 1, null)), hex(linux.controlMessages()));

        // The guest closes: input waits for the next open.
        linux.control(1, PORT_OPEN, 0);
        assertEquals(List.of("guest open", "guest closed"), agent.events);
        port.send(ascii("later"));
        assertArrayEquals(new byte[0], linux.read(1));
        linux.control(1, PORT_OPEN, 1);
        assertArrayEquals(ascii("later"), linux.read(1));
        assertEquals(List.of(), errors);
    }

    @Test
    void hostileControlMessagesAreLoggedAndIgnored() {
        attach();
        linux.probe(ALL);
        linux.deviceReady();
        assertEquals(3, linux.controlMessages().size());

        linux.controlRaw(new byte[] {3, 0, 0, 0});
        assertTrue(errors.getLast().contains("4 bytes"), errors.getLast());
        linux.control(99, PORT_READY, 1);
        assertTrue(errors.getLast().contains("port 99"), errors.getLast());
        linux.control(0xFFFF_FFFFL, PORT_OPEN, 1);
        assertTrue(errors.getLast().contains("port 4294967295"), errors.getLast());
        linux.control(1, 42, 1);
        assertTrue(errors.getLast().contains("unknown event 42"), errors.getLast());
        linux.control(1, DEVICE_ADD, 1);
        assertTrue(errors.getLast().contains("only devices send"), errors.getLast());
        linux.control(1, PORT_NAME, 1);
        assertTrue(errors.getLast().contains("only devices send"), errors.getLast());
        linux.control(1, PORT_READY, 0);
        assertTrue(errors.getLast().contains("could not set up port 1"), errors.getLast());
        linux.control(BAD_ID, DEVICE_READY, 0);
        assertTrue(errors.getLast().contains("DEVICE_READY 0"), errors.getLast());
        assertEquals(8, errors.size(), errors.toString());
        assertEquals(List.of(), linux.controlMessages(), "none of that made the device say anything");
        assertFalse(console.port(1).guestConnected());
        assertEquals(0, drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET, "guest errors, not a broken device");

        // A longer message than the header is read by its header; the device still works.
        byte[] longer = java.util.Arrays.copyOf(message(1, PORT_READY, 1, null), 20);
        linux.fill(rxQueue(1), 2);
        linux.controlRaw(longer);
        assertEquals(hexs(message(1, PORT_NAME, 1, AGENT), message(1, PORT_OPEN, 1, null)),
                hex(linux.controlMessages()));
        linux.control(1, PORT_OPEN, 1);
        console.port(1).send(ascii("alive"));
        assertArrayEquals(ascii("alive"), linux.read(1));
    }

    @Test
    void aControlBufferTooSmallForAMessageComesBackEmptyAndTheMessageWaits() {
        attach();
        linux.probe(ALL);
        linux.fill(CONTROL_RECEIVEQ, 1, 4);
        linux.control(BAD_ID, DEVICE_READY, 1);
        List<byte[]> got = linux.controlMessages();
        assertEquals(1, got.size());
        assertEquals(0, got.get(0).length, "returned unused");
        assertTrue(errors.getLast().contains("4 bytes"), errors.toString());
        // controlMessages() put a full-sized buffer back; the next ones take the rest.
        linux.fill(CONTROL_RECEIVEQ, 4);
        assertEquals(hexs(message(0, DEVICE_ADD, 1, null), message(1, DEVICE_ADD, 1, null),
                message(2, DEVICE_ADD, 1, null)), hex(linux.controlMessages()));
    }

    @Test
    void aDriverThatNeverReadsControlMessagesCannotGrowTheOutbox() {
        attach();
        linux.probe(ALL);
        for (int i = 0; i < 30; i++) {
            linux.control(BAD_ID, DEVICE_READY, 1); // 90 DEVICE_ADDs, nothing posted to take them
        }
        assertTrue(errors.stream().anyMatch(e -> e.contains("unread")), errors.toString());
        linux.fill(CONTROL_RECEIVEQ, LinuxConsoleDriver.CONTROL_RING);
        int total = 0;
        for (List<byte[]> m; !(m = linux.controlMessages()).isEmpty(); ) {
            total += m.size();
        }
        assertEquals(4 * 3 + 16, total, "the outbox holds a bounded number of messages");
    }

    @Test
    void resetMidTrafficForgetsTheSessionButKeepsHostInput() {
        attach();
        bringUp();
        linux.control(1, PORT_OPEN, 1);
        byte[] stream = new byte[300];
        for (int i = 0; i < stream.length; i++) {
            stream[i] = (byte) (i * 7);
        }
        assertEquals(300, console.port(1).send(stream));
        assertEquals(300 - 4 * LinuxConsoleDriver.BUF, console.port(1).inputPending(), "four buffers' worth went in");
        // Host open-state changes pile up beyond the 16 control buffers Linux posted.
        for (int i = 0; i < 40; i++) {
            console.port(2).setHostConnected(i % 2 == 0);
        }
        assertTrue(console.port(0).guestConnected());

        drv.write(STATUS, 0); // the driver resets the device mid-traffic
        assertFalse(console.port(0).guestConnected());
        assertFalse(console.port(1).guestConnected());
        assertEquals("guest closed", hvc.events.getLast());
        assertEquals("guest closed", agent.events.getLast());
        assertEquals(List.of(), data.events, "never opened, so never closed");
        assertEquals(44, console.port(1).inputPending(), "host input is the host's: it stays");

        // A new driver session starts clean: only DEVICE_ADDs, nothing stale.
        linux = new LinuxConsoleDriver(drv);
        linux.probe(ALL);
        linux.deviceReady();
        assertEquals(hexs(message(0, DEVICE_ADD, 1, null), message(1, DEVICE_ADD, 1, null),
                message(2, DEVICE_ADD, 1, null)), hex(linux.controlMessages()));
        linux.fill(rxQueue(1), 4);
        linux.control(1, PORT_READY, 1);
        assertEquals(hexs(message(1, PORT_NAME, 1, AGENT), message(1, PORT_OPEN, 1, null)),
                hex(linux.controlMessages()));
        linux.control(1, PORT_OPEN, 1);
        assertArrayEquals(java.util.Arrays.copyOfRange(stream, 256, 300), linux.read(1),
                "the rest of the stream, not what went into the old session's buffers");
        assertEquals(0, drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET);
    }

    @Test
    void resetWhileTheHostStreamsFromItsOwnThreadKeepsEachSessionsStreamInOrder() throws Exception {
        io = Executors.newSingleThreadExecutor(r -> new Thread(r, "console-io"));
        attach(io);
        ConsolePort port = console.port(1);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong sent = new AtomicLong();
        Thread host = new Thread(() -> {
            byte[] one = new byte[1];
            int next = 0;
            while (!stop.get()) {
                one[0] = (byte) next;
                if (port.send(one) == 1) {
                    next++;
                    sent.incrementAndGet();
                } else {
                    Thread.onSpinWait();
                }
            }
        }, "host-sender");
        host.start();
        try {
            for (int session = 0; session < 3; session++) {
                if (session > 0) {
                    drv.write(STATUS, 0);
                    linux = new LinuxConsoleDriver(drv);
                }
                linux.probe(ALL);
                linux.fill(CONTROL_RECEIVEQ, LinuxConsoleDriver.CONTROL_RING);
                linux.control(BAD_ID, DEVICE_READY, 1);
                linux.controlMessages(3);
                linux.fill(rxQueue(1), 8);
                linux.control(1, PORT_READY, 1);
                linux.controlMessages(2);
                linux.control(1, PORT_OPEN, 1);
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (got.size() < 20_000 && System.nanoTime() < deadline) {
                    got.writeBytes(linux.read(1));
                }
                byte[] b = got.toByteArray();
                assertTrue(b.length >= 20_000, "session " + session + " read " + b.length + " bytes");
                for (int i = 1; i < b.length; i++) {
                    assertEquals((byte) (b[i - 1] + 1), b[i], "session " + session + ": byte " + i + " out of order");
                }
            }
        } finally {
            stop.set(true);
            host.join(10_000);
        }
        assertTrue(sent.get() >= 60_000);
        assertEquals(0, drv.status() & Virtio.STATUS_DEVICE_NEEDS_RESET, errors.toString());
        assertEquals(List.of(), errors);
    }
}
