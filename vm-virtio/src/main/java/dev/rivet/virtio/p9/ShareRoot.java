package dev.rivet.virtio.p9;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The host directory the guest sees, and the one place where guest paths become host
 * paths. The guest must never reach a file outside it. How:
 * <ul>
 * <li>Guest paths are {@link RelPath}s: single validated names below the root, ".." already
 *     resolved lexically and never above the root. Because no symlink is ever followed, the
 *     lexical parent is the real parent.
 * <li>No host symlink is followed, neither in the middle of a path nor at its end: every
 *     attribute read, open, create and delete uses {@code NOFOLLOW_LINKS} for the last name,
 *     and every directory on the way is checked (lstat) to be a real directory, not a link,
 *     on every request, not only when the guest walked there. The guest cannot get between
 *     the check and the use because the server runs one request at a time; so after the
 *     guest swaps a directory for a symlink (rename + symlink through the share), its old
 *     fids fail with ELOOP instead of following the new link.
 * <li>Opening a file's contents (read, write, create, list a directory) goes further where
 *     the JDK offers {@link SecureDirectoryStream} (Linux): the path is opened one directory
 *     at a time with openat(O_NOFOLLOW), so even a host process swapping a directory for a
 *     symlink between our check and the open cannot redirect it.
 * </ul>
 * What remains: metadata operations by host path (getattr, setattr, mkdir, rename, unlink,
 * symlink, link, mknod) check-then-act, so a host process racing to swap a directory of the
 * share for a symlink could in that window redirect one such operation; chmod also checks
 * the last name is no symlink before a chmod(2) that would follow one. Guests alone cannot
 * race us. (Closing that window fully needs *at() calls on directory descriptors for every
 * operation, which the JDK does not offer for these.)
 */
final class ShareRoot {
    private final Path root;
    private final long rootDev;
    private final boolean secureDirs;
    private final boolean posix;
    private final LibC libc = new LibC();

