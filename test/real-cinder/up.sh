#!/usr/bin/env bash
# Bring up a REAL OpenStack Cinder (Debian bookworm = OpenStack Zed, cinder 21.x) -- and with
# --keystone a real Keystone 22.x -- on 127.0.0.1, without systemd, for cinder-metal-csi's
# real-Cinder test tier. Stop it with down.sh. Root is required.
#
#   test/real-cinder/up.sh [--keystone] [--backend file|fake|rbd|<comma list>] [--no-install]
#
# Environment (all optional):
#   RC_DIR            state dir (configs, sqlite DBs, logs, volume files, env.sh) [/tmp/real-cinder]
#   CINDER_PORT       cinder-api port                                       [8776]
#   KEYSTONE_PORT     keystone port (with --keystone)                       [5000]
#   RABBIT_PORT       AMQP port                                             [5672]
#   RABBIT_DIST_PORT  Erlang distribution port                              [25672]
#   EPMD_PORT         Erlang port mapper port                               [4369]
#   TGT_PORT          iSCSI portal of the userspace tgtd (file backend)     [3260]
#   TGT_CONTROL       tgtd control channel number (socket.N)                [7]
#   TGT_PORT2         a second tgtd portal: attachments for a multipath connector list both
#                     (target_portals), as a dual-controller array's would  [none]
#   CINDER_PROJECT_ID project id used with noauth (hex only!)               [0123456789abcdef0123456789abcdef]
#   REAL_TIER_PROJECT_ID  the real-tier tests' own noauth project (hex)     [fedcba9876543210fedcba9876543210]
#   NO_TGT=1          file backend without tgtd (same connection_info, no real target)
#   RC_VERBOSE=1      also print where each daemon logs
#   NO_BACKUP=1       do not start cinder-backup
#   CEPH_ENV          env.sh of a running test/real-ceph cluster (rbd backend)
#                                                       [/tmp/cinder-metal-csi-ceph/env.sh]
#   RBD_SECRET_UUID   libvirt secret uuid the rbd backend reports in connection_info
#                                                       [457eb676-33da-42ec-9a8c-9293d545c337]
#
# Backends:
#   file (default): csi_test_driver.py next to this script -- one sparse file per
#         volume/snapshot; create/delete/extend/snapshot/clone work; attached volumes are
#         exported through a userspace tgtd as real iSCSI targets with CHAP, so
#         connection_info looks like LVM+tgt's. A public volume type "tgt-iscsi"
#         (volume_backend_name=file) is created for it.
#   fake: cinder.tests.fake_driver.FakeLoggingVolumeDriver from python3-cinder (no extend;
#         connection_info has no target fields).
#   rbd:  cinder.volume.drivers.rbd.RBDDriver on the Ceph cluster of test/real-ceph/up.sh
#         (started beforehand; conf, pool and client key are read from $CEPH_ENV);
#         connection_info has driver_volume_type "rbd". Public volume types "rbd" and
#         "rbd-multiattach" (volume_backend_name=rbd, the latter multiattach='<is> True').
#   A comma list (file,rbd) enables several backends; "tgt-iscsi" is bound to the first one
#   that is not rbd, and so is __DEFAULT__ (untyped volumes keep landing there).
#
# Backups: cinder-backup runs with the POSIX driver (cinder.backup.drivers.posix), storing into
# $RC_DIR/backups. It reads/writes file-backend volumes through a "local" connection (the volume
# file itself, see csi_test_driver.py) and rbd volumes through librados (os-brick's RBD connector).
#
# Output: one line per phase with its duration; daemons log under $RC_DIR/*/log. Secrets are
# never printed: they are in $RC_DIR/env.sh (mode 0600), which exports everything the tests read
# (see README.md). If start-up fails, what was started is stopped again (down.sh).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KEYSTONE=0
BACKEND=file
INSTALL=1
while [ $# -gt 0 ]; do
  case "$1" in
    --keystone) KEYSTONE=1 ;;
    --noauth) KEYSTONE=0 ;;
    --backend) BACKEND=$2; shift ;;
    --backend=*) BACKEND=${1#*=} ;;
    --no-install) INSTALL=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | cut -c3-; exit 0 ;;
    *) echo "up.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
for b in ${BACKEND//,/ }; do
  case "$b" in file|fake|rbd) ;; *) echo "up.sh: --backend must be file, fake, rbd or a comma list of them" >&2; exit 2 ;; esac
done
[ -n "${BACKEND//,/}" ] || { echo "up.sh: --backend is empty" >&2; exit 2; }
BACKEND=$(echo "$BACKEND" | tr ',' '\n' | awk 'NF && !seen[$0]++' | paste -sd,)   # no empty or repeated entries
has_backend() { case ",$BACKEND," in *",$1,"*) return 0 ;; esac; return 1; }
# the backend "tgt-iscsi" (and __DEFAULT__ when there are several) is bound to: the first one
# that is not rbd; with rbd alone, rbd
PRIMARY_BACKEND=$(echo "$BACKEND" | tr ',' '\n' | grep -vx rbd | head -1 || true)
PRIMARY_BACKEND=${PRIMARY_BACKEND:-rbd}
[ "$(id -u)" = 0 ] || { echo "up.sh: must run as root" >&2; exit 1; }

