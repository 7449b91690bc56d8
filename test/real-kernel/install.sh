#!/usr/bin/env bash
# Installs (once) what the real-kernel node tier needs on the host, from Debian's packages: QEMU
# (software emulation, no KVM needed), a static busybox for the initramfs, and the userspace the
# guest runs (the guest's root file system is this host's /, shared read-only): open-iscsi,
# multipath-tools, udev, nftables (the guest's DNAT to the host's loopback services), socat (QEMU's
# per-connection forwards), the file-system tools, and the Ceph client tools for RBD.
# Idempotent and quiet when everything is there. Package scripts never start daemons.
#
#   test/real-kernel/install.sh
set -euo pipefail
PKGS=(qemu-system-x86 busybox-static cpio kmod udev open-iscsi multipath-tools nftables socat
      e2fsprogs xfsprogs btrfs-progs util-linux mount ceph-common rbd-nbd)
[ "$(id -u)" = 0 ] || { echo "real-kernel install: must run as root" >&2; exit 1; }
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
own_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; own_policy=1
fi
trap '[ $own_policy = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
log=${RK_APT_LOG:-/tmp/real-kernel-apt.log}
apt_get() {
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-unsafe-io "$@"
}
t0=$SECONDS
{ apt_get update -q && apt_get install -y -q --no-install-recommends "${missing[@]}"; } > "$log" 2>&1 \
  || { tail -20 "$log" >&2; echo "real-kernel install: apt-get failed for ${missing[*]} (log $log)" >&2; exit 1; }
echo "real-kernel: installed ${missing[*]} in $((SECONDS - t0)) s"
