#!/usr/bin/env bash
# End-to-end check of a Cinder brought up by up.sh: volume -> list/marker ->
# snapshot -> attachment (3.44, connector) -> [iSCSI login via libiscsi] ->
# complete -> delete attachment -> extend -> clone/from-snapshot -> [backup: a file-backend
# volume with a known pattern -> backup -> restore into a new, larger volume (3.47) -> bytes
# compared -> backup deleted, its files gone] -> delete all.
# Prints one line per step and ends with "N passed, N failed". Reads $REAL_CINDER_ENV
# (default $RC_DIR/env.sh). Tokens and passwords go to curl through files, never argv.
# The backup steps run when the harness has cinder-backup and the file backend (SMOKE_BACKUP=0
# skips them: ~25 s of the run, a 1 GiB backup and restore).
set -uo pipefail
RC_DIR=${RC_DIR:-/tmp/real-cinder}
# shellcheck disable=SC1090,SC1091
. "${REAL_CINDER_ENV:-$RC_DIR/env.sh}"
PY=/usr/bin/python3
MV=3.44
PASS=0; FAIL=0
ok()   { PASS=$((PASS+1)); echo "ok   $*"; }
bad()  { FAIL=$((FAIL+1)); echo "FAIL $*"; }

PRIV=$(mktemp -d); chmod 700 "$PRIV"; trap 'rm -rf "$PRIV"' EXIT
# ks_token BODY-FILE -> prints the X-Subject-Token
ks_token() {
  curl -s -D - -o /dev/null -H 'Content-Type: application/json' "$OS_AUTH_URL/auth/tokens" --data-binary @"$1" \
    | tr -d '\r' | awk -F': ' 'tolower($1)=="x-subject-token"{print $2}'
}
if [ "$CINDER_AUTH" = keystone ]; then
  printf '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"%s","domain":{"name":"%s"},"password":"%s"}}},"scope":{"project":{"name":"%s","domain":{"name":"%s"}}}}}' \
    "$OS_USERNAME" "$OS_USER_DOMAIN_NAME" "$OS_PASSWORD" "$OS_PROJECT_NAME" "$OS_PROJECT_DOMAIN_NAME" > "$PRIV/pw.json"
  [ -n "$(ks_token "$PRIV/pw.json")" ] && ok "keystone token from user/password" || bad "keystone password token"
  printf '{"auth":{"identity":{"methods":["application_credential"],"application_credential":{"id":"%s","secret":"%s"}}}}' \
    "$OS_APPLICATION_CREDENTIAL_ID" "$OS_APPLICATION_CREDENTIAL_SECRET" > "$PRIV/ac.json"
  TOKEN=$(ks_token "$PRIV/ac.json")
  [ -n "$TOKEN" ] && ok "keystone token from application credential" || bad "keystone token"
else
  TOKEN=$CINDER_TOKEN
fi
printf 'X-Auth-Token: %s\nOpenStack-API-Version: volume %s\n' "$TOKEN" "$MV" > "$PRIV/headers"
printf 'X-Auth-Token: %s\nOpenStack-API-Version: volume 3.47\n' "$TOKEN" > "$PRIV/headers-3.47"
B="$CINDER_URL/v3/$CINDER_PROJECT_ID"
# api METHOD PATH [BODY] -> sets CODE, writes body to $RC_DIR/smoke.body (API_MV=3.47: that
# microversion instead of $MV)
api() {
  local hdr="$PRIV/headers${API_MV:+-$API_MV}"
  local args=(-s -o "$RC_DIR/smoke.body" -w '%{http_code}' -X "$1" "$B$2" -H @"$hdr")
  [ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' -d "$3")
  CODE=$(curl "${args[@]}")
}
j() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$RC_DIR/smoke.body" "$1"; }
wait_status() { # kind id want
  local i s
  for i in $(seq 1 200); do
    api GET "/$1s/$2"; s=$(j "d['$1']['status']" 2>/dev/null)
    [ "$s" = "$3" ] && return 0
    case "$s" in error*) break ;; esac
    sleep 0.1
  done
  echo "   ($1 $2 status: $s)"; return 1
}
wait_gone() { local i; for i in $(seq 1 200); do api GET "/$1s/$2"; [ "$CODE" = 404 ] && return 0; sleep 0.1; done; return 1; }

