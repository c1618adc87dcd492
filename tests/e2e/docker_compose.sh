#!/usr/bin/env bash
# The compose files for real, with Compose v2 (`docker compose`) where present, else Debian's
# docker-compose 1.29 (skipped, saying so, without an engine or either tool):
# - deploy/docker-compose.yml: builds, starts healthy, trains and predicts, `compose stop`
#   during a Train drains and exits 0 within stop_grace_period, `compose start` brings the
#   session back with identical predictions; uid and gid 10001; read-only root file system.
# - deploy/docker-compose.scale-out.yml: 3 replicas and the router become healthy and running;
#   sessions created through the router spread over the replicas and answer through it.
source "$(dirname "$0")/docker_common.bash"
require_engine
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  skip_or_fail "neither Compose v2 (docker compose) nor docker-compose is installed"
fi
project=mlpdtest$$
file=""
c() { "${compose[@]}" -p "$project" -f "$file" "$@"; }
cleanup() {
  for file in "$source_dir/deploy/docker-compose.yml" "$source_dir/deploy/docker-compose.scale-out.yml"; do
    c down -v >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
echo "compose: ${compose[*]} $("${compose[@]}" version --short 2>/dev/null)"
export MLPD_IMAGE=$image MLPD_ROUTER_IMAGE=$image-router

# ---- one replica
file=$source_dir/deploy/docker-compose.yml
port=$(free_port)
server=127.0.0.1:$port
http_port=$(free_port)
export MLPD_PORT=$port MLPD_HTTP_PORT=$http_port
c config -q || fail "${compose[*]} refuses $file"
started=$(now_ms)
c build >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log"; fail "compose build"; }
echo "compose build (layer cache of the image test) in $(seconds_since "$started") s"
started=$(now_ms)
c up -d >"$work/up.log" 2>&1 || { cat "$work/up.log"; fail "compose up"; }
container=$(c ps -q mlpd)
wait_healthy "$container"
compose_healthy=$(seconds_since "$started")
echo "figure: compose time to healthy $compose_healthy s after compose up, on $server"
check_metrics "$http_port"
train_and_predict
check_user_and_read_only
grace=$(sed -n 's/^ *stop_grace_period: *\([0-9]*\)s$/\1/p' "$file")
stop_during_train "$grace" c stop
echo "figure: compose drain time $drain_seconds s from SIGTERM to exit during a Train (compose stop, grace $grace s)"
c start >/dev/null 2>&1
wait_healthy "$container"
check_restarted
c down -v >/dev/null 2>&1

# ---- three replicas behind the router
file=$source_dir/deploy/docker-compose.scale-out.yml
router_port=$(free_port)
replica_ports=("$(free_port)" "$(free_port)" "$(free_port)")
replica_http_ports=("$(free_port)" "$(free_port)" "$(free_port)")
export MLPD_PORT=$router_port MLPD_REPLICA_PORT_0=${replica_ports[0]} \
  MLPD_REPLICA_PORT_1=${replica_ports[1]} MLPD_REPLICA_PORT_2=${replica_ports[2]} \
  MLPD_REPLICA_HTTP_PORT_0=${replica_http_ports[0]} \
  MLPD_REPLICA_HTTP_PORT_1=${replica_http_ports[1]} \
  MLPD_REPLICA_HTTP_PORT_2=${replica_http_ports[2]}
c config -q || fail "${compose[*]} refuses $file"
c build >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log"; fail "compose build"; }
started=$(now_ms)
c up -d >"$work/up.log" 2>&1 || { cat "$work/up.log"; fail "compose up (scale-out)"; }
for service in mlpd-0 mlpd-1 mlpd-2; do wait_healthy "$(c ps -q "$service")"; done
server=127.0.0.1:$router_port
for _ in $(seq 100); do
  "$MLPCTL_BIN" --server "$server" --timeout 1 health >/dev/null 2>&1 && break
  sleep 0.1
done
scale_out_healthy=$(seconds_since "$started")
echo "figure: compose scale-out: 3 replicas healthy and the router serving $scale_out_healthy s after compose up"
for http_port in "${replica_http_ports[@]}"; do check_metrics "$http_port"; done
for i in $(seq -w 0 29); do mlpctl create "c$i" --layers 2,4,2 --activations tanh,identity --loss mse; done
counts=()
for port in "${replica_ports[@]}"; do
  listed=$("$MLPCTL_BIN" --server "127.0.0.1:$port" --json list)
  counts+=("$(json_get "$listed" 'len(v)')")
done
[ $((counts[0] + counts[1] + counts[2])) = 30 ] || fail "the replicas hold ${counts[*]} of 30 sessions"
for count in "${counts[@]}"; do [ "$count" -gt 0 ] || fail "a replica got no session: ${counts[*]}"; done
for i in $(seq -w 0 29); do mlpctl get "c$i"; done
echo "  ok: 30 sessions through the router spread ${counts[*]} over the replicas and answer through it"
echo "docker_compose: all checks passed (healthy $compose_healthy s, drain $drain_seconds s;" \
  "scale-out serving $scale_out_healthy s after up)"
