package dev.rivet.platform.disk;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * The two things Java's file API lacks for disk images, called in the C library through
 * the FFM API: punching holes (fallocate(2) with FALLOC_FL_PUNCH_HOLE, so discarded ranges
 * give their space back) and the space a file really occupies (st_blocks of stat(2)).
 * Everything degrades to "not available" off Linux x86-64/AArch64 or when native access is
 * refused; callers then write zeroes or report the file length.
 */
final class LinuxFiles {
    private static final int O_RDWR = 2;
    private static final int O_CLOEXEC = 0x80000;
    private static final int FALLOC_FL_KEEP_SIZE = 1;
    private static final int FALLOC_FL_PUNCH_HOLE = 2;
    /** struct stat is 144 bytes on x86-64 and 128 on AArch64; st_blocks sits at byte 64 on both. */
    private static final int STAT_BUFFER = 256;
    private static final long ST_BLOCKS = 64;
    private static final long STAT_BLOCK = 512;

    private record Calls(MethodHandle open, MethodHandle close, MethodHandle fallocate, MethodHandle stat) {
    }

    /** Immutable once built; empty where the calls cannot be made. */
    private static final Optional<Calls> CALLS = link();

    private LinuxFiles() {
    }

    private static Optional<Calls> link() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64"))) {
            return Optional.empty();
        }
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            ValueLayout.OfInt i = ValueLayout.JAVA_INT;
            ValueLayout.OfLong l = ValueLayout.JAVA_LONG;
            return Optional.of(new Calls(
                    // open(2) is variadic; calling it without the optional mode argument is
                    // declared as such so the calling convention is right on every ABI.
                    linker.downcallHandle(libc.find("open").orElseThrow(),
                            FunctionDescriptor.of(i, ValueLayout.ADDRESS, i), Linker.Option.firstVariadicArg(2)),
                    linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(i, i)),
                    linker.downcallHandle(libc.find("fallocate").orElseThrow(), FunctionDescriptor.of(i, i, i, l, l)),
                    linker.downcallHandle(libc.find("stat").orElseThrow(),
                            FunctionDescriptor.of(i, ValueLayout.ADDRESS, ValueLayout.ADDRESS))));
        } catch (RuntimeException | LinkageError e) {
            return Optional.empty();
        }
    }

    /** Bytes the file occupies on disk, or -1 when that cannot be found out. */
    static long allocatedBytes(Path file) {
        if (CALLS.isEmpty()) {
            return -1;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(STAT_BUFFER, 8);
            int rc = (int) CALLS.get().stat().invokeExact(arena.allocateFrom(file.toString()), buf);
            return rc == 0 ? buf.get(ValueLayout.JAVA_LONG, ST_BLOCKS) * STAT_BLOCK : -1;
        } catch (Throwable t) {
            return -1;
        }
    }

    /** A descriptor for hole punching, or -1 when unavailable. Close it with {@link #close}. */
    static int openForPunching(Path file) {
        if (CALLS.isEmpty()) {
            return -1;
        }
        try (Arena arena = Arena.ofConfined()) {
            return (int) CALLS.get().open().invokeExact(arena.allocateFrom(file.toString()), O_RDWR | O_CLOEXEC);
        } catch (Throwable t) {
            return -1;
        }
    }

    /** Deallocates the range, which then reads as zeroes; false when the file system cannot. */
    static boolean punchHole(int fd, long offset, long length) {
        if (fd < 0 || CALLS.isEmpty() || length <= 0) {
            return false;
        }
        try {
            int rc = (int) CALLS.get().fallocate().invokeExact(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
            return rc == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    static void close(int fd) {
        if (fd >= 0 && CALLS.isPresent()) {
            try {
                int ignored = (int) CALLS.get().close().invokeExact(fd);
            } catch (Throwable t) {
                // Nothing useful to do: the descriptor is gone either way.
            }
        }
    }
}
