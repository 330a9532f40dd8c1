package dev.rivet.platform.virt;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.GuestErrorLog;
import dev.rivet.core.bus.DmaView;
import dev.rivet.core.bus.GuestRam;
import dev.rivet.core.fdt.Fdt;
import dev.rivet.core.fdt.FdtNode;
import dev.rivet.core.irq.IrqLine;
import dev.rivet.core.riscv.CodePageMap;
import dev.rivet.core.riscv.Csr;
import dev.rivet.core.riscv.Hart;
import dev.rivet.core.time.InstructionClock;
import dev.rivet.core.time.MachineClock;
import dev.rivet.core.time.RealtimeClock;
import dev.rivet.core.time.Timer;
import dev.rivet.core.time.TimerQueue;
import dev.rivet.devices.fwcfg.FwCfg;
import dev.rivet.devices.intc.Plic;
import dev.rivet.devices.pci.PcieHost;
import dev.rivet.devices.rom.Rom;
import dev.rivet.devices.rtc.GoldfishRtc;
import dev.rivet.devices.syscon.SifiveTest;
import dev.rivet.devices.timer.Clint;
import dev.rivet.devices.uart.Ns16550a;
import dev.rivet.interp.Interpreter;
import dev.rivet.jit.JitCompiler;
import dev.rivet.platform.GuestProfile;
import dev.rivet.platform.JitOptions;
import dev.rivet.platform.boot.BootException;
import dev.rivet.platform.sbi.BuiltinSbi;
import dev.rivet.platform.sbi.SbiPlatform;
import dev.rivet.virtio.VirtioDevice;
import dev.rivet.virtio.blk.VirtioBlk;
import dev.rivet.virtio.mmio.VirtioMmio;
import dev.rivet.virtio.balloon.VirtioBalloon;
import dev.rivet.virtio.console.VirtioConsole;
import dev.rivet.virtio.net.VirtioNet;
import dev.rivet.virtio.p9.P9Server;
import dev.rivet.virtio.pci.VirtioPci;
import dev.rivet.virtio.p9.Virtio9p;
import dev.rivet.virtio.rng.VirtioRng;
import dev.rivet.virtio.vsock.VirtioVsock;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static dev.rivet.platform.virt.VirtMemoryMap.*;

/**
 * The {@code virt} board: one RV64GC hart, RAM at 0x80000000 and QEMU virt's devices at
 * QEMU's addresses ({@link VirtMemoryMap}), wired like hw/riscv/virt.c: UART and RTC
 * interrupts go through the PLIC, the CLINT drives the hart's software and timer
 * interrupts, the test device powers off and resets. The device tree handed to the guest
 * is generated from the attached devices, each contributing its own node.
 *
 * <p>Two boot paths: the built-in SBI (the emulator answers SBI calls; the kernel starts
 * in S-mode at {@link VirtMemoryMap#KERNEL_BASE} with a0 = hart id, a1 = FDT) or real
 * M-mode firmware such as OpenSBI's {@code fw_dynamic.bin}, started through QEMU's reset
 * vector in the boot ROM with a2 pointing at {@code fw_dynamic_info}.
 */
public final class VirtMachine implements AutoCloseable, SbiPlatform {
    /** Everything needed to build and boot the machine. */
    public record Config(long ramSize, byte[] kernel, long kernelSize, byte[] initrd, String cmdline,
                         byte[] firmware, boolean deterministic, boolean noReboot, long epochNanos,
                         OutputStream console, GuestErrorLog log, JitOptions jit, List<VirtioSpec> virtio) {
        public Config {
            jit = jit == null ? JitOptions.OFF : jit;
            virtio = virtio == null ? List.of() : List.copyOf(virtio);
        }

        /** Without VirtIO devices. */
        public Config(long ramSize, byte[] kernel, long kernelSize, byte[] initrd, String cmdline,
                      byte[] firmware, boolean deterministic, boolean noReboot, long epochNanos,
                      OutputStream console, GuestErrorLog log, JitOptions jit) {
            this(ramSize, kernel, kernelSize, initrd, cmdline, firmware, deterministic, noReboot, epochNanos,
                    console, log, jit, List.of());
        }

        /** The same configuration with {@code devices} attached. */
        public Config withVirtio(List<VirtioSpec> devices) {
            return new Config(ramSize, kernel, kernelSize, initrd, cmdline, firmware, deterministic, noReboot,
                    epochNanos, console, log, jit, devices);
        }

        /** Without a JIT setting: interpret only. */
        public Config(long ramSize, byte[] kernel, long kernelSize, byte[] initrd, String cmdline,
                      byte[] firmware, boolean deterministic, boolean noReboot, long epochNanos,
                      OutputStream console, GuestErrorLog log) {
            this(ramSize, kernel, kernelSize, initrd, cmdline, firmware, deterministic, noReboot, epochNanos,
                    console, log, JitOptions.OFF);
        }
    }

