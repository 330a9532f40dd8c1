package dev.rivet.platform.boot;

/** A boot input (kernel, initrd, firmware, memory size) that cannot be used; one-line message. */
public final class BootException extends Exception {
    public BootException(String message) {
        super(message);
    }
}
