package dev.rivet.platform.disk;

import java.util.Locale;

/** The host image formats Rivet reads and writes. */
public enum DiskFormat {
    /** A flat file: byte N of the disk is byte N of the file. */
    RAW,
    /** QEMU copy-on-write version 2 or 3 (docs/interop/qcow2.txt in QEMU). */
    QCOW2;

    /** The lower-case name users type and QEMU stores in backing-format extensions. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses "raw" or "qcow2" (any case); anything else is an {@link IllegalArgumentException}. */
    public static DiskFormat parse(String name) {
        for (DiskFormat f : values()) {
            if (f.id().equalsIgnoreCase(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown disk format '" + name + "' (expected raw or qcow2)");
    }
}
