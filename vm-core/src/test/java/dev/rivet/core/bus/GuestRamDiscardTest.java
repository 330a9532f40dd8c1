package dev.rivet.core.bus;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link GuestRam#discard}: what a balloon does with a page the guest gave up. The range
 * reads zero afterwards, its neighbours keep their bytes, the write observer hears of each
 * page, and on Linux the host memory really goes back (mincore says the pages are no
 * longer resident).
 */
class GuestRamDiscardTest {
    static final long BASE = 0x8000_0000L;
    static final long PAGE = GuestRam.DISCARD_GRANULE;
    static final long SIZE = 64 * PAGE;

    final GuestRam ram = new GuestRam(BASE, SIZE);
    final List<Long> observed = new ArrayList<>();

    @AfterEach
    void close() {
        ram.close();
    }

    /** Fills every byte of page {@code i} with {@code i + 1}. */
    void fillPage(int i) {
        ram.segment().asSlice(i * PAGE, PAGE).fill((byte) (i + 1));
    }

    byte at(long offset) {
        return ram.segment().get(GuestRam.I8, offset);
    }

    @Test
    void discardedPagesReadZeroNeighboursKeepTheirBytesAndTheObserverHearsOfEachPage() {
        for (int i = 0; i < 8; i++) {
            fillPage(i);
        }
        ram.setWriteObserver(observed::add);
        ram.discard(BASE + 2 * PAGE, 3 * PAGE);
        assertEquals(List.of(BASE + 2 * PAGE, BASE + 3 * PAGE, BASE + 4 * PAGE), observed);
        for (int i = 0; i < 8; i++) {
            byte want = i >= 2 && i < 5 ? 0 : (byte) (i + 1);
            assertEquals(want, at(i * PAGE), "first byte of page " + i);
            assertEquals(want, at(i * PAGE + PAGE - 1), "last byte of page " + i);
        }
    }

    @Test
    void theFirstAndLastPagesOfRamCanBeDiscarded() {
        fillPage(0);
        fillPage(63);
        ram.discard(BASE, PAGE);
        ram.discard(BASE + SIZE - PAGE, PAGE);
        assertEquals(0, at(0));
        assertEquals(0, at(SIZE - 1));
        ram.discard(BASE + 5 * PAGE, 0); // nothing to do
    }

    @Test
    void misalignedOrOutsideRangesAreRefusedAndChangeNothing() {
        fillPage(1);
        ram.setWriteObserver(observed::add);
        long[][] bad = {
            {BASE + PAGE + 8, PAGE},      // unaligned start
            {BASE + PAGE, PAGE / 2},      // partial page
            {BASE - PAGE, PAGE},          // below RAM
            {BASE + SIZE - PAGE, 2 * PAGE}, // runs off the end
            {BASE + SIZE, PAGE},          // just past the end
            {BASE + PAGE, -PAGE},         // negative length
            {-PAGE, 2 * PAGE},            // wraps the address space
            {0, Long.MIN_VALUE},
        };
        for (long[] b : bad) {
            assertThrows(IllegalArgumentException.class, () -> ram.discard(b[0], b[1]),
                    String.format("0x%x+0x%x", b[0], b[1]));
        }
        assertEquals(List.of(), observed);
        assertEquals(2, at(PAGE));
    }

    @Test
    void onLinuxTheHostMemoryIsReleased() throws Throwable {
        assumeTrue(System.getProperty("os.name", "").equals("Linux"), "mincore is Linux's");
        assumeTrue(GuestRam.Mmap.HOST_PAGE == PAGE, "one mincore entry per 4 KiB page");
        Linker linker = Linker.nativeLinker();
        MethodHandle mincore = linker.downcallHandle(linker.defaultLookup().find("mincore").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.ADDRESS));
        for (int i = 0; i < 64; i++) {
            fillPage(i);
        }
        ram.discard(BASE + 16 * PAGE, 32 * PAGE);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment vec = arena.allocate(64);
            int rc = (int) mincore.invokeExact(ram.segment(), SIZE, vec);
            assertEquals(0, rc, "mincore");
            for (int i = 0; i < 64; i++) {
                boolean resident = (vec.get(ValueLayout.JAVA_BYTE, i) & 1) != 0;
                assertEquals(i < 16 || i >= 48, resident, "page " + i + " resident");
            }
        }
        assertEquals(0, at(16 * PAGE));
        assertEquals(16, at(16 * PAGE - 1), "the page before keeps its bytes");
    }
}
