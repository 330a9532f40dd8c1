package dev.rivet.platform.disk;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An image that cannot be used as it is: malformed, damaged, or using a feature Rivet does
 * not implement. The message is one line that names the file and says what is wrong, fit
 * to show a user as it is.
 */
public class DiskImageException extends IOException {
    private static final long serialVersionUID = 1L;

    public DiskImageException(Path image, String problem) {
        super(image + ": " + problem);
    }

    public DiskImageException(String message) {
        super(message);
    }
}
