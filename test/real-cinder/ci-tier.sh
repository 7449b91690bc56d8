#!/usr/bin/env bash
# The real-Cinder tier for CI (and for people): bring the harness up, run a command with its
# environment, ALWAYS tear it down, exit with the command's exit code.
#
#   test/real-cinder/ci-tier.sh install                          # install the Debian packages once
#   test/real-cinder/ci-tier.sh noauth   -- npm test              # Cinder alone (noauth)
#   test/real-cinder/ci-tier.sh keystone -- npx vitest run test/real-tier test/contract
#
# The command sees every variable of the harness's env file (see README.md), among them
# REAL_CINDER_ENV=<env file>, CINDER_CONTRACT_TARGET=real, CINDER_URL, CINDER_ENDPOINT, ...
# Teardown (down.sh --purge) runs on success, on failure and on SIGINT/SIGTERM (which are
# forwarded to the command first). Prints one line per phase and a timing summary.
#
# Exit codes: the command's; 2 usage; 3 the harness could not be installed or started.
# Environment: RC_DIR [/tmp/cinder-metal-csi-real-<mode>]; ports default to a block away from
# Cinder's/Keystone's usual ones so a developer's own services and the emulator do not clash:
# CINDER_PORT 28776, KEYSTONE_PORT 25000, RABBIT_PORT 25673, RABBIT_DIST_PORT 25674,
# EPMD_PORT 24369, TGT_PORT 23260, TGT_PORT2 23261 (a second portal, for multipath), TGT_CONTROL 27
# (all overridable). RC_KEEP=1 skips teardown.
#
# CEPH=1: also a real single-node Ceph (test/real-ceph/up.sh, started before Cinder, stopped after
# it on every exit path) and Cinder with --backend file,rbd (volume types tgt-iscsi, rbd,
# rbd-multiattach). The command then also sees the Ceph env file's variables (CEPH_CONF,
# CEPH_MON_PORTS, CEPH_CLIENT_KEYRING, ...) and CINDER_CEPH_ENV=<that file>. CEPH_DIR
# [/tmp/cinder-metal-csi-ceph], MON_PORT 26789, MON_V2_PORT 23300, OSD_PORT_MIN/MAX 26800/26811.
# "install" with CEPH=1 installs the Ceph packages too.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T0=$EPOCHREALTIME
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}'; }
usage() { sed -n '2,/^set -uo/p' "$0" | grep '^#' | cut -c3- >&2; exit 2; }

[ $# -ge 1 ] || usage
MODE=$1; shift
case "$MODE" in
  install) exec "$HERE/install.sh" ;;
  noauth) UP_ARGS=() ;;
  keystone) UP_ARGS=(--keystone) ;;
  -h|--help) sed -n "2,/^set -uo/p" "$0" | grep "^#" | cut -c3-; exit 0 ;;
  *) echo "ci-tier.sh: unknown mode '$MODE' (install, noauth or keystone)" >&2; exit 2 ;;
