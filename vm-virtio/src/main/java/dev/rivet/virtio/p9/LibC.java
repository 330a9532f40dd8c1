package dev.rivet.virtio.p9;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * The two host calls the JDK has no safe API for, made through the Linux C library:
 * <ul>
 * <li>mkfifo(3), to create fifos at all;
 * <li>utimensat(2) with AT_SYMLINK_NOFOLLOW, to set times without opening the file: the
 *     JDK's setTimes opens the file for reading first, which blocks forever on a fifo
 *     (and fails on a file without read permission).
 * </ul>
 * Looked up on first use, Linux only (the AT_* numbers are Linux's). Where the library or
 * native access is missing, {@link #available()} is false and callers refuse with EPERM.
 * Callers pass host paths whose directories they have checked (see {@link ShareRoot}).
 */
final class LibC {
    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    /** tv_nsec value meaning "leave this time alone" (utimensat(2)). */
    static final long UTIME_OMIT = (1L << 30) - 2;
    /** tv_nsec value meaning "the current time". */
    static final long UTIME_NOW = (1L << 30) - 1;

    private boolean looked;
    private MethodHandle mkfifo, utimensat;
    private StructLayout stateLayout;
    private VarHandle errno;

    boolean available() {
        if (!looked) lookUp();
        return mkfifo != null && utimensat != null;
    }

    void mkfifo(Path p, int mode) {
        if (!available()) throw new P9Error(Errno.EPERM, "fifos need the C library");
        call(mkfifo, "mkfifo", p, arena -> new Object[] {mode});
    }

    /** Sets atime and mtime of p itself (not a symlink's target); nsec may be UTIME_OMIT or UTIME_NOW. */
    void utimens(Path p, long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec) {
        if (!available()) throw new P9Error(Errno.EPERM, "setting times here needs the C library");
        call(utimensat, "utimensat", p, arena -> {
            MemorySegment ts = arena.allocate(ValueLayout.JAVA_LONG, 4);
            ts.setAtIndex(ValueLayout.JAVA_LONG, 0, atimeSec);
            ts.setAtIndex(ValueLayout.JAVA_LONG, 1, atimeNsec);
            ts.setAtIndex(ValueLayout.JAVA_LONG, 2, mtimeSec);
            ts.setAtIndex(ValueLayout.JAVA_LONG, 3, mtimeNsec);
            return new Object[] {ts, AT_SYMLINK_NOFOLLOW};
        });
    }

    private interface Args {
        Object[] make(Arena arena);
    }

    private void call(MethodHandle h, String what, Path p, Args more) {
        int rc;
        int err;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(stateLayout);
            MemorySegment path = arena.allocateFrom(p.toString());
            Object[] rest = more.make(arena);
            rc = h == mkfifo
                    ? (int) h.invokeExact(state, path, (int) rest[0])
                    : (int) h.invokeExact(state, AT_FDCWD, path, (MemorySegment) rest[0], (int) rest[1]);
            err = (int) errno.get(state, 0L);
        } catch (Throwable t) {
            throw new P9Error(Errno.EIO, what + " call failed: " + t);
        }
        // Host errno values are the guest's: both are Linux.
        if (rc != 0) throw new P9Error(err > 0 ? err : Errno.EIO, what + " failed");
    }

    private void lookUp() {
        looked = true;
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")) return;
        try {
            Linker linker = Linker.nativeLinker();
            Optional<MemorySegment> fifo = linker.defaultLookup().find("mkfifo");
            Optional<MemorySegment> utimens = linker.defaultLookup().find("utimensat");
            if (fifo.isEmpty() || utimens.isEmpty()) return;
            Linker.Option capture = Linker.Option.captureCallState("errno");
            stateLayout = Linker.Option.captureStateLayout();
            errno = stateLayout.varHandle(PathElement.groupElement("errno"));
            mkfifo = linker.downcallHandle(fifo.get(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), capture);
            utimensat = linker.downcallHandle(utimens.get(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                            ValueLayout.ADDRESS, ValueLayout.JAVA_INT), capture);
        } catch (RuntimeException | LinkageError unavailable) {
            mkfifo = null;
            utimensat = null;
        }
    }
}
