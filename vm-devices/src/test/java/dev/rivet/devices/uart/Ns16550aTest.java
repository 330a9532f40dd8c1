package dev.rivet.devices.uart;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.MmioDevice;
import dev.rivet.core.fdt.Fdt;
import dev.rivet.core.irq.IrqLine;
import dev.rivet.devices.DeviceTrees;
import dev.rivet.devices.MmioDeviceContract;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.rivet.devices.uart.Ns16550a.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Drives the UART the way Linux's 8250 driver (drivers/tty/serial/8250/8250_port.c:
 * autoconfig, serial8250_do_startup, the console and the interrupt handler) and OpenSBI's
 * uart8250 driver do.
 */
class Ns16550aTest extends MmioDeviceContract {
    /** An interrupt wire that remembers its level. */
    static final class Wire implements IrqLine {
        volatile boolean level;

        @Override
        public void set(boolean l) {
            level = l;
        }
    }

    final Wire irq = new Wire();
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    Ns16550a uart;

    @BeforeEach
    void setUp() {
        uart = new Ns16550a(irq, out, log);
    }

    @Override
    protected MmioDevice newDevice() {
        return new Ns16550a(new Wire(), OutputStream.nullOutputStream(), log);
    }

    @Override
    protected long regionSize() {
        return MMIO_SIZE;
    }

    @Override
    protected long[] unknownOffsets() {
        return new long[] {8, 9, 0x10, 0x80, 0xFF};
    }

    @Override
    protected Map<String, Long> readableState(MmioDevice d) {
        Map<String, Long> s = new LinkedHashMap<>();
        for (String reg : new String[] {"LCR", "IER", "MCR", "LSR", "MSR", "SCR", "IIR"}) {
            s.put(reg, d.read(offsetOf(reg), 1));
        }
        long lcr = d.read(LCR, 1);
        d.write(LCR, 1, LCR_DLAB);
        s.put("DLL", d.read(DLL, 1));
        s.put("DLM", d.read(DLM, 1));
        d.write(LCR, 1, lcr);
        s.put("RBR", d.read(RBR, 1));
        s.put("LSR after RBR", d.read(LSR, 1));
        return s;
    }

    private static int offsetOf(String reg) {
        return switch (reg) {
            case "LCR" -> LCR;
            case "IER" -> IER;
            case "MCR" -> MCR;
            case "LSR" -> LSR;
            case "MSR" -> MSR;
            case "SCR" -> SCR;
            case "IIR" -> IIR;
            default -> throw new IllegalArgumentException(reg);
        };
    }

    int in(int reg) {
        return (int) Bus.readDevice(uart, reg, 1);
    }

    void out(int reg, int value) {
        Bus.writeDevice(uart, reg, 1, value);
    }

