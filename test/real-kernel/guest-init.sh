#!/bin/sh
# /init of the real-kernel tier's initramfs (busybox, PID 1 in the guest).
#  1. loads the virtio, 9p and overlay modules
#  2. mounts the host's / (9p tag "hostroot", read-only) under a tmpfs overlay: the guest runs the
#     host's own userspace, and its writes vanish at power-off
#  3. mounts the run's share (9p tag "share", read-write) at /vmrun, binds the kernel's module
#     tree from the host cache at /lib/modules, names the guest, configures eth0 for QEMU's
#     user network
#  4. switch_root (not chroot: module autoloading and udevadm need the real root as PID 1's), runs
#     the script named by cmc.run= with /vmrun/env, writes its exit code to /vmrun/rc, powers off
# Kernel command line: cmc.kmod=<dir> cmc.run=<script> cmc.hostname=<name>
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
KMOD= RUN= NAME=cmc-guest
for a in $(cat /proc/cmdline); do
  case "$a" in
    cmc.kmod=*) KMOD=${a#*=} ;;
    cmc.run=*) RUN=${a#*=} ;;
    cmc.hostname=*) NAME=${a#*=} ;;
  esac
done
fail() { echo "cmc-guest init: FATAL: $*"; echo "CMC-GUEST-EXIT=120"; sync; poweroff -f; sleep 5; reboot -f; }
for m in $(cat /modules/order); do insmod /modules/$m 2>/dev/null || echo "insmod $m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower || fail "9p hostroot"
mount -t tmpfs -o mode=0755,size=60% upper /upper
mkdir -p /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /newroot || fail overlay
R=/newroot
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount --move /dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts
mount -t tmpfs -o mode=1777 shm $R/dev/shm
mount -t tmpfs -o mode=0755 run $R/run
mount -t tmpfs -o mode=1777 tmp $R/tmp
mount -t configfs configfs $R/sys/kernel/config 2>/dev/null
mkdir -p $R/vmrun
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 share $R/vmrun || fail "9p share"
# The module tree lives in the host's cache, reached through the 9p lower layer ($R/tmp is
# already a fresh tmpfs over the host's /tmp).
if [ -n "$KMOD" ] && [ -d "/lower$KMOD" ]; then
  mkdir -p $R/usr/lib/modules && mount --bind "/lower$KMOD" $R/usr/lib/modules
else
  echo "cmc-guest init: WARNING: module tree '$KMOD' not visible; modprobe will fail"
fi
hostname "$NAME"; echo "$NAME" > $R/etc/hostname
cat /proc/sys/kernel/random/uuid | tr -d - > $R/etc/machine-id
ip link set lo up
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2
mkdir -p $R/run/cmc
cp /bin/busybox $R/run/cmc/busybox
cat > $R/run/cmc/stage2 <<STAGE2
BB=/run/cmc/busybox
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
echo "CMC-GUEST-USERSPACE uptime=\$(\$BB cut -d' ' -f1 /proc/uptime)"
if [ -x "$RUN" ]; then
  /usr/bin/env -i PATH=\$PATH HOME=/root TERM=dumb LANG=C.UTF-8 \
    /bin/bash -c 'set -a; [ -f /vmrun/env ] && . /vmrun/env; set +a; exec "$RUN"' < /dev/console > /dev/console 2>&1
  rc=\$?
else
  echo "cmc-guest init: no script $RUN"; rc=121
fi
echo \$rc > /vmrun/rc
echo "CMC-GUEST-EXIT=\$rc uptime=\$(\$BB cut -d' ' -f1 /proc/uptime)"
\$BB sync
\$BB poweroff -f
\$BB sleep 5; \$BB reboot -f
STAGE2
exec switch_root $R /run/cmc/busybox sh /run/cmc/stage2
fail switch_root