export RC_DIR=${RC_DIR:-/tmp/real-cinder}
CINDER_PORT=${CINDER_PORT:-8776}
KEYSTONE_PORT=${KEYSTONE_PORT:-5000}
RABBIT_PORT=${RABBIT_PORT:-5672}
RABBIT_DIST_PORT=${RABBIT_DIST_PORT:-25672}
EPMD_PORT=${EPMD_PORT:-4369}
TGT_PORT=${TGT_PORT:-3260}
TGT_CONTROL=${TGT_CONTROL:-7}
CINDER_PROJECT_ID=${CINDER_PROJECT_ID:-0123456789abcdef0123456789abcdef}
REAL_TIER_PROJECT_ID=${REAL_TIER_PROJECT_ID:-fedcba9876543210fedcba9876543210}
PY=/usr/bin/python3          # Debian's python; a pyenv python3 on PATH can't see dist-packages
HOST=127.0.0.1
MODE=$([ "$KEYSTONE" = 1 ] && echo keystone || echo noauth)
VOLUME_TYPE=tgt-iscsi
RBD_VOLUME_TYPE=rbd
RBD_MULTIATTACH_VOLUME_TYPE=rbd-multiattach
RETYPE_SAME_SPECS_TYPE=tgt-iscsi-gold
# a public group type for VolumeGroupSnapshots (Cinder has none usable by default; admins create them)
GROUP_TYPE=csi-group
RETYPE_OTHER_SPECS_TYPE=tgt-iscsi-tier2
[ "$PRIMARY_BACKEND" = rbd ] && VOLUME_TYPE=$RBD_VOLUME_TYPE
T0=$EPOCHREALTIME
TP=$T0

since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}'; }
# phase NAME: one line, with the time since the previous phase ended
phase() { printf 'real-cinder: %-22s %5s s\n' "$1" "$(since "$TP")"; TP=$EPOCHREALTIME; }
vlog() { [ "${RC_VERBOSE:-0}" = 1 ] && echo "real-cinder:   $*" || true; }
# die MESSAGE [LOGFILE]: the message, and the end of the log that explains it
die() {
  echo "up.sh: $1" >&2
  if [ -n "${2:-}" ] && [ -f "$2" ]; then echo "--- last lines of $2:" >&2; tail -15 "$2" >&2; fi
  exit 1
}
port_busy() { (echo > "/dev/tcp/$HOST/$1") 2>/dev/null; }
pid_of() { awk -v n="$1" '$1==n{print $2}' "$RC_DIR/pids" | tail -1; }
wait_port() { # port timeout_s name logfile: fails at once when the process named so has exited
  local i pid
  pid=$(pid_of "$3")
  for i in $(seq 1 $(( $2 * 10 ))); do
    port_busy "$1" && return 0
    [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && die "$3 exited before opening $HOST:$1" "${4:-}"
    sleep 0.1
  done
  die "$3 did not open $HOST:$1 within $2 s" "${4:-}"
}
# start NAME LOGFILE CMD...: run in its own session, remember the PID
start() {
  local name=$1 logf=$2; shift 2
  setsid "$@" > "$logf" 2>&1 < /dev/null &
  echo "$name $!" >> "$RC_DIR/pids"
  vlog "started $name (pid $!), log $logf"
}
randhex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# ---------------------------------------------------------------- packages
if [ "$INSTALL" = 1 ]; then
  "$HERE/install.sh"
  TP=$EPOCHREALTIME
fi
$PY -c 'import cinder, keystonemiddleware' 2>/dev/null \
  || die "python3-cinder is not importable by $PY (run $HERE/install.sh)"
[ "$KEYSTONE" = 0 ] || $PY -c 'import keystone' 2>/dev/null \
  || die "python3-keystone is not importable by $PY (run $HERE/install.sh)"

# ---------------------------------------------------------------- layout
if [ -s "$RC_DIR/pids" ]; then
  die "$RC_DIR/pids exists: already up? run RC_DIR=$RC_DIR $HERE/down.sh first (or use another RC_DIR)"
fi
for p in $CINDER_PORT $RABBIT_PORT $RABBIT_DIST_PORT $EPMD_PORT; do
  port_busy "$p" && die "port $HOST:$p is already in use (override the port, see --help)"
done
[ "$KEYSTONE" = 1 ] && port_busy "$KEYSTONE_PORT" && die "port $HOST:$KEYSTONE_PORT is already in use"
USE_BACKUP=1
[ "${NO_BACKUP:-0}" = 1 ] && USE_BACKUP=0
USE_TGT=0
if has_backend file && [ "${NO_TGT:-0}" != 1 ]; then
  command -v tgtd > /dev/null || die "tgtd missing (run $HERE/install.sh, or NO_TGT=1)"
  port_busy "$TGT_PORT" && die "port $HOST:$TGT_PORT is already in use"
  [ -e "/var/run/tgtd/socket.$TGT_CONTROL" ] && tgtadm -C "$TGT_CONTROL" --op show --mode system > /dev/null 2>&1 \
    && die "a tgtd already answers on control channel $TGT_CONTROL (set TGT_CONTROL)"
  USE_TGT=1
fi
if has_backend rbd; then
  CEPH_ENV=${CEPH_ENV:-/tmp/cinder-metal-csi-ceph/env.sh}
  [ -r "$CEPH_ENV" ] || die "rbd backend: $CEPH_ENV missing (start test/real-ceph/up.sh first, or set CEPH_ENV)"
  # Only what cinder.conf needs, read in a subshell: nothing of the Ceph env (CEPH_ARGS,
  # CEPH_KEYRING, the client key) reaches Cinder's daemons, which find the key through
  # rbd_ceph_conf's "[client] keyring" alone.
  # shellcheck disable=SC1090
  eval "$(. "$CEPH_ENV"
    printf 'RBD_CONF=%q RBD_POOL=%q RBD_USER=%q RBD_KEYRING=%q RBD_CLUSTER=%q\n' \
      "${CEPH_CONF:-}" "${CEPH_POOL:-}" "${CEPH_CLIENT:-}" "${CEPH_CLIENT_KEYRING:-}" "${CEPH_CLUSTER:-ceph}")"
  if [ -z "${RBD_CONF:-}" ] || [ -z "${RBD_POOL:-}" ] || [ -z "${RBD_USER:-}" ]; then
    die "rbd backend: $CEPH_ENV lacks CEPH_CONF, CEPH_POOL or CEPH_CLIENT"
  fi
  if [ ! -r "$RBD_CONF" ] || [ ! -r "$RBD_KEYRING" ]; then die "rbd backend: $RBD_CONF or $RBD_KEYRING missing"; fi
  $PY -c 'import rados, rbd' 2>/dev/null \
    || die "rbd backend: python3-rados/python3-rbd not importable by $PY (CEPH=1 $HERE/install.sh)"
  # is the cluster up, and can client.$RBD_USER use the pool?
  timeout 20 env -u CEPH_ARGS -u CEPH_KEYRING -u CEPH_CONF \
    rbd -c "$RBD_CONF" --id "$RBD_USER" --keyring "$RBD_KEYRING" ls "$RBD_POOL" > /dev/null 2>&1 \
    || die "rbd backend: rbd --id $RBD_USER ls $RBD_POOL failed (is test/real-ceph up? CEPH_ENV=$CEPH_ENV)"
  RBD_SECRET_UUID=${RBD_SECRET_UUID:-457eb676-33da-42ec-9a8c-9293d545c337}
