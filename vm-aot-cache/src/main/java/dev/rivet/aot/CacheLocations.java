package dev.rivet.aot;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Where the code cache lives by default: the platform's per-user cache directory, so that
 * it survives runs, is shared by the user's VMs and is what cleaners and backup tools
 * expect to be disposable. The platform is a parameter so every branch is testable anywhere.
 */
public final class CacheLocations {
    private CacheLocations() {
    }

    /** The default code cache directory for this process's user and OS. */
    public static Path defaultDirectory() {
        return defaultDirectory(System.getenv(), System.getProperty("os.name", ""), System.getProperty("user.home", "."));
    }

    /**
     * The default code cache directory for the given environment, {@code os.name} and home:
     * <ul>
     * <li>Windows: {@code %LOCALAPPDATA%\rivet\cache\code} (else {@code <home>\AppData\Local\...});</li>
     * <li>macOS: {@code ~/Library/Caches/rivet/code};</li>
     * <li>Linux and other Unixes: {@code $XDG_CACHE_HOME/rivet/code} if that is set and absolute
     *     (the XDG rule: a relative value is ignored), else {@code ~/.cache/rivet/code}.</li>
     * </ul>
     */
    public static Path defaultDirectory(Map<String, String> env, String osName, String userHome) {
        String os = osName.toLowerCase(Locale.ROOT);
        if (os.startsWith("windows")) {
            String local = env.get("LOCALAPPDATA");
            Path base = local != null && isWindowsAbsolute(local) ? Path.of(local) : Path.of(userHome, "AppData", "Local");
            return base.resolve("rivet").resolve("cache").resolve("code");
        }
        if (os.startsWith("mac") || os.startsWith("darwin")) {
            return Path.of(userHome, "Library", "Caches", "rivet", "code");
        }
        String xdg = env.get("XDG_CACHE_HOME");
        Path base = xdg != null && xdg.startsWith("/") ? Path.of(xdg) : Path.of(userHome, ".cache");
        return base.resolve("rivet").resolve("code");
    }

    /** {@code C:\...}, {@code C:/...} or a UNC path {@code \\server\share}. */
    private static boolean isWindowsAbsolute(String p) {
        return p.length() >= 3 && Character.isLetter(p.charAt(0)) && p.charAt(1) == ':'
                && (p.charAt(2) == '\\' || p.charAt(2) == '/')
                || p.startsWith("\\\\");
    }
}
