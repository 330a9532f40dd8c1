package dev.rivet.devices.uart;

import dev.rivet.core.bus.GuestErrorLog;
import dev.rivet.core.bus.MmioDevice;
import dev.rivet.core.fdt.FdtNode;
import dev.rivet.core.irq.IrqLine;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.IntConsumer;

/**
 * NS16550A UART, the serial port of QEMU's {@code virt} board at 0x1000_0000. Registers and
 * behaviour follow the National Semiconductor / TI PC16550D datasheet (TI SNLS378): sections
 * 8.0 "Registers" (table 4, "Summary of Registers"), 8.4 "Line Status Register", 8.5
 * "FIFO Control Register", 8.6 "Interrupt Identification Register" (table 5, priorities),
 * 8.7 "Interrupt Enable Register", 8.8 "Modem Control Register" (loopback), 8.9 "Modem
 * Status Register"; where the datasheet leaves room, this does what QEMU's
 * hw/char/serial.c does, because that is what Linux's drivers/tty/serial/8250/8250_port.c
 * is used to on this board.
 *
 * <p>The line has no timing: a byte written to THR is handed to the host sink at once and
 * the transmitter is empty again (LSR.THRE and TEMT always read 1), so with IER.ETBEI set
 * the THR-empty interrupt is pending right after every write, and also when ETBEI is set
 * while THR is already empty (what Linux's TX path and its start-up THRE test rely on).
 * Reading IIR when it reports THR empty clears that interrupt until the next write or
 * the next 0→1 change of ETBEI.
 *
 * <p>Receiving: the host calls {@link #offer} from any thread. Its bytes wait in a
 * flow-controlled host queue ({@value #HOST_QUEUE_SIZE} bytes; what does not fit is
 * dropped and counted in {@link #rxDropped()}) and move into the receiver as it has room:
 * 16 bytes with FIFOs enabled (FCR bit 0), one (the RBR) without. So pasted or piped
 * input arrives whole, as through QEMU's character backend, which only hands the UART as
 * much as it can take. The interrupt source is "received data available" when the FIFO
 * holds at least the FCR trigger level and "character timeout" when it holds fewer: with
 * no line timing, the host's data having ended counts as the four idle character times,
 * so the guest hears about every byte. The receiver overruns (LSR.OE, byte lost) only in
 * loopback, when the guest sends more than it reads.
 *
 * <p>In loopback (MCR bit 4) transmitted bytes come back into the receiver, host input
 * waits in its queue until loopback ends, and the modem status inputs follow MCR:
 * CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2. Outside loopback the modem inputs read CTS, DSR
 * and DCD asserted (QEMU's default for a port with no real modem lines).
 *
 * <p>Access size 1 (the bus fixes up others). Thread-safe: MMIO from hart threads and
 * {@link #offer} from a host thread; the interrupt line is driven under the device's lock,
 * so the line's implementation must not call back into this device.
 */
public final class Ns16550a implements MmioDevice {
    /** Size of the register window in QEMU virt's device tree ({@code reg} size). */
    public static final long MMIO_SIZE = 0x100;
    /** Input clock QEMU advertises ({@code clock-frequency} = 0x384000, 3.6864 MHz). */
    public static final int CLOCK_HZ = 3_686_400;

    // Register offsets (datasheet table 4). Same offset, different register by direction and LCR.DLAB.
    /** Read, DLAB=0: receiver buffer. */
    public static final int RBR = 0;
    /** Write, DLAB=0: transmitter holding register. */
    public static final int THR = 0;
    /** DLAB=1: divisor latch, low byte. */
    public static final int DLL = 0;
    /** DLAB=0: interrupt enable. */
    public static final int IER = 1;
    /** DLAB=1: divisor latch, high byte. */
    public static final int DLM = 1;
    /** Read: interrupt identification. */
    public static final int IIR = 2;
    /** Write: FIFO control. */
    public static final int FCR = 2;
    public static final int LCR = 3;
    public static final int MCR = 4;
    public static final int LSR = 5;
    public static final int MSR = 6;
    public static final int SCR = 7;

