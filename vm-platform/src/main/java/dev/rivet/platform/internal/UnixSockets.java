package dev.rivet.platform.internal;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Preparing a path for a Unix domain socket the emulator listens on (the monitor, the
 * vsock host side): nothing there is fine; a socket nobody listens on any more (left by a
 * process that is gone) is removed; anything else — a file, a directory, a symlink, a
 * socket a running program listens on — is refused and left alone. Internal to vm-platform.
 */
public final class UnixSockets {
    /** File type bits of {@code st_mode} (POSIX {@code <sys/stat.h>}). */
    private static final int S_IFMT = 0170000, S_IFSOCK = 0140000;

    private UnixSockets() {
    }

    /**
     * Makes {@code path} free for a new listening socket, or throws.
     *
     * @throws IOException naming the path when something other than a stale socket is there
     */
    public static void clearStale(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!isSocket(path)) {
            throw new IOException(path + " exists and is not a socket (remove it or choose another path)");
        }
        if (listenedOn(path)) {
            throw new IOException(path + " is in use: a running program listens on it");
        }
        try {
            Files.delete(path);
        } catch (NoSuchFileException e) {
            // removed meanwhile: as good
        }
    }

    /** True when {@code p} itself (not a symlink's target) is a socket. */
    public static boolean isSocket(Path p) throws IOException {
        try {
            int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return (mode & S_IFMT) == S_IFSOCK;
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            // No unix view: "other" is a socket, FIFO or device; the connect probe decides.
            return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther();
        }
    }

    private static boolean listenedOn(Path p) {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(p));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
