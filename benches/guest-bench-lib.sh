# Shared by benches/guest-disk.sh and benches/guest-net.sh (sourced): runs a guest that
# prints "key: value" lines and gathers the figures named in the caller's `keys` array into
# its associative array `results` (name/key -> values), then reports medians and ratios.

# run NAME CMD...: runs CMD (stdin closed, 900 s at most), prints its figures on one line.
run() {
    local name=$1; shift
    local out
    out=$(timeout 900 "$@" < /dev/null 2>&1) || true
    local line="$name:"
    for k in "${keys[@]}"; do
        local v
        v=$(printf '%s\n' "$out" | tr -d '\r' | sed -n "s/^$k: //p" | head -1)
        [ -n "$v" ] || { printf '%s\n' "$out" | tail -20 >&2; echo "$name: no $k in the output" >&2; exit 1; }
        results[$name/$k]="${results[$name/$k]:-} $v"; line="$line $k=$v"
    done
    echo "$line"
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# report: the median of each figure for rivet and qemu, and their ratio.
report() {
    for k in "${keys[@]}"; do
        local r q
        r=$(echo "${results[rivet/$k]}" | median); q=$(echo "${results[qemu/$k]}" | median)
        echo "median $k: rivet $r, qemu $q, rivet/qemu $(awk -v a="$r" -v b="$q" 'BEGIN {printf "%.2f", a/b}')"
    done
}
