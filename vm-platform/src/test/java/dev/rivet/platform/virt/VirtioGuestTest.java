package dev.rivet.platform.virt;

import dev.rivet.platform.disk.DiskImages;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static dev.rivet.platform.virt.LinuxBootTest.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * VirtIO devices as the reference guest's own Linux drivers use them: vmtest scripts
 * inside the booted guest format and fill disks, power off, boot again and read the data
 * back; read entropy from /dev/hwrng; mount 9p shares. Each runs over virtio-mmio and over
 * virtio-pci, and checks from sysfs that the guest found the devices on the bus asked for.
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
     * A vmtest line printing which bus the guest found a device on: {@code sysfsLinks} is a
     * sysfs symlink, or a driver's directory, whose link targets name the device's path
     * (under {@code pci0000:00} for PCI, under the virtio_mmio platform device otherwise).
     */
    static String busOf(String key, String sysfsLinks) {
        return "echo \"" + key + ": $(ls -l " + sysfsLinks + " | grep -q /pci0000: && echo PCI || echo MMIO)\"\n";
    }

    /**
     * The whole round trip: the first boot makes ext2 file systems on vda
     * (raw) and vdb (qcow2), writes 2 MiB of random data to each and prints the checksums;
     * the second boot mounts them again and must print the same checksums. The read-only
     * disk refuses writes, and qemu-img finds the qcow2 image consistent afterwards.
     */
    @ParameterizedTest
    @EnumSource(VirtioSpec.Transport.class)
    void disksKeepTheirDataAcrossBootsAndTheRngFeedsHwrng(VirtioSpec.Transport t, @TempDir Path dir) throws Exception {
        DiskImages.create(dir.resolve("a.raw"), DiskImages.CreateOptions.raw(DISK));
        DiskImages.create(dir.resolve("b.qcow2"), DiskImages.CreateOptions.qcow2(DISK));
        DiskImages.create(dir.resolve("c.raw"), DiskImages.CreateOptions.raw(DISK));

        GuestBoot first = guest(dir, t, busOf("vda-bus", "/sys/block/vda") + busOf("rng-bus",
                "/sys/bus/virtio/drivers/virtio_rng/") + """
                for d in vda vdb; do
                  echo "$d-sectors: $(cat /sys/block/$d/size)"
                  echo "$d-serial: $(cat /sys/block/$d/serial)"
                  mkfs.ext2 -q /dev/$d && mount -t ext2 /dev/$d /mnt || echo "$d: mount failed"
                  dd if=/dev/urandom of=/mnt/data bs=1k count=2048 2>/dev/null
                  echo "$d-sum: $(sha256sum /mnt/data | cut -d' ' -f1)"
                  umount /mnt
                done
                echo "vda-features: $(cat /sys/block/vda/device/features)"
                echo "vdc-ro: $(cat /sys/block/vdc/ro)"
                dd if=/dev/zero of=/dev/vdc bs=4k count=1 oflag=direct 2>/dev/null; echo "vdc-write: $?"
                echo "rng: $(cat /sys/class/misc/hw_random/rng_current)"
                echo "rng-bytes: $(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | wc -c)"
                sync
                """);
        assertEquals(VirtMachine.Ending.POWEROFF, first.run().ending(), first.tail());
        String c1 = first.console();
        assertEquals(t.name(), field(c1, "vda-bus"), first.tail());
        assertEquals(t.name(), field(c1, "rng-bus"), first.tail());
        assertEquals(Long.toString(DISK / 512), field(c1, "vda-sectors"));
        // The driver's feature bits, bit 0 first: VERSION_1 (32) and RING_PACKED (34) accepted.
        String features = field(c1, "vda-features");
        assertEquals('1', features.charAt(32), features);
        assertEquals('1', features.charAt(34), "the guest runs packed virtqueues: " + features);
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

    /**
     * The root file system on virtio-blk: a first boot (from the reference initramfs) makes
     * an ext2 file system on a blank disk and copies the guest's own busybox, /init and a
     * vmtest script into it. Then the machine boots twice with no initramfs at all,
     * {@code root=/dev/vda}: each boot shows the disk mounted as / and writes a file of
     * random bytes; the second boot reads back the first one's with the same checksum.
     */
    @ParameterizedTest
    @EnumSource(VirtioSpec.Transport.class)
    void bootsWithTheRootFileSystemOnVirtioBlk(VirtioSpec.Transport t, @TempDir Path dir) throws Exception {
        Path disk = dir.resolve("root.raw");
        DiskImages.create(disk, DiskImages.CreateOptions.raw(DISK));
        GuestBoot.DeviceFactory root = () -> new VirtioSpec.Disk(DiskImages.open(disk, false), "root", t);
        GuestBoot install = new GuestBoot().guest(GuestBoot.REFERENCE).device(root).vmtest("""
                mkfs.ext2 -q /dev/vda && mount -t ext2 /dev/vda /mnt || echo "install: mount failed"
                mkdir -p /mnt/bin /mnt/sbin /mnt/usr/bin /mnt/usr/sbin /mnt/dev /mnt/proc /mnt/sys /mnt/tmp /mnt/mnt
                cp /bin/busybox /mnt/bin/ && cp /init /mnt/init
                cat > /mnt/vmtest.sh <<'EOF'
                #!/bin/sh
                echo "root: $(grep ' / ' /proc/mounts | cut -d' ' -f1-3)"
                [ -f /data ] && echo "prev-sum: $(sha256sum /data | cut -d' ' -f1)"
                dd if=/dev/urandom of=/data bs=1k count=512 2>/dev/null
                echo "new-sum: $(sha256sum /data | cut -d' ' -f1)"
                sync
                EOF
                chmod +x /mnt/vmtest.sh
                umount /mnt && echo "install: done"
                """);
        assertEquals(VirtMachine.Ending.POWEROFF, install.run().ending(), install.tail());
        assertEquals("done", field(install.console(), "install"), install.tail());

        String args = "root=/dev/vda rw rootwait init=/init vmtest=/vmtest.sh";
        GuestBoot first = new GuestBoot().guest(GuestBoot.REFERENCE).device(root).rootFrom(args);
        assertEquals(VirtMachine.Ending.POWEROFF, first.run().ending(), first.tail());
        assertEquals("/dev/root / ext2", field(first.console(), "root"), first.tail());
        String sum = field(first.console(), "new-sum");
        assertTrue(sum.matches("[0-9a-f]{64}"), first.tail());

        GuestBoot second = new GuestBoot().guest(GuestBoot.REFERENCE).device(root).rootFrom(args);
        assertEquals(VirtMachine.Ending.POWEROFF, second.run().ending(), second.tail());
        assertEquals(sum, field(second.console(), "prev-sum"), second.tail());
        assertTrue(!second.console().contains("Unpacking initramfs"), "no initramfs in this boot");
    }

    /**
     * virtio-9p: the guest mounts a read-write and a read-only share, reads a host file,
     * writes files whose bytes the host then checks, renames inside the share, cannot read
     * the host's file through a symlink planted in the share (the guest resolves it in its
     * own namespace), and cannot write to the read-only share.
     */
    @ParameterizedTest
    @EnumSource(VirtioSpec.Transport.class)
    void hostDirectoriesAreSharedOver9p(VirtioSpec.Transport t, @TempDir Path dir) throws Exception {
        Path rw = Files.createDirectories(dir.resolve("rw")), ro = Files.createDirectories(dir.resolve("ro"));
        Path secret = Files.writeString(dir.resolve("secret.txt"), "host secret\n");
        Files.writeString(rw.resolve("in.txt"), "hello from the host\n");
        Files.createSymbolicLink(rw.resolve("escape"), secret);
        Files.writeString(ro.resolve("keep.txt"), "read only\n");
        GuestBoot g = new GuestBoot().guest(GuestBoot.REFERENCE).vmtest(busOf("share-bus",
                "/sys/bus/virtio/drivers/9pnet_virtio/") + """
                mkdir -p /rw /ro
                mount -t 9p -o trans=virtio,version=9p2000.L share /rw; echo "mount-rw: $?"
                mount -t 9p -o trans=virtio,version=9p2000.L,ro keep /ro; echo "mount-ro: $?"
                echo "in: $(cat /rw/in.txt)"
                echo "escape: $(cat /rw/escape 2>/dev/null || echo refused)"
                dd if=/dev/urandom of=/rw/big bs=64k count=32 2>/dev/null
                echo "big-sum: $(sha256sum /rw/big | cut -d' ' -f1)"
                mkdir /rw/d && echo moved > /rw/d/a && mv /rw/d/a /rw/d/b
                echo "ro-keep: $(cat /ro/keep.txt)"
                touch /ro/new 2>/dev/null; echo "ro-touch: $?"
                umount /rw; umount /ro
                """)
                .device(() -> new VirtioSpec.Share(rw, "share", false, t))
                .device(() -> new VirtioSpec.Share(ro, "keep", true, t));
        assertEquals(VirtMachine.Ending.POWEROFF, g.run().ending(), g.tail());
        String c = g.console();
        assertEquals(t.name(), field(c, "share-bus"), g.tail());
        assertEquals("0", field(c, "mount-rw"), g.tail());
        assertEquals("0", field(c, "mount-ro"), g.tail());
        assertEquals("hello from the host", field(c, "in"));
        assertEquals("refused", field(c, "escape"));
        assertEquals(sha256(Files.readAllBytes(rw.resolve("big"))), field(c, "big-sum"));
        assertEquals(2L << 20, Files.size(rw.resolve("big")));
        assertEquals("moved\n", Files.readString(rw.resolve("d").resolve("b")));
        assertEquals("read only", field(c, "ro-keep"));
        assertTrue(!field(c, "ro-touch").equals("0"), "the read-only share refused a new file");
        assertTrue(!Files.exists(ro.resolve("new")));
    }

    static String sha256(byte[] data) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(data));
    }
}
