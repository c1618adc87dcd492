#!/usr/bin/env bash
# The dashboard in a real browser: trains a session and uploads a dataset through mlpd, opens
# the page in Debian's headless chromium (driven by playwright-core, see
# scripts/fetch-playwright), checks the sessions and datasets tables show what the API holds
# and follow new steps live, and saves a screenshot to $MLPD_BINARY_DIR/dashboard.png. The
# learning curve is checked (as many points as the session's history, following new steps)
# when the server has GetHistory; a server without it must say so on the page instead.
source "$(dirname "$0")/mlpctl_common.bash"
: "${MLPD_BINARY_DIR:?MLPD_BINARY_DIR must name the build folder}"
command -v chromium >/dev/null || fail "chromium is not installed (scripts/install-deps)"
command -v node >/dev/null || fail "node is not installed (scripts/install-deps installs npm)"

# playwright-core, pinned by version and checksum (scripts/test fetches it; so does this).
"$MLPD_SOURCE_DIR/scripts/fetch-playwright" "$MLPD_BINARY_DIR/e2e-node" >/dev/null ||
  fail "scripts/fetch-playwright failed"

start_server --http-listen 127.0.0.1:0 --checkpoint-interval=0
wait_http_port

# A session with a visible curve: TrainStep calls, each one point of the history.
run 0 create curve --layers 2,8,1 --activations tanh,identity --loss mse --optimizer adam \
  --lr 0.05 --seed 7
"$PYTHON" -c 'import random
random.seed(1)
for _ in range(64):
    a, b = random.uniform(-1, 1), random.uniform(-1, 1)
    print(f"{a},{b},{a * b}")' >"$work/rows.csv"
steps=40
for i in $(seq "$steps"); do run 0 step curve --csv "$work/rows.csv" --target-columns 1; done
run 0 create other --layers 2,1 --activations identity --loss mse --optimizer sgd --lr 0.1
run 0 upload products --csv "$work/rows.csv" --target-columns 1

more=5
screenshot="$MLPD_BINARY_DIR/dashboard.png"
rm -f "$screenshot"
(
  # Trains the extra steps once the browser has drawn the page and asks for them.
  for attempt in $(seq 600); do [ -f "$work/more" ] && break; sleep 0.05; done
  [ -f "$work/more" ] || exit 0
  for i in $(seq "$more"); do
    "$MLPCTL_BIN" step curve --csv "$work/rows.csv" --target-columns 1 >/dev/null || exit 1
  done
  touch "$work/more.done"
) &
steps_pid=$!

NODE_PATH="$MLPD_BINARY_DIR/e2e-node/node_modules" DASHBOARD_URL="http://127.0.0.1:$http_port/" \
  DASHBOARD_SESSION=curve DASHBOARD_OTHER_SESSION=other DASHBOARD_DATASET=products \
  DASHBOARD_DATASET_ROWS=64 DASHBOARD_EXPECTED_STEPS=$steps DASHBOARD_MORE_STEPS=$more \
  DASHBOARD_MORE_TRIGGER="$work/more" DASHBOARD_MORE_DONE="$work/more.done" \
  DASHBOARD_SCREENSHOT="$screenshot" node "$(dirname "$0")/dashboard_browser.js" ||
  fail "the dashboard check in chromium failed"
wait "$steps_pid" || fail "the extra steps failed"
[ -s "$screenshot" ] || fail "no screenshot at $screenshot"
