package dev.rivet.virtio.p9;

import java.io.IOException;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A 9P2000.L file server serving one host directory, independent of any transport: it
 * turns one T-message into one R-message. The virtio-9p device gathers a request from the
 * guest's readable buffers, calls {@link #handle}, and scatters the answer into the writable
 * ones.
 *
 * <p>Protocol: Plan 9's intro(5) for the base messages (version, attach, walk, read, write,
 * clunk, remove, flush) and diod's protocol.md for the 9P2000.L ones, which Linux's v9fs
 * sends (fs/9p, net/9p/client.c). Every error is an Rlerror with a Linux errno; a malformed
 * message gets EPROTO, never a host exception.
 *
 * <p>Threading: {@link #handle} may be called from any thread; calls run one at a time
 * (a request is a few host file operations, and running them in order is what makes the
 * path checks in {@link ShareRoot} hold against the guest). Tflush therefore always finds
 * the flushed request already answered and just answers Rflush.
 *
 * <p>Security: the guest reaches nothing outside the share (see {@link ShareRoot}); in
 * read-only mode every request that would change the share fails with EROFS.
 */
public final class P9Server implements AutoCloseable {
    /** Limits on what one guest may ask of the host. */
    public record Limits(int maxMsize, int maxFids, int maxOpenFiles) {
        /** 512 KiB messages (Linux 6.x asks for 512 KiB on virtio), 64 Ki fids, 4 Ki open host files. */
        public static final Limits DEFAULT = new Limits(512 * 1024, 65536, 4096);

        public Limits {
            if (maxMsize < MIN_MSIZE) throw new IllegalArgumentException("maxMsize below " + MIN_MSIZE);
            if (maxFids < 1 || maxOpenFiles < 1) throw new IllegalArgumentException("limits must be positive");
        }
    }

    /**
     * The smallest msize we accept: enough for any fixed-size R-message (Rgetattr is 160
     * bytes) and a useful read; Linux never asks for less than 4 KiB.
     */
    public static final int MIN_MSIZE = 4096;

    private final Object lock = new Object();
    private final ShareRoot share;
    private final boolean readOnly;
    private final Limits limits;
    private final FidTable fids;
    private final FileOps fileOps;
    private final DirOps dirOps;
    /** The negotiated message size; 0 until a Tversion for 9P2000.L succeeds. */
    private int msize;
    private boolean closed;

    /** The bounds this server was built with. */
    public Limits limits() {
        return limits;
    }

    /** Serves {@code share} (must be a directory) with the default limits. */
    public P9Server(Path share, boolean readOnly) throws IOException {
        this(share, readOnly, Limits.DEFAULT);
    }

    public P9Server(Path share, boolean readOnly, Limits limits) throws IOException {
        this.share = new ShareRoot(share);
        this.readOnly = readOnly;
        this.limits = limits;
        this.fids = new FidTable(limits.maxFids(), limits.maxOpenFiles());
        this.fileOps = new FileOps(this.share, fids, readOnly);
        this.dirOps = new DirOps(this.share, fids, readOnly);
    }

    /**
     * Answers one T-message.
     *
     * @param request  the whole T-message from its position to its limit (its size field
     *                 says how long it is; bytes after it are ignored)
     * @param response where the R-message goes, starting at its position; it is never longer
     *                 than the room left nor than the negotiated msize
     * @return the length of the R-message, or 0 when there is none to send: the request is
     *         too short to carry a tag, or the response buffer cannot hold even an Rlerror.
     *         Neither buffer's position or limit is changed.
     */
    public int handle(ByteBuffer request, ByteBuffer response) {
        synchronized (lock) {
            ByteBuffer req = request.slice().order(ByteOrder.LITTLE_ENDIAN);
            int limit = Math.min(response.remaining(), msize != 0 ? msize : limits.maxMsize());
            if (req.remaining() < P9.HEADER || limit < P9.IOHDR) return 0;
            long size = Integer.toUnsignedLong(req.getInt(0));
            int type = req.get(4) & 0xFF;
            int tag = req.getShort(5) & 0xFFFF;
            MessageWriter w = new MessageWriter(response, limit);
            try {
                if (size < P9.HEADER || size > req.remaining()) throw new P9Error(Errno.EPROTO, "size field lies");
                MessageReader r = new MessageReader(req.slice(P9.HEADER, (int) size - P9.HEADER));
                w.begin(type + 1, tag);
                dispatch(type, r, w);
                return w.finish();
            } catch (BufferOverflowException e) {
                return error(w, tag, Errno.EMSGSIZE);
            } catch (IOException | RuntimeException e) {
                return error(w, tag, Errno.of(e));
            }
        }
    }

    private static int error(MessageWriter w, int tag, int errno) {
        return w.begin(P9.RLERROR, tag).u32(errno).finish();
    }

    private void dispatch(int type, MessageReader r, MessageWriter w) throws IOException {
        if (closed) throw new P9Error(Errno.EIO, "server closed");
        if (type == P9.TVERSION) {
            version(r, w);
            return;
        }
        if (msize == 0) throw new P9Error(Errno.EPROTO, "no Tversion yet");
        switch (type) {
            case P9.TATTACH -> attach(r, w);
            case P9.TFLUSH -> r.u16(); // oldtag: already answered, see the class comment
            case P9.TWALK -> walk(r, w);
            case P9.TCLUNK -> clunk(r);
            case P9.TREMOVE -> dirOps.remove(r);
            case P9.TXATTRWALK -> xattrWalk(r, w);
            case P9.TXATTRCREATE -> xattrCreate(r);
            case P9.TLOCK -> lock(r, w);
            case P9.TGETLOCK -> getLock(r, w);
            case P9.TSTATFS -> fileOps.statfs(r, w);
            case P9.TLOPEN -> fileOps.lopen(r, w);
            case P9.TLCREATE -> fileOps.lcreate(r, w);
            case P9.TREAD -> fileOps.read(r, w);
            case P9.TWRITE -> fileOps.write(r, w);
            case P9.TFSYNC -> fileOps.fsync(r);
            case P9.TGETATTR -> fileOps.getattr(r, w);
            case P9.TSETATTR -> fileOps.setattr(r);
            case P9.TREADLINK -> fileOps.readlink(r, w);
            case P9.TREADDIR -> dirOps.readdir(r, w);
            case P9.TMKDIR -> dirOps.mkdir(r, w);
            case P9.TUNLINKAT -> dirOps.unlinkat(r);
            case P9.TRENAMEAT -> dirOps.renameat(r);
            case P9.TRENAME -> dirOps.rename(r);
            case P9.TSYMLINK -> dirOps.symlink(r, w);
            case P9.TLINK -> dirOps.link(r);
            case P9.TMKNOD -> dirOps.mknod(r, w);
            // Tauth (no authentication here), the 9P2000 and .u messages, R-messages, junk.
            default -> throw new P9Error(Errno.EOPNOTSUPP, "unsupported message type " + type);
        }
    }

    /** version(5): negotiates msize and the protocol, and ends the previous session. */
    private void version(MessageReader r, MessageWriter w) {
        long clientMsize = Integer.toUnsignedLong(r.u32());
        String version = r.string();
        fids.clear();
        msize = 0;
        if (clientMsize < MIN_MSIZE) throw new P9Error(Errno.EINVAL, "msize too small");
        int negotiated = (int) Math.min(clientMsize, limits.maxMsize());
        if (!version.equals(P9.VERSION_L)) {
            w.u32(negotiated).string(P9.VERSION_UNKNOWN);
            return;
        }
        msize = negotiated;
        w.u32(negotiated).string(P9.VERSION_L);
    }

    /** attach(5): fid becomes the share's root; there is one share, so aname is ignored. */
    private void attach(MessageReader r, MessageWriter w) throws IOException {
        int fid = r.u32();
        r.u32(); // afid: no authentication
        r.skipString(); // uname
        r.skipString(); // aname
        r.u32(); // n_uname
        fids.checkNew(fid, P9.NOFID);
        w.require(P9.QID_SIZE);
        Qid root = share.attrs(RelPath.ROOT).qid();
        fids.put(fid, new Fid(Fid.Kind.FILE, RelPath.ROOT));
        w.qid(root);
    }

    /**
     * walk(5): up to 16 names from fid to newfid. If the first name fails the walk fails
     * with its errno; if a later one fails the answer lists the qids walked so far and
     * newfid is not created. Symlinks are never walked through: they are not directories.
     */
    private void walk(MessageReader r, MessageWriter w) throws IOException {
        int fid = r.u32();
        int newfid = r.u32();
        int n = r.u16();
        if (n > P9.MAXWELEM) throw new P9Error(Errno.EINVAL, "too many names in Twalk");
        String[] names = new String[n];
        for (int i = 0; i < n; i++) names[i] = r.string();
        Fid from = fids.get(fid);
        if (from.kind != Fid.Kind.FILE) throw new P9Error(Errno.EINVAL, "walk from an xattr fid");
        fids.checkNew(newfid, fid);
        w.require(2 + n * P9.QID_SIZE);
        RelPath cur = from.path;
        List<Qid> qids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            try {
                if (!share.attrs(cur).isDirectory()) throw new P9Error(Errno.ENOTDIR, "walk from a non-directory");
                RelPath next = switch (names[i]) {
                    case ".." -> cur.parent();
                    case "." -> cur;
                    default -> cur.child(names[i]);
                };
                qids.add(share.attrs(next).qid());
                cur = next;
            } catch (IOException | RuntimeException e) {
                if (i == 0) throw e;
                break;
            }
        }
        if (qids.size() == n) fids.put(newfid, new Fid(Fid.Kind.FILE, cur));
        w.u16(qids.size());
        for (Qid q : qids) w.qid(q);
    }

    private void clunk(MessageReader r) {
        int fid = r.u32();
        fids.get(fid);
        fids.remove(fid);
    }

    /**
     * Txattrwalk: there are no extended attributes here. Listing them (empty name) gives a
     * fid with zero bytes to read; asking for one by name is ENODATA, which Linux reads as
     * "not set" (e.g. no security.capability to drop on write, no POSIX ACL).
     */
    private void xattrWalk(MessageReader r, MessageWriter w) throws IOException {
        int fid = r.u32();
        int newfid = r.u32();
        String name = r.string();
        Fid from = fids.get(fid);
        if (!name.isEmpty()) throw new P9Error(Errno.ENODATA, "no extended attributes");
        fids.checkNew(newfid, fid);
        share.attrs(from.path); // the file must still be there
        fids.put(newfid, new Fid(Fid.Kind.XATTR, from.path));
        w.u64(0);
    }

    /** Txattrcreate: setting extended attributes is not supported. */
    private void xattrCreate(MessageReader r) {
        int fid = r.u32();
        r.string();
        r.u64();
        r.u32();
        fids.get(fid);
        throw new P9Error(readOnly ? Errno.EROFS : Errno.EOPNOTSUPP, "no extended attributes");
    }

    /**
     * Tlock: every lock is granted. Locks between guest processes are kept by the guest
     * kernel; the host side has only this one client.
     */
    private void lock(MessageReader r, MessageWriter w) {
        int fid = r.u32();
        r.u8(); // type
        r.u32(); // flags
        r.u64(); // start
        r.u64(); // length
        r.u32(); // proc_id
        r.skipString(); // client_id
        fids.get(fid);
        w.u8(P9.LOCK_SUCCESS);
    }

    /** Tgetlock: nothing ever conflicts, so the answer is the asked range with type unlocked. */
    private void getLock(MessageReader r, MessageWriter w) {
        int fid = r.u32();
        r.u8(); // type
        long start = r.u64();
        long length = r.u64();
        int procId = r.u32();
        String clientId = r.string();
        fids.get(fid);
        w.u8(P9.LOCK_TYPE_UNLCK).u64(start).u64(length).u32(procId).string(clientId);
    }

    /** The negotiated msize, or 0 before a successful Tversion. */
    public int msize() {
        synchronized (lock) {
            return msize;
        }
    }

    /** Number of fids the guest holds (for tests and statistics). */
    public int fidCount() {
        synchronized (lock) {
            return fids.size();
        }
    }

    /** Number of host files held open for the guest. */
    public int openFiles() {
        synchronized (lock) {
            return fids.openFiles();
        }
    }

    public boolean readOnly() {
        return readOnly;
    }

    /** Device reset: every fid is clunked and the guest must send Tversion again. */
    public void reset() {
        synchronized (lock) {
            fids.clear();
            msize = 0;
        }
    }

    /** Closes every host file; later requests get EIO. */
    @Override
    public void close() {
        synchronized (lock) {
            fids.clear();
            msize = 0;
            closed = true;
        }
    }
}
