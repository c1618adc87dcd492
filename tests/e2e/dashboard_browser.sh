#!/usr/bin/env bash
# The dashboard in a real browser: trains a session through a job with an eval dataset, opens
# the page in Debian's headless chromium (driven by playwright-core, see
# scripts/fetch-playwright) and checks that the sessions, datasets and jobs tables show what the
# API holds and that the learning curve (train loss, eval loss and eval error against step) has
# exactly the points of the session's history. Then a second job runs: the page must follow it
# live (the curve grows while the job is running), and after its cancel the curve must again be
# the whole history. Saves a screenshot to $MLPD_BINARY_DIR/dashboard.png.
source "$(dirname "$0")/mlpctl_common.bash"
: "${MLPD_BINARY_DIR:?MLPD_BINARY_DIR must name the build folder}"
command -v chromium >/dev/null || fail "chromium is not installed (scripts/install-deps)"
command -v node >/dev/null || fail "node is not installed (scripts/install-deps installs npm)"

# playwright-core, pinned by version and checksum (scripts/test fetches it; so does this).
"$MLPD_SOURCE_DIR/scripts/fetch-playwright" "$MLPD_BINARY_DIR/e2e-node" >/dev/null ||
  fail "scripts/fetch-playwright failed"

start_server --http-listen 127.0.0.1:0 --checkpoint-interval=0
wait_http_port

write_class_csv "$work/rows.csv"
run 0 upload rows --csv "$work/rows.csv" --label-column
run 0 upload held-out --csv "$work/rows.csv" --label-column
run 0 create curve --layers 8,16,3 --activations tanh,identity --loss cross_entropy \
  --optimizer adam --lr 0.05 --seed 7
run 0 create other --layers 8,3 --activations identity --loss cross_entropy --optimizer sgd
# 300 rows in batches of 30: 10 steps an epoch, 40 in all, a report (with its evaluation) every
# 5 steps: 8 points, each with train loss, eval loss and eval error.
run 0 train curve --dataset rows --eval held-out --epochs 4 --batch-size 30 --report-every 5 \
  --detach
first_job=$out
run 0 watch "$first_job"
steps=40
points=8

screenshot="$MLPD_BINARY_DIR/dashboard.png"
rm -f "$screenshot"
(
  # wait_for_file FILE: until the browser writes FILE (30 s at most).
  wait_for_file() {
    local attempt
    for attempt in $(seq 600); do [ -f "$1" ] && return 0; sleep 0.05; done
    return 1
  }
  # Once the browser has checked the first curve: a job far longer than the test, live.
  wait_for_file "$work/start-job" || exit 0
  "$MLPCTL_BIN" train curve --dataset rows --eval held-out --epochs 1000000 --batch-size 30 \
    --report-every 1000 --detach >"$work/job-id.tmp" || exit 1
  mv "$work/job-id.tmp" "$work/job-id"
  # Once the browser has seen the curve grow while the job runs: cancel it, wait for its end.
  wait_for_file "$work/cancel-job" || exit 0
  "$MLPCTL_BIN" cancel "$(cat "$work/job-id")" --wait >/dev/null || exit 1
  touch "$work/cancelled"
) &
jobs_pid=$!

NODE_PATH="$MLPD_BINARY_DIR/e2e-node/node_modules" DASHBOARD_URL="http://127.0.0.1:$http_port/" \
  DASHBOARD_SESSION=curve DASHBOARD_OTHER_SESSION=other DASHBOARD_DATASET=rows \
  DASHBOARD_DATASET_ROWS=300 DASHBOARD_EXPECTED_STEPS=$steps DASHBOARD_EXPECTED_POINTS=$points \
  DASHBOARD_FIRST_JOB="$first_job" DASHBOARD_START_JOB="$work/start-job" \
  DASHBOARD_JOB_ID="$work/job-id" DASHBOARD_CANCEL_JOB="$work/cancel-job" \
  DASHBOARD_CANCELLED="$work/cancelled" DASHBOARD_SCREENSHOT="$screenshot" \
  node "$(dirname "$0")/dashboard_browser.js" || fail "the dashboard check in chromium failed"
wait "$jobs_pid" || fail "starting or cancelling the live job failed"
[ -s "$screenshot" ] || fail "no screenshot at $screenshot"
