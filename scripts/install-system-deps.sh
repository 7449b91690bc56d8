#!/usr/bin/env bash
# Makes the host ready for the README's two commands: the programs the driver runs through its
# Exec seam on loop devices (mkfs/fsck/resize for ext4, xfs and btrfs; blkid, losetup, blockdev,
# lsblk, mount; the iscsiadm CLI and kmod for the connector tests). `npm run demo` and `npm test`
# run it first.
#
#   scripts/install-system-deps.sh [--for demo|test|ci]
#
# - Everything present: prints nothing, exits 0 (no apt-get update).
# - Something missing, as root (or with passwordless sudo) on Debian/Ubuntu: installs exactly the
#   missing packages (one line says which), exits with apt's status.
# - Something missing and no way to install it: prints ONE line naming the missing packages, the
#   command that installs them and what the caller will skip, and exits 0, so the demo still runs
#   its controller half and the tests that need no root still run. With --for ci it exits 1.
set -euo pipefail

FOR=test
if [ "${1:-}" = --for ]; then FOR=${2:-test}; fi
case "$FOR" in demo|test|ci) ;; *) echo "install-system-deps: --for must be demo, test or ci" >&2; exit 2 ;; esac

# command that proves the package is present -> package name (bookworm; Ubuntu is the same)
declare -A WANT=(
  [mkfs.ext4]=e2fsprogs
  [resize2fs]=e2fsprogs
  [e2fsck]=e2fsprogs
  [mkfs.xfs]=xfsprogs
  [xfs_growfs]=xfsprogs
  [mkfs.btrfs]=btrfs-progs
  [btrfs]=btrfs-progs
  [losetup]=mount
  [mount]=mount
  [umount]=mount
  [blkid]=util-linux
  [blockdev]=util-linux
  [lsblk]=util-linux
  [nsenter]=util-linux
  [iscsiadm]=open-iscsi
  [iscsi-inq]=libiscsi-bin
  [modprobe]=kmod
)

have() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ] || [ -x "/usr/bin/$1" ]
}

missing=()
for cmd in $(printf '%s\n' "${!WANT[@]}" | sort); do
  pkg=${WANT[$cmd]}
  if ! have "$cmd"; then
    case " ${missing[*]-} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
  fi
done

[ "${#missing[@]}" -eq 0 ] && exit 0

skipped() {
  case "$FOR" in
    demo) echo "the demo runs its controller half only" ;;
    test) echo "tests that need them fail naming the missing program" ;;
    ci) echo "CI cannot run" ;;
  esac
}
cannot() { # one line, then carry on (or fail in CI)
  echo "cinder-metal-csi: missing host tools (Debian packages: ${missing[*]}); install them with: sudo apt-get install -y --no-install-recommends ${missing[*]} — $1; $(skipped)" >&2
  [ "$FOR" = ci ] && exit 1
  exit 0
}

command -v apt-get >/dev/null 2>&1 || cannot "this machine has no apt-get"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=(sudo -n); else
    cannot "not root"
  fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "cinder-metal-csi: installing host tools: ${missing[*]}" >&2
log=$(mktemp)
own_policy=0
cleanup() { rm -f "$log"; if [ $own_policy = 1 ]; then "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT
# Package scripts must not start daemons (open-iscsi's iscsid) on a machine that only runs tests.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null && "${SUDO[@]}" chmod +x /usr/sbin/policy-rc.d && own_policy=1
fi
apt_get() {
  "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}
# A fresh machine has no package lists: update only when the install cannot find a package.
# Output is kept and shown only when a step fails.
if ! apt_get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
  if ! { apt_get update -qq && apt_get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    tail -20 "$log" >&2
    cannot "apt-get failed (its last lines are above)"
  fi
fi
