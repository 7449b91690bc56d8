#!/usr/bin/env bash
# Install (once) the Debian packages the real-Cinder harness needs: Cinder and Keystone
# (OpenStack Zed on bookworm), RabbitMQ, the userspace iSCSI target tgtd and the userspace
# initiator tools (libiscsi-bin). Idempotent: when every package is present it does nothing
# (no apt-get update). Package scripts are never allowed to start daemons.
#
#   test/real-cinder/install.sh            # quiet; apt output goes to $RC_APT_LOG
#   CEPH=1 test/real-cinder/install.sh     # also Ceph, for the rbd backend (test/real-ceph/)
#
# Environment: RC_APT_LOG [/tmp/real-cinder-apt.log]; CEPH=1 adds ceph-mon ceph-mgr ceph-osd
# ceph-common python3-rbd python3-rados rbd-nbd (Debian's ceph 16.2).
set -euo pipefail
PKGS=(python3-cinder python3-keystonemiddleware python3-keystone rabbitmq-server tgt libiscsi-bin curl procps)
PY_CHECK='import cinder, keystonemiddleware, keystone'
if [ "${CEPH:-0}" = 1 ]; then
  PKGS+=(ceph-mon ceph-mgr ceph-osd ceph-common python3-rbd python3-rados rbd-nbd)
  PY_CHECK="$PY_CHECK, rados, rbd"
fi
APT_LOG=${RC_APT_LOG:-/tmp/real-cinder-apt.log}
T0=$EPOCHREALTIME
elapsed() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}'; }

[ "$(id -u)" = 0 ] || { echo "real-cinder install: must run as root" >&2; exit 1; }
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "real-cinder: install: all packages present (0.0 s)"
  exit 0
fi
command -v apt-get > /dev/null || { echo "real-cinder install: missing ${missing[*]} and no apt-get" >&2; exit 1; }

# No systemd here, and daemons started by maintainer scripts would listen on 0.0.0.0:
# a policy-rc.d that forbids starting anything, unless the machine already has one.
own_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; own_policy=1
fi
cleanup() { if [ $own_policy = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT
apt_get() {
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    -o Dpkg::Options::=--force-unsafe-io "$@"   # no fsync per file: a throwaway CI box
}
: > "$APT_LOG"
apt_get update -q >> "$APT_LOG" 2>&1 || { tail -20 "$APT_LOG" >&2; echo "real-cinder install: apt-get update failed (log: $APT_LOG)" >&2; exit 1; }
apt_get install -y -q --no-install-recommends "${missing[@]}" >> "$APT_LOG" 2>&1 \
  || { tail -20 "$APT_LOG" >&2; echo "real-cinder install: apt-get install failed (log: $APT_LOG)" >&2; exit 1; }
/usr/bin/python3 -c "$PY_CHECK" 2>> "$APT_LOG" \
  || { echo "real-cinder install: not importable by /usr/bin/python3: $PY_CHECK" >&2; exit 1; }
echo "real-cinder: install: ${#missing[@]} packages ($(elapsed) s, log $APT_LOG)"
