package dev.rivet.virtio.p9;

import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.util.Map;

/**
 * Linux errno values (asm-generic/errno-base.h and errno.h; RISC-V uses the generic ones)
 * as carried by 9P2000.L's Rlerror, and the mapping from Java's file exceptions to them.
 */
final class Errno {
    private Errno() {}

    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EIO = 5;
    static final int ENXIO = 6;
    static final int EBADF = 9;
    static final int ENOMEM = 12;
    static final int EACCES = 13;
    static final int EBUSY = 16;
    static final int EEXIST = 17;
    static final int EXDEV = 18;
    static final int ENOTDIR = 20;
    static final int EISDIR = 21;
    static final int EINVAL = 22;
    static final int ENFILE = 23;
    static final int EMFILE = 24;
    static final int EFBIG = 27;
    static final int ENOSPC = 28;
    static final int EROFS = 30;
    static final int EMLINK = 31;
    static final int ERANGE = 34;
    static final int ENAMETOOLONG = 36;
    static final int ENOTEMPTY = 39;
    static final int ELOOP = 40;
    static final int ENODATA = 61;
    static final int EPROTO = 71;
    static final int EOVERFLOW = 75;
    static final int EMSGSIZE = 90;
    static final int EOPNOTSUPP = 95;
    static final int EDQUOT = 122;

    /**
     * The JDK reports most failures of the host OS as a plain FileSystemException whose
     * reason is the C library's strerror text; these are the ones worth telling apart.
     */
    private static final Map<String, Integer> BY_REASON = Map.ofEntries(
            Map.entry("Operation not permitted", EPERM),
            Map.entry("No such file or directory", ENOENT),
            Map.entry("Permission denied", EACCES),
            Map.entry("File exists", EEXIST),
            Map.entry("Invalid cross-device link", EXDEV),
            Map.entry("Not a directory", ENOTDIR),
            Map.entry("Is a directory", EISDIR),
            Map.entry("Invalid argument", EINVAL),
            Map.entry("Too many open files", EMFILE),
            Map.entry("Too many open files in system", ENFILE),
            Map.entry("File too large", EFBIG),
            Map.entry("No space left on device", ENOSPC),
            Map.entry("Read-only file system", EROFS),
            Map.entry("Too many links", EMLINK),
            Map.entry("File name too long", ENAMETOOLONG),
            Map.entry("Directory not empty", ENOTEMPTY),
            Map.entry("Too many levels of symbolic links", ELOOP),
            Map.entry("Device or resource busy", EBUSY),
            Map.entry("No such device or address", ENXIO),
            Map.entry("Value too large for defined data type", EOVERFLOW),
            Map.entry("Disk quota exceeded", EDQUOT),
            Map.entry("Operation not supported", EOPNOTSUPP));

    /** The errno a guest should see for a failure of a host file operation. */
    static int of(Throwable t) {
        return switch (t) {
            case P9Error e -> e.errno();
            case NoSuchFileException e -> ENOENT;
            case FileAlreadyExistsException e -> EEXIST;
            case DirectoryNotEmptyException e -> ENOTEMPTY;
            case AccessDeniedException e -> EACCES;
            case NotDirectoryException e -> ENOTDIR;
            case NotLinkException e -> EINVAL;
            case AtomicMoveNotSupportedException e -> EXDEV;
            case FileSystemLoopException e -> ELOOP;
            case FileSystemException e -> byReason(e.getReason());
            case InvalidPathException e -> EINVAL;
            case UnsupportedOperationException e -> EOPNOTSUPP;
            case SecurityException e -> EACCES;
            case IllegalArgumentException e -> EINVAL;
            // An O_NOFOLLOW open of a symlink comes back as a bare IOException.
            case java.io.IOException e when e.getMessage() != null
                    && e.getMessage().contains("Too many levels of symbolic links") -> ELOOP;
            default -> EIO;
        };
    }

    private static int byReason(String reason) {
        if (reason == null) return EIO;
        Integer e = BY_REASON.get(reason);
        if (e != null) return e;
        // The JDK words ELOOP from an O_NOFOLLOW open its own way.
        if (reason.contains("symbolic link")) return ELOOP;
        return EIO;
    }
}
