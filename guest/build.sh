#!/usr/bin/env bash
# Rebuilds Rivet's default RISC-V 64 Linux guest from Debian packages only:
#   Image.gz           Linux 6.12 (Debian linux-source-6.12), lean config, no modules
#   initramfs.cpio.gz  static busybox 1.35 (Debian source package) + riscv64/initramfs/init
#   linux.config       the full resolved kernel configuration (for reference)
#   SHA256SUMS         checksums of the three files above
#
# Kernel config = `make tinyconfig` + riscv64/linux.fragment + `make olddefconfig`; the
# script fails if any line of the fragment did not make it into the final config.
#
# Usage: guest/build.sh [OUTDIR]   (default: guest/riscv64 next to this script)
# Needs root (or sudo) for apt-get. Work tree: $WORK (default /tmp/rivet-guest-build).
# JOBS (default: nproc) sets make's parallelism; it runs under `nice -n 10`.
# Re-running reuses the unpacked sources and object files and rewrites the outputs.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$(realpath -m "${1:-$HERE/riscv64}")
WORK=${WORK:-/tmp/rivet-guest-build}
JOBS=${JOBS:-$(nproc)}
FRAGMENT=$HERE/riscv64/linux.fragment
INIT=$HERE/riscv64/initramfs/init
KVER=6.12
BBVER=1.35.0
export ARCH=riscv CROSS_COMPILE=riscv64-linux-gnu-
# fixed banner (`uname -v`) so rebuilds are reproducible: no user/host/date/build count
export KBUILD_BUILD_USER=rivet KBUILD_BUILD_HOST=rivet KBUILD_BUILD_VERSION=1
MAKE=(nice -n 10 make)
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
log() { printf '\n==> %s\n' "$*"; }

# ---- packages (Debian only)
PKGS=(gcc-riscv64-linux-gnu libc6-dev-riscv64-cross linux-source-$KVER bc bison flex
      libssl-dev libelf-dev cpio dpkg-dev xz-utils bzip2 patch make gcc libc6-dev)
missing=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
mkdir -p "$OUT" "$WORK"

# ---- kernel
log "kernel: linux-source-$KVER"
cd "$WORK"
[ -d linux-source-$KVER ] || tar xf /usr/src/linux-source-$KVER.tar.xz
cd linux-source-$KVER
KBUILD_BUILD_TIMESTAMP=$(date -u -r /usr/src/linux-source-$KVER.tar.xz '+%Y-%m-%d')
export KBUILD_BUILD_TIMESTAMP
"${MAKE[@]}" -s tinyconfig >/dev/null
scripts/kconfig/merge_config.sh -m .config "$FRAGMENT" >/dev/null
"${MAKE[@]}" -s olddefconfig
bad=0
while read -r line; do
  case "$line" in
    CONFIG_*=*) sym=${line%%=*}; want=$line ;;
    "# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}; want= ;;
    *) continue ;;
  esac
  have=$(grep -E "^($sym=|# $sym is not set)" .config || true)
  if [ -n "$want" ]; then [ "$have" = "$want" ] && continue
  else { [ -z "$have" ] || [ "$have" = "# $sym is not set" ]; } && continue; fi
  echo "config: $sym: fragment says '${want:-off}', olddefconfig gave '${have:-unset}'" >&2; bad=1
done < "$FRAGMENT"
[ "$bad" = 0 ] || { echo "linux.fragment does not resolve as written; fix it" >&2; exit 1; }
"${MAKE[@]}" -s -j"$JOBS" Image
kver=$("${MAKE[@]}" -s kernelrelease)

# ---- busybox (Debian source package)
log "busybox $BBVER"
cd "$WORK"
if [ ! -d busybox-$BBVER ]; then
  # enable source packages from the archive the machine already uses
  if ! grep -qs '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources /dev/null \
     && ! grep -qs '^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /dev/null; then
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then   # deb822 (Debian 12 default)
      sed -n '/^Types: deb$/,/^$/p' /etc/apt/sources.list.d/debian.sources | sed 's/^Types: deb$/Types: deb-src/' \
        | $SUDO tee /etc/apt/sources.list.d/rivet-guest-src.sources >/dev/null
    else                                                     # one-line style
      sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list | $SUDO tee /etc/apt/sources.list.d/rivet-guest-src.list >/dev/null
    fi
    $SUDO apt-get update -q
  fi
  apt-get source -q busybox
  [ -d busybox-$BBVER ] || { echo "apt-get source busybox did not give busybox-$BBVER" >&2; exit 1; }
fi
cd busybox-$BBVER
# the version banner's build date: the Debian package's changelog date, not today
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -STimestamp)
export SOURCE_DATE_EPOCH
if [ ! -f .config ] || ! grep -q '^CONFIG_STATIC=y' .config; then
  "${MAKE[@]}" -s defconfig >/dev/null
  # static; drop tc (does not build against current kernel headers)
  sed -i 's/^# CONFIG_STATIC is not set/CONFIG_STATIC=y/; s/^CONFIG_TC=y/# CONFIG_TC is not set/' .config
fi
"${MAKE[@]}" -s -j"$JOBS" CROSS_COMPILE=riscv64-linux-gnu- busybox
riscv64-linux-gnu-strip -o "$WORK/busybox.stripped" busybox

# ---- initramfs: /bin/busybox + /init; applet links are made at boot (busybox --install -s)
log "initramfs"
R="$WORK/rootfs"; rm -rf "$R"; mkdir -p "$R"/{bin,sbin,etc,proc,sys,dev,tmp,root,mnt,usr/bin,usr/sbin}
install -m 0755 "$WORK/busybox.stripped" "$R/bin/busybox"
install -m 0755 "$INIT" "$R/init"
ln -s busybox "$R/bin/sh"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$R/etc/passwd"
printf 'root:x:0:\n' > "$R/etc/group"
chmod 1777 "$R/tmp"
# fixed mtimes and sorted names so that the archive is byte-for-byte reproducible
find "$R" -exec touch -h -d @0 {} +
(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --reproducible --quiet | gzip -9 -n) \
  > "$WORK/initramfs.cpio.gz"

# ---- outputs
log "writing $OUT"
cd "$WORK/linux-source-$KVER"
gzip -9 -n < arch/riscv/boot/Image > "$OUT/Image.gz.tmp" && mv "$OUT/Image.gz.tmp" "$OUT/Image.gz"
cp .config "$OUT/linux.config"
cp "$WORK/initramfs.cpio.gz" "$OUT/initramfs.cpio.gz"
(cd "$OUT" && sha256sum Image.gz initramfs.cpio.gz linux.config > SHA256SUMS)
echo "kernel $kver"
ls -l "$OUT"
cat "$OUT/SHA256SUMS"
