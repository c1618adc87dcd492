# Sourced by the tests that build and run the image (docker_image.sh, docker_compose.sh); not a
# test itself. A test skips (exit 77, which ctest reports as "Skipped") when no Docker engine
# is reachable, unless MLPD_REQUIRE_DOCKER=1 (set by .ci/run once it started an engine), where
# a missing engine fails instead. Every build and container uses the host network and
# 127.0.0.1 only: these machines allow no container bridge.
set -euo pipefail

: "${MLPCTL_BIN:?MLPCTL_BIN must name the mlpctl binary}"
source_dir=${MLPD_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PYTHON=/usr/bin/python3
source "$(dirname "${BASH_SOURCE[0]}")/wait_common.bash"
work=$(mktemp -d)
# The tag the image tests build; kept between runs so the layer cache makes rebuilds cheap.
image=${MLPD_TEST_IMAGE:-mlpd:test}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# skip_or_fail REASON: skipping is fine on a machine without an engine, not in CI with one.
skip_or_fail() {
  if [ "${MLPD_REQUIRE_DOCKER:-0}" = 1 ]; then fail "$1 (MLPD_REQUIRE_DOCKER=1)"; fi
  echo "SKIPPED $(basename "$0"): $1"
  exit 77
}

require_engine() {
  command -v docker >/dev/null 2>&1 || skip_or_fail "no docker client installed"
  docker info >/dev/null 2>&1 ||
    skip_or_fail "no Docker engine reachable (DOCKER_HOST=${DOCKER_HOST:-unset}; start one with ../shared/container/engine-up)"
}

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# seconds_since START_MS: elapsed seconds with one decimal.
seconds_since() {
  local elapsed=$(($(now_ms) - $1))
  printf '%d.%d' $((elapsed / 1000)) $((elapsed % 1000 / 100))
}

# build_image [extra docker build flags]: builds $image from the source tree, with the flags in
# MLPD_DOCKER_BUILD_FLAGS too (e.g. --no-cache: a build from nothing but the base image); sets
# and prints $build_seconds.
build_image() {
  local started flags
  read -r -a flags <<<"${MLPD_DOCKER_BUILD_FLAGS:-}"
  started=$(now_ms)
  if ! docker build --network host "${flags[@]}" -t "$image" "$@" "$source_dir" \
      >"$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log" >&2
    fail "docker build failed"
  fi
  build_seconds=$(seconds_since "$started")
  echo "figure: build time $build_seconds s (docker build --network host ${flags[*]} -t $image $*)"
}

# wait_healthy CONTAINER [SECONDS]: waits until Docker reports the image's health check healthy.
wait_healthy() {
  local container=$1 limit=${2:-90} started status
  started=$(now_ms)
  while :; do
    status=$(docker inspect -f '{{.State.Status}} {{.State.Health.Status}}' "$container")
    case $status in
      "running healthy") break ;;
      running\ *) ;;
      *) docker logs "$container" 2>&1 | tail -n 20 >&2; fail "container is $status" ;;
    esac
    if [ $(($(now_ms) - started)) -gt $((limit * 1000)) ]; then
      docker inspect -f '{{json .State.Health}}' "$container" >&2
      fail "not healthy within $limit s"
    fi
    sleep 0.2
  done
}

# check_metrics HTTP_PORT: the container's /metrics answers on the host's loopback (host
# network) with mlpd's families; healthy means the HTTP port is open too.
check_metrics() {
  local text
  text=$(curl -fsS "http://127.0.0.1:$1/metrics") || fail "GET http://127.0.0.1:$1/metrics failed"
  grep -q '^mlpd_sessions_limit ' <<<"$text" || fail "/metrics on port $1 has no mlpd_sessions_limit"
  grep -q '^grpc_server_started_total{' <<<"$text" ||
    fail "/metrics on port $1 has no grpc_server_started_total"
  echo "  ok: /metrics on 127.0.0.1:$1"
}

# mlpctl ARGS...: the host's mlpctl against $server; stdout in $out, fails on a non-zero exit.
mlpctl() {
  if ! out=$("$MLPCTL_BIN" --server "$server" "$@" 2>"$work/err"); then
    fail "mlpctl $* failed: $(cat "$work/err")"
  fi
}

json_get() {
  "$PYTHON" -c 'import json, sys; v = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2" ||
    fail "not JSON or no $2 in: $1"
}

# train_and_predict: a trained session `kept` and its predictions in $predicted, through the
# deployment at $server.
train_and_predict() {
  "$PYTHON" -c 'print("\n".join(f"{i % 7},{i % 5},{i % 2}" for i in range(64)))' >"$work/rows.csv"
  mlpctl upload rows --csv "$work/rows.csv" --label-column
  mlpctl create kept --layers 2,16,2 --activations tanh,identity --loss cross_entropy \
    --optimizer adam --lr 0.01 --seed 7
  mlpctl train kept --dataset rows --epochs 20 --batch-size 16
  mlpctl --json predict kept --csv "$work/rows.csv" --label-column
  predicted=$out
  mlpctl --json get kept
  kept_steps=$(json_get "$out" 'v["step_count"]')
  [ "$kept_steps" = 80 ] || fail "kept trained $kept_steps steps, expected 20 epochs x 4 = 80"
  echo "  ok: trained 80 steps and predicted through $server"
}