TYPE=${CINDER_VOLUME_TYPE:+,\"volume_type\":\"$CINDER_VOLUME_TYPE\"}
api POST /volumes "{\"volume\":{\"size\":1,\"name\":\"smoke-1\"$TYPE}}"
[ "$CODE" = 202 ] && ok "create volume -> 202" || bad "create volume -> $CODE"
V=$(j "d['volume']['id']")
wait_status volume "$V" available && ok "volume available" || bad "volume not available"
api POST /volumes '{"volume":{"size":1,"name":"smoke-2"}}'; V2=$(j "d['volume']['id']")
wait_status volume "$V2" available || true
api GET '/volumes?limit=1'
[ "$(j "len(d['volumes'])")" = 1 ] && [ "$(j "'volumes_links' in d")" = True ] && ok "list limit=1 has volumes_links" || bad "list limit"
M=$(j "d['volumes'][0]['id']"); api GET "/volumes?limit=1&marker=$M"
[ "$CODE" = 200 ] && [ "$(j "d['volumes'][0]['id']")" != "$M" ] && ok "list with marker" || bad "list marker"
api GET /volumes/00000000-0000-0000-0000-000000000000
[ "$CODE" = 404 ] && [ "$(j "list(d)[0]")" = itemNotFound ] && ok "404 itemNotFound" || bad "404 shape ($CODE)"
api POST /volumes '{"volume":{"size":0}}'
[ "$CODE" = 400 ] && [ "$(j "list(d)[0]")" = badRequest ] && ok "400 badRequest" || bad "400 shape ($CODE)"

api POST /snapshots "{\"snapshot\":{\"volume_id\":\"$V\",\"name\":\"smoke-snap\"}}"
[ "$CODE" = 202 ] && ok "create snapshot -> 202" || bad "create snapshot -> $CODE"
S=$(j "d['snapshot']['id']")
wait_status snapshot "$S" available && ok "snapshot available" || bad "snapshot"

CONN='{"initiator":"iqn.2004-10.com.ubuntu:01:abc","ip":"127.0.0.1","host":"node1","multipath":false,"platform":"x86_64","os_type":"linux"}'
api POST /attachments "{\"attachment\":{\"volume_uuid\":\"$V\",\"connector\":$CONN}}"
[ "$CODE" = 200 ] && ok "create attachment with connector -> 200" || bad "create attachment -> $CODE"
A=$(j "d['attachment']['id']")
echo "   connection_info: $(j "json.dumps(d['attachment']['connection_info'])" 2>/dev/null | sed 's/"auth_password": "[^"]*"/"auth_password": "***"/')"
DVT=$(j "d['attachment']['connection_info']['driver_volume_type']")
[ "$DVT" = iscsi ] && ok "driver_volume_type iscsi" || bad "driver_volume_type $DVT"
if case ",$CINDER_BACKEND," in *,file,*) true ;; *) false ;; esac && [ -n "${ISCSI_PORTAL:-}" ] && command -v iscsi-readcapacity16 > /dev/null; then
  IQN=$(j "d['attachment']['connection_info']['target_iqn']")
  U=$(j "d['attachment']['connection_info']['auth_username']")
  P=$(j "d['attachment']['connection_info']['auth_password']")
  LUN=$(j "d['attachment']['connection_info']['target_lun']")
  # libiscsi reads the URL (with the CHAP password) from argv; acceptable for this throwaway target
  if iscsi-readcapacity16 -i iqn.2004-10.com.ubuntu:01:abc "iscsi://$U%$P@$ISCSI_PORTAL/$IQN/$LUN" 2>&1 | grep -q 'LOGICAL BLOCK LENGTH'; then
    ok "iSCSI login (libiscsi, CHAP) to the returned target"
  else
    bad "iSCSI login to $IQN"
  fi
  if iscsi-readcapacity16 -i iqn.2004-10.com.ubuntu:01:abc "iscsi://$U%wrong-$P@$ISCSI_PORTAL/$IQN/$LUN" > /dev/null 2>&1; then
    bad "iSCSI login with a wrong CHAP password succeeded"
  else
    ok "iSCSI login with a wrong CHAP password is refused"
  fi
fi
api POST "/attachments/$A/action" '{"os-complete":null}'
[ "$CODE" = 204 ] && ok "os-complete -> 204" || bad "os-complete -> $CODE"
wait_status volume "$V" in-use && ok "volume in-use" || bad "volume not in-use"
api DELETE "/attachments/$A"
[ "$CODE" = 200 ] && ok "delete attachment -> 200" || bad "delete attachment -> $CODE"
wait_status volume "$V" available && ok "volume available again" || bad "volume after detach"

api POST "/volumes/$V/action" '{"os-extend":{"new_size":2}}'
[ "$CODE" = 202 ] && ok "extend -> 202" || bad "extend -> $CODE"
if case ",$CINDER_BACKEND," in *,file,*) true ;; *) false ;; esac; then
  for i in $(seq 1 100); do api GET "/volumes/$V"; [ "$(j "d['volume']['size']")" = 2 ] && break; sleep 0.1; done
  [ "$(j "d['volume']['size']")" = 2 ] && [ "$(j "d['volume']['status']")" = available ] && ok "extended to 2 GiB" || bad "extend result"
  api POST /volumes "{\"volume\":{\"size\":2,\"snapshot_id\":\"$S\",\"name\":\"smoke-from-snap\"}}"; V3=$(j "d['volume']['id']")
  wait_status volume "$V3" available && ok "volume from snapshot" || bad "volume from snapshot"
  api DELETE "/volumes/$V3"; wait_gone volume "$V3" || true
