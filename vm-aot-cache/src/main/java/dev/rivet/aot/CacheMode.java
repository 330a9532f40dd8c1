package dev.rivet.aot;

import java.util.Locale;

/** What a run may do with the on-disk cache; chosen by the user (CLI spellings {@code off|ro|rw}). */
public enum CacheMode {
    /** The disk cache is not used at all. */
    OFF("off"),
    /** Entries are read but nothing is written, touched or deleted (a shared or read-only medium). */
    READ_ONLY("ro"),
    /** Entries are read, written, refreshed on use, evicted and repaired. */
    READ_WRITE("rw");

    private final String spelling;

    CacheMode(String spelling) {
        this.spelling = spelling;
    }

    /** The CLI spelling: {@code off}, {@code ro} or {@code rw}. */
    public String spelling() {
        return spelling;
    }

    public boolean canRead() {
        return this != OFF;
    }

    public boolean canWrite() {
        return this == READ_WRITE;
    }

    /** Parses a CLI spelling (case-insensitive). */
    public static CacheMode parse(String s) {
        String t = s.strip().toLowerCase(Locale.ROOT);
        for (CacheMode m : values()) {
            if (m.spelling.equals(t)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown cache mode '" + s + "' (expected off, ro or rw)");
    }
}
