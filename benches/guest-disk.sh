#!/usr/bin/env bash
# In-guest disk throughput with direct I/O (benches/guest/diskbench.c: sequential 1 MiB
# writes and reads, random 4 KiB reads and writes at queue depth 1) on a virtio-blk raw
# image, Rivet next to qemu-system-riscv64 -M virt: same kernel, same initramfs, same
# image file, same run. Prints each run's figures, the medians and the Rivet/QEMU ratios.
#   [TRANSPORT=mmio|pci] [JIT=on|off] benches/guest-disk.sh [RUNS] [SEQ_MIB] [RANDOM_OPS]
# Defaults: 3 runs, 64 MiB, 2000 random operations, mmio, --jit=on, the reference guest
# (../shared/guest/riscv64; KERNEL= and INITRD= override). Needs riscv64-linux-gnu-gcc
# (gcc-riscv64-linux-gnu, with its static libc), cpio and qemu-system-misc.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs=${1:-3}; seq_mib=${2:-64}; ops=${3:-2000}
transport=${TRANSPORT:-mmio}; jit=${JIT:-on}
guest=$root/../shared/guest/riscv64
kernel=${KERNEL:-$guest/Image}; initrd=${INITRD:-$guest/initramfs.cpio.gz}
for tool in riscv64-linux-gnu-gcc cpio qemu-system-riscv64; do
    command -v $tool >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
case $transport in
    mmio) qdev=virtio-blk-device ;;
    pci) qdev=virtio-blk-pci ;;
    *) echo "TRANSPORT must be mmio or pci" >&2; exit 2 ;;
esac
"$root/vmctl" --version >/dev/null   # build once, outside the timed runs

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
riscv64-linux-gnu-gcc -static -O2 -o "$tmp/diskbench" "$root/benches/guest/diskbench.c"
printf '#!/bin/sh\n/diskbench /dev/vda %s %s\n' "$seq_mib" "$ops" > "$tmp/vmtest.sh"
chmod +x "$tmp/vmtest.sh"
(cd "$tmp" && printf 'diskbench\nvmtest.sh\n' | cpio -o -H newc --quiet | gzip > extra.cpio.gz)
cat "$initrd" "$tmp/extra.cpio.gz" > "$tmp/initrd.gz"
append="console=ttyS0 vmtest=/vmtest.sh"
# QEMU 7.2 cannot load a gzip-compressed Image for -kernel: give it a plain one.
qkernel=$kernel
if gzip -t "$kernel" 2>/dev/null; then qkernel=$tmp/Image; gzip -dc "$kernel" > "$qkernel"; fi

keys=(seq-write-MBps seq-read-MBps rand-read-IOPS rand-write-IOPS)
declare -A results=()
# shellcheck source=guest-bench-lib.sh
source "$root/benches/guest-bench-lib.sh"
# Each guest starts from a fresh 256 MiB sparse image.
fresh_image() { rm -f "$tmp/disk.raw"; truncate -s 256M "$tmp/disk.raw"; }

for i in $(seq "$runs"); do
    echo "run $i ($transport, rivet --jit=$jit)"
    fresh_image
    run rivet "$root/vmctl" run --jit="$jit" --kernel "$kernel" --initrd "$tmp/initrd.gz" -m 512M \
        --append "$append" --drive "file=$tmp/disk.raw,format=raw,transport=$transport"
    fresh_image
    run qemu qemu-system-riscv64 -M virt -m 512M -nographic -no-reboot -kernel "$qkernel" \
        -initrd "$tmp/initrd.gz" -append "$append" \
        -drive "file=$tmp/disk.raw,format=raw,if=none,id=d0" -device "$qdev,drive=d0"
done
report