fi
if [ -e "$RC_DIR" ] && [ -n "$(ls -A "$RC_DIR" 2>/dev/null)" ] && [ ! -e "$RC_DIR/.real-cinder" ]; then
  die "$RC_DIR exists and was not made by up.sh; refusing to wipe it (set RC_DIR)"
fi
rm -rf "$RC_DIR"
mkdir -p "$RC_DIR"/{bin,backups,rabbit/{mnesia,log,home},cinder/{state,lock,log,file-volumes},keystone/{log,fernet-keys,credential-keys},tgt}
: > "$RC_DIR/pids"
: > "$RC_DIR/.real-cinder"
chmod 700 "$RC_DIR"
# From here on, a failure stops whatever was started.
on_exit() {
  local rc=$?
  if [ $rc -ne 0 ] && [ "${RC_KEEP_ON_FAIL:-0}" != 1 ]; then
    echo "up.sh: start-up failed; stopping what was started (RC_KEEP_ON_FAIL=1 keeps it)" >&2
    "$HERE/down.sh" > /dev/null 2>&1 || true
  fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# oslo.db opens every sqlite transaction with a plain (deferred) BEGIN: in WAL mode a transaction
# that reads and then writes gets SQLITE_BUSY at once -- the busy timeout does not apply -- when
# another process committed in between, and cinder-api answered 500 "database is locked" (7 of 20
# volume creates right after a delete; the volume type create in CI). BEGIN IMMEDIATE takes the
# write lock up front, waiting for it up to the connection's timeout.
cat > "$RC_DIR/bin/rc_sqlite_immediate.py" <<'PY'
from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "before_cursor_execute", retval=True)
def _begin_immediate(conn, cursor, statement, parameters, context, executemany):
    if statement == "BEGIN" and conn.dialect.name == "sqlite":
        statement = "BEGIN IMMEDIATE"
    return statement, parameters
PY
# console-script equivalents (Debian ships them in cinder-api/-scheduler/-volume/-common,
# whose maintainer scripts we avoid)
for s in api scheduler volume manage; do
  printf '#!%s\nimport sys\nimport rc_sqlite_immediate  # noqa: F401\nfrom cinder.cmd.%s import main\nsys.exit(main())\n' "$PY" "$s" > "$RC_DIR/bin/cinder-$s"
done
# cinder-backup calls os-brick on this machine (connector properties, connect_volume), and
# os-brick runs some of that through oslo.privsep: as Cinder sets it up, the first call spawns
# "sudo cinder-rootwrap /etc/cinder/rootwrap.conf privsep-helper ...", which does not exist here
# (no cinder-common), and the backup died with FailedToDropPrivileges, left "creating" with its
# volume "backing-up". Everything runs as root anyway: privileged functions run in-process.
RBD_KEYRING_SHIM=
if has_backend rbd; then
  # An rbd volume is read through librados by os-brick's RBD connector, with the connection_info
  # of the RBD driver: mon hosts/ports and user, no key (Cinder stopped sending it, OSSN-0085).
  # os-brick then reads the key from /etc/ceph/<cluster>.client.<user>.keyring -- a file a real
  # backup host has; here the key lives in test/real-ceph's dir, and nothing is written to
  # /etc/ceph. The backup service alone is told where it is (it is the file's path, not the key).
  RBD_KEYRING_SHIM="
from os_brick.initiator.connectors import rbd as brick_rbd
_keyring = brick_rbd.RBDConnector._check_or_get_keyring_contents


def _harness_keyring(keyring, cluster_name, user):
    if keyring is None and user == '$RBD_USER' and cluster_name == '$RBD_CLUSTER':
        with open('$RBD_KEYRING') as f:
            return f.read()
    return _keyring(keyring, cluster_name, user)


brick_rbd.RBDConnector._check_or_get_keyring_contents = staticmethod(_harness_keyring)
"
fi
cat > "$RC_DIR/bin/cinder-backup" <<EOF
#!$PY
import sys
import rc_sqlite_immediate  # noqa: F401
from os_brick import privileged as brick_privileged
from cinder import privsep as cinder_privsep
brick_privileged.default.set_client_mode(False)
cinder_privsep.sys_admin_pctxt.set_client_mode(False)
$RBD_KEYRING_SHIM
from cinder.cmd.backup import main
sys.exit(main())
EOF
cat > "$RC_DIR/bin/keystone-serve" <<EOF
#!$PY
"""keystone public WSGI app on HOST PORT, single-threaded wsgiref (sqlite-safe)."""
import sys
from wsgiref.simple_server import WSGIServer, WSGIRequestHandler, make_server
host, port = sys.argv[1], int(sys.argv[2])
sys.argv[1:] = []  # keystone's oslo.config parses sys.argv
from keystone.server.wsgi import initialize_public_application
make_server(host, port, initialize_public_application(), server_class=WSGIServer,
            handler_class=WSGIRequestHandler).serve_forever()
EOF
chmod +x "$RC_DIR"/bin/*

sqlite_wal() { $PY -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA journal_mode=WAL')" "$1"; }

# ---------------------------------------------------------------- rabbitmq
cat > "$RC_DIR/rabbit/rabbitmq.conf" <<EOF
listeners.tcp.default = $HOST:$RABBIT_PORT
EOF
: > "$RC_DIR/rabbit/rabbitmq-env.conf"
start epmd "$RC_DIR/rabbit/epmd.log" /usr/bin/env ERL_EPMD_PORT=$EPMD_PORT \
  "$(ls /usr/lib/erlang/erts-*/bin/epmd | head -1)" -address $HOST -port $EPMD_PORT
