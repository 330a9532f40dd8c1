package dev.rivet.platform.monitor;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The bounded line reader both ends of the monitor use: line ends, the bound, and what a hostile sender can do. */
class LineReaderTest {
    static InputStream bytes(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    /** A sender that trickles one byte per read, as a slow network does. */
    static InputStream trickle(InputStream in) {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                return in.read();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int c = in.read();
                if (c < 0) {
                    return -1;
                }
                b[off] = (byte) c;
                return 1;
            }
        };
    }

    /** {@code n} bytes of 'a' without a newline, generated as read (nothing held in memory). */
    static InputStream endless(long n) {
        return new InputStream() {
            long left = n;

            @Override
            public int read() {
                return left-- > 0 ? 'a' : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left <= 0) {
                    return -1;
                }
                int k = (int) Math.min(len, left);
                java.util.Arrays.fill(b, off, off + k, (byte) 'a');
                left -= k;
                return k;
            }
        };
    }

    @Test
    void linesEndAtLfWithOrWithoutCrAndAPartialLastLineIsNotALine() throws Exception {
        LineReader r = new LineReader(bytes("info status\r\nhelp\n\nquit"), 64);
        assertEquals("info status", r.readLine());
        assertEquals("help", r.readLine());
        assertEquals("", r.readLine());
        assertNull(r.readLine(), "'quit' was cut off by the end of the stream: not a command");
        assertNull(r.readLine());
    }

    @Test
    void aSlowSenderStillMakesWholeLines() throws Exception {
        LineReader r = new LineReader(trickle(bytes("hostfwd_add tcp::0-:22\nballoon 256\r\n")), 64);
        assertEquals("hostfwd_add tcp::0-:22", r.readLine());
        assertEquals("balloon 256", r.readLine());
        assertNull(r.readLine());
    }

    @Test
    void theBoundIsExactAndALongerLineIsRefusedThenSkipped() throws Exception {
        int max = 16;
        String fits = "x".repeat(max), over = "y".repeat(max + 1);
        LineReader r = new LineReader(bytes(fits + "\n" + fits + "\r\n" + over + "\n" + "next\n"), max);
        assertEquals(fits, r.readLine());
        assertEquals(fits, r.readLine(), "the CR does not count");
        assertThrows(LineReader.LineTooLongException.class, r::readLine);
        assertEquals("next", r.readLine(), "the stream is usable after a long line");
    }

    /**
     * 64 MiB without a newline (generated, never held): one refusal as soon as the bound is
     * passed, the rest skipped in the reader's fixed buffer, and the next line read.
     */
    @Test
    void anEndlessLineCostsOneRefusalAndBoundedMemory() throws Exception {
        InputStream in = new SequenceInputStream(endless(64L << 20), bytes("\ninfo status\n"));
        LineReader r = new LineReader(in, MonitorServer.MAX_LINE);
        assertThrows(LineReader.LineTooLongException.class, r::readLine);
        assertEquals("info status", r.readLine());
        assertNull(r.readLine());
    }

    @Test
    void aLongLineTrickledInIsRefusedBeforeItsEnd() throws Exception {
        // No newline ever comes: the refusal may not wait for one.
        LineReader r = new LineReader(trickle(endless(10_000)), 100);
        assertThrows(LineReader.LineTooLongException.class, r::readLine);
        assertNull(r.readLine());
    }

    @Test
    void malformedUtf8BecomesReplacementCharacters() throws Exception {
        byte[] b = {'a', (byte) 0xff, (byte) 0xc3, 'b', '\n'};
        LineReader r = new LineReader(new ByteArrayInputStream(b), 16);
        assertEquals("a\ufffd\ufffdb", r.readLine());
    }
}
