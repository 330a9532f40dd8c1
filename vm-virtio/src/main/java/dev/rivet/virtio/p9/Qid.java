package dev.rivet.virtio.p9;

/**
 * The server's identity of a file (intro(5)): {@code type[1] version[4] path[8]}. Two
 * names of one host inode give the same qid, so the guest sees hard links as one file.
 *
 * <p>The version is always 0: Linux's v9fs in cache modes compares it when it looks an
 * inode up again, and a version that moved with every write would give one file several
 * guest inodes.
 */
record Qid(int type, int version, long path) {
    static Qid of(HostAttrs a) {
        return new Qid(a.qidType(), 0, a.qidPath());
    }
}
