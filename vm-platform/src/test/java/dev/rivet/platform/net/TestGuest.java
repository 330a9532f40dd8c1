package dev.rivet.platform.net;

import dev.rivet.devices.net.NetPort;
import io.netty.channel.ChannelFactory;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The guest's network card as the tests play it: a {@link NetPort} that collects the frames
 * the backend delivers (or refuses them while "out of receive buffers"), a transmit path,
 * and a tiny TCP stack ({@link GuestTcp} endpoints) run by {@link #pump} on the test thread.
 */
final class TestGuest implements NetPort, AutoCloseable {
    final UserNet net;
    private final LinkedBlockingQueue<byte[]> rx = new LinkedBlockingQueue<>();
    private volatile boolean noBuffers;
    /** TCP endpoints by (local port, remote port). */
    private final Map<Long, GuestTcp> endpoints = new HashMap<>();
    /** Makes an endpoint for a SYN arriving at a local port (a listening guest socket). */
    private final Map<Integer, Function<GuestFrames.Parsed, GuestTcp>> listeners = new HashMap<>();
    /** Frames no endpoint took, for tests to inspect. */
    final List<GuestFrames.Parsed> unrouted = new ArrayList<>();

    TestGuest(UserNetOptions options) {
        this(options, NioDatagramChannel::new);
    }

    /** A guest whose backend makes its host UDP sockets with {@code datagramChannels}. */
    TestGuest(UserNetOptions options, ChannelFactory<? extends DatagramChannel> datagramChannels) {
        net = new UserNet(options, 42, datagramChannels);
        net.start(this);
    }

    @Override
    public boolean deliver(ByteBuffer frame) {
        if (noBuffers) {
            return false;
        }
        byte[] c = new byte[frame.remaining()];
        frame.get(frame.position(), c);
        rx.add(c);
        return true;
    }

    @Override
    public byte[] mac() {
        return GuestFrames.GUEST_MAC.clone();
    }

    void send(byte[] frame) {
        net.transmit(ByteBuffer.wrap(frame));
    }

    /** The card runs out of receive buffers (deliver returns false) or gets them back (guestReady). */
    void receiveBuffers(boolean available) {
        noBuffers = !available;
        if (available) {
            net.guestReady();
        }
    }

    /** Buffers are back but the card has not told the backend yet (its guestReady call is still to come). */
    void receiveBuffersWithoutNotice() {
        noBuffers = false;
    }

    /** The next frame delivered, parsed, or null after {@code millis}. */
    GuestFrames.Parsed next(long millis) {
        try {
            byte[] f = rx.poll(millis, TimeUnit.MILLISECONDS);
            return f == null ? null : GuestFrames.parse(f);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** Waits for a frame matching {@code p}; other frames are skipped (kept in {@link #unrouted}). */
    GuestFrames.Parsed await(Predicate<GuestFrames.Parsed> p, Duration timeout, String what) {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            GuestFrames.Parsed f = next(10);
            if (f != null) {
                if (p.test(f)) {
                    return f;
                }
                unrouted.add(f);
            }
        }
        return fail("no frame: " + what);
    }

    /** True when no frame arrives within {@code millis}. */
    boolean quiet(long millis) {
        return next(millis) == null;
    }

    void register(GuestTcp t) {
        endpoints.put(key(t.localPort, t.remotePort), t);
    }

    void unregister(GuestTcp t) {
        endpoints.remove(key(t.localPort, t.remotePort));
    }

    void listen(int port, Function<GuestFrames.Parsed, GuestTcp> onSyn) {
        listeners.put(port, onSyn);
    }

    private static long key(int local, int remote) {
        return (long) local << 16 | remote;
    }

    /** Runs the guest's TCP (frames in, timers, data out) until {@code done} or the timeout. */
    void pump(BooleanSupplier done, Duration timeout, Object context) {
        long end = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > end) {
                fail("timed out: " + context);
            }
            GuestFrames.Parsed f = next(2);
            while (f != null) {
                route(f);
                f = next(0);
            }
            for (GuestTcp t : new ArrayList<>(endpoints.values())) {
                t.tick();
            }
        }
    }

    private void route(GuestFrames.Parsed f) {
        if (f.isTcp()) {
            GuestTcp t = endpoints.get(key(f.dport, f.sport));
            if (t != null) {
                t.handle(f);
                return;
            }
            var l = listeners.get(f.dport);
            if (l != null && f.has(GuestFrames.SYN) && !f.has(GuestFrames.ACK)) {
                GuestTcp accepted = l.apply(f);
                register(accepted);
                accepted.acceptSyn(f);
                return;
            }
        }
        unrouted.add(f);
    }

    @Override
    public void close() {
        net.close();
    }
}
