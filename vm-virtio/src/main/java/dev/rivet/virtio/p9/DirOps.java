package dev.rivet.virtio.p9;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The 9P2000.L messages about directories and names (diod protocol.md: readdir, mkdir,
 * unlinkat, renameat, rename, symlink, link, mknod; remove from intro(5)).
 */
final class DirOps {
    /** Linux's PATH_MAX, the longest symlink target accepted. */
    private static final int PATH_MAX = 4096;
    /** qid[13] offset[8] type[1] name-length[2], before the name's bytes. */
    private static final int DIRENT_FIXED = P9.QID_SIZE + 8 + 1 + 2;

    private final ShareRoot share;
    private final FidTable fids;
    private final boolean readOnly;

    DirOps(ShareRoot share, FidTable fids, boolean readOnly) {
        this.share = share;
        this.fids = fids;
        this.readOnly = readOnly;
    }

    private void writable() {
        if (readOnly) throw new P9Error(Errno.EROFS, "read-only share");
    }

    /** A fid naming a file (not an xattr list): the directory argument of the name messages. */
    private Fid fileFid(int fid) {
        Fid f = fids.get(fid);
        if (f.kind != Fid.Kind.FILE) throw new P9Error(Errno.EINVAL, "not a file fid");
        return f;
    }

    /**
     * Treaddir fid[4] offset[8] count[4] → Rreaddir count[4] data, entries
     * {@code qid[13] offset[8] type[1] name[s]}. Reading from offset 0 takes a sorted snapshot
     * of the directory ("." and ".." first); an entry's offset is its index in the snapshot
     * plus one, so offsets handed out stay valid for every later call until the guest reads
     * from 0 again (rewinddir). Entries that vanished since the snapshot are skipped.
     */
    void readdir(MessageReader r, MessageWriter w) throws IOException {
        Fid f = fids.get(r.u32());
        long offset = r.u64();
        long count = Integer.toUnsignedLong(r.u32());
        if (!f.openDirectory) throw new P9Error(f.channel != null ? Errno.ENOTDIR : Errno.EBADF, "not an open directory");
        if (offset == 0 || f.listing == null) {
            List<String> names = share.list(f.path);
            Collections.sort(names);
            List<String> snapshot = new ArrayList<>(names.size() + 2);
            snapshot.add(".");
            snapshot.add("..");
            snapshot.addAll(names);
            f.listing = snapshot;
        }
        int countAt = w.position();
        w.u32(0);
        long room = Math.min(count, w.remaining());
        int start = w.position();
        List<String> list = f.listing;
        for (long i = Math.max(offset, 0); i < list.size(); i++) {
            String name = list.get((int) i);
            byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
            if (w.position() - start + DIRENT_FIXED + bytes.length > room) {
                if (w.position() == start) throw new P9Error(Errno.EINVAL, "readdir buffer too small for an entry");
                break;
            }
            HostAttrs a;
            try {
                RelPath p = switch (name) {
                    case "." -> f.path;
                    case ".." -> f.path.parent();
                    default -> f.path.child(name);
                };
                a = share.attrs(p);
            } catch (IOException | RuntimeException gone) {
                continue; // removed since the snapshot, or a host name the guest could not use
            }
            w.qid(a.qid()).u64(i + 1).u8(a.direntType()).string(name);
        }
        w.patchU32(countAt, w.position() - start);
    }

    /** Tmkdir dfid[4] name[s] mode[4] gid[4] → Rmkdir qid[13]. */
    void mkdir(MessageReader r, MessageWriter w) throws IOException {
        Fid d = fileFid(r.u32());
        String name = r.string();
        int mode = r.u32();
        r.u32(); // gid
        writable();
        w.require(P9.QID_SIZE);
        RelPath p = d.path.child(name);
        Files.createDirectory(share.hostPath(p), share.createAttrs(mode));
        setModeQuietly(p, mode);
        w.qid(share.attrs(p).qid());
    }

    /** Tunlinkat dirfd[4] name[s] flags[4]: unlink(2), or rmdir(2) with AT_REMOVEDIR. */
    void unlinkat(MessageReader r) throws IOException {
        Fid d = fileFid(r.u32());
        String name = r.string();
        int flags = r.u32();
        writable();
        RelPath p = d.path.child(name);
        Path h = share.hostPath(p);
        HostAttrs a = share.attrs(p);
        if ((flags & P9.AT_REMOVEDIR) != 0) {
            if (!a.isDirectory()) throw new P9Error(Errno.ENOTDIR, "rmdir of a non-directory");
        } else if (a.isDirectory()) {
            throw new P9Error(Errno.EISDIR, "unlink of a directory");
        }
        Files.delete(h);
    }

