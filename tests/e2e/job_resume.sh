#!/usr/bin/env bash
# A detached training job survives kill -9 of the server with the real binaries: the client that
# started it is gone, the server is killed three times (resuming from a snapshot taken between
# epochs, from one taken mid-epoch, and while snapshots are being written), each restart resumes
# the job from its session's last snapshot, and the job finishes with a NATIVE export
# byte-identical to the same job run without interruption. Its learning curve runs once,
# in step order, across the crashes.
source "$(dirname "$0")/mlpctl_common.bash"
: "${MLPD_SOURCE_DIR:?MLPD_SOURCE_DIR must name the source tree}"
mkdir -p "$work/py"
jobs_py() { "$PYTHON" "$MLPD_SOURCE_DIR/tests/python/job_client.py" "$work/py" "$MLPD_SERVER" "$@"; }

# Abseil spells multi-word flags with underscores; accept a binary that takes dashes.
every=--checkpoint_every interval=--checkpoint_interval
case $("$MLPD_BIN" --helpfull 2>&1 || true) in
  *--checkpoint_every*) ;;
  *) every=--checkpoint-every interval=--checkpoint-interval ;;
esac
# start_with EVERY: a server snapshotting every EVERY steps of a session and at no interval.
start_with() { start_server --threads 1 "$every" "$1" "$interval" 0; }

# 300 rows of 8 features and a class out of 3: 30 mini-batches of 10 an epoch.
write_class_csv "$work/train.csv"
steps_per_epoch=30
# A job with snapshots after every step runs ~25,000 steps a second here, and each kill-at
# poller starts seconds late on a loaded machine: 600,000 steps outlast the kills below.
epochs=20000
total=$((steps_per_epoch * epochs))

# Snapshots only at epoch boundaries (every 10 epochs) for the first kill.
start_with $((10 * steps_per_epoch))
run 0 upload train --csv "$work/train.csv" --label-column
for s in straight crashy; do
  run 0 create "$s" --layers 8,64,64,3 --activations tanh,tanh,identity --loss cross_entropy \
    --optimizer adam --lr 0.01 --init xavier --seed 3
done

# The uninterrupted run.
straight=$(jobs_py start straight train "$epochs" 10 17) || fail "StartTraining failed"
[ "$(jobs_py watch "$straight")" = JOB_STATE_SUCCEEDED ] || fail "the uninterrupted job did not succeed"
run 0 export straight --format native -o "$work/straight.native"
# SaveSession answers once the writer has written everything queued before it, the job's final
# record included: the kills below must not bring the finished job back.
run 0 save straight

# The detached job: the client that started it exits at once.
job=$(jobs_py start crashy train "$epochs" 10 17) || fail "StartTraining failed"
echo "detached job $job"

# kill_after STEPS [FOLDER]: kill -9 the server once the job has applied STEPS steps (it must not
# be done); with FOLDER, at a moment a file is being written there.
kill_after() {
  local killed_at
  killed_at=$(jobs_py kill-at "$job" "$1" "$server_pid" ${2:+"$2"}) || fail "no kill at step $1"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
  echo "killed at step $killed_at"
}
# resumed_at: the step the last restart resumed the job at (from the server log).
resumed_at() {
  local line
  line=$(grep -o "job $job resumes at step [0-9]*" "$work/mlpd.log" | tail -n 1)
  [ -n "$line" ] || fail "the server did not log resuming $job"
  echo "${line##* }"
}

# 1. Killed with every snapshot at an epoch boundary: the job resumes between epochs.
kill_after 2000
start_with 97
step=$(resumed_at)
echo "kill 1: resumed at step $step"
[ $((step % steps_per_epoch)) = 0 ] || fail "kill 1 resumed at step $step, not between epochs"
[ "$step" -gt 0 ] || fail "kill 1 resumed from the start: no snapshot was used"

# 2. Snapshots every 97 steps: the job resumes mid-epoch (a multiple of 97 that is also one of
# 30 is possible; then kill again, with snapshots after every step, up to three times).
for attempt in 1 2 3; do
  kill_after $((step + 1500))
  start_with 1
  step=$(resumed_at)
  echo "kill 2 (attempt $attempt): resumed at step $step"
  [ $((step % steps_per_epoch)) != 0 ] && break
  [ "$attempt" = 3 ] && fail "three kills in a row resumed between epochs"
done

# 3. A snapshot after every step: the kill lands while a snapshot is being written (a
# temporary snapshot file is left behind); the next start removes it and resumes. The kill waits
# for a temporary file to appear, but the write may finish before the signal lands: retry.
during=no
for attempt in 1 2 3 4 5; do
  kill_after $((step + 500)) "$work/data/sessions"
  leftover=$(ls "$work/data/sessions/" | grep "\.tmp-" || true)
  [ -n "$leftover" ] && during=yes
  # Once a kill has landed during a snapshot, the rest of the job runs at an ordinary pace.
  if [ "$during" = yes ]; then start_with 1000; else start_with 1; fi
  step=$(resumed_at)
  echo "kill 3 (attempt $attempt): resumed at step $step, snapshot being written: $during"
  [ "$during" = yes ] && break
done
[ "$during" = yes ] || fail "no kill landed during a snapshot write in 5 attempts"
# The files the kill left are gone (the live server may be writing new ones meanwhile).
for file in $leftover; do
  [ ! -e "$work/data/sessions/$file" ] || fail "$file, left by the kill, was not removed"
done

# The job finishes on its own and ends where the uninterrupted run ended, byte for byte.
[ "$(jobs_py watch "$job")" = JOB_STATE_SUCCEEDED ] || fail "the resumed job did not succeed"
final=$(jobs_py get "$job")
[ "$(json_get "$final" 'int(v["steps_done"])')" = "$total" ] || fail "steps_done: $final"
resumes=$(json_get "$final" 'v.get("resumes", 0)')
[ "$resumes" -ge 3 ] || fail "the job says it resumed $resumes times: $final"
run 0 export crashy --format native -o "$work/crashy.native"
cmp "$work/straight.native" "$work/crashy.native" ||
  fail "the resumed job's export differs from the uninterrupted run's"

# The curve runs once across the crashes: steps increasing, up to the last step.
jobs_py history crashy >"$work/curve"
[ "$(tail -n 1 "$work/curve")" = "$total" ] || fail "the curve ends at $(tail -n 1 "$work/curve")"
sort -n -c -u "$work/curve" || fail "the curve is not in strictly increasing step order"
echo "PASS: job resumed after $resumes kills ($(wc -l <"$work/curve") curve points), export identical"
