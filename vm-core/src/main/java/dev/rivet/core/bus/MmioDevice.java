package dev.rivet.core.bus;

/**
 * A device register window on the bus. Offsets are relative to the start of the
 * device's mapping. The bus only ever calls {@link #read}/{@link #write} with an
 * access size the device declared legal in {@link #accessSizes()}; other sizes are
 * fixed up by the bus (split or widened), the way a real interconnect would.
 */
public interface MmioDevice {
    /** Access size bits: {@code 1 << log2(bytes)} for 1, 2, 4, 8 bytes. */
    int SIZE_1 = 1, SIZE_2 = 2, SIZE_4 = 4, SIZE_8 = 8;
    /** Convenience mask: every size from 1 to 8 bytes. */
    int SIZES_ALL = SIZE_1 | SIZE_2 | SIZE_4 | SIZE_8;

    /** Short name used in logs and error messages. */
    String name();

    /** Which access sizes (in bytes, OR-ed as a bit mask of 1, 2, 4, 8) this device accepts. */
    default int accessSizes() {
        return SIZE_4;
    }

    /** Reads {@code size} bytes at {@code offset}; the result is zero-extended. */
    long read(long offset, int size);

    /** Writes the low {@code size} bytes of {@code value} at {@code offset}. */
    void write(long offset, int size, long value);

    /** Returns the device to its power-on state. */
    default void reset() {
    }
}
