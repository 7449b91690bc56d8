#!/usr/bin/env bash
# Bring up a throw-away, single-node, REAL Ceph cluster (Debian bookworm's ceph 16.2 "pacific")
# on 127.0.0.1 without systemd, for cinder-metal-csi's real-Cinder tier (Cinder's RBD driver):
# one mon, one mgr, one OSD (memstore: in RAM), a pool "volumes" initialised for RBD and a
# client key "client.cinder" (profile rbd). Stop it with down.sh. Root is required.
#
#   test/real-ceph/up.sh [--no-install] [--no-wait-health]
#
# Environment (all optional; the ports are a block away from Ceph's defaults so that a
# developer's own cluster does not clash):
#   CEPH_DIR          state dir (conf, keyrings, mon/mgr/osd data, logs, sockets, env.sh)
#                                                                   [/tmp/cinder-metal-csi-ceph]
#   MON_PORT          mon msgr v1 port                                              [26789]
#   MON_V2_PORT       mon msgr v2 port                                              [23300]
#   OSD_PORT_MIN/MAX  port range the mgr (2 ports) and the OSD (8 ports) bind in    [26800/26811]
#                     (kept small: a QEMU guest needs one forward per port; >= 10 ports)
#   OSD_SIZE_GB       size the memstore OSD reports (RAM is used only for data written) [20]
#   POOL              RBD pool                                                      [volumes]
#   PG_NUM            placement groups of the pool                                  [8]
#   CEPH_CLIENT       RBD client name (client.<name>)                               [cinder]
#   CEPH_KEEP_ON_FAIL=1  leave what was started running when start-up fails
#
# Writes $CEPH_DIR/env.sh (mode 0600): CEPH_CONF, CEPH_KEYRING, CEPH_ARGS, CEPH_MON_HOST,
# CEPH_MON_PORTS, CEPH_CLIENT_KEYRING, CEPH_CLIENT_KEY, ... (see README.md).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
INSTALL=1
WAIT_HEALTH=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) INSTALL=0 ;;
    --no-wait-health) WAIT_HEALTH=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | cut -c3-; exit 0 ;;
    *) echo "real-ceph/up.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "real-ceph/up.sh: must run as root" >&2; exit 1; }

CEPH_DIR=${CEPH_DIR:-/tmp/cinder-metal-csi-ceph}
MON_PORT=${MON_PORT:-26789}
MON_V2_PORT=${MON_V2_PORT:-23300}
OSD_PORT_MIN=${OSD_PORT_MIN:-26800}
OSD_PORT_MAX=${OSD_PORT_MAX:-26811}
OSD_SIZE_GB=${OSD_SIZE_GB:-20}
POOL=${POOL:-volumes}
PG_NUM=${PG_NUM:-8}
CEPH_CLIENT=${CEPH_CLIENT:-cinder}
OBJECTSTORE=memstore
HOST=127.0.0.1
PY=/usr/bin/python3
T0=$EPOCHREALTIME
# librados reads these from the environment, and so do the daemons: a sourced env.sh
# (CEPH_KEYRING = client keys) would make mgr/osd authenticate with the wrong key
unset CEPH_KEYRING CEPH_ARGS CEPH_CONF

since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}'; }
log() { printf 'real-ceph: [%5s s] %s\n' "$(since "$T0")" "$*"; }
die() {
  echo "real-ceph/up.sh: $1" >&2
  if [ -n "${2:-}" ] && [ -f "$2" ]; then echo "--- last lines of $2:" >&2; tail -15 "$2" >&2; fi
  exit 1
}
port_busy() { (echo > "/dev/tcp/$HOST/$1") 2>/dev/null; }
wait_port() { # port timeout_s name logfile
  for _ in $(seq 1 $(( $2 * 20 ))); do port_busy "$1" && return 0; sleep 0.05; done
  die "$3 did not open $HOST:$1 within $2 s" "${4:-}"
}
# start NAME CMD...: run in its own session, remember the PID (setsid does not fork here: a
# background job is no process group leader, so $! is the daemon itself)
start() {
  local name=$1; shift
  setsid "$@" > "$CEPH_DIR/log/$name.stdout" 2>&1 < /dev/null &
  echo "$name $!" >> "$CEPH_DIR/pids"
}