    ShareRoot(Path dir) throws IOException {
        this.root = dir.toRealPath();
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) throw new IOException("not a directory: " + root);
        this.rootDev = HostAttrs.read(root, 0).dev();
        this.posix = root.getFileSystem().supportedFileAttributeViews().contains("posix");
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            this.secureDirs = ds instanceof SecureDirectoryStream;
        }
    }

    Path root() {
        return root;
    }

    /**
     * The host path of {@code p} for operations on the file itself (not through it): every
     * directory above the last name is checked to be a real directory.
     */
    Path hostPath(RelPath p) throws IOException {
        Path cur = root;
        for (int i = 0; i < p.depth(); i++) {
            if (i > 0) requireRealDirectory(cur);
            cur = cur.resolve(p.name(i));
        }
        return cur;
    }

    /** The host path of a directory that is itself going to be used (created in, listed). */
    Path hostDirectory(RelPath p) throws IOException {
        Path d = hostPath(p);
        if (!p.isRoot()) requireRealDirectory(d);
        return d;
    }

    private static void requireRealDirectory(Path d) throws IOException {
        BasicFileAttributes a = Files.readAttributes(d, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (a.isSymbolicLink()) throw new P9Error(Errno.ELOOP, "symlink inside a path");
        if (!a.isDirectory()) throw new P9Error(Errno.ENOTDIR, "not a directory");
    }

    HostAttrs attrs(RelPath p) throws IOException {
        return HostAttrs.read(hostPath(p), rootDev);
    }

    /** Opens (or creates) the file at {@code p}, never following a symlink anywhere on the way. */
    FileChannel open(RelPath p, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
        if (p.isRoot()) throw new P9Error(Errno.EISDIR, "the root is a directory");
        Set<OpenOption> opts = new HashSet<>(options);
        opts.add(LinkOption.NOFOLLOW_LINKS);
        if (!secureDirs) return FileChannel.open(hostPath(p), opts, attrs);
        SecureDirectoryStream<Path> dir = openDirectoryChain(p, p.depth() - 1);
        try {
            SeekableByteChannel ch = dir.newByteChannel(name(p, p.depth() - 1), opts, attrs);
            if (ch instanceof FileChannel fc) return fc;
            ch.close();
            throw new P9Error(Errno.EIO, "host channel is not a FileChannel");
        } finally {
            dir.close();
        }
    }

    /** The names in directory {@code p}, opened without following symlinks. */
    List<String> list(RelPath p) throws IOException {
        DirectoryStream<Path> ds = secureDirs ? openDirectoryChain(p, p.depth()) : Files.newDirectoryStream(hostDirectory(p));
        List<String> names = new ArrayList<>();
        try (ds) {
            for (Path e : ds) names.add(e.getFileName().toString());
        } catch (DirectoryIteratorException e) {
            throw e.getCause();
        }
        return names;
    }

    /** The root opened as a directory, then the first {@code n} names of {@code p}, each with openat(O_NOFOLLOW). */
    private SecureDirectoryStream<Path> openDirectoryChain(RelPath p, int n) throws IOException {
        SecureDirectoryStream<Path> dir = (SecureDirectoryStream<Path>) Files.newDirectoryStream(root);
        try {
            for (int i = 0; i < n; i++) {
                SecureDirectoryStream<Path> next = dir.newDirectoryStream(name(p, i), LinkOption.NOFOLLOW_LINKS);
                dir.close();
                dir = next;
            }
            return dir;
        } catch (IOException | RuntimeException e) {
            dir.close();
            throw e;
        }
    }

    private Path name(RelPath p, int i) {
        return root.getFileSystem().getPath(p.name(i));
    }

    /**
     * chmod of the file at {@code p}, refused for a symlink. Plain chmod(2) after an lstat:
     * the JDK's NOFOLLOW_LINKS chmod opens the file first (following a final symlink all
     * the same, and blocking forever on a fifo), so it is not used.
     */
    void chmod(RelPath p, int mode) throws IOException {
        Path h = hostPath(p);
        if (HostAttrs.read(h, rootDev).isSymlink()) throw new P9Error(Errno.EOPNOTSUPP, "chmod of a symlink");
        try {
            Files.setAttribute(h, "unix:mode", mode & 07777);
        } catch (UnsupportedOperationException | IllegalArgumentException noUnixView) {
            Files.getFileAttributeView(h, PosixFileAttributeView.class).setPermissions(permissions(mode));
        }
    }

    /**
     * Sets the times of the file at {@code p} itself, never a symlink's target. A nanosecond
     * field of {@link LibC#UTIME_OMIT} leaves that time alone, {@link LibC#UTIME_NOW} sets
     * it to now. Uses utimensat(2) where it can; the JDK's setTimes, the fallback, opens the
     * file, so it is not used on fifos and other special files.
     */
    void setTimes(RelPath p, long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec) throws IOException {
        Path h = hostPath(p);
        if (libc.available()) {
            libc.utimens(h, atimeSec, atimeNsec, mtimeSec, mtimeNsec);
            return;
        }
        HostAttrs a = HostAttrs.read(h, rootDev);
        if (!a.isRegular() && !a.isDirectory() && !a.isSymlink()) {
            throw new P9Error(Errno.EPERM, "times of a special file");
        }
        Files.getFileAttributeView(h, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                .setTimes(fileTime(mtimeSec, mtimeNsec), fileTime(atimeSec, atimeNsec), null);
    }

    private static FileTime fileTime(long sec, long nsec) {
        if (nsec == LibC.UTIME_OMIT) return null;
        if (nsec == LibC.UTIME_NOW) return FileTime.from(Instant.now());
        return FileTime.from(Instant.ofEpochSecond(sec, nsec));
    }

    /** Creates a fifo at {@code p} (mkfifo does not follow a symlink in the last name). */
    void mkfifo(RelPath p, int mode) throws IOException {
        libc.mkfifo(hostPath(p), mode & 0777);
    }

    /** The rwx bits of a mode as the JDK's permission set (setuid, setgid, sticky are lost). */
    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        for (PosixFilePermission bit : PosixFilePermission.values()) {
            if ((mode & (0400 >> bit.ordinal())) != 0) s.add(bit);
        }
        return s;
    }

    /** Creation attributes for mode's rwx bits, where the host file system has POSIX permissions. */
    FileAttribute<?>[] createAttrs(int mode) {
        return posix ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(permissions(mode))}
                : new FileAttribute<?>[0];
    }

    FileStore store() throws IOException {
        return Files.getFileStore(root);
    }

    long rootDev() {
        return rootDev;
    }
}
