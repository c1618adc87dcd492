#!/usr/bin/env bash
# Crash safety of the data dir with the real binaries: the server is killed with SIGKILL at
# random moments while clients train and save, 10 times. After each restart every session
# loads, nothing is quarantined, each session is exactly at its on-disk snapshot (read
# independently by tests/python/snapshot_steps.py) and no step count acknowledged by
# `mlpctl save` is lost. Then a graceful restart keeps exports bit-identical, and damaged files
# (truncated, flipped byte, wrong version, garbage, empty) are quarantined, logged, and the
# rest loads.
source "$(dirname "$0")/mlpctl_common.bash"
: "${MLPD_SOURCE_DIR:?MLPD_SOURCE_DIR must name the source tree}"
rounds=${CRASH_ROUNDS:-10}
sessions=(alpha beta gamma)
snapshot_steps() {
  "$PYTHON" "$MLPD_SOURCE_DIR/tests/python/snapshot_steps.py" "$work/data" "$work/py" ||
    fail "a snapshot on disk is damaged"
}
mkdir -p "$work/py"
protoc -I "$MLPD_SOURCE_DIR/proto" --python_out "$work/py" \
  "$MLPD_SOURCE_DIR/proto/mlpd/v1/model.proto" || fail "protoc --python_out failed"

# Frequent snapshots by count and by time, so kills land before, during and after writes.
server_flags=(--threads 1 --checkpoint_every 25 --checkpoint_interval 0.3)
# Abseil spells multi-word flags with underscores; accept a binary that takes dashes.
case $("$MLPD_BIN" --helpfull 2>&1 || true) in
  *--checkpoint_every*) ;;
  *) server_flags=(--threads 1 --checkpoint-every 25 --checkpoint-interval 0.3) ;;
esac
start_server "${server_flags[@]}"

write_class_csv "$work/train.csv"
run 0 upload train --csv "$work/train.csv" --label-column
for s in "${sessions[@]}"; do
  run 0 create "$s" --layers 8,32,3 --activations tanh,identity --loss cross_entropy \
    --optimizer adam --lr 0.01 --init xavier --seed 3
  : >"$work/acked-$s"
done

# trainer SESSION: long Train calls (1200 steps each) until $work/stop exists, so kills land
# inside Train calls and inside the snapshots they trigger every 25 steps.
trainer() {
  while [ ! -e "$work/stop" ]; do
    "$MLPCTL_BIN" --timeout 5 train "$1" --dataset train --epochs 40 --batch-size 10 --shuffle \
      >/dev/null 2>&1 || sleep 0.05
  done
}

