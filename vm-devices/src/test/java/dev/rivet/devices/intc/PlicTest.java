package dev.rivet.devices.intc;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.MmioDevice;
import dev.rivet.core.fdt.Fdt;
import dev.rivet.core.fdt.FdtNode;
import dev.rivet.core.irq.IrqLine;
import dev.rivet.devices.DeviceTrees;
import dev.rivet.devices.MmioDeviceContract;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Drives the PLIC the way Linux's irq-sifive-plic driver and OpenSBI do. */
class PlicTest extends MmioDeviceContract {
    static final int SOURCES = 96; // QEMU virt
    static final int UART_IRQ = 10, VIRTIO_IRQ = 1;
    static final int M0 = Plic.machineContext(0), S0 = Plic.supervisorContext(0);
    static final int M1 = Plic.machineContext(1), S1 = Plic.supervisorContext(1);

    /** A context output wire that remembers its level and counts changes. */
    static final class Wire implements IrqLine {
        volatile boolean level;
        volatile int changes;

        @Override
        public void set(boolean l) {
            if (l != level) {
                changes++;
            }
            level = l;
        }
    }

    Wire[] out;
    Plic plic;

    @BeforeEach
    void setUp() {
        out = new Wire[] {new Wire(), new Wire(), new Wire(), new Wire()};
        plic = new Plic(SOURCES, 4, out, log);
    }

    /** Each contract device's context outputs. */
    final Map<MmioDevice, Wire[]> contractWires = new IdentityHashMap<>();

    @Override
    protected MmioDevice newDevice() {
        Wire[] w = {new Wire(), new Wire(), new Wire(), new Wire()};
        Plic d = new Plic(SOURCES, 4, w, log);
        contractWires.put(d, w);
        return d;
    }

    @Override
    protected long regionSize() {
        return Plic.MMIO_SIZE;
    }

    @Override
    protected long[] unknownOffsets() {
        return new long[] {
            priority(SOURCES), 0xFFC, // past the last source
            Plic.PENDING_BASE + 4 * 3, 0x1FFC, // pending words 3.. (sources 96..) do not exist
            enable(0, 96), enable(3, 127), // nor do their enables
            Plic.ENABLE_BASE + Plic.ENABLE_STRIDE * 4L, 0x1FFFFC, // context 4 and beyond
            Plic.CONTEXT_BASE + 8, Plic.CONTEXT_BASE + 0xFFC, // reserved words of context 0
            threshold(4), claim(4), Plic.MMIO_SIZE - 4, // contexts that do not exist
        };
    }

    /** Every register, the output levels, and finally a claim on each context. */
    @Override
    protected Map<String, Long> readableState(MmioDevice d) {
        Map<String, Long> s = new LinkedHashMap<>();
        for (int src = 0; src < SOURCES; src++) {
            s.put("priority " + src, d.read(priority(src), 4));
        }
        for (int word = 0; word < SOURCES / 32; word++) {
            s.put("pending " + word, d.read(Plic.PENDING_BASE + 4L * word, 4));
            for (int c = 0; c < 4; c++) {
                s.put("enable " + c + "/" + word, d.read(enable(c, 32 * word), 4));
            }
        }
        Wire[] w = contractWires.get(d);
        for (int c = 0; c < 4; c++) {
            s.put("threshold " + c, d.read(threshold(c), 4));
            s.put("output " + c, w[c].level ? 1L : 0L);
        }
        for (int c = 0; c < 4; c++) {
            s.put("claim " + c, d.read(claim(c), 4));
        }
        return s;
    }

    long r(long off) {
        return Bus.readDevice(plic, off, 4);
    }

    void w(long off, long v) {
        Bus.writeDevice(plic, off, 4, v);
    }

    static long priority(int src) {
        return Plic.PRIORITY_BASE + 4L * src;
    }

    static long pending(int src) {
        return Plic.PENDING_BASE + 4L * (src / 32);
    }

    static long enable(int ctx, int src) {
        return Plic.ENABLE_BASE + (long) Plic.ENABLE_STRIDE * ctx + 4L * (src / 32);
    }

