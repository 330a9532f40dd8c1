package dev.rivet.platform.boot;

/**
 * Thrown by {@link ElfLoader} when a file is not a loadable RV64 ELF image or is malformed.
 * The message is a single human-readable line, suitable for printing as-is.
 */
public final class ElfFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    public ElfFormatException(String message) {
        super(message);
    }
}
