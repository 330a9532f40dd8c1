package dev.rivet.virtio.p9;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static dev.rivet.virtio.p9.P9Client.assertErrno;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A read-only share: every message that would change it gets EROFS; reading still works. */
class P9ReadOnlyTest {
    static final int ROOT = 1;

    @TempDir
    Path share;
    P9Server server;
    P9Client c;
    Map<String, String> before;

    @BeforeEach
    void setUp() throws IOException {
        Files.writeString(share.resolve("f"), "content");
        Files.createDirectory(share.resolve("d"));
        Files.writeString(share.resolve("d/inner"), "x");
        Files.createSymbolicLink(share.resolve("ln"), Path.of("f"));
        before = snapshot(share);
        server = new P9Server(share, true);
        assertEquals(true, server.readOnly());
        c = new P9Client(server);
        c.version(65536, "9P2000.L");
        c.attach(ROOT);
    }

    @AfterEach
    void nothingChanged() throws IOException {
        server.close();
        assertEquals(before, snapshot(share));
    }

    /** Every file with its type, mode, size, mtime and content. */
    static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String v = Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) + " "
                        + Files.size(p) + " " + Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS);
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) v += " " + Files.readString(p);
                if (Files.isSymbolicLink(p)) v += " -> " + Files.readSymbolicLink(p);
                m.put(root.relativize(p).toString(), v);
            }
        }
        return m;
    }

    @Test
    void everyWritePathIsRefused() {
        c.walk(ROOT, 2, "f");
        assertErrno(Errno.EROFS, () -> c.lopen(2, P9.O_WRONLY));
        assertErrno(Errno.EROFS, () -> c.lopen(2, P9.O_RDWR));
        assertErrno(Errno.EROFS, () -> c.lopen(2, P9.O_RDONLY | P9.O_TRUNC));
        c.walk(ROOT, 3);
        assertErrno(Errno.EROFS, () -> c.lcreate(3, "new", P9.O_RDWR | P9.O_CREAT, 0644));
        assertErrno(Errno.EROFS, () -> c.lcreate(3, "f", P9.O_RDONLY | P9.O_CREAT, 0644));
        assertErrno(Errno.EROFS, () -> c.mkdir(ROOT, "newdir", 0755));
        assertErrno(Errno.EROFS, () -> c.unlinkat(ROOT, "f", 0));
        assertErrno(Errno.EROFS, () -> c.unlinkat(ROOT, "d", P9.AT_REMOVEDIR));
        assertErrno(Errno.EROFS, () -> c.renameat(ROOT, "f", ROOT, "g"));
        assertErrno(Errno.EROFS, () -> c.rename(2, ROOT, "g"));
        assertErrno(Errno.EROFS, () -> c.symlink(ROOT, "ln2", "f"));
        assertErrno(Errno.EROFS, () -> c.link(ROOT, 2, "hard"));
        assertErrno(Errno.EROFS, () -> c.mknod(ROOT, "node", P9.S_IFREG | 0644));
        assertErrno(Errno.EROFS, () -> c.mknod(ROOT, "fifo", P9.S_IFIFO | 0644));
        assertErrno(Errno.EROFS, () -> c.setattr(2, P9.SETATTR_MODE, 0777, 0, 0, 0, 0, 0));
        assertErrno(Errno.EROFS, () -> c.setattr(2, P9.SETATTR_SIZE, 0, 0, 0, 0, 0, 0));
        assertErrno(Errno.EROFS, () -> c.setattr(2, P9.SETATTR_MTIME, 0, 0, 0, 0, 0, 0));
        assertErrno(Errno.EROFS, () -> c.setattr(2, P9.SETATTR_ATIME | P9.SETATTR_ATIME_SET, 0, 0, 5, 0, 0, 0));
        assertErrno(Errno.EROFS, () -> c.xattrcreate(2, "user.x"));
        c.walk(ROOT, 4, "d", "inner");
        assertErrno(Errno.EROFS, () -> c.remove(4));
        c.lopen(2, P9.O_RDONLY);
        assertErrno(Errno.EROFS, () -> c.write(2, 0, new byte[] {1}));
    }

    @Test
    void readingStillWorks() {
        c.walk(ROOT, 2, "f");
        c.lopen(2, P9.O_RDONLY);
        assertArrayEquals("content".getBytes(), c.read(2, 0, 100));
        c.walk(ROOT, 3, "d");
        c.lopen(3, P9.O_RDONLY);
        assertEquals(3, c.readdirAll(3, 4096).size());
        c.walk(ROOT, 4, "ln");
        assertEquals("f", c.readlink(4));
        assertEquals(7, c.getattr(2).size());
        c.statfs(ROOT);
        c.fsync(2);
        c.lock(2);
        c.setattr(2, P9.SETATTR_CTIME, 0, 0, 0, 0, 0, 0); // changes nothing: allowed
    }
}
