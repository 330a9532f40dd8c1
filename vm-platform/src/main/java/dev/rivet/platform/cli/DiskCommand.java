package dev.rivet.platform.cli;

import dev.rivet.platform.disk.DiskFormat;
import dev.rivet.platform.disk.DiskImage;
import dev.rivet.platform.disk.DiskImages;
import dev.rivet.platform.disk.ImageCopy;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.io.Console;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import java.util.function.LongConsumer;

/**
 * {@code vmctl disk}: creates, describes and converts the host disk images guests use
 * (raw and qcow2). Bad command lines exit 2; images that cannot be used exit 1; both with
 * one line on stderr.
 */
@Command(name = "disk", mixinStandardHelpOptions = true,
        description = "Create, inspect or convert disk images (raw, qcow2).",
        subcommands = {DiskCommand.Create.class, DiskCommand.Info.class, DiskCommand.Convert.class},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:done", "1:an image could not be read, written or created", "2:bad command line"})
final class DiskCommand implements Runnable {
    /** Converts larger than this show a progress bar when stderr looks like a terminal. */
    static final long PROGRESS_THRESHOLD = 64L << 20;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @ParentCommand
    Vmctl vmctl;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (try: vmctl disk info IMAGE)");
    }

    /** Shared frame: an I/O failure is one line and exit 1; bad arguments are exit 2. */
    @Command
    abstract static class Action implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @ParentCommand
        DiskCommand disk;

        abstract void act(PrintStream out) throws IOException;

        @Override
        public Integer call() {
            try {
                act(disk.vmctl.console);
                return 0;
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            } catch (IOException e) {
                disk.vmctl.err.println("vmctl: " + Vmctl.oneLine(e));
                return 1;
            }
        }

        CommandLine.ParameterException usage(String message) {
            return new CommandLine.ParameterException(spec.commandLine(), message);
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Create a new image (never replaces an existing file).",
                    "SIZE may be bytes or use K, M, G, T, P (powers of 1024); it rounds up to 512-byte sectors.",
                    "A qcow2 image with a backing file takes its size when SIZE is left out."})
    static final class Create extends Action {
        @Option(names = "-f", paramLabel = "FMT", defaultValue = "qcow2", converter = FormatConverter.class,
                description = "raw or qcow2 (default: ${DEFAULT-VALUE}).")
        DiskFormat format;

        @Option(names = "-b", paramLabel = "BACKING",
                description = "Backing file (qcow2 only), stored as given: a relative name is relative to PATH's directory.")
        String backing;

        @Option(names = "-F", paramLabel = "FMT", converter = FormatConverter.class,
                description = "Format of the backing file (default: probed now and recorded).")
        DiskFormat backingFormat;

        @Option(names = "--cluster-size", paramLabel = "SIZE", converter = SizeConverter.class,
                description = "qcow2 cluster size, a power of two from 512 to 2M (default: 64K).")
        Long clusterSize;

        @Parameters(index = "0", paramLabel = "PATH", description = "The image to create.")
        Path path;

        @Parameters(index = "1", arity = "0..1", paramLabel = "SIZE", converter = SizeConverter.class,
                description = "Virtual disk size, e.g. 10G.")
        Long size;

        @Override
        void act(PrintStream out) throws IOException {
            if (backing != null && format != DiskFormat.QCOW2) {
                throw usage("-b needs -f qcow2 (raw images have no backing file)");
            }
            if (backingFormat != null && backing == null) {
                throw usage("-F needs -b");
            }
            if (size == null && backing == null) {
                throw usage("missing SIZE (e.g. 10G)");
            }
            if (clusterSize != null && format != DiskFormat.QCOW2) {
                throw usage("--cluster-size is for qcow2 images");
            }
            DiskImages.CreateOptions o = format == DiskFormat.RAW ? DiskImages.CreateOptions.raw(size)
                    : DiskImages.CreateOptions.qcow2(size == null ? -1 : size);
            if (clusterSize != null) {
                if (clusterSize > Integer.MAX_VALUE) {
                    throw usage("--cluster-size must be a power of two from 512 bytes to 2M");
                }
                o = o.withClusterSize(clusterSize.intValue());
            }
            if (backing != null) {
                o = o.withBacking(backing, backingFormat);
            }
            DiskImages.create(path, o);
            try (DiskImage img = DiskImages.open(path, true)) {
                out.println("created " + path + " (" + img.format().id() + ", " + CacheCommand.size(img.size())
                        + (backing != null ? ", backing file " + backing : "") + ")");
            }
        }
    }

    @Command(name = "info", mixinStandardHelpOptions = true,
            description = "Show an image's format, sizes, cluster size, backing chain and state.")
    static final class Info extends Action {
        @Option(names = "-f", paramLabel = "FMT", converter = FormatConverter.class,
                description = "raw or qcow2 (default: probed).")
        DiskFormat format;

        @Option(names = "--json", description = "Print one JSON object (stable keys; see the documentation).")
        boolean json;

        @Parameters(index = "0", paramLabel = "PATH")
        Path path;

        @Override
        void act(PrintStream out) throws IOException {
            DiskImages.Info i = DiskImages.info(path, format);
            out.println(json ? toJson(i) : toText(i));
        }

        static String toText(DiskImages.Info i) {
            StringBuilder b = new StringBuilder();
            b.append("image:        ").append(i.path()).append('\n');
            b.append("format:       ").append(i.format().id());
            if (i.format() == DiskFormat.QCOW2) {
                b.append(" (version ").append(i.version()).append(')');
            }
            b.append('\n');
            b.append("virtual size: ").append(CacheCommand.size(i.virtualSize())).append('\n');
            b.append("disk size:    ").append(CacheCommand.size(i.diskSize()));
            if (i.format() == DiskFormat.QCOW2) {
                b.append('\n').append("cluster size: ").append(i.clusterSize());
                b.append('\n').append("dirty:        ").append(i.dirty() ? "yes" : "no");
                b.append('\n').append("corrupt:      ").append(i.corrupt() ? "yes" : "no");
            }
            int depth = 1;
            for (DiskImages.Layer l : i.backingChain()) {
                b.append('\n').append(depth == 1 ? "backing file: " : "  backed by:  ").append(l.storedName())
                        .append(" (").append(l.format().id()).append(", ").append(l.path()).append(')');
                depth++;
            }
            return b.toString();
        }

        static String toJson(DiskImages.Info i) {
            boolean q = i.format() == DiskFormat.QCOW2;
            StringJoiner chain = new StringJoiner(",", "[", "]");
            for (DiskImages.Layer l : i.backingChain()) {
                chain.add("{\"path\":" + CacheCommand.json(l.path()) + ",\"name\":" + CacheCommand.json(l.storedName())
                        + ",\"format\":\"" + l.format().id() + "\",\"virtualSize\":" + l.virtualSize() + "}");
            }
            return "{\"path\":" + CacheCommand.json(i.path()) + ",\"format\":\"" + i.format().id() + "\""
                    + ",\"virtualSize\":" + i.virtualSize() + ",\"diskSize\":" + i.diskSize()
                    + ",\"clusterSize\":" + (q ? i.clusterSize() : "null") + ",\"version\":" + (q ? i.version() : "null")
                    + ",\"dirty\":" + i.dirty() + ",\"corrupt\":" + i.corrupt() + ",\"backingChain\":" + chain + "}";
        }
    }

    @Command(name = "convert", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Copy an image into a new file of another (or the same) format.",
                    "Ranges that read as zeroes are skipped, so the copy stays sparse; a backing chain is flattened."})
    static final class Convert extends Action {
        @Option(names = "-f", paramLabel = "FMT", converter = FormatConverter.class,
                description = "Format of SRC (default: probed).")
        DiskFormat sourceFormat;

        @Option(names = "-O", paramLabel = "FMT", required = true, converter = FormatConverter.class,
                description = "Format of DST: raw or qcow2.")
        DiskFormat targetFormat;

        @Option(names = "--progress", negatable = true,
                description = "Show a progress bar on stderr (default: when stderr is a terminal and the image is over 64 MiB).")
        Boolean progress;

        @Parameters(index = "0", paramLabel = "SRC")
        Path source;

        @Parameters(index = "1", paramLabel = "DST")
        Path target;

        @Override
        void act(PrintStream out) throws IOException {
            try (DiskImage src = DiskImages.open(source, sourceFormat, true)) {
                boolean show = progress != null ? progress : src.size() > PROGRESS_THRESHOLD && interactive();
                ImageCopy.Result r;
                if (show) {
                    try (ProgressBar bar = progressBar(src.size(), disk.vmctl.err, progress != null && !interactive())) {
                        r = ImageCopy.convert(src, target, targetFormat, bar::stepTo);
                    }
                } else {
                    LongConsumer none = n -> { };
                    r = ImageCopy.convert(src, target, targetFormat, none);
                }
                out.println("converted " + source + " (" + src.format().id() + ") to " + target + " ("
                        + targetFormat.id() + "): " + CacheCommand.size(r.size()) + ", "
                        + CacheCommand.size(r.bytesWritten()) + " of data");
            }
        }

        /** Our best guess that a person watches stderr (Java cannot ask about stderr alone). */
        private static boolean interactive() {
            Console c = System.console();
            return c != null && c.isTerminal();
        }

        private static ProgressBar progressBar(long size, PrintStream err, boolean fixedWidth) {
            // Off a terminal (forced with --progress) the width is fixed, so no terminal is probed.
            ConsoleProgressBarConsumer consumer = fixedWidth ? new ConsoleProgressBarConsumer(err, 80)
                    : new ConsoleProgressBarConsumer(err);
            return new ProgressBarBuilder().setTaskName("convert").setInitialMax(size).setUnit("MiB", 1 << 20)
                    .setStyle(ProgressBarStyle.ASCII).setConsumer(consumer).setUpdateIntervalMillis(200).build();
        }
    }

    /** "raw" or "qcow2". */
    static final class FormatConverter implements CommandLine.ITypeConverter<DiskFormat> {
        @Override
        public DiskFormat convert(String s) {
            try {
                return DiskFormat.parse(s);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** Disk sizes: bytes, or a number with K, M, G, T or P (powers of 1024), optionally followed by B or iB. */
    static final class SizeConverter implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String s) {
            String t = s.trim().toUpperCase(Locale.ROOT);
            if (t.endsWith("IB")) {
                t = t.substring(0, t.length() - 2);
            } else if (t.endsWith("B")) {
                t = t.substring(0, t.length() - 1);
            }
            int shift = 0;
            if (!t.isEmpty()) {
                shift = switch (t.charAt(t.length() - 1)) {
                    case 'K' -> 10;
                    case 'M' -> 20;
                    case 'G' -> 30;
                    case 'T' -> 40;
                    case 'P' -> 50;
                    default -> 0;
                };
                if (shift != 0) {
                    t = t.substring(0, t.length() - 1);
                }
            }
            try {
                long v = Long.parseLong(t);
                if (v < 0 || !t.chars().allMatch(Character::isDigit)) {
                    throw new NumberFormatException();
                }
                if (shift > 0 && v > (Long.MAX_VALUE >> shift)) {
                    throw new ArithmeticException();
                }
                return v << shift;
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("'" + s + "' is not a size (try 10G, 512M or 1048576)");
            } catch (ArithmeticException e) {
                throw new CommandLine.TypeConversionException("'" + s + "' is too large");
            }
        }
    }
}
