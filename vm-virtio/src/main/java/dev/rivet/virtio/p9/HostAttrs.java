package dev.rivet.virtio.p9;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;

/**
 * What lstat(2) says about one host file, in the shape Rgetattr needs. Read with
 * {@code NOFOLLOW_LINKS}: a symlink describes itself. Uses the JDK's "unix" attribute view
 * (st_mode, st_ino, st_dev, ...) where it exists and makes do with POSIX or basic
 * attributes elsewhere.
 */
record HostAttrs(int mode, long ino, long dev, long nlink, int uid, int gid, long rdev, long size,
                 FileTime atime, FileTime mtime, FileTime ctime, FileTime btime, long qidPath) {

    static HostAttrs read(Path p, long rootDev) throws IOException {
        Map<String, Object> m;
        try {
            m = Files.readAttributes(p, "unix:*", LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException | IllegalArgumentException noUnixView) {
            return readPortable(p);
        }
        long ino = (Long) m.get("ino");
        long dev = (Long) m.get("dev");
        FileTime mtime = (FileTime) m.get("lastModifiedTime");
        FileTime btime = (FileTime) m.getOrDefault("creationTime", mtime);
        return new HostAttrs((Integer) m.get("mode"), ino, dev, ((Number) m.get("nlink")).longValue(),
                (Integer) m.get("uid"), (Integer) m.get("gid"), (Long) m.get("rdev"), (Long) m.get("size"),
                (FileTime) m.get("lastAccessTime"), mtime, (FileTime) m.get("ctime"), btime,
                qidPath(ino, dev, rootDev));
    }

    /**
     * The qid path: the inode number on the share's own file system. Files on other file
     * systems mounted inside the share get the device mixed into the high bits; inode
     * numbers rarely use them, so a clash is unlikely but not impossible.
     */
    static long qidPath(long ino, long dev, long rootDev) {
        return dev == rootDev ? ino : ino ^ Long.rotateRight(dev * 0x9E3779B97F4A7C15L, 16);
    }

    private static HostAttrs readPortable(Path p) throws IOException {
        BasicFileAttributes b = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        int perms = 0644;
        try {
            PosixFileAttributes px = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            perms = 0;
            for (PosixFilePermission bit : px.permissions()) perms |= 0400 >> bit.ordinal();
        } catch (UnsupportedOperationException ignored) {
            if (b.isDirectory()) perms = 0755;
        }
        int type = b.isDirectory() ? P9.S_IFDIR : b.isSymbolicLink() ? P9.S_IFLNK
                : b.isRegularFile() ? P9.S_IFREG : P9.S_IFIFO;
        Object key = b.fileKey();
        long ino = key != null ? key.hashCode() & 0xFFFF_FFFFL : p.toAbsolutePath().hashCode() & 0xFFFF_FFFFL;
        return new HostAttrs(type | perms, ino, 0, 1, 0, 0, 0, b.size(), b.lastAccessTime(),
                b.lastModifiedTime(), b.lastModifiedTime(), b.creationTime(), ino);
    }

    int fileType() {
        return mode & P9.S_IFMT;
    }

    boolean isDirectory() {
        return fileType() == P9.S_IFDIR;
    }

    boolean isSymlink() {
        return fileType() == P9.S_IFLNK;
    }

    boolean isRegular() {
        return fileType() == P9.S_IFREG;
    }

    int qidType() {
        return switch (fileType()) {
            case P9.S_IFDIR -> P9.QTDIR;
            case P9.S_IFLNK -> P9.QTSYMLINK;
            default -> P9.QTFILE;
        };
    }

    int direntType() {
        return switch (fileType()) {
            case P9.S_IFDIR -> P9.DT_DIR;
            case P9.S_IFLNK -> P9.DT_LNK;
            case P9.S_IFREG -> P9.DT_REG;
            case P9.S_IFIFO -> P9.DT_FIFO;
            case P9.S_IFCHR -> P9.DT_CHR;
            case P9.S_IFBLK -> P9.DT_BLK;
            case P9.S_IFSOCK -> P9.DT_SOCK;
            default -> P9.DT_UNKNOWN;
        };
    }

    Qid qid() {
        return Qid.of(this);
    }
}
