package dev.rivet.platform;

import java.util.zip.CRC32C;

/**
 * Names a guest for the code cache's hot lists: the board, the RAM size and checksums of
 * the images it boots. Two runs with the same name warm-start each other. The name only
 * chooses which hot list to read; every region in it is still checked against the code the
 * guest actually runs (the cache keys on its IR), so a collision costs time, never
 * correctness. CRC32C rather than a cryptographic hash because the kernel image is tens of
 * megabytes and this runs on every boot.
 */
public final class GuestProfile {
    private GuestProfile() {
    }

    /** The profile of {@code board} with {@code ramSize} bytes booting {@code images} (null entries allowed). */
    public static String of(String board, long ramSize, byte[]... images) {
        StringBuilder name = new StringBuilder(board).append('-').append(ramSize >> 20).append('M');
        for (byte[] image : images) {
            CRC32C crc = new CRC32C();
            if (image != null) {
                crc.update(image);
            }
            name.append('-').append(image == null ? 0 : image.length).append(':')
                    .append(Long.toHexString(crc.getValue()));
        }
        return name.toString();
    }
}