    // IER bits (8.7).
    public static final int IER_ERBFI = 0x01, IER_ETBEI = 0x02, IER_ELSI = 0x04, IER_EDSSI = 0x08;
    private static final int IER_MASK = 0x0F;

    // IIR values (8.6, table 5), highest priority first.
    public static final int IIR_NO_INT = 0x01;
    public static final int IIR_RLS = 0x06, IIR_RDA = 0x04, IIR_CTI = 0x0C, IIR_THRE = 0x02, IIR_MS = 0x00;
    /** IIR bits 7:6 read 11 when FCR bit 0 enabled the FIFOs. */
    public static final int IIR_FIFO_ENABLED = 0xC0;
    private static final int IIR_ID_MASK = 0x0F;

    // FCR bits (8.5).
    public static final int FCR_ENABLE = 0x01, FCR_CLEAR_RX = 0x02, FCR_CLEAR_TX = 0x04, FCR_DMA_MODE = 0x08;
    private static final int FCR_TRIGGER_SHIFT = 6;
    private static final int[] RX_TRIGGER_LEVELS = {1, 4, 8, 14};
    /** What FCR keeps (the clear bits are self-clearing, bits 5:4 reserved). */
    private static final int FCR_STORED = 0xC9;

    // LCR bits (8.1).
    public static final int LCR_DLAB = 0x80;

    // MCR bits (8.8).
    public static final int MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08, MCR_LOOP = 0x10;
    private static final int MCR_MASK = 0x1F;

    // LSR bits (8.4).
    public static final int LSR_DR = 0x01, LSR_OE = 0x02, LSR_PE = 0x04, LSR_FE = 0x08, LSR_BI = 0x10,
            LSR_THRE = 0x20, LSR_TEMT = 0x40, LSR_RX_FIFO_ERROR = 0x80;
    private static final int LSR_ERRORS = LSR_OE | LSR_PE | LSR_FE | LSR_BI;

    // MSR bits (8.9): deltas in 3:0, line states in 7:4.
    public static final int MSR_DCTS = 0x01, MSR_DDSR = 0x02, MSR_TERI = 0x04, MSR_DDCD = 0x08,
            MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80;
    private static final int MSR_DELTAS = 0x0F;
    /** Modem inputs outside loopback: CTS, DSR and DCD asserted, no ring. */
    private static final int MODEM_LINES_IDLE = MSR_CTS | MSR_DSR | MSR_DCD;

    /** Receiver FIFO depth with FIFOs enabled (the RBR alone holds one byte without). */
    public static final int FIFO_SIZE = 16;
    /** Host input waiting for room in the receiver. */
    public static final int HOST_QUEUE_SIZE = 64 * 1024;
    /** Divisor QEMU starts with (9600 baud from a 1.8432 MHz clock). */
    private static final int DIVISOR_RESET = 0x0C;

    private final IrqLine irq;
    private final IntConsumer tx;
    private final GuestErrorLog log;

    // Device state (plain fields, snapshot-ready). All guarded by this.
    private int ier;
    private int fcr;
    private int lcr;
    private int mcr;
    private int lsr;
    /** Modem status: line states in 7:4, deltas in 3:0. */
    private int msr;
    private int scr;
    private int dll;
    private int dlm;
    /** THR-empty interrupt pending (cleared by reading IIR that reports it, or by writing THR). */
    private boolean thrInterrupt;
    private final byte[] rxFifo = new byte[FIFO_SIZE];
    private int rxHead;
    private int rxCount;

    // The host side of the line: input not yet in the receiver. It is not part of the chip,
    // so reset() leaves it (typed-ahead input survives a reboot, as with QEMU's backends).
    private final byte[] hostQueue = new byte[HOST_QUEUE_SIZE];
    private int hostHead;
    private int hostCount;
    /** Host bytes dropped because the host queue was full (statistic). */
    private long rxDropped;