wait_port $EPMD_PORT 10 epmd "$RC_DIR/rabbit/epmd.log"
start rabbitmq "$RC_DIR/rabbit/stdout.log" /usr/bin/env \
  HOME="$RC_DIR/rabbit/home" ERL_EPMD_PORT=$EPMD_PORT ERL_EPMD_ADDRESS=$HOST \
  RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=$HOST \
  RABBITMQ_NODE_PORT=$RABBIT_PORT RABBITMQ_DIST_PORT=$RABBIT_DIST_PORT \
  RABBITMQ_MNESIA_BASE="$RC_DIR/rabbit/mnesia" RABBITMQ_LOG_BASE="$RC_DIR/rabbit/log" \
  RABBITMQ_CONFIG_FILE="$RC_DIR/rabbit/rabbitmq.conf" \
  RABBITMQ_CONF_ENV_FILE="$RC_DIR/rabbit/rabbitmq-env.conf" \
  RABBITMQ_ENABLED_PLUGINS_FILE="$RC_DIR/rabbit/enabled_plugins" \
  RABBITMQ_PID_FILE="$RC_DIR/rabbit/rabbit.pid" \
  RABBITMQ_SERVER_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
  /usr/lib/rabbitmq/bin/rabbitmq-server
# (waited for below, after the DB work that runs meanwhile)

# ---------------------------------------------------------------- tgtd
if [ $USE_TGT = 1 ]; then
  start tgtd "$RC_DIR/tgt/tgtd.log" /usr/sbin/tgtd -f -C "$TGT_CONTROL" --iscsi "portal=$HOST:$TGT_PORT"
  echo "$TGT_CONTROL" > "$RC_DIR/tgt/control"
  if [ -n "${TGT_PORT2:-}" ]; then
    for _ in $(seq 100); do tgtadm -C "$TGT_CONTROL" --op show --mode system > /dev/null 2>&1 && break; sleep 0.1; done
    tgtadm -C "$TGT_CONTROL" --lld iscsi --op new --mode portal --param "portal=$HOST:$TGT_PORT2" \
      || die "tgtd: cannot add the second portal $HOST:$TGT_PORT2" "$RC_DIR/tgt/tgtd.log"
  fi
fi

KS_URL=http://$HOST:$KEYSTONE_PORT
CINDER_SVC_PASSWORD=
[ "$KEYSTONE" = 1 ] && CINDER_SVC_PASSWORD=cinder-$(randhex 12)

# ---------------------------------------------------------------- cinder config
CC="$RC_DIR/cinder/cinder.conf"
if [ "$KEYSTONE" = 1 ]; then AUTH=keystone; else AUTH=noauth_include_project_id; fi
cat > "$CC" <<EOF
[DEFAULT]
auth_strategy = $AUTH
api_paste_config = $RC_DIR/cinder/api-paste.ini
transport_url = rabbit://guest:guest@$HOST:$RABBIT_PORT/
osapi_volume_listen = $HOST
osapi_volume_listen_port = $CINDER_PORT
osapi_volume_workers = 1
# throwaway services: do not wait up to 60 s for in-flight work when stopped
graceful_shutdown_timeout = 3
# cinder-volume announces its pools once at start and then with the periodic tasks (60 s by
# default, after a random delay of up to 60 s): a scheduler that was not yet consuming RPC when
# the first announcement went out answered "No valid backend" for a minute. Every 5 s instead.
periodic_interval = 5
periodic_fuzzy_delay = 0
backend_stats_polling_interval = 5
# Test projects get room: the contract suite and the real tier run side by side (Cinder's
# default is 10 volumes and 10 snapshots per project). Per-project quotas set through the API
# still apply.
use_default_quota_class = false
quota_volumes = 1000
quota_snapshots = 1000
quota_gigabytes = 100000
my_ip = $HOST
host = cinder-host
state_path = $RC_DIR/cinder/state
log_dir = $RC_DIR/cinder/log
debug = false
enabled_backends = $BACKEND
default_volume_type = __DEFAULT__
rootwrap_config = /etc/cinder/rootwrap.conf
resource_query_filters_file = $RC_DIR/cinder/resource_filters.json
# cinder-backup: Cinder's POSIX backup driver into a directory (chunks of backup_file_size,
# default ~1.86 GB, zlib; sha256 per 32 KiB for incrementals)
backup_driver = cinder.backup.drivers.posix.PosixBackupDriver
backup_posix_path = $RC_DIR/backups
# the backup service tells the scheduler it is usable when it starts and then every 60 s by
# default; every 10 s (the minimum) instead: the scheduler picks a backup host only among the
# services it heard from (none: the backup goes to error, "Service not found for creating backup")
backup_driver_stats_polling_interval = 10

[database]
# A writer waits up to 60 s for sqlite's lock instead of Python's 5 s default: under load (the
# real-kernel tier's guest beside the suite) cinder-api answered 500 "database is locked".
connection = sqlite:///$RC_DIR/cinder/cinder.sqlite?timeout=60

[oslo_concurrency]
lock_path = $RC_DIR/cinder/lock

[oslo_messaging_notifications]
driver = noop

[fake]
volume_driver = cinder.tests.fake_driver.FakeLoggingVolumeDriver
volume_backend_name = fake

[file]
volume_driver = csi_test_driver.FileTgtDriver
volume_backend_name = file
file_volume_dir = $RC_DIR/cinder/file-volumes
file_tgt_enabled = $([ $USE_TGT = 1 ] && echo true || echo false)
file_tgt_portal = $HOST:$TGT_PORT
file_tgt_portals = $HOST:$TGT_PORT${TGT_PORT2:+,$HOST:$TGT_PORT2}
file_tgt_control_port = $TGT_CONTROL
file_use_chap = true
EOF
if has_backend rbd; then
  cat >> "$CC" <<EOF

