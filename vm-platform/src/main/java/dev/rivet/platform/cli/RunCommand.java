package dev.rivet.platform.cli;

import dev.rivet.aot.CacheLocations;
import dev.rivet.aot.CacheMode;
import dev.rivet.aot.DiskCache;
import dev.rivet.jit.CodeCache;
import dev.rivet.jit.JitCompiler;
import dev.rivet.platform.JitOptions;
import dev.rivet.interp.BlockCache;
import dev.rivet.interp.Interpreter;
import dev.rivet.platform.baremetal.BareMetalMachine;
import dev.rivet.platform.boot.BootException;
import dev.rivet.platform.boot.ElfFormatException;
import dev.rivet.platform.boot.ElfImage;
import dev.rivet.platform.boot.ElfLoader;
import dev.rivet.platform.boot.KernelImage;
import dev.rivet.platform.disk.DiskFormat;
import dev.rivet.platform.disk.DiskImages;
import dev.rivet.platform.monitor.MonitorCommands;
import dev.rivet.platform.monitor.MonitorServer;
import dev.rivet.platform.monitor.VirtMachineTarget;
import dev.rivet.platform.net.UserNet;
import dev.rivet.platform.net.UserNetOptions;
import dev.rivet.platform.virt.VirtMachine;
import dev.rivet.platform.virt.VirtioSpec;
import dev.rivet.platform.vsock.UnixSocketVsock;
import dev.rivet.platform.vsock.VsockOptions;
import dev.rivet.virtio.net.VirtioNet;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code vmctl run}: boots a machine. */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Boot a RISC-V virt machine. With no options, boots the bundled Linux guest.",
                "The terminal is the guest's serial console; press Ctrl-A x to quit, Ctrl-A h for help.",
                "With --bios, runs a bare-metal ELF program in M-mode instead (HTIF tohost/fromhost)."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:the guest powered off (or was quit with Ctrl-A x or the monitor's quit)",
                "N:a bare-metal program's exit code, or the code a guest reported failure with",
                "1:the machine could not be built or run",
                "2:bad command line or unusable input file",
                "124:--max-instructions reached before the guest finished"})
final class RunCommand implements Callable<Integer> {
    static final int EXIT_BUDGET = 124;
    private static final String DEMO = "/dev/rivet/platform/demo/demo.elf";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.ParentCommand
    Vmctl vmctl;

    @Option(names = "--kernel", paramLabel = "IMAGE", description = "Linux kernel Image (plain or gzip-compressed).")
    Path kernel;

    @Option(names = "--initrd", paramLabel = "FILE", description = "Initial ramdisk (cpio, optionally compressed).")
    Path initrd;

    @Option(names = "--append", paramLabel = "CMDLINE", description = "Kernel command line (default: ${DEFAULT-VALUE}).",
            defaultValue = "console=ttyS0")
    String append;

    @Option(names = "--firmware", paramLabel = "BIN",
            description = "M-mode firmware such as OpenSBI's fw_dynamic.bin, loaded at 0x80000000 (default: the built-in SBI).")
    Path firmware;

    @Option(names = {"-m", "--memory"}, paramLabel = "SIZE", defaultValue = "512M", converter = SizeConverter.class,
            description = "Guest RAM, e.g. 256M or 2G (default: ${DEFAULT-VALUE}).")
    long memory;

    @Option(names = "--clock", paramLabel = "MODE", defaultValue = "realtime",
            description = "realtime (time follows the host) or deterministic (time follows retired instructions; "
                    + "the same inputs give the same run). Default: ${DEFAULT-VALUE}.")
    ClockMode clock;

    @Option(names = "--no-reboot", description = "Exit instead of restarting when the guest reboots.")
    boolean noReboot;

    @Option(names = "--bios", paramLabel = "ELF",
            description = "Run a bare-metal RISC-V ELF program in M-mode instead of booting Linux.")
    Path bios;

    @Option(names = "--demo", description = "Run the bundled bare-metal demo program.")
    boolean demo;

    @Option(names = "--dump-dtb", paramLabel = "FILE", description = "Write the generated device tree blob and exit.")
    Path dumpDtb;