    /**
     * A UART whose transmitted bytes go to {@code tx}, flushed after every byte so the
     * console is live. An {@link IOException} from the stream drops the byte: it is
     * counted ({@link #txErrors()}) and the first one is reported to {@code log}.
     */
    public Ns16550a(IrqLine irq, OutputStream tx, GuestErrorLog log) {
        this(irq, new StreamSink(tx, log), log);
    }

    /**
     * A UART whose transmitted bytes (0–255) go to {@code tx} one at a time; the sink
     * does its own flushing and error handling.
     */
    public Ns16550a(IrqLine irq, IntConsumer tx, GuestErrorLog log) {
        this.irq = Objects.requireNonNull(irq, "irq");
        this.tx = Objects.requireNonNull(tx, "tx");
        this.log = Objects.requireNonNull(log, "log");
        reset();
    }

    /** Writes and flushes each byte; counts (and reports once) host I/O errors. */
    private static final class StreamSink implements IntConsumer {
        private final OutputStream out;
        private final GuestErrorLog log;
        private long errors;

        StreamSink(OutputStream out, GuestErrorLog log) {
            this.out = Objects.requireNonNull(out, "tx");
            this.log = Objects.requireNonNull(log, "log");
        }

        @Override
        public void accept(int b) {
            try {
                out.write(b);
                out.flush();
            } catch (IOException e) {
                if (errors++ == 0) {
                    log.guestError("ns16550a: console output failed, dropping bytes: " + e.getMessage());
                }
            }
        }
    }

    @Override
    public String name() {
        return "ns16550a";
    }

    @Override
    public int accessSizes() {
        return SIZE_1;
    }

    @Override
    public synchronized void reset() {
        ier = 0;
        fcr = 0;
        lcr = 0;
        mcr = 0;
        lsr = LSR_THRE | LSR_TEMT;
        msr = MODEM_LINES_IDLE;
        scr = 0;
        dll = DIVISOR_RESET;
        dlm = 0;
        thrInterrupt = false;
        rxHead = 0;
        rxCount = 0;
        Arrays.fill(rxFifo, (byte) 0);
        pumpHostInput();
        updateIrq();
    }

    @Override
    public synchronized long read(long offset, int size) {
        boolean dlab = (lcr & LCR_DLAB) != 0;
        return switch (register(offset)) {
            case RBR -> dlab ? dll : readRbr();
            case IER -> dlab ? dlm : ier;
            case IIR -> readIir();
            case LCR -> lcr;
            case MCR -> mcr;
            case LSR -> readLsr();
            case MSR -> readMsr();
            case SCR -> scr;
            default -> {
                log.guestError(String.format("%s: read of unknown register at offset 0x%x", name(), offset));
                yield 0;
            }
        };
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        int v = (int) value & 0xFF;
        boolean dlab = (lcr & LCR_DLAB) != 0;
        switch (register(offset)) {
            case THR -> {
                if (dlab) {
                    dll = v;
                } else {
                    writeThr(v);
                }
            }
            case IER -> {
                if (dlab) {
                    dlm = v;
                } else {
                    writeIer(v);
                }
            }
            case FCR -> writeFcr(v);
            case LCR -> lcr = v;
            case MCR -> writeMcr(v);
            case LSR, MSR -> {
                // Read-only status registers (factory test only on the real chip): ignored, as in QEMU.
            }
            case SCR -> scr = v;
            default -> log.guestError(String.format("%s: write of 0x%x to unknown register at offset 0x%x",
                    name(), value, offset));
        }
    }

    private static int register(long offset) {
        return offset >= 0 && offset <= SCR ? (int) offset : -1;
    }

    // ---------------------------------------------------------------------------------
    // Receiver.

    private boolean fifoEnabled() {
        return (fcr & FCR_ENABLE) != 0;
    }

    private int rxCapacity() {
        return fifoEnabled() ? FIFO_SIZE : 1;
    }

    private int readRbr() {
        if (rxCount == 0) {
            return 0;
        }
        int b = rxFifo[rxHead] & 0xFF;
        rxHead = (rxHead + 1) % FIFO_SIZE;
        rxCount--;
        if (rxCount == 0) {
            lsr &= ~LSR_DR;
        }
        pumpHostInput();
        updateIrq();
        return b;
    }

