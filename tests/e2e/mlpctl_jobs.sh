#!/usr/bin/env bash
# Training jobs through mlpctl against a real mlpd: `train --detach` prints the job id and
# returns; `watch` follows a job to its summary, re-attaches from another process, and on Ctrl-C
# leaves the job running; `cancel --wait` stops it (applied steps stay); `jobs` lists and
# filters; `job` describes; early stopping and keep-best reach the summary; errors are named.
source "$(dirname "$0")/mlpctl_common.bash"
start_server --threads 1

"$PYTHON" -c 'print("\n".join(f"{i % 7},{i % 5},{i % 2}" for i in range(64)))' >"$work/rows.csv"
run 0 upload rows --csv "$work/rows.csv" --label-column
for name in short long busy stops; do
  run 0 create "$name" --layers 2,16,2 --activations tanh,identity --loss cross_entropy --lr 0.01
done

# --detach prints the id alone, and the job runs to its end without anyone watching.
run 0 train short --dataset rows --epochs 5 --batch-size 16 --detach
short=$out
[[ $short =~ ^job-[^[:space:]]+$ ]] || fail "train --detach printed '$short', expected a job id"
# Watching a job (here perhaps already done) ends with its summary, as train prints it.
run 0 watch "$short"
contains "$out" "trained short: 20 steps, 5 epochs" "watch summary"
run 0 --json job "$short"
[ "$(json_get "$out" 'v["state"]')" = succeeded ] || fail "short job: $out"
[ "$(json_get "$out" 'v["steps_done"]')" = 20 ] || fail "short job steps: $out"
[ "$(json_get "$out" 'v["summary"]["stop_reason"]')" = completed ] || fail "short job reason: $out"
run 0 --json get short
[ "$(json_get "$out" 'v["step_count"]')" = 20 ] || fail "session short after its job: $out"
run 0 job "$short"
contains "$out" "state:     succeeded" "job text"
contains "$out" "steps:     20/20, epoch 5/5" "job text"

# A long job: a watch interrupted with Ctrl-C exits 130 and the job goes on.
run 0 train long --dataset rows --epochs 1000000 --batch-size 1 --report-every 20 --detach
long=$out
interrupt_after_progress watch1 watch "$long"
contains "$(cat "$work/watch1.err")" "stopped watching job $long; it goes on" "watch Ctrl-C"
seen=$(sed -n 's/.*steps_done=\([0-9]*\)\/.*/\1/p' "$work/watch1.out" | tail -n 1)
run 0 --json job "$long"
[ "$(json_get "$out" 'v["state"]')" = running ] || fail "the job stopped with its watcher: $out"

# Re-attached from another process (JSON lines): the job's current state first, then newer
# reports than the first watcher saw.
"$MLPCTL_BIN" --json watch "$long" >"$work/watch2.out" 2>"$work/watch2.err" &
watch_pid=$!
wait_for_line "$work/watch2.out" '"event":"progress"' "$watch_pid" 10 3
latest=$(grep '"event":"progress"' "$work/watch2.out" | tail -n 1)
check "$(json_get "$latest" 'v["steps_done"]') > $seen" "re-attached watch saw no progress past $seen"
[ "$(json_get "$latest" 'v["epochs"]')" = 1000000 ] || fail "watch did not learn the epochs: $latest"

# A second job on a session whose job runs is refused, naming the running job.
run 1 train long --dataset rows --epochs 1 --detach
contains "$err" "FAILED_PRECONDITION" "second job"
contains "$err" "$long" "second job names the running one"

# cancel --wait returns once the job stopped; the still-attached watcher ends with CANCELLED.
run 0 cancel "$long" --wait
contains "$out" "$long cancelled: session long" "cancel --wait"
code=0
wait "$watch_pid" || code=$?
[ "$code" = 1 ] || fail "the watch of a cancelled job exited $code, expected 1"
contains "$(cat "$work/watch2.err")" "CANCELLED: " "watch of a cancelled job"
run 0 --json job "$long"
[ "$(json_get "$out" 'v["state"]')" = cancelled ] || fail "long job after cancel: $out"
[ "$(json_get "$out" 'v["error"]["code"]')" = CANCELLED ] || fail "long job error: $out"
applied=$(json_get "$out" 'v["steps_done"]')
check "$applied >= $seen > 0" "cancelled job applied $applied steps, fewer than the $seen reported"
run 0 --json get long
[ "$(json_get "$out" 'v["step_count"]')" = "$applied" ] || fail "session long is not at $applied: $out"
# Cancelling a job that is done changes nothing and is not an error.
run 0 cancel "$short"
contains "$out" "$short succeeded" "cancel of a done job"

