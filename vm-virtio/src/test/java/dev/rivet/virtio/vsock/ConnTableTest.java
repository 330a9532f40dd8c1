package dev.rivet.virtio.vsock;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The connection table agrees with a HashMap through random adds and removes (probe runs, wrap-around). */
class ConnTableTest {
    static final long SEED = Long.getLong("rivet.seed", new SplittableRandom().nextLong(1L << 40));

    @Test
    void agreesWithAHashMapThroughRandomAddsAndRemoves() {
        System.out.printf("ConnTableTest: seed %d (-Drivet.seed=%d)%n", SEED, SEED);
        SplittableRandom r = new SplittableRandom(SEED);
        int max = 12;
        ConnTable t = new ConnTable(max);
        Map<Long, VsockConn> ref = new HashMap<>();
        for (int i = 0; i < 200_000; i++) {
            // Few distinct ports, so that keys collide and probe runs form and wrap.
            int gp = r.nextInt(8), hp = r.nextBoolean() ? r.nextInt(8) : (1 << 30) + r.nextInt(4);
            long key = ConnTable.key(gp, hp);
            VsockConn have = ref.get(key);
            assertSame(have, t.get(key), "seed " + SEED + " step " + i);
            if (have != null && r.nextInt(3) > 0) {
                t.remove(have);
                ref.remove(key);
            } else if (have == null && ref.size() < max) {
                VsockConn c = new VsockConn(null, gp, hp, null, 1);
                t.put(c);
                ref.put(key, c);
            }
            assertEquals(ref.size(), t.size(), "seed " + SEED);
        }
        for (VsockConn c : ref.values()) {
            assertSame(c, t.get(c.key()));
            t.remove(c);
            assertNull(t.get(c.key()));
        }
        assertEquals(0, t.size());
    }
}
