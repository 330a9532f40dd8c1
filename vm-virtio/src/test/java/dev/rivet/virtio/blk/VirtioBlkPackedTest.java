package dev.rivet.virtio.blk;

import dev.rivet.virtio.Virtio;
import org.junit.jupiter.api.Test;

import static dev.rivet.virtio.Virtio.bit;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every {@link VirtioBlkTest} again with packed virtqueues (VIRTIO_F_RING_PACKED, VirtIO 1.2
 * section 2.8), which Linux accepts whenever it is offered: the device is unchanged, only
 * the ring under it differs.
 */
class VirtioBlkPackedTest extends VirtioBlkTest {
    @Override
    long ringFeatures() {
        return bit(Virtio.F_RING_PACKED);
    }

    @Test
    void theRingIsPacked() {
        probe();
        assertTrue(q.isPacked());
        assertTrue(mmio.core().queue(0).packed());
    }
}
