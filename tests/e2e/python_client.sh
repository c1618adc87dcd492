#!/usr/bin/env bash
# The Python example client (examples/python, on the mlpd package of client/python installed
# into a virtual environment over Debian's python3-grpcio) creates, trains (steps, Train, a
# detached job it watches), predicts and deletes a session on a real mlpd.
source "$(dirname "$0")/mlpctl_common.bash"
: "${MLPD_SOURCE_DIR:?MLPD_SOURCE_DIR must name the source tree}"
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
PIP_DISABLE_PIP_VERSION_CHECK=1 "$work/venv/bin/pip" install --quiet --no-index --no-cache-dir \
  "$MLPD_SOURCE_DIR/client/python" || fail "pip could not install client/python"
start_server --threads 1

"$work/venv/bin/python" "$MLPD_SOURCE_DIR/examples/python/mlpd_example.py" --server "$MLPD_SERVER" \
  --name py-xor >"$work/python.out" 2>&1 || fail "the Python example failed: $(cat "$work/python.out")"
cat "$work/python.out"
contains "$(cat "$work/python.out")" "API mlpd.v1 1.0" "python server_info"
contains "$(cat "$work/python.out")" "created py-xor" "python create"
contains "$(cat "$work/python.out")" "predictions:" "python predict"
contains "$(cat "$work/python.out")" "started job job-" "python detached job"
contains "$(cat "$work/python.out")" "watching job-" "python watch: the job's state first"
grep -q "^job job-.* done: 100 steps" "$work/python.out" ||
  fail "python watch: no summary of the job's 100 full-batch epochs: $(cat "$work/python.out")"
contains "$(cat "$work/python.out")" "history: " "python history"
contains "$(cat "$work/python.out")" "deleted py-xor" "python delete"
# The example cleaned up after itself.
run 0 --json list
[ "$(json_get "$out" 'len(v)')" = 0 ] || fail "sessions left behind: $out"
run 0 --json list --datasets
[ "$(json_get "$out" 'len(v)')" = 0 ] || fail "datasets left behind: $out"
echo "python_client: all checks passed"
