package dev.rivet.virtio.p9;

import dev.rivet.virtio.p9.P9Client.Dirent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static dev.rivet.virtio.p9.P9Client.assertErrno;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A guest mounting the share and doing ordinary file work, message by message. */
class P9ServerTest {
    static final int ROOT = 1;

    @TempDir
    Path share;
    P9Server server;
    P9Client c;

    @BeforeEach
    void mount() throws IOException {
        server = new P9Server(share, false);
        c = new P9Client(server);
        assertEquals(128 * 1024, c.version(128 * 1024, "9P2000.L"));
        c.attach(ROOT);
    }

    @AfterEach
    void unmount() {
        server.close();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void versionNegotiatesMsizeAndEndsTheSession() {
        assertEquals(P9Server.Limits.DEFAULT.maxMsize(), c.version(-1, "9P2000.L"), "msize capped by the server");
        assertErrno(Errno.EBADF, () -> c.getattr(ROOT)); // Tversion clunked every fid
        assertEquals(-1, c.version(8192, "9P2000.u"), "other dialects are 'unknown'");
        assertErrno(Errno.EPROTO, () -> c.attach(ROOT)); // no session after an unknown version
        assertErrno(Errno.EINVAL, () -> c.version(512, "9P2000.L"));
        assertEquals(8192, c.version(8192, "9P2000.L"));
        c.attach(ROOT);
    }

    @Test
    void attachGivesTheRootDirectory() {
        P9Client.Attr a = c.getattr(ROOT);
        assertEquals(P9.QTDIR, a.qid().type());
        assertEquals(P9.S_IFDIR, a.mode() & P9.S_IFMT);
        assertEquals(P9.GETATTR_BASIC, a.valid());
        assertErrno(Errno.EBADF, () -> c.attach(ROOT)); // fid in use
    }

    @Test
    void createWriteReadBack() throws IOException {
        c.walk(ROOT, 2);
        Qid q = c.lcreate(2, "hello.txt", P9.O_RDWR | P9.O_CREAT, 0640);
        assertEquals(P9.QTFILE, q.type());
        assertEquals(5, c.write(2, 0, utf8("hello")));
        assertEquals(6, c.write(2, 5, utf8(" world")));
        assertArrayEquals(utf8("hello world"), c.read(2, 0, 100));
        assertArrayEquals(utf8("world"), c.read(2, 6, 100));
        assertArrayEquals(new byte[0], c.read(2, 100, 100));
        c.fsync(2);
        c.clunk(2);
        assertEquals("hello world", Files.readString(share.resolve("hello.txt")));
        assertEquals(0640, (Integer) Files.getAttribute(share.resolve("hello.txt"), "unix:mode") & 07777);

        assertEquals(List.of(q), c.walk(ROOT, 3, "hello.txt"));
        c.lopen(3, P9.O_RDONLY);
        assertArrayEquals(utf8("hello world"), c.read(3, 0, 4096));
        assertErrno(Errno.EBADF, () -> c.write(3, 0, utf8("x"))); // opened read-only
        assertEquals(0, server.fidCount() - 2);
        c.clunk(3);
        assertEquals(0, server.openFiles());
    }

    @Test
    void lcreateExclusiveAndOpenFlags() throws IOException {
        Files.writeString(share.resolve("f"), "0123456789");
        c.walk(ROOT, 2);
        assertErrno(Errno.EEXIST, () -> c.lcreate(2, "f", P9.O_WRONLY | P9.O_CREAT | P9.O_EXCL, 0644));
        c.walk(ROOT, 3, "f");
        c.lopen(3, P9.O_WRONLY | P9.O_APPEND);
        c.write(3, 0, utf8("!")); // O_APPEND: the offset does not matter
        assertEquals("0123456789!", Files.readString(share.resolve("f")));
        c.walk(ROOT, 4, "f");
        c.lopen(4, P9.O_RDONLY | P9.O_TRUNC);
        assertEquals(0, Files.size(share.resolve("f")));
        c.walk(ROOT, 5, "f");
        assertErrno(Errno.ENOTDIR, () -> c.lopen(5, P9.O_RDONLY | P9.O_DIRECTORY));
        c.walk(ROOT, 6);
        assertErrno(Errno.EISDIR, () -> c.lopen(6, P9.O_RDWR));
        // O_RDONLY|O_CREAT of a new file creates it too.
        c.walk(ROOT, 7);
        c.lcreate(7, "ro-created", P9.O_RDONLY | P9.O_CREAT, 0444);
        assertEquals(0444, (Integer) Files.getAttribute(share.resolve("ro-created"), "unix:mode") & 07777);
        assertArrayEquals(new byte[0], c.read(7, 0, 10));
    }

    @Test
    void walkIsPartialAfterTheFirstName() throws IOException {
        Files.createDirectories(share.resolve("a/b"));
        List<Qid> q = c.walk(ROOT, 2, "a", "b");
        assertEquals(2, q.size());
        assertEquals(P9.QTDIR, q.get(1).type());
        assertEquals(1, c.walk(ROOT, 3, "a", "missing", "x").size(), "partial walk: qids so far");
        assertErrno(Errno.EBADF, () -> c.getattr(3)); // newfid not created
        assertErrno(Errno.ENOENT, () -> c.walk(ROOT, 3, "missing"));
        assertEquals(0, c.walk(2, 3).size(), "clone");
        assertEquals(q.get(1), c.getattr(3).qid());
        assertEquals(q.get(0), c.walk(3, 3, "..").getFirst(), "walk .. in place (newfid == fid)");
        assertEquals(c.getattr(ROOT).qid(), c.walk(ROOT, 4, "..", "..").get(1), ".. at the root stays at the root");
        assertEquals(q.get(0), c.walk(ROOT, 5, "a", ".").get(1));
        assertErrno(Errno.EINVAL, () -> c.walk(ROOT, 6, java.util.Collections.nCopies(17, "a").toArray(String[]::new)));
    }

    @Test
    void mkdirReaddirWithStableOffsets() throws IOException {
        c.walk(ROOT, 2);
        Qid d = c.mkdir(2, "dir", 0750);
        assertEquals(P9.QTDIR, d.type());
        Set<String> want = new TreeSet<>(List.of(".", ".."));
        c.walk(ROOT, 3, "dir");
        for (int i = 0; i < 60; i++) {
            String name = "file-" + i + "-" + "x".repeat(i);
            Files.writeString(share.resolve("dir").resolve(name), "x");
            want.add(name);
        }
        Files.createDirectory(share.resolve("dir/sub"));
        Files.createSymbolicLink(share.resolve("dir/ln"), Path.of("file-0-"));
        want.add("sub");
        want.add("ln");
        c.walk(ROOT, 4, "dir");
        c.lopen(4, P9.O_RDONLY | P9.O_DIRECTORY);
        List<Dirent> small = c.readdirAll(4, 200); // many calls, each continuing at the last offset
        List<Dirent> big = c.readdirAll(4, 64 * 1024);
        assertEquals(want, names(small));
        assertEquals(small, big, "same offsets and entries whatever the chunk size");
        for (Dirent e : small) {
            int expect = switch (e.name()) {
                case ".", "..", "sub" -> P9.DT_DIR;
                case "ln" -> P9.DT_LNK;
                default -> P9.DT_REG;
            };
            assertEquals(expect, e.type(), e.name());
            assertEquals(expect == P9.DT_DIR ? P9.QTDIR : expect == P9.DT_LNK ? P9.QTSYMLINK : P9.QTFILE, e.qid().type());
        }
        assertEquals(d, small.getFirst().qid(), ". is the directory itself");
        assertEquals(c.getattr(ROOT).qid(), small.get(1).qid(), ".. is the root");
        // A file removed after the listing started is skipped; offsets do not move.
        List<Dirent> first = c.readdir(4, 0, 300);
        Files.delete(share.resolve("dir/sub"));
        List<Dirent> rest = c.readdirFrom(4, first.getLast().offset(), 300);
        assertFalse(names(rest).contains("sub"));
        assertEquals(want.size() - 1, first.size() + rest.size());
        assertErrno(Errno.EINVAL, () -> c.readdir(4, 0, 10)); // too small for one entry
        assertErrno(Errno.EBADF, () -> c.readdir(3, 0, 4096)); // not opened
    }

    static Set<String> names(List<Dirent> l) {
        Set<String> s = new TreeSet<>();
        for (Dirent e : l) assertTrue(s.add(e.name()), "duplicate " + e.name());
        return s;
    }

    @Test
    void unlinkatFilesAndDirectories() throws IOException {
        Files.createDirectories(share.resolve("d/inner"));
        Files.writeString(share.resolve("f"), "x");
        assertErrno(Errno.EISDIR, () -> c.unlinkat(ROOT, "d", 0));
        assertErrno(Errno.ENOTDIR, () -> c.unlinkat(ROOT, "f", P9.AT_REMOVEDIR));
        assertErrno(Errno.ENOTEMPTY, () -> c.unlinkat(ROOT, "d", P9.AT_REMOVEDIR));
        assertErrno(Errno.ENOENT, () -> c.unlinkat(ROOT, "nothing", 0));
        c.walk(ROOT, 2, "d");
        c.unlinkat(2, "inner", P9.AT_REMOVEDIR);
        c.unlinkat(ROOT, "f", 0);
        assertFalse(Files.exists(share.resolve("f")));
        c.walk(ROOT, 3, "d");
        c.remove(3);
        assertFalse(Files.exists(share.resolve("d")));
        assertErrno(Errno.EBADF, () -> c.getattr(3)); // Tremove clunks
        c.walk(ROOT, 4);
        assertErrno(Errno.EBUSY, () -> c.remove(4));
        assertErrno(Errno.EBADF, () -> c.getattr(4)); // clunked even though it failed
        assertTrue(Files.isDirectory(share));
    }

    @Test
    void renameKeepsFidsOnTheFile() throws IOException {
        Files.createDirectories(share.resolve("a/deep"));
        Files.writeString(share.resolve("a/deep/f"), "data");
        Files.writeString(share.resolve("victim"), "old");
        c.walk(ROOT, 2, "a", "deep", "f");
        c.walk(ROOT, 3, "a");
        c.renameat(ROOT, "a", ROOT, "b");
        assertTrue(Files.exists(share.resolve("b/deep/f")));
        c.lopen(2, P9.O_RDONLY);
        assertArrayEquals(utf8("data"), c.read(2, 0, 10), "the fid followed its file");
        c.walk(3, 4, "deep");
        // Trename: the file of a fid moves, replacing an existing target.
        c.walk(ROOT, 5, "victim");
        c.rename(2, ROOT, "victim");
        assertEquals("data", Files.readString(share.resolve("victim")));
        assertEquals(c.getattr(2).qid(), c.getattr(5).qid());
        assertErrno(Errno.EINVAL, () -> c.renameat(ROOT, "b", 4, "b2")); // into itself
        assertErrno(Errno.ENOENT, () -> c.renameat(ROOT, "nothing", ROOT, "x"));
        assertErrno(Errno.EBUSY, () -> c.rename(ROOT, 4, "root"));
    }

    @Test
    void symlinksAreReturnedAsSymlinks() throws IOException {
        Files.writeString(share.resolve("target"), "t");
        Qid q = c.symlink(ROOT, "ln", "target");
        assertEquals(P9.QTSYMLINK, q.type());
        assertEquals("target", Files.readSymbolicLink(share.resolve("ln")).toString());
        c.walk(ROOT, 2, "ln");
        assertEquals("target", c.readlink(2));
        assertEquals(P9.S_IFLNK, c.getattr(2).mode() & P9.S_IFMT);
        assertErrno(Errno.ELOOP, () -> c.lopen(2, P9.O_RDONLY));
        c.walk(ROOT, 3, "target");
        assertErrno(Errno.EINVAL, () -> c.readlink(3));
        assertErrno(Errno.EEXIST, () -> c.symlink(ROOT, "ln", "elsewhere"));
        assertErrno(Errno.ENOENT, () -> c.symlink(ROOT, "empty", ""));
    }

    @Test
    void hardLinksShareAQid() throws IOException {
        Files.writeString(share.resolve("f"), "x");
        c.walk(ROOT, 2, "f");
        c.link(ROOT, 2, "g");
        c.walk(ROOT, 3, "g");
        assertEquals(c.getattr(2).qid(), c.getattr(3).qid());
        assertEquals(2, c.getattr(3).nlink());
        assertErrno(Errno.EEXIST, () -> c.link(ROOT, 2, "g"));
        Files.createDirectory(share.resolve("d"));
        c.walk(ROOT, 4, "d");
        assertErrno(Errno.EPERM, () -> c.link(ROOT, 4, "d2"));
        c.walk(ROOT, 5, "f");
        assertNotEquals(c.getattr(ROOT).qid(), c.getattr(5).qid());
    }

    @Test
    void setattrModeSizeAndTimes() throws IOException {
        Path f = share.resolve("f");
        Files.writeString(f, "0123456789");
        c.walk(ROOT, 2, "f");
        c.setattr(2, P9.SETATTR_MODE, 04711, 0, 0, 0, 0, 0);
        assertEquals(04711, c.getattr(2).mode() & 07777);
        c.setattr(2, P9.SETATTR_SIZE, 0, 4, 0, 0, 0, 0);
        assertEquals("0123", Files.readString(f));
        c.setattr(2, P9.SETATTR_SIZE, 0, 1 << 20, 0, 0, 0, 0);
        assertEquals(1 << 20, c.getattr(2).size());
        assertEquals(0, Files.readAllBytes(f)[1000]);
        c.setattr(2, P9.SETATTR_ATIME | P9.SETATTR_ATIME_SET | P9.SETATTR_MTIME | P9.SETATTR_MTIME_SET,
                0, 0, 1_000_000_000L, 123_456_789, 1_500_000_000L, 987_654_321);
        P9Client.Attr a = c.getattr(2);
        assertEquals(1_000_000_000L, a.atimeSec());
        assertEquals(123_456_789, a.atimeNsec());
        assertEquals(1_500_000_000L, a.mtimeSec());
        assertEquals(987_654_321, a.mtimeNsec());
        assertEquals(FileTime.from(java.time.Instant.ofEpochSecond(1_500_000_000L, 987_654_321)),
                Files.getLastModifiedTime(f));
        // MTIME without MTIME_SET means "now"; atime is left alone.
        long before = System.currentTimeMillis() / 1000 - 5;
        c.setattr(2, P9.SETATTR_MTIME, 0, 0, 0, 0, 7, 7);
        assertTrue(c.getattr(2).mtimeSec() >= before);
        assertEquals(1_000_000_000L, c.getattr(2).atimeSec());
        assertErrno(Errno.EINVAL, () -> c.setattr(2, P9.SETATTR_MTIME | P9.SETATTR_MTIME_SET, 0, 0, 0, 0, 1, 2_000_000_000L));
        assertErrno(Errno.EINVAL, () -> c.setattr(2, P9.SETATTR_SIZE, 0, -1, 0, 0, 0, 0));
        c.walk(ROOT, 3);
        assertErrno(Errno.EISDIR, () -> c.setattr(3, P9.SETATTR_SIZE, 0, 0, 0, 0, 0, 0));
    }

    @Test
    void setattrSizeUsesTheOpenFile() throws IOException {
        Path f = share.resolve("f");
        Files.writeString(f, "0123456789");
        c.walk(ROOT, 2, "f");
        c.lopen(2, P9.O_RDWR);
        Files.setAttribute(f, "unix:mode", 0); // ftruncate on an open fd needs no permission
        c.setattr(2, P9.SETATTR_SIZE, 0, 3, 0, 0, 0, 0);
        assertEquals(3, Files.size(f));
    }

    @Test
    void statfsFsyncLocksFlushAndXattrs() throws IOException {
        long[] s = c.statfs(ROOT);
        assertEquals(P9.V9FS_MAGIC, s[0]);
        assertTrue(s[1] > 0 && s[2] > 0 && s[3] <= s[2], "blocks");
        assertEquals(255, s[8]);
        c.fsync(ROOT); // not open: nothing to flush
        Files.writeString(share.resolve("f"), "x");
        c.walk(ROOT, 2, "f");
        c.lopen(2, P9.O_RDWR);
        c.fsync(2);
        assertEquals(P9.LOCK_SUCCESS, c.lock(2));
        P9Client.Reply gl = c.rpc(P9.TGETLOCK, m -> m.u32(2).u8(1).u64(10).u64(20).u32(7).str("guest"));
        assertEquals(P9.LOCK_TYPE_UNLCK, gl.u8());
        assertEquals(10, gl.u64());
        assertEquals(20, gl.u64());
        assertEquals(7, gl.u32());
        assertEquals("guest", gl.str());
        c.rpc(P9.TFLUSH, m -> m.u16(5));
        assertEquals(0, c.xattrwalk(2, 3, ""));
        assertArrayEquals(new byte[0], c.read(3, 0, 100));
        c.clunk(3);
        assertErrno(Errno.ENODATA, () -> c.xattrwalk(2, 3, "security.capability"));
        assertErrno(Errno.EOPNOTSUPP, () -> c.xattrcreate(2, "user.x"));
        assertErrno(Errno.EBADF, () -> c.lock(99));
    }

    @Test
    void mknodMakesFilesAndFifosOnly() throws IOException {
        assertEquals(P9.QTFILE, c.mknod(ROOT, "reg", P9.S_IFREG | 0600).type());
        assertTrue(Files.isRegularFile(share.resolve("reg")));
        c.mknod(ROOT, "fifo", P9.S_IFIFO | 0600);
        assertEquals(P9.S_IFIFO, (Integer) Files.getAttribute(share.resolve("fifo"), "unix:mode", LinkOption.NOFOLLOW_LINKS) & P9.S_IFMT);
        c.walk(ROOT, 2, "fifo");
        assertErrno(Errno.EPERM, () -> c.lopen(2, P9.O_RDONLY)); // would block the server
        assertErrno(Errno.EPERM, () -> c.mknod(ROOT, "null", P9.S_IFCHR | 0666));
        assertErrno(Errno.EPERM, () -> c.mknod(ROOT, "disk", P9.S_IFBLK | 0666));
        assertErrno(Errno.EPERM, () -> c.mknod(ROOT, "sock", P9.S_IFSOCK | 0666));
        assertFalse(Files.exists(share.resolve("null"), LinkOption.NOFOLLOW_LINKS));
        assertErrno(Errno.EEXIST, () -> c.mknod(ROOT, "fifo", P9.S_IFIFO | 0600));
    }

    @Test
    void readsAreCappedByMsizeAndTheResponseRoom() throws IOException {
        byte[] big = new byte[300_000];
        new java.util.Random(1).nextBytes(big);
        Files.write(share.resolve("big"), big);
        c.walk(ROOT, 2, "big");
        c.lopen(2, P9.O_RDONLY);
        assertEquals(128 * 1024 - P9.IOHDR, c.read(2, 0, -1).length, "count 2^32-1 capped by msize");
        c.responseRoom = 100;
        byte[] part = c.read(2, 7, 1000);
        assertEquals(100 - P9.IOHDR, part.length);
        assertArrayEquals(java.util.Arrays.copyOfRange(big, 7, 7 + part.length), part);
        c.responseRoom = 20; // a create whose answer cannot fit is not done at all
        c.walk(ROOT, 3);
        assertErrno(Errno.EMSGSIZE, () -> c.lcreate(3, "nope", P9.O_RDWR, 0644));
        assertFalse(Files.exists(share.resolve("nope")));
        c.responseRoom = 10;
        assertEquals(null, c.send(new P9Client.Msg().u32(ROOT).build(P9.TCLUNK, 1)), "no room even for Rlerror");
    }

    @Test
    void namesAreCheckedBeforeTheHostSeesThem() {
        assertErrno(Errno.EINVAL, () -> c.mkdir(ROOT, "a/b", 0755));
        assertErrno(Errno.EINVAL, () -> c.mkdir(ROOT, "..", 0755));
        assertErrno(Errno.EINVAL, () -> c.mkdir(ROOT, ".", 0755));
        assertErrno(Errno.EINVAL, () -> c.mkdir(ROOT, "", 0755));
        assertErrno(Errno.EINVAL, () -> c.mkdir(ROOT, "nul\0", 0755));
        assertErrno(Errno.ENAMETOOLONG, () -> c.mkdir(ROOT, "n".repeat(256), 0755));
        assertErrno(Errno.EINVAL, () -> c.walk(ROOT, 2, "a/b"));
        List<String> none = new ArrayList<>();
        try (var s = Files.list(share)) {
            s.forEach(p -> none.add(p.toString()));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        assertEquals(List.of(), none);
    }
}
