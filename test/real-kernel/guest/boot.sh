#!/bin/bash
# Runs as the guest's first process after init (guest-init.sh): prepares the node the way a
# bare-metal Kubernetes node is prepared — persistent /var/lib/kubelet and /etc/iscsi, udev,
# iscsid, multipathd, the Ceph kernel client — then serves the host's test through the agent
# until it is told to shut down.
#
# /vmrun/env gives: NODE_BIN (the node binary, a host path), AGENT (agent.mjs), FWD_PORTS (host
# loopback ports the guest must reach at 127.0.0.1, as the host's services advertise them),
# GUEST_IQN (the initiator name of a fresh node), MULTIPATHD (on|off at boot).
set -u
log() { echo "cmc-boot: $(cut -d' ' -f1 /proc/uptime) $*"; }

# ---- state that survives a reboot: kubelet's directory, the plugin's state, open-iscsi's db
modprobe virtio_blk
for _ in $(seq 50); do [ -b /dev/vda ] && break; sleep 0.1; done
if [ -b /dev/vda ]; then
  mkdir -p /persist && mount /dev/vda /persist || { log "cannot mount /dev/vda"; exit 3; }
  mkdir -p /persist/kubelet /persist/state /persist/iscsi
  if [ ! -f /persist/iscsi/iscsid.conf ]; then
    cp /etc/iscsi/iscsid.conf /persist/iscsi/
    # No systemd here: iscsid is started below, not socket-activated.
    sed -i 's|^iscsid.startup.*|# &|' /persist/iscsi/iscsid.conf
    # A multipath node fails a dead path's I/O after 15 s instead of open-iscsi's 120 s, so
    # dm-multipath moves it to a live path (the README's node preparation says the same).
    sed -i 's|^node.session.timeo.replacement_timeout.*|node.session.timeo.replacement_timeout = 15|' /persist/iscsi/iscsid.conf
    echo "InitiatorName=${GUEST_IQN}" > /persist/iscsi/initiatorname.iscsi
  fi
  mount --bind /persist/iscsi /etc/iscsi
  mkdir -p /var/lib/kubelet /var/lib/cinder-metal-csi
  mount --bind /persist/kubelet /var/lib/kubelet
  mount --bind /persist/state /var/lib/cinder-metal-csi
fi
log "state mounted"

/lib/systemd/systemd-udevd --daemon --resolve-names=never || exit 4
udevadm trigger --action=add >/dev/null 2>&1
udevadm settle -t 30
log "udevd up"

modprobe -a iscsi_tcp crc32c_generic dm_mod dm_multipath dm_round_robin dm_service_time rbd nbd nf_tables
modprobe crc32c_intel 2>/dev/null
mkdir -p /run/lock/iscsi
iscsid || exit 5
log "iscsid up"

# multipath-tools' defaults (find_multipaths strict: only WWIDs it was told about are grouped),
# local disks blacklisted.
cat > /etc/multipath.conf <<'MP'
defaults {
    user_friendly_names no
    find_multipaths strict
}
blacklist {
    devnode "^(ram|loop|fd|md|vd|sr|nbd|rbd|zram)[0-9]*"
}
MP
if [ "${MULTIPATHD:-on}" = on ]; then
  multipathd -d -s > /vmrun/logs/multipathd.log 2>&1 &
  echo $! > /run/cmc-multipathd.pid
  for _ in $(seq 100); do multipathd show status >/dev/null 2>&1 && break; sleep 0.1; done
  log "multipathd up"
fi

# The host's services advertise 127.0.0.1 (tgtd's portals, Ceph's monitors and OSDs): inside the
# guest that is the guest itself, so those ports are sent on to QEMU's forwards at 10.0.2.100.
sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.eth0.route_localnet=1
if [ -n "${FWD_PORTS:-}" ]; then
  nft -f - <<NFT || exit 6
table ip cmc {
  chain out { type nat hook output priority -100; ip daddr 127.0.0.1 tcp dport { ${FWD_PORTS// /, } } dnat to 10.0.2.100; }
  chain post { type nat hook postrouting priority 100; oifname "eth0" ip saddr 127.0.0.0/8 masquerade; }
}
NFT
fi
log "network ready"

mkdir -p /vmrun/logs
"$NODE_BIN" "$AGENT"
rc=$?
log "agent exited ($rc)"
kill "$(cat /run/cmc-multipathd.pid 2>/dev/null)" 2>/dev/null
sync
if mountpoint -q /persist; then
  umount /var/lib/cinder-metal-csi /var/lib/kubelet /etc/iscsi 2>/dev/null
  umount /persist || umount -l /persist
fi
exit $rc