esac
[ "${1:-}" = -- ] && shift
[ $# -ge 1 ] || { echo "ci-tier.sh: no command given (ci-tier.sh $MODE -- <command...>)" >&2; exit 2; }

export RC_DIR=${RC_DIR:-/tmp/cinder-metal-csi-real-$MODE}
export CINDER_PORT=${CINDER_PORT:-28776}
export KEYSTONE_PORT=${KEYSTONE_PORT:-25000}
export RABBIT_PORT=${RABBIT_PORT:-25673}
export RABBIT_DIST_PORT=${RABBIT_DIST_PORT:-25674}
export EPMD_PORT=${EPMD_PORT:-24369}
export TGT_PORT=${TGT_PORT:-23260}
export TGT_PORT2=${TGT_PORT2:-23261}
export TGT_CONTROL=${TGT_CONTROL:-27}
CEPH=${CEPH:-0}
if [ "$CEPH" = 1 ]; then
  export CEPH_DIR=${CEPH_DIR:-/tmp/cinder-metal-csi-ceph}
  export CEPH_ENV="$CEPH_DIR/env.sh"
  UP_ARGS+=(--backend "file,rbd")
fi

T_INSTALL=0; T_UP=0; T_CMD=0; T_DOWN=0; T_CEPH_UP=0; T_CEPH_DOWN=0
RC=0
CHILD=
TORN_DOWN=0
teardown() {
  [ $TORN_DOWN = 1 ] && return
  TORN_DOWN=1
  if [ "${RC_KEEP:-0}" = 1 ]; then
    echo "real-cinder: RC_KEEP=1: left running; stop it with RC_DIR=$RC_DIR $HERE/down.sh"
    [ "$CEPH" = 1 ] && echo "real-cinder: RC_KEEP=1: and Ceph with CEPH_DIR=$CEPH_DIR $HERE/../real-ceph/down.sh"
    return
  fi
  local t=$EPOCHREALTIME
  "$HERE/down.sh" --purge || echo "real-cinder: teardown reported a problem (see above)" >&2
  T_DOWN=$(since "$t")
  # Ceph after Cinder (cinder-volume holds RADOS connections to it)
  if [ "$CEPH" = 1 ]; then
    t=$EPOCHREALTIME
    "$HERE/../real-ceph/down.sh" --purge || echo "real-cinder: Ceph teardown reported a problem (see above)" >&2
    T_CEPH_DOWN=$(since "$t")
  fi
}
summary() {
  if [ "$CEPH" = 1 ]; then
    printf 'real-cinder: tier %s+ceph: install %s s, ceph up %s s, up %s s, command %s s (exit %s), down %s s, ceph down %s s, total %s s\n' \
      "$MODE" "$T_INSTALL" "$T_CEPH_UP" "$T_UP" "$T_CMD" "$RC" "$T_DOWN" "$T_CEPH_DOWN" "$(since "$T0")"
    return
  fi
  printf 'real-cinder: tier %s: install %s s, up %s s, command %s s (exit %s), down %s s, total %s s\n' \
    "$MODE" "$T_INSTALL" "$T_UP" "$T_CMD" "$RC" "$T_DOWN" "$(since "$T0")"
}
on_exit() { teardown; summary; }
on_signal() { # forward to the command's process group, then tear down
  local sig=$1
  echo "real-cinder: SIG$sig: stopping the command and the harness" >&2
  if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then
    kill -TERM -- "-$CHILD" 2>/dev/null || kill -TERM "$CHILD" 2>/dev/null
    wait "$CHILD" 2>/dev/null
  fi
  RC=$([ "$sig" = INT ] && echo 130 || echo 143)
  exit "$RC"
}
trap on_exit EXIT
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP

# A run killed hard (SIGKILL, machine reboot) can leave processes recorded under RC_DIR.
if [ -s "$RC_DIR/pids" ]; then
  echo "real-cinder: leftovers of an earlier run under $RC_DIR: stopping them first"
  "$HERE/down.sh" --purge > /dev/null || true
fi
if [ "$CEPH" = 1 ] && [ -s "$CEPH_DIR/pids" ]; then
  echo "real-cinder: leftovers of an earlier Ceph under $CEPH_DIR: stopping them first"
  "$HERE/../real-ceph/down.sh" --purge > /dev/null || true
fi

t=$EPOCHREALTIME
"$HERE/install.sh" || { RC=3; echo "real-cinder: the harness packages could not be installed" >&2; exit 3; }
T_INSTALL=$(since "$t")

if [ "$CEPH" = 1 ]; then
  t=$EPOCHREALTIME
  "$HERE/../real-ceph/up.sh" --no-install \
    || { RC=3; T_CEPH_UP=$(since "$t"); echo "real-cinder: Ceph did not start" >&2; exit 3; }
  T_CEPH_UP=$(since "$t")
fi

t=$EPOCHREALTIME
"$HERE/up.sh" --no-install "${UP_ARGS[@]}" || { RC=3; T_UP=$(since "$t"); echo "real-cinder: the harness did not start ($MODE)" >&2; exit 3; }
T_UP=$(since "$t")

ENV_FILE="$RC_DIR/env.sh"
# shellcheck disable=SC1090
set -a; . "$ENV_FILE"; set +a
export REAL_CINDER_ENV="$ENV_FILE"
if [ "$CEPH" = 1 ]; then
  set -a
  # shellcheck disable=SC1090
  . "$CEPH_ENV"
  set +a
fi

echo "real-cinder: running ($MODE): $*"
t=$EPOCHREALTIME
# In its own process group, in the background, so that a signal reaches this script at once
# (and is forwarded) instead of waiting for the command to end.
setsid "$@" &
CHILD=$!
wait "$CHILD"
RC=$?
CHILD=
T_CMD=$(since "$t")
exit "$RC"
