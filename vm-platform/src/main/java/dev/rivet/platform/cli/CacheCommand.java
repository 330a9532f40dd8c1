package dev.rivet.platform.cli;

import dev.rivet.aot.CacheLocations;
import dev.rivet.aot.CacheMode;
import dev.rivet.aot.DiskCache;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code vmctl cache}: looks after the on-disk code cache that VMs share. The directory may
 * hold entries of several Rivet releases, so these commands judge entries by their
 * integrity only (a release ignores the others' entries by itself). A directory that does
 * not exist is an empty cache.
 */
@Command(name = "cache", mixinStandardHelpOptions = true,
        description = "Inspect, check or empty the on-disk code cache.",
        subcommands = {CacheCommand.Stats.class, CacheCommand.Verify.class, CacheCommand.Clear.class},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:done (also when verify found and removed bad entries)",
                "2:bad command line, or the directory cannot be used"})
final class CacheCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @ParentCommand
    Vmctl vmctl;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (try: vmctl cache stats)");
    }

    /** The options every cache command takes. */
    static final class Where {
        @Option(names = "--dir", paramLabel = "DIR",
                description = "Cache directory (default: the platform's user cache, e.g. ~/.cache/rivet/code).")
        Path dir;

        @Option(names = "--json", description = "Print the result as one JSON object.")
        boolean json;

        Path directory() {
            return dir != null ? dir : CacheLocations.defaultDirectory();
        }

        DiskCache open(CacheMode mode) throws IOException {
            return DiskCache.open(directory(), mode, Long.MAX_VALUE, DiskCache.ANY_VERSION);
        }
    }

    /** Shared frame of the three commands: one result line(s) on stdout, or one error line and exit 2. */
    abstract static class Action implements Callable<Integer> {
        @ParentCommand
        CacheCommand cache;

        @Mixin
        Where where;

        abstract void act(PrintStream out) throws IOException;

        @Override
        public Integer call() {
            try {
                act(cache.vmctl.console);
                return 0;
            } catch (IOException e) {
                cache.vmctl.err.println("vmctl: cache directory " + where.directory() + ": " + describe(e));
                return Vmctl.EXIT_USAGE;
            }
        }
    }

    @Command(name = "stats", mixinStandardHelpOptions = true,
            description = "Print the number of entries, their total size and the directory.")
    static final class Stats extends Action {
        @Override
        void act(PrintStream out) throws IOException {
            DiskCache c = where.open(CacheMode.READ_ONLY);
            DiskCache.Stats s = c.stats();
            long hot = c.hotListCount();
            if (where.json) {
                out.println("{\"directory\":" + json(where.directory()) + ",\"entries\":" + s.entries()
                        + ",\"bytes\":" + s.bytes() + ",\"hotLists\":" + hot + "}");
            } else {
                out.println("directory: " + where.directory());
                out.println("entries:   " + s.entries());
                out.println("size:      " + size(s.bytes()));
                out.println("hot lists: " + hot);
            }
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Check every entry and remove the damaged ones.")
    static final class Verify extends Action {
        @Override
        void act(PrintStream out) throws IOException {
            DiskCache.VerifyReport r = where.open(CacheMode.READ_WRITE).verify();
            if (where.json) {
                out.println("{\"directory\":" + json(where.directory()) + ",\"ok\":" + r.ok() + ",\"bad\":" + r.bad()
                        + ",\"removed\":" + r.removed() + "}");
            } else {
                out.println("verified " + (r.ok() + r.bad()) + " entries in " + where.directory() + ": "
                        + r.ok() + " ok, " + r.bad() + " bad, " + r.removed() + " removed");
            }
        }
    }

    @Command(name = "clear", mixinStandardHelpOptions = true,
            description = "Remove every entry and hot list (files the cache did not write are kept).")
    static final class Clear extends Action {
        @Override
        void act(PrintStream out) throws IOException {
            long removed = where.open(CacheMode.READ_WRITE).clear();
            if (where.json) {
                out.println("{\"directory\":" + json(where.directory()) + ",\"removed\":" + removed + "}");
            } else {
                out.println("removed " + removed + " entries from " + where.directory());
            }
        }
    }

    /** "1.5 MiB (1572864 bytes)", or "12 bytes". */
    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " bytes";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s (%d bytes)", v, units[u], bytes);
    }

    /** A JSON string literal for the path (RFC 8259 escaping). */
    static String json(Path p) {
        return json(p.toString());
    }

    /** A JSON string literal (RFC 8259 escaping). */
    static String json(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    private static String describe(IOException e) {
        if (e instanceof java.nio.file.NotDirectoryException) {
            return "not a directory";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        return Vmctl.oneLine(e);
    }
}