# ---------------------------------------------------------------- packages
PKGS=(ceph-mon ceph-mgr ceph-osd ceph-common python3-rbd python3-rados rbd-nbd)
if [ "$INSTALL" = 1 ]; then
  missing=()
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    APT_LOG=${CEPH_APT_LOG:-/tmp/real-ceph-apt.log}
    # Never let package scripts start daemons (no systemd here; they would use /etc/ceph and
    # listen on all addresses): a policy-rc.d unless the machine already has one.
    own_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; own_policy=1
    fi
    apt_get() {
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        -o Dpkg::Options::=--force-unsafe-io "$@"
    }
    rc=0
    { apt_get update -q && apt_get install -y -q --no-install-recommends "${missing[@]}"; } > "$APT_LOG" 2>&1 || rc=$?
    if [ $own_policy = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
    [ $rc = 0 ] || die "apt-get failed" "$APT_LOG"
    log "packages installed"
  fi
fi
for b in ceph-mon ceph-mgr ceph-osd ceph-authtool monmaptool ceph rbd; do
  command -v $b > /dev/null || die "$b missing (install ${PKGS[*]}, or CEPH=1 test/real-cinder/install.sh)"
done

# ---------------------------------------------------------------- checks, layout
[ "$OSD_PORT_MAX" -ge $(( OSD_PORT_MIN + 9 )) ] \
  || die "OSD_PORT_MIN..OSD_PORT_MAX must hold at least 10 ports (mgr 2, OSD 8)"
if [ -s "$CEPH_DIR/pids" ]; then
  die "$CEPH_DIR/pids exists: already up? run CEPH_DIR=$CEPH_DIR $HERE/down.sh first (or use another CEPH_DIR)"
fi
for p in "$MON_PORT" "$MON_V2_PORT" $(seq "$OSD_PORT_MIN" "$OSD_PORT_MAX"); do
  port_busy "$p" && die "port $HOST:$p is already in use (override MON_PORT, MON_V2_PORT, OSD_PORT_MIN/MAX)"
done
if [ -e "$CEPH_DIR" ] && [ -n "$(ls -A "$CEPH_DIR" 2>/dev/null)" ] && [ ! -e "$CEPH_DIR/.real-ceph" ]; then
  die "$CEPH_DIR exists and was not made by up.sh; refusing to wipe it (set CEPH_DIR)"
fi
rm -rf "$CEPH_DIR"
mkdir -p "$CEPH_DIR"/{mon,mgr/ceph-x,osd/ceph-0,run,log,crash}
: > "$CEPH_DIR/pids"
: > "$CEPH_DIR/.real-ceph"
chmod 700 "$CEPH_DIR"
# From here on, a failure stops whatever was started.
on_exit() {
  local rc=$?
  if [ $rc -ne 0 ] && [ "${CEPH_KEEP_ON_FAIL:-0}" != 1 ]; then
    echo "real-ceph/up.sh: start-up failed; stopping what was started (CEPH_KEEP_ON_FAIL=1 keeps it; logs in $CEPH_DIR/log)" >&2
    CEPH_DIR=$CEPH_DIR "$HERE/down.sh" > /dev/null 2>&1 || true
  fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

FSID=$(cat /proc/sys/kernel/random/uuid)
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
MON_ADDRV="[v2:$HOST:$MON_V2_PORT,v1:$HOST:$MON_PORT]"
CONF="$CEPH_DIR/ceph.conf"
D=$CEPH_DIR

# ---------------------------------------------------------------- ceph.conf
cat > "$CONF" <<EOF
# generated by test/real-ceph/up.sh: single node, everything on $HOST, nothing under /etc, /var
[global]
fsid = $FSID
mon host = $MON_ADDRV
mon initial members = a
public addr = $HOST
cluster addr = $HOST
ms bind ipv6 = false
# the mgr and the OSD bind here (mgr: v2+v1; OSD: public, cluster, heartbeat front and back,
# each v2+v1): 10 ports. A guest reaching this cluster needs a forward for each.
ms bind port min = $OSD_PORT_MIN
ms bind port max = $OSD_PORT_MAX
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
run dir = $D/run
crash dir = $D/crash
# one OSD: no replication, no host-level failure domain
osd pool default size = 1
osd pool default min size = 1
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
# the disk holding $D may be fuller than 70 %: no MON_DISK_LOW
mon data avail warn = 1
mon data avail crit = 0

[mon]
mon data = $D/mon/\$cluster-\$id
mon cluster log file = $D/log/\$cluster.\$channel.log
log file = $D/log/\$cluster-\$name.log
pid file = $D/run/\$cluster-\$name.pid
# commit map changes after 50 ms instead of 1 s: OSD boot, pool create and "rbd pool init"
# each wait for a paxos round (rbd pool init 3 s -> 0.35 s)
paxos propose interval = 0.05
paxos min wait = 0.01

[mgr]
mgr data = $D/mgr/\$cluster-\$id
# load only the always-on modules (rbd_support, pg_autoscaler, ...): RSS 320 -> 160 MB.
# Disabling always-on ones too turns health into HEALTH_ERR MGR_MODULE_ERROR.
mgr disabled modules = diskprediction_local,alerts,influx,insights,iostat,localpool,mirroring,nfs,osd_perf_query,osd_support,prometheus,restful,selftest,snap_schedule,stats,telegraf,test_orchestrator,zabbix
log file = $D/log/\$cluster-\$name.log
pid file = $D/run/\$cluster-\$name.pid

[osd]
osd data = $D/osd/\$cluster-\$id
log file = $D/log/\$cluster-\$name.log
pid file = $D/run/\$cluster-\$name.pid
osd objectstore = $OBJECTSTORE
# RAM only; the size is what the OSD reports (memory is used only for data written)
memstore device bytes = $(( OSD_SIZE_GB * 1024 * 1024 * 1024 ))

[client]
keyring = $D/\$cluster.\$name.keyring
EOF

# ---------------------------------------------------------------- keys
at() { ceph-authtool "$@" > /dev/null; }
at --create-keyring "$D/mon.keyring" --gen-key -n mon. --cap mon 'allow *'
at --create-keyring "$D/ceph.client.admin.keyring" --gen-key -n client.admin \
   --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *'
at --create-keyring "$D/mgr/ceph-x/keyring" --gen-key -n mgr.x \
   --cap mon 'allow profile mgr' --cap osd 'allow *' --cap mds 'allow *'
at --create-keyring "$D/osd/ceph-0/keyring" --gen-key -n osd.0 \
   --cap mon 'allow profile osd' --cap mgr 'allow profile osd' --cap osd 'allow *'
at --create-keyring "$D/ceph.client.$CEPH_CLIENT.keyring" --gen-key -n "client.$CEPH_CLIENT" \
   --cap mon 'profile rbd' --cap osd "profile rbd pool=$POOL" --cap mgr "profile rbd pool=$POOL"
# every key goes into the mon's keyring before mkfs: no "ceph auth add" round trips later
for k in "$D/ceph.client.admin.keyring" "$D/mgr/ceph-x/keyring" "$D/osd/ceph-0/keyring" \
         "$D/ceph.client.$CEPH_CLIENT.keyring"; do
  at "$D/mon.keyring" --import-keyring "$k"
done
# admin + client keys in one file too: librados reads $CEPH_KEYRING, so env.sh points it here
cat "$D/ceph.client.admin.keyring" "$D/ceph.client.$CEPH_CLIENT.keyring" > "$D/ceph.keyring"
# the bare base64 key (rbd map --keyfile, the kernel's secret=)
( umask 077; ceph-authtool -p -n "client.$CEPH_CLIENT" "$D/ceph.client.$CEPH_CLIENT.keyring" > "$D/client.$CEPH_CLIENT.key" )
chmod 600 "$D"/*.keyring "$D"/*/*/keyring "$D/client.$CEPH_CLIENT.key"

# ---------------------------------------------------------------- mon
monmaptool --create --fsid "$FSID" --addv a "$MON_ADDRV" "$D/monmap" > /dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$D/monmap" --keyring "$D/mon.keyring" \
  > "$D/log/mon-mkfs.log" 2>&1 || die "ceph-mon --mkfs failed" "$D/log/mon-mkfs.log"
# the OSD's store is made meanwhile (local only)
ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" --no-mon-config \
  > "$D/log/osd-mkfs.log" 2>&1 &
OSD_MKFS_PID=$!
start ceph-mon ceph-mon -c "$CONF" -i a -f
wait_port "$MON_PORT" 20 ceph-mon "$D/log/ceph-mon.a.log"
log "ceph-mon answers on $HOST:$MON_PORT (v1) and $HOST:$MON_V2_PORT (v2)"

export CEPH_CONF="$CONF"
CEPH=(ceph -c "$CONF" --connect-timeout 20)
start ceph-mgr ceph-mgr -c "$CONF" -i x -f

# ---------------------------------------------------------------- osd
wait "$OSD_MKFS_PID" || die "ceph-osd --mkfs failed" "$D/log/osd-mkfs.log"
"${CEPH[@]}" osd new "$OSD_UUID" 0 > /dev/null 2> "$D/log/osd-new.log" || die "ceph osd new failed" "$D/log/osd-new.log"
start ceph-osd ceph-osd -c "$CONF" -i 0 -f

# ---------------------------------------------------------------- pool + client
"${CEPH[@]}" osd pool create "$POOL" "$PG_NUM" "$PG_NUM" replicated > "$D/log/pool-create.log" 2>&1 \
  || die "ceph osd pool create $POOL failed" "$D/log/pool-create.log"
# rbd pool init sets application "rbd" and writes to the pool: it returns once the OSD is up
# and the PGs are active
timeout 90 rbd -c "$CONF" pool init "$POOL" > "$D/log/pool-init.log" 2>&1 \
  || die "rbd pool init $POOL failed" "$D/log/ceph-osd.0.log"
log "pool $POOL is usable (rbd pool init done)"

if [ "$WAIT_HEALTH" = 1 ]; then
  # HEALTH_OK alone is not enough: a fresh cluster reports no MGR_DOWN during
  # mon_mgr_mkfs_grace, and Cinder's capacity stats ("df") need the mgr
  st=
  for _ in $(seq 1 120); do
    st=$("${CEPH[@]}" status -f json 2>/dev/null | $PY -c \
      'import json,sys; d=json.load(sys.stdin); print(d["health"]["status"], "mgr" if d["mgrmap"]["available"] else "no-mgr")' 2>/dev/null || true)
    [ "$st" = "HEALTH_OK mgr" ] && break
    sleep 0.25
  done
  if [ "$st" = "HEALTH_OK mgr" ]; then log "HEALTH_OK, mgr active"; else log "after 30 s: ${st:-no answer} (continuing)"; fi
fi

# ---------------------------------------------------------------- env file
CLIENT_KEY=$(cat "$D/client.$CEPH_CLIENT.key")
( umask 077
{
  echo "# Generated by test/real-ceph/up.sh. Source it. Mode 0600: it holds client.$CEPH_CLIENT's key."
  echo "export CEPH_DIR='$D'"
  echo "export CEPH_CONF='$CONF'"
  echo "# librados/ceph/rbd read CEPH_KEYRING: this one holds client.admin AND client.$CEPH_CLIENT"
  echo "export CEPH_KEYRING='$D/ceph.keyring'"
  echo "export CEPH_ADMIN_KEYRING='$D/ceph.client.admin.keyring'"
  echo "# the ceph/rbd/rados CLIs pick this up"
  echo "export CEPH_ARGS='--conf $CONF'"
  echo "export CEPH_FSID='$FSID'"
  echo "export CEPH_CLUSTER='ceph'"
  echo "export CEPH_MON_HOST='$MON_ADDRV'"
  echo "export CEPH_MON_ADDR='$HOST:$MON_PORT'"
  echo "export CEPH_MON_V1_PORT='$MON_PORT'"
  echo "export CEPH_MON_V2_PORT='$MON_V2_PORT'"
  echo "export CEPH_OSD_PORT_MIN='$OSD_PORT_MIN'"
  echo "export CEPH_OSD_PORT_MAX='$OSD_PORT_MAX'"
  echo "# every port another host (a QEMU guest) must reach: mon v1, mon v2, the mgr/OSD range"
  echo "export CEPH_MON_PORTS='$MON_PORT $MON_V2_PORT $(seq -s ' ' "$OSD_PORT_MIN" "$OSD_PORT_MAX")'"
  echo "export CEPH_POOL='$POOL'"
  echo "export CEPH_CLIENT='$CEPH_CLIENT'"
  echo "export CEPH_CLIENT_KEYRING='$D/ceph.client.$CEPH_CLIENT.keyring'"
  echo "export CEPH_CLIENT_KEY_FILE='$D/client.$CEPH_CLIENT.key'"
  echo "export CEPH_CLIENT_KEY='$CLIENT_KEY'"
  echo "export CEPH_OBJECTSTORE='$OBJECTSTORE'"
} > "$D/env.sh" )
chmod 600 "$D/env.sh"
trap - EXIT
log "up: fsid $FSID, mon $MON_ADDRV, mgr+osd in $OSD_PORT_MIN-$OSD_PORT_MAX, pool $POOL, client.$CEPH_CLIENT; env $D/env.sh"