    /** One byte arriving at the receiver; a full receiver overruns (8.4, LSR bit 1). */
    private void receive(int b) {
        if (rxCount >= rxCapacity()) {
            lsr |= LSR_OE;
            return;
        }
        rxFifo[(rxHead + rxCount) % FIFO_SIZE] = (byte) b;
        rxCount++;
        lsr |= LSR_DR;
    }

    /** Moves waiting host input into the receiver while it has room (never in loopback). */
    private void pumpHostInput() {
        if ((mcr & MCR_LOOP) != 0) {
            return;
        }
        int capacity = rxCapacity();
        while (hostCount > 0 && rxCount < capacity) {
            receive(hostQueue[hostHead] & 0xFF);
            hostHead = (hostHead + 1) % HOST_QUEUE_SIZE;
            hostCount--;
        }
    }

    private void clearRx() {
        rxHead = 0;
        rxCount = 0;
        lsr &= ~(LSR_DR | LSR_BI);
    }

    /**
     * Host input: queues as many bytes as the host queue has room for, moves what fits
     * into the receiver and raises the receive interrupt. The rest are dropped and counted
     * in {@link #rxDropped()}. Returns how many bytes were accepted. Safe from any thread.
     */
    public synchronized int offer(byte[] data) {
        int accepted = Math.min(data.length, HOST_QUEUE_SIZE - hostCount);
        for (int i = 0; i < accepted; i++) {
            hostQueue[(hostHead + hostCount) % HOST_QUEUE_SIZE] = data[i];
            hostCount++;
        }
        rxDropped += data.length - accepted;
        pumpHostInput();
        updateIrq();
        return accepted;
    }

    /** How many bytes {@link #offer} would accept now. Safe from any thread. */
    public synchronized int rxSpace() {
        return HOST_QUEUE_SIZE - hostCount;
    }

    /** Host bytes dropped because the host queue was full. */
    public synchronized long rxDropped() {
        return rxDropped;
    }

    /** Transmitted bytes the output stream failed to take (0 with an {@link IntConsumer} sink). */
    public synchronized long txErrors() {
        return tx instanceof StreamSink s ? s.errors : 0;
    }

    // ---------------------------------------------------------------------------------
    // Transmitter.

    private void writeThr(int b) {
        if ((mcr & MCR_LOOP) != 0) {
            receive(b);
        } else {
            tx.accept(b);
        }
        // Sent at once: THR and the shift register are empty again.
        lsr |= LSR_THRE | LSR_TEMT;
        thrInterrupt = true;
        updateIrq();
    }

    private void writeIer(int v) {
        int old = ier;
        ier = v & IER_MASK;
        // Enabling ETBEI while THR is empty raises the THRE interrupt even if an IIR read
        // had cleared it (QEMU serial.c; Linux's start-up test and TX path rely on it).
        if (((old ^ ier) & IER_ETBEI) != 0) {
            thrInterrupt = (ier & IER_ETBEI) != 0 && (lsr & LSR_THRE) != 0;
        }
        updateIrq();
    }

    private void writeFcr(int v) {
        // Changing FCR bit 0 empties both FIFOs (8.5).
        if (((v ^ fcr) & FCR_ENABLE) != 0) {
            v |= FCR_CLEAR_RX | FCR_CLEAR_TX;
        }
        if ((v & FCR_CLEAR_RX) != 0) {
            clearRx();
        }
        if ((v & FCR_CLEAR_TX) != 0) {
            lsr |= LSR_THRE | LSR_TEMT;
            thrInterrupt = true;
        }
        fcr = v & FCR_STORED;
        pumpHostInput();
        updateIrq();
    }

    private int rxTriggerLevel() {
        return RX_TRIGGER_LEVELS[(fcr >>> FCR_TRIGGER_SHIFT) & 3];
    }

    // ---------------------------------------------------------------------------------
    // Status and interrupts.