else
  sleep 1  # fake driver cannot extend: volume goes error_extending (expected)
fi

api DELETE "/snapshots/$S"; [ "$CODE" = 202 ] && wait_gone snapshot "$S" && ok "snapshot deleted" || bad "snapshot delete ($CODE)"

if [ "${CINDER_BACKUP_SERVICE:-0}" = 1 ] && [ -n "${CINDER_FILE_VOLUME_DIR:-}" ] && [ "${SMOKE_BACKUP:-1}" = 1 ]; then
  # wait_status with a longer budget: a 1 GiB backup or restore takes ~10 s here
  wait_long() { local i s; for i in $(seq 1 600); do api GET "/$1s/$2"; s=$(j "d['$1']['status']" 2>/dev/null)
    [ "$s" = "$3" ] && return 0; case "$s" in error*) break ;; esac; sleep 0.2; done; echo "   ($1 $2 status: $s)"; return 1; }
  api POST /volumes "{\"volume\":{\"size\":1,\"name\":\"smoke-backup-src\"$TYPE}}"; BV=$(j "d['volume']['id']")
  wait_status volume "$BV" available || bad "backup source volume"
  # a known pattern at the start, the middle and the end of the volume's file
  PATTERN='import sys
f = open(sys.argv[1], "r+b" if sys.argv[2] == "w" else "rb")
chunks = [(0, bytes(range(256)) * 4096), (512 << 20, b"\xa5" * 65536), ((1 << 30) - 4096, b"END!" * 1024)]
for off, data in chunks:
    f.seek(off)
    if sys.argv[2] == "w": f.write(data)
    elif f.read(len(data)) != data: sys.exit("mismatch at %d" % off)'
  $PY -c "$PATTERN" "$CINDER_FILE_VOLUME_DIR/volume-$BV" w
  api POST /backups "{\"backup\":{\"volume_id\":\"$BV\",\"name\":\"smoke-backup\"}}"
  [ "$CODE" = 202 ] && ok "create backup -> 202" || bad "create backup -> $CODE"
  BK=$(j "d['backup']['id']")
  wait_long backup "$BK" available && ok "backup available" || bad "backup not available"
  api GET "/backups/$BK"
  [ "$(j "(d['backup']['size'], d['backup']['object_count'] > 0, d['backup']['is_incremental'])")" = "(1, True, False)" ] \
    && ok "backup size 1, objects written, full" || bad "backup fields: $(head -c 400 "$RC_DIR/smoke.body")"
  [ -n "$(find "$CINDER_BACKUP_DIR" -type f -name "*$BK*" 2>/dev/null)" ] && ok "backup files under CINDER_BACKUP_DIR" || bad "no backup files"
  API_MV=3.47 api POST /volumes "{\"volume\":{\"size\":2,\"backup_id\":\"$BK\",\"name\":\"smoke-restored\"}}"
  [ "$CODE" = 202 ] && ok "volume from backup (3.47) -> 202" || bad "volume from backup -> $CODE"
  RV=$(j "d['volume']['id']")
  wait_long volume "$RV" available && ok "restored volume available" || bad "restored volume"
  if $PY -c "$PATTERN" "$CINDER_FILE_VOLUME_DIR/volume-$RV" r \
     && [ "$(stat -c %s "$CINDER_FILE_VOLUME_DIR/volume-$RV")" = $((2 << 30)) ]; then
    ok "restored data intact, file 2 GiB"
  else
    bad "restored data or size"
  fi
  api DELETE "/backups/$BK"; [ "$CODE" = 202 ] && wait_gone backup "$BK" && ok "backup deleted" || bad "backup delete ($CODE)"
  [ -z "$(find "$CINDER_BACKUP_DIR" -type f -name "*$BK*" 2>/dev/null)" ] && ok "backup files removed" || bad "backup files left"
  for v in $BV $RV; do api DELETE "/volumes/$v"; wait_gone volume "$v" || bad "volume $v delete"; done
fi
for v in $V $V2; do
  api DELETE "/volumes/$v"
  [ "$CODE" = 202 ] || { [ "$CINDER_AUTH" = noauth ] && api POST "/volumes/$v/action" '{"os-reset_status":{"status":"available"}}' && api DELETE "/volumes/$v"; }
  wait_gone volume "$v" && ok "volume $v deleted" || bad "volume $v delete ($CODE)"
done
echo "$PASS passed, $FAIL failed"
[ $FAIL = 0 ]
