package dev.rivet.platform.monitor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Reads newline-terminated lines from a stream with a bound on the memory one line may take,
 * for both ends of the monitor protocol ({@link MonitorServer}, and {@code vmctl monitor}).
 * A line longer than the bound is reported as {@link LineTooLongException} as soon as the
 * bound is passed (the sender may never send its newline), and the rest of it is skipped by
 * the next read, so the stream stays usable and memory stays bounded whatever arrives.
 *
 * <p>Lines end at LF; a CR before it is dropped (telnet, {@code nc -C}, Windows scripts).
 * Bytes are UTF-8, malformed sequences become U+FFFD. Bytes after the last newline when the
 * stream ends are not a line: a command cut off by a disconnect is never executed.
 */
public final class LineReader {
    private static final int READ_CHUNK = 4096;

    private final InputStream in;
    private final int maxBytes;
    private final byte[] buf;
    private int start, end;
    /** Bytes from {@code start} up to here hold no newline (so a slow sender costs no rescans). */
    private int scanned;
    /** Skipping the rest of a line already reported as too long. */
    private boolean skipping;

    /** A reader of {@code in} whose lines hold at most {@code maxBytes} bytes (without the line end). */
    public LineReader(InputStream in, int maxBytes) {
        this.in = Objects.requireNonNull(in, "in");
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
        }
        this.maxBytes = maxBytes;
        // Room for a whole line with its CR LF and a read chunk after a partial one.
        this.buf = new byte[maxBytes + 2 + READ_CHUNK];
    }

    /** A line longer than the reader's bound; its rest is skipped by the next {@link #readLine}. */
    public static final class LineTooLongException extends Exception {
        LineTooLongException(int max) {
            super("line longer than " + max + " bytes");
        }
    }

    /**
     * The next line without its line end, or {@code null} when the stream ended (a partial
     * last line is dropped).
     *
     * @throws LineTooLongException when the line passes the bound (nothing more of it is kept)
     */
    public String readLine() throws IOException, LineTooLongException {
        while (true) {
            int nl = indexOfNewline();
            if (skipping) {
                if (nl >= 0) {
                    start = nl + 1;
                    skipping = false;
                    continue;
                }
                start = end = scanned = 0; // drop what came of the long line so far
            } else if (nl >= 0) {
                int stop = nl > start && buf[nl - 1] == '\r' ? nl - 1 : nl;
                if (stop - start > maxBytes) {
                    start = nl + 1;
                    throw new LineTooLongException(maxBytes);
                }
                String line = new String(buf, start, stop - start, StandardCharsets.UTF_8);
                start = nl + 1;
                return line;
            } else if (end - start > maxBytes + 1) { // +1: a CR that may yet be followed by LF
                start = end = scanned = 0;
                skipping = true;
                throw new LineTooLongException(maxBytes);
            }
            if (!fill()) {
                return null;
            }
        }
    }

    private int indexOfNewline() {
        for (int i = Math.max(start, scanned); i < end; i++) {
            if (buf[i] == '\n') {
                return i;
            }
        }
        scanned = end;
        return -1;
    }

    /** Reads more bytes after those kept (moved to the front); false at the end of the stream. */
    private boolean fill() throws IOException {
        if (start > 0) {
            System.arraycopy(buf, start, buf, 0, end - start);
            end -= start;
            scanned = Math.max(0, scanned - start);
            start = 0;
        }
        int n = in.read(buf, end, Math.min(READ_CHUNK, buf.length - end));
        if (n < 0) {
            return false;
        }
        end += n;
        return true;
    }
}
