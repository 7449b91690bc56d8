#!/usr/bin/env bash
# Builds the real-kernel tier's guest, once: Debian's own kernel (downloaded with apt, never
# installed on the host) and a busybox initramfs whose /init (guest-init.sh) mounts the host's /
# read-only over 9p with a tmpfs overlay and switches into it. Cached; a second run takes no time.
#
#   test/real-kernel/build-guest.sh [--force]      prints the cache directory on its last line
#
# Cache: $CMC_GUEST_CACHE (default ~/.cache/cinder-metal-csi/guest): vmlinuz, initrd.img,
# kernel/root/lib/modules/<version> (depmod'ed; the guest bind-mounts it at /lib/modules) and
# guest.env. Needs: apt-get, dpkg-deb, depmod/modprobe, cpio, gzip, busybox-static (install.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${CMC_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cinder-metal-csi/guest}
FORCE=0
[ "${1:-}" = --force ] && FORCE=1
log() { echo "real-kernel build: $*" >&2; }
for t in apt-get apt-cache dpkg-deb depmod modprobe cpio gzip; do
  command -v "$t" >/dev/null || { log "missing $t (run test/real-kernel/install.sh)"; exit 2; }
done
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] && ! readelf -l "$BUSYBOX" 2>/dev/null | grep -q 'program interpreter' \
  || { log "$BUSYBOX is missing or not static (Debian package busybox-static)"; exit 2; }

KPKG=${CMC_GUEST_KERNEL_PKG:-$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')}
if [ -z "$KPKG" ]; then
  apt-get update -qq >/dev/null 2>&1 || true
  KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
fi
[ -n "$KPKG" ] || { log "cannot resolve Debian's linux-image-amd64"; exit 2; }
KVER=${KPKG#linux-image-}
if [ $FORCE = 0 ] && [ -f "$CACHE/guest.env" ] && grep -qx "KVER=$KVER" "$CACHE/guest.env" \
   && [ -f "$CACHE/initrd.img" ] && [ "$CACHE/initrd.img" -nt "$HERE/guest-init.sh" ]; then
  echo "$CACHE"; exit 0
fi
t0=$SECONDS
mkdir -p "$CACHE/dl"
if ! ls "$CACHE/dl/${KPKG}_"*.deb >/dev/null 2>&1; then
  log "downloading $KPKG"
  (cd "$CACHE/dl" && apt-get download "$KPKG" 2>&1 | grep -v 'Download is performed unsandboxed' >&2 || true)
  ls "$CACHE/dl/${KPKG}_"*.deb >/dev/null 2>&1 || { log "apt-get download $KPKG failed"; exit 2; }
fi
DEB=$(ls "$CACHE/dl/${KPKG}_"*.deb | head -1)
KROOT=$CACHE/kernel/root
if [ $FORCE = 1 ] || [ ! -f "$KROOT/lib/modules/$KVER/modules.dep" ]; then
  rm -rf "$KROOT"; mkdir -p "$KROOT"
  dpkg-deb -x "$DEB" "$KROOT"
  depmod -b "$KROOT" "$KVER"
fi
cp "$KROOT/boot/vmlinuz-$KVER" "$CACHE/vmlinuz"

IR=$CACHE/initramfs.d
rm -rf "$IR"; mkdir -p "$IR"/{bin,dev,proc,sys,lower,upper,newroot,modules}
cp "$BUSYBOX" "$IR/bin/busybox"; ln -s busybox "$IR/bin/sh"
: > "$IR/modules/order"
# Early modules, before the 9p root is there (Debian builds them as modules).
modprobe -d "$KROOT" -S "$KVER" --show-depends -a virtio_pci virtio_net 9pnet_virtio 9p overlay |
  awk '$1=="insmod"{print $2}' | while read -r ko; do
    b=$(basename "$ko"); grep -qx "$b" "$IR/modules/order" && continue
    cp "$ko" "$IR/modules/$b"; echo "$b" >> "$IR/modules/order"
  done
install -m 0755 "$HERE/guest-init.sh" "$IR/init"
(cd "$IR" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 > "$CACHE/initrd.img.tmp"
mv "$CACHE/initrd.img.tmp" "$CACHE/initrd.img"
printf 'KVER=%s\nKPKG=%s\nKMODDIR=%s\n' "$KVER" "$KPKG" "$KROOT/lib/modules" > "$CACHE/guest.env"
log "built $KPKG in $((SECONDS - t0)) s"
echo "$CACHE"
