#!/usr/bin/env bash
# The real `mlpd` binary: --help documents every flag, hyphenated flags work, SIGTERM and
# SIGINT drain and exit 0 with start and stop log lines, a graceful stop keeps the trained
# session (steps and weights), a failed call is logged with method, code and name, and a
# second mlpd on the same data dir refuses to start.
source "$(dirname "$0")/mlpctl_common.bash"

help=$("$MLPD_BIN" --help 2>&1 || true)
for flag in listen data_dir max_message_mb max_sessions max_session_params max_sessions_mb max_queue threads \
  max_call_activation_mb max_trains \
  executor_spin_us checkpoint_every checkpoint_interval drain_seconds tls_cert tls_key tls_client_ca \
  auth_token_file; do
  contains "$help" "--$flag" "mlpd --help"
done

start_server --max-queue=64 --checkpoint-every=1000000 --checkpoint-interval=0
contains "$(cat "$work/mlpd.log")" "serving on unix:$work/mlpd.sock" "start log line"
run 0 create keep --layers 3,4,2 --activations tanh,identity --loss mse --optimizer adam \
  --lr 0.01
printf '1,2,3,0.5,1\n3,2,1,1,0\n0,1,0,0,0\n' >"$work/rows.csv"
for i in 1 2 3; do run 0 step keep --csv "$work/rows.csv" --target-columns 2; done
run 0 --json predict keep --csv "$work/rows.csv" --target-columns 2
before=$out
run 1 get missing-session
contains "$(cat "$work/mlpd.log")" 'GetSession failed: code=NOT_FOUND name="missing-session"' \
  "failed-call log line"

# SIGTERM: drain, snapshot (no step reached --checkpoint-every), exit 0.
kill -TERM "$server_pid"
code=0
wait "$server_pid" || code=$?
server_pid=
[ "$code" = 0 ] || fail "mlpd exited $code after SIGTERM"
contains "$(cat "$work/mlpd.log")" "received SIGTERM" "signal log line"
contains "$(cat "$work/mlpd.log")" "stopped after draining" "stop log line"

start_server
contains "$(tail -n 1 "$work/mlpd.log")" "1 sessions and 0 datasets loaded" "restart log line"
run 0 --json get keep
check "$(json_get "$out" 'v["step_count"]') == 3" "restored step count: $out"

# A second server on the same data dir would overwrite the first one's snapshots: it must
# refuse to start, name the dir and the owner, and leave the first one serving.
code=0
"$MLPD_BIN" --listen "unix:$work/second.sock" --data-dir "$work/data" --http-listen= \
  >"$work/second.log" 2>&1 ||
  code=$?
[ "$code" != 0 ] || fail "a second mlpd on the same data dir started"
contains "$(cat "$work/second.log")" "is in use by another mlpd (pid $server_pid" \
  "second server's refusal"
run 0 --json get keep
run 0 --json predict keep --csv "$work/rows.csv" --target-columns 2
[ "$out" = "$before" ] || fail "predictions changed across the restart: $before vs $out"

kill -INT "$server_pid"
code=0
wait "$server_pid" || code=$?
server_pid=
[ "$code" = 0 ] || fail "mlpd exited $code after SIGINT"
contains "$(cat "$work/mlpd.log")" "received SIGINT" "SIGINT log line"
echo "PASS server_lifecycle"