# A plain cancel answers at once; the job then ends CANCELLED (watch waits for that end).
run 0 train busy --dataset rows --epochs 1000000 --batch-size 1 --detach
busy=$out
run 0 cancel "$busy"
contains "$out" "$busy" "cancel"
run 1 watch "$busy"
contains "$err" "CANCELLED: " "watch after cancel"

# Early stopping: with a min delta no evaluation can reach, the second evaluation (step 8)
# stops the job, and keep-best keeps the first one's parameters (step 4).
run 0 train stops --dataset rows --epochs 1000 --batch-size 16 --eval rows --eval-every 4 \
  --patience 1 --min-delta 1e9 --keep-best --detach
stops=$out
run 0 --json watch "$stops"
summary=$(tail -n 1 <<<"$out")
[ "$(json_get "$summary" 'v["stop_reason"]')" = early_stopped ] || fail "no early stop: $summary"
[ "$(json_get "$summary" '(v["steps"], v["best_step"], v["kept_step"])')" = "(8, 4, 4)" ] ||
  fail "expected a stop at step 8 keeping step 4: $summary"
run 0 watch "$stops"
contains "$out" "stopped early (no eval improvement), best eval loss" "early stop text"
contains "$out" "kept the parameters of step 4" "keep-best text"
run 0 --json job "$stops"
[ "$(json_get "$out" '[e["step"] for e in v["evals"]]')" = "[4, 8]" ] || fail "evals: $out"
# The same flags on an attached train (which keeps no job record: see jobs below).
run 0 create attached --layers 2,16,2 --activations tanh,identity --loss cross_entropy --lr 0.01
run 0 train attached --dataset rows --epochs 1000 --batch-size 16 --eval rows --eval-every 4 \
  --patience 1 --min-delta 1e9 --keep-best
contains "$out" "trained attached: 8 steps, 2 epochs" "attached early stop"
contains "$out" "kept the parameters of step 4" "attached keep-best"

# jobs: the detached runs (a Train call keeps no job record), newest first; filtered by
# session and by state, limited.
run 0 --json jobs
[ "$(json_get "$out" '" ".join(j["id"] for j in v)')" = "$stops $busy $long $short" ] ||
  fail "jobs does not list the four jobs newest first: $out"
run 0 --json jobs --session long
[ "$(json_get "$out" '[j["id"] for j in v]')" = "['$long']" ] || fail "jobs --session long: $out"
run 0 --json jobs --state cancelled
[ "$(json_get "$out" 'sorted(j["id"] for j in v)')" = "$(json_get "[\"$long\", \"$busy\"]" 'sorted(v)')" ] ||
  fail "jobs --state cancelled: $out"
run 0 --json jobs --state running
[ "$(json_get "$out" 'len(v)')" = 0 ] || fail "jobs --state running: $out"
run 0 --json jobs --limit 1
[ "$(json_get "$out" 'len(v)')" = 1 ] || fail "jobs --limit 1: $out"
run 0 jobs --session short
[ "$(tail -n 1 <<<"$out" | tr -s ' ')" = "$short succeeded short rows 20/20 5/5 $(json_get "$(
  "$MLPCTL_BIN" --json job "$short")" '"%.6g" % v["summary"]["last_loss"]')" ] ||
  fail "jobs table: $out"

# Errors: unknown ids are NOT_FOUND (exit 1), bad flags usage errors (exit 2).
for command in job watch cancel; do
  run 1 "$command" job-0-0
  contains "$err" "NOT_FOUND" "$command of an unknown job"
done
run 2 jobs --state finished
contains "$err" "--state: \"finished\" is not one of" "bad state"
run 2 train long --dataset rows --keep-best --detach
contains "$err" "--keep-best needs --eval" "keep-best without eval"
echo "mlpctl_jobs: all checks passed ($applied steps applied before the cancel)"