[rbd]
volume_driver = cinder.volume.drivers.rbd.RBDDriver
volume_backend_name = rbd
rbd_ceph_conf = $RBD_CONF
rbd_cluster_name = $RBD_CLUSTER
rbd_pool = $RBD_POOL
rbd_user = $RBD_USER
# only reported in connection_info (the libvirt secret a Nova host would keep the key in)
rbd_secret_uuid = $RBD_SECRET_UUID
rbd_flatten_volume_from_snapshot = false
rbd_max_clone_depth = 5
rados_connect_timeout = 10
report_discard_supported = true
EOF
fi
if [ "$KEYSTONE" = 1 ]; then
  cat >> "$CC" <<EOF

[keystone_authtoken]
www_authenticate_uri = $KS_URL
auth_url = $KS_URL
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = cinder
password = $CINDER_SVC_PASSWORD
service_token_roles_required = true
EOF
fi
chmod 600 "$CC"
# The list filters non-admin users may use, as shipped by Debian's cinder-common (which we do
# not install): without this file Cinder refuses EVERY filter from a non-admin with 400 "Invalid
# filters ... are found in query options" (noauth contexts are admin and never notice).
cat > "$RC_DIR/cinder/resource_filters.json" <<'EOF'
{
    "volume": ["name", "status", "metadata",
               "bootable", "migration_status", "availability_zone",
               "group_id", "size", "created_at", "updated_at",
               "consumes_quota"],
    "backup": ["name", "status", "volume_id"],
    "snapshot": ["name", "status", "volume_id", "metadata",
                 "availability_zone", "consumes_quota"],
    "group": ["name"],
    "group_snapshot": ["name", "status", "group_id"],
    "attachment": ["volume_id", "status", "instance_id", "attach_status"],
    "message": ["resource_uuid", "resource_type", "event_id",
                "request_id", "message_level"],
    "pool": ["name", "volume_type"],
    "volume_type": ["is_public", "extra_specs"]
}
EOF
# api-paste.ini as shipped by Debian's cinder-common (upstream's, request_id first)
cat > "$RC_DIR/cinder/api-paste.ini" <<EOF
[composite:osapi_volume]
use = call:cinder.api:root_app_factory
/: apiversions
/healthcheck: healthcheck
/v3: openstack_volume_api_v3

[composite:openstack_volume_api_v3]
use = call:cinder.api.middleware.auth:pipeline_factory
noauth = request_id cors http_proxy_to_wsgi faultwrap sizelimit osprofiler noauth apiv3
noauth_include_project_id = request_id cors http_proxy_to_wsgi faultwrap sizelimit osprofiler noauth_include_project_id apiv3
keystone = request_id cors http_proxy_to_wsgi faultwrap sizelimit osprofiler authtoken keystonecontext apiv3
keystone_nolimit = request_id cors http_proxy_to_wsgi faultwrap sizelimit osprofiler authtoken keystonecontext apiv3

