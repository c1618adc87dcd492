#!/usr/bin/env bash
# Scale-out for real, on loopback: 3 mlpd replicas behind HAProxy running deploy/haproxy.cfg,
# the very file compose and Kubernetes load (only the addresses come from the environment).
# Shows: every call of a session lands on its one replica; 300 sessions spread over the three
# (printed per replica); a killed replica makes only its own sessions UNAVAILABLE and they return
# with it; a dataset uploaded for a session lives beside it and trains it through the router;
# datasets without --session are found again by their name, and train --csv uploads its data
# beside its session.
set -euo pipefail
: "${MLPD_BIN:?MLPD_BIN must name the mlpd binary}"
: "${MLPCTL_BIN:?MLPCTL_BIN must name the mlpctl binary}"
source_dir=${MLPD_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PYTHON=/usr/bin/python3
sessions=${MLPD_SCALE_OUT_SESSIONS:-300}
work=$(mktemp -d)
pids=()
router_pid=""

fail() {
  echo "FAIL: $*" >&2
  for log in "$work"/*.log; do echo "--- $log" >&2; tail -n 5 "$log" >&2; done
  exit 1
}
cleanup() {
  for pid in "${pids[@]}" $router_pid; do
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
command -v haproxy >/dev/null || fail "haproxy is not installed (scripts/install-deps installs it)"

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_serving ADDRESS: until `mlpctl health` answers SERVING there (10 s at most).
wait_serving() {
  for _ in $(seq 200); do
    "$MLPCTL_BIN" --server "$1" --timeout 1 health >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  fail "$1 did not become SERVING within 10 s"
}
start_replica() {  # start_replica INDEX
  "$MLPD_BIN" --listen="127.0.0.1:${ports[$1]}" --data-dir="$work/data-$1" --threads=1 \
    --http-listen= \
    >>"$work/replica-$1.log" 2>&1 &
  pids[$1]=$!
  wait_serving "127.0.0.1:${ports[$1]}"
}
# through ARGS...: mlpctl through the router; stdout in $out, stderr in $err, exit code in $code.
through() {
  code=0
  "$MLPCTL_BIN" --server "$router" "$@" >"$work/out" 2>"$work/err" || code=$?
  out=$(cat "$work/out")
  err=$(cat "$work/err")
}
ok() {  # ok ARGS...: through the router, and it must succeed.
  through "$@"
  [ "$code" = 0 ] || fail "mlpctl $* through the router exited $code: $err"
}
# sessions_on INDEX: the session names replica INDEX holds, asked directly, one per line.
sessions_on() {
  "$MLPCTL_BIN" --server "127.0.0.1:${ports[$1]}" --json list |
    "$PYTHON" -c 'import json, sys
for s in json.load(sys.stdin): print(s["name"])'
}

ports=("$(free_port)" "$(free_port)" "$(free_port)")
router=127.0.0.1:$(free_port)
for i in 0 1 2; do start_replica "$i"; done
MLPD_ROUTER_LISTEN=$router MLPD_REPLICA_0=127.0.0.1:${ports[0]} \
  MLPD_REPLICA_1=127.0.0.1:${ports[1]} MLPD_REPLICA_2=127.0.0.1:${ports[2]} \
  haproxy -db -f "$source_dir/deploy/haproxy.cfg" >"$work/router.log" 2>&1 &
router_pid=$!
wait_serving "$router"
echo "3 replicas on ${ports[*]}, HAProxy (deploy/haproxy.cfg) on $router"

# ---- sessions spread over the replicas
# Created by a Python client (tests/python's generated stubs), which sets the routing
# header itself as clients in other languages must; one process keeps this to seconds.
"$PYTHON" - "$source_dir" "$router" "$sessions" <<'EOF' || fail "creating $sessions sessions"
import sys, tempfile
root, router, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, f"{root}/tests/python")
import grpc
from generated_stubs import load_stubs
with tempfile.TemporaryDirectory() as folder:
    model_pb2, pb, pb_grpc = load_stubs(folder)
    stub = pb_grpc.MlpdStub(grpc.insecure_channel(router))
    spec = model_pb2.ModelSpec(
        input_size=2,
        layers=[model_pb2.LayerSpec(units=8, activation=model_pb2.ACTIVATION_TANH),
                model_pb2.LayerSpec(units=2, activation=model_pb2.ACTIVATION_IDENTITY)],
        loss=model_pb2.LossSpec(kind=model_pb2.LOSS_KIND_CROSS_ENTROPY),
        optimizer=model_pb2.OptimizerSpec(kind=model_pb2.OPTIMIZER_KIND_SGD, learning_rate=0.01),
        init=model_pb2.InitSpec(kind=model_pb2.INIT_KIND_XAVIER, seed=1))
    for i in range(count):
        name = f"s{i:03d}"
        stub.CreateSession(pb.CreateSessionRequest(name=name, spec=spec),
                           metadata=[("x-mlpd-session", name)], timeout=30)
EOF
declare -A replica_of
counts=()
for i in 0 1 2; do
  sessions_on "$i" >"$work/on-$i"
  counts[$i]=$(wc -l <"$work/on-$i")
  while read -r name; do
    [ -z "${replica_of[$name]:-}" ] || fail "$name exists on replicas ${replica_of[$name]} and $i"
    replica_of[$name]=$i
  done <"$work/on-$i"
done
[ "${#replica_of[@]}" = "$sessions" ] || fail "the replicas hold ${#replica_of[@]} of $sessions sessions"
echo "figure: scale-out spread of $sessions sessions over replicas 0, 1, 2: ${counts[*]}"
for i in 0 1 2; do
  [ "${counts[$i]}" -ge $((sessions / 6)) ] ||
    fail "replica $i holds ${counts[$i]} of $sessions sessions (under a sixth)"
done

# ---- every call of a session lands on its replica, and its dataset beside it
"$PYTHON" -c 'print("\n".join(f"{i % 7},{i % 5},{i % 2}" for i in range(32)))' >"$work/rows.csv"
samples=()
for i in 0 1 2; do samples+=("$(head -n 1 "$work/on-$i")"); done
samples=($(printf '%s\n' "${samples[@]}"))
for name in "${samples[@]}"; do
  ok upload "data-$name" --csv "$work/rows.csv" --label-column --session "$name"
  ok step "$name" --csv "$work/rows.csv" --label-column
  ok train "$name" --dataset "data-$name" --epochs 2 --batch-size 16
  ok --json predict "$name" --csv "$work/rows.csv" --label-column
  echo "$out" >"$work/predicted-$name"
  ok save "$name"
  ok export "$name" --format native -o "$work/$name.ckpt"
  ok --json get "$name"
  steps=$("$PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1])["step_count"])' "$out")
  [ "$steps" = 5 ] || fail "$name: $steps steps after 1 step and 2 epochs of 2 batches: $out"
  home=${replica_of[$name]}
  direct=$("$MLPCTL_BIN" --server "127.0.0.1:${ports[$home]}" --json list --datasets)
  grep -q "\"data-$name\"" <<<"$direct" || fail "data-$name is not on $name's replica $home"
  for other in 0 1 2; do
    [ "$other" = "$home" ] && continue
    if "$MLPCTL_BIN" --server "127.0.0.1:${ports[$other]}" --json list --datasets |
        grep -q "\"data-$name\""; then
      fail "data-$name also landed on replica $other"
    fi
  done
done
echo "  ok: upload, step, train, predict, save, export and get of ${#samples[@]} sessions" \
  "reached each one's replica; each dataset sits beside its session"

# ---- a killed replica: only its own sessions are UNAVAILABLE, and they come back with it
kill -9 "${pids[1]}"
wait "${pids[1]}" 2>/dev/null || true
for name in $(head -q -n 3 "$work/on-0" "$work/on-1" "$work/on-2"); do
  through --json get "$name"
  if [ "${replica_of[$name]}" = 1 ]; then
    [ "$code" != 0 ] && grep -q UNAVAILABLE <<<"$err" ||
      fail "$name (on the killed replica) answered code $code: $out $err"
  else
    [ "$code" = 0 ] || fail "$name (replica ${replica_of[$name]}) failed while replica 1 was down: $err"
  fi
done
echo "  ok: with replica 1 killed its sessions get UNAVAILABLE, the others answer"
start_replica 1
sessions_on 1 | cmp -s - "$work/on-1" || fail "replica 1 came back without all its sessions"
for name in "${samples[@]}"; do
  ok --json predict "$name" --csv "$work/rows.csv" --label-column
  [ "$out" = "$(cat "$work/predicted-$name")" ] || fail "$name predicts differently after the restart"
  ok train "$name" --dataset "data-$name" --epochs 1 --batch-size 32
done
echo "  ok: replica 1 restarted: its ${counts[1]} sessions and their datasets are back, same predictions"

# ---- datasets without --session: routed by their own name, or placed beside their session
# holders NAME: the replicas holding dataset NAME, asked directly, on one line.
holders() {
  local found=()
  for i in 0 1 2; do
    "$MLPCTL_BIN" --server "127.0.0.1:${ports[$i]}" --json list --datasets |
      grep -q "\"name\": *\"$1\"" && found+=("$i")
  done
  echo "${found[*]}"
}
# Each upload without --session lands on one replica, chosen by the dataset's name, and get
# through the router finds it there every time (round robin would miss two in three).
declare -A dataset_home
for i in $(seq -w 0 11); do
  ok upload "shared-$i" --csv "$work/rows.csv" --label-column
  home=$(holders "shared-$i")
  [[ $home =~ ^[012]$ ]] || fail "shared-$i is on replicas '$home', expected exactly one"
  dataset_home[shared-$i]=$home
  for _ in 1 2 3; do ok get "shared-$i" --dataset; done
done
homes=$(printf '%s\n' "${dataset_home[@]}" | sort -u | paste -sd ' ')
[ "$(wc -w <<<"$homes")" -ge 2 ] || fail "12 datasets all went to replica $homes: not routed by name"
# A session on the dataset's replica trains on it, and so does a session named like the
# dataset (the same routing key); delete without --session removes it.
home=${dataset_home[shared-00]}
ok train "$(head -n 1 "$work/on-$home")" --dataset shared-00 --epochs 1 --batch-size 16
ok create shared-01 --layers 2,8,2 --activations tanh,identity --loss cross_entropy
[ "$(sessions_on "${dataset_home[shared-01]}" | grep -cx shared-01)" = 1 ] ||
  fail "session shared-01 is not on the replica of dataset shared-01"
ok train shared-01 --dataset shared-01 --epochs 1 --batch-size 16
ok delete shared-00 --dataset
[ -z "$(holders shared-00)" ] || fail "shared-00 is still on replica $(holders shared-00)"
echo "  ok: 12 datasets uploaded without --session (on replicas $homes) are found by get," \
  "trained on by sessions of their replica and deleted"
# train --csv uploads the data beside its session when that replica lacks it, once per replica.
expected=""
for name in "${samples[@]}"; do
  ok train "$name" --dataset on-demand --csv "$work/rows.csv" --label-column --epochs 1 \
    --batch-size 16
  grep -q "uploaded dataset on-demand to the server of session $name" <<<"$err" ||
    fail "train --csv of $name did not upload: $err"
  expected=$(printf '%s\n' $expected "${replica_of[$name]}" | sort | tr '\n' ' ' | sed 's/ $//')
  [ "$(holders on-demand)" = "$expected" ] ||
    fail "on-demand is on replicas '$(holders on-demand)' after training $name, expected '$expected'"
  ok train "$name" --dataset on-demand --csv "$work/rows.csv" --label-column --epochs 1 \
    --batch-size 16
  grep -q "dataset on-demand is already on the server of session $name" <<<"$err" ||
    fail "the second train --csv of $name uploaded again: $err"
done
echo "  ok: train --csv uploaded on-demand beside each session (replicas $expected), once per replica"
echo "scale_out: all checks passed (spread ${counts[*]})"
