#!/usr/bin/env bash
# End-to-end check of Cinder's RBD driver on test/real-ceph, through the real-Cinder harness
# started with --backend file,rbd (or rbd): a volume of type "rbd" -> POST /attachments with a
# connector -> connection_info checked (driver_volume_type rbd, name <pool>/volume-<id>,
# hosts/ports = the mon's v1 address, auth_username = the Ceph client, no key in it) -> the image
# opened with exactly those fields and the client keyring (rbd -m host:port --id <user> info)
# -> attachment and volume deleted, image gone. Then a volume of type "rbd-multiattach".
# One line per step; ends with "N passed, N failed"; exit 0 only if none failed.
#
#   CEPH=1 test/real-cinder/ci-tier.sh noauth -- test/real-ceph/smoke-rbd.sh
#   REAL_CINDER_ENV=/tmp/real-cinder/env.sh test/real-ceph/smoke-rbd.sh
#
# Reads $REAL_CINDER_ENV (default $RC_DIR/env.sh) and the Ceph env file it names
# (CINDER_CEPH_ENV). Cinder in noauth mode (CINDER_TOKEN) or keystone mode (application credential).
set -uo pipefail
RC_DIR=${RC_DIR:-/tmp/real-cinder}
# shellcheck disable=SC1090,SC1091
. "${REAL_CINDER_ENV:-$RC_DIR/env.sh}"
CEPH_ENV_FILE=${CINDER_CEPH_ENV:-${CEPH_ENV:-/tmp/cinder-metal-csi-ceph/env.sh}}
# shellcheck disable=SC1090
. "$CEPH_ENV_FILE"
PY=/usr/bin/python3
MV=3.44
PASS=0; FAIL=0
ok()  { PASS=$((PASS+1)); echo "ok   $*"; }
bad() { FAIL=$((FAIL+1)); echo "FAIL $*"; }
ms()  { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%d ms", (b-a)*1000}'; }
check() { if [ "$2" = "$3" ]; then ok "$1 = $2"; else bad "$1 = '$2', expected '$3'"; fi; }

PRIV=$(mktemp -d); chmod 700 "$PRIV"; trap 'rm -rf "$PRIV"' EXIT
BODY="$PRIV/body.json"
# the token goes to curl through a header file, never argv
if [ "${CINDER_AUTH:-noauth}" = keystone ]; then
  printf '{"auth":{"identity":{"methods":["application_credential"],"application_credential":{"id":"%s","secret":"%s"}}}}' \
    "$OS_APPLICATION_CREDENTIAL_ID" "$OS_APPLICATION_CREDENTIAL_SECRET" > "$PRIV/ac.json"
  TOKEN=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' "$OS_AUTH_URL/auth/tokens" \
            --data-binary @"$PRIV/ac.json" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-subject-token"{print $2}')
else
  TOKEN=${CINDER_TOKEN:?}
fi
( umask 077; printf 'X-Auth-Token: %s\nOpenStack-API-Version: volume %s\nContent-Type: application/json\n' "$TOKEN" "$MV" > "$PRIV/h" )
B="$CINDER_ENDPOINT"
api() { # METHOD PATH [BODY] -> $CODE, answer in $BODY
  local args=(-s -o "$BODY" -w '%{http_code}' -X "$1" "$B$2" -H @"$PRIV/h")
  [ -n "${3:-}" ] && args+=(-d "$3")
  CODE=$(curl "${args[@]}") || CODE=000
}
j() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$BODY" "$1" 2>/dev/null; }
wait_status() { # kind id want
  local s=
  for _ in $(seq 1 600); do
    api GET "/$1s/$2"; s=$(j "d['$1']['status']")
    [ "$s" = "$3" ] && return 0
    case "$s" in error*) break ;; esac
    sleep 0.1
  done
  echo "     ($1 $2 status: ${s:-?})"; return 1
}
wait_gone() { for _ in $(seq 1 600); do api GET "/$1s/$2"; [ "$CODE" = 404 ] && return 0; sleep 0.1; done; return 1; }
# Ceph as client.admin, for checks behind Cinder's back
RBD_ADMIN=(env -u CEPH_ARGS -u CEPH_KEYRING rbd -c "$CEPH_CONF" --id admin --keyring "$CEPH_ADMIN_KEYRING")
features() { "${RBD_ADMIN[@]}" info "$1" 2>/dev/null | awk -F': ' '/features:/{print $2; exit}'; }

RBD_TYPE=${RBD_VOLUME_TYPE:-rbd}
MA_TYPE=${RBD_MULTIATTACH_VOLUME_TYPE:-rbd-multiattach}
api GET /types
for t in "$RBD_TYPE" "$MA_TYPE"; do
  if [ "$(j "any(t['name']=='$t' for t in d['volume_types'])")" = True ]; then ok "volume type $t exists"; else bad "volume type $t missing"; fi
done