    /** How a run ended. */
    public enum Ending { POWEROFF, FAILURE, REBOOT, STOPPED, BUDGET }

    public record Result(Ending ending, int exitCode, long instructions) {
    }

    static final long MIP_SSIP = 1L << 1, MIP_MSIP = 1L << 3, MIP_MTIP = 1L << 7, MIP_MEIP = 1L << 11, MIP_SEIP = 1L << 9,
            MIP_STIP = 1L << 5;
    /** Minimum RAM: kernel, initrd and FDT must fit with room for Linux to run. */
    public static final long MIN_RAM = 64L << 20;

    private final Config config;
    private final GuestRam ram;
    private final Bus bus;
    private final CodePageMap codePages;
    private final MachineClock clock;
    private final TimerQueue timers;
    private final Hart hart;
    private final Interpreter interp;
    /** The JIT tier, or null when it is off. */
    private final JitCompiler jit;
    private final Ns16550a uart;
    private final Plic plic;
    private final Clint clint;
    private final GoldfishRtc rtc;
    private final SifiveTest test;
    private final Rom rom;
    private final FwCfg fwCfg;
    private final PcieHost pcie;
    private VirtioConsole virtioConsole;
    private VirtioBalloon balloon;
    /** The eight virtio-mmio slots, slot n at VIRTIO.base + n * 0x1000 on IRQ 1 + n. */
    private final VirtioMmio[] virtioSlots = new VirtioMmio[VIRTIO_COUNT];
    /** Runs device I/O (disk reads and writes) off the hart thread. */
    private final ExecutorService io;
    /** What the machine closes with itself: disk images and other host resources. */
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final Timer sbiTimer;
    private final BuiltinSbi sbi;
    private final Object consoleLock = new Object();
    private final java.util.concurrent.ConcurrentLinkedQueue<Byte> sbiInput = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private volatile Ending ending;
    private volatile int exitCode;
    private long fdtAddr;
    private byte[] fdtBlob;

