package dev.rivet.virtio.p9;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;

/**
 * The 9P2000.L messages about one file's contents and attributes (diod protocol.md:
 * lopen, lcreate, read, write, fsync, getattr, setattr, readlink, statfs).
 */
final class FileOps {
    private final ShareRoot share;
    private final FidTable fids;
    private final boolean readOnly;

    FileOps(ShareRoot share, FidTable fids, boolean readOnly) {
        this.share = share;
        this.fids = fids;
        this.readOnly = readOnly;
    }

    /** A fid naming a file (not an xattr list) and not opened yet: what lopen and lcreate need. */
    private Fid unopened(int fid) {
        Fid f = fids.get(fid);
        if (f.kind != Fid.Kind.FILE) throw new P9Error(Errno.EINVAL, "not a file fid");
        if (f.isOpen()) throw new P9Error(Errno.EBADF, "fid already open");
        return f;
    }

    private static boolean wantsWrite(int flags) {
        int acc = flags & P9.O_ACCMODE;
        if (acc == P9.O_ACCMODE) throw new P9Error(Errno.EINVAL, "bad access mode");
        return acc != P9.O_RDONLY || (flags & P9.O_TRUNC) != 0;
    }

    /** JDK open options for Linux open flags. O_APPEND is done by {@link #write}. */
    private static Set<OpenOption> options(int flags) {
        Set<OpenOption> o = new HashSet<>();
        int acc = flags & P9.O_ACCMODE;
        if (acc != P9.O_WRONLY) o.add(StandardOpenOption.READ);
        if (acc != P9.O_RDONLY) o.add(StandardOpenOption.WRITE);
        if ((flags & P9.O_TRUNC) != 0) {
            // The JDK truncates only when writing; Linux O_RDONLY|O_TRUNC truncates too.
            o.add(StandardOpenOption.WRITE);
            o.add(StandardOpenOption.TRUNCATE_EXISTING);
        }
        if ((flags & P9.O_SYNC) == P9.O_SYNC) o.add(StandardOpenOption.SYNC);
        else if ((flags & P9.O_DSYNC) != 0) o.add(StandardOpenOption.DSYNC);
        return o;
    }

    private void attach(Fid f, FileChannel ch, int flags) {
        int acc = flags & P9.O_ACCMODE;
        f.channel = ch;
        f.readable = acc != P9.O_WRONLY;
        f.writable = acc != P9.O_RDONLY;
        f.append = (flags & P9.O_APPEND) != 0;
    }

    /** Tlopen fid[4] flags[4] → Rlopen qid[13] iounit[4]. */
    void lopen(MessageReader r, MessageWriter w) throws IOException {
        int fid = r.u32();
        int flags = r.u32();
        Fid f = unopened(fid);
        HostAttrs a = share.attrs(f.path);
        boolean write = wantsWrite(flags);
        w.require(P9.QID_SIZE + 4);
        if (a.isDirectory()) {
            if (write) throw new P9Error(Errno.EISDIR, "directory opened for writing");
            f.openDirectory = true;
        } else {
            // As open(2) with O_NOFOLLOW: never through a symlink.
            if (a.isSymlink()) throw new P9Error(Errno.ELOOP, "open of a symlink");
            if ((flags & P9.O_DIRECTORY) != 0) throw new P9Error(Errno.ENOTDIR, "O_DIRECTORY on a file");
            // Fifos and devices would block or reach host hardware; Linux opens them guest-side.
            if (!a.isRegular()) throw new P9Error(Errno.EPERM, "open of a special file");
            if (write && readOnly) throw new P9Error(Errno.EROFS, "read-only share");
            fids.reserveOpen();
            try {
                attach(f, share.open(f.path, options(flags)), flags);
            } catch (IOException | RuntimeException e) {
                fids.unreserveOpen();
                throw e;
            }
        }
        // iounit 0: the client uses msize minus the I/O header.
        w.qid(a.qid()).u32(0);
    }

