package dev.rivet.platform.monitor;

import dev.rivet.devices.net.NetPort;
import dev.rivet.platform.net.UserNet;
import dev.rivet.platform.net.UserNetOptions;
import dev.rivet.platform.virt.VirtioSpec;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A machine for the monitor to talk to, without a guest: fixed counters, a balloon that
 * plays the driver by reaching its target at once, and real user-mode networks with no
 * card on their guest side (forwards bind real host sockets; connections they accept go
 * nowhere).
 */
final class FakeMachine implements MonitorTarget, AutoCloseable {
    static final long RAM = 512L << 20;

    final List<NetCard> cards = new ArrayList<>();
    final List<UserNet> nets = new ArrayList<>();
    FakeBalloon balloon = new FakeBalloon();
    final AtomicInteger quits = new AtomicInteger();
    volatile long instructions = 123_456_789;
    volatile long uptimeNanos = 2_000_000_000L;
    volatile List<String> jitStats = List.of("jit: off", "blocks: 7 translated");

    /** Adds a card on a started user-mode network with {@code options} ("user,hostfwd=..."). */
    FakeMachine card(String options) {
        UserNet net = new UserNet(UserNetOptions.parse(options));
        int index = nets.size();
        byte[] mac = VirtioSpec.Net.defaultMac(index);
        net.start(new NetPort() {
            @Override
            public boolean deliver(ByteBuffer frame) {
                return true; // no cable: dropped, as the card does when it is not running
            }

            @Override
            public byte[] mac() {
                return mac.clone();
            }
        });
        nets.add(net);
        cards.add(new NetCard(index, dev.rivet.virtio.net.VirtioNet.formatMac(mac), "mmio", net));
        return this;
    }

    @Override
    public State state() {
        return quits.get() > 0 ? State.STOPPING : State.RUNNING;
    }

    @Override
    public long instructions() {
        return instructions;
    }

    @Override
    public long uptimeNanos() {
        return uptimeNanos;
    }

    @Override
    public long ramBytes() {
        return RAM;
    }

    @Override
    public List<NetCard> netCards() {
        return cards;
    }

    @Override
    public BalloonControl balloon() {
        return balloon;
    }

    @Override
    public List<String> jitStats() {
        return jitStats;
    }

    @Override
    public void quit() {
        quits.incrementAndGet();
    }

    @Override
    public void close() {
        nets.forEach(UserNet::close);
    }

    /** A balloon whose driver obeys at once, with a set of statistics. */
    static final class FakeBalloon implements BalloonControl {
        volatile long target;
        final AtomicInteger refreshes = new AtomicInteger();

        @Override
        public void setTargetPages(long pages) {
            target = pages;
        }

        @Override
        public long targetPages() {
            return target;
        }

        @Override
        public long actualPages() {
            return target;
        }

        @Override
        public Map<String, Long> latestStats() {
            Map<String, Long> m = new LinkedHashMap<>();
            m.put("free-memory", 300L << 20);
            m.put("total-memory", -1L); // unsigned: 2^64 - 1
            return m;
        }

        @Override
        public void refreshStats() {
            refreshes.incrementAndGet();
        }
    }
}
