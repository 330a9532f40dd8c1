package dev.rivet.virtio.p9;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A test-side 9P2000.L client: builds T-messages by hand, passes them to the server and
 * checks that every answer is well-formed (size field, tag, type) before decoding it.
 * Failures come back as {@link Lerror} carrying the errno.
 */
final class P9Client {
    /** An Rlerror, thrown by the high-level calls. */
    static final class Lerror extends RuntimeException {
        final int errno;

        Lerror(int errno) {
            super("Rlerror errno " + errno);
            this.errno = errno;
        }
    }

    /** A T-message under construction. */
    static final class Msg {
        private final ByteBuffer b = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);

        Msg() {
            b.position(P9.HEADER);
        }

        Msg u8(int v) { b.put((byte) v); return this; }
        Msg u16(int v) { b.putShort((short) v); return this; }
        Msg u32(int v) { b.putInt(v); return this; }
        Msg u64(long v) { b.putLong(v); return this; }
        Msg bytes(byte[] v) { b.put(v); return this; }

        Msg str(String s) {
            byte[] v = s.getBytes(StandardCharsets.UTF_8);
            b.putShort((short) v.length).put(v);
            return this;
        }

        /** The finished message with a correct size field. */
        ByteBuffer build(int type, int tag) {
            ByteBuffer m = b.duplicate().order(ByteOrder.LITTLE_ENDIAN).flip();
            m.putInt(0, m.limit()).put(4, (byte) type).putShort(5, (short) tag);
            ByteBuffer copy = ByteBuffer.allocate(m.limit()).order(ByteOrder.LITTLE_ENDIAN);
            copy.put(m).flip();
            return copy;
        }
    }

    /** A decoded R-message body. */
    static final class Reply {
        final int type;
        final ByteBuffer body;

        Reply(int type, ByteBuffer body) {
            this.type = type;
            this.body = body;
        }

        boolean isError() { return type == P9.RLERROR; }
        int u8() { return body.get() & 0xFF; }
        int u16() { return body.getShort() & 0xFFFF; }
        int u32() { return body.getInt(); }
        long u64() { return body.getLong(); }

        String str() {
            byte[] v = new byte[u16()];
            body.get(v);
            return new String(v, StandardCharsets.UTF_8);
        }

        Qid qid() {
            return new Qid(u8(), u32(), u64());
        }
    }

    record Dirent(Qid qid, long offset, int type, String name) {}

    final P9Server server;
    /** Room the "transport" offers for each answer. */
    int responseRoom = 1 << 20;
    private int msize = 1 << 20;
    private int nextTag = 1;

    P9Client(P9Server server) {
        this.server = server;
    }

    /** Sends a raw message and checks the answer's framing; null when the server sent nothing. */
    Reply send(ByteBuffer request) {
        ByteBuffer out = ByteBuffer.allocate(responseRoom);
        int inPos = request.position();
        int len = server.handle(request, out);
        assertEquals(inPos, request.position(), "request position untouched");
        assertEquals(0, out.position(), "response position untouched");
        if (len == 0) return null;
        assertTrue(len >= P9.HEADER, "answer too short: " + len);
        assertTrue(len <= responseRoom, "answer longer than the room given");
        assertTrue(len <= msize, "answer longer than msize");
        ByteBuffer r = out.slice(0, len).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(len, r.getInt(0), "size field");
        int type = r.get(4) & 0xFF;
        if (request.remaining() >= P9.HEADER) {
            int reqType = request.get(request.position() + 4) & 0xFF;
            int reqTag = request.getShort(request.position() + 5) & 0xFFFF;
            assertEquals(reqTag, r.getShort(5) & 0xFFFF, "tag echoed");
            assertTrue(type == P9.RLERROR || type == ((reqType + 1) & 0xFF), "answer type " + type + " to " + reqType);
        }
        if (type == P9.RLERROR) {
            assertEquals(P9.IOHDR, len, "Rlerror length");
            int errno = r.getInt(P9.HEADER);
            assertTrue(errno > 0 && errno < 4096, "errno " + errno);
        }
        return new Reply(type, r.slice(P9.HEADER, len - P9.HEADER).order(ByteOrder.LITTLE_ENDIAN));
    }

    /** Sends {@code type} with the given body and returns the answer, throwing Lerror for Rlerror. */
    Reply rpc(int type, Consumer<Msg> body) {
        Msg m = new Msg();
        body.accept(m);
        Reply r = send(m.build(type, nextTag++ & 0x7FFF));
        if (r == null) fail("no answer to type " + type);
        if (r.isError()) throw new Lerror(r.u32());
        assertEquals(type + 1, r.type);
        return r;
    }

    // ---- the messages, as Linux's v9fs sends them ----

    int version(int wantMsize, String version) {
        Msg m = new Msg().u32(wantMsize).str(version);
        Reply r = send(m.build(P9.TVERSION, P9.NOTAG));
        if (r.isError()) throw new Lerror(r.u32());
        int got = r.u32();
        String v = r.str();
        if (v.equals(P9.VERSION_L)) msize = got;
        return v.equals(P9.VERSION_L) ? got : -1;
    }

    Qid attach(int fid) {
        return rpc(P9.TATTACH, m -> m.u32(fid).u32(P9.NOFID).str("root").str("").u32(0)).qid();
    }

    List<Qid> walk(int fid, int newfid, String... names) {
        Reply r = rpc(P9.TWALK, m -> {
            m.u32(fid).u32(newfid).u16(names.length);
            for (String n : names) m.str(n);
        });
        int n = r.u16();
        List<Qid> q = new ArrayList<>();
        for (int i = 0; i < n; i++) q.add(r.qid());
        return q;
    }

    Qid lopen(int fid, int flags) {
        Reply r = rpc(P9.TLOPEN, m -> m.u32(fid).u32(flags));
        Qid q = r.qid();
        r.u32();
        return q;
    }

    Qid lcreate(int fid, String name, int flags, int mode) {
        Reply r = rpc(P9.TLCREATE, m -> m.u32(fid).str(name).u32(flags).u32(mode).u32(0));
        Qid q = r.qid();
        r.u32();
        return q;
    }

    byte[] read(int fid, long offset, int count) {
        Reply r = rpc(P9.TREAD, m -> m.u32(fid).u64(offset).u32(count));
        byte[] data = new byte[r.u32()];
        r.body.get(data);
        return data;
    }

    int write(int fid, long offset, byte[] data) {
        return rpc(P9.TWRITE, m -> m.u32(fid).u64(offset).u32(data.length).bytes(data)).u32();
    }

    void clunk(int fid) {
        rpc(P9.TCLUNK, m -> m.u32(fid));
    }

    void remove(int fid) {
        rpc(P9.TREMOVE, m -> m.u32(fid));
    }

    Qid mkdir(int dfid, String name, int mode) {
        return rpc(P9.TMKDIR, m -> m.u32(dfid).str(name).u32(mode).u32(0)).qid();
    }

    List<Dirent> readdir(int fid, long offset, int count) {
        Reply r = rpc(P9.TREADDIR, m -> m.u32(fid).u64(offset).u32(count));
        int n = r.u32();
        assertEquals(n, r.body.remaining(), "Rreaddir count matches its data");
        List<Dirent> list = new ArrayList<>();
        while (r.body.hasRemaining()) list.add(new Dirent(r.qid(), r.u64(), r.u8(), r.str()));
        return list;
    }

    /** All entries of an opened directory, read with {@code count}-byte calls. */
    List<Dirent> readdirAll(int fid, int count) {
        return readdirFrom(fid, 0, count);
    }

    /** The entries after offset {@code off}, read with {@code count}-byte calls. */
    List<Dirent> readdirFrom(int fid, long off, int count) {
        List<Dirent> all = new ArrayList<>();
        for (int calls = 0; calls < 100_000; calls++) {
            List<Dirent> part = readdir(fid, off, count);
            if (part.isEmpty()) return all;
            for (Dirent e : part) {
                assertTrue(e.offset() > off, "offsets must grow: " + e + " after " + off);
                off = e.offset();
            }
            all.addAll(part);
        }
        return fail("readdir never reached the end");
    }


    void unlinkat(int dfid, String name, int flags) {
        rpc(P9.TUNLINKAT, m -> m.u32(dfid).str(name).u32(flags));
    }

    void renameat(int olddir, String oldName, int newdir, String newName) {
        rpc(P9.TRENAMEAT, m -> m.u32(olddir).str(oldName).u32(newdir).str(newName));
    }

    void rename(int fid, int dfid, String name) {
        rpc(P9.TRENAME, m -> m.u32(fid).u32(dfid).str(name));
    }

    Qid symlink(int dfid, String name, String target) {
        return rpc(P9.TSYMLINK, m -> m.u32(dfid).str(name).str(target).u32(0)).qid();
    }

    String readlink(int fid) {
        return rpc(P9.TREADLINK, m -> m.u32(fid)).str();
    }

    void link(int dfid, int fid, String name) {
        rpc(P9.TLINK, m -> m.u32(dfid).u32(fid).str(name));
    }

    Qid mknod(int dfid, String name, int mode) {
        return rpc(P9.TMKNOD, m -> m.u32(dfid).str(name).u32(mode).u32(0).u32(0).u32(0)).qid();
    }

    record Attr(long valid, Qid qid, int mode, int uid, int gid, long nlink, long size,
                long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec) {}

    Attr getattr(int fid) {
        Reply r = rpc(P9.TGETATTR, m -> m.u32(fid).u64(0x3FFF));
        long valid = r.u64();
        Qid q = r.qid();
        int mode = r.u32(), uid = r.u32(), gid = r.u32();
        long nlink = r.u64();
        r.u64(); // rdev
        long size = r.u64();
        r.u64(); // blksize
        r.u64(); // blocks
        long as = r.u64(), an = r.u64(), ms = r.u64(), mn = r.u64();
        for (int i = 0; i < 6; i++) r.u64(); // ctime, btime, gen, data_version
        assertEquals(0, r.body.remaining(), "Rgetattr length");
        return new Attr(valid, q, mode, uid, gid, nlink, size, as, an, ms, mn);
    }

    void setattr(int fid, int valid, int mode, long size, long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec) {
        rpc(P9.TSETATTR, m -> m.u32(fid).u32(valid).u32(mode).u32(0).u32(0).u64(size)
                .u64(atimeSec).u64(atimeNsec).u64(mtimeSec).u64(mtimeNsec));
    }

    void fsync(int fid) {
        rpc(P9.TFSYNC, m -> m.u32(fid).u32(0));
    }

    /** Rstatfs as longs: type, bsize, blocks, bfree, bavail, files, ffree, fsid, namelen. */
    long[] statfs(int fid) {
        Reply r = rpc(P9.TSTATFS, m -> m.u32(fid));
        return new long[] {r.u32(), r.u32(), r.u64(), r.u64(), r.u64(), r.u64(), r.u64(), r.u64(), r.u32()};
    }

    long xattrwalk(int fid, int newfid, String name) {
        return rpc(P9.TXATTRWALK, m -> m.u32(fid).u32(newfid).str(name)).u64();
    }

    void xattrcreate(int fid, String name) {
        rpc(P9.TXATTRCREATE, m -> m.u32(fid).str(name).u64(4).u32(0));
    }

    int lock(int fid) {
        return rpc(P9.TLOCK, m -> m.u32(fid).u8(1).u32(0).u64(0).u64(0).u32(42).str("guest")).u8();
    }

    /** Expects the call to fail with {@code errno}. */
    static void assertErrno(int errno, Runnable call) {
        try {
            call.run();
        } catch (Lerror e) {
            assertEquals(errno, e.errno, "errno");
            return;
        }
        fail("expected Rlerror " + errno + ", got success");
    }
}