    String sent() {
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void powerOnState() {
        assertEquals(0, in(IER));
        assertEquals(IIR_NO_INT, in(IIR));
        assertEquals(0, in(LCR));
        assertEquals(0, in(MCR));
        assertEquals(LSR_THRE | LSR_TEMT, in(LSR));
        assertEquals(MSR_CTS | MSR_DSR | MSR_DCD, in(MSR));
        assertFalse(irq.level);
    }

    /** autoconfig(): the scratch test on IER, then the loopback test on MSR. */
    @Test
    void linuxProbeScratchAndLoopbackTests() {
        int scratch = in(IER);
        out(IER, 0);
        int scratch2 = in(IER) & 0x0F;
        out(IER, 0x0F);
        int scratch3 = in(IER) & 0x0F;
        out(IER, scratch);
        assertEquals(0, scratch2);
        assertEquals(0x0F, scratch3);

        int saveMcr = in(MCR);
        out(MCR, MCR_LOOP | MCR_OUT2 | MCR_RTS);
        int status1 = in(MSR) & 0xF0;
        out(MCR, saveMcr);
        assertEquals(MSR_DCD | MSR_CTS, status1, "loopback: RTS -> CTS, OUT2 -> DCD");
        assertTrue(guestErrors.isEmpty(), guestErrors.toString());
    }

    /** autoconfig(): FIFO detection (IIR bits 7:6) and autoconfig_16550a()'s variant probes. */
    @Test
    void linuxProbeFindsA16550A() {
        out(LCR, 0xBF);
        out(FCR, 0); // the EFR write: FCR on a 16550A
        out(LCR, 0);
        out(FCR, FCR_ENABLE);
        assertEquals(3, in(IIR) >> 6, "16550A: FIFOs enabled read as IIR bits 7:6 = 11");

        // No EFR behind DLAB (ST16C650V1) or behind LCR = 0xBF (ST16C650V2).
        out(LCR, 0x80);
        assertTrue(in(2) != 0);
        out(LCR, 0xBF);
        assertTrue(in(2) != 0);

        // Not a National SuperIO: IIR bit 4 must not follow MCR.LOOP.
        out(LCR, 0);
        int status1 = in(MCR);
        out(LCR, 0xE0);
        int status2 = in(2);
        assertEquals(0, (status1 ^ status2) & MCR_LOOP);
        out(LCR, 0);
        out(MCR, status1 ^ MCR_LOOP);
        out(LCR, 0xE0);
        status2 = in(2);
        out(LCR, 0);
        out(MCR, status1);
        assertEquals(0, (status2 ^ status1) & MCR_LOOP, "IIR must not echo MCR.LOOP");

        // Not a TI16750: IIR bit 5 (64-byte FIFO) never sets.
        out(FCR, FCR_ENABLE | 0x20);
        assertEquals(0, in(IIR) & 0x20);
        out(LCR, 0x80);
        out(FCR, FCR_ENABLE | 0x20);
        assertEquals(0, in(IIR) & 0x20);
        out(FCR, FCR_ENABLE);
        out(LCR, 0);

        // Not an XScale: IER bit 6 (UUE) does not stick.
        int iersave = in(IER);
        out(IER, iersave | 0x40);
        assertEquals(0, in(IER) & 0x40);
        out(IER, iersave);

        // serial8250_clear_fifos(), then FIFOs off until set_termios.
        out(FCR, FCR_ENABLE);
        out(FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
        out(FCR, 0);
        assertEquals(0, in(IIR) >> 6);
        assertTrue(guestErrors.isEmpty(), guestErrors.toString());
    }

    /** set_termios: 8N1 at 115200 through the divisor latch, then FIFOs with an 8-byte trigger. */
    @Test
    void baudDivisorThroughDlab() {
        out(IER, IER_ERBFI | IER_ELSI);
        out(LCR, LCR_DLAB | 0x03);
        out(DLL, 2);
        out(DLM, 0);
        assertEquals(2, in(DLL));
        assertEquals(0, in(DLM));
        out(LCR, 0x03);
        assertEquals(115_200, uart.baudRate(), "3.6864 MHz / (16 * 2)");
        assertEquals(IER_ERBFI | IER_ELSI, in(IER), "with DLAB clear, offset 1 is IER again");
        assertEquals("", sent(), "the DLL write must not transmit");
        out(FCR, FCR_ENABLE | 0x80);
        assertEquals(0xC0, in(IIR) & 0xC0);
    }

    @Test
    void transmittedBytesReachTheSinkAtOnce() {
        for (byte b : "hello\n".getBytes(StandardCharsets.US_ASCII)) {
            // serial8250_console_putchar: wait for THRE, then write.
            assertTrue((in(LSR) & LSR_THRE) != 0);
            out(THR, b);
            assertEquals(LSR_THRE | LSR_TEMT, in(LSR) & (LSR_THRE | LSR_TEMT));
        }
        assertEquals("hello\n", sent());
    }

    @Test
    void everyByteIsFlushed() {
        int[] flushes = {0};
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        OutputStream sink = new OutputStream() {
            @Override
            public void write(int b) {
                bytes.write(b);
            }

            @Override
            public void flush() {
                flushes[0]++;
            }
        };
        Ns16550a u = new Ns16550a(irq, sink, log);
        Bus.writeDevice(u, THR, 1, '$');
        Bus.writeDevice(u, THR, 1, ' ');
        assertEquals("$ ", bytes.toString(StandardCharsets.US_ASCII));
        assertEquals(2, flushes[0], "a prompt without a newline must show at once");
    }

    @Test
    void aFailingSinkIsCountedNotThrown() {
        OutputStream broken = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("pipe closed");
            }
        };
        Ns16550a u = new Ns16550a(irq, broken, log);
        Bus.writeDevice(u, THR, 1, 'x');
        Bus.writeDevice(u, THR, 1, 'y');
        assertEquals(2, u.txErrors());
        assertEquals(1, guestErrors.size(), "reported once: " + guestErrors);
    }

