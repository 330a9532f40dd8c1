#!/usr/bin/env bash
# Checks the ./vmctl launcher's JVM AOT cache (see the comment in ./vmctl): the first run
# records, the second builds the cache in the background, the third runs with it; the
# guest's console (stdout) is the program's output alone every time; RIVET_JVM_AOT=off
# leaves no trace; a cache the JVM cannot open is never put in place, and one damaged later
# is dropped; a stale lock does not block the build; the cache lives in
# $XDG_CACHE_HOME/rivet/jvm unless RIVET_JVM_AOT_DIR says otherwise. Needs the jar and the
# guest test programs from a build (./run-tests runs it after Maven).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/java-env.sh"
elf="$root/vm-platform/target/guest/hello.elf"
[ -f "$elf" ] || { echo "test-launcher: $elf missing (build first)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache"
fail() { echo "test-launcher: $*" >&2; exit 1; }
"$root/vmctl" run --bios "$elf" >/dev/null 2>&1
ls "$XDG_CACHE_HOME"/rivet/jvm/vmctl-*.conf.* >/dev/null 2>&1 || fail "no recording in \$XDG_CACHE_HOME/rivet/jvm"
export RIVET_JVM_AOT_DIR="$tmp/jvm"
dir="$RIVET_JVM_AOT_DIR"

run() { # run N: one launch; its stdout must be the program's line alone
    "$root/vmctl" run --bios "$elf" >"$tmp/out$1" 2>"$tmp/err$1" || fail "run $1 exited $?: $(cat "$tmp/err$1")"
    [ "$(cat "$tmp/out$1")" = "hello from rivet" ] || fail "run $1: stdout is not the guest's alone: $(head -3 "$tmp/out$1")"
}

RIVET_JVM_AOT=off "$root/vmctl" run --bios "$elf" >/dev/null
[ ! -e "$dir" ] || fail "RIVET_JVM_AOT=off wrote $dir"

run 1
ls "$dir"/vmctl-*.conf.* >/dev/null 2>&1 || fail "the first run recorded nothing: $(ls -A "$dir" 2>&1)"
run 2
settled() { # the background build is over: no lock, and a cache or a failure mark
    [ -z "$(ls -d "$dir"/*.lock 2>/dev/null)" ] && [ -n "$(ls "$dir"/*.aot "$dir"/*.failed 2>/dev/null)" ]
}
wait_build() {
    for _ in $(seq 240); do settled && return 0; sleep 0.5; done
    fail "the background cache build did not finish in 120 s: $(ls -A "$dir")"
}
wait_build
[ -z "$(ls "$dir"/*.failed 2>/dev/null)" ] || fail "the cache build failed: $(cat "$dir"/*.log)"
aot=$(ls "$dir"/vmctl-*.aot)
[ -z "$(ls "$dir"/vmctl-*.conf.* 2>/dev/null)" ] || fail "the recording was not removed"
run 3
# The JVM opens it (the same options as the launcher's).
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:AOTMode=on -XX:AOTCache="$aot" \
    -jar "$root/vm-platform/target/vmctl.jar" --version >/dev/null 2>&1 || fail "the JVM cannot open $aot"

# A cache cut short after it was put in place: dropped (the JVM says nothing), then recorded
# and built again.
head -c 65536 "$aot" >"$tmp/cut" && cat "$tmp/cut" >"$aot"
run 9
# (A run that records says so on stderr; nothing else may be there.)
[ -z "$(grep -v 'AOTConfiguration recorded' "$tmp/err9")" ] \
    || fail "the JVM complained about a damaged cache: $(head -3 "$tmp/err9")"
[ ! -e "$aot" ] || fail "a damaged cache was kept"
ls "$dir"/vmctl-*.conf.* >/dev/null 2>&1 || fail "no new recording after dropping a damaged cache"
run 10
wait_build
[ -f "$aot" ] || fail "no cache built again after a damaged one: $(ls -A "$dir")"

# A recording the JVM cannot build a cache from: no cache, marked failed, not tried again.
rm -rf "$dir"
mkdir -p "$dir"
run 4
conf=$(ls "$dir"/vmctl-*.conf.*)
head -c 4096 "$conf" >"$conf.cut" && mv -f "$conf.cut" "$conf"
run 5
wait_build
[ -n "$(ls "$dir"/*.failed 2>/dev/null)" ] || fail "a broken recording was not marked failed: $(ls -A "$dir")"
[ -z "$(ls "$dir"/*.aot 2>/dev/null)" ] || fail "a cache was put in place from a broken recording"
run 6
[ -z "$(ls "$dir"/vmctl-*.conf.* 2>/dev/null)" ] || fail "recorded again after a failed build"

# A lock left by a build that was killed long ago does not block the build for good.
rm -rf "$dir"
mkdir -p "$dir"
run 7
lock="$(ls "$dir"/vmctl-*.conf.* | sed 's/\.conf\..*$//').lock"
mkdir "$lock"
touch -d '20 minutes ago' "$lock"
run 8
wait_build
[ -n "$(ls "$dir"/*.aot 2>/dev/null)" ] || fail "a stale lock blocked the build: $(ls -A "$dir")"
echo "test-launcher: ok"