    static long threshold(int ctx) {
        return Plic.CONTEXT_BASE + (long) Plic.CONTEXT_STRIDE * ctx + Plic.THRESHOLD;
    }

    static long claim(int ctx) {
        return Plic.CONTEXT_BASE + (long) Plic.CONTEXT_STRIDE * ctx + Plic.CLAIM_COMPLETE;
    }

    void enableSource(int ctx, int src) {
        w(enable(ctx, src), r(enable(ctx, src)) | 1L << (src % 32));
    }

    void disableSource(int ctx, int src) {
        w(enable(ctx, src), r(enable(ctx, src)) & ~(1L << (src % 32)));
    }

    boolean isPending(int src) {
        return (r(pending(src)) >>> (src % 32) & 1) != 0;
    }

    /** plic_probe + plic_starting_cpu for the S-mode context of hart 0. */
    void linuxProbe(int ctx) {
        w(threshold(ctx), 7); // PLIC_DISABLE_THRESHOLD
        for (int hwirq = 1; hwirq < SOURCES; hwirq++) {
            disableSource(ctx, hwirq);
            w(priority(hwirq), 1);
        }
        w(threshold(ctx), 0); // PLIC_ENABLE_THRESHOLD
    }

    @Test
    void linuxDriverSequence() {
        linuxProbe(S0);
        assertEquals(1, r(priority(UART_IRQ)));
        enableSource(S0, UART_IRQ); // request_irq -> plic_irq_enable
        assertFalse(out[S0].level);

        IrqLine uart = plic.source(UART_IRQ);
        uart.raise();
        assertTrue(out[S0].level, "SEIP of hart 0");
        assertFalse(out[M0].level, "not enabled for M-mode");
        assertTrue(isPending(UART_IRQ));

        // plic_handle_irq: claim, handle, complete, until claim returns 0.
        assertEquals(UART_IRQ, r(claim(S0)));
        assertFalse(out[S0].level, "claimed: nothing else to take");
        assertFalse(isPending(UART_IRQ));
        uart.lower(); // the 8250 handler services the UART
        w(claim(S0), UART_IRQ);
        assertEquals(0, r(claim(S0)));
        assertFalse(out[S0].level);

        uart.raise();
        assertTrue(out[S0].level, "the next interrupt comes through");
        assertEquals(UART_IRQ, r(claim(S0)));
        uart.lower();
        w(claim(S0), UART_IRQ);
        assertEquals(0, r(claim(S0)));
        assertTrue(guestErrors.isEmpty(), guestErrors.toString());
    }

    /** Completion of a source that is not enabled is ignored; Linux's plic_irq_eoi works around it. */
    @Test
    void completeOfADisabledSourceIsIgnored() {
        linuxProbe(S0);
        enableSource(S0, UART_IRQ);
        IrqLine uart = plic.source(UART_IRQ);
        uart.raise();
        assertEquals(UART_IRQ, r(claim(S0)));
        disableSource(S0, UART_IRQ); // disable_irq() from the handler
        uart.lower();
        w(claim(S0), UART_IRQ);
        uart.raise();
        assertFalse(isPending(UART_IRQ), "still in flight: the completion was ignored");

        // plic_irq_eoi with irqd_irq_disabled: enable, complete, disable.
        enableSource(S0, UART_IRQ);
        w(claim(S0), UART_IRQ);
        disableSource(S0, UART_IRQ);
        assertTrue(isPending(UART_IRQ), "the completion went through and the level is still high");
        assertFalse(out[S0].level, "disabled");
        enableSource(S0, UART_IRQ); // enable_irq()
        assertTrue(out[S0].level);
    }

    @Test
    void prioritiesAndThreshold() {
        for (int src : new int[] {3, 5, 7}) {
            enableSource(M0, src);
        }
        w(priority(3), 2);
        w(priority(5), 5);
        w(priority(7), 5);
        plic.source(3).raise();
        plic.source(5).raise();
        plic.source(7).raise();
        assertTrue(out[M0].level);

        w(threshold(M0), 5);
        assertFalse(out[M0].level, "priority <= threshold is masked");
        assertEquals(0, r(claim(M0)), "and cannot be claimed");

        w(threshold(M0), 2);
        assertTrue(out[M0].level);
        assertEquals(5, r(claim(M0)), "highest priority, lowest ID of the tie");
        assertEquals(7, r(claim(M0)));
        assertFalse(out[M0].level, "source 3 (priority 2) is masked by threshold 2");
        assertEquals(0, r(claim(M0)));

        w(threshold(M0), 0);
        assertTrue(out[M0].level);
        assertEquals(3, r(claim(M0)));
        assertEquals(0, r(claim(M0)));
    }