[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory

[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = cinder

[filter:faultwrap]
paste.filter_factory = cinder.api.middleware.fault:FaultWrapper.factory

[filter:osprofiler]
paste.filter_factory = osprofiler.web:WsgiMiddleware.factory

[filter:noauth]
paste.filter_factory = cinder.api.middleware.auth:NoAuthMiddleware.factory

[filter:noauth_include_project_id]
paste.filter_factory = cinder.api.middleware.auth:NoAuthMiddlewareIncludeProjectID.factory

[filter:sizelimit]
paste.filter_factory = oslo_middleware.sizelimit:RequestBodySizeLimiter.factory

[app:apiv3]
paste.app_factory = cinder.api.v3.router:APIRouter.factory

[pipeline:apiversions]
pipeline = request_id cors http_proxy_to_wsgi faultwrap osvolumeversionapp

[app:osvolumeversionapp]
paste.app_factory = cinder.api.versions:Versions.factory

[pipeline:healthcheck]
pipeline = request_id healthcheckapp

[app:healthcheckapp]
paste.app_factory = oslo_middleware:Healthcheck.app_factory
backends = disable_by_file
disable_by_file_path = $RC_DIR/cinder/healthcheck_disable

[filter:keystonecontext]
paste.filter_factory = cinder.api.middleware.auth:CinderKeystoneContext.factory

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory

[filter:request_id]
paste.filter_factory = cinder.api.middleware.request_id:RequestId.factory
EOF
# cinder's schema is created in the background while keystone bootstraps
(cd "$RC_DIR/cinder" && exec "$RC_DIR/bin/cinder-manage" --config-file "$CC" db sync) \
  > "$RC_DIR/cinder/log/db-sync.log" 2>&1 &
CINDER_DB_PID=$!
phase "configs, rabbitmq+tgtd started"

# ---------------------------------------------------------------- keystone
ADMIN_PASSWORD=
CSI_PASSWORD=
TIER_PASSWORD=
if [ "$KEYSTONE" = 1 ]; then
  KSC="$RC_DIR/keystone/keystone.conf"
  cat > "$KSC" <<EOF
[DEFAULT]
log_file = $RC_DIR/keystone/log/keystone.log
debug = false

[database]
connection = sqlite:///$RC_DIR/keystone/keystone.sqlite

[token]
provider = fernet
expiration = 86400

[fernet_tokens]
key_repository = $RC_DIR/keystone/fernet-keys

[fernet_receipts]
key_repository = $RC_DIR/keystone/fernet-keys

[credential]
key_repository = $RC_DIR/keystone/credential-keys

[cache]
enabled = false

[identity]
# bcrypt cost 4 (minimum) instead of 12: throwaway test users, much faster
# bootstrap, user creation and password authentication
password_hash_rounds = 4
EOF
  ADMIN_PASSWORD=admin-$(randhex 12)
  CSI_PASSWORD=csi-$(randhex 12)
  TIER_PASSWORD=csi-tier-$(randhex 12)
  KM_LOG="$RC_DIR/keystone/log/manage.log"
  # Fernet token and credential keys, as fernet_setup/credential_setup make them (keys 0 and 1:
  # staged and primary); the server refuses to start without them.
  for d in fernet-keys credential-keys; do
    chmod 700 "$RC_DIR/keystone/$d"
    for k in 0 1; do
      ( umask 077; head -c 32 /dev/urandom | base64 | tr '+/' '-_' > "$RC_DIR/keystone/$d/$k" )
    done
  done
  # The server imports keystone (~3 s) while the DB is made: it opens the DB only when requests
  # arrive.
  (cd "$RC_DIR/keystone" && OS_KEYSTONE_CONFIG_FILES="$KSC" start keystone "$RC_DIR/keystone/log/wsgi.log" \
     "$RC_DIR/bin/keystone-serve" $HOST "$KEYSTONE_PORT")
  # db_sync, bootstrap, accounts, catalog, application credential: one process, secrets in env
  (cd "$RC_DIR/keystone" && OS_BOOTSTRAP_PASSWORD=$ADMIN_PASSWORD CINDER_SVC_PASSWORD=$CINDER_SVC_PASSWORD \
     CSI_PASSWORD=$CSI_PASSWORD TIER_PASSWORD=$TIER_PASSWORD CINDER_URL=http://$HOST:$CINDER_PORT \
     $PY "$HERE/keystone_bootstrap.py" "$KSC" "$KS_URL/v3/" "$RC_DIR/keystone/accounts.env") \
    >> "$KM_LOG" 2>&1 || die "keystone db_sync/bootstrap/accounts failed" "$KM_LOG"
  # shellcheck disable=SC1091
  . "$RC_DIR/keystone/accounts.env"
  phase "keystone db+accounts+appcred"
fi

wait "$CINDER_DB_PID" || die "cinder-manage db sync failed" "$RC_DIR/cinder/log/db-sync.log"
sqlite_wal "$RC_DIR/cinder/cinder.sqlite"
wait_port "$RABBIT_PORT" 60 rabbitmq "$RC_DIR/rabbit/stdout.log"
# cinder-api and -scheduler start now (they import for a few seconds) while keystone finishes
# starting; keystonemiddleware fetches its own token only when the first request arrives.
cd "$RC_DIR/cinder"
export PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}"   # csi_test_driver
start cinder-scheduler "$RC_DIR/cinder/log/scheduler.stdout" "$RC_DIR/bin/cinder-scheduler" --config-file "$CC"
start cinder-api "$RC_DIR/cinder/log/api.stdout" "$RC_DIR/bin/cinder-api" --config-file "$CC"
cd - > /dev/null
phase "cinder db, rabbitmq ready"

if [ "$KEYSTONE" = 1 ]; then
  wait_port "$KEYSTONE_PORT" 60 keystone "$RC_DIR/keystone/log/wsgi.log"
  phase "keystone answers"
fi

# ---------------------------------------------------------------- cinder services
wait_port "$CINDER_PORT" 60 cinder-api "$RC_DIR/cinder/log/cinder-api.log"

if [ "$KEYSTONE" = 1 ]; then
  ADMIN_URL="http://$HOST:$CINDER_PORT/v3/$KEYSTONE_ADMIN_PROJECT_ID"
else
  ADMIN_TOKEN="admin:$CINDER_PROJECT_ID"
  ADMIN_URL="http://$HOST:$CINDER_PORT/v3/$CINDER_PROJECT_ID"
fi
# The admin token goes to curl through a header file, never on a command line.
HDR="$RC_DIR/admin.headers"
( umask 077; printf 'X-Auth-Token: %s\nContent-Type: application/json\nOpenStack-API-Version: volume 3.44\n' "$ADMIN_TOKEN" > "$HDR" )
# poll_json PATH PYTHON-EXPR TIMEOUT_S: until EXPR (over the JSON answer d) is true
poll_json() {
  local i
  for i in $(seq 1 $(( $3 * 5 ))); do
    curl -s -H @"$HDR" "$ADMIN_URL$1" \
      | $PY -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($2) else 1)" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}
# The scheduler must be consuming RPC before cinder-volume starts: the volume service announces
# its capabilities once at start-up (then only every 60 s), and a scheduler that missed it
# answers "No valid backend was found".
poll_json /os-services 'any(x["binary"]=="cinder-scheduler" and x["state"]=="up" for x in d["services"])' 60 \
  || die "cinder-scheduler did not report up" "$RC_DIR/cinder/log/cinder-scheduler.log"
cd "$RC_DIR/cinder"
start cinder-volume "$RC_DIR/cinder/log/volume.stdout" "$RC_DIR/bin/cinder-volume" --config-file "$CC"
# cinder-backup alongside (it also announces itself to the scheduler when it starts)
[ "$USE_BACKUP" = 1 ] && start cinder-backup "$RC_DIR/cinder/log/backup.stdout" "$RC_DIR/bin/cinder-backup" --config-file "$CC"
cd - > /dev/null
for b in ${BACKEND//,/ }; do
  poll_json /scheduler-stats/get_pools "any(p[\"name\"].endswith(\"@$b#$b\") for p in d[\"pools\"])" 90 \
    || die "the scheduler never saw the $b backend" "$RC_DIR/cinder/log/cinder-volume.log"
done
if [ "$USE_BACKUP" = 1 ]; then
  BACKUP_PID=$(pid_of cinder-backup)
  for _ in $(seq 60); do
    poll_json /os-services 'any(x["binary"]=="cinder-backup" and x["state"]=="up" for x in d["services"])' 1 && break
    kill -0 "$BACKUP_PID" 2>/dev/null || die "cinder-backup exited" "$RC_DIR/cinder/log/cinder-backup.log"
  done
  poll_json /os-services 'any(x["binary"]=="cinder-backup" and x["state"]=="up" for x in d["services"])' 1 \
    || die "cinder-backup did not report up" "$RC_DIR/cinder/log/cinder-backup.log"
fi

# admin_call WHAT METHOD PATH [BODY]: the answer goes to $RESP, the status to $CODE. A 5xx (or no
# answer) is retried up to 4 times, 1 s apart: CI once saw a lone 500 on the first type create
# right after get_pools had answered. If it still fails, die_api shows cinder-api's ERROR and
# Traceback lines, so that the next occurrence can be diagnosed.
RESP="$RC_DIR/cinder/log/admin-call.json"
admin_call() {
  local what=$1 method=$2 path=$3 body=${4:-} args
  args=(-s -o "$RESP" -w '%{http_code}' -H @"$HDR" -X "$method" "$ADMIN_URL$path")
  [ -n "$body" ] && args+=(-d "$body")
  for ATTEMPTS in 1 2 3 4 5; do
    CODE=$(curl "${args[@]}") || CODE=000
    case "$CODE" in 5??|000) ;; *) return 0 ;; esac
    [ "$ATTEMPTS" -lt 5 ] || return 0
    echo "real-cinder: $what: HTTP $CODE, retrying in 1 s ($ATTEMPTS/4)" >&2
    sleep 1
  done
}
die_api() { # MESSAGE: with the answer and the ERROR/Traceback lines of cinder-api's logs
  local f
  {
    echo "up.sh: $1"
    echo "--- answer: $(head -c 2000 "$RESP" 2>/dev/null)"
    for f in "$RC_DIR/cinder/log/cinder-api.log" "$RC_DIR/cinder/log/api.stdout"; do
      [ -s "$f" ] || continue
      echo "--- ERROR/Traceback lines of $f (last 40):"
      grep -E ' ERROR |Traceback|^[A-Za-z_.]+(Error|Exception)\b' "$f" | tail -40 | grep . || echo "(none)"
    done
  } >&2
  exit 1
}
# create_type NAME DESCRIPTION EXTRA_SPECS_JSON: a public volume type
create_type() {
  admin_call "creating volume type $1" POST /types \
    "{\"volume_type\":{\"name\":\"$1\",\"description\":\"$2\",\"os-volume-type-access:is_public\":true,\"extra_specs\":$3}}"
  [ "$CODE" = 200 ] && return 0
  # a retried create whose failed attempt did commit answers 409: accept the type that is there
  if [ "$CODE" = 409 ] && [ "$ATTEMPTS" -gt 1 ] \
     && poll_json /types "any(t[\"name\"]==\"$1\" for t in d[\"volume_types\"])" 1; then
    return 0
  fi
  die_api "creating volume type $1 failed ($CODE, $ATTEMPTS attempt(s))"
}

