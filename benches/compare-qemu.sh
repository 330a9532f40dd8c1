#!/usr/bin/env bash
# Boot time to "guest: ready", Rivet next to qemu-system-riscv64 -M virt, same kernel, same
# initramfs, same machine, same run. Prints per-run times, medians and the ratios.
#   [JIT_MODES="off on"] benches/compare-qemu.sh [RUNS] [KERNEL] [INITRD]
# Defaults: 5 runs of the bundled guest (guest/riscv64), Rivet once per --jit mode in
# JIT_MODES. Needs qemu-system-misc. The launcher's JVM AOT cache (README, "The code
# cache") is recorded and built on two untimed boots first; RIVET_JVM_AOT=off measures
# without it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs=${1:-5}
kernel=${2:-$root/guest/riscv64/Image.gz}
initrd=${3:-$root/guest/riscv64/initramfs.cpio.gz}
command -v qemu-system-riscv64 >/dev/null || { echo "needs qemu-system-riscv64 (apt-get install qemu-system-misc)" >&2; exit 1; }
"$root/vmctl" --version >/dev/null   # build once, outside the timed runs

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# QEMU 7.2 cannot load a gzip-compressed Image for -kernel: give it the plain one.
qkernel=$kernel
if gzip -t "$kernel" 2>/dev/null; then
    qkernel="$work/Image"; gzip -dc "$kernel" > "$qkernel"
fi

# time_to_ready CMD...: seconds from start until the console prints "guest: ready".
time_to_ready() {
    python3 - "$@" <<'PY'
import subprocess, sys, time
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
buf = b""
while True:
    b = p.stdout.read1(4096)
    if not b:
        print("nan"); sys.exit(1)
    buf += b
    if b"guest: ready" in buf:
        print(f"{time.monotonic() - t0:.3f}")
        break
# SIGTERM: the JVM exits as it would on Ctrl-C (a recording run writes its recording).
p.terminate()
try:
    p.wait(timeout=30)
except subprocess.TimeoutExpired:
    p.kill(); p.wait()
PY
}

if [ "${RIVET_JVM_AOT:-on}" != off ]; then
    # A cache of this run's own, so that every run starts from the same state.
    export RIVET_JVM_AOT_DIR="$work/jvm"
    for _ in 1 2; do
        time_to_ready "$root/vmctl" run --kernel "$kernel" --initrd "$initrd" -m 512M --append console=ttyS0 >/dev/null
    done
    for _ in $(seq 240); do [ -z "$(ls -d "$RIVET_JVM_AOT_DIR"/*.lock 2>/dev/null)" ] && break; sleep 0.5; done
fi
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

modes=(${JIT_MODES:-off on})
declare -A rivet=(); qemu=()
for i in $(seq "$runs"); do
    line="run $i:"
    for m in "${modes[@]}"; do
        r=$(time_to_ready "$root/vmctl" run --jit="$m" --kernel "$kernel" --initrd "$initrd" -m 512M --append console=ttyS0)
        rivet[$m]="${rivet[$m]:-} $r"; line="$line rivet(jit=$m) ${r}s"
    done
    q=$(time_to_ready qemu-system-riscv64 -M virt -m 512M -nographic -no-reboot -kernel "$qkernel" \
        -initrd "$initrd" -append console=ttyS0)
    echo "$line qemu ${q}s"
    qemu+=("$q")
done
qm=$(printf '%s\n' "${qemu[@]}" | median)
echo "median: qemu ${qm}s"
for m in "${modes[@]}"; do
    rm_=$(printf '%s\n' ${rivet[$m]} | median)
    echo "median: rivet jit=$m ${rm_}s, ratio rivet/qemu $(awk -v a="$rm_" -v b="$qm" 'BEGIN {printf "%.2f", a/b}')"
done