    @Test
    void priorityAndThresholdAreWarl() {
        w(priority(4), 0xFFFF_FFFFL);
        assertEquals(Plic.PRIORITY_MASK, r(priority(4)));
        w(threshold(S1), 0x1F);
        assertEquals(Plic.PRIORITY_MASK, r(threshold(S1)));
        assertEquals(0, r(priority(0)), "source 0 does not exist");
        w(priority(0), 3);
        assertEquals(0, r(priority(0)));
        assertEquals(1, guestErrors.size(), "writing source 0's priority is a guest error");
    }

    @Test
    void priorityZeroNeverInterrupts() {
        enableSource(M0, 9);
        plic.source(9).raise();
        assertTrue(isPending(9));
        assertFalse(out[M0].level);
        assertEquals(0, r(claim(M0)));
        w(priority(9), 1);
        assertTrue(out[M0].level);
    }

    @Test
    void twoContextsBothSeeAnInterruptAndOneClaimsIt() {
        w(priority(VIRTIO_IRQ), 1);
        enableSource(S0, VIRTIO_IRQ);
        enableSource(S1, VIRTIO_IRQ);
        plic.source(VIRTIO_IRQ).raise();
        assertTrue(out[S0].level);
        assertTrue(out[S1].level, "multicast");
        assertFalse(out[M0].level);
        assertFalse(out[M1].level);

        assertEquals(VIRTIO_IRQ, r(claim(S1)), "hart 1 is faster");
        assertFalse(out[S0].level);
        assertFalse(out[S1].level);
        assertEquals(0, r(claim(S0)), "hart 0 finds nothing");
        plic.source(VIRTIO_IRQ).lower();
        w(claim(S1), VIRTIO_IRQ);
        assertEquals(0, r(claim(S1)));
    }

    @Test
    void contextsHaveTheirOwnEnablesAndThresholds() {
        w(priority(2), 3);
        w(priority(40), 3);
        enableSource(M0, 2);
        enableSource(S1, 40);
        w(threshold(S1), 3);
        plic.source(2).raise();
        plic.source(40).raise();
        assertTrue(out[M0].level);
        assertFalse(out[S1].level, "masked by its own threshold");
        w(threshold(S1), 1);
        assertTrue(out[S1].level);
        assertEquals(40, r(claim(S1)));
        assertEquals(2, r(claim(M0)));
        assertEquals(1L << 8, r(enable(S1, 40)), "source 40 is bit 8 of word 1");
    }

    @Test
    void levelStillHighAfterCompleteIsPendingAgain() {
        w(priority(33), 1);
        enableSource(S0, 33);
        IrqLine line = plic.source(33);
        line.raise();
        assertEquals(33, r(claim(S0)));
        assertFalse(isPending(33));
        line.raise(); // still asserted (or re-asserted) while in flight: the gateway holds it
        assertFalse(isPending(33));
        assertFalse(out[S0].level);
        w(claim(S0), 33); // the handler did not clear the device's condition
        assertTrue(isPending(33));
        assertTrue(out[S0].level);
        assertEquals(33, r(claim(S0)));
    }

    @Test
    void aForwardedRequestStaysPendingWhenTheLevelDrops() {
        w(priority(6), 1);
        enableSource(S0, 6);
        plic.source(6).raise();
        plic.source(6).lower();
        assertTrue(isPending(6), "Interrupt Gateways: the gateway cannot retract a request");
        assertEquals(6, r(claim(S0)));
        w(claim(S0), 6);
        assertFalse(isPending(6), "level low at completion: nothing new");
        assertFalse(out[S0].level);
    }

