#!/usr/bin/env bash
# CPU-bound bare-metal guest workloads (vm-platform/src/test/guest/c) built at benchmark sizes
# (about 1.5 billion instructions each) and run with `vmctl run --bios X --stats` on the
# interpreter (--jit=off) and on the JIT (--jit=on); best of RUNS runs each. Prints
# instructions, MIPS, JIT/interpreter ratio and, if qemu-system-riscv64 is installed, QEMU's
# wall time for the same ELF (TCG, -M spike -bios none -kernel) for reference; then the same
# for the steady state: the second half of the iterations, timed by the arrival of the
# program's per-iteration console lines (warm-up — HotSpot compiling the interpreter and the
# regions — is over by then on these sizes).
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
# Without the launcher's JVM AOT cache unless asked (RIVET_JVM_AOT=on): its first runs
# record and build it, which would land in some of the timed runs and not others.
export RIVET_JVM_AOT=${RIVET_JVM_AOT:-off}
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

# stamp: each line of stdin prefixed with the wall time it arrived (seconds, microseconds).
stamp() {
    local line
    while IFS= read -r line || [ -n "$line" ]; do
        printf '%s %s\n' "$EPOCHREALTIME" "$line"
    done
}

# second_half FILE: "seconds iterations" the second half of the program's iterations took,
# from the arrival times of its "iter N:" lines (each printed when iteration N ends), or
# "- 0" for a program that prints none (matmul). Warm-up is over by then: this is the
# steady-state speed, the same iterations on every engine.
second_half() {
    awk '$2 == "iter" {t[n++] = $1} END {
        if (n < 4) { print "- 0"; exit }
        h = int(n / 2); printf "%.4f %d\n", t[n - 1] - t[h - 1], n - h
    }' "$1"
}

# min_of A B: the smaller number ("-" when either is "-").
min_of() {
    if [ "$1" = - ] || [ "$2" = - ]; then echo -; return; fi
    awk -v a="$1" -v b="$2" 'BEGIN {print (a < b ? a : b)}'
}

# rivet NAME JIT: best of $runs; prints "instructions seconds half-seconds half-iterations",
# the first two from the line "vmctl: N instructions in T s (X MIPS); ...", which times the
# emulated run only, the last two from second_half.
rivet() {
    local n="" best="" half="" k=0 line i h
    for i in $(seq "$runs"); do
        "$root/vmctl" run --bios "$out/$1.elf" --stats --jit="$2" 2>"$tmp/err" | stamp >"$tmp/stamped" \
            || { echo "$1 --jit=$2: exit status $?" >&2; cat "$tmp/err" >&2; exit 1; }
        cut -d' ' -f2- "$tmp/stamped" >"$tmp/out"
        check_output "$1" "--jit=$2" "$tmp/out"
        line=$(grep -E '^vmctl: [0-9]+ instructions in ' "$tmp/err") \
            || { echo "$1 --jit=$2: no stats line" >&2; cat "$tmp/err" >&2; exit 1; }
        read -r n t < <(sed -E 's/^vmctl: ([0-9]+) instructions in ([0-9.]+) s.*/\1 \2/' <<<"$line")
        if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN {exit !(a < b)}'; then best=$t; fi
        read -r h k < <(second_half "$tmp/stamped")
        half=$(if [ -z "$half" ]; then echo "$h"; else min_of "$h" "$half"; fi)
        echo "  $1 --jit=$2 run $i: $n instructions in $t s; second half of the iterations: $h s" >&2
    done
    echo "$n $best $half $k"
}

# qemu_time NAME: "seconds half-seconds", the best wall time of $runs (includes QEMU's
# start-up, a few tens of ms) and the best second_half time.
qemu_time() {
    local best="" half="" t0 t1 t i h k
    for i in $(seq "$runs"); do
        t0=$(date +%s.%N)
        "$qemu" -M spike -nographic -bios none -monitor none -serial mon:stdio -kernel "$out/$1.elf" \
            </dev/null 2>&1 | stamp >"$tmp/stamped" || { echo "$1 on QEMU: exit status $?" >&2; exit 1; }
        t1=$(date +%s.%N)
        cut -d' ' -f2- "$tmp/stamped" >"$tmp/out"
        check_output "$1" "qemu" "$tmp/out"
        t=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
        if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN {exit !(a < b)}'; then best=$t; fi
        read -r h k < <(second_half "$tmp/stamped")
        half=$(if [ -z "$half" ]; then echo "$h"; else min_of "$h" "$half"; fi)
        echo "  $1 qemu run $i: $t s; second half of the iterations: $h s" >&2
    done
    echo "$best $half"
}

rows=()
for w in "${workloads[@]}"; do
    r=$(rivet "$w" off); read -r n ti hi k <<<"$r"
    r=$(rivet "$w" on); read -r nj tj hj kj <<<"$r"
    [ "$n" = "$nj" ] || { echo "$w: $n instructions on the interpreter, $nj on the JIT" >&2; exit 1; }
    tq=-; hq=-
    if [ -n "$qemu" ]; then read -r tq hq < <(qemu_time "$w"); fi
    rows+=("$(awk -v w="$w" -v it="${iters[$w]}" -v n="$n" -v ti="$ti" -v tj="$tj" -v tq="$tq" \
        -v hi="$hi" -v hj="$hj" -v hq="$hq" -v k="$k" 'BEGIN {
        mi = n / ti / 1e6; mj = n / tj / 1e6
        if (hi == "-" || hj == "-") { sj = "-"; sr = "-" }
        else { sj = sprintf("%.1f", n * k / it / hj / 1e6); sr = sprintf("%.2f", hi / hj) }
        sq = (hq == "-" || hj == "-") ? "-" : sprintf("%.2f", hj / hq)
        printf "%-10s %6d %14d %9.3f %11.1f %9.3f %11.1f %10.2f %8s | %9s %9s %9s", w, it, n, ti, mi, tj, mj, mj / mi, tq, sj, sr, sq
    }')")
done

echo "best of $runs runs; MIPS = instructions / vmctl's emulated run time; qemu s = wall time"
echo "steady: the second half of the program's iterations, timed by their console lines (the same"
echo "  iterations on each engine; jit MIPS there assumes equal iterations; jit/qemu t = time ratio; matmul prints none)"
printf '%-10s %6s %14s %9s %11s %9s %11s %10s %8s | %9s %9s %9s\n' workload iters instructions 'interp s' \
    'interp MIPS' 'jit s' 'jit MIPS' 'jit/interp' 'qemu s' 'jit MIPS' 'jit/interp' 'jit/qemu t'
printf '%s\n' "${rows[@]}"