# saver FIRST: SaveSession on each session in turn, starting with session number FIRST (so
# every session gets saves acknowledged over the rounds), until $work/stop exists; each
# acknowledged step count is appended to $work/acked-SESSION.
saver() {
  local first=$1 i s reply step
  while [ ! -e "$work/stop" ]; do
    for i in "${!sessions[@]}"; do
      s=${sessions[$(((first + i) % ${#sessions[@]}))]}
      if reply=$("$MLPCTL_BIN" --timeout 5 --json save "$s" 2>/dev/null); then
        step=${reply##*\"step_count\":}
        step=${step%%[!0-9]*}
        [ -n "$step" ] && echo "$step" >>"$work/acked-$s"
      fi
    done
  done
}

# check_round ROUND ON_DISK_JSON LIST_JSON: every session is listed, exactly at the step count
# of its snapshot on disk at the kill, and not below any save acknowledged before the kill.
check_round() {
  "$PYTHON" - "$@" "$work" "${sessions[@]}" <<'PY' || fail "round $1: see above"
import json, os, sys
round_number, on_disk, listed, work = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
names = sys.argv[5:]
steps = {s["name"]: s["step_count"] for s in listed}
problems, summary = [], []
if sorted(steps) != sorted(names):
    problems.append("sessions after restart are %s, expected %s" % (sorted(steps), sorted(names)))
for name in names:
    with open(os.path.join(work, "acked-" + name)) as f:
        acked = max([int(line) for line in f if line.strip()] or [0])
    step, snapshot = steps.get(name, -1), on_disk.get(name, 0)
    if step != snapshot:
        problems.append("%s restarted at step %d, its snapshot on disk holds %d" % (name, step, snapshot))
    if step < acked:
        problems.append("%s restarted at step %d, below the acknowledged save at %d" % (name, step, acked))
    summary.append("%s=%d (acked %d)" % (name, step, acked))
print("round %s: %s" % (round_number, " ".join(summary)))
for problem in problems:
    print("FAIL: round %s: %s" % (round_number, problem), file=sys.stderr)
sys.exit(1 if problems else 0)
PY
}

start=$SECONDS
for round in $(seq "$rounds"); do
  rm -f "$work/stop"
  client_pids=()
  for s in "${sessions[@]}"; do
    trainer "$s" &
    client_pids+=($!)
  done
  saver "$round" &
  client_pids+=($!)
  sleep "$("$PYTHON" -c 'import random; print(round(random.uniform(0.4, 1.2), 2))')"
  kill -KILL "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
  touch "$work/stop"
  wait "${client_pids[@]}" 2>/dev/null || true

  on_disk=$(snapshot_steps)
  start_server "${server_flags[@]}"
  [ -z "$(ls -A "$work/data/quarantine")" ] ||
    fail "round $round quarantined: $(ls "$work/data/quarantine")"
  grep -q quarantined "$work/mlpd.log" && fail "round $round: the server log reports a quarantine"
  run 0 --json list
  check_round "$round" "$on_disk" "$out"
done
echo "$rounds kills survived in $((SECONDS - start)) s"
total_acked=$(cat "$work"/acked-* | wc -l)
[ "$total_acked" -gt 0 ] || fail "no save was acknowledged: the test did not exercise SaveSession"

# Graceful restart: every session comes back bit for bit.
for s in "${sessions[@]}"; do run 0 export "$s" --format native -o "$work/$s.before"; done
stop_server
start_server "${server_flags[@]}"
for s in "${sessions[@]}"; do
  run 0 export "$s" --format native -o "$work/$s.after"
  cmp -s "$work/$s.before" "$work/$s.after" || fail "$s changed across a graceful restart"
done
run 0 --json list --datasets
[ "$(json_get "$out" 'v[0]["name"]')" = train ] || fail "dataset after restart: $out"

# Damaged files next to intact ones.
stop_server
sessions_dir="$work/data/sessions"
good="$sessions_dir/alpha.ckpt"
size=$(stat -c %s "$good")
head -c $((size / 2)) "$good" >"$sessions_dir/truncated.ckpt"
cp "$good" "$sessions_dir/flipped.ckpt"
printf '\x55' | dd of="$sessions_dir/flipped.ckpt" bs=1 seek=$((size - 10)) conv=notrunc status=none
cp "$good" "$sessions_dir/version.ckpt"
printf '\x02' | dd of="$sessions_dir/version.ckpt" bs=1 seek=4 conv=notrunc status=none
head -c 2000 /dev/urandom >"$sessions_dir/garbage.ckpt"
: >"$sessions_dir/empty.ckpt"
head -c 100 "$work/data/datasets/train.data" >"$work/data/datasets/cut.data"
: >"$work/mlpd.log"
start_server "${server_flags[@]}"
for file in sessions/truncated.ckpt sessions/flipped.ckpt sessions/version.ckpt \
  sessions/garbage.ckpt sessions/empty.ckpt datasets/cut.data; do
  grep -q "quarantined $file as quarantine/" "$work/mlpd.log" || fail "no quarantine line for $file"
done
grep -q "quarantined sessions/version.ckpt .*format version is 2" "$work/mlpd.log" ||
  fail "the wrong version is not named as the reason"
[ "$(ls "$work/data/quarantine" | wc -l)" = 6 ] || fail "quarantine/ holds: $(ls "$work/data/quarantine")"
run 0 --json list
[ "$(json_get "$out" '",".join(sorted(s["name"] for s in v))')" = alpha,beta,gamma ] ||
  fail "sessions next to damaged files: $out"
run 0 --json list --datasets
[ "$(json_get "$out" 'len(v)')" = 1 ] || fail "datasets next to a damaged file: $out"
grep "quarantined" "$work/mlpd.log"
echo "PASS: crash recovery ($total_acked acknowledged saves checked)"
