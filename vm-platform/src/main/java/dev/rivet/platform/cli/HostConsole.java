package dev.rivet.platform.cli;

import org.jline.terminal.Attributes;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.utils.NonBlockingReader;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.function.Consumer;

/**
 * The user's terminal as the guest's serial console. On a real terminal it is switched to
 * raw mode (no line editing, no echo, no signals: Ctrl-C goes to the guest, as with QEMU's
 * {@code -nographic}) and restored on exit. {@code Ctrl-A x} quits, {@code Ctrl-A Ctrl-A}
 * sends a literal Ctrl-A, {@code Ctrl-A h} prints help. Without a terminal (a pipe, CI),
 * standard input is forwarded as it is.
 */
final class HostConsole implements AutoCloseable {
    static final int CTRL_A = 1;

    private final Terminal terminal;
    private final Attributes saved;
    private final PrintStream out;
    private Thread reader;
    private volatile boolean closed;

    private HostConsole(Terminal terminal, Attributes saved, PrintStream out) {
        this.terminal = terminal;
        this.saved = saved;
        this.out = out;
    }

    /** Opens the console; falls back to plain standard input when there is no terminal. */
    static HostConsole open(PrintStream out) {
        if (System.console() == null || !System.console().isTerminal()) {
            return new HostConsole(null, null, out);
        }
        try {
            Terminal t = TerminalBuilder.builder().system(true).provider("exec").build();
            Attributes old = t.enterRawMode();
            Attributes raw = new Attributes(t.getAttributes());
            raw.setLocalFlag(Attributes.LocalFlag.ISIG, false);
            t.setAttributes(raw);
            return new HostConsole(t, old, out);
        } catch (IOException | RuntimeException e) {
            return new HostConsole(null, null, out);
        }
    }

    /**
     * Starts forwarding input: guest bytes to {@code toGuest}; {@code quit} runs on Ctrl-A x
     * (or end of input on a terminal).
     */
    void start(Consumer<byte[]> toGuest, Runnable quit) {
        reader = new Thread(() -> {
            try {
                if (terminal != null) {
                    readTerminal(toGuest, quit);
                } else {
                    readPipe(System.in, toGuest);
                }
            } catch (IOException e) {
                // input gone: keep the machine running, as QEMU does with a closed stdin
            }
        }, "rivet-console-input");
        reader.setDaemon(true);
        reader.start();
    }

    private void readTerminal(Consumer<byte[]> toGuest, Runnable quit) throws IOException {
        NonBlockingReader r = terminal.reader();
        boolean escape = false;
        while (!closed) {
            int c = r.read(100);
            if (c == NonBlockingReader.READ_EXPIRED) {
                continue;
            }
            if (c < 0) {
                return;
            }
            if (escape) {
                escape = false;
                switch (c) {
                    case 'x', 'X' -> {
                        out.print("\r\nvmctl: terminated (Ctrl-A x)\r\n");
                        out.flush();
                        quit.run();
                        return;
                    }
                    case CTRL_A -> toGuest.accept(new byte[] {CTRL_A});
                    case 'h', 'H', '?' -> {
                        out.print("\r\nCtrl-A x  quit\r\nCtrl-A Ctrl-A  send Ctrl-A\r\nCtrl-A h  this help\r\n");
                        out.flush();
                    }
                    default -> { }
                }
                continue;
            }
            if (c == CTRL_A) {
                escape = true;
                continue;
            }
            toGuest.accept(String.valueOf((char) c).getBytes(terminal.encoding()));
        }
    }

    private void readPipe(InputStream in, Consumer<byte[]> toGuest) throws IOException {
        byte[] buf = new byte[256];
        int n;
        while (!closed && (n = in.read(buf)) > 0) {
            toGuest.accept(java.util.Arrays.copyOf(buf, n));
        }
    }

    @Override
    public void close() {
        closed = true;
        if (terminal != null) {
            try {
                terminal.setAttributes(saved);
                terminal.close();
            } catch (IOException e) {
                // nothing more to restore
            }
        }
    }
}
