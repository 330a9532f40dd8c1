package dev.rivet.virtio.p9;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * The guest's fids (intro(5): numbers the client picks to name files on the server),
 * bounded in number and in open host files so a guest cannot exhaust host memory or
 * file descriptors.
 */
final class FidTable {
    private final Map<Integer, Fid> fids = new HashMap<>();
    private final int maxFids;
    private final int maxOpen;
    private int open;

    FidTable(int maxFids, int maxOpen) {
        this.maxFids = maxFids;
        this.maxOpen = maxOpen;
    }

    Fid get(int fid) {
        Fid f = fids.get(fid);
        if (f == null) throw new P9Error(Errno.EBADF, "unknown fid");
        return f;
    }

    /** Checks that {@code fid} may be given a new meaning (it is free, or is {@code replacing}). */
    void checkNew(int fid, int replacing) {
        if (fid == P9.NOFID) throw new P9Error(Errno.EBADF, "NOFID used as a fid");
        if (fid != replacing && fids.containsKey(fid)) throw new P9Error(Errno.EBADF, "fid in use");
        if (!fids.containsKey(fid) && fids.size() >= maxFids) throw new P9Error(Errno.EMFILE, "too many fids");
    }

    void put(int fid, Fid f) {
        checkNew(fid, fid);
        Fid old = fids.put(fid, f);
        if (old != null && old != f) release(old);
    }

    /** Forgets a fid, closing its host file. */
    void remove(int fid) {
        Fid f = fids.remove(fid);
        if (f != null) release(f);
    }

    /** Tversion and close: every fid goes. */
    void clear() {
        for (Fid f : fids.values()) release(f);
        fids.clear();
    }

    /** Called before a fid opens a host file. */
    void reserveOpen() {
        if (open >= maxOpen) throw new P9Error(Errno.ENFILE, "too many open files");
        open++;
    }

    /** Called when an open that was reserved fails, or a reserved file is closed. */
    void unreserveOpen() {
        open--;
    }

    private void release(Fid f) {
        if (f.channel != null) open--;
        f.close();
    }

    Collection<Fid> all() {
        return fids.values();
    }

    int size() {
        return fids.size();
    }

    int openFiles() {
        return open;
    }
}