    /**
     * Tlcreate fid[4] name[s] flags[4] mode[4] gid[4] → Rlcreate qid[13] iounit[4]. The
     * directory fid becomes the new file, opened. The file is created with mode's rwx bits
     * (the host umask may take some away) and then given the exact mode.
     */
    void lcreate(MessageReader r, MessageWriter w) throws IOException {
        int fid = r.u32();
        String name = r.string();
        int flags = r.u32();
        int mode = r.u32();
        r.u32(); // gid: new files belong to the host user
        Fid dir = unopened(fid);
        if (readOnly) throw new P9Error(Errno.EROFS, "read-only share");
        wantsWrite(flags);
        if (!share.attrs(dir.path).isDirectory()) throw new P9Error(Errno.ENOTDIR, "create in a non-directory");
        RelPath p = dir.path.child(name);
        boolean exclusive = (flags & P9.O_EXCL) != 0;
        Set<OpenOption> opts = options(flags);
        w.require(P9.QID_SIZE + 4);
        fids.reserveOpen();
        FileChannel ch = null;
        try {
            boolean created = !exists(p);
            if (!created && exclusive) throw new P9Error(Errno.EEXIST, "file exists");
            if (opts.contains(StandardOpenOption.WRITE)) {
                opts.add(created ? StandardOpenOption.CREATE_NEW : StandardOpenOption.CREATE);
                ch = share.open(p, opts, share.createAttrs(mode));
            } else {
                // The JDK creates files only when opening for writing.
                if (created) {
                    share.open(p, Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW),
                            share.createAttrs(mode | 0600)).close();
                }
                ch = share.open(p, opts);
            }
            if (created) setModeQuietly(p, mode);
            HostAttrs a = share.attrs(p);
            attach(dir, ch, flags);
            dir.path = p;
            w.qid(a.qid()).u32(0);
        } catch (IOException | RuntimeException e) {
            if (dir.channel == null) {
                fids.unreserveOpen();
                if (ch != null) ch.close();
            }
            throw e;
        }
    }

    private boolean exists(RelPath p) throws IOException {
        return Files.exists(share.hostPath(p), LinkOption.NOFOLLOW_LINKS);
    }

    /** The exact mode the guest asked for (past the host umask); best effort, as for mkdir. */
    void setModeQuietly(RelPath p, int mode) {
        try {
            share.chmod(p, mode);
        } catch (IOException | RuntimeException ignored) {
            // The file exists with the umasked mode; the guest can chmod it again.
        }
    }

    /** Tread fid[4] offset[8] count[4] → Rread count[4] data[count], read into the response in place. */
    void read(MessageReader r, MessageWriter w) throws IOException {
        Fid f = fids.get(r.u32());
        long offset = r.u64();
        long count = Integer.toUnsignedLong(r.u32());
        if (f.kind == Fid.Kind.XATTR) {
            w.u32(0); // the attribute list is empty
            return;
        }
        if (f.openDirectory) throw new P9Error(Errno.EISDIR, "Tread on a directory");
        if (f.channel == null || !f.readable) throw new P9Error(Errno.EBADF, "fid not open for reading");
        if (offset < 0) throw new P9Error(Errno.EINVAL, "offset beyond 2^63");
        int countAt = w.position();
        w.u32(0);
        int n = (int) Math.min(count, w.remaining());
        ByteBuffer dst = w.window(n);
        int done = 0;
        while (dst.hasRemaining()) {
            int k = f.channel.read(dst, offset + done);
            if (k <= 0) break;
            done += k;
        }
        w.skip(done);
        w.patchU32(countAt, done);
    }

    /** Twrite fid[4] offset[8] count[4] data[count] → Rwrite count[4]. */
    void write(MessageReader r, MessageWriter w) throws IOException {
        Fid f = fids.get(r.u32());
        long offset = r.u64();
        int count = r.u32();
        if (count < 0) throw new P9Error(Errno.EPROTO, "count larger than any message");
        ByteBuffer data = r.bytes(count);
        if (f.channel == null || !f.writable) throw new P9Error(readOnly ? Errno.EROFS : Errno.EBADF, "fid not open for writing");
        if (offset < 0) throw new P9Error(Errno.EINVAL, "offset beyond 2^63");
        long pos = f.append ? f.channel.size() : offset;
        int done = 0;
        while (data.hasRemaining()) {
            done += f.channel.write(data, pos + done);
        }
        w.u32(done);
    }

    /** Tfsync fid[4] datasync[4]: flushes the open host file to disk (fsync or fdatasync). */
    void fsync(MessageReader r) throws IOException {
        Fid f = fids.get(r.u32());
        int datasync = r.u32();
        if (f.channel != null) f.channel.force(datasync == 0);
    }

    /** Tgetattr fid[4] request_mask[8] → Rgetattr: the basic stat fields, whatever was asked. */
    void getattr(MessageReader r, MessageWriter w) throws IOException {
        Fid f = fids.get(r.u32());
        r.u64(); // request_mask: all basic fields are always there
        HostAttrs a = share.attrs(f.path);
        w.u64(P9.GETATTR_BASIC).qid(a.qid())
                .u32(a.mode()).u32(a.uid()).u32(a.gid())
                .u64(a.nlink()).u64(a.rdev()).u64(a.size())
                .u64(4096) // blksize: the JDK does not tell; a page is what Linux assumes
                .u64((a.size() + 511) / 512); // blocks: the JDK does not tell st_blocks either
        time(w, a.atime());
        time(w, a.mtime());
        time(w, a.ctime());
        time(w, a.btime());
        w.u64(0).u64(0); // gen, data_version: not kept
    }

    private static void time(MessageWriter w, FileTime t) {
        Instant i = t.toInstant();
        w.u64(i.getEpochSecond()).u64(i.getNano());
    }

    /**
     * Tsetattr fid[4] valid[4] mode[4] uid[4] gid[4] size[8] atime_sec[8] atime_nsec[8]
     * mtime_sec[8] mtime_nsec[8]. Applied in the order mode, owner, size, times, so that a
     * truncate does not overwrite the times the guest set in the same request.
     */
    void setattr(MessageReader r) throws IOException {
        Fid f = fids.get(r.u32());
        int valid = r.u32();
        int mode = r.u32();
        int uid = r.u32();
        int gid = r.u32();
        long size = r.u64();
        long atimeSec = r.u64(), atimeNsec = r.u64();
        long mtimeSec = r.u64(), mtimeNsec = r.u64();
        int changes = valid & ~P9.SETATTR_CTIME; // ctime follows any change by itself
        if (changes == 0) return;
        if (readOnly) throw new P9Error(Errno.EROFS, "read-only share");
        if (f.kind != Fid.Kind.FILE) throw new P9Error(Errno.EINVAL, "Tsetattr on an xattr fid");
        if ((valid & P9.SETATTR_MODE) != 0) share.chmod(f.path, mode);
        if ((valid & (P9.SETATTR_UID | P9.SETATTR_GID)) != 0) chown(f.path, valid, uid, gid);
        if ((valid & P9.SETATTR_SIZE) != 0) truncate(f, size);
        if ((valid & (P9.SETATTR_ATIME | P9.SETATTR_MTIME)) != 0) {
            long atimeNsec2 = timeNsec(valid, P9.SETATTR_ATIME, P9.SETATTR_ATIME_SET, atimeSec, atimeNsec);
            long mtimeNsec2 = timeNsec(valid, P9.SETATTR_MTIME, P9.SETATTR_MTIME_SET, mtimeSec, mtimeNsec);
            share.setTimes(f.path, atimeSec, atimeNsec2, mtimeSec, mtimeNsec2);
        }
    }

    /**
     * The tv_nsec to pass for one time: omitted if its bit is clear, "now" without the
     * matching _SET bit, else the guest's value, checked.
     */
    private static long timeNsec(int valid, int bit, int setBit, long sec, long nsec) {
        if ((valid & bit) == 0) return LibC.UTIME_OMIT;
        if ((valid & setBit) == 0) return LibC.UTIME_NOW;
        if (nsec < 0 || nsec >= 1_000_000_000L) throw new P9Error(Errno.EINVAL, "bad nanoseconds");
        if (sec < -(1L << 40) || sec > (1L << 40)) throw new P9Error(Errno.EINVAL, "time out of range");
        return nsec;
    }

    /** lchown; changing owner to someone else needs host privileges, as on Linux (EPERM). */
    private void chown(RelPath p, int valid, int uid, int gid) throws IOException {
        Path h = share.hostPath(p);
        HostAttrs a = share.attrs(p);
        try {
            if ((valid & P9.SETATTR_UID) != 0 && uid != a.uid()) Files.setAttribute(h, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            if ((valid & P9.SETATTR_GID) != 0 && gid != a.gid()) Files.setAttribute(h, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException | IllegalArgumentException noUnixView) {
            throw new P9Error(Errno.EPERM, "cannot change owners here");
        }
    }

    /** truncate(2): through the fid's own open file when it has one for writing (ftruncate semantics). */
    private void truncate(Fid f, long size) throws IOException {
        if (size < 0) throw new P9Error(Errno.EINVAL, "size beyond 2^63");
        if (f.channel != null && f.writable) {
            resize(f.channel, size);
            return;
        }
        HostAttrs a = share.attrs(f.path);
        if (a.isDirectory()) throw new P9Error(Errno.EISDIR, "truncate of a directory");
        if (!a.isRegular()) throw new P9Error(Errno.EINVAL, "truncate of a special file");
        try (FileChannel ch = share.open(f.path, EnumSet.of(StandardOpenOption.WRITE))) {
            resize(ch, size);
        }
    }

    /** FileChannel.truncate only shrinks; growing writes one zero byte at the new end (a hole before it). */
    private static void resize(FileChannel ch, long size) throws IOException {
        long cur = ch.size();
        if (size < cur) ch.truncate(size);
        else if (size > cur) ch.write(ByteBuffer.allocate(1), size - 1);
    }

    /** Treadlink fid[4] → Rreadlink target[s]. */
    void readlink(MessageReader r, MessageWriter w) throws IOException {
        Fid f = fids.get(r.u32());
        w.string(Files.readSymbolicLink(share.hostPath(f.path)).toString());
    }

    /**
     * Tstatfs fid[4] → Rstatfs type[4] bsize[4] blocks[8] bfree[8] bavail[8] files[8]
     * ffree[8] fsid[8] namelen[4]. The JDK gives no inode counts; 0 is what file systems
     * without a fixed inode table report.
     */
    void statfs(MessageReader r, MessageWriter w) throws IOException {
        fids.get(r.u32());
        FileStore s = share.store();
        long bsize;
        try {
            bsize = s.getBlockSize();
        } catch (UnsupportedOperationException e) {
            bsize = 4096;
        }
        if (bsize <= 0 || bsize > (1 << 30)) bsize = 4096;
        w.u32(P9.V9FS_MAGIC).u32((int) bsize)
                .u64(s.getTotalSpace() / bsize).u64(s.getUnallocatedSpace() / bsize).u64(s.getUsableSpace() / bsize)
                .u64(0).u64(0)
                .u64(share.rootDev())
                .u32(RelPath.NAME_MAX);
    }
}
