package dev.rivet.platform.monitor;

import dev.rivet.interp.BlockCache;
import dev.rivet.jit.JitCompiler;
import dev.rivet.platform.net.UserNet;
import dev.rivet.platform.virt.VirtMachine;
import dev.rivet.platform.virt.VirtioSpec;
import dev.rivet.virtio.net.VirtioNet;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * The {@code virt} board as the monitor sees it. What each call touches from a monitor
 * thread, and why that is safe:
 * <ul>
 * <li>instructions: {@code Hart.instret}, a plain field the hart thread (and compiled code,
 *     at its exits) writes. The read is racy: it may lag, which a status line can afford;
 *     64-bit HotSpot does not tear a long.
 * <li>JIT counters: {@link JitCompiler#stats()} reads atomic counters; the block cache's
 *     counters and {@code warmStarts} are plain fields of the hart thread, read racily as
 *     above (progress numbers, never used to decide anything).
 * <li>quit: {@link VirtMachine#stop()}, documented safe from any thread.
 * <li>network and balloon: see {@link NetCard} and {@link BalloonControl#of}.
 * </ul>
 */
public final class VirtMachineTarget implements MonitorTarget {
    private final VirtMachine machine;
    private final long ramBytes;
    private final List<NetCard> cards;
    private final BalloonControl balloon;
    private final LongSupplier nanoClock;
    private final long startNanos;
    private volatile boolean quitAsked;
    private volatile boolean ended;

    /**
     * @param machine   the machine, about to run
     * @param ramBytes  its RAM (as configured)
     * @param virtio    the VirtIO devices it was built with: its user-mode network cards are
     *                  taken from them, in order
     * @param nanoClock the host's monotonic clock ({@code System::nanoTime}); uptime counts from now
     */
    public VirtMachineTarget(VirtMachine machine, long ramBytes, List<VirtioSpec> virtio, LongSupplier nanoClock) {
        this.machine = Objects.requireNonNull(machine, "machine");
        this.ramBytes = ramBytes;
        List<NetCard> c = new ArrayList<>();
        int index = 0; // netN counts every card, also one on another backend (not monitored)
        for (VirtioSpec s : virtio) {
            if (s instanceof VirtioSpec.Net n) {
                if (n.backend() instanceof UserNet net) {
                    c.add(new NetCard(index, VirtioNet.formatMac(n.mac()), n.transport().spelling(), net));
                }
                index++;
            }
        }
        this.cards = List.copyOf(c);
        this.balloon = machine.balloon() == null ? null : BalloonControl.of(machine.balloon());
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        this.startNanos = nanoClock.getAsLong();
    }

    /** Tells the monitor the machine's run is over (it is about to close). */
    public void ended() {
        ended = true;
    }

    @Override
    public State state() {
        return ended ? State.ENDED : quitAsked ? State.STOPPING : State.RUNNING;
    }

    @Override
    public long instructions() {
        return machine.hart().instret;
    }

    @Override
    public long uptimeNanos() {
        return nanoClock.getAsLong() - startNanos;
    }

    @Override
    public long ramBytes() {
        return ramBytes;
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
        List<String> lines = new ArrayList<>();
        JitCompiler jit = machine.jit();
        lines.add(jit == null ? "jit: off" : jit.stats());
        BlockCache c = machine.interpreter().cache();
        lines.add("blocks: " + c.translations() + " translated, " + c.invalidations() + " invalidated, "
                + c.flushes() + " full flushes, " + c.epochs() + " translation epochs");
        if (jit != null) {
            lines.add("warm-starts: " + machine.interpreter().warmStarts());
        }
        return lines;
    }

    @Override
    public void quit() {
        quitAsked = true;
        machine.stop();
    }
}