    @Test
    void intConsumerSink() {
        StringBuilder sb = new StringBuilder();
        Ns16550a u = new Ns16550a(irq, b -> sb.append((char) b), log);
        Bus.writeDevice(u, THR, 1, 'o');
        Bus.writeDevice(u, THR, 1, 'k');
        assertEquals("ok", sb.toString());
    }

    /**
     * serial8250_do_startup()'s THRE test: enabling ETBEI with THR empty must interrupt,
     * and again after IER is cleared and set (else Linux assumes UART_BUG_THRE).
     */
    @Test
    void thrEmptyInterruptWhenEtbeiIsSetWhileEmpty() {
        out(IER, IER_ETBEI);
        assertTrue(irq.level);
        int iir1 = in(IIR);
        assertEquals(IIR_THRE, iir1 & 0x0F);
        assertFalse(irq.level, "reading IIR that reports THRE clears it");
        assertEquals(IIR_NO_INT, in(IIR) & 0x0F);
        out(IER, 0);
        out(IER, IER_ETBEI);
        assertEquals(IIR_THRE, in(IIR) & 0x0F, "re-asserted after IER toggles");
        out(IER, 0);
        assertFalse(irq.level);

        // The UART_BUG_TXEN probe: LSR.TEMT and an interrupt right after enabling ETBEI.
        out(IER, IER_ETBEI);
        int lsr = in(LSR);
        int iir = in(IIR);
        out(IER, 0);
        assertTrue((lsr & LSR_TEMT) != 0);
        assertEquals(0, iir & IIR_NO_INT);
    }

    /** The interrupt-driven TX path: start_tx sets ETBEI, each THRE interrupt sends a FIFO's worth. */
    @Test
    void interruptDrivenTransmit() {
        out(FCR, FCR_ENABLE | 0x80);
        out(IER, IER_ERBFI | IER_ELSI);
        byte[] msg = "The quick brown fox jumps over the lazy dog\r\n".getBytes(StandardCharsets.US_ASCII);
        int next = 0;
        out(IER, IER_ERBFI | IER_ELSI | IER_ETBEI); // __start_tx
        int interrupts = 0;
        while (irq.level) {
            interrupts++;
            int iir = in(IIR);
            assertEquals(IIR_THRE, iir & 0x0F);
            // serial8250_tx_chars: up to tx_loadsz bytes, then stop_tx when done.
            for (int n = 0; n < FIFO_SIZE && next < msg.length; n++) {
                out(THR, msg[next++]);
            }
            if (next == msg.length) {
                out(IER, IER_ERBFI | IER_ELSI);
            }
            assertTrue(interrupts < 10);
        }
        assertEquals(new String(msg, StandardCharsets.US_ASCII), sent());
        assertEquals(3, interrupts, "45 bytes in 16-byte bursts");
    }

    @Test
    void fifoEnableClearAndTriggerLevels() {
        out(FCR, FCR_ENABLE);
        assertEquals(0xC0, in(IIR) & 0xC0);
        assertEquals(3, uart.offer("abc".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(LSR_DR, in(LSR) & LSR_DR);
        out(FCR, FCR_ENABLE | FCR_CLEAR_RX);
        assertEquals(0, in(LSR) & LSR_DR, "FCR bit 1 empties the receiver");
        assertEquals(0xC0, in(IIR) & 0xC0, "FIFOs stay enabled");
        uart.offer("xyz".getBytes(StandardCharsets.US_ASCII));
        out(FCR, 0);
        assertEquals(0, in(LSR) & LSR_DR, "turning FIFOs off empties them");
        assertEquals(0, in(IIR) & 0xC0);
    }

    /** Pasted or piped input is held on the host side until the receiver has room: nothing is lost. */
    @Test
    void hostInputWaitsForRoomInTheReceiver() {
        out(FCR, FCR_ENABLE);
        byte[] data = new byte[40];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) ('A' + i);
        }
        assertEquals(40, uart.offer(data));
        assertEquals(0, in(LSR) & LSR_OE, "no overrun");
        StringBuilder got = new StringBuilder();
        while ((in(LSR) & LSR_DR) != 0) {
            got.append((char) in(RBR));
        }
        assertEquals(new String(data, StandardCharsets.US_ASCII), got.toString());
        assertEquals(0, uart.rxDropped());
    }

