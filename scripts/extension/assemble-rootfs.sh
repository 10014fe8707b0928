#!/usr/bin/env bash
# Assembles one architecture's extension image root:
#   <out>/manifest.yaml
#   <out>/rootfs/usr/local/etc/containers/autobootstrap.yaml          the service spec
#   <out>/rootfs/usr/local/lib/containers/autobootstrap/               the container root:
#       autobootstrap                  the Bun-compiled binary (dynamically linked against glibc)
#       lib/<triplet>/                 its loader and libraries, from Debian's libc6 package of that
#                                      architecture (the daemon also dlopen()s libc.so.6 for mount(2))
#       lib64/ or lib/ld-linux-*       the loader at the path the binary's PT_INTERP names
#       usr/share/doc/libc6/copyright  glibc's licence, shipped with its libraries
#       mount points of the spec       empty directories, so the tree works even on a read-only root
# Used by `make rootfs` and by the Containerfile, so both produce the same tree.
#
# usage: assemble-rootfs.sh <amd64|arm64> <binary> <libc6 .deb> <version> <out dir>
set -euo pipefail
umask 022

arch=$1 binary=$2 deb=$3 version=$4 out=$5
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

case "$arch" in
  amd64) triplet=x86_64-linux-gnu; loader=ld-linux-x86-64.so.2; interp_dir=lib64 ;;
  arm64) triplet=aarch64-linux-gnu; loader=ld-linux-aarch64.so.1; interp_dir=lib ;;
  *) echo "unsupported architecture: $arch" >&2; exit 2 ;;
esac
# What a Bun binary needs: its NEEDED entries (libc, the loader, libpthread, libdl, libm). Nothing else is
# loaded at run time: bun:ffi opens libc.so.6, already in this list.
libs=("$loader" libc.so.6 libpthread.so.0 libdl.so.2 libm.so.6)

rm -rf "$out"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work/libc6"

ctr="$out/rootfs/usr/local/lib/containers/autobootstrap"
install -d -m 0755 "$ctr/lib/$triplet" "$ctr/$interp_dir" "$out/rootfs/usr/local/etc/containers"
install -m 0755 "$binary" "$ctr/autobootstrap"
for lib in "${libs[@]}"; do
  src="$work/libc6/lib/$triplet/$lib"
  [ -f "$src" ] && [ ! -L "$src" ] || { echo "$lib not found as a regular file in $deb" >&2; exit 1; }
  install -m "$(stat -c %a "$src")" "$src" "$ctr/lib/$triplet/$lib"
done
# The loader where PT_INTERP looks for it; relative, so the link resolves the same inside the container
# and in the build tree.
if [ "$interp_dir" = lib64 ]; then
  ln -s "../lib/$triplet/$loader" "$ctr/lib64/$loader"
else
  ln -s "$triplet/$loader" "$ctr/lib/$loader"
fi
install -D -m 0644 "$work/libc6/usr/share/doc/libc6/copyright" "$ctr/usr/share/doc/libc6/copyright"

# Mount points named by the spec, plus those every container gets (proc, sys, dev, run).
for dir in proc sys dev run etc tmp host/proc system/secrets/etcd system/state system/run/machined run/autobootstrap var/lib/autobootstrap; do
  install -d -m 0755 "$ctr/$dir"
done

install -m 0644 "$repo/extension/autobootstrap.yaml" "$out/rootfs/usr/local/etc/containers/autobootstrap.yaml"
sed "s/@VERSION@/$version/" "$repo/extension/manifest.yaml" >"$out/manifest.yaml"
chmod 0644 "$out/manifest.yaml"
# Directories 0755 whatever the umask of the extraction was; nothing writable by others.
find "$out" -type d -exec chmod 0755 {} +
