package dev.rivet.aot;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CacheLocationsTest {
    @Test
    void linuxFollowsXdgWhenItIsAbsolute() {
        assertEquals(Path.of("/var/cache/me/rivet/code"),
                CacheLocations.defaultDirectory(Map.of("XDG_CACHE_HOME", "/var/cache/me"), "Linux", "/home/me"));
    }

    @Test
    void linuxFallsBackToDotCache() {
        assertEquals(Path.of("/home/me/.cache/rivet/code"), CacheLocations.defaultDirectory(Map.of(), "Linux", "/home/me"));
        assertEquals(Path.of("/home/me/.cache/rivet/code"),
                CacheLocations.defaultDirectory(Map.of("XDG_CACHE_HOME", "relative/cache"), "Linux", "/home/me"),
                "a relative XDG_CACHE_HOME is ignored");
        assertEquals(Path.of("/home/me/.cache/rivet/code"),
                CacheLocations.defaultDirectory(Map.of(), "FreeBSD", "/home/me"));
    }

    @Test
    void macOsUsesLibraryCaches() {
        assertEquals(Path.of("/Users/me/Library/Caches/rivet/code"),
                CacheLocations.defaultDirectory(Map.of("XDG_CACHE_HOME", "/tmp/x"), "Mac OS X", "/Users/me"));
    }

    @Test
    void windowsUsesLocalAppData() {
        String local = "C:\\Users\\me\\AppData\\Local";
        assertEquals(Path.of(local, "rivet", "cache", "code"),
                CacheLocations.defaultDirectory(Map.of("LOCALAPPDATA", local), "Windows 11", "C:\\Users\\me"));
        assertEquals(Path.of("C:\\Users\\me", "AppData", "Local", "rivet", "cache", "code"),
                CacheLocations.defaultDirectory(Map.of(), "Windows 11", "C:\\Users\\me"));
    }

    @Test
    void thisHostHasADefault() {
        assertTrue(CacheLocations.defaultDirectory().endsWith(Path.of("code")), CacheLocations.defaultDirectory().toString());
    }
}