    @Test
    void aFullHostQueueDropsAndCounts() {
        assertEquals(HOST_QUEUE_SIZE, uart.rxSpace());
        assertEquals(HOST_QUEUE_SIZE, uart.offer(new byte[HOST_QUEUE_SIZE + 10]));
        assertEquals(10, uart.rxDropped());
        assertEquals(1, uart.rxSpace(), "one byte has moved on into the RBR");
        assertEquals(1, uart.offer(new byte[] {1, 2}));
        assertEquals(11, uart.rxDropped());
        in(RBR); // the next byte moves from the host queue into the RBR
        assertEquals(1, uart.rxSpace());
    }

    @Test
    void withoutFifosTheReceiverHoldsOneByte() {
        assertEquals(2, uart.offer(new byte[] {'1', '2'}));
        assertEquals('1', in(RBR));
        assertEquals(LSR_DR, in(LSR) & LSR_DR, "the next byte arrives once the RBR is free");
        assertEquals('2', in(RBR));
        assertEquals(0, in(LSR) & LSR_DR);
    }

    /** The receiver overruns when the guest sends itself more than it reads in loopback. */
    @Test
    void loopbackOverrunSetsOe() {
        out(FCR, FCR_ENABLE);
        out(MCR, MCR_LOOP);
        for (int i = 0; i < 20; i++) {
            out(THR, 'a' + i);
        }
        assertEquals(LSR_DR | LSR_OE, in(LSR) & (LSR_DR | LSR_OE));
        assertEquals(0, in(LSR) & LSR_OE, "OE clears on read");
        StringBuilder got = new StringBuilder();
        while ((in(LSR) & LSR_DR) != 0) {
            got.append((char) in(RBR));
        }
        assertEquals("abcdefghijklmnop", got.toString(), "the bytes after the 16th are lost");
    }

    /** The receive interrupt, and IIR's priorities (datasheet table 5). */
    @Test
    void receiveInterruptAndPriorities() {
        out(FCR, FCR_ENABLE | 0x80); // Linux: 8-byte trigger
        out(IER, IER_ERBFI | IER_ELSI | IER_ETBEI | IER_EDSSI);
        assertEquals(IIR_THRE, in(IIR) & 0x0F, "THR empty after enabling ETBEI");
        assertFalse(irq.level);

        uart.offer(new byte[] {'k'});
        assertTrue(irq.level, "one typed key interrupts at once");
        assertEquals(IIR_CTI, in(IIR) & 0x0F, "below the trigger level: character timeout");
        assertEquals('k', in(RBR));
        assertFalse(irq.level);

        uart.offer("12345678".getBytes(StandardCharsets.US_ASCII));
        assertEquals(IIR_RDA, in(IIR) & 0x0F, "at the trigger level: received data available");
        // serial8250_rx_chars: read while DR.
        StringBuilder got = new StringBuilder();
        while ((in(LSR) & LSR_DR) != 0) {
            got.append((char) in(RBR));
        }
        assertEquals("12345678", got.toString());
        assertFalse(irq.level);

        out(MCR, MCR_LOOP); // modem status changes (lowest priority) ...
        for (int i = 0; i < 17; i++) {
            out(THR, 'a' + i); // ... THR empty (above it) and an overrun with a full FIFO
        }
        assertEquals(IIR_RLS, in(IIR) & 0x0F, "line status has the highest priority");
        assertEquals(LSR_OE, in(LSR) & LSR_OE);
        assertEquals(IIR_RDA, in(IIR) & 0x0F, "then received data, once LSR was read");
        while ((in(LSR) & LSR_DR) != 0) {
            in(RBR);
        }
        assertEquals(IIR_THRE, in(IIR) & 0x0F, "then THR empty");
        assertEquals(IIR_MS, in(IIR) & 0x0F, "modem status is the lowest priority");
        assertTrue(irq.level);
        in(MSR);
        assertEquals(IIR_NO_INT, in(IIR) & 0x0F);
        assertFalse(irq.level);
        out(MCR, 0);
    }

