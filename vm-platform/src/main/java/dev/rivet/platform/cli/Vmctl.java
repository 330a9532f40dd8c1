package dev.rivet.platform.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;

/**
 * {@code vmctl}: the command-line front end. Errors are one line on stderr with a
 * non-zero exit status; no stack traces reach the user.
 */
@Command(name = "vmctl", mixinStandardHelpOptions = true, version = "rivet 0.1.0",
        description = "Rivet machine emulator.",
        subcommands = {RunCommand.class, MonitorCommand.class, CacheCommand.class, DiskCommand.class,
                CommandLine.HelpCommand.class})
public final class Vmctl implements Runnable {
    /** Exit status for bad command lines and unusable input files. */
    public static final int EXIT_USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Standard input (what {@code vmctl monitor} reads commands from). */
    final InputStream in;
    /** The guest console (raw bytes) and the user-facing error stream. */
    final PrintStream console;
    final PrintStream err;

    Vmctl(InputStream in, PrintStream console, PrintStream err) {
        this.in = in;
        this.console = console;
        this.err = err;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (try: vmctl run)");
    }

    public static void main(String[] args) {
        System.exit(execute(args, System.out, System.err));
    }

    /** Runs vmctl with the given streams and returns the exit status (for tests). */
    public static int execute(String[] args, PrintStream out, PrintStream err) {
        return execute(args, System.in, out, err);
    }

    /** As {@link #execute(String[], PrintStream, PrintStream)}, reading standard input from {@code in}. */
    public static int execute(String[] args, InputStream in, PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(new Vmctl(in, out, err));
        // Everything after the socket path is the monitor command, even words that look like options.
        cl.getSubcommands().get("monitor").setStopAtPositional(true);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            err.println("vmctl: " + oneLine(ex));
            return 1;
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("vmctl: " + ex.getMessage());
            err.println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
            return EXIT_USAGE;
        });
        return cl.execute(args);
    }

    static String oneLine(Throwable t) {
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            m = t.getClass().getSimpleName();
        }
        return m.lines().findFirst().orElse(m);
    }
}