# stop_during_train GRACE STOP-COMMAND...: starts a long Train of session `long`, waits for its
# first progress line, runs the stop command and checks that mlpd drained and exited 0 (Docker
# did not SIGKILL it) within GRACE seconds of its SIGTERM. Sets $reported_steps,
# $drain_seconds (SIGTERM to exit, from mlpd's log and Docker's exit time) and $stop_seconds
# (the stop command's wall time, client start-up included).
stop_during_train() {
  local grace=$1 started code
  shift
  mlpctl create long --layers 2,16,2 --activations tanh,identity --loss cross_entropy --lr 0.01
  # A progress message per 5000 steps: at ~20 per second the client keeps up. (Reporting every
  # 20 steps queues far more than mlpctl reads, and mlpd's exit then waits for that backlog
  # after the drain, past the grace period.)
  "$MLPCTL_BIN" --server "$server" train long --dataset rows --epochs 1000000 --batch-size 1 \
    --report-every 5000 >"$work/train.out" 2>"$work/train.err" &
  local train_pid=$!
  wait_for_line "$work/train.out" "steps_done=" "$train_pid" 30
  started=$(now_ms)
  "$@" >/dev/null 2>&1
  stop_seconds=$(seconds_since "$started")
  code=0
  wait "$train_pid" || code=$?
  reported_steps=$(sed -n 's/.*steps_done=\([0-9]*\)\/.*/\1/p' "$work/train.out" | tail -n 1)
  [ -n "$reported_steps" ] && [ "$reported_steps" -gt 0 ] || fail "no steps reported"
  local state
  state=$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}} oom={{.State.OOMKilled}}' "$container")
  [ "$state" = "exited 0 oom=false" ] || fail "after the stop the container is '$state' (137: SIGKILLed)"
  docker logs "$container" >"$work/container.log" 2>&1
  grep -q "stopped after draining" "$work/container.log" ||
    fail "no 'stopped after draining' in the log: $(tail -n 5 "$work/container.log")"
  drain_seconds=$("$PYTHON" - "$work/container.log" "$(docker inspect -f '{{.State.FinishedAt}}' "$container")" <<'EOF'
import datetime, re, sys
log, finished = open(sys.argv[1]).read(), sys.argv[2]
def parse(stamp):  # 2026-11-30T10:05:59.026Z or Docker's nanosecond form
    stamp = re.sub(r"(\.\d{6})\d*", r"\1", stamp.replace("Z", "+00:00"))
    return datetime.datetime.fromisoformat(stamp)
term = re.findall(r"^(\S+) mlpd: received SIGTERM", log, re.M)[-1]
print(f"{(parse(finished) - parse(term)).total_seconds():.1f}")
EOF
  )
  "$PYTHON" -c "import sys; sys.exit(0 if $drain_seconds < $grace else 1)" ||
    fail "mlpd took $drain_seconds s from SIGTERM to exit, the grace period is $grace s"
  echo "  ok: stopped during a Train: SIGTERM to exit $drain_seconds s (grace $grace s; the stop" \
    "command took $stop_seconds s), exit 0, the client saw $reported_steps steps" \
    "(train exited $code: $(tail -n 1 "$work/train.err"))"
}

# check_restarted: after a restart, the trained session predicts exactly as before and the
# interrupted one kept at least the steps its client saw.
check_restarted() {
  mlpctl --json predict kept --csv "$work/rows.csv" --label-column
  [ "$out" = "$predicted" ] || fail "predictions changed across the restart"
  mlpctl --json get long
  local steps
  steps=$(json_get "$out" 'v["step_count"]')
  [ "$steps" -ge "$reported_steps" ] || fail "long has $steps steps, its client saw $reported_steps"
  echo "  ok: identical predictions after the restart; long kept $steps steps (>= $reported_steps seen)"
}

# check_user_and_read_only: mlpd runs as uid and gid 10001, its files on the volume are theirs,
# and the root file system is read-only while mlpd works.
check_user_and_read_only() {
  local ids owner
  ids=$(docker exec "$container" sh -c 'echo "$(id -u):$(id -g)"')
  [ "$ids" = "10001:10001" ] || fail "mlpd runs as $ids, expected 10001:10001"
  owner=$(docker exec "$container" stat -c '%u:%g' /data/sessions/kept.ckpt)
  [ "$owner" = "10001:10001" ] || fail "the volume's session file is owned by $owner"
  [ "$(docker inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$container")" = true ] ||
    fail "the root file system is not read-only"
  if docker exec "$container" touch /usr/local/bin/written 2>"$work/touch.err"; then
    fail "wrote to the read-only root file system"
  fi
  grep -q "Read-only file system" "$work/touch.err" || fail "unexpected: $(cat "$work/touch.err")"
  echo "  ok: uid and gid 10001 (files on the volume too); read-only root file system"
}
