#!/usr/bin/env bash
# Packs one architecture's image root (manifest.yaml + rootfs/) into an OCI image archive, without a
# container engine and without network: umoci writes the OCI layout, one layer holding exactly
# /manifest.yaml and /rootfs/..., and the layout is tarred into an `oci-archive` (what skopeo reads).
#
# usage: build-image.sh <amd64|arm64> <image root> <version> <out .oci.tar>
set -euo pipefail
umask 022

arch=$1 root=$2 version=$3 out=$4
# Reproducible: every timestamp is the last commit's (or SOURCE_DATE_EPOCH when given).
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
layout="$work/oci"
ref="$layout:$version"

# The layer: exactly manifest.yaml and rootfs/, root-owned, sorted, fixed times; ustar keeps it readable
# by every tar implementation (imager, containerd, skopeo).
tar --format=ustar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
  -C "$root" -cf "$work/layer.tar" manifest.yaml rootfs

umoci init --layout "$layout"
umoci new --image "$ref"
umoci raw add-layer --image "$ref" --history.created "$created" --history.author autobootstrap \
  --history.created_by "scripts/extension/build-image.sh (make image)" --history.comment "manifest.yaml and rootfs/" "$work/layer.tar"
umoci config --no-history --image "$ref" --os linux --architecture "$arch" --created "$created" \
  --author autobootstrap --config.label "org.opencontainers.image.version=$version"
umoci gc --layout "$layout"

mkdir -p "$(dirname "$out")"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -C "$layout" -cf "$out.tmp" .
mv "$out.tmp" "$out"
