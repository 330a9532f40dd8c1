package dev.rivet.platform.virt;

import dev.rivet.platform.disk.DiskImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static dev.rivet.platform.virt.LinuxBootTest.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * VirtIO devices as the reference guest's own Linux drivers use them: vmtest scripts
 * inside the booted guest format and fill disks, power off, boot again and read the data
 * back; read entropy from /dev/hwrng.
 */
class VirtioGuestTest {
    static final long DISK = 64L << 20;

    /** The reference guest with a raw disk (vda), a qcow2 disk (vdb), a read-only raw disk (vdc) and an rng. */
    static GuestBoot guest(Path dir, VirtioSpec.Transport t, String script) {
        return new GuestBoot().guest(GuestBoot.REFERENCE).vmtest(script)
                .device(() -> new VirtioSpec.Disk(DiskImages.open(dir.resolve("a.raw"), false), "rivet-a", t))
                .device(() -> new VirtioSpec.Disk(DiskImages.open(dir.resolve("b.qcow2"), false), "rivet-b", t))
                .device(() -> new VirtioSpec.Disk(DiskImages.open(dir.resolve("c.raw"), true), null, t))
                .device(() -> new VirtioSpec.Rng(t));
    }

    /**
     * The whole round trip over virtio-mmio: the first boot makes ext2 file systems on vda
     * (raw) and vdb (qcow2), writes 2 MiB of random data to each and prints the checksums;
     * the second boot mounts them again and must print the same checksums. The read-only
     * disk refuses writes, and qemu-img finds the qcow2 image consistent afterwards.
     */
    @Test
    void disksKeepTheirDataAcrossBootsAndTheRngFeedsHwrng(@TempDir Path dir) throws Exception {
        DiskImages.create(dir.resolve("a.raw"), DiskImages.CreateOptions.raw(DISK));
        DiskImages.create(dir.resolve("b.qcow2"), DiskImages.CreateOptions.qcow2(DISK));
        DiskImages.create(dir.resolve("c.raw"), DiskImages.CreateOptions.raw(DISK));
        VirtioSpec.Transport t = VirtioSpec.Transport.MMIO;

        GuestBoot first = guest(dir, t, """
                for d in vda vdb; do
                  echo "$d-sectors: $(cat /sys/block/$d/size)"
                  echo "$d-serial: $(cat /sys/block/$d/serial)"
                  mkfs.ext2 -q /dev/$d && mount -t ext2 /dev/$d /mnt || echo "$d: mount failed"
                  dd if=/dev/urandom of=/mnt/data bs=1k count=2048 2>/dev/null
                  echo "$d-sum: $(sha256sum /mnt/data | cut -d' ' -f1)"
                  umount /mnt
                done
                echo "vdc-ro: $(cat /sys/block/vdc/ro)"
                dd if=/dev/zero of=/dev/vdc bs=4k count=1 oflag=direct 2>/dev/null; echo "vdc-write: $?"
                echo "rng: $(cat /sys/class/misc/hw_random/rng_current)"
                echo "rng-bytes: $(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | wc -c)"
                sync
                """);
        assertEquals(VirtMachine.Ending.POWEROFF, first.run().ending(), first.tail());
        String c1 = first.console();
        assertEquals(Long.toString(DISK / 512), field(c1, "vda-sectors"));
        assertEquals("rivet-a", field(c1, "vda-serial"));
        assertEquals("rivet-b", field(c1, "vdb-serial"));
        assertEquals("1", field(c1, "vdc-ro"));
        assertTrue(!field(c1, "vdc-write").equals("0"), "a write to the read-only disk must fail");
        assertEquals("virtio_rng.0", field(c1, "rng"));
        assertEquals("64", field(c1, "rng-bytes"));
        String sumA = field(c1, "vda-sum"), sumB = field(c1, "vdb-sum");
        assertTrue(sumA.matches("[0-9a-f]{64}") && !sumA.equals(sumB), c1);

        GuestBoot second = guest(dir, t, """
                for d in vda vdb; do
                  mount -t ext2 /dev/$d /mnt && echo "$d-sum: $(sha256sum /mnt/data | cut -d' ' -f1)"
                  umount /mnt
                done
                """);
        assertEquals(VirtMachine.Ending.POWEROFF, second.run().ending(), second.tail());
        assertEquals(sumA, field(second.console(), "vda-sum"), second.tail());
        assertEquals(sumB, field(second.console(), "vdb-sum"), second.tail());

        Process check = new ProcessBuilder("qemu-img", "check", dir.resolve("b.qcow2").toString())
                .redirectErrorStream(true).start();
        String report = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(check.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, check.exitValue(), report);
    }
}
