#!/usr/bin/env bash
# Boots the real-kernel tier's guest under QEMU software emulation (TCG; no KVM needed) and runs
# a script in it; exits with the script's exit code.
#
#   test/real-kernel/run-guest.sh --share DIR --run SCRIPT [--disk FILE] [--fwd PORT]...
#                                 [--hostfwd HOSTPORT=GUESTPORT]... [--name NAME]
#
#   --share DIR       read-write 9p share, /vmrun in the guest: env (sourced), rc, console.log
#   --run SCRIPT      absolute host path of the script to run (the host's / is the guest's /)
#   --disk FILE       a raw image attached as virtio-blk (/dev/vda): state that survives a reboot
#   --fwd PORT        guest 10.0.2.100:PORT -> host 127.0.0.1:PORT, one socat per connection
#   --hostfwd H=G     host 127.0.0.1:H -> guest port G
# QEMU's user network is restricted: the guest reaches only the forwarded loopback ports; no
# traffic leaves this machine. Environment: CMC_GUEST_CACHE, CMC_GUEST_MEM (1536), CMC_GUEST_SMP
# (2), CMC_GUEST_TIMEOUT (1800 s). Exit codes: the script's; 120/121 guest init failed; 124
# timeout; 125 the guest died without reporting; 2 usage or a missing build.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${CMC_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cinder-metal-csi/guest}
SHARE= RUN= DISK= NAME=cmc-guest
FWDS=() HOSTFWDS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --share) SHARE=$2; shift 2 ;;
    --run) RUN=$2; shift 2 ;;
    --disk) DISK=$2; shift 2 ;;
    --fwd) FWDS+=("$2"); shift 2 ;;
    --hostfwd) HOSTFWDS+=("$2"); shift 2 ;;
    --name) NAME=$2; shift 2 ;;
    *) echo "run-guest: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$SHARE" ] && [ -d "$SHARE" ] && [ -n "$RUN" ] || { echo "run-guest: --share DIR and --run SCRIPT are required" >&2; exit 2; }
[ -f "$CACHE/guest.env" ] && [ -f "$CACHE/initrd.img" ] || { echo "run-guest: no guest in $CACHE (run build-guest.sh)" >&2; exit 2; }
command -v socat >/dev/null && command -v qemu-system-x86_64 >/dev/null || { echo "run-guest: socat or qemu-system-x86_64 missing (run install.sh)" >&2; exit 2; }
. "$CACHE/guest.env"
rm -f "$SHARE/rc"
NET="user,id=n0,restrict=on,net=10.0.2.0/24,host=10.0.2.2"
for p in "${FWDS[@]}"; do NET+=",guestfwd=tcp:10.0.2.100:$p-cmd:socat STDIO TCP:127.0.0.1:$p"; done
for f in "${HOSTFWDS[@]}"; do NET+=",hostfwd=tcp:127.0.0.1:${f%%=*}-:${f#*=}"; done
QEMU=(qemu-system-x86_64 -accel tcg -cpu max -smp "${CMC_GUEST_SMP:-2}" -m "${CMC_GUEST_MEM:-1536}"
  -nodefaults -no-user-config -display none -no-reboot -serial stdio -monitor none
  -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initrd.img"
  -append "console=ttyS0 quiet loglevel=4 panic=-1 cmc.kmod=$KMODDIR cmc.run=$RUN cmc.hostname=$NAME"
  -fsdev local,id=fsroot,path=/,security_model=none,readonly=on,multidevs=remap
  -device virtio-9p-pci,fsdev=fsroot,mount_tag=hostroot
  -fsdev local,id=fsshare,path="$SHARE",security_model=none,multidevs=remap
  -device virtio-9p-pci,fsdev=fsshare,mount_tag=share
  -netdev "$NET" -device virtio-net-pci,netdev=n0 -device virtio-rng-pci)
[ -n "$DISK" ] && QEMU+=(-drive "file=$DISK,format=raw,if=virtio,cache=unsafe")
set +e
timeout -k 5 "${CMC_GUEST_TIMEOUT:-1800}" "${QEMU[@]}" < /dev/null 2>&1 | sed -u 's/\r$//' > "$SHARE/console.log"
qrc=${PIPESTATUS[0]}
set -e
if [ -f "$SHARE/rc" ]; then exit "$(cat "$SHARE/rc")"; fi
[ "$qrc" = 124 ] || [ "$qrc" = 137 ] && { echo "run-guest: timed out" >&2; exit 124; }
rc=$(sed -n 's/^CMC-GUEST-EXIT=\([0-9]*\).*/\1/p' "$SHARE/console.log" | tail -1)
exit "${rc:-125}"