    @Option(names = "--max-instructions", paramLabel = "N",
            description = "Stop after about N guest instructions if the guest has not finished.")
    Long maxInstructions;

    @Option(names = "--stats", description = "Print instruction count, time and speed (and JIT counters) to stderr at the end.")
    boolean stats;

    @Option(names = "--jit", paramLabel = "MODE", defaultValue = "on",
            description = "off (interpret only), on (compile hot blocks in the background) or always "
                    + "(compile every block at its first execution; for testing). Default: ${DEFAULT-VALUE}.")
    JitMode jitMode;

    @Option(names = "--jit-threshold", paramLabel = "N", defaultValue = "" + JitOptions.DEFAULT_THRESHOLD,
            description = "With --jit=on: executions before a block is compiled (default: ${DEFAULT-VALUE}).")
    long jitThreshold;

    @Option(names = "--aot-cache", paramLabel = "MODE", defaultValue = "rw",
            description = "The on-disk code cache the JIT shares across runs: off, ro (read only) or rw "
                    + "(default: ${DEFAULT-VALUE}).")
    String aotCache;

    @Option(names = "--aot-cache-dir", paramLabel = "DIR",
            description = "Where the code cache lives (default: $XDG_CACHE_HOME/rivet/code or ~/.cache/rivet/code).")
    Path aotCacheDir;

    @Option(names = "--rng", paramLabel = "TRANSPORT", arity = "0..1", fallbackValue = "mmio",
            description = "Attach a virtio-rng device (entropy from the host) over mmio (default) or pci.")
    String rng;

    @Option(names = "--virtio-console", paramLabel = "TRANSPORT", arity = "0..1", fallbackValue = "mmio",
            description = {"Attach a virtio-console whose hvc0 shares this terminal with the UART (typed input",
                    "goes to both); boot with console=hvc0 to use it. Over mmio (default) or pci."})
    String virtioConsole;

    @Option(names = "--balloon", paramLabel = "TRANSPORT", arity = "0..1", fallbackValue = "mmio",
            description = {"Attach a virtio-balloon over mmio (default) or pci: the guest reports free memory,",
                    "which the host then frees (free page reporting), and sends memory statistics."})
    String balloon;

    @Option(names = "--net", paramLabel = "user[,hostfwd=tcp|udp:[HOST]:PORT-[GUEST]:PORT][,restrict=on|loopback][,dns=ADDR[:PORT]][,mac=M][,transport=mmio|pci]",
            description = {"Attach a virtio-net card on user-mode networking, like QEMU's -netdev user (repeatable):",
                    "the guest gets 10.0.2.15 by DHCP, gateway 10.0.2.2 (the host's 127.0.0.1), DNS 10.0.2.3;",
                    "hostfwd forwards a host port into the guest (repeatable), restrict=on stops outbound",
                    "connections, restrict=loopback allows only the host's loopback (10.0.2.2) and DNS,",
                    "dns= names the upstream resolver (default: the host's first nameserver)."})
    List<String> nets = new ArrayList<>();

    @Option(names = "--vsock", paramLabel = "cid=N,uds=PATH[,transport=mmio|pci]",
            description = {"Attach a virtio-vsock device for guest context ID N. Host programs connect to the Unix",
                    "socket PATH and send 'CONNECT <port>\\n' to reach a guest listener; a guest connecting to",
                    "CID 2 port P reaches a host listener on PATH_P (Firecracker's convention)."})
    String vsock;

    @Option(names = "--monitor", paramLabel = "PATH",
            description = {"Listen for monitor commands on the Unix socket PATH while the machine runs",
                    "(vmctl monitor PATH help lists them): port forwards, balloon, status, quit."})
    Path monitor;

    @Option(names = "--drive", paramLabel = "file=PATH[,format=raw|qcow2][,readonly=on][,serial=S][,transport=mmio|pci]",
            description = {"Attach a disk image as a virtio-blk disk (repeatable; the first is /dev/vda).",
                    "The format is probed when not given; readonly=on opens the image read-only."})
    List<String> drives = new ArrayList<>();

