#!/usr/bin/env bash
# `mlpctl history` against a real mlpd: the learning curve of steps and of a job with an eval
# dataset, as a table, CSV, JSON and a chart; --from-step and --max-points; the curve survives a
# server restart; errors are named.
source "$(dirname "$0")/mlpctl_common.bash"
start_server --threads 1

"$PYTHON" -c 'print("\n".join(f"{i % 7},{i % 5},{i % 2}" for i in range(64)))' >"$work/rows.csv"
run 0 upload rows --csv "$work/rows.csv" --label-column
run 0 create curve --layers 2,16,2 --activations tanh,identity --loss cross_entropy --lr 0.05
run 0 step curve --csv "$work/rows.csv" --label-column
run 0 step curve --csv "$work/rows.csv" --label-column
run 0 train curve --dataset rows --epochs 6 --batch-size 16 --report-every 4 --eval rows --detach
run 0 watch "$out"
run 0 --json get curve
steps=$(json_get "$out" 'v["step_count"]')
[ "$steps" = 26 ] || fail "curve is at step $steps, expected 2 + 6 x 4"

run 0 --json history curve
points=$out
count=$(json_get "$points" 'len(v)')
check "$count >= 2 + 6" "history has $count points, expected the 2 steps and a point per report"
check "all(a['step'] < b['step'] for a, b in zip($points, $points[1:]))" "steps not increasing"
[ "$(json_get "$points" 'v[0]["step"]')" = 1 ] || fail "the first point is not step 1: $points"
[ "$(json_get "$points" 'v[-1]["step"]')" = "$steps" ] || fail "the last point is not step $steps"
check "'eval_loss' not in $points[0] and 'eval_loss' in $points[-1]" "eval figures misplaced"
check "$points[-1]['train_loss'] < $points[0]['train_loss']" "the loss did not fall: $points"

run 0 history curve
[ "$(head -n 1 <<<"$out" | tr -s ' ')" = " STEP TIME (UTC) TRAIN_LOSS EVAL_LOSS EVAL_ERROR SAMPLES/S" ] ||
  fail "table header: $(head -n 1 <<<"$out")"
[ "$(wc -l <<<"$out")" = $((count + 1)) ] || fail "table rows: $out"
# The steps had no evaluation: a dash where the train had one.
contains "$(sed -n 2p <<<"$out")" " -  " "no eval on a step"

run 0 history curve --csv
[ "$(head -n 1 <<<"$out")" = "step,time_unix_ms,train_loss,eval_loss,eval_error_rate,samples_per_second" ] ||
  fail "csv header: $(head -n 1 <<<"$out")"
[ "$(wc -l <<<"$out")" = $((count + 1)) ] || fail "csv rows: $out"
last_csv=$(tail -n 1 <<<"$out")
[ "$(cut -d, -f1 <<<"$last_csv")" = "$steps" ] || fail "csv last row: $last_csv"
check "float('$(cut -d, -f4 <<<"$last_csv")') == $(json_get "$points" 'repr(v[-1]["eval_loss"])')" \
  "csv and json disagree on the last eval loss"

run 0 history curve --plot --width 40 --height 8
contains "$out" "loss  (* train, o eval, # both)" "plot title"
contains "$out" "step" "plot axis"
[ "$(grep -c '|' <<<"$out")" = 8 ] || fail "plot rows: $out"
grep -q '[o#]' <<<"$(sed -n '2,9p' <<<"$out")" || fail "no eval mark in the chart: $out"

run 0 --json history curve --from-step 10
check "all(p['step'] >= 10 for p in $out) and len($out) > 0" "--from-step 10: $out"
run 0 --json history curve --max-points 3
check "0 < len($out) <= 3 and $out[-1]['step'] == $steps" "--max-points 3: $out"

# The curve is kept on disk: a restarted server answers the same points.
stop_server
start_server --threads 1
run 0 --json history curve
[ "$out" = "$points" ] || fail "history after a restart differs:
before: $points
after:  $out"

run 1 history no-such-session
contains "$err" "NOT_FOUND" "history of an unknown session"
run 2 --json history curve --csv
contains "$err" "choose one" "two outputs"
echo "mlpctl_history: all checks passed ($count points)"
