#!/usr/bin/env bash
# Ctrl-C during `mlpctl train` cancels the call cleanly: exit 130, a line saying how many steps
# were applied, and the session's step count agrees (steps applied stay applied).
source "$(dirname "$0")/mlpctl_common.bash"
start_server --threads 1

"$PYTHON" -c 'print("\n".join(f"{i % 7},{i % 5},{i % 2}" for i in range(64)))' >"$work/rows.csv"
run 0 upload rows --csv "$work/rows.csv" --label-column
run 0 create long --layers 2,16,2 --activations tanh,identity --loss cross_entropy --lr 0.01
run 0 step long --csv "$work/rows.csv" --label-column  # Step 1: before the train call.

# Far more epochs than the test waits for, reporting often, with stdout piped.
interrupt_after_progress train train long --dataset rows --epochs 1000000 --batch-size 1 \
  --report-every 20
message=$(cat "$work/train.err")
contains "$message" "cancelled: " "cancel message"
applied=$(sed -n 's/.*cancelled: \([0-9]*\) steps applied.*/\1/p' <<<"$message")
[ -n "$applied" ] || fail "no step count in: $message"
reported=$(sed -n 's/.*steps_done=\([0-9]*\)\/.*/\1/p' "$work/train.out" | tail -n 1)
check "$applied >= $reported > 0" "applied $applied < last reported $reported"

# The server stopped: the step count no longer moves and matches 1 + applied.
run 0 --json get long
first=$(json_get "$out" 'v["step_count"]')
sleep 0.3
run 0 --json get long
second=$(json_get "$out" 'v["step_count"]')
[ "$first" = "$second" ] || fail "training continued after the cancel: $first then $second"
[ "$second" = $((applied + 1)) ] || fail "session at step $second, expected 1 + $applied"
echo "mlpctl_cancel: all checks passed ($applied steps applied before the cancel)"
