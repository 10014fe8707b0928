#!/usr/bin/env bash
# Shows that the evidence end-to-end cases catch what they claim: builds the daemon of an older commit
# (default: the last one before node identity and data-directory evidence) and runs the cases against it.
# Every case must FAIL there. Run inside a private network namespace, like every socket test:
#   unshare -n bash -c 'ip link set lo up && scripts/evidence-fails-on.sh [COMMIT]'
set -euo pipefail
commit="${1:-51a6de6}"
repo="$(git rev-parse --show-toplevel)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git -C "$repo" archive "$commit" | tar -x -C "$work"
ln -s "$repo/node_modules" "$work/node_modules"
(cd "$work" && node_modules/.bin/bun build --compile --minify-syntax --define 'AUTOBOOTSTRAP_BUILD="old"' src/main.ts --outfile "$work/autobootstrap-old" >/dev/null)
cd "$repo"
out="$(AUTOBOOTSTRAP_BINARY="$work/autobootstrap-old" node_modules/.bin/bun test --timeout 120000 \
  test/e2e/evidence-identity.test.ts test/e2e/evidence-etcd.test.ts -t 'multi-homed|NODE_IP|Preparing|Failed after|errors stay unknown' 2>&1 || true)"
pass="$(grep -cE '^\(pass\)' <<<"$out" || true)"
fail="$(grep -cE '^\(fail\)' <<<"$out" || true)"
grep -E '^\((pass|fail)\)' <<<"$out"
echo "against $commit: $fail failed, $pass passed"
[ "$pass" -eq 0 ] && [ "$fail" -gt 0 ]
