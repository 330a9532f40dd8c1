#!/usr/bin/env bash
# In-guest TCP throughput and connection rate over user-mode networking
# (benches/guest/netbench.c against a small host server on 127.0.0.1, which the guest
# reaches as 10.0.2.2): Rivet's --net user next to qemu-system-riscv64 -netdev user, same
# kernel, same initramfs, same run. Prints each run's figures, medians and Rivet/QEMU ratios.
#   [TRANSPORT=mmio|pci] [JIT=on|off] benches/guest-net.sh [RUNS] [MIB] [CONNS]
# Defaults: 3 runs, 32 MiB each way, 200 connections, mmio, --jit=on, the reference guest
# (../shared/guest/riscv64; KERNEL= and INITRD= override). Needs riscv64-linux-gnu-gcc
# (gcc-riscv64-linux-gnu, with its static libc), cpio, python3 and qemu-system-misc.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs=${1:-3}; mib=${2:-32}; conns=${3:-200}
transport=${TRANSPORT:-mmio}; jit=${JIT:-on}
guest=$root/../shared/guest/riscv64
kernel=${KERNEL:-$guest/Image}; initrd=${INITRD:-$guest/initramfs.cpio.gz}
for tool in riscv64-linux-gnu-gcc cpio python3 qemu-system-riscv64; do
    command -v $tool >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
case $transport in
    mmio) qdev=virtio-net-device ;;
    pci) qdev=virtio-net-pci ;;
    *) echo "TRANSPORT must be mmio or pci" >&2; exit 2 ;;
esac
"$root/vmctl" --version >/dev/null   # build once, outside the timed runs

tmp=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
# The host server: one line per connection, "D n" (send n bytes), "U n" (read n, answer ok), "C" (answer ok).
cat > "$tmp/server.py" <<'PY'
import socket, socketserver, sys
class H(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = s.makefile('rb')
        cmd = f.readline().split()
        if not cmd: return
        if cmd[0] == b'D':
            n = int(cmd[1]); block = b'\xa5' * 65536
            while n > 0:
                k = min(n, len(block)); s.sendall(block[:k]); n -= k
        elif cmd[0] == b'U':
            n = int(cmd[1])
            while n > 0:
                b = f.read1(min(n, 65536))
                if not b: return
                n -= len(b)
            s.sendall(b'ok\n')
        elif cmd[0] == b'C':
            s.sendall(b'ok\n')
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
srv = S(('127.0.0.1', 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
PY
python3 "$tmp/server.py" > "$tmp/port" &
server_pid=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port")

riscv64-linux-gnu-gcc -static -O2 -o "$tmp/netbench" "$root/benches/guest/netbench.c"
cat > "$tmp/vmtest.sh" <<EOF
#!/bin/sh
printf '#!/bin/sh\n[ "\$1" = bound ] && ifconfig \$interface \$ip netmask \$subnet up && route add default gw \$router\nexit 0\n' > /tmp/dhcp.sh
chmod +x /tmp/dhcp.sh
ifconfig eth0 up
udhcpc -i eth0 -n -q -t 5 -s /tmp/dhcp.sh >/dev/null 2>&1
/netbench 10.0.2.2 $port $mib $conns
EOF
chmod +x "$tmp/vmtest.sh"
(cd "$tmp" && printf 'netbench\nvmtest.sh\n' | cpio -o -H newc --quiet | gzip > extra.cpio.gz)
cat "$initrd" "$tmp/extra.cpio.gz" > "$tmp/initrd.gz"
append="console=ttyS0 vmtest=/vmtest.sh"
qkernel=$kernel
if gzip -t "$kernel" 2>/dev/null; then qkernel=$tmp/Image; gzip -dc "$kernel" > "$qkernel"; fi

keys=(download-MBps upload-MBps connections-per-s)
declare -A results=()
# shellcheck source=guest-bench-lib.sh
source "$root/benches/guest-bench-lib.sh"

for i in $(seq "$runs"); do
    echo "run $i ($transport, rivet --jit=$jit)"
    run rivet "$root/vmctl" run --jit="$jit" --kernel "$kernel" --initrd "$tmp/initrd.gz" -m 512M \
        --append "$append" --net "user,transport=$transport"
    run qemu qemu-system-riscv64 -M virt -m 512M -nographic -no-reboot -kernel "$qkernel" \
        -initrd "$tmp/initrd.gz" -append "$append" -netdev user,id=n0 -device "$qdev,netdev=n0"
done
report