    @Test
    void interruptsFollowIer() {
        uart.offer(new byte[] {'z'});
        assertFalse(irq.level, "ERBFI clear: no interrupt");
        assertEquals(IIR_NO_INT, in(IIR));
        out(IER, IER_ERBFI);
        assertTrue(irq.level);
        assertEquals(IIR_RDA, in(IIR), "no FIFO: every byte is data available");
        out(IER, 0);
        assertFalse(irq.level);
    }

    @Test
    void loopbackSendsTransmittedBytesToTheReceiver() {
        out(FCR, FCR_ENABLE);
        out(MCR, MCR_LOOP);
        out(THR, 0x55);
        out(THR, 0xAA);
        assertEquals("", sent(), "nothing leaves the chip in loopback");
        assertEquals(1, uart.offer(new byte[] {'h'}));
        assertEquals(0x55, in(RBR));
        assertEquals(0xAA, in(RBR));
        assertEquals(0, in(LSR) & LSR_DR, "host input waits while the receiver is looped back");
        out(MCR, 0);
        assertEquals('h', in(RBR));
        out(THR, 'x');
        assertEquals("x", sent());
    }

    @Test
    void modemStatusDeltasInLoopback() {
        out(MCR, MCR_LOOP);
        in(MSR); // clear the deltas of entering loopback
        out(MCR, MCR_LOOP | MCR_RTS | MCR_DTR);
        assertEquals(MSR_CTS | MSR_DSR | MSR_DCTS | MSR_DDSR, in(MSR));
        assertEquals(MSR_CTS | MSR_DSR, in(MSR), "deltas clear on read");
        out(MCR, MCR_LOOP | MCR_OUT1);
        assertEquals(MSR_RI | MSR_DCTS | MSR_DDSR, in(MSR), "no TERI on the leading edge of RI");
        out(MCR, MCR_LOOP);
        assertEquals(MSR_TERI, in(MSR), "TERI on the trailing edge");
        out(MCR, 0);
        assertEquals(MSR_CTS | MSR_DSR | MSR_DCD | MSR_DCTS | MSR_DDSR | MSR_DDCD, in(MSR));
    }

    @Test
    void scratchRegister() {
        out(SCR, 0xA5);
        assertEquals(0xA5, in(SCR));
    }

    @Test
    void resetLowersTheInterrupt() {
        out(IER, IER_ETBEI);
        assertTrue(irq.level);
        uart.reset();
        assertFalse(irq.level);
        assertEquals(0, in(IER));
    }

    /** A host thread pastes while the hart drains the receiver. */
    @Test
    void offerFromAnotherThread() throws Exception {
        out(FCR, FCR_ENABLE | 0x80);
        byte[] text = new byte[20_000];
        for (int i = 0; i < text.length; i++) {
            text[i] = (byte) i;
        }
        Thread host = new Thread(() -> {
            for (int at = 0; at < text.length; at += 100) {
                assertEquals(100, uart.offer(java.util.Arrays.copyOfRange(text, at, at + 100)));
            }
        });
        host.start();
        byte[] got = new byte[text.length];
        int n = 0;
        while (n < got.length) {
            if ((in(LSR) & LSR_DR) != 0) {
                got[n++] = (byte) in(RBR);
            } else {
                Thread.onSpinWait();
            }
        }
        host.join();
        assertArrayEquals(text, got);
        assertEquals(0, uart.rxDropped());
    }

    @Test
    void deviceTreeNode() throws Exception {
        Fdt fdt = new Fdt();
        uart.addTo(fdt.node("/soc"), 0x1000_0000L, MMIO_SIZE, 10, 3);
        assertEquals("""
                serial@10000000 {
                interrupts = <0x0a>;
                interrupt-parent = <0x03>;
                clock-frequency = "\\08@";
                reg = <0x00 0x10000000 0x00 0x100>;
                compatible = "ns16550a";
                };
                """, DeviceTrees.node(fdt, "serial@10000000"));
    }

    @Test
    void deviceTreeNodeMatchesQemu() throws Exception {
        String qemu = DeviceTrees.node(DeviceTrees.qemuVirt(), "serial@10000000");
        Fdt fdt = new Fdt();
        uart.addTo(fdt.node("/soc"), 0x1000_0000L, MMIO_SIZE, 10, 3); // QEMU's PLIC phandle is 3
        assertEquals(qemu, DeviceTrees.node(fdt, "serial@10000000"));
    }
}
