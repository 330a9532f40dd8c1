package dev.rivet.devices;

import dev.rivet.core.bus.Bus;
import dev.rivet.core.bus.GuestErrorLog;
import dev.rivet.core.bus.MmioDevice;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every MMIO device promises the bus and the guest, checked for each device by a
 * test that extends this class:
 * <ul>
 * <li>an access where no register lives logs a guest error naming the device and the
 *     offset, reads 0 (or what {@link #unknownReadValue} says, for buses whose empty
 *     addresses float high), and is otherwise harmless;
 * <li>{@link MmioDevice#reset()} brings every readable register back to its power-on
 *     value, whatever the guest wrote before (random writes; the seed is printed and can
 *     be fixed with {@code -Drivet.seed=N});
 * <li>every access size at every offset through {@link Bus#readDevice}/{@link Bus#writeDevice}
 *     (the bus's size fix-ups included) completes without an exception.
 * </ul>
 */
public abstract class MmioDeviceContract {
    static final long SEED = Long.getLong("rivet.seed", new SplittableRandom().nextLong(1L << 40));
    private static final int[] SIZES = {1, 2, 4, 8};

    /** Guest errors reported through {@link #log}, in order. */
    protected final List<String> guestErrors = Collections.synchronizedList(new ArrayList<>());
    /** The log every device under test must report to. */
    protected final GuestErrorLog log = guestErrors::add;

    /** A new device in its power-on state, reporting to {@link #log}. May be called several times per test. */
    protected abstract MmioDevice newDevice();

    /** Size of the device's bus mapping on the {@code virt} board. */
    protected abstract long regionSize();

    /** Offsets inside (or, for devices without gaps, just past) the window where no register lives. */
    protected abstract long[] unknownOffsets();

    /**
     * The device's guest-visible state: reads every readable register in a fixed order
     * (and may include interrupt line levels). Reads may have side effects; the contract
     * only compares two runs of this same sequence from states that must be equal.
     */
    protected abstract Map<String, Long> readableState(MmioDevice device);

    /**
     * What a {@code size}-byte read at an unknown offset returns: 0 for registers files,
     * all-ones for a bus where nobody answers (a PCI master abort).
     */
    protected long unknownReadValue(int size) {
        return 0;
    }

    /** Whether the random-write phase may write {@code size} bytes at {@code offset}. */
    protected boolean randomWriteAllowed(long offset, int size) {
        return true;
    }

    @Test
    void unknownOffsetsLogAGuestErrorAndReadZero() {
        MmioDevice d = newDevice();
        long[] offsets = unknownOffsets();
        assertTrue(offsets.length > 0, "a device test must name some unknown offsets");
        for (long off : offsets) {
            for (int size : SIZES) {
                if ((d.accessSizes() & size) == 0 || off % size != 0) {
                    continue;
                }
                String where = String.format("%d-byte access at 0x%x", size, off);
                guestErrors.clear();
                assertEquals(unknownReadValue(size), d.read(off, size), where);
                assertLogged(d, off, where);
                guestErrors.clear();
                d.write(off, size, 0x5A5A_5A5A_5A5A_5A5AL);
                assertLogged(d, off, where);
                guestErrors.clear();
                assertEquals(unknownReadValue(size), d.read(off, size), where + " after a write");
            }
        }
    }

    private void assertLogged(MmioDevice d, long off, String where) {
        String hex = "0x" + Long.toHexString(off);
        assertFalse(guestErrors.isEmpty(), where + ": no guest error logged");
        String msg = guestErrors.getLast();
        assertTrue(msg.contains(d.name()) && msg.contains(hex), where + ": the guest error must name the device ("
                + d.name() + ") and the offset (" + hex + "): " + msg);
    }

    @Test
    void resetRestoresEveryReadableRegister() {
        long seed = SEED ^ getClass().getName().hashCode();
        System.out.printf("%s.resetRestoresEveryReadableRegister: seed %d (-Drivet.seed=%d)%n",
                getClass().getSimpleName(), seed, SEED);
        Map<String, Long> powerOn = readableState(newDevice());

        SplittableRandom r = new SplittableRandom(seed);
        MmioDevice d = newDevice();
        long window = Math.min(regionSize(), 0x40); // where the registers of every device here live
        for (int i = 0; i < 500; i++) {
            long off = r.nextInt(4) != 0 ? r.nextLong(window) : r.nextLong(regionSize());
            int size = SIZES[r.nextInt(SIZES.length)];
            if (off + size > regionSize()) {
                continue;
            }
            if (r.nextInt(4) == 0) {
                Bus.readDevice(d, off, size);
            } else if (randomWriteAllowed(off, size)) {
                long v = switch (r.nextInt(4)) {
                    case 0 -> 0;
                    case 1 -> -1;
                    case 2 -> r.nextInt(256);
                    default -> r.nextLong();
                };
                Bus.writeDevice(d, off, size, v);
            }
        }
        d.reset();
        assertEquals(powerOn, readableState(d), "state after random writes and reset (seed " + seed
                + ", rerun with -Drivet.seed=" + SEED + ")");
    }

    @Test
    void everyAccessSizeAtEveryOffsetGoesThroughTheBus() {
        SplittableRandom r = new SplittableRandom(SEED);
        MmioDevice d = newDevice();
        long size = regionSize();
        long head = Math.min(size, 0x100);
        for (long off = 0; off < size; off = off + 1 == head ? Math.max(head, size - 0x20) : off + 1) {
            for (int s : SIZES) {
                if (off + s > size) {
                    continue;
                }
                long v = Bus.readDevice(d, off, s);
                if (s < 8) {
                    assertEquals(0, v >>> (8 * s), String.format("read of %d bytes at 0x%x not zero-extended", s, off));
                }
                if (randomWriteAllowed(off, s)) {
                    Bus.writeDevice(d, off, s, r.nextLong());
                }
            }
        }
    }
}
