package dev.rivet.virtio.p9;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.rivet.virtio.p9.P9Client.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Fid and open-file bounds, and the end of a session (Tversion, reset, close). */
class P9LimitsTest {
    static final int ROOT = 1;

    @TempDir
    Path share;

    @Test
    void fidTableIsBounded() throws IOException {
        try (P9Server server = new P9Server(share, false, new P9Server.Limits(8192, 8, 3))) {
            P9Client c = new P9Client(server);
            c.version(8192, "9P2000.L");
            c.attach(ROOT);
            for (int fid = 2; fid <= 8; fid++) c.walk(ROOT, fid);
            assertEquals(8, server.fidCount());
            assertErrno(Errno.EMFILE, () -> c.walk(ROOT, 9));
            assertErrno(Errno.EMFILE, () -> c.attach(9));
            assertErrno(Errno.EMFILE, () -> c.xattrwalk(ROOT, 9, ""));
            c.walk(8, 8); // a walk may replace its own fid even when the table is full
            assertErrno(Errno.EBADF, () -> c.walk(ROOT, 8)); // but not take another fid in use
            c.clunk(8);
            c.walk(ROOT, 9);
            assertErrno(Errno.EBADF, () -> c.walk(ROOT, P9.NOFID));
            assertErrno(Errno.EBADF, () -> c.clunk(8)); // unknown
        }
    }

    @Test
    void openFilesAreBoundedAndClosedOnClunkVersionAndClose() throws IOException {
        Files.writeString(share.resolve("f"), "x");
        P9Server server = new P9Server(share, false, new P9Server.Limits(8192, 100, 3));
        P9Client c = new P9Client(server);
        c.version(8192, "9P2000.L");
        c.attach(ROOT);
        for (int fid = 2; fid <= 5; fid++) c.walk(ROOT, fid, "f");
        c.lopen(2, P9.O_RDONLY);
        c.lopen(3, P9.O_RDONLY);
        c.walk(ROOT, 10);
        c.lcreate(10, "g", P9.O_RDWR, 0644);
        assertEquals(3, server.openFiles());
        assertErrno(Errno.ENFILE, () -> c.lopen(4, P9.O_RDONLY));
        c.walk(ROOT, 11);
        assertErrno(Errno.ENFILE, () -> c.lcreate(11, "h", P9.O_RDWR, 0644));
        c.clunk(2);
        assertEquals(2, server.openFiles());
        c.lopen(4, P9.O_RDONLY);
        assertErrno(Errno.EBADF, () -> c.lopen(4, P9.O_RDONLY)); // already open
        // Directories hold no host file.
        c.walk(ROOT, 12);
        c.lopen(12, P9.O_RDONLY);
        assertEquals(3, server.openFiles());

        c.version(8192, "9P2000.L");
        assertEquals(0, server.openFiles());
        assertEquals(0, server.fidCount());
        c.attach(ROOT);
        c.walk(ROOT, 2, "f");
        c.lopen(2, P9.O_RDONLY);
        server.reset();
        assertEquals(0, server.openFiles());
        assertErrno(Errno.EPROTO, () -> c.attach(ROOT)); // Tversion needed after a reset
        c.version(8192, "9P2000.L");
        c.attach(ROOT);
        c.walk(ROOT, 2, "f");
        c.lopen(2, P9.O_RDONLY);
        server.close();
        assertEquals(0, server.openFiles());
        assertErrno(Errno.EIO, () -> c.version(8192, "9P2000.L"));
    }

    @Test
    void framingErrors() throws IOException {
        try (P9Server server = new P9Server(share, false)) {
            P9Client c = new P9Client(server);
            assertErrno(Errno.EPROTO, () -> c.attach(ROOT)); // before Tversion
            c.version(8192, "9P2000.L");
            c.attach(ROOT);
            assertNull(c.send(ByteBuffer.allocate(6)), "too short to carry a tag: dropped");
            ByteBuffer m = new P9Client.Msg().u32(ROOT).build(P9.TCLUNK, 7);
            m.putInt(0, 1000); // size larger than the message
            assertEquals(Errno.EPROTO, c.send(m).u32());
            m.putInt(0, 3); // size smaller than a header
            assertEquals(Errno.EPROTO, c.send(m).u32());
            m.putInt(0, 9); // size cuts the fid short
            assertEquals(Errno.EPROTO, c.send(m).u32());
            assertErrno(Errno.EPROTO, () -> c.rpc(P9.TWALK, b -> b.u32(ROOT).u32(2).u16(1).u16(500).u8('a')));
            assertErrno(Errno.EPROTO, () -> c.rpc(P9.TWRITE, b -> b.u32(ROOT).u64(0).u32(1000).u8(1)));
            assertErrno(Errno.EPROTO, () -> c.rpc(P9.TWRITE, b -> b.u32(ROOT).u64(0).u32(-1)));
            assertErrno(Errno.EINVAL, () -> c.rpc(P9.TMKDIR, b -> b.u32(ROOT).u16(2).u8(0xC3).u8(0x28).u32(0755).u32(0)));
            for (int type : new int[] {0, 6, 7, 101, 102, 112, 114, 124, 126, 255}) {
                assertErrno(Errno.EOPNOTSUPP, () -> c.rpc(type, b -> b.u32(ROOT)));
            }
            assertEquals(1, server.fidCount());
        }
    }
}