    /** Tremove fid[4]: removes the file and clunks the fid, even when the removal fails. */
    void remove(MessageReader r) throws IOException {
        int fid = r.u32();
        Fid f = fids.get(fid);
        try {
            writable();
            if (f.kind != Fid.Kind.FILE) throw new P9Error(Errno.EINVAL, "Tremove of an xattr fid");
            if (f.path.isRoot()) throw new P9Error(Errno.EBUSY, "the share root cannot be removed");
            Files.delete(share.hostPath(f.path));
        } finally {
            fids.remove(fid);
        }
    }

    /** Trenameat olddirfid[4] oldname[s] newdirfid[4] newname[s]. */
    void renameat(MessageReader r) throws IOException {
        Fid od = fileFid(r.u32());
        String oldName = r.string();
        Fid nd = fileFid(r.u32());
        String newName = r.string();
        writable();
        move(od.path.child(oldName), nd.path.child(newName));
    }

    /** Trename fid[4] dfid[4] name[s]: the file of fid moves to dfid/name. */
    void rename(MessageReader r) throws IOException {
        Fid f = fileFid(r.u32());
        Fid d = fileFid(r.u32());
        String name = r.string();
        writable();
        if (f.path.isRoot()) throw new P9Error(Errno.EBUSY, "the share root cannot be renamed");
        move(f.path, d.path.child(name));
    }

    /**
     * rename(2), replacing an existing target as POSIX says. Fids are paths, so every fid
     * at or below the old name follows the file to its new name, as the guest expects of
     * an inode.
     */
    private void move(RelPath from, RelPath to) throws IOException {
        if (from.equals(to)) return;
        if (to.startsWith(from)) throw new P9Error(Errno.EINVAL, "directory moved into itself");
        Files.move(share.hostPath(from), share.hostPath(to), StandardCopyOption.ATOMIC_MOVE);
        for (Fid f : fids.all()) {
            if (f.path.startsWith(from)) f.path = f.path.rebase(from, to);
        }
    }

    /**
     * Tsymlink fid[4] name[s] symtgt[s] gid[4] → Rsymlink qid[13]. The target is stored as
     * given (the JDK normalizes repeated and trailing slashes); the server never follows it.
     */
    void symlink(MessageReader r, MessageWriter w) throws IOException {
        Fid d = fileFid(r.u32());
        String name = r.string();
        String target = r.string();
        r.u32(); // gid
        writable();
        if (target.isEmpty()) throw new P9Error(Errno.ENOENT, "empty symlink target");
        if (target.length() >= PATH_MAX) throw new P9Error(Errno.ENAMETOOLONG, "symlink target too long");
        w.require(P9.QID_SIZE);
        RelPath p = d.path.child(name);
        Files.createSymbolicLink(share.hostPath(p), share.root().getFileSystem().getPath(target));
        w.qid(share.attrs(p).qid());
    }

    /** Tlink dfid[4] fid[4] name[s]: a hard link dfid/name to the file of fid. */
    void link(MessageReader r) throws IOException {
        Fid d = fileFid(r.u32());
        Fid f = fileFid(r.u32());
        String name = r.string();
        writable();
        if (f.path.isRoot()) throw new P9Error(Errno.EPERM, "hard link to a directory");
        Files.createLink(share.hostPath(d.path.child(name)), share.hostPath(f.path));
    }

    /**
     * Tmknod dfid[4] name[s] mode[4] major[4] minor[4] gid[4] → Rmknod qid[13]. Only
     * regular files and fifos: device nodes and sockets in a shared folder would be a way
     * into the host, so they get EPERM (which is also what an unprivileged host user gets).
     */
    void mknod(MessageReader r, MessageWriter w) throws IOException {
        Fid d = fileFid(r.u32());
        String name = r.string();
        int mode = r.u32();
        r.u32(); // major
        r.u32(); // minor
        r.u32(); // gid
        writable();
        w.require(P9.QID_SIZE);
        RelPath p = d.path.child(name);
        switch (mode & P9.S_IFMT) {
            case P9.S_IFREG, 0 -> Files.createFile(share.hostPath(p), share.createAttrs(mode));
            case P9.S_IFIFO -> share.mkfifo(p, mode);
            default -> throw new P9Error(Errno.EPERM, "device nodes and sockets are not allowed");
        }
        setModeQuietly(p, mode);
        w.qid(share.attrs(p).qid());
    }

    private void setModeQuietly(RelPath p, int mode) {
        try {
            share.chmod(p, mode & 07777);
        } catch (IOException | RuntimeException ignored) {
            // Created with the umasked mode; the guest can chmod again.
        }
    }
}