    @Test
    void claimWithNothingPendingReturnsZero() {
        assertEquals(0, r(claim(M0)));
        assertEquals(0, r(claim(S1)));
        w(claim(M0), 0); // completing "no interrupt" is harmless but a guest error
        assertEquals(1, guestErrors.size());
    }

    @Test
    void enableBitsThatNameNoSourceAreHardwiredToZero() {
        w(enable(M0, 0), 0xFFFF_FFFFL);
        assertEquals(0xFFFF_FFFEL, r(enable(M0, 0)), "source 0");
        Plic small = new Plic(40, 1, new IrqLine[] {IrqLine.NONE}, log);
        Bus.writeDevice(small, Plic.ENABLE_BASE + 4, 4, 0xFFFF_FFFFL);
        assertEquals(0xFFL, Bus.readDevice(small, Plic.ENABLE_BASE + 4, 4), "sources 32..39 exist");
        assertEquals(0, Bus.readDevice(small, Plic.ENABLE_BASE + 8, 4), "word 2 does not exist");
        assertEquals(1, guestErrors.size());
        assertThrows(IllegalArgumentException.class, () -> small.source(40));
        assertThrows(IllegalArgumentException.class, () -> small.source(0));
    }

    @Test
    void pendingBitsAreReadOnly() {
        plic.source(65).raise();
        assertEquals(1L << 1, r(pending(65)), "source 65 is bit 1 of word 2");
        w(pending(65), 0);
        assertEquals(1L << 1, r(pending(65)));
        w(pending(1), 0xFFFF_FFFFL);
        assertEquals(0, r(pending(1)));
        assertEquals(2, guestErrors.size(), guestErrors.toString());
        assertTrue(guestErrors.get(0).contains("read-only"), guestErrors.get(0));
    }

    @Test
    void unknownOffsetsReadZeroAndAreGuestErrors() {
        long[] holes = {
            priority(SOURCES), // past the last source
            Plic.PENDING_BASE + 4 * 3, // pending word 3 (sources 96..127) does not exist
            enable(0, 96), // same for enables
            Plic.ENABLE_BASE + Plic.ENABLE_STRIDE * 4L, // context 4 does not exist
            Plic.CONTEXT_BASE + 8, // reserved word of context 0
            threshold(4), // context 4
            claim(1000), // far away, still in the window
            Plic.MMIO_SIZE - 4,
            Plic.PRIORITY_BASE + 6, // misaligned
        };
        for (long off : holes) {
            guestErrors.clear();
            assertEquals(0, plic.read(off, 4), Long.toHexString(off));
            plic.write(off, 4, 0xFFFF_FFFFL);
            assertEquals(2, guestErrors.size(), Long.toHexString(off) + " " + guestErrors);
        }
        for (Wire o : out) {
            assertFalse(o.level);
        }
    }

    @Test
    void resetReturnsToPowerOn() {
        w(priority(8), 4);
        enableSource(M1, 8);
        w(threshold(M1), 2);
        plic.source(8).raise();
        plic.source(12).raise();
        plic.source(12).lower();
        assertTrue(out[M1].level);

        plic.reset();
        assertFalse(out[M1].level);
        assertEquals(0, r(priority(8)));
        assertEquals(0, r(enable(M1, 8)));
        assertEquals(0, r(threshold(M1)));
        assertEquals(1L << 8, r(pending(8)), "source 8's wire is still high: forwarded again; 12's is low");
        assertEquals(0, r(claim(M1)));

        // A claim in flight before reset is forgotten: the source can interrupt again.
        w(priority(8), 1);
        enableSource(M1, 8);
        assertEquals(8, r(claim(M1)));
        plic.reset();
        assertTrue(isPending(8));
        assertTrue(guestErrors.isEmpty(), guestErrors.toString());
    }

    @Test
    void outputsChangeOnlyOnEdges() {
        w(priority(3), 1);
        enableSource(S0, 3);
        enableSource(S0, 4);
        w(priority(4), 1);
        plic.source(3).raise();
        plic.source(4).raise();
        plic.source(3).raise();
        assertEquals(1, out[S0].changes);
        assertEquals(3, r(claim(S0)));
        assertTrue(out[S0].level, "4 is still there");
        assertEquals(1, out[S0].changes);
    }