# ------------------------------------------------------------------ volume on rbd
t=$EPOCHREALTIME
api POST /volumes "{\"volume\":{\"size\":1,\"name\":\"smoke-rbd-1\",\"volume_type\":\"$RBD_TYPE\"}}"
V=$(j "d['volume']['id']")
if [ -n "$V" ] && wait_status volume "$V" available; then ok "1 GiB volume of type $RBD_TYPE -> available ($(ms "$t"))"; else bad "volume of type $RBD_TYPE ($CODE)"; fi
api GET "/volumes/$V"
HOSTATTR=$(j "d['volume'].get('os-vol-host-attr:host')")
case "$HOSTATTR" in
  *@rbd#rbd) ok "scheduled to $HOSTATTR" ;;
  None|'') echo "     (os-vol-host-attr:host is shown to admins only; the image check below tells)" ;;
  *) bad "scheduled to '$HOSTATTR', not the rbd backend" ;;
esac
IMG="$CEPH_POOL/volume-$V"
if "${RBD_ADMIN[@]}" info "$IMG" > /dev/null 2>&1; then ok "image $IMG exists (features: $(features "$IMG"))"; else bad "no image $IMG in Ceph"; fi

# ------------------------------------------------------------------ attachment, connection_info
CONN='{"host":"smoke-node","ip":"127.0.0.1","initiator":"iqn.2004-10.com.example:smoke-node","platform":"x86_64","os_type":"linux","multipath":false}'
t=$EPOCHREALTIME
api POST /attachments "{\"attachment\":{\"volume_uuid\":\"$V\",\"connector\":$CONN}}"
if [ "$CODE" = 200 ]; then ok "POST /attachments with a connector -> 200 ($(ms "$t"))"; else bad "POST /attachments -> $CODE"; fi
A=$(j "d['attachment']['id']")
CI="d['attachment']['connection_info']"
echo "     connection_info: $(j "json.dumps($CI, sort_keys=True)")"
check "driver_volume_type" "$(j "${CI}['driver_volume_type']")" rbd
check "name" "$(j "${CI}['name']")" "$IMG"
check "hosts" "$(j "','.join(${CI}['hosts'])")" "${CEPH_MON_ADDR%:*}"
check "ports (the mon's v1 port)" "$(j "','.join(str(p) for p in ${CI}['ports'])")" "${CEPH_MON_ADDR##*:}"
check "auth_username" "$(j "${CI}['auth_username']")" "$CEPH_CLIENT"
check "auth_enabled" "$(j "${CI}['auth_enabled']")" True
[ -z "${RBD_SECRET_UUID:-}" ] || check "secret_uuid" "$(j "${CI}['secret_uuid']")" "$RBD_SECRET_UUID"
if grep -qF -- "$CEPH_CLIENT_KEY" "$BODY"; then bad "the client key is in the answer"; else ok "no key in connection_info"; fi
NAME=$(j "${CI}['name']"); MON="$(j "${CI}['hosts'][0]"):$(j "${CI}['ports'][0]")"; USER=$(j "${CI}['auth_username']")
# What a node does with it: open the image with exactly these fields and the node's own keyring
# (no ceph.conf, no environment)
if OUT=$(env -u CEPH_ARGS -u CEPH_CONF -u CEPH_KEYRING timeout 30 \
           rbd -c /dev/null -m "$MON" --id "$USER" --keyring "$CEPH_CLIENT_KEYRING" info "$NAME" 2>&1); then
  ok "rbd -m $MON --id $USER --keyring <client keyring> info $NAME: $(echo "$OUT" | awk '/size /{print $2,$3; exit}'), features $(echo "$OUT" | awk -F': ' '/features:/{print $2; exit}')"
else
  bad "rbd -m $MON --id $USER info $NAME: $(echo "$OUT" | tail -2)"
fi
t=$EPOCHREALTIME
api DELETE "/attachments/$A"
if [ "$CODE" = 200 ]; then ok "DELETE attachment -> 200 ($(ms "$t"))"; else bad "DELETE attachment -> $CODE"; fi
if wait_status volume "$V" available; then ok "volume available again"; else bad "volume after detach"; fi
t=$EPOCHREALTIME
api DELETE "/volumes/$V"
if wait_gone volume "$V"; then ok "volume deleted ($(ms "$t"))"; else bad "volume delete ($CODE)"; fi
if "${RBD_ADMIN[@]}" info "$IMG" > /dev/null 2>&1; then bad "image $IMG still in Ceph"; else ok "image $IMG gone"; fi

# ------------------------------------------------------------------ multiattach type
t=$EPOCHREALTIME
api POST /volumes "{\"volume\":{\"size\":1,\"name\":\"smoke-rbd-ma\",\"volume_type\":\"$MA_TYPE\"}}"
M=$(j "d['volume']['id']")
if [ -n "$M" ] && wait_status volume "$M" available; then ok "1 GiB volume of type $MA_TYPE -> available ($(ms "$t"))"; else bad "volume of type $MA_TYPE ($CODE)"; fi
api GET "/volumes/$M"
check "multiattach" "$(j "d['volume']['multiattach']")" True
echo "     features of $CEPH_POOL/volume-$M: $(features "$CEPH_POOL/volume-$M")"
api DELETE "/volumes/$M"
if wait_gone volume "$M"; then ok "multiattach volume deleted"; else bad "multiattach volume delete ($CODE)"; fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
