#!/usr/bin/env bash
# Pushes the per-architecture OCI archives of `make image` as one multi-arch image IMAGE:VERSION
# (an image index over linux/amd64 and linux/arm64), which is what imager's --system-extension-image
# pulls for the architecture it builds. Needs buildah (Debian: apt-get install buildah) and a registry
# login (buildah login <registry>). Not run in CI.
#
# usage: push-image.sh <image, e.g. ghcr.io/example/autobootstrap> <version> <archive>...
set -euo pipefail

image=$1 version=$2
shift 2
command -v buildah >/dev/null || { echo 'push-image: needs buildah (apt-get install buildah)' >&2; exit 2; }

list="autobootstrap-push-$$"
trap 'buildah manifest rm "$list" >/dev/null 2>&1 || true' EXIT
buildah manifest create "$list"
for archive in "$@"; do
  buildah manifest add "$list" "oci-archive:$archive"
done
buildah manifest push --all "$list" "docker://$image:$version"
echo "pushed $image:$version"
