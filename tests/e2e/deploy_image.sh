#!/usr/bin/env bash
# The image, as far as it can be tested without a Docker engine:
# 1. tests/deploy/check_image.py: the Dockerfile's required parts, and the runtime package list
#    covers every shared library ldd reports for the built mlpd and mlpctl (dpkg -S); mutated
#    copies (a package dropped, root user, a hard-coded health check, a gid other than the
#    uid, an ARG above the dependency layer, test packages always installed) must fail it.
# tests/e2e/docker_image.sh builds and runs the image itself when a Docker engine is reachable.
# 2. The command lines the image runs with under `docker run`, compose and the StatefulSet,
#    run here (listen address and data dir pointed at this test): the real mlpd must accept
#    every flag, pass the image's own health check (deploy/image/mlpd-health, which must find
#    the port in mlpd's last --listen), and after SIGTERM save and exit
#    before that deployment would SIGKILL it (docker stop's 10 s, stop_grace_period,
#    terminationGracePeriodSeconds).
set -euo pipefail
: "${MLPD_BIN:?MLPD_BIN must name the mlpd binary}"
: "${MLPCTL_BIN:?MLPCTL_BIN must name the mlpctl binary}"
source_dir=${MLPD_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -9 "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

python3 "$source_dir/tests/deploy/check_image.py" --root "$source_dir" "$MLPD_BIN" "$MLPCTL_BIN"

# ---- the checker catches a broken image definition
failures=0
expect_caught() {  # expect_caught FILE PATTERN REPLACEMENT EXPECTED_MESSAGE
  local scope=(--dockerfile-only)
  [ "$1" = scripts/install-deps ] && scope=("$MLPD_BIN" "$MLPCTL_BIN")
  rm -rf "$work/tree" && mkdir -p "$work/tree/scripts"
  cp "$source_dir/Dockerfile" "$source_dir/.dockerignore" "$work/tree/"
  cp "$source_dir/scripts/install-deps" "$work/tree/scripts/"
  python3 - "$work/tree/$1" "$2" "$3" <<'EOF'
import re, sys
path, pattern, replacement = sys.argv[1:]
text, count = re.subn(pattern, replacement, open(path).read(), count=1, flags=re.MULTILINE)
if count != 1:
    sys.exit(f"mutation pattern {pattern!r} not found in {path}")
open(path, "w").write(text)
EOF
  local output
  if output=$(python3 "$source_dir/tests/deploy/check_image.py" --root "$work/tree" \
      "${scope[@]}" 2>&1); then
    echo "NOT CAUGHT: $1: $2 -> $3"; failures=$((failures + 1))
  elif ! grep -qF -- "$4" <<<"$output"; then
    echo "WRONG MESSAGE for $1: $2 -> $3 (wanted '$4'):"; echo "$output"
    failures=$((failures + 1))
  else
    echo "caught: $1: $2 -> $3"
  fi
}
expect_caught scripts/install-deps 'libonnx1 ' '' 'comes from libonnx1'
expect_caught scripts/install-deps 'libdnnl2' 'libdnnl-no-such-package' \
  'libdnnl-no-such-package exists neither'
expect_caught Dockerfile '^USER 10001:10001$' 'USER root' 'runs as root'
expect_caught Dockerfile 'CMD \["mlpd-health"\]' 'CMD ["true"]' 'does not run mlpd-health'
expect_caught Dockerfile 'CMD \["mlpd-health"\]' \
  'CMD mlpctl --server 127.0.0.1:50051 health' 'does not run mlpd-health'
expect_caught Dockerfile '^USER 10001:10001' 'USER 10001' 'expected a numeric uid:gid'
expect_caught Dockerfile '--gid 10001 --no-create-home' '--user-group --no-create-home' \
  'no user is created with uid and gid 10001'
expect_caught Dockerfile '^(COPY scripts/install-deps scripts/install-deps)' \
  'ARG MLPD_RUN_TESTS=0\n\1' 'precedes the dependency layer'
expect_caught Dockerfile 'install-deps --build' 'install-deps' 'installs test-only packages'
expect_caught Dockerfile 'if \[ "\$MLPD_RUN_TESTS" = "1" \]; then scripts/install-deps' \
  'true; then scripts/install-deps' 'even when MLPD_RUN_TESTS is not 1'
expect_caught Dockerfile 'COPY --from=build (\S+) (\S+) ' 'COPY --from=build \1 \2 /src/build/bench/mlpd-bench ' \
  'expected exactly mlpd and mlpctl'
expect_caught Dockerfile '^EXPOSE 50051' 'EXPOSE 8080' 'misses the --listen port'
expect_caught Dockerfile 'scripts/build --target' 'make --target' 'does not RUN scripts/build'
expect_caught Dockerfile '--drain-seconds=5' '--drain-seconds=30' "under docker stop's 10 s"
expect_caught .dockerignore '^data$' '' '.dockerignore does not exclude data'
if [ "$failures" -ne 0 ]; then echo "deploy_image: $failures mutations not caught"; exit 1; fi

# ---- the containers' command lines, outside a container
# command_line WHICH: the argv mlpd gets in that deployment, with the data dir pointed at this
# test and the listen address at this test's port (every other flag exactly as deployed: for
# `docker run`, the image's ENTRYPOINT then `--listen 127.0.0.1:PORT` as a user would append
# it, so the health check must follow the last --listen), then on a last line the seconds that
# deployment gives mlpd between SIGTERM and SIGKILL.
command_line() {
  python3 - "$source_dir" "$1" "$port" "$work/data-$1" <<'EOF'
import json, re, sys, yaml
root, which, port, data = sys.argv[1:]
dockerfile = open(f"{root}/Dockerfile").read()
argv = json.loads(re.findall(r"^ENTRYPOINT\s+(\[.*\])\s*$", dockerfile, re.M)[-1])[1:]
grace = 10  # docker stop's default
if which == "docker-run":
    # A port nothing listens on: were the check to dial the image's default, it would fail.
    argv = [re.sub(r"^--listen=.*", "--listen=127.0.0.1:1", a) for a in argv]
    argv += ["--listen", f"127.0.0.1:{port}"]
elif which == "compose":
    service = yaml.safe_load(open(f"{root}/deploy/docker-compose.yml"))["services"]["mlpd"]
    argv += [re.sub(r"\$\{MLPD_PORT:-\d+\}", port, str(a)) for a in service.get("command", [])]
    grace = int(re.match(r"(\d+)s$", service["stop_grace_period"]).group(1))
elif which == "kubernetes":
    sts = yaml.safe_load(open(f"{root}/deploy/k8s/statefulset.yaml"))["spec"]["template"]["spec"]
    argv += [str(a) for a in sts["containers"][0]["args"]]
    grace = int(sts["terminationGracePeriodSeconds"])
if which != "docker-run":
    argv = [re.sub(r"^--listen=.*", f"--listen=127.0.0.1:{port}", a) for a in argv]
argv = [re.sub(r"^--data[-_]dir=.*", f"--data-dir={data}", a) for a in argv]
print("\n".join(argv + [str(grace)]))
EOF
}

# The image's health check script, with this test's mlpctl first on PATH.
mkdir -p "$work/bin"
ln -s "$MLPCTL_BIN" "$work/bin/mlpctl"
health="$source_dir/deploy/image/mlpd-health"
for deployment in docker-run compose kubernetes; do
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mapfile -t argv < <(command_line "$deployment")
  grace=${argv[-1]}
  unset 'argv[-1]'
  echo "$deployment: mlpd ${argv[*]} (SIGKILL after ${grace} s)"
  # --http-listen= last: the default port 9464 would collide with other servers on this host.
  "$MLPD_BIN" "${argv[@]}" --http-listen= >"$work/server.log" 2>&1 &
  server_pid=$!
  healthy=""
  for _ in $(seq 1 100); do
    if PATH="$work/bin:$PATH" MLPD_PID=$server_pid "$health" >/dev/null 2>&1; then
      healthy=yes; break
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$healthy" ]; then
    echo "FAIL: the image's health check (mlpd-health) never passed:"; cat "$work/server.log"
    exit 1
  fi
  echo "  ok: the image's health check (mlpd-health) passes on the last --listen port"
  MLPD_SERVER=127.0.0.1:$port "$MLPCTL_BIN" create kept --layers 4,8,2 \
    --activations relu,identity --loss mse >/dev/null
  started=$(date +%s%N)
  kill -TERM "$server_pid"
  for _ in $(seq 1 $((grace * 10))); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$server_pid" 2>/dev/null; then
    echo "FAIL: mlpd still runs ${grace} s after SIGTERM: it would be SIGKILLed"
    cat "$work/server.log"; exit 1
  fi
  wait "$server_pid" || { echo "FAIL: mlpd exited non-zero after SIGTERM"; cat "$work/server.log"; exit 1; }
  server_pid=""
  echo "  ok: exited $(( ($(date +%s%N) - started) / 1000000 )) ms after SIGTERM"
  if ! ls "$work/data-$deployment/sessions/" | grep -q '^kept\.'; then
    echo "FAIL: the session was not saved"; ls -R "$work/data-$deployment"; exit 1
  fi
  echo "  ok: the session was saved under the data dir"
done
echo "deploy_image: all checks passed"
