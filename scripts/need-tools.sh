#!/usr/bin/env bash
# Checks that the tools a make target uses exist, looking in PATH and in the sbin directories a normal
# user's PATH often lacks (mkfs.xfs, losetup and nft live in /usr/sbin on Debian).
#   scripts/need-tools.sh TARGET TOOL=DEBIAN_PACKAGE ...
# Nothing missing: exit 0, silently. Something missing: as root, installs the packages with apt-get; when
# not root (or apt-get fails, e.g. another apt holds its lock), prints what is missing and the exact
# command that installs it, and exits 1. AUTOBOOTSTRAP_NO_INSTALL=1 never installs, even as root.
# SBIN_DIRS overrides the extra directories (tests use it).
set -uo pipefail
target=$1
shift
sbin_dirs=${SBIN_DIRS:-/usr/local/sbin /usr/sbin /sbin}

found() {
  command -v "$1" >/dev/null 2>&1 && return 0
  local d
  for d in $sbin_dirs; do [ -x "$d/$1" ] && return 0; done
  return 1
}

tools=()
packages=()
for pair in "$@"; do
  tool=${pair%%=*}
  package=${pair#*=}
  found "$tool" && continue
  tools+=("$tool")
  case " ${packages[*]-} " in *" $package "*) ;; *) packages+=("$package") ;; esac
done
[ ${#tools[@]} -eq 0 ] && exit 0

install="apt-get install -y --no-install-recommends ${packages[*]}"
if [ "$(id -u)" = 0 ] && [ -z "${AUTOBOOTSTRAP_NO_INSTALL:-}" ]; then
  echo "make $target: installing ${packages[*]} (for ${tools[*]})" >&2
  if apt-get update -qq && $install -qq; then exit 0; fi
  echo "make $target: apt-get could not install them (is another apt running, or the archive unreachable?)" >&2
fi
sudo=''
[ "$(id -u)" = 0 ] || sudo='sudo '
{
  echo "make $target needs: ${tools[*]} (looked in PATH and $sbin_dirs)"
  echo "install them with:"
  echo "  ${sudo}apt-get update && ${sudo}${install}"
} >&2
exit 1