    @Option(names = "--share", paramLabel = "DIR,tag=TAG[,readonly=on][,transport=mmio|pci]",
            description = {"Share a host directory with the guest over virtio-9p (repeatable);",
                    "in the guest: mount -t 9p -o trans=virtio,version=9p2000.L TAG /mnt"})
    List<String> shares = new ArrayList<>();

    /**
     * One {@code --net} value: {@code mac=} and {@code transport=} are the card's, the rest
     * are {@link UserNetOptions}. The {@code index}-th card gets QEMU's MAC for it unless given one.
     */
    private static VirtioSpec.Net netSpec(String text, long index) {
        List<String> rest = new ArrayList<>();
        String mac = null;
        String transport = "mmio";
        for (String part : text.split(",", -1)) {
            if (part.startsWith("mac=")) {
                mac = part.substring(4);
            } else if (part.startsWith("transport=")) {
                transport = part.substring(10);
            } else {
                rest.add(part);
            }
        }
        try {
            UserNetOptions options = UserNetOptions.parse(String.join(",", rest));
            byte[] m = mac == null ? VirtioSpec.Net.defaultMac((int) index) : VirtioNet.parseMac(mac);
            VirtioSpec.Transport t = DeviceOption.transport("--net", transport);
            return new VirtioSpec.Net(new UserNet(options), m, t);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException("--net: " + e.getMessage().replaceFirst("^net: ", ""));
        }
    }

    private static final Set<String> SHARE_KEYS = new LinkedHashSet<>(List.of("path", "tag", "readonly", "transport"));

    private static final Set<String> DRIVE_KEYS = new LinkedHashSet<>(
            List.of("file", "format", "readonly", "serial", "transport"));

    /**
     * The VirtIO devices the flags ask for, in order, with their disk images opened. A bad
     * flag is a usage error; an image that cannot be opened is a BootException.
     */
    private List<VirtioSpec> virtioSpecs() throws BootException {
        List<VirtioSpec> specs = new ArrayList<>();
        try {
            for (String d : drives) {
                DeviceOption o = DeviceOption.parse("--drive", d, false, DRIVE_KEYS);
                String file = o.required("file");
                DiskFormat format;
                try {
                    format = o.get("format", null) == null ? null : DiskFormat.parse(o.get("format", null));
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.TypeConversionException("--drive: format must be raw or qcow2");
                }
                boolean readOnly = o.flag("readonly", false);
                String serial = o.get("serial", null);
                try {
                    VirtioSpec.Disk.checkSerial(serial); // before the image is opened
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.TypeConversionException("--drive: " + e.getMessage());
                }
                VirtioSpec.Transport t = o.transport();
                try {
                    specs.add(new VirtioSpec.Disk(DiskImages.open(Path.of(file), format, readOnly), serial, t));
                } catch (IOException e) {
                    throw new BootException(Vmctl.oneLine(e));
                }
            }
            for (String sh : shares) {
                DeviceOption o = DeviceOption.parse("--share", sh, true, SHARE_KEYS);
                Path dir = Path.of(o.required("path"));
                if (!Files.isDirectory(dir)) {
                    throw new BootException("--share " + dir + ": not a directory");
                }
                String tag = o.get("tag", null);
                if (tag == null || tag.isEmpty()) {
                    throw new CommandLine.TypeConversionException("--share: 'tag=' is required (the guest mounts by it)");
                }
                specs.add(new VirtioSpec.Share(dir, tag, o.flag("readonly", false), o.transport()));
            }
            if (rng != null) {
                specs.add(new VirtioSpec.Rng(DeviceOption.transport("--rng", rng)));
            }
            for (String n : nets) {
                specs.add(netSpec(n, specs.stream().filter(x -> x instanceof VirtioSpec.Net).count()));
            }
            if (vsock != null) {
                VsockOptions v;
                try {
                    v = VsockOptions.parse(vsock);
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.TypeConversionException("--vsock: " + e.getMessage());
                }
                try {
                    specs.add(new VirtioSpec.Vsock(v.cid(), UnixSocketVsock.open(v.uds()), v.transport()));
                } catch (IOException | RuntimeException e) {
                    throw new BootException("--vsock " + v.uds() + ": " + e.getMessage());
                }
            }
            if (virtioConsole != null) {
                specs.add(new VirtioSpec.Console(DeviceOption.transport("--virtio-console", virtioConsole)));
            }
            if (balloon != null) {
                specs.add(new VirtioSpec.Balloon(false, DeviceOption.transport("--balloon", balloon)));
            }
        } catch (BootException | RuntimeException e) {
            for (VirtioSpec s : specs) {
                if (s instanceof VirtioSpec.Disk disk) {
                    try {
                        disk.backend().close();
                    } catch (IOException ignored) {
                        // closing a read we never started; nothing was written
                    }
                } else if (s instanceof VirtioSpec.Net net) {
                    net.backend().close();
                } else if (s instanceof VirtioSpec.Vsock v) {
                    v.backend().close();
                }
            }
            if (e instanceof CommandLine.TypeConversionException tce) {
                throw new CommandLine.ParameterException(spec.commandLine(), tce.getMessage());
            }
            throw e;
        }
        return specs;
    }

