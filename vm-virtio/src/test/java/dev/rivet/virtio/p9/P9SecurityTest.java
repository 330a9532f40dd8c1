package dev.rivet.virtio.p9;

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
import java.util.List;

import static dev.rivet.virtio.p9.P9Client.assertErrno;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A guest trying to reach host files outside the share: through "..", through symlinks
 * planted in the share (absolute, relative, to directories), through device nodes, and
 * through a directory swapped for a symlink after the guest walked into it. Every attempt
 * must fail and leave the outside untouched.
 */
class P9SecurityTest {
    static final int ROOT = 1;

    @TempDir
    Path tmp;
    Path share, outside, secret;
    P9Server server;
    P9Client c;

    @BeforeEach
    void setUp() throws IOException {
        share = Files.createDirectory(tmp.resolve("share"));
        outside = Files.createDirectory(tmp.resolve("outside"));
        secret = outside.resolve("secret");
        Files.writeString(secret, "host secret");
        Files.setLastModifiedTime(secret, FileTime.fromMillis(1_000_000));
        server = new P9Server(share, false);
        c = new P9Client(server);
        c.version(65536, "9P2000.L");
        c.attach(ROOT);
    }

    @AfterEach
    void outsideIsUntouched() throws IOException {
        server.close();
        try (var s = Files.list(outside)) {
            assertEquals(List.of(secret), s.toList(), "nothing created or removed outside");
        }
        assertEquals("host secret", Files.readString(secret));
                assertEquals(FileTime.fromMillis(1_000_000), Files.getLastModifiedTime(secret));
        assertEquals(1, ((Number) Files.getAttribute(secret, "unix:nlink")).intValue(), "no hard link to it");
    }

    private int modeOfSecret() throws IOException {
        return (Integer) Files.getAttribute(secret, "unix:mode");
    }

    @Test
    void dotDotNeverLeavesTheRoot() {
        Qid root = c.getattr(ROOT).qid();
        List<Qid> q = c.walk(ROOT, 2, "..", "..", "..");
        assertEquals(List.of(root, root, root), q);
        assertErrno(Errno.ENOENT, () -> c.walk(2, 3, "outside"));
        assertEquals(List.of(root), c.walk(ROOT, 3, "..", "outside", "secret"), "stops after ..");
        assertErrno(Errno.EBADF, () -> c.getattr(3));
        assertErrno(Errno.EINVAL, () -> c.walk(ROOT, 3, "../outside"));
        assertErrno(Errno.EINVAL, () -> c.renameat(ROOT, "..", ROOT, "x"));
        assertErrno(Errno.EINVAL, () -> c.lcreate(ROOT, "../outside/new", P9.O_RDWR, 0644));
    }

