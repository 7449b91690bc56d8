#!/usr/bin/env bash
# Stop what test/real-ceph/up.sh started, by the PIDs it recorded in $CEPH_DIR/pids (osd, mgr,
# mon, each by PID; never by name). Packages stay installed. Safe to run twice.
#
#   test/real-ceph/down.sh [--purge]     (--purge also removes $CEPH_DIR)
#
# Environment: CEPH_DIR [/tmp/cinder-metal-csi-ceph]
set -uo pipefail
CEPH_DIR=${CEPH_DIR:-/tmp/cinder-metal-csi-ceph}
PURGE=0
[ "${1:-}" = --purge ] && PURGE=1
PIDS="$CEPH_DIR/pids"
T0=$EPOCHREALTIME
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}'; }
purge() {
  if [ $PURGE = 1 ] && [ -e "$CEPH_DIR/.real-ceph" ]; then rm -rf "$CEPH_DIR"; fi
}
if [ ! -s "$PIDS" ]; then
  purge
  echo "real-ceph: down: nothing running under $CEPH_DIR"
  exit 0
fi
# alive PID: exists and is not a zombie (a container's PID 1 may reap late)
alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$st" ] && [ "${st:0:1}" != Z ]; }
wait_gone() { # timeout_s pids...
  local t=$1 p any; shift
  for _ in $(seq 1 $(( t * 20 ))); do
    any=0; for p in "$@"; do alive "$p" && any=1; done
    [ $any = 0 ] && return 0; sleep 0.05
  done
  return 1
}
# Reverse start order (osd, mgr, mon): an OSD whose mon is already gone waits ~5 s for it
# when stopping (all at once: 5 s; in order: 0.5 s). The data is throw-away: a daemon that does
# not exit within 10 s of SIGTERM gets SIGKILL.
# A recorded PID is only signalled while it is still a daemon of this cluster (its command line
# names $CEPH_DIR/ceph.conf), never a process that reused the number.
ours() { tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$CEPH_DIR/ceph.conf"; }
tac "$PIDS" | while read -r _ pid; do
  if ! alive "$pid" || ! ours "$pid"; then continue; fi
  kill -TERM "$pid" 2>/dev/null
  wait_gone 10 "$pid" || { kill -KILL "$pid" 2>/dev/null; wait_gone 5 "$pid"; }
done
left=()
while read -r name pid; do alive "$pid" && ours "$pid" && left+=("$name:$pid"); done < "$PIDS"
mv "$PIDS" "$PIDS.stopped"
purge
if [ ${#left[@]} -gt 0 ]; then
  echo "real-ceph: down: still running: ${left[*]} ($(since "$T0") s)" >&2
  exit 1
fi
echo "real-ceph: down in $(since "$T0") s"
exit 0
