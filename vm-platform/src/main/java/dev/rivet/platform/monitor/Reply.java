package dev.rivet.platform.monitor;

import java.util.List;
import java.util.Objects;

/**
 * The answer to one monitor command: its lines, then the final line, {@code OK} or
 * {@code ERROR: <message>}. {@code after} runs once the reply has been written (or the
 * client has gone): {@code quit} stops the machine only then, so its {@code OK} still
 * reaches the client before the machine ends and the server closes.
 *
 * @param lines the reply's lines, none of them a final line (see {@link #dataLine})
 * @param error the one-line error message, or {@code null} for OK
 * @param after what to do after replying, or {@code null}
 */
public record Reply(List<String> lines, String error, Runnable after) {
    public static final String OK = "OK";
    public static final String ERROR_PREFIX = "ERROR: ";
    /** Error messages are cut here: they may quote what the client sent. */
    static final int MAX_ERROR_CHARS = 300;

    public Reply {
        lines = List.copyOf(lines);
        if (error != null) {
            error = oneLine(error);
        }
    }

    public static Reply ok(List<String> lines) {
        return new Reply(lines, null, null);
    }

    public static Reply ok(String... lines) {
        return new Reply(List.of(lines), null, null);
    }

    public static Reply error(String message) {
        return new Reply(List.of(), message, null);
    }

    /** This reply, with {@code action} to run once it is written. */
    public Reply then(Runnable action) {
        return new Reply(lines, error, action);
    }

    public boolean isOk() {
        return error == null;
    }

    /** The final line: {@code OK} or {@code ERROR: message}. */
    public String finalLine() {
        return error == null ? OK : ERROR_PREFIX + error;
    }

    /** Whether {@code line} ends a reply, as a client reading replies tells. */
    public static boolean isFinal(String line) {
        return line.equals(OK) || line.startsWith(ERROR_PREFIX);
    }

    /**
     * {@code line} as sent inside a reply: control characters (a CR, a stray newline) shown
     * as '?', and a line that would read as a final line indented by a space, so a client
     * never stops early. The commands never produce such lines; this guards what they echo.
     */
    static String dataLine(String line) {
        String s = printable(line);
        return isFinal(s) ? " " + s : s;
    }

    /** The first line of {@code message} (exception messages may have more), printable. */
    private static String oneLine(String message) {
        int cut = message.indexOf('\n');
        String s = printable(cut < 0 ? message : message.substring(0, cut)).strip();
        if (s.length() > MAX_ERROR_CHARS) {
            s = s.substring(0, MAX_ERROR_CHARS) + "...";
        }
        return s.isBlank() ? "failed" : s;
    }

    private static String printable(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                if (b == null) {
                    b = new StringBuilder(s);
                }
                b.setCharAt(i, '?');
            }
        }
        return b == null ? s : b.toString();
    }
}