    /** Devices raise lines from their own threads while a hart claims and completes. */
    @Test
    void concurrentDevices() throws Exception {
        int threads = 4, perThread = 5_000;
        for (int src = 1; src <= threads; src++) {
            w(priority(src), 1 + src % 3);
            enableSource(S0, src);
        }
        int[] handled = new int[threads + 1];
        int[] raised = new int[threads + 1];
        // Each device raises, then waits until its interrupt has been handled (acked) before lowering.
        Object lock = new Object();
        List<Thread> devices = new ArrayList<>();
        for (int t = 1; t <= threads; t++) {
            int src = t;
            devices.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < perThread; i++) {
                    synchronized (lock) {
                        raised[src]++;
                    }
                    plic.source(src).raise();
                    synchronized (lock) {
                        while (handled[src] < raised[src]) {
                            try {
                                lock.wait();
                            } catch (InterruptedException e) {
                                throw new RuntimeException(e);
                            }
                        }
                    }
                }
            }));
        }
        int total = 0;
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (total < threads * perThread && System.nanoTime() < until) {
            int id = (int) r(claim(S0));
            if (id == 0) {
                Thread.onSpinWait();
                continue;
            }
            synchronized (lock) {
                plic.source(id).lower(); // the handler clears the device's condition ...
                handled[id]++;
                lock.notifyAll();
            }
            w(claim(S0), id); // ... then completes
            total++;
        }
        for (Thread d : devices) {
            d.join();
        }
        assertEquals(threads * perThread, total);
        assertEquals(0, r(claim(S0)));
        assertFalse(out[S0].level);
    }

    /**
     * Random driver and device activity against a plain reference model of the spec. Re-run a
     * failure with {@code -Dplic.seed=<seed>}.
     */
    @Test
    void randomizedAgainstReferenceModel() {
        long seed = Long.getLong("plic.seed", new Random().nextLong());
        System.out.println("PlicTest.randomizedAgainstReferenceModel seed=" + seed);
        Random rnd = new Random(seed);
        int sources = 2 + rnd.nextInt(70), contexts = 1 + rnd.nextInt(4);
        Wire[] lines = new Wire[contexts];
        for (int c = 0; c < contexts; c++) {
            lines[c] = new Wire();
        }
        Plic dut = new Plic(sources, contexts, lines, msg -> { });
        Model model = new Model(sources, contexts);
        int words = (sources + 31) / 32;
        for (int step = 0; step < 20_000; step++) {
            String what;
            int c = rnd.nextInt(contexts);
            int src = 1 + rnd.nextInt(sources - 1);
            switch (rnd.nextInt(9)) {
                case 0, 1 -> {
                    boolean l = rnd.nextBoolean();
                    what = "source " + src + " set " + l;
                    dut.source(src).set(l);
                    model.set(src, l);
                }
                case 2 -> {
                    int p = rnd.nextInt(16);
                    what = "priority " + src + " = " + p;
                    Bus.writeDevice(dut, priority(src), 4, p);
                    model.prio[src] = p & 7;
                }
                case 3 -> {
                    int word = rnd.nextInt(words);
                    int bits = rnd.nextInt();
                    what = "enable ctx " + c + " word " + word + " = " + Integer.toHexString(bits);
                    Bus.writeDevice(dut, Plic.ENABLE_BASE + Plic.ENABLE_STRIDE * c + 4L * word, 4, bits & 0xFFFF_FFFFL);
                    for (int b = 0; b < 32; b++) {
                        int id = 32 * word + b;
                        if (id >= 1 && id < sources) {
                            model.en[c][id] = (bits >>> b & 1) != 0;
                        }
                    }
                }
                case 4 -> {
                    int t = rnd.nextInt(10);
                    what = "threshold ctx " + c + " = " + t;
                    Bus.writeDevice(dut, threshold(c), 4, t);
                    model.thr[c] = t & 7;
                }
                case 5, 6 -> {
                    what = "claim ctx " + c;
                    assertEquals(model.claim(c), Bus.readDevice(dut, claim(c), 4), what + " seed=" + seed + " step " + step);
                }
                default -> {
                    int id = rnd.nextInt(4) == 0 ? src : model.anyInFlight(rnd, src);
                    what = "complete ctx " + c + " id " + id;
                    Bus.writeDevice(dut, claim(c), 4, id);
                    model.complete(c, id);
                }
            }
            String where = what + " (seed=" + seed + ", step " + step + ")";
            for (int k = 0; k < contexts; k++) {
                assertEquals(model.output(k), lines[k].level, "output " + k + " after " + where);
            }
            if (step % 64 == 0) {
                for (int id = 1; id < sources; id++) {
                    long word = Bus.readDevice(dut, pending(id), 4);
                    assertEquals(model.ip[id], (word >>> (id % 32) & 1) != 0, "pending " + id + " after " + where);
                    assertEquals(model.prio[id], Bus.readDevice(dut, priority(id), 4), "priority " + id);
                }
            }
        }
    }

    /** The PLIC as the spec's prose says it, one boolean at a time. */
    static final class Model {
        final int sources;
        final boolean[] level, ip, claimed;
        final int[] prio;
        final boolean[][] en;
        final int[] thr;

        Model(int sources, int contexts) {
            this.sources = sources;
            level = new boolean[sources];
            ip = new boolean[sources];
            claimed = new boolean[sources];
            prio = new int[sources];
            en = new boolean[contexts][sources];
            thr = new int[contexts];
        }

        void set(int src, boolean l) {
            level[src] = l;
            if (l && !claimed[src]) {
                ip[src] = true; // the gateway forwards a request (a second one merges into IP)
            }
        }

        int best(int c) {
            int best = 0;
            for (int id = 1; id < sources; id++) {
                if (ip[id] && en[c][id] && prio[id] > thr[c] && (best == 0 || prio[id] > prio[best])) {
                    best = id;
                }
            }
            return best;
        }

        int claim(int c) {
            int id = best(c);
            if (id != 0) {
                ip[id] = false;
                claimed[id] = true;
            }
            return id;
        }

        void complete(int c, int id) {
            if (id < 1 || id >= sources || !en[c][id] || !claimed[id]) {
                return;
            }
            claimed[id] = false;
            if (level[id]) {
                ip[id] = true;
            }
        }

        boolean output(int c) {
            return best(c) != 0;
        }

        int anyInFlight(Random rnd, int fallback) {
            List<Integer> ids = new ArrayList<>();
            for (int id = 1; id < sources; id++) {
                if (claimed[id]) {
                    ids.add(id);
                }
            }
            return ids.isEmpty() ? fallback : ids.get(rnd.nextInt(ids.size()));
        }
    }

    static final String EXPECTED_NODE = """
            plic@c000000 {
            phandle = <0x03>;
            riscv,ndev = <0x5f>;
            reg = <0x00 0xc000000 0x00 0x600000>;
            interrupts-extended = <0x01 0x0b 0x01 0x09 0x02 0x0b 0x02 0x09>;
            interrupt-controller;
            compatible = "sifive,plic-1.0.0\\0riscv,plic0";
            #address-cells = <0x00>;
            #interrupt-cells = <0x01>;
            };
            """;

    /** dtc reads our node back as QEMU virt's (QemuDeviceTreeTest compares with QEMU itself). */
    @Test
    void deviceTreeNode() throws Exception {
        Fdt fdt = new Fdt();
        int[] intc = {fdt.node("/cpus/cpu@0/interrupt-controller").phandle(),
                fdt.node("/cpus/cpu@1/interrupt-controller").phandle()};
        FdtNode node = plic.addTo(fdt.node("/soc"), 0xc000000L, intc);
        assertEquals(3, node.phandle(), "allocated once, returned for devices' interrupt-parent");
        assertThrows(IllegalArgumentException.class, () -> plic.addTo(fdt.node("/soc"), 0xc000000L, new int[] {1}));
        // dtc before 1.6 prints a string list as "a", "b".
        assertEquals(EXPECTED_NODE, DeviceTrees.node(fdt, "plic@c000000").replace("\", \"", "\\0"));
    }
}
