package dev.rivet.platform.monitor;

import dev.rivet.platform.net.HostForward;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The monitor's command set: parses one line and carries it out on a {@link MonitorTarget}.
 * The commands follow QEMU's human monitor where it has one ({@code hostfwd_add},
 * {@code hostfwd_remove}, {@code balloon}, {@code info ...}, {@code quit}), with replies of
 * {@code key: value} or {@code key=value} lines that scripts can pick apart.
 *
 * <p>A line is words separated by blanks. Nothing a client sends can fail the session: an
 * unknown or malformed command, or one the machine refuses, is an {@link Reply#error}.
 * Several clients may call {@link #execute} at once.
 */
public final class MonitorCommands {
    private static final long MIB = 1L << 20;
    /** Words of a command line echoed in error messages are cut here. */
    private static final int MAX_ECHO = 40;

    private static final List<String> HELP = List.of(
            "help                          this list",
            "info status                   running or not, instructions, uptime, RAM",
            "info network                  each network card and its port forwards",
            "info balloon                  the guest's memory as the balloon left it",
            "info jit                      JIT and block cache counters",
            "hostfwd_add [netN] [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT",
            "                              forward a host port into the guest; prints the bound address",
            "hostfwd_remove [netN] [tcp|udp]:[HOSTADDR]:HOSTPORT",
            "                              stop the forward listening there",
            "balloon MIB                   ask the guest to keep MIB of RAM (the balloon takes the rest)",
            "quit                          stop the machine");

    private final MonitorTarget target;

    public MonitorCommands(MonitorTarget target) {
        this.target = Objects.requireNonNull(target, "target");
    }

    /** Carries out one command line (without its line end) and returns the reply; never throws. */
    public Reply execute(String line) {
        String[] w = line.strip().split("[ \\t]+");
        if (w.length == 1 && w[0].isEmpty()) {
            return Reply.ok(); // an empty line: nothing to do, but every line gets its reply
        }
        String[] args = Arrays.copyOfRange(w, 1, w.length);
        try {
            return switch (w[0]) {
                case "help", "?" -> Reply.ok(HELP);
                case "info" -> info(args);
                case "hostfwd_add" -> hostfwdAdd(args);
                case "hostfwd_remove" -> hostfwdRemove(args);
                case "balloon" -> balloon(args);
                case "quit", "q" -> quit(args);
                default -> Reply.error("unknown command '" + echo(w[0]) + "' (try help)");
            };
        } catch (IllegalArgumentException | IllegalStateException e) {
            return Reply.error(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        } catch (RuntimeException e) {
            // A bug here must not end the session or the machine: say what it was.
            return Reply.error("internal error: " + e);
        }
    }

    // ---- info ---------------------------------------------------------------------------

    private Reply info(String[] args) {
        if (args.length != 1) {
            return Reply.error("usage: info status|network|balloon|jit");
        }
        return switch (args[0]) {
            case "status" -> infoStatus();
            case "network" -> infoNetwork();
            case "balloon" -> infoBalloon();
            case "jit" -> Reply.ok(target.jitStats());
            default -> Reply.error("unknown info '" + echo(args[0]) + "' (status, network, balloon or jit)");
        };
    }

    private Reply infoStatus() {
        long instructions = target.instructions();
        long ns = Math.max(1, target.uptimeNanos());
        return Reply.ok(
                "state: " + target.state().spelling(),
                "uptime: " + String.format("%.3f s", ns / 1e9),
                "instructions: " + instructions,
                "mips: " + String.format("%.1f", instructions / (ns / 1e3)),
                "ram: " + (target.ramBytes() / MIB) + " MiB",
                "net-cards: " + target.netCards().size(),
                "balloon: " + (target.balloon() != null ? "yes" : "no"));
    }

    private Reply infoNetwork() {
        List<String> lines = new ArrayList<>();
        for (NetCard card : target.netCards()) {
            lines.add(card.summary());
            for (NetCard.Forward f : card.forwards()) {
                lines.add(card.name() + " hostfwd=" + f.spec().spec() + " bound="
                        + address(f.bound()));
            }
        }
        return Reply.ok(lines);
    }

    private Reply infoBalloon() {
        BalloonControl b = requireBalloon();
        long ram = target.ramBytes();
        List<String> lines = new ArrayList<>();
        lines.add("actual: " + keptMib(ram, b.actualPages()) + " MiB");
        lines.add("target: " + keptMib(ram, b.targetPages()) + " MiB");
        lines.add("ram: " + ram / MIB + " MiB");
        lines.add("balloon-pages: actual=" + b.actualPages() + " target=" + b.targetPages());
        for (Map.Entry<String, Long> s : b.latestStats().entrySet()) {
            lines.add("stat " + s.getKey() + ": " + Long.toUnsignedString(s.getValue()));
        }
        b.refreshStats(); // for the next look: the driver answers on its own time
        return Reply.ok(lines);
    }

    /** MiB the guest keeps with {@code pages} in the balloon, as QEMU's info balloon counts them. */
    private static long keptMib(long ram, long pages) {
        return Math.max(0, ram - pages * BalloonControl.PAGE_BYTES) / MIB;
    }

    // ---- forwards -----------------------------------------------------------------------

    private Reply hostfwdAdd(String[] args) {
        if (args.length < 1 || args.length > 2) {
            return Reply.error("usage: hostfwd_add [netN] [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT");
        }
        NetCard card = card(args.length == 2 ? args[0] : null);
        HostForward spec = HostForward.parse(args[args.length - 1]);
        return Reply.ok(address(card.add(spec)));
    }

    private Reply hostfwdRemove(String[] args) {
        if (args.length < 1 || args.length > 2) {
            return Reply.error("usage: hostfwd_remove [netN] [tcp|udp]:[HOSTADDR]:HOSTPORT");
        }
        NetCard card = card(args.length == 2 ? args[0] : null);
        HostPort where = HostPort.parse(args[args.length - 1]);
        card.remove(where);
        return Reply.ok();
    }

    /** The card named {@code netN}, or net0 when {@code name} is null. */
    private NetCard card(String name) {
        List<NetCard> cards = target.netCards();
        if (cards.isEmpty()) {
            throw new IllegalStateException("the machine has no user-mode network card (start it with --net user)");
        }
        if (name == null) {
            return cards.getFirst();
        }
        for (NetCard c : cards) {
            if (c.name().equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException("no network card '" + echo(name) + "' (net0 to net" + (cards.size() - 1)
                + ")");
    }

    private static String address(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    // ---- balloon ------------------------------------------------------------------------

    private Reply balloon(String[] args) {
        if (args.length != 1) {
            return Reply.error("usage: balloon MIB (the memory the guest keeps)");
        }
        BalloonControl b = requireBalloon();
        long ramMib = target.ramBytes() / MIB;
        String a = args[0];
        if (a.isEmpty() || a.length() > 9 || !a.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return Reply.error("balloon: '" + echo(a) + "' is not a number of MiB");
        }
        long mib = Long.parseLong(a);
        if (mib < 1 || mib > ramMib) {
            return Reply.error("balloon: " + mib + " MiB is outside 1-" + ramMib + " (the guest's RAM)");
        }
        long pages = (target.ramBytes() - mib * MIB) / BalloonControl.PAGE_BYTES;
        b.setTargetPages(pages);
        return Reply.ok("target: " + mib + " MiB (" + pages + " pages in the balloon)");
    }

    private BalloonControl requireBalloon() {
        BalloonControl b = target.balloon();
        if (b == null) {
            throw new IllegalStateException("the machine has no balloon (start it with --balloon)");
        }
        return b;
    }

    // ---- quit ---------------------------------------------------------------------------

    private Reply quit(String[] args) {
        if (args.length != 0) {
            return Reply.error("usage: quit");
        }
        return Reply.ok().then(target::quit);
    }

    /** A word of the client's, short enough to quote in an error. */
    private static String echo(String word) {
        return word.length() <= MAX_ECHO ? word : word.substring(0, MAX_ECHO) + "...";
    }
}