    /** A symlink to the secret, by absolute path or by climbing out with "..". */
    void cannotReadThroughLink(String target) throws IOException {
        Files.createSymbolicLink(share.resolve("ln"), Path.of(target));
        int mode = modeOfSecret();
        List<Qid> q = c.walk(ROOT, 2, "ln");
        assertEquals(P9.QTSYMLINK, q.getFirst().type(), "the link itself, not its target");
        assertEquals(target, c.readlink(2), "the guest resolves it in its own namespace");
        P9Client.Attr a = c.getattr(2);
        assertEquals(P9.S_IFLNK, a.mode() & P9.S_IFMT);
        assertEquals(target.length(), a.size());
        assertErrno(Errno.ELOOP, () -> c.lopen(2, P9.O_RDONLY));
        assertErrno(Errno.ELOOP, () -> c.lopen(2, P9.O_RDWR | P9.O_TRUNC));
        assertErrno(Errno.ENOTDIR, () -> c.walk(2, 3, "x"));
        assertErrno(Errno.EOPNOTSUPP, () -> c.setattr(2, P9.SETATTR_MODE, 0777, 0, 0, 0, 0, 0));
        assertEquals(mode, modeOfSecret(), "chmod did not reach the target");
        assertThrows(P9Client.Lerror.class, () -> c.setattr(2, P9.SETATTR_SIZE, 0, 0, 0, 0, 0, 0));
        // Times on a symlink change the link (utimensat AT_SYMLINK_NOFOLLOW), not the target.
        c.setattr(2, P9.SETATTR_MTIME | P9.SETATTR_MTIME_SET, 0, 0, 0, 0, 5, 0);
        assertEquals(FileTime.fromMillis(5000), Files.getLastModifiedTime(share.resolve("ln"), LinkOption.NOFOLLOW_LINKS));
        // lcreate over the link's name does not open the target either.
        c.walk(ROOT, 4);
        assertThrows(P9Client.Lerror.class, () -> c.lcreate(4, "ln", P9.O_RDWR | P9.O_CREAT, 0644));
        c.walk(ROOT, 5);
        assertThrows(P9Client.Lerror.class, () -> c.lcreate(5, "ln", P9.O_WRONLY | P9.O_CREAT | P9.O_TRUNC, 0644));
        // A hard link to the link is another link, not a link to the secret.
        c.link(ROOT, 2, "hard");
        assertTrue(Files.isSymbolicLink(share.resolve("hard")));
        // Removing and renaming the link touch only the link.
        c.renameat(ROOT, "ln", ROOT, "ln2");
        c.unlinkat(ROOT, "ln2", 0);
        c.unlinkat(ROOT, "hard", 0);
    }

    @Test
    void absoluteSymlinkToOutside() throws IOException {
        cannotReadThroughLink(secret.toString());
    }

    @Test
    void relativeSymlinkClimbingOut() throws IOException {
        cannotReadThroughLink("../outside/secret");
    }

    @Test
    void symlinkedDirectoryIsNotWalkedThrough() throws IOException {
        Files.createSymbolicLink(share.resolve("d"), outside);
        List<Qid> q = c.walk(ROOT, 2, "d", "secret", "x");
        assertEquals(1, q.size(), "the walk stops at the symlink");
        assertErrno(Errno.EBADF, () -> c.getattr(2));
        c.walk(ROOT, 3, "d");
        assertErrno(Errno.ENOTDIR, () -> c.walk(3, 4, "secret"));
        assertErrno(Errno.ENOTDIR, () -> c.lcreate(3, "planted", P9.O_RDWR, 0644));
        assertThrows(P9Client.Lerror.class, () -> c.mkdir(3, "planted", 0755));
        assertThrows(P9Client.Lerror.class, () -> c.unlinkat(3, "secret", 0));
        assertThrows(P9Client.Lerror.class, () -> c.symlink(3, "planted", "x"));
        assertThrows(P9Client.Lerror.class, () -> c.mknod(3, "planted", P9.S_IFREG | 0644));
        assertThrows(P9Client.Lerror.class, () -> c.renameat(3, "secret", ROOT, "stolen"));
        assertErrno(Errno.ELOOP, () -> c.lopen(3, P9.O_RDONLY | P9.O_DIRECTORY));
        Files.writeString(share.resolve("mine"), "x");
        assertThrows(P9Client.Lerror.class, () -> c.renameat(ROOT, "mine", 3, "secret"));
        c.walk(ROOT, 5, "mine");
        assertThrows(P9Client.Lerror.class, () -> c.link(3, 5, "planted"));
        assertThrows(P9Client.Lerror.class, () -> c.rename(5, 3, "secret"));
    }