    /** The on-disk code cache is capped at this many bytes (least recently used entries go first). */
    static final long AOT_CACHE_MAX_BYTES = 256L << 20;

    private CodeCache codeCache;
    private boolean codeCacheOpened;

    enum ClockMode { realtime, deterministic }

    enum JitMode { off, on, always }

    private JitOptions jitOptions() {
        if (jitThreshold < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--jit-threshold must not be negative");
        }
        JitOptions options = switch (jitMode) {
            case off -> new JitOptions(JitOptions.Mode.OFF, jitThreshold);
            case on -> new JitOptions(JitOptions.Mode.ON, jitThreshold);
            case always -> new JitOptions(JitOptions.Mode.ALWAYS, 0);
        };
        return options.withCache(codeCache());
    }

    /** The code cache per --aot-cache and --aot-cache-dir (opened once), or null when off. */
    private CodeCache codeCache() {
        if (codeCacheOpened) {
            return codeCache;
        }
        CacheMode mode;
        try {
            mode = CacheMode.parse(aotCache);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--aot-cache must be off, ro or rw, not '" + aotCache + "'");
        }
        codeCacheOpened = true;
        if (mode == CacheMode.OFF || jitMode == JitMode.off) {
            return null;
        }
        Path dir = aotCacheDir != null ? aotCacheDir : CacheLocations.defaultDirectory();
        try {
            codeCache = new CodeCache(CodeCache.DEFAULT_MEMORY_ENTRIES,
                    DiskCache.open(dir, mode, AOT_CACHE_MAX_BYTES, CodeCache.FORMAT_VERSION));
        } catch (IOException e) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--aot-cache-dir " + dir + ": " + Vmctl.oneLine(e));
        }
        return codeCache;
    }

    /** The --stats line shared by both machine kinds. */
    private static void printStats(PrintStream err, long instructions, long ns, Interpreter interp) {
        BlockCache c = interp.cache();
        err.printf("vmctl: %d instructions in %.3f s (%.1f MIPS); blocks: %d translated, %d invalidated,"
                + " %d full flushes, %d translation epochs, %d pages remapped; %d entries into compiled code, %d chained%n",
                instructions, ns / 1e9, instructions / (ns / 1e3), c.translations(), c.invalidations(), c.flushes(),
                c.epochs(), c.pageForgets(), interp.compiledEntries(), interp.chainedEntries());
    }

    /** Says that --max-instructions ended the run; returns the exit status for it. */
    private int budgetExhausted(PrintStream err, long instructions) {
        err.printf("vmctl: stopped after %d instructions (--max-instructions %d); the guest did not finish%n",
                instructions, maxInstructions);
        return EXIT_BUDGET;
    }

    private void printJitStats(PrintStream err, JitCompiler jit, Interpreter interp) {
        if (jit != null) {
            err.println("vmctl: " + jit.stats() + (interp.warmStarts() > 0
                    ? "; " + interp.warmStarts() + " regions warm-started at their first execution" : ""));
        }
    }

    @Override
    public Integer call() throws IOException {
        if (maxInstructions != null && maxInstructions <= 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--max-instructions must be positive");
        }
        jitOptions(); // validates --jit-threshold
        if (bios != null || demo) {
            if (kernel != null || initrd != null || firmware != null) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--bios/--demo run a bare-metal program; they do not combine with --kernel, --initrd or --firmware");
            }
            if (monitor != null) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--monitor works with Linux machines, not --bios/--demo programs");
            }
            return runBareMetal();
        }
        return runLinux();
    }

    private long budget() {
        return maxInstructions == null ? Long.MAX_VALUE : maxInstructions;
    }

    // ---------------------------------------------------------------------------------
    // Linux on the virt board.

    /**
     * Boots Linux, with the monitor socket listening first when asked for (so a path in use
     * fails before any device opens a host resource) and closed before the machine is.
     */
    private int runLinux() throws IOException {
        MonitorServer server = null;
        if (monitor != null && dumpDtb == null) {
            try {
                server = MonitorServer.bind(monitor);
            } catch (IOException e) {
                vmctl.err.println("vmctl: --monitor: " + Vmctl.oneLine(e));
                return Vmctl.EXIT_USAGE;
            }
        }
        try (MonitorServer s = server) {
            return runLinux(s);
        }
    }

    private int runLinux(MonitorServer server) throws IOException {
        PrintStream err = vmctl.err;
        VirtMachine.Config cfg;
        try {
            cfg = linuxConfig();
        } catch (BootException e) {
            err.println("vmctl: " + Vmctl.oneLine(e));
            return Vmctl.EXIT_USAGE;
        }
        VirtMachine m;
        try {
            m = new VirtMachine(cfg);
        } catch (BootException e) {
            err.println("vmctl: " + Vmctl.oneLine(e));
            return Vmctl.EXIT_USAGE;
        }
        try (m) {
            if (dumpDtb != null) {
                Files.write(dumpDtb, m.deviceTree());
                return 0;
            }
            HostConsole console = vmctl.console == System.out ? HostConsole.open(vmctl.console) : null;
            if (console != null) {
                console.start(m::input, m::stop);
            }
            VirtMachineTarget monitored = null;
            if (server != null) {
                monitored = new VirtMachineTarget(m, memory, cfg.virtio(), System::nanoTime);
                server.serve(new MonitorCommands(monitored));
            }
            long t0 = System.nanoTime();
            VirtMachine.Result r;
            try {
                r = m.run(budget());
            } finally {
                if (monitored != null) {
                    monitored.ended();
                    server.close(); // before the machine: no command reaches a closed device
                }
                if (console != null) {
                    console.close();
                }
            }
            long ns = System.nanoTime() - t0;
            vmctl.console.flush();
            if (stats) {
                printStats(err, r.instructions(), ns, m.interpreter());
                printJitStats(err, m.jit(), m.interpreter());
            }
            return switch (r.ending()) {
                case POWEROFF, STOPPED, REBOOT -> 0;
                case FAILURE -> r.exitCode() == 0 ? 1 : r.exitCode();
                case BUDGET -> budgetExhausted(err, r.instructions());
            };
        }
    }

    private VirtMachine.Config linuxConfig() throws BootException {
        Path k = kernel, i = initrd;
        if (k == null) {
            Path guest = bundledGuest();
            k = guest.resolve("Image.gz");
            if (i == null) {
                i = guest.resolve("initramfs.cpio.gz");
            }
        }
        KernelImage image = KernelImage.read(k);
        byte[] rd = i == null ? null : readFile(i, "initrd", VirtMachine.MIN_RAM * 16);
        byte[] fw = firmware == null ? null : readFile(firmware, "firmware", 2L << 20);
        return new VirtMachine.Config(memory, image.bytes(), image.imageSize(), rd, append, fw,
                clock == ClockMode.deterministic, noReboot,
                clock == ClockMode.deterministic ? 0 : System.currentTimeMillis() * 1_000_000L,
                vmctl.console, msg -> vmctl.err.println("rivet: guest error: " + msg), jitOptions(), virtioSpecs());
    }

    /** The guest shipped in the repository: $RIVET_HOME/guest/riscv64 (./vmctl sets it). */
    private static Path bundledGuest() throws BootException {
        String home = System.getProperty("rivet.home", System.getenv("RIVET_HOME"));
        Path dir = Path.of(home == null ? "." : home, "guest", "riscv64");
        if (!Files.isRegularFile(dir.resolve("Image.gz"))) {
            throw new BootException("the bundled guest is missing (" + dir.resolve("Image.gz")
                    + "); run vmctl from the repository or pass --kernel");
        }
        return dir;
    }

    private static byte[] readFile(Path p, String what, long max) throws BootException {
        try {
            if (Files.size(p) > max) {
                throw new BootException(p + ": " + what + " is larger than " + (max >> 20) + " MiB");
            }
            return Files.readAllBytes(p);
        } catch (NoSuchFileException e) {
            throw new BootException(p + ": no such file");
        } catch (IOException e) {
            throw new BootException(p + ": cannot read " + what + ": " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------------------------
    // Bare-metal programs.

    private int runBareMetal() throws IOException {
        PrintStream err = vmctl.err;
        ElfImage image;
        try {
            image = bios != null ? ElfLoader.read(bios) : demoImage();
        } catch (ElfFormatException e) {
            err.println("vmctl: " + Vmctl.oneLine(e)); // ElfLoader.read already names the file
            return Vmctl.EXIT_USAGE;
        } catch (NoSuchFileException | FileNotFoundException e) {
            err.println("vmctl: " + bios + ": no such file");
            return Vmctl.EXIT_USAGE;
        }
        BareMetalMachine m;
        try {
            m = new BareMetalMachine(image, memory, vmctl.console,
                    msg -> err.println("rivet: guest error: " + msg), jitOptions());
        } catch (IllegalArgumentException e) {
            err.println("vmctl: " + Vmctl.oneLine(e));
            return 1;
        }
        try (m) {
            if (!m.hasHtif()) {
                err.println("vmctl: warning: the program has no 'tohost' symbol, so it cannot end the run itself");
            }
            long t0 = System.nanoTime();
            BareMetalMachine.Result r = m.run(budget());
            long ns = System.nanoTime() - t0;
            vmctl.console.flush();
            if (stats) {
                printStats(err, r.instructions(), ns, m.interpreter());
                printJitStats(err, m.jit(), m.interpreter());
            }
            return r.exited() ? r.exitCode() : budgetExhausted(err, r.instructions());
        }
    }

    private static ElfImage demoImage() throws IOException, ElfFormatException {
        try (InputStream in = RunCommand.class.getResourceAsStream(DEMO)) {
            if (in == null) {
                throw new IOException("the bundled demo program is missing from this build");
            }
            return ElfLoader.parse(in.readAllBytes());
        }
    }

    /** Parses sizes like {@code 4096}, {@code 64K}, {@code 128M}, {@code 2G}. */
    static final class SizeConverter implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String s) {
            String t = s.trim().toUpperCase();
            long mul = 1;
            if (t.endsWith("IB")) {
                t = t.substring(0, t.length() - 2);
            } else if (t.endsWith("B")) {
                t = t.substring(0, t.length() - 1);
            }
            if (!t.isEmpty()) {
                switch (t.charAt(t.length() - 1)) {
                    case 'K' -> mul = 1L << 10;
                    case 'M' -> mul = 1L << 20;
                    case 'G' -> mul = 1L << 30;
                    default -> mul = 1;
                }
                if (mul != 1) {
                    t = t.substring(0, t.length() - 1);
                }
            }
            long v;
            try {
                v = Math.multiplyExact(Long.parseLong(t), mul);
            } catch (NumberFormatException | ArithmeticException e) {
                throw new CommandLine.TypeConversionException("'" + s + "' is not a size (try 512M or 1G)");
            }
            if (v < (1 << 20) || v > (64L << 30) || (v & 0xFFF) != 0) {
                throw new CommandLine.TypeConversionException("'" + s + "': memory must be 1M to 64G in whole 4K pages");
            }
            return v;
        }
    }
}