# A public volume type bound to the primary backend, for tests that want "the tgt-backed type".
if [ "$PRIMARY_BACKEND" != rbd ]; then
  create_type "$VOLUME_TYPE" "file backend exported by tgtd (CHAP)" "{\"volume_backend_name\":\"$PRIMARY_BACKEND\"}"
  # For retype: the very same extra specs (Cinder retypes in the database alone), and another
  # spec on the same backend (the file driver cannot retype in place: it needs a migration).
  create_type "$RETYPE_SAME_SPECS_TYPE" "retype target, same extra specs" "{\"volume_backend_name\":\"$PRIMARY_BACKEND\"}"
  create_type "$RETYPE_OTHER_SPECS_TYPE" "retype target, another extra spec" "{\"volume_backend_name\":\"$PRIMARY_BACKEND\",\"csi-test:tier\":\"2\"}"
fi
if has_backend rbd; then
  create_type "$RBD_VOLUME_TYPE" "Ceph RBD (test/real-ceph)" '{"volume_backend_name":"rbd"}'
  create_type "$RBD_MULTIATTACH_VOLUME_TYPE" "Ceph RBD, multiattach" '{"volume_backend_name":"rbd","multiattach":"<is> True"}'
fi
admin_call "creating group type $GROUP_TYPE" POST /group_types "{\"group_type\":{\"name\":\"$GROUP_TYPE\",\"is_public\":true}}"
case "$CODE" in 200|202) ;; *) die_api "creating group type $GROUP_TYPE failed ($CODE)" ;; esac
# Several backends: the scheduler would spread untyped volumes (type __DEFAULT__) over them by
# free capacity; pinning __DEFAULT__ keeps them where they land with the primary backend alone.
if [ "$BACKEND" != "$PRIMARY_BACKEND" ]; then
  admin_call "reading the default volume type" GET /types/default
  [ "$CODE" = 200 ] || die_api "reading the default volume type failed ($CODE)"
  DEFAULT_TYPE_ID=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["volume_type"]["id"])' "$RESP")
  admin_call "pinning the default volume type" POST "/types/$DEFAULT_TYPE_ID/extra_specs" \
    "{\"extra_specs\":{\"volume_backend_name\":\"$PRIMARY_BACKEND\"}}"
  [ "$CODE" = 200 ] || die_api "setting volume_backend_name=$PRIMARY_BACKEND on the default volume type failed ($CODE)"
fi
rm -f "$RESP"
rm -f "$HDR"
phase "cinder api+scheduler+volume$([ "$USE_BACKUP" = 1 ] && echo +backup)"

