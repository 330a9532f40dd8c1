package dev.rivet.platform.net;

import org.junit.jupiter.api.Test;

import java.util.BitSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** The ports on 10.0.2.2 handed to forwarded connections and forward sessions. */
class AliasPortsTest {
    @Test
    void portsComeRoundRobinFromTheDynamicRangeSkippingThoseInUse() {
        AliasPorts a = new AliasPorts();
        BitSet inUse = new BitSet(65536);
        inUse.set(49153);
        assertEquals(49152, a.allocate(inUse::get));
        assertEquals(49154, a.allocate(inUse::get), "a port in use is skipped");
        inUse.clear(49153);
        assertEquals(49155, a.allocate(inUse::get), "round robin: a freed port is not reused at once");
        inUse.set(AliasPorts.FIRST, 65536);
        inUse.clear(49200);
        assertEquals(49200, a.allocate(inUse::get), "the last free port is found, across the wrap");
        inUse.set(49200);
        assertEquals(-1, a.allocate(inUse::get), "none free");
    }

    /**
     * More than 2^31 ports handed out (a long-lived VM forwarding many short connections):
     * every one in range and in round-robin order. A plain int counter taken modulo the range
     * goes negative here and yields ports below 49152.
     */
    @Test
    void theCursorWrapsSafelyPastTwoToTheThirtyOneAllocations() {
        AliasPorts a = new AliasPorts();
        long n = (1L << 31) + 2L * AliasPorts.COUNT;
        int expected = AliasPorts.FIRST;
        for (long i = 0; i < n; i++) {
            int port = a.allocate(p -> false);
            if (port != expected) {
                fail("allocation " + i + " gave port " + port + ", expected " + expected);
            }
            expected = expected == 65535 ? AliasPorts.FIRST : expected + 1;
        }
    }
}