    /**
     * A host process (or another guest of the same folder) swaps a directory the guest
     * already walked into for a symlink to the outside. Fids are paths, so the old fids now
     * name a path through the symlink; every use of them must notice.
     */
    @Test
    void directorySwappedForSymlinkAfterTheWalk() throws IOException {
        Path a = Files.createDirectory(share.resolve("a"));
        Files.writeString(a.resolve("secret"), "mine");
        c.walk(ROOT, 2, "a", "secret");
        c.walk(ROOT, 9, "a", "secret");
        c.walk(ROOT, 3, "a");
        c.walk(ROOT, 4, "a");
        c.lopen(4, P9.O_RDONLY);
        Files.move(a, share.resolve("a.old"));
        Files.createSymbolicLink(share.resolve("a"), outside);

        assertErrno(Errno.ELOOP, () -> c.lopen(2, P9.O_RDONLY));
        assertErrno(Errno.ELOOP, () -> c.getattr(2));
        assertErrno(Errno.ELOOP, () -> c.setattr(2, P9.SETATTR_SIZE, 0, 0, 0, 0, 0, 0));
        assertErrno(Errno.ELOOP, () -> c.setattr(2, P9.SETATTR_MODE, 0777, 0, 0, 0, 0, 0));
        assertErrno(Errno.ELOOP, () -> c.readlink(2));
        assertErrno(Errno.ELOOP, () -> c.remove(2));
        assertErrno(Errno.ENOTDIR, () -> c.walk(3, 5, "secret")); // fid 3 now names a symlink
        assertErrno(Errno.ENOTDIR, () -> c.lcreate(3, "planted", P9.O_RDWR, 0644));
        assertErrno(Errno.ELOOP, () -> c.readdir(4, 0, 4096));
        assertErrno(Errno.ELOOP, () -> c.mkdir(3, "planted", 0755));
        assertErrno(Errno.ELOOP, () -> c.unlinkat(3, "secret", 0));
        assertErrno(Errno.ELOOP, () -> c.symlink(3, "planted", "x"));
        assertErrno(Errno.ELOOP, () -> c.mknod(3, "planted", P9.S_IFIFO | 0644));
        assertErrno(Errno.ELOOP, () -> c.mknod(3, "planted", P9.S_IFREG | 0644));
        assertErrno(Errno.ELOOP, () -> c.renameat(3, "secret", ROOT, "stolen"));
        assertErrno(Errno.ELOOP, () -> c.xattrwalk(9, 7, ""));
        c.walk(ROOT, 8, "a.old", "secret");
        assertErrno(Errno.ELOOP, () -> c.link(3, 8, "planted"));
        assertErrno(Errno.ELOOP, () -> c.link(ROOT, 9, "hard"));
        assertErrno(Errno.ELOOP, () -> c.rename(8, 3, "secret"));
        assertErrno(Errno.ELOOP, () -> c.rename(9, ROOT, "stolen"));
    }

    /** The guest itself renames a directory away and plants a symlink under its old name. */
    @Test
    void guestSwapCannotRedirectItsOwnFids() throws IOException {
        Path a = Files.createDirectory(share.resolve("a"));
        Files.writeString(a.resolve("secret"), "mine");
        c.walk(ROOT, 2, "a", "secret");
        c.renameat(ROOT, "a", ROOT, "b");
        c.symlink(ROOT, "a", outside.toString());
        c.lopen(2, P9.O_RDWR);
        assertArrayEquals("mine".getBytes(StandardCharsets.UTF_8), c.read(2, 0, 100), "the fid followed the rename");
        c.write(2, 0, "MINE".getBytes(StandardCharsets.UTF_8));
        assertEquals("MINE", Files.readString(share.resolve("b/secret")));
    }

    @Test
    void deviceNodesAndFifosAreNeverOpened() throws IOException {
        assertErrno(Errno.EPERM, () -> c.mknod(ROOT, "mem", P9.S_IFCHR | 0666));
        c.mknod(ROOT, "fifo", P9.S_IFIFO | 0666);
        c.walk(ROOT, 2, "fifo");
        assertErrno(Errno.EPERM, () -> c.lopen(2, P9.O_RDONLY));
        assertErrno(Errno.EPERM, () -> c.lopen(2, P9.O_WRONLY));
        assertFalse(Files.exists(share.resolve("mem"), LinkOption.NOFOLLOW_LINKS));
    }
}
