#!/usr/bin/env bash
# Stop what test/real-cinder/up.sh started, by the PIDs it recorded in $RC_DIR/pids (and their
# descendants, each by PID; never by name). Packages stay installed. Safe to run twice.
#
#   test/real-cinder/down.sh [--purge]     (--purge also removes $RC_DIR)
#
# Environment: RC_DIR [/tmp/real-cinder], RC_VERBOSE=1 prints one line per service.
set -uo pipefail
RC_DIR=${RC_DIR:-/tmp/real-cinder}
PURGE=0
[ "${1:-}" = --purge ] && PURGE=1
PIDS="$RC_DIR/pids"
T0=$EPOCHREALTIME
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}'; }
vlog() { [ "${RC_VERBOSE:-0}" = 1 ] && echo "real-cinder:   $*" || true; }
purge() {
  if [ $PURGE = 1 ] && [ -e "$RC_DIR/.real-cinder" ]; then rm -rf "$RC_DIR"; vlog "removed $RC_DIR"; fi
}
if [ ! -s "$PIDS" ]; then
  purge
  echo "real-cinder: down: nothing running under $RC_DIR"
  exit 0
fi

descendants() { # pid -> all descendant pids, deepest first
  local c
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do descendants "$c"; echo "$c"; done
}
# alive PID: exists and is not a zombie (a container's PID 1 may never reap what we stopped)
alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$st" ] && [ "${st:0:1}" != Z ]; }
wait_gone() { # timeout_s pids...
  local t=$1 i p any; shift
  for i in $(seq 1 $(( t * 10 ))); do
    any=0; for p in "$@"; do alive "$p" && any=1; done
    [ $any = 0 ] && return 0; sleep 0.1
  done
  return 1
}
stop() { # name pid
  local name=$1 pid=$2 kids t0=$EPOCHREALTIME k
  alive "$pid" || { vlog "$name ($pid): not running"; return; }
  kids=$(descendants "$pid")
  case "$name" in
    tgtd)  # tgtd ignores SIGTERM; ask it to shut down over its control channel (refused while
           # targets exist: then it is killed, its state lives in memory only)
      tgtadm -C "$(cat "$RC_DIR/tgt/control" 2>/dev/null || echo 0)" --op delete --mode system > /dev/null 2>&1
      wait_gone 2 "$pid" || kill -KILL "$pid" 2>/dev/null ;;
    rabbitmq)  # the recorded pid is the sh wrapper; stop the Erlang VM first
      local beam; beam=$(cat "$RC_DIR/rabbit/rabbit.pid" 2>/dev/null || true)
      if [ -n "$beam" ] && alive "$beam"; then kill -TERM "$beam"; wait_gone 20 "$beam"; fi ;;
  esac
  alive "$pid" && kill -TERM "$pid" 2>/dev/null
  if ! wait_gone 15 "$pid"; then kill -KILL "$pid" 2>/dev/null; fi
  for k in $kids; do alive "$k" && kill -TERM "$k" 2>/dev/null; done
  # shellcheck disable=SC2086
  wait_gone 5 $kids || for k in $kids; do alive "$k" && kill -KILL "$k" 2>/dev/null; done
  vlog "$name ($pid) stopped ($(since "$t0") s)"
}

# 1) the OpenStack services together (each takes a few seconds to shut down gracefully)
api_pids=(); api_kids=()
while read -r name pid; do
  case "$name" in cinder-*|keystone)
    if alive "$pid"; then
      # shellcheck disable=SC2207
      api_pids+=("$pid"); api_kids+=($(descendants "$pid")); kill -TERM "$pid"
    fi ;;
  esac
done < "$PIDS"
if [ ${#api_pids[@]} -gt 0 ]; then
  t0=$EPOCHREALTIME
  wait_gone 20 "${api_pids[@]}" || for p in "${api_pids[@]}"; do alive "$p" && kill -KILL "$p"; done
  for k in "${api_kids[@]}"; do alive "$k" && kill -TERM "$k" 2>/dev/null; done
  wait_gone 5 "${api_kids[@]}" || for k in "${api_kids[@]}"; do alive "$k" && kill -KILL "$k" 2>/dev/null; done
  vlog "cinder/keystone (${api_pids[*]}) stopped ($(since "$t0") s)"
fi
# 2) then tgtd, rabbitmq, epmd in reverse start order
tac "$PIDS" | while read -r name pid; do
  case "$name" in cinder-*|keystone) ;; *) stop "$name" "$pid" < /dev/null ;; esac
done
left=()
# shellcheck disable=SC2046
wait_gone 3 $(awk '{print $2}' "$PIDS") || true
while read -r name pid; do alive "$pid" && left+=("$name:$pid"); done < "$PIDS"
mv "$PIDS" "$PIDS.stopped"
purge
if [ ${#left[@]} -gt 0 ]; then
  echo "real-cinder: down: still running: ${left[*]} ($(since "$T0") s)" >&2
  exit 1
fi
echo "real-cinder: down in $(since "$T0") s"
exit 0
