#!/usr/bin/env bash
# The image for real, on a Docker engine (skipped, saying so, when none is reachable): it builds
# (--network host); its build stage holds no test-only packages; it runs with a named volume on
# a non-default --listen port (so its health check must follow the flag) and a read-only root
# file system; it becomes healthy; mlpctl trains and predicts through it; `docker stop` during a
# Train drains and exits 0 within docker stop's 10 s, keeping the steps; after `docker start`
# predictions are identical; mlpd runs as uid and gid 10001. Prints build time, image size,
# time to healthy and drain time on lines starting "figure:".
source "$(dirname "$0")/docker_common.bash"
require_engine

container=mlpd-test-$$
volume=mlpd-test-data-$$
cleanup() {
  docker rm -f "$container" >/dev/null 2>&1 || true
  docker volume rm "$volume" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

build_image
size=$(docker image inspect -f '{{.Size}}' "$image")
echo "figure: image size $((size / 1000000)) MB ($size bytes, docker image inspect)"

# Defect 4: with tests off, the build stage installs only what compiling needs.
docker build --network host --target build -t "$image-build-stage" "$source_dir" \
  >"$work/build-stage.log" 2>&1 || { tail -n 20 "$work/build-stage.log"; fail "build stage"; }
installed=$(docker run --rm --network host --entrypoint sh "$image-build-stage" -c \
  'for p in libgtest-dev libgmock-dev npm python3-grpcio python3-numpy haproxy; do
     dpkg-query -W -f="\${Package} \${Status}\n" "$p" 2>/dev/null | grep " installed$" || true
   done; command -v npm || true')
[ -z "$installed" ] || fail "the build stage holds test-only packages: $installed"
# --no-prune: only the tag goes; the compiled layers stay in the cache for the next build.
docker image rm --no-prune "$image-build-stage" >/dev/null
echo "  ok: the build stage has no test-only packages (gtest, npm, python, haproxy)"

port=$(free_port)
server=127.0.0.1:$port
docker volume create "$volume" >/dev/null
started=$(now_ms)
http_port=$(free_port)
docker run -d --name "$container" --network host --read-only -v "$volume:/data" "$image" \
  --listen="$server" --http-listen="127.0.0.1:$http_port" >/dev/null
wait_healthy "$container"
first_healthy=$(seconds_since "$started")
echo "figure: time to healthy $first_healthy s after docker run, on --listen=$server"
check_metrics "$http_port"
[ "$(docker inspect -f '{{.Config.User}}' "$container")" = "10001:10001" ] ||
  fail "the image's USER is $(docker inspect -f '{{.Config.User}}' "$container")"

train_and_predict
check_user_and_read_only
stop_during_train 10 docker stop "$container"
started=$(now_ms)
docker start "$container" >/dev/null
wait_healthy "$container"
echo "  ok: healthy again $(seconds_since "$started") s after docker start"
check_restarted
echo "figure: drain time $drain_seconds s from SIGTERM to exit during a Train (docker stop, grace 10 s)"
echo "docker_image: all checks passed (build $build_seconds s, image $((size / 1000000)) MB," \
  "healthy $first_healthy s after docker run, SIGTERM to exit during a Train $drain_seconds s)"