    public VirtMachine(Config config) throws BootException {
        this.config = config;
        for (VirtioSpec spec : config.virtio()) {
            if (spec instanceof VirtioSpec.Disk d) {
                owned.add(d.backend()); // closed with the machine, or at once if it cannot be built
            } else if (spec instanceof VirtioSpec.Net n) {
                owned.add(n.backend());
            } else if (spec instanceof VirtioSpec.Vsock v) {
                owned.add(v.backend());
            }
        }
        if (config.ramSize() < MIN_RAM) {
            closeOwned();
            throw new BootException(String.format("%d MiB of RAM is too little for Linux; give at least %d MiB",
                    config.ramSize() >> 20, MIN_RAM >> 20));
        }
        ram = new GuestRam(DRAM.base, config.ramSize());
        io = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "rivet-io");
            t.setDaemon(true);
            return t;
        });
        try {
            bus = new Bus(ram);
            bus.setGuestErrorLog(config.log());
            codePages = new CodePageMap(DRAM.base, config.ramSize());
            ram.setWriteObserver(codePages::notifyWrite); // loaders and DMA drop stale translated code
            Hart[] box = new Hart[1];
            clock = config.deterministic() ? new InstructionClock(() -> box[0].instret) : new RealtimeClock();
            timers = new TimerQueue(clock);
            hart = new Hart(0, bus, codePages);
            box[0] = hart;
            hart.attachTime(timers);
            interp = new Interpreter(hart);
            interp.setTimers(timers);
            jit = config.jit().attach(interp, config.jit().cache() == null ? null
                    : GuestProfile.of("virt", config.ramSize(), config.kernel(), config.initrd(), config.firmware()));

            IrqLine[] plicOut = {pending(MIP_MEIP), externalSeip()};
            plic = new Plic(PLIC_SOURCES, 2, plicOut, config.log());
            clint = new Clint(1, clock, timers, new IrqLine[] {pending(MIP_MSIP)}, new IrqLine[] {pending(MIP_MTIP)},
                    config.log());
            uart = new Ns16550a(plic.source(UART0_IRQ), this::uartOut, config.log());
            rtc = new GoldfishRtc(clock, timers, config.epochNanos(), plic.source(RTC_IRQ), config.log());
            test = new SifiveTest(new SifiveTest.PowerControl() {
                @Override
                public void poweroff(int code) {
                    end(code == 0 ? Ending.POWEROFF : Ending.FAILURE, code);
                }

                @Override
                public void reset() {
                    end(Ending.REBOOT, 0);
                }
            }, config.log());
            rom = new Rom("mrom", (int) MROM.size, config.log());
            fwCfg = new FwCfg(ram, config.log());
            IrqLine[] intx = new IrqLine[PcieHost.INTX_LINES];
            for (int i = 0; i < intx.length; i++) {
                intx[i] = plic.source(PCIE_IRQ + i);
            }
            PcieHost.Layout pci = new PcieHost.Layout(PCIE_ECAM.base, PCIE_ECAM.size, PCIE_PIO.base, PCIE_PIO.size,
                    PCIE_MMIO.base, PCIE_MMIO.size, pcieMmioHighBase(config.ramSize()), PCIE_MMIO_HIGH_SIZE);
            pcie = new PcieHost(pci, intx, config.log());

            bus.map(MROM.base, MROM.size, rom);
            bus.map(TEST.base, TEST.size, test);
            bus.map(RTC.base, RTC.size, rtc);
            bus.map(CLINT.base, CLINT.size, clint);
            bus.map(PLIC.base, PLIC.size, plic);
            bus.map(UART0.base, UART0.size, uart);
            bus.map(FW_CFG.base, FW_CFG.size, fwCfg);
            attachVirtio(config.virtio());
            for (int i = 0; i < VIRTIO_COUNT; i++) {
                bus.map(VIRTIO.base + i * VIRTIO.size, VIRTIO.size, virtioSlots[i]);
            }
            bus.map(pci.ecamBase(), pci.ecamSize(), pcie.ecam());
            bus.map(pci.pioBase(), pci.pioSize(), pcie.pioWindow());
            bus.map(pci.mmioBase(), pci.mmioSize(), pcie.mmioWindow());
            bus.map(pci.mmio64Base(), pci.mmio64Size(), pcie.mmio64Window());
            bus.freeze();

            sbiTimer = timers.create(() -> hart.setPending(MIP_STIP));
            sbi = config.firmware() == null ? new BuiltinSbi(this) : null;
            boot();
        } catch (BootException | RuntimeException e) {
            closeOwned();
            ram.close();
            throw e;
        }
    }

    /**
     * Builds the VirtIO devices: MMIO ones into the slots from the highest address down, as
     * QEMU fills them (its device tree lists the slots from the top, so Linux finds the first
     * device first), the others empty (DeviceID 0, which Linux skips); PCI ones into the PCIe
     * host's slots from 1 up, in the order given (slot 0 is the host bridge).
     */
    private void attachVirtio(List<VirtioSpec> specs) throws BootException {
        DmaView dma = new DmaView(ram);
        int next = VIRTIO_COUNT - 1;
        int nextPci = PcieHost.HOST_BRIDGE_SLOT + 1;
        for (VirtioSpec spec : specs) {
            VirtioDevice device = switch (spec) {
                case VirtioSpec.Disk d -> new VirtioBlk(d.backend(), io, d.serial());
                case VirtioSpec.Rng r -> new VirtioRng(new SecureRandom());
                case VirtioSpec.Console c -> {
                    if (virtioConsole != null) {
                        throw new BootException("only one virtio-console per machine (give it named ports instead)");
                    }
                    VirtioConsole.Builder b = VirtioConsole.builder(io).console(this::hvcOut);
                    c.ports().forEach(b::port);
                    virtioConsole = b.build();
                    yield virtioConsole;
                }
                case VirtioSpec.Balloon bs -> {
                    if (balloon != null) {
                        throw new BootException("only one virtio-balloon per machine");
                    }
                    VirtioBalloon.Options o = VirtioBalloon.Options.DEFAULT;
                    balloon = new VirtioBalloon(io, new VirtioBalloon.Options(o.statsQueue(), bs.deflateOnOom(),
                            o.freePageReporting()));
                    yield balloon;
                }
                case VirtioSpec.Net n -> {
                    try {
                        VirtioNet net = new VirtioNet(n.backend(), n.mac(), io);
                        owned.add(net);
                        yield net;
                    } catch (RuntimeException e) { // a bad MAC, or the backend could not start (a port in use)
                        throw new BootException("virtio-net: " + e.getMessage());
                    }
                }
                case VirtioSpec.Vsock v -> {
                    try {
                        VirtioVsock vsock = new VirtioVsock(v.cid(), v.backend(), io);
                        owned.add(vsock);
                        yield vsock;
                    } catch (RuntimeException e) {
                        throw new BootException("virtio-vsock: " + e.getMessage());
                    }
                }
                case VirtioSpec.Share s -> {
                    try {
                        Virtio9p share = new Virtio9p(new P9Server(s.dir(), s.readOnly()), s.tag(), io);
                        owned.add(share);
                        yield share;
                    } catch (IOException | IllegalArgumentException e) {
                        throw new BootException("--share " + s.dir() + ": " + e.getMessage());
                    }
                }
            };
            if (spec.transport() == VirtioSpec.Transport.PCI) {
                if (nextPci >= PcieHost.SLOTS) {
                    throw new BootException("more than " + (PcieHost.SLOTS - 1) + " PCI devices");
                }
                pcie.add(nextPci++, new VirtioPci(device, dma, config.log()));
                continue;
            }
            if (next < 0) {
                throw new BootException("more than " + VIRTIO_COUNT + " virtio-mmio devices; put some on PCI");
            }
            int slot = next--;
            virtioSlots[slot] = new VirtioMmio(device, dma, plic.source(VIRTIO_IRQ + slot), config.log());
        }
        for (int i = 0; i <= next; i++) {
            virtioSlots[i] = VirtioMmio.emptySlot(plic.source(VIRTIO_IRQ + i), config.log());
        }
    }

    private void closeOwned() {
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                config.log().guestError("closing " + c + ": " + e.getMessage());
            }
        }
        owned.clear();
        if (io != null) {
            io.shutdownNow();
        }
    }

    private IrqLine pending(long bit) {
        return level -> {
            if (level) {
                hart.setPending(bit);
            } else {
                hart.clearPending(bit);
            }
        };
    }

    private IrqLine externalSeip() {
        return hart::setExternalSeip;
    }

    private void uartOut(int b) {
        consoleWrite(new byte[] {(byte) b}, 0, 1);
    }

    /** Output of hvc0 (virtio-console port 0), on an I/O thread: to the same place as the UART's. */
    private void hvcOut(ByteBuffer data) {
        byte[] b = new byte[data.remaining()];
        data.get(b);
        consoleWrite(b, 0, b.length);
    }

    private void end(Ending why, int code) {
        if (ending == null) {
            ending = why;
            exitCode = code;
        }
        hart.requestStop();
    }

    // ---------------------------------------------------------------------------------
    // Boot: load images, generate the device tree, set up the hart.

    private void boot() throws BootException {
        long ramEnd = DRAM.base + config.ramSize();
        long kernelBase = KERNEL_BASE;
        long kernelEnd = kernelBase + config.kernelSize();
        // QEMU's placement (hw/riscv/boot.c): the initrd at kernel + min(RAM/2, 128 MiB), the
        // FDT at the end of RAM (below 3 GiB), aligned down to 2 MiB.
        long initrdStart = 0, initrdEnd = 0;
        if (config.initrd() != null) {
            initrdStart = kernelBase + Math.min(config.ramSize() / 2, 128L << 20);
            initrdEnd = initrdStart + config.initrd().length;
        }
        fdtBlob = buildFdt(initrdStart, initrdEnd);
        long top = Math.min(ramEnd, 0xC000_0000L);
        fdtAddr = (top - fdtBlob.length) & -(2L << 20);
        if (kernelEnd > (initrdStart != 0 ? initrdStart : fdtAddr) || (initrdEnd > fdtAddr)) {
            throw new BootException(String.format("%d MiB of RAM cannot hold the kernel (%d MiB)%s and the device tree",
                    config.ramSize() >> 20, config.kernelSize() >> 20,
                    config.initrd() != null ? " and initrd (" + (config.initrd().length >> 20) + " MiB)" : ""));
        }
        ram.load(kernelBase, config.kernel(), 0, config.kernel().length);
        if (config.initrd() != null) {
            ram.load(initrdStart, config.initrd(), 0, config.initrd().length);
        }
        ram.load(fdtAddr, fdtBlob, 0, fdtBlob.length);
        if (config.firmware() == null) {
            enterKernelWithBuiltinSbi(kernelBase);
        } else {
            if (FIRMWARE_BASE + config.firmware().length > kernelBase) {
                throw new BootException("firmware is larger than the 2 MiB below the kernel");
            }
            ram.load(FIRMWARE_BASE, config.firmware(), 0, config.firmware().length);
            rom.load(0, BootRom.resetVector(FIRMWARE_BASE, fdtAddr, kernelBase, 0));
            hart.reset(MROM.base);
        }
    }

    /**
     * What M-mode firmware would leave behind when it jumps to the kernel: S-mode,
     * exceptions and supervisor interrupts delegated, counters and Sstc enabled for S.
     */
    private void enterKernelWithBuiltinSbi(long entry) {
        hart.reset(entry);
        hart.sbi = sbi;
        // Delegate every exception S-mode can handle (no M-mode handler exists), but not
        // ecall from S (the built-in SBI) or from M.
        hart.csrWrite(Csr.MEDELEG, SBI_MEDELEG);
        hart.csrWrite(Csr.MIDELEG, MIP_SSIP | MIP_STIP | MIP_SEIP); // supervisor interrupts to S
        hart.csrWrite(Csr.MCOUNTEREN, 0xFFFF_FFFFL);
        hart.csrWrite(Csr.MENVCFG, 1L << 63); // STCE: Sstc stimecmp usable
        hart.setX(10, hart.hartId);
        hart.setX(11, fdtAddr);
        hart.priv = Hart.PRIV_S;
    }

    /**
     * Exceptions delegated to S with the built-in SBI: causes 0–8 and the page faults
     * (12, 13, 15); not ecall from S (9, served by the SBI) or from M (11).
     */
    private static final long SBI_MEDELEG = 0xB1FFL;

    private byte[] buildFdt(long initrdStart, long initrdEnd) {
        Fdt fdt = new Fdt();
        FdtNode root = fdt.root().cells("#address-cells", 2).cells("#size-cells", 2)
                .prop("compatible", "riscv-virtio").prop("model", "riscv-virtio,qemu");
        FdtNode chosen = root.child("chosen").prop("bootargs", config.cmdline() == null ? "" : config.cmdline())
                .prop("stdout-path", "/soc/serial@" + Long.toHexString(UART0.base));
        if (initrdStart != 0) {
            chosen.cells64("linux,initrd-start", initrdStart).cells64("linux,initrd-end", initrdEnd);
        }
        root.child("memory@" + Long.toHexString(DRAM.base)).prop("device_type", "memory")
                .reg(DRAM.base, config.ramSize());
        int[] intc = CpuNodes.addTo(root, new Hart[] {hart}, MachineClock.FREQUENCY_HZ);
        FdtNode soc = root.child("soc").cells("#address-cells", 2).cells("#size-cells", 2)
                .prop("compatible", "simple-bus").flag("ranges");
        int plicPhandle = plic.addTo(soc, PLIC.base, intc).phandle();
        clint.addTo(soc, CLINT.base, intc);
        uart.addTo(soc, UART0.base, UART0.size, UART0_IRQ, plicPhandle);
        rtc.addTo(soc, RTC.base, RTC.size, RTC_IRQ, plicPhandle);
        test.addTo(soc, root, TEST.base, TEST.size);
        for (int i = VIRTIO_COUNT - 1; i >= 0; i--) { // QEMU's order: the first device's slot first
            virtioSlots[i].addTo(soc, VIRTIO.base + i * VIRTIO.size, VIRTIO.size, VIRTIO_IRQ + i, plicPhandle);
        }
        fwCfg.addTo(root, FW_CFG.base, FW_CFG.size); // QEMU puts fw-cfg at the root, not under /soc
        pcie.addTo(soc, plicPhandle, PCIE_IRQ);
        return fdt.toBlob();
    }

    public byte[] deviceTree() {
        return fdtBlob.clone();
    }

    // ---------------------------------------------------------------------------------
    // Running.

    /** Runs until the guest powers off, fails, reboots (with noReboot) or the budget is used. */
    public Result run(long maxInstructions) {
        long start = hart.instret;
        while (true) {
            long left = maxInstructions == Long.MAX_VALUE ? Long.MAX_VALUE : maxInstructions - (hart.instret - start);
            Interpreter.StopReason why = interp.run(Math.max(left, 1));
            if (why == Interpreter.StopReason.BUDGET) {
                return new Result(Ending.BUDGET, 0, hart.instret);
            }
            Ending e = ending == null ? Ending.STOPPED : ending;
            if (e == Ending.REBOOT && !config.noReboot()) {
                reset();
                continue;
            }
            return new Result(e, exitCode, hart.instret);
        }
    }

    /** Asks a running machine to stop (e.g. the user quit); safe from any thread. */
    public void stop() {
        end(Ending.STOPPED, 0);
    }

    /**
     * Bytes typed by the user, to the UART's receiver (and the SBI console), and to hvc0
     * when there is a virtio-console (as much as its input buffer takes): whichever the
     * guest reads its console from gets them.
     */
    public void input(byte[] data) {
        uart.offer(data);
        if (virtioConsole != null) {
            virtioConsole.port(0).send(data);
        }
        for (byte b : data) {
            sbiInput.add(b);
        }
        while (sbiInput.size() > 4096) {
            sbiInput.poll();
        }
    }

    /** System reset: devices and hart back to power-on, images reloaded. */
    private void reset() {
        ending = null;
        exitCode = 0;
        // Devices first, the PLIC last: it re-samples its input lines when reset.
        uart.reset();
        clint.reset();
        rtc.reset();
        test.reset();
        fwCfg.reset();
        pcie.reset();
        for (VirtioMmio slot : virtioSlots) {
            slot.reset();
        }
        plic.reset();
        sbiTimer.cancel();
        interp.cache().flush();
        codePages.clear();
        ram.zero();
        try {
            boot();
        } catch (BootException e) {
            throw new IllegalStateException("reboot failed: " + e.getMessage(), e);
        }
    }

    /** The virtio-console, or null when the machine has none. */
    public VirtioConsole virtioConsole() {
        return virtioConsole;
    }

    /** The virtio-balloon, or null when the machine has none. */
    public VirtioBalloon balloon() {
        return balloon;
    }

    public Hart hart() {
        return hart;
    }

    public Interpreter interpreter() {
        return interp;
    }

    /** The JIT compiler (for its counters), or null when the JIT is off. */
    public JitCompiler jit() {
        return jit;
    }

    public MachineClock clock() {
        return clock;
    }

    @Override
    public void close() {
        if (jit != null) {
            jit.saveHotList();
            jit.shutdown();
        }
        for (VirtioMmio slot : virtioSlots) {
            if (slot != null) {
                slot.reset(); // waits for device I/O in progress
            }
        }
        closeOwned();
        ram.close();
    }

    // ---------------------------------------------------------------------------------
    // SbiPlatform: what the built-in SBI asks of the board.

    @Override
    public int hartCount() {
        return 1;
    }

    @Override
    public Hart hart(int hartId) {
        return hart;
    }

    @Override
    public int hartState(int hartId) {
        return 0; // STARTED: the only hart runs
    }

    @Override
    public boolean startHart(int hartId, long startAddr, long opaque) {
        return false; // already started
    }

    @Override
    public void stopHart(Hart h) {
        end(Ending.POWEROFF, 0); // the last hart stopping leaves nothing to run
    }

    @Override
    public void powerOff(boolean failure) {
        end(failure ? Ending.FAILURE : Ending.POWEROFF, failure ? 1 : 0);
    }

    @Override
    public void reboot() {
        end(Ending.REBOOT, 0);
    }

    @Override
    public void consoleWrite(byte[] data, int off, int len) {
        synchronized (consoleLock) {
            try {
                config.console().write(data, off, len);
                config.console().flush();
            } catch (IOException e) {
                config.log().guestError("console output failed: " + e.getMessage());
            }
        }
    }

    @Override
    public int consoleRead() {
        Byte b = sbiInput.poll();
        return b == null ? -1 : b & 0xFF;
    }

    @Override
    public boolean isRam(long addr, long len) {
        return ram.contains(addr, len);
    }

    @Override
    public byte[] readRam(long addr, int len) {
        byte[] b = new byte[len];
        java.lang.foreign.MemorySegment.copy(ram.segment(), GuestRam.I8, addr - ram.base(), b, 0, len);
        return b;
    }

    @Override
    public void writeRam(long addr, byte[] data) {
        ram.load(addr, data, 0, data.length);
    }

    @Override
    public void setTimer(Hart h, long mtimeDeadline) {
        sbiTimer.arm(mtimeDeadline);
    }

    @Override
    public void fenceI(Hart h) {
        // Nothing to drop: writes to translated code already invalidated it (see the
        // interpreter's fence.i handling); the SBI call only orders, as fence.i does.
    }

    @Override
    public void sfenceVma(Hart h) {
        h.flushTlb();
    }
}