# ---------------------------------------------------------------- env file
ENV_FILE="$RC_DIR/env.sh"
CINDER_URL="http://$HOST:$CINDER_PORT"
( umask 077
{
  echo "# Generated by test/real-cinder/up.sh ($MODE). Source it, or point REAL_CINDER_ENV at it."
  echo "# Format: one 'export NAME='\''value'\''' per line; values never contain quotes."
  echo "export REAL_CINDER_ENV='$ENV_FILE'"
  echo "export REAL_CINDER_MODE='$MODE'"
  echo "export CINDER_CONTRACT_TARGET='real'"
  echo "export RC_DIR='$RC_DIR'"
  echo "export CINDER_AUTH='$MODE'"
  echo "export CINDER_URL='$CINDER_URL'"
  echo "export CINDER_BACKEND='$BACKEND'"
  echo "export CINDER_MAX_MICROVERSION='3.70'"
  echo "export CINDER_VOLUME_TYPE='$VOLUME_TYPE'"
  echo "export CINDER_RETYPE_SAME_SPECS_TYPE='$RETYPE_SAME_SPECS_TYPE'"
  echo "export CINDER_RETYPE_OTHER_SPECS_TYPE='$RETYPE_OTHER_SPECS_TYPE'"
  echo "export CINDER_GROUP_TYPE='$GROUP_TYPE'"
  echo "export CINDER_LOG_DIR='$RC_DIR/cinder/log'"
  if [ "$USE_BACKUP" = 1 ]; then
    echo "# cinder-backup runs (POSIX driver): backup chunks and metadata land under CINDER_BACKUP_DIR"
    echo "export CINDER_BACKUP_SERVICE='1'"
    echo "export CINDER_BACKUP_DRIVER='posix'"
    echo "export CINDER_BACKUP_DIR='$RC_DIR/backups'"
  fi
  if has_backend file; then
    echo "# the file backend: volume-<id> / snapshot-<id>, one sparse file each"
    echo "export CINDER_FILE_VOLUME_DIR='$RC_DIR/cinder/file-volumes'"
  fi
  if has_backend rbd; then
    echo "export RBD_VOLUME_TYPE='$RBD_VOLUME_TYPE'"
    echo "export RBD_MULTIATTACH_VOLUME_TYPE='$RBD_MULTIATTACH_VOLUME_TYPE'"
    echo "export RBD_SECRET_UUID='$RBD_SECRET_UUID'"
    echo "export CINDER_CEPH_ENV='$CEPH_ENV'"
  fi
  if [ "$KEYSTONE" = 1 ]; then
    echo "export CINDER_PROJECT_ID='$CSI_PROJECT_ID'"
    echo "export CINDER_ENDPOINT='$CINDER_URL/v3/$CSI_PROJECT_ID'"
    echo "export OS_AUTH_URL='$KS_URL/v3'"
    echo "export OS_REGION_NAME='RegionOne'"
    echo "export OS_INTERFACE='public'"
    echo "export OS_IDENTITY_API_VERSION='3'"
    echo "# password auth (project-scoped), user csi with the member role in project csi:"
    echo "export OS_USERNAME='csi'"
    echo "export OS_USER_ID='$CSI_USER_ID'"
    echo "export OS_PASSWORD='$CSI_PASSWORD'"
    echo "export OS_PROJECT_NAME='csi'"
    echo "export OS_PROJECT_ID='$CSI_PROJECT_ID'"
    echo "export OS_USER_DOMAIN_NAME='Default'"
    echo "export OS_PROJECT_DOMAIN_NAME='Default'"
    echo "export OS_USER_DOMAIN_ID='default'"
    echo "export OS_PROJECT_DOMAIN_ID='default'"
    echo "# application credential of user csi (roles: member); send no scope with it:"
    echo "export OS_APPLICATION_CREDENTIAL_ID='$CSI_APP_CRED_ID'"
    echo "export OS_APPLICATION_CREDENTIAL_NAME='$CSI_APP_CRED_NAME'"
    echo "export OS_APPLICATION_CREDENTIAL_SECRET='$CSI_APP_CRED_SECRET'"
    echo "# cloud admin (project admin), for cleanup and admin-only actions:"
    echo "export KEYSTONE_ADMIN_USER='admin'"
    echo "export KEYSTONE_ADMIN_PASSWORD='$ADMIN_PASSWORD'"
    echo "export KEYSTONE_ADMIN_PROJECT_NAME='admin'"
    echo "export KEYSTONE_ADMIN_PROJECT_ID='$KEYSTONE_ADMIN_PROJECT_ID'"
    echo "export CINDER_SERVICE_PASSWORD='$CINDER_SVC_PASSWORD'"
    echo "# the real-tier tests' own project (user csi-tier, member), apart from the contract suite's:"
    echo "export REAL_TIER_PROJECT_ID='$TIER_PROJECT_ID'"
    echo "export REAL_TIER_PROJECT_NAME='csi-tier'"
    echo "export REAL_TIER_ENDPOINT='$CINDER_URL/v3/$TIER_PROJECT_ID'"
    echo "export REAL_TIER_USERNAME='csi-tier'"
    echo "export REAL_TIER_PASSWORD='$TIER_PASSWORD'"
    echo "export REAL_TIER_APPLICATION_CREDENTIAL_ID='$TIER_APP_CRED_ID'"
    echo "export REAL_TIER_APPLICATION_CREDENTIAL_SECRET='$TIER_APP_CRED_SECRET'"
  else
    echo "export CINDER_PROJECT_ID='$CINDER_PROJECT_ID'"
    echo "export CINDER_ENDPOINT='$CINDER_URL/v3/$CINDER_PROJECT_ID'"
    echo "# noauth: send X-Auth-Token: <user>:<project> (an admin context); the project id must be hex"
    echo "export CINDER_TOKEN='admin:$CINDER_PROJECT_ID'"
    echo "# the real-tier tests' own project, apart from the contract suite's:"
    echo "export REAL_TIER_PROJECT_ID='$REAL_TIER_PROJECT_ID'"
    echo "export REAL_TIER_ENDPOINT='$CINDER_URL/v3/$REAL_TIER_PROJECT_ID'"
    echo "export REAL_TIER_TOKEN='admin:$REAL_TIER_PROJECT_ID'"
  fi
  if [ $USE_TGT = 1 ]; then
    echo "export ISCSI_PORTAL='$HOST:$TGT_PORT'"
    echo "export TGT_CONTROL='$TGT_CONTROL'"
    if [ -n "${TGT_PORT2:-}" ]; then echo "export ISCSI_PORTAL2='$HOST:$TGT_PORT2'"; fi
  fi
} > "$ENV_FILE" )
rm -f "$RC_DIR/keystone/accounts.env"
trap - EXIT
printf 'real-cinder: up (%s, %s backend%s%s) in %s s; env %s\n' "$MODE" "$BACKEND" \
  "$([ $USE_TGT = 1 ] && echo ", tgtd $HOST:$TGT_PORT")" "$([ "$USE_BACKUP" = 1 ] && echo ", cinder-backup posix")" \
  "$(since "$T0")" "$ENV_FILE"
vlog "Cinder $CINDER_URL/v3/<project>  logs $RC_DIR/*/log  stop: RC_DIR=$RC_DIR $HERE/down.sh"
