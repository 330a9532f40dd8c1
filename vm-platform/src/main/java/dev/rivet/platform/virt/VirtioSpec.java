package dev.rivet.platform.virt;

import dev.rivet.devices.block.BlockBackend;
import dev.rivet.devices.net.NetBackend;
import dev.rivet.virtio.blk.VirtioBlk;
import dev.rivet.virtio.console.PortHandler;
import dev.rivet.virtio.vsock.VirtioVsock;
import dev.rivet.virtio.vsock.VsockBackend;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A VirtIO device asked for by the user (vmctl flags or the library), before the board
 * builds it. The board places MMIO devices in its eight virtio-mmio slots the way QEMU's
 * {@code virt} does (the first device at the highest address, which Linux probes first, so
 * the first disk is {@code vda}), and PCI devices in the PCIe host's slots from 1 upwards.
 */
public sealed interface VirtioSpec {
    /** How the device reaches the guest. */
    enum Transport {
        MMIO, PCI;

        /** The spelling used on the command line. */
        public String spelling() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    Transport transport();

    /** virtio-blk over an opened disk image, with a serial ({@code null}: none); the machine closes it. */
    record Disk(BlockBackend backend, String serial, Transport transport) implements VirtioSpec {
        public Disk {
            Objects.requireNonNull(backend, "backend");
            Objects.requireNonNull(transport, "transport");
            checkSerial(serial);
        }

        /** Refuses a serial longer than virtio-blk's GET_ID answer ({@link VirtioBlk#ID_BYTES} bytes). */
        public static void checkSerial(String serial) {
            if (serial != null && serial.getBytes(StandardCharsets.UTF_8).length > VirtioBlk.ID_BYTES) {
                throw new IllegalArgumentException("a virtio-blk serial has at most " + VirtioBlk.ID_BYTES
                        + " bytes: " + serial);
            }
        }
    }

    /** virtio-rng, fed from the host's SecureRandom. */
    record Rng(Transport transport) implements VirtioSpec {
        public Rng {
            Objects.requireNonNull(transport, "transport");
        }
    }

    /** virtio-9p: the host directory {@code dir} shared under {@code tag}. */
    record Share(Path dir, String tag, boolean readOnly, Transport transport) implements VirtioSpec {
        public Share {
            Objects.requireNonNull(dir, "dir");
            Objects.requireNonNull(tag, "tag");
            Objects.requireNonNull(transport, "transport");
        }
    }

    /**
     * virtio-console: port 0 is {@code hvc0} on the machine's console (its output goes where
     * the UART's does, and typed input goes to both); each named port ({@code /dev/vportNpM}
     * in the guest, its name in sysfs) is served by its handler, and the host reaches it
     * through {@link VirtMachine#virtioConsole()}. Named ports turn on MULTIPORT.
     */
    record Console(Map<String, PortHandler> ports, Transport transport) implements VirtioSpec {
        public Console {
            ports = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(ports, "ports")));
            Objects.requireNonNull(transport, "transport");
        }

        /** The console alone, no named ports. */
        public Console(Transport transport) {
            this(Map.of(), transport);
        }
    }

    /**
     * virtio-net over {@code backend} (started when the machine is built, closed with it),
     * with the MAC address {@code mac} (6 bytes, unicast).
     */
    record Net(NetBackend backend, byte[] mac, Transport transport) implements VirtioSpec {
        public Net {
            Objects.requireNonNull(backend, "backend");
            Objects.requireNonNull(transport, "transport");
            mac = mac.clone();
            if (mac.length != 6) {
                throw new IllegalArgumentException("a MAC address has 6 bytes, not " + mac.length);
            }
        }

        /** QEMU's default MAC for the first NIC, 52:54:00:12:34:56 (plus {@code index}). */
        public static byte[] defaultMac(int index) {
            return new byte[] {0x52, 0x54, 0x00, 0x12, 0x34, (byte) (0x56 + index)};
        }
    }

    /**
     * virtio-balloon: the host sets a target with {@link VirtMachine#balloon()} and the
     * guest gives that much memory back (the host frees it); statistics and free page
     * reporting are on. {@code deflateOnOom} lets the guest take pages back under memory
     * pressure.
     */
    record Balloon(boolean deflateOnOom, Transport transport) implements VirtioSpec {
        public Balloon {
            Objects.requireNonNull(transport, "transport");
        }
    }

    /**
     * virtio-vsock for the guest context ID {@code cid} over an opened host side
     * ({@code backend}, e.g. a Unix-socket one), which the machine closes.
     */
    record Vsock(long cid, VsockBackend backend, Transport transport) implements VirtioSpec {
        public Vsock {
            VirtioVsock.checkGuestCid(cid);
            Objects.requireNonNull(backend, "backend");
            Objects.requireNonNull(transport, "transport");
        }
    }
}
