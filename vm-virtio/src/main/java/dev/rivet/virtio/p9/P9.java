package dev.rivet.virtio.p9;

/**
 * Numbers of the 9P2000.L wire protocol: message types, qid types, flag bits.
 *
 * <p>Message layout (intro(5) of Plan 9, and diod's protocol.md for the .L additions):
 * {@code size[4] type[1] tag[2] body}, little-endian, strings as {@code len[2] utf8[len]}.
 * An R-message's type is its T-message's type plus one. 9P2000.L reports every error with
 * {@code Rlerror ecode[4]} carrying a Linux errno.
 */
final class P9 {
    private P9() {}

    /** The only protocol version this server speaks. */
    static final String VERSION_L = "9P2000.L";
    /** Rversion's answer to a version it does not speak (version(5)). */
    static final String VERSION_UNKNOWN = "unknown";

    static final int NOTAG = 0xFFFF;
    static final int NOFID = 0xFFFF_FFFF;
    /** Twalk carries at most this many names (MAXWELEM in intro(5)). */
    static final int MAXWELEM = 16;
    /** size[4] type[1] tag[2]. */
    static final int HEADER = 7;
    /** Header plus count[4]: what precedes the data of Rread and Rreaddir. */
    static final int IOHDR = HEADER + 4;
    static final int QID_SIZE = 13;

    // 9P2000.L messages (diod protocol.md).
    static final int TLERROR = 6, RLERROR = 7;
    static final int TSTATFS = 8;
    static final int TLOPEN = 12;
    static final int TLCREATE = 14;
    static final int TSYMLINK = 16;
    static final int TMKNOD = 18;
    static final int TRENAME = 20;
    static final int TREADLINK = 22;
    static final int TGETATTR = 24;
    static final int TSETATTR = 26;
    static final int TXATTRWALK = 30;
    static final int TXATTRCREATE = 32;
    static final int TREADDIR = 40;
    static final int TFSYNC = 50;
    static final int TLOCK = 52;
    static final int TGETLOCK = 54;
    static final int TLINK = 70;
    static final int TMKDIR = 72;
    static final int TRENAMEAT = 74;
    static final int TUNLINKAT = 76;
    // Base 9P2000 messages that 9P2000.L keeps (intro(5)).
    static final int TVERSION = 100;
    static final int TAUTH = 102;
    static final int TATTACH = 104;
    static final int TFLUSH = 108;
    static final int TWALK = 110;
    static final int TREAD = 116;
    static final int TWRITE = 118;
    static final int TCLUNK = 120;
    static final int TREMOVE = 122;

    // Qid types (intro(5)): the high bits of the mode, shifted down.
    static final int QTDIR = 0x80;
    static final int QTSYMLINK = 0x02;
    static final int QTFILE = 0x00;

    // Tgetattr request_mask / Rgetattr valid (protocol.md, "getattr").
    static final long GETATTR_BASIC = 0x000007FFL;

    // Tsetattr valid bits (protocol.md, "setattr").
    static final int SETATTR_MODE = 0x001;
    static final int SETATTR_UID = 0x002;
    static final int SETATTR_GID = 0x004;
    static final int SETATTR_SIZE = 0x008;
    static final int SETATTR_ATIME = 0x010;
    static final int SETATTR_MTIME = 0x020;
    static final int SETATTR_CTIME = 0x040;
    /** With ATIME: take atime from the message; without it: set atime to now. */
    static final int SETATTR_ATIME_SET = 0x080;
    static final int SETATTR_MTIME_SET = 0x100;

    // Tlopen/Tlcreate flags are Linux open(2) flags (generic values, as on RISC-V).
    static final int O_ACCMODE = 03;
    static final int O_RDONLY = 00;
    static final int O_WRONLY = 01;
    static final int O_RDWR = 02;
    static final int O_CREAT = 0100;
    static final int O_EXCL = 0200;
    static final int O_TRUNC = 01000;
    static final int O_APPEND = 02000;
    static final int O_DSYNC = 010000;
    static final int O_DIRECTORY = 0200000;
    static final int O_SYNC = 04010000;

    /** Tunlinkat flag: remove a directory (Linux AT_REMOVEDIR). */
    static final int AT_REMOVEDIR = 0x200;

    // File type bits of st_mode (Linux).
    static final int S_IFMT = 0170000;
    static final int S_IFSOCK = 0140000;
    static final int S_IFLNK = 0120000;
    static final int S_IFREG = 0100000;
    static final int S_IFBLK = 0060000;
    static final int S_IFDIR = 0040000;
    static final int S_IFCHR = 0020000;
    static final int S_IFIFO = 0010000;

    // Readdir d_type values (Linux dirent.h).
    static final int DT_UNKNOWN = 0, DT_FIFO = 1, DT_CHR = 2, DT_DIR = 4, DT_BLK = 6, DT_REG = 8,
            DT_LNK = 10, DT_SOCK = 12;

    // Tlock types and Rlock status (protocol.md, "lock").
    static final int LOCK_TYPE_UNLCK = 2;
    static final int LOCK_SUCCESS = 0;

    /** Rstatfs type: what Linux's own v9fs reports (V9FS_MAGIC). */
    static final int V9FS_MAGIC = 0x01021997;
}
