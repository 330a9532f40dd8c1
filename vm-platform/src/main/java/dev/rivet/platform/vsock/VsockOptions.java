package dev.rivet.platform.vsock;

import dev.rivet.platform.virt.VirtioSpec;
import dev.rivet.virtio.vsock.VirtioVsock;

import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A virtio-vsock device as the user asks for it: the guest's context ID and the host Unix
 * socket of the Firecracker-style backend ({@link UnixSocketVsock}), e.g.
 * {@code cid=3,uds=/tmp/v.sock[,transport=mmio|pci]}. Host programs connect to {@code uds}
 * to reach the guest; the guest's connections to host port P go to {@code uds_P}.
 */
public record VsockOptions(long cid, Path uds, VirtioSpec.Transport transport) {
    /** sun_path holds 108 bytes with the terminating NUL. */
    public static final int MAX_UDS_BYTES = 107;

    public VsockOptions {
        VirtioVsock.checkGuestCid(cid);
        Objects.requireNonNull(uds, "uds");
        Objects.requireNonNull(transport, "transport");
        checkUds(uds);
    }

    public VsockOptions(long cid, Path uds) {
        this(cid, uds, VirtioSpec.Transport.MMIO);
    }

    /**
     * Parses {@code cid=N,uds=PATH[,transport=mmio|pci]} (keys in any order). Throws
     * IllegalArgumentException with a one-line message naming what is wrong.
     */
    public static VsockOptions parse(String text) {
        String cid = null, uds = null, transport = null;
        if (text.isEmpty()) {
            throw bad(text, "expected cid=N,uds=PATH");
        }
        for (String part : text.split(",", -1)) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw bad(text, "'" + part + "' is not key=value (expected cid=N,uds=PATH)");
            }
            String k = part.substring(0, eq), v = part.substring(eq + 1);
            String old = switch (k) {
                case "cid" -> { String o = cid; cid = v; yield o; }
                case "uds" -> { String o = uds; uds = v; yield o; }
                case "transport" -> { String o = transport; transport = v; yield o; }
                default -> throw bad(text, "unknown key '" + k + "' (known: cid, uds, transport)");
            };
            if (old != null) {
                throw bad(text, "'" + k + "' given twice");
            }
        }
        if (cid == null || cid.isEmpty()) {
            throw bad(text, "'cid=' is required (the guest's context ID, 3 or more)");
        }
        if (uds == null || uds.isEmpty()) {
            throw bad(text, "'uds=' is required (the host Unix socket path)");
        }
        long c;
        try {
            c = Long.parseLong(cid);
        } catch (NumberFormatException e) {
            throw bad(text, "cid=" + cid + " is not a number");
        }
        if (c < 3 || c > VirtioVsock.MAX_GUEST_CID) {
            throw bad(text, "cid=" + cid + " must be 3 to " + VirtioVsock.MAX_GUEST_CID + " (0-2 are reserved)");
        }
        Path p;
        try {
            p = Path.of(uds);
        } catch (InvalidPathException e) {
            throw bad(text, "uds=" + uds + " is not a path");
        }
        VirtioSpec.Transport t = switch (transport == null ? "mmio" : transport) {
            case "mmio" -> VirtioSpec.Transport.MMIO;
            case "pci" -> VirtioSpec.Transport.PCI;
            default -> throw bad(text, "transport=" + transport + " must be mmio or pci");
        };
        try {
            return new VsockOptions(c, p, t);
        } catch (IllegalArgumentException e) {
            throw bad(text, e.getMessage());
        }
    }

    private static void checkUds(Path uds) {
        int n = uds.toString().getBytes(StandardCharsets.UTF_8).length;
        if (n > MAX_UDS_BYTES) {
            throw new IllegalArgumentException("uds path of " + n + " bytes is too long for a Unix socket (at most "
                    + MAX_UDS_BYTES + ")");
        }
    }

    private static IllegalArgumentException bad(String text, String why) {
        return new IllegalArgumentException("vsock '" + text + "': " + why);
    }
}