    private int readIir() {
        int id = interruptId();
        if (id == IIR_THRE) {
            thrInterrupt = false; // reading IIR that reports THRE clears it (table 5)
            updateIrq();
        }
        return id | (fifoEnabled() ? IIR_FIFO_ENABLED : 0);
    }

    private int readLsr() {
        int v = lsr;
        if ((lsr & LSR_ERRORS) != 0) {
            lsr &= ~LSR_ERRORS; // error bits clear on read (8.4)
            updateIrq();
        }
        return v;
    }

    private int readMsr() {
        int v = msr;
        if ((msr & MSR_DELTAS) != 0) {
            msr &= ~MSR_DELTAS; // deltas clear on read (8.9)
            updateIrq();
        }
        return v;
    }

    private void writeMcr(int v) {
        int oldLines = msr & ~MSR_DELTAS;
        mcr = v & MCR_MASK;
        int lines = modemLines();
        int changed = oldLines ^ lines;
        int delta = 0;
        if ((changed & MSR_CTS) != 0) {
            delta |= MSR_DCTS;
        }
        if ((changed & MSR_DSR) != 0) {
            delta |= MSR_DDSR;
        }
        if ((changed & MSR_RI) != 0 && (lines & MSR_RI) == 0) {
            delta |= MSR_TERI; // trailing edge of ring only
        }
        if ((changed & MSR_DCD) != 0) {
            delta |= MSR_DDCD;
        }
        msr = lines | (msr & MSR_DELTAS) | delta;
        pumpHostInput();
        updateIrq();
    }

    /** The modem input lines as MSR bits 7:4: fed back from MCR in loopback (8.8). */
    private int modemLines() {
        if ((mcr & MCR_LOOP) == 0) {
            return MODEM_LINES_IDLE;
        }
        int lines = 0;
        if ((mcr & MCR_RTS) != 0) {
            lines |= MSR_CTS;
        }
        if ((mcr & MCR_DTR) != 0) {
            lines |= MSR_DSR;
        }
        if ((mcr & MCR_OUT1) != 0) {
            lines |= MSR_RI;
        }
        if ((mcr & MCR_OUT2) != 0) {
            lines |= MSR_DCD;
        }
        return lines;
    }

    /** The highest-priority enabled pending interrupt (table 5), or {@link #IIR_NO_INT}. */
    private int interruptId() {
        if ((ier & IER_ELSI) != 0 && (lsr & LSR_ERRORS) != 0) {
            return IIR_RLS;
        }
        if ((ier & IER_ERBFI) != 0 && rxCount > 0) {
            if (!fifoEnabled() || rxCount >= rxTriggerLevel()) {
                return IIR_RDA;
            }
            return IIR_CTI;
        }
        if ((ier & IER_ETBEI) != 0 && thrInterrupt) {
            return IIR_THRE;
        }
        if ((ier & IER_EDSSI) != 0 && (msr & MSR_DELTAS) != 0) {
            return IIR_MS;
        }
        return IIR_NO_INT;
    }

    private void updateIrq() {
        irq.set(interruptId() != IIR_NO_INT);
    }

    /** The baud rate the guest programmed (clock / (16 × divisor)), 0 with a zero divisor. */
    public synchronized int baudRate() {
        int divisor = dlm << 8 | dll;
        return divisor == 0 ? 0 : CLOCK_HZ / (16 * divisor);
    }

    // ---------------------------------------------------------------------------------
    // Device tree.

    /**
     * Adds {@code serial@<base>} under {@code soc} with QEMU virt's properties:
     * {@code interrupts}, {@code interrupt-parent}, {@code clock-frequency}, {@code reg},
     * {@code compatible = "ns16550a"}. The board points {@code /chosen/stdout-path} at it.
     */
    public FdtNode addTo(FdtNode soc, long base, long size, int irqNumber, int plicPhandle) {
        return soc.child("serial@" + Long.toHexString(base))
                .cells("interrupts", irqNumber)
                .cells("interrupt-parent", plicPhandle)
                .cells("clock-frequency", CLOCK_HZ)
                .reg(base, size)
                .prop("compatible", "ns16550a");
    }
}
