package dev.rivet.virtio.p9;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads the body of one T-message, bounded by the message's own size field (intro(5):
 * integers little-endian, strings {@code len[2]} then UTF-8). Every read past the end is
 * the guest's fault and fails with EPROTO instead of a host exception.
 */
final class MessageReader {
    private final ByteBuffer buf;

    /** {@code message} holds exactly one message, from its size field to its end. */
    MessageReader(ByteBuffer message) {
        this.buf = message.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    private void need(int n) {
        if (buf.remaining() < n) throw new P9Error(Errno.EPROTO, "message too short");
    }

    int u8() {
        need(1);
        return buf.get() & 0xFF;
    }

    int u16() {
        need(2);
        return buf.getShort() & 0xFFFF;
    }

    /** A 32-bit field as Java's int; callers treat fids and counts as unsigned. */
    int u32() {
        need(4);
        return buf.getInt();
    }

    long u64() {
        need(8);
        return buf.getLong();
    }

    /** A name or path string; bytes that are not UTF-8 fail with EINVAL. */
    String string() {
        int len = u16();
        need(len);
        ByteBuffer bytes = buf.slice(buf.position(), len);
        buf.position(buf.position() + len);
        try {
            CharBuffer cb = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes);
            return cb.toString();
        } catch (CharacterCodingException e) {
            throw new P9Error(Errno.EINVAL, "string is not UTF-8");
        }
    }

    /** Skips a string whose value the server ignores (user names, client ids). */
    void skipString() {
        int len = u16();
        need(len);
        buf.position(buf.position() + len);
    }

    /** The next {@code n} bytes as a view (Twrite data), without copying. */
    ByteBuffer bytes(int n) {
        if (n < 0) throw new P9Error(Errno.EPROTO, "negative count");
        need(n);
        ByteBuffer view = buf.slice(buf.position(), n);
        buf.position(buf.position() + n);
        return view;
    }

    int remaining() {
        return buf.remaining();
    }
}
