package dev.rivet.devices.net;

import java.io.Closeable;
import java.nio.ByteBuffer;

/**
 * The host side of a guest network card (virtio-net now; e1000 later): an Ethernet link
 * that takes the frames the guest transmits and delivers frames to the guest through the
 * {@link NetPort} it was started with. Implementations live with the host backends
 * (Netty user-mode networking in vm-platform); devices only see this interface.
 *
 * <p>Frames are whole Ethernet II frames (destination MAC first), without preamble or FCS,
 * at most {@link #MAX_FRAME} bytes; checksums inside them are complete (the NIC finishes any
 * partial checksum the guest offloaded before calling {@link #transmit}).
 *
 * <p>Flow control: when {@link NetPort#deliver} returns false the guest has no receive
 * buffers. The backend keeps the frame (or drops it, as a real wire would, if it can
 * recover by retransmission), stops reading from host sockets that feed the guest, and
 * tries again after {@link #guestReady}.
 */
public interface NetBackend extends Closeable {
    /** Largest frame either direction: 1514 bytes of Ethernet plus room for a VLAN tag. */
    int MAX_FRAME = 1518;

    /**
     * Connects the backend to the guest's card; called once, before any other method.
     * The backend may deliver frames from then on, from any thread.
     */
    void start(NetPort guest);

    /**
     * A frame the guest transmitted: {@code frame}'s remaining bytes. Called on the card's
     * I/O thread; the buffer is only valid during the call (copy what is kept). Must not
     * block on the host network.
     */
    void transmit(ByteBuffer frame);

    /** The guest posted receive buffers after a {@link NetPort#deliver} returned false. */
    void guestReady();

    /** Stops all traffic and releases host sockets and threads; idempotent. */
    @Override
    void close();
}
