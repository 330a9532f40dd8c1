package dev.rivet.platform.virt;

import dev.rivet.jit.CodeCache;
import dev.rivet.platform.JitOptions;
import dev.rivet.platform.boot.KernelImage;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/** Boots a Linux guest on the virt board for a test and collects its console. */
final class GuestBoot {
    /** The project's own guest (guest/riscv64 at the repository root). */
    static final Path BUNDLED = Path.of("..", "guest", "riscv64");
    /** The team's reference guest, beside the repository. */
    static final Path REFERENCE = Path.of("..", "..", "shared", "guest", "riscv64");
    /** 2026-11-21T00:00:00Z: the RTC's time at power-on in tests. */
    static final long EPOCH_NANOS = 1_795_219_200L * 1_000_000_000L;
    static final long BUDGET = 40_000_000_000L;

    Path kernel = BUNDLED.resolve("Image.gz");
    Path initrd = BUNDLED.resolve("initramfs.cpio.gz");
    /** Files added to the initramfs (vmtest.sh, programs), by path. */
    final java.util.Map<String, byte[]> extraFiles = new java.util.LinkedHashMap<>();
    String append = "console=ttyS0";
    byte[] firmware;
    boolean deterministic = true;
    boolean noReboot = true;
    long ram = 512L << 20;
    /**
     * The boots of a JIT run share one code cache, as a test library that boots the same
     * guest again and again should: each region is compiled once per test JVM. A boot with
     * {@code --jit=always} compiles about 70,000 regions (every block at its first
     * execution, user programs included), and the next boot runs them in about the same
     * order: a least-recently-used cache smaller than that (the CLI's 20,000) evicts each
     * region before the next boot asks for it, so this one holds the test run's few guests
     * whole (measured: 800 hits a boot with 20,000 entries, 39,000 with this).
     */
    static final CodeCache SHARED_CODE = new CodeCache(400_000, null);
    /** Off unless {@code -Drivet.jit=on|always} (to run the boot tests on the JIT by hand). */
    JitOptions jit = switch (System.getProperty("rivet.jit", "off")) {
        case "on" -> JitOptions.ON.withCache(SHARED_CODE);
        case "always" -> JitOptions.ALWAYS.withCache(SHARED_CODE);
        default -> JitOptions.OFF;
    };
    /** Opens a VirtIO device for one boot (the machine closes what it opened). */
    interface DeviceFactory {
        VirtioSpec open() throws Exception;
    }

    /** The VirtIO devices each boot gets, in order (the first MMIO disk is vda). */
    final List<DeviceFactory> devices = new ArrayList<>();

    GuestBoot device(DeviceFactory f) {
        devices.add(f);
        return this;
    }

    /** The JIT's counters after {@link #run()}, or null when it was off. */
    String jitStats;

    final ByteArrayOutputStream console = new ByteArrayOutputStream();
    final StringBuilder guestErrors = new StringBuilder();

    GuestBoot guest(Path dir) {
        kernel = dir.resolve(Files.exists(dir.resolve("Image.gz")) ? "Image.gz" : "Image");
        initrd = dir.resolve("initramfs.cpio.gz");
        return this;
    }

    /** Adds {@code /vmtest.sh} with {@code script} and points the kernel command line at it. */
    GuestBoot vmtest(String script) {
        extraFiles.put("vmtest.sh", ("#!/bin/sh\n" + script).getBytes(StandardCharsets.UTF_8));
        append = append + " vmtest=/vmtest.sh";
        return this;
    }

    /** Adds an executable file to the initramfs, e.g. a static program the vmtest runs. */
    GuestBoot file(String path, byte[] data) {
        extraFiles.put(path, data);
        return this;
    }

    /** Boots without an initramfs: the kernel mounts the root file system named by {@code args}. */
    GuestBoot rootFrom(String args) {
        initrd = null;
        append = append + " " + args;
        return this;
    }

    VirtMachine machine() throws Exception {
        for (Path p : new Path[] {kernel, initrd}) {
            if (p != null && !Files.exists(p)) {
                fail("guest file missing: " + p.toAbsolutePath());
            }
        }
        KernelImage k = KernelImage.read(kernel);
        byte[] rd = initrd == null ? null : Files.readAllBytes(initrd);
        byte[] extraInitrd = null;
        if (!extraFiles.isEmpty()) {
            Cpio cpio = new Cpio();
            extraFiles.forEach((path, data) -> cpio.file(path, data, 0755));
            extraInitrd = cpio.gzip();
        }
        if (extraInitrd != null && rd != null) {
            byte[] all = new byte[rd.length + extraInitrd.length];
            System.arraycopy(rd, 0, all, 0, rd.length);
            System.arraycopy(extraInitrd, 0, all, rd.length, extraInitrd.length);
            rd = all;
        }
        OutputStream sink = new OutputStream() {
            @Override
            public void write(int b) {
                synchronized (console) {
                    console.write(b);
                }
            }

            @Override
            public void write(byte[] b, int off, int len) {
                synchronized (console) {
                    console.write(b, off, len);
                }
            }
        };
        List<VirtioSpec> specs = new ArrayList<>();
        for (DeviceFactory f : devices) {
            specs.add(f.open());
        }
        return new VirtMachine(new VirtMachine.Config(ram, k.bytes(), k.imageSize(), rd, append, firmware,
                deterministic, noReboot, EPOCH_NANOS, sink, msg -> guestErrors.append(msg).append('\n'), jit, specs));
    }

    String console() {
        synchronized (console) {
            return console.toString(StandardCharsets.UTF_8);
        }
    }

    /** Boots to the end (power off, reboot or failure) and returns how it ended. */
    VirtMachine.Result run() throws Exception {
        try (VirtMachine m = machine()) {
            VirtMachine.Result r = m.run(BUDGET);
            if (m.jit() != null) {
                jitStats = m.jit().stats();
                System.err.println("GuestBoot: " + jitStats);
            }
            if (r.ending() == VirtMachine.Ending.BUDGET) {
                fail("guest did not finish within " + BUDGET + " instructions; console:\n" + tail());
            }
            return r;
        }
    }

    String tail() {
        String c = console();
        return c.length() > 4000 ? c.substring(c.length() - 4000) : c;
    }

    /** Runs the machine on another thread (for interactive tests). */
    static final class Running implements AutoCloseable {
        final VirtMachine machine;
        final Thread thread;
        final CountDownLatch done = new CountDownLatch(1);
        volatile VirtMachine.Result result;

        Running(VirtMachine m) {
            machine = m;
            thread = new Thread(() -> {
                try {
                    result = m.run(BUDGET);
                } finally {
                    done.countDown();
                }
            }, "guest");
            thread.start();
        }

        boolean awaitEnd(long seconds) throws InterruptedException {
            return done.await(seconds, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws InterruptedException {
            machine.stop();
            thread.join(30_000);
            machine.close();
        }
    }

    static void waitFor(GuestBoot g, String text, long seconds) throws InterruptedException, IOException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!g.console().contains(text)) {
            if (System.nanoTime() > end) {
                fail("timed out waiting for '" + text + "'; console:\n" + g.tail());
            }
            Thread.sleep(50);
        }
    }
}
