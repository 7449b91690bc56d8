#!/usr/bin/env bash
# Installs, from the distribution (Debian/Ubuntu), the host programs the tests run through the
# Exec seam: mkfs/fsck/resize for ext4, xfs and btrfs, blkid/losetup/blockdev/lsblk/mount, the
# iscsiadm CLI and kmod. Idempotent: installs only what is missing, runs `apt-get update` at most
# once and only when something must be installed, prints nothing when all is present.
set -euo pipefail

# command that proves the package is present -> package name
declare -A WANT=(
  [mkfs.ext4]=e2fsprogs
  [resize2fs]=e2fsprogs
  [mkfs.xfs]=xfsprogs
  [xfs_growfs]=xfsprogs
  [mkfs.btrfs]=btrfs-progs
  [btrfs]=btrfs-progs
  [losetup]=util-linux
  [blkid]=util-linux
  [blockdev]=util-linux
  [lsblk]=util-linux
  [mount]=mount
  [nsenter]=util-linux
  [iscsiadm]=open-iscsi
  [iscsi-inq]=libiscsi-bin
  [modprobe]=kmod
)

have() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ] || [ -x "/usr/bin/$1" ]
}

missing=()
for cmd in "${!WANT[@]}"; do
  pkg=${WANT[$cmd]}
  if ! have "$cmd"; then
    case " ${missing[*]-} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
  fi
done

[ "${#missing[@]}" -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: missing ${missing[*]} and no apt-get on this machine" >&2
  exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else
    echo "install-system-deps: missing ${missing[*]}; run as root to install them" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-system-deps: installing ${missing[*]}" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Output is kept and shown only when a step fails.
if ! { "${SUDO[@]}" apt-get update -qq && \
       "${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
         -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-system-deps: apt-get failed for ${missing[*]}" >&2
  exit 1
fi
