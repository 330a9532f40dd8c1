package dev.rivet.virtio.p9;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Builds one R-message in place in the caller's buffer, never past {@code limit} bytes
 * (the smaller of the negotiated msize and the room the transport gave us). The size field
 * is patched in by {@link #finish()}. Writing past the limit throws
 * {@link BufferOverflowException}, which the server turns into an Rlerror.
 */
final class MessageWriter {
    private final ByteBuffer buf;

    MessageWriter(ByteBuffer out, int limit) {
        this.buf = out.slice(out.position(), limit).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Starts over with the header of an R-message of {@code type}. */
    MessageWriter begin(int type, int tag) {
        buf.clear();
        buf.putInt(0).put((byte) type).putShort((short) tag);
        return this;
    }

    MessageWriter u8(int v) {
        buf.put((byte) v);
        return this;
    }

    MessageWriter u16(int v) {
        buf.putShort((short) v);
        return this;
    }

    MessageWriter u32(int v) {
        buf.putInt(v);
        return this;
    }

    MessageWriter u64(long v) {
        buf.putLong(v);
        return this;
    }

    MessageWriter string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > 0xFFFF) throw new P9Error(Errno.ENAMETOOLONG, "string too long for 9P");
        buf.putShort((short) b.length).put(b);
        return this;
    }

    MessageWriter qid(Qid q) {
        buf.put((byte) q.type()).putInt(q.version()).putLong(q.path());
        return this;
    }

    /**
     * Fails now, before any side effect, if an answer of {@code n} more bytes would not fit:
     * a file created whose Rlcreate cannot be sent would confuse the guest.
     */
    void require(int n) {
        if (buf.remaining() < n) throw new BufferOverflowException();
    }

    /** Bytes still free in the message. */
    int remaining() {
        return buf.remaining();
    }

    int position() {
        return buf.position();
    }

    /**
     * A writable view of the next {@code n} bytes, for data read straight from a host file
     * into the response; {@link #skip} commits what was filled.
     */
    ByteBuffer window(int n) {
        if (n > buf.remaining()) throw new BufferOverflowException();
        return buf.slice(buf.position(), n);
    }

    void skip(int n) {
        buf.position(buf.position() + n);
    }

    /** Overwrites a 32-bit field written earlier (a count known only afterwards). */
    void patchU32(int at, int v) {
        buf.putInt(at, v);
    }

    /** Patches the size field; returns the message length. */
    int finish() {
        int len = buf.position();
        buf.putInt(0, len);
        return len;
    }
}
