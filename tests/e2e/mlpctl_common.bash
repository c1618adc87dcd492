# Sourced by the mlpctl_*, practical_* and python_* end-to-end scripts (not a test itself):
# starts the real `mlpd` on a unix socket with a temporary data dir, stops it on exit, and
# offers assertions that fail the script on any mismatch.
set -euo pipefail

: "${MLPD_BIN:?MLPD_BIN must name the mlpd binary}"
: "${MLPCTL_BIN:?MLPCTL_BIN must name the mlpctl binary}"
PYTHON=/usr/bin/python3
source "$(dirname "${BASH_SOURCE[0]}")/wait_common.bash"
work=$(mktemp -d)
server_pid=
# Extra mlpctl flags of the start-up health probe (e.g. TLS options).
probe_flags=()

fail() {
  echo "FAIL: $*" >&2
  if [ -f "$work/mlpd.log" ]; then
    echo "--- last lines of the server log:" >&2
    tail -n 20 "$work/mlpd.log" >&2
  fi
  exit 1
}

stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" || true
  fi
  server_pid=
}

cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT

# start_server [mlpd flags...]: listens on $work/mlpd.sock, exports MLPD_SERVER, waits for SERVING.
start_server() {
  # Abseil spells multi-word flags with underscores; accept either spelling of the binary.
  local data_flag=--data-dir
  case $("$MLPD_BIN" --helpfull 2>&1 || true) in *--data_dir*) data_flag=--data_dir ;; esac
  # No HTTP port unless the script asks for one (flags later win): the default 127.0.0.1:9464
  # would collide between servers running at once.
  "$MLPD_BIN" --listen "unix:$work/mlpd.sock" "$data_flag" "$work/data" --http-listen= "$@" \
    >>"$work/mlpd.log" 2>&1 &
  server_pid=$!
  export MLPD_SERVER="unix:$work/mlpd.sock"
  local attempt
  for attempt in $(seq 200); do
    if "$MLPCTL_BIN" --timeout 2 "${probe_flags[@]}" health >/dev/null 2>&1; then return 0; fi
    kill -0 "$server_pid" 2>/dev/null || fail "mlpd exited during start-up"
    sleep 0.05
  done
  fail "mlpd did not become SERVING within 10 s"
}

# wait_http_port: sets $http_port from the server's "metrics and dashboard on" log line, which
# may follow the health service's first SERVING by a moment.
wait_http_port() {
  local attempt
  http_port=
  for attempt in $(seq 200); do
    http_port=$(sed -n 's|.*metrics and dashboard on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/mlpd.log")
    [ -n "$http_port" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || fail "mlpd exited before opening its HTTP port"
    sleep 0.05
  done
  fail "no 'metrics and dashboard on' line in the server log within 10 s"
}

# run EXPECTED_EXIT mlpctl-arguments...: runs mlpctl, keeps stdout in $out and stderr in $err,
# and fails unless the exit code is EXPECTED_EXIT.
run() {
  local expected=$1
  shift
  local code=0
  "$MLPCTL_BIN" "$@" >"$work/out" 2>"$work/err" || code=$?
  out=$(cat "$work/out")
  err=$(cat "$work/err")
  if [ "$code" != "$expected" ]; then
    fail "mlpctl $* exited $code, expected $expected
stdout: $out
stderr: $err"
  fi
}

# interrupt_after_progress NAME mlpctl-arguments...: runs mlpctl in the background (stdout in
# $work/NAME.out, stderr in $work/NAME.err, piped: a plain line per progress report), waits for
# its first progress line, presses Ctrl-C (SIGINT) and fails unless it exits 130.
interrupt_after_progress() {
  local name=$1 pid code=0
  shift
  "$MLPCTL_BIN" "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pid=$!
  wait_for_line "$work/$name.out" "steps_done=" "$pid" 10
  kill -INT "$pid"
  wait "$pid" || code=$?
  [ "$code" = 130 ] ||
    fail "mlpctl $* exited $code after SIGINT, expected 130: $(cat "$work/$name.err")"
}

# contains TEXT NEEDLE WHAT: fails unless TEXT contains NEEDLE.
contains() {
  case $1 in
    *"$2"*) ;;
    *) fail "$3: expected to contain \"$2\", got: $1" ;;
  esac
}

# write_class_csv FILE: 300 rows of 8 features and a class label out of 3 (seeded, the same on
# every run).
write_class_csv() {
  "$PYTHON" -c '
import random
random.seed(4)
for _ in range(300):
    x = [random.uniform(-1, 1) for _ in range(8)]
    print(",".join("%.4f" % v for v in x) + ",%d" % (int(x[0] > 0) + int(x[1] > 0.5)))
' >"$1"
}

# json_get JSON PYTHON-EXPRESSION-ON-v: parses JSON (failing when it does not parse) and prints
# the expression, e.g. json_get "$out" 'v["count"]'.
json_get() {
  "$PYTHON" -c 'import json, sys
v = json.loads(sys.argv[1])
print(eval(sys.argv[2]))' "$1" "$2" || fail "not JSON or no $2 in: $1"
}

# check PYTHON-BOOLEAN-EXPRESSION MESSAGE: fails unless the expression holds.
check() {
  "$PYTHON" -c "import sys; sys.exit(0 if ($1) else 1)" || fail "$2"
}
