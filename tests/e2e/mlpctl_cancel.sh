#!/usr/bin/env bash
# Ctrl-C during `mlpctl train` cancels the call cleanly: exit 130, a line saying how many steps
# were applied, and the session's step count agrees exactly (steps applied stay applied), with
# steps of microseconds and with steps far longer than any pause a client could wait for.
source "$(dirname "$0")/mlpctl_common.bash"
start_server --threads 1

# interrupt_and_check SESSION DATASET BATCH REPORT_EVERY: Ctrl-C on a train of SESSION (at step
# 1 before it) after its first progress line; the count printed must be at least the last one
# reported and exactly what the session applied.
interrupt_and_check() {
  local session=$1 dataset=$2 batch=$3 report_every=$4
  # Far more epochs than the test waits for, with stdout piped.
  interrupt_after_progress "train-$session" train "$session" --dataset "$dataset" \
    --epochs 1000000 --batch-size "$batch" --report-every "$report_every"
  local message applied reported first second
  message=$(cat "$work/train-$session.err")
  contains "$message" "cancelled: " "cancel message"
  applied=$(sed -n 's/.*cancelled: \([0-9]*\) steps applied.*/\1/p' <<<"$message")
  [ -n "$applied" ] || fail "no step count in: $message"
  reported=$(sed -n 's/.*steps_done=\([0-9]*\)\/.*/\1/p' "$work/train-$session.out" | tail -n 1)
  check "$applied >= $reported > 0" "$session: applied $applied < last reported $reported"
  contains "$message" "session $session is at step $((applied + 1)))" "$session: the step printed"

  # The server stopped: the step count no longer moves and matches 1 + applied.
  run 0 --json get "$session"
  first=$(json_get "$out" 'v["step_count"]')
  sleep 0.3
  run 0 --json get "$session"
  second=$(json_get "$out" 'v["step_count"]')
  [ "$first" = "$second" ] || fail "$session: training continued after the cancel: $first then $second"
  [ "$second" = $((applied + 1)) ] || fail "$session at step $second, expected 1 + $applied"
  echo "$applied"
}

"$PYTHON" -c 'print("\n".join(f"{i % 7},{i % 5},{i % 2}" for i in range(64)))' >"$work/rows.csv"
run 0 upload rows --csv "$work/rows.csv" --label-column
run 0 create long --layers 2,16,2 --activations tanh,identity --loss cross_entropy --lr 0.01
run 0 step long --csv "$work/rows.csv" --label-column  # Step 1: before the train call.
fast=$(interrupt_and_check long rows 1 20)

# Steps of tens to hundreds of milliseconds: whether the server is still inside one when the
# call is cancelled, only the server can tell.
"$PYTHON" -c 'import random
random.seed(5)
for i in range(512):
    print(",".join("%.3f" % random.uniform(-1, 1) for _ in range(64)) + ",%d" % (i % 4))' \
  >"$work/wide.csv"
run 0 upload wide --csv "$work/wide.csv" --label-column
run 0 create heavy --layers 64,2048,2048,4 --activations relu,relu,identity \
  --loss cross_entropy --lr 0.001
run 0 step heavy --csv "$work/wide.csv" --label-column
slow=$(interrupt_and_check heavy wide 512 1)
echo "mlpctl_cancel: all checks passed ($fast fast steps, $slow slow steps applied before the cancel)"
