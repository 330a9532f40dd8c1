package dev.rivet.virtio.vsock;

import java.util.function.Consumer;

/**
 * The live connections keyed by (guest port, host port) packed into a long: open
 * addressing with linear probing and backward-shift deletion, sized once for the
 * connection limit, so looking up a packet's connection allocates nothing. Not thread-safe.
 */
final class ConnTable {
    private final long[] keys;
    private final VsockConn[] conns;
    private final int mask;
    private int size;

    ConnTable(int maxEntries) {
        int cap = Integer.highestOneBit(Math.max(8, maxEntries * 2 - 1)) << 1; // load factor <= 1/2
        keys = new long[cap];
        conns = new VsockConn[cap];
        mask = cap - 1;
    }

    static long key(int guestPort, int hostPort) {
        return (guestPort & 0xFFFF_FFFFL) << 32 | (hostPort & 0xFFFF_FFFFL);
    }

    int size() {
        return size;
    }

    VsockConn get(long key) {
        for (int i = slot(key); conns[i] != null; i = (i + 1) & mask) {
            if (keys[i] == key) {
                return conns[i];
            }
        }
        return null;
    }

    /** Adds {@code c} under {@link VsockConn#key()}; the caller checked it is absent and the limit. */
    void put(VsockConn c) {
        long key = c.key();
        int i = slot(key);
        while (conns[i] != null) {
            i = (i + 1) & mask;
        }
        keys[i] = key;
        conns[i] = c;
        size++;
    }

    void remove(VsockConn c) {
        long key = c.key();
        int i = slot(key);
        while (conns[i] != c) {
            if (conns[i] == null) {
                return;
            }
            i = (i + 1) & mask;
        }
        conns[i] = null;
        size--;
        // Move later entries of the probe run back so that lookups still find them.
        for (int j = (i + 1) & mask; conns[j] != null; j = (j + 1) & mask) {
            int home = slot(keys[j]);
            boolean movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
            if (movable) {
                keys[i] = keys[j];
                conns[i] = conns[j];
                conns[j] = null;
                i = j;
            }
        }
    }

    void forEach(Consumer<VsockConn> action) {
        for (VsockConn c : conns.clone()) {
            if (c != null) {
                action.accept(c);
            }
        }
    }

    private int slot(long key) {
        long h = key * 0x9E37_79B9_7F4A_7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }
}
