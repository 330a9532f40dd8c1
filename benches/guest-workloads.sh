#!/usr/bin/env bash
# CPU-bound bare-metal guest workloads (vm-platform/src/test/guest/c) built at benchmark sizes
# (about 1.5 billion instructions each) and run with `vmctl run --bios X --stats` on the
# interpreter (--jit=off) and on the JIT (--jit=on); best of RUNS runs each. Prints
# instructions, MIPS, JIT/interpreter ratio and, if qemu-system-riscv64 is installed, QEMU's
# wall time for the same ELF (TCG, -M spike -bios none -kernel) for reference.
#   benches/guest-workloads.sh [RUNS] [WORKLOAD...]
#   RUNS=1 benches/guest-workloads.sh strings fpkernel
# Workloads: sort_hash matmul strings fpkernel (default: all four; demo.c is not one: it has
# no size knob and retires only a few million instructions). RUNS defaults to 3.
# Environment: SORT_HASH_ITERS MATMUL_ITERS STRINGS_ITERS FPKERNEL_ITERS (sizes, compile time),
# OUT (build dir, default vm-platform/target/bench-guest), QEMU (binary; QEMU= to skip it).
# Every run's console output must equal the host build's (the program's .expected file).
# Needs riscv64-unknown-elf-gcc + picolibc-riscv64-unknown-elf and host gcc, like the tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs=${RUNS:-3}
if [[ ${1:-} =~ ^[0-9]+$ ]]; then runs=$1; shift; fi
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(sort_hash matmul strings fpkernel)
out=${OUT:-$root/vm-platform/target/bench-guest}
qemu=${QEMU-qemu-system-riscv64}

# Iterations per workload: one iteration retires about 62 M (sort_hash), 1.9 M (matmul),
# 18 M (strings) and 27 M (fpkernel) instructions.
declare -A iters=(
    [sort_hash]=${SORT_HASH_ITERS:-25}
    [matmul]=${MATMUL_ITERS:-800}
    [strings]=${STRINGS_ITERS:-85}
    [fpkernel]=${FPKERNEL_ITERS:-55}
)
for w in "${workloads[@]}"; do
    [ -n "${iters[$w]:-}" ] || { echo "unknown workload '$w' (sort_hash matmul strings fpkernel)" >&2; exit 1; }
done

# The sizes are compile-time constants and make does not see a changed -DITERS: drop the
# programs built with other sizes (the runtime objects in $out/obj do not depend on them).
sizes="sort_hash=${iters[sort_hash]} matmul=${iters[matmul]} strings=${iters[strings]} fpkernel=${iters[fpkernel]}"
mkdir -p "$out"
if [ "$(cat "$out/sizes" 2>/dev/null)" != "$sizes" ]; then
    for w in sort_hash matmul strings fpkernel; do rm -f "$out/$w.elf" "$out/${w}_host" "$out/$w.expected"; done
fi
targets=()
for w in "${workloads[@]}"; do targets+=("$out/$w.elf" "$out/$w.expected"); done
make -s -j2 -C "$root/vm-platform/src/test/guest" OUT="$out" SORT_HASH_ITERS="${iters[sort_hash]}" \
    MATMUL_ITERS="${iters[matmul]}" STRINGS_ITERS="${iters[strings]}" FPKERNEL_ITERS="${iters[fpkernel]}" \
    "${targets[@]}"
echo "$sizes" > "$out/sizes"
"$root/vmctl" --version >/dev/null   # build once, outside the timed runs
if [ -n "$qemu" ] && ! command -v "$qemu" >/dev/null; then
    echo "($qemu not found: no QEMU column)" >&2
    qemu=""
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# check_output NAME WHAT FILE: the console output must be the host build's, byte for byte.
check_output() {
    if ! cmp -s "$3" "$out/$1.expected"; then
        echo "$1 ($2): output differs from the host build:" >&2
        diff "$3" "$out/$1.expected" | head -5 >&2
        exit 1
    fi
}

# rivet NAME JIT: best of $runs; prints "instructions seconds" from the line
# "vmctl: N instructions in T s (X MIPS); ...", which times the emulated run only.
rivet() {
    local n="" best="" line i
    for i in $(seq "$runs"); do
        "$root/vmctl" run --bios "$out/$1.elf" --stats --jit="$2" >"$tmp/out" 2>"$tmp/err" \
            || { echo "$1 --jit=$2: exit status $?" >&2; cat "$tmp/err" >&2; exit 1; }
        check_output "$1" "--jit=$2" "$tmp/out"
        line=$(grep -E '^vmctl: [0-9]+ instructions in ' "$tmp/err") \
            || { echo "$1 --jit=$2: no stats line" >&2; cat "$tmp/err" >&2; exit 1; }
        read -r n t < <(sed -E 's/^vmctl: ([0-9]+) instructions in ([0-9.]+) s.*/\1 \2/' <<<"$line")
        if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN {exit !(a < b)}'; then best=$t; fi
        echo "  $1 --jit=$2 run $i: $n instructions in $t s" >&2
    done
    echo "$n $best"
}

# qemu_time NAME: best wall time of $runs (includes QEMU's start-up, a few tens of ms).
qemu_time() {
    local best="" t0 t1 t i
    for i in $(seq "$runs"); do
        t0=$(date +%s.%N)
        "$qemu" -M spike -nographic -bios none -monitor none -serial mon:stdio -kernel "$out/$1.elf" \
            </dev/null >"$tmp/out" 2>&1 || { echo "$1 on QEMU: exit status $?" >&2; exit 1; }
        t1=$(date +%s.%N)
        check_output "$1" "qemu" "$tmp/out"
        t=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
        if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN {exit !(a < b)}'; then best=$t; fi
        echo "  $1 qemu run $i: $t s" >&2
    done
    echo "$best"
}

rows=()
for w in "${workloads[@]}"; do
    r=$(rivet "$w" off); read -r n ti <<<"$r"
    r=$(rivet "$w" on); read -r nj tj <<<"$r"
    [ "$n" = "$nj" ] || { echo "$w: $n instructions on the interpreter, $nj on the JIT" >&2; exit 1; }
    tq=-
    if [ -n "$qemu" ]; then tq=$(qemu_time "$w"); fi
    rows+=("$(awk -v w="$w" -v it="${iters[$w]}" -v n="$n" -v ti="$ti" -v tj="$tj" -v tq="$tq" 'BEGIN {
        mi = n / ti / 1e6; mj = n / tj / 1e6
        printf "%-10s %6d %14d %9.3f %11.1f %9.3f %11.1f %10.2f %8s", w, it, n, ti, mi, tj, mj, mj / mi, tq
    }')")
done

echo "best of $runs runs; MIPS = instructions / vmctl's emulated run time; qemu s = wall time"
printf '%-10s %6s %14s %9s %11s %9s %11s %10s %8s\n' workload iters instructions 'interp s' 'interp MIPS' \
    'jit s' 'jit MIPS' 'jit/interp' 'qemu s'
printf '%s\n' "${rows[@]}"
