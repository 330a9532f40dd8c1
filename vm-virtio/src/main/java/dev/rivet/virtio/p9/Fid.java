package dev.rivet.virtio.p9;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.List;

/**
 * What one fid stands for: a file of the share (by path, see {@link ShareRoot}), possibly
 * opened by Tlopen/Tlcreate, or the empty attribute list that Txattrwalk hands out.
 */
final class Fid {
    enum Kind { FILE, XATTR }

    final Kind kind;
    RelPath path;
    /** The open host file after Tlopen/Tlcreate on a regular file, else null. */
    FileChannel channel;
    boolean readable, writable, append;
    /** Tlopen of a directory: Treaddir is allowed. */
    boolean openDirectory;
    /** The names Treaddir serves, taken when the guest reads from offset 0. */
    List<String> listing;

    Fid(Kind kind, RelPath path) {
        this.kind = kind;
        this.path = path;
    }

    boolean isOpen() {
        return channel != null || openDirectory;
    }

    /** Closes the host file, if any; errors on close have no one to report to. */
    void close() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // The guest already let go of the fid.
            }
            channel = null;
        }
        openDirectory = false;
        listing = null;
    }
}
