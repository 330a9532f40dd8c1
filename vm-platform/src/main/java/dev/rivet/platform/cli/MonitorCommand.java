package dev.rivet.platform.cli;

import dev.rivet.platform.monitor.LineReader;
import dev.rivet.platform.monitor.MonitorServer;
import dev.rivet.platform.monitor.Reply;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.Console;
import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code vmctl monitor PATH [COMMAND...]}: talks to the monitor of a machine started with
 * {@code vmctl run --monitor PATH}. With a command, sends it and prints the reply; without,
 * sends each line of standard input in turn (a prompt when it is a terminal).
 */
@Command(name = "monitor", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Send a command to a running machine's monitor (vmctl run --monitor PATH) and print the reply.",
                "With no COMMAND, read commands from standard input, one per line. 'help' lists the commands."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:every command succeeded",
                "1:a command failed (its message is on stderr), or the monitor could not be reached"})
final class MonitorCommand implements Callable<Integer> {
    /** Longest reply line read back (the server's lines are far shorter). */
    static final int MAX_REPLY_LINE = 64 * 1024;
    private static final String PROMPT = "(rivet) ";

    @CommandLine.ParentCommand
    Vmctl vmctl;

    @Parameters(index = "0", paramLabel = "PATH", description = "The monitor's socket.")
    Path socket;

    @Parameters(index = "1..*", paramLabel = "COMMAND",
            description = "The command and its arguments, e.g. info status, or hostfwd_add tcp:127.0.0.1:0-:22.")
    List<String> words = new ArrayList<>();

    /** The failure that ends the conversation: its message is printed as is. */
    private static final class Lost extends Exception {
        Lost(String message) {
            super(message);
        }
    }

    @Override
    public Integer call() {
        SocketChannel channel;
        try {
            channel = connect();
        } catch (Lost e) {
            vmctl.err.println("vmctl: " + e.getMessage());
            return 1;
        }
        try (channel) {
            LineReader replies = new LineReader(Channels.newInputStream(channel), MAX_REPLY_LINE);
            OutputStream out = Channels.newOutputStream(channel);
            return words.isEmpty() ? interactive(replies, out) : single(String.join(" ", words), replies, out);
        } catch (Lost e) {
            vmctl.err.println("vmctl: " + e.getMessage());
            return 1;
        } catch (IOException e) {
            vmctl.err.println("vmctl: " + socket + ": " + Vmctl.oneLine(e));
            return 1;
        }
    }

    private SocketChannel connect() throws Lost {
        if (!Files.exists(socket)) {
            throw new Lost(socket + ": no such socket (is a machine running with --monitor " + socket + "?)");
        }
        SocketChannel c = null;
        try {
            c = SocketChannel.open(StandardProtocolFamily.UNIX);
            c.connect(UnixDomainSocketAddress.of(socket));
            return c;
        } catch (IOException | RuntimeException e) {
            if (c != null) {
                try {
                    c.close();
                } catch (IOException ignored) {
                    // never connected
                }
            }
            String why = e instanceof java.net.ConnectException
                    ? "connection refused (no machine is listening there)" : Vmctl.oneLine(e);
            throw new Lost(socket + ": " + why);
        }
    }

    private int single(String command, LineReader replies, OutputStream out) throws IOException, Lost {
        String bad = unsendable(command);
        if (bad != null) {
            vmctl.err.println("vmctl: " + bad);
            return 1;
        }
        return exchange(command, replies, out) ? 0 : 1;
    }

    /** Each line of standard input in turn; the status says whether all succeeded. */
    private int interactive(LineReader replies, OutputStream out) throws IOException, Lost {
        Console console = vmctl.in == System.in ? System.console() : null;
        boolean terminal = console != null && console.isTerminal(); // not when stdin is piped
        LineReader input = new LineReader(vmctl.in, MonitorServer.MAX_LINE);
        boolean allOk = true;
        while (true) {
            if (terminal) {
                vmctl.console.print(PROMPT);
                vmctl.console.flush();
            }
            String line;
            try {
                line = input.readLine();
            } catch (LineReader.LineTooLongException e) {
                vmctl.err.println("vmctl: " + e.getMessage() + "; not sent");
                allOk = false;
                continue;
            }
            if (line == null) {
                return allOk ? 0 : 1;
            }
            if (line.isBlank()) {
                continue;
            }
            String bad = unsendable(line);
            if (bad != null) {
                vmctl.err.println("vmctl: " + bad);
                allOk = false;
                continue;
            }
            allOk &= exchange(line, replies, out);
        }
    }

    /** Why {@code command} cannot go out as one line, or null. */
    private static String unsendable(String command) {
        if (command.chars().anyMatch(c -> c == '\n' || c == '\r')) {
            return "a monitor command is one line";
        }
        if (command.getBytes(StandardCharsets.UTF_8).length > MonitorServer.MAX_LINE) {
            return "the command is longer than " + MonitorServer.MAX_LINE + " bytes";
        }
        return null;
    }

    /** Sends one command and prints its reply; true when it ended with OK. */
    private boolean exchange(String command, LineReader replies, OutputStream out) throws IOException, Lost {
        out.write((command + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        while (true) {
            String line;
            try {
                line = replies.readLine();
            } catch (LineReader.LineTooLongException e) {
                throw new Lost(socket + ": a reply " + e.getMessage());
            }
            if (line == null) {
                throw new Lost(socket + ": the monitor closed the connection before it answered");
            }
            if (line.equals(Reply.OK)) {
                vmctl.console.flush();
                return true;
            }
            if (line.startsWith(Reply.ERROR_PREFIX)) {
                vmctl.console.flush();
                vmctl.err.println("vmctl: " + line.substring(Reply.ERROR_PREFIX.length()));
                return false;
            }
            vmctl.console.println(line);
        }
    }
}
