package dev.rivet.platform.virt;

import dev.rivet.devices.block.BlockBackend;
import dev.rivet.virtio.blk.VirtioBlk;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
}
