#!/usr/bin/env bash
# A server started under OMP_THREAD_LIMIT below --threads (as a container runtime or a batch
# system may set it): OpenMP then gives each team fewer threads than were asked for, and the
# matmul's share of a thread that never ran stayed unwritten, so every step's loss was nan. mlpd
# keeps its team within the limit, and steps that split over threads train.
source "$(dirname "$0")/mlpctl_common.bash"

export OMP_THREAD_LIMIT=1
start_server --threads 2
# 256 rows of 784 features and a label out of 10: large enough for a step to split over threads.
"$PYTHON" -c '
import random
random.seed(7)
for _ in range(256):
    print(",".join("%.3f" % random.uniform(0, 1) for _ in range(784)) + ",%d" % random.randrange(10))
' >"$work/wide.csv"
run 0 create wide --layers 784,256,10 --activations tanh,identity --loss cross_entropy
# The server tries one thread and all of them on the first steps, then keeps the faster.
for step in 1 2 3 4 5 6; do
  run 0 step wide --csv "$work/wide.csv" --label-column
  contains "$out" "step $step loss" "step $step under OMP_THREAD_LIMIT=1"
done
echo "PASS: six steps of a split-size batch train under OMP_THREAD_LIMIT=1 with --threads 2"
