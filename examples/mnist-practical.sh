#!/usr/bin/env bash
# The MLP lecture's practical session through a running mlpd, with mlpctl only:
# the first 1000 MNIST train and test images, standardised with the train set's scalar mean and
# std, one-hot targets scaled by 0.9; a 784-50-10 tanh,tanh network with a summed squared loss,
# N(0, 1e-6) init and plain SGD (lr 1e-4 = 0.1 / 1000); 1000 full-batch steps. The last two
# lines are the JSON evaluations on the train set, then on the test set (expect a train
# error_rate <= 0.01 and a test error_rate in [0.14, 0.175]).
#
# Usage: examples/mnist-practical.sh [--compare-torch SCRIPT]
#   --compare-torch SCRIPT  also run a PyTorch version of the same recipe (SCRIPT MNIST_DIR
#                    THREADS, printing "time_1000_steps Ns") at 1 and 2 threads and print the
#                    ratio of the training time through mlpctl to PyTorch's best.
# Environment: MLPD_SERVER (default 127.0.0.1:50051), MLPCTL_BIN (default build/client/mlpctl),
#   MLPD_MNIST_DIR (default data/mnist; fetched when absent), PRACTICAL_NAME (default
#   practical: the session; its datasets are NAME-train and NAME-test).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
mlpctl=${MLPCTL_BIN:-$root/build/client/mlpctl}
mnist=${MLPD_MNIST_DIR:-$root/data/mnist}
name=${PRACTICAL_NAME:-practical}
export MLPD_SERVER=${MLPD_SERVER:-127.0.0.1:50051}
torch_script=""
while [ $# -gt 0 ]; do
  argument=$1; shift
  case $argument in
    --compare-torch)
      [ $# -gt 0 ] || { echo "mnist-practical: --compare-torch needs a script path" >&2; exit 2; }
      torch_script=$1; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "mnist-practical: unknown argument $argument (see --help)" >&2; exit 2 ;;
  esac
done

[ -x "$mlpctl" ] || { echo "mnist-practical: no mlpctl at $mlpctl (run scripts/build)" >&2; exit 2; }
if [ ! -f "$mnist/train-images-idx3-ubyte" ] || [ ! -f "$mnist/t10k-labels-idx1-ubyte" ]; then
  "$root/scripts/fetch-mnist" "$mnist"
fi
if ! "$mlpctl" health >/dev/null; then
  echo "mnist-practical: no serving mlpd at $MLPD_SERVER (start one with scripts/serve)" >&2
  exit 1
fi

# A previous run's session and datasets would make create and upload fail with ALREADY_EXISTS.
"$mlpctl" delete "$name" >/dev/null 2>&1 || true
"$mlpctl" delete --dataset "$name-train" >/dev/null 2>&1 || true
"$mlpctl" delete --dataset "$name-test" >/dev/null 2>&1 || true

# The test set reuses the mean and std fitted on the 1000 training images, as the practical does.
fit=$("$mlpctl" upload "$name-train" --session "$name" \
  --idx-images "$mnist/train-images-idx3-ubyte" --idx-labels "$mnist/train-labels-idx1-ubyte" \
  --limit 1000 --normalize fit --one-hot 0.9 --one-hot-base 0)
echo "$fit"
normalize=$(sed -n 's/.*--normalize \([^)]*\)).*/\1/p' <<<"$fit")
[ -n "$normalize" ] || { echo "mnist-practical: no fitted mean,std in: $fit" >&2; exit 1; }
"$mlpctl" upload "$name-test" --session "$name" \
  --idx-images "$mnist/t10k-images-idx3-ubyte" --idx-labels "$mnist/t10k-labels-idx1-ubyte" \
  --limit 1000 --normalize "$normalize" --one-hot 0.9 --one-hot-base 0 --classes-count 10

"$mlpctl" create "$name" --layers 784,50,10 --activations tanh,tanh --loss mse --reduction sum \
  --optimizer sgd --lr 1e-4 --init normal:1e-6 --seed 1

start=$(date +%s.%N)
summary=$("$mlpctl" --json train "$name" --dataset "$name-train" --epochs 1000 \
  --batch-size full --report-every 100 | tee /dev/stderr | tail -n 1)
end=$(date +%s.%N)
server_seconds=$(sed -n 's/.*"seconds":\([0-9.eE+-]*\).*/\1/p' <<<"$summary")
wall_seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
echo "training time: ${server_seconds}s on the server, ${wall_seconds}s through mlpctl (1000 steps)"

if [ -n "$torch_script" ]; then
  torch_seconds=""
  for threads in 1 2; do
    torch_line=$(/usr/bin/python3 "$torch_script" "$mnist" "$threads" || true)
    echo "torch anchor ($threads threads): $torch_line"
    seconds=$(sed -n 's/.*time_1000_steps \([0-9.]*\)s.*/\1/p' <<<"$torch_line")
    if [ -n "$seconds" ] && { [ -z "$torch_seconds" ] || awk -v a="$seconds" -v b="$torch_seconds" 'BEGIN { exit !(a < b) }'; }; then
      torch_seconds=$seconds
    fi
  done
  awk -v m="$wall_seconds" -v t="$torch_seconds" \
    'BEGIN { printf "ratio mlpd/torch (best thread setting): %.3f (target <= 0.6, aim 0.5)\n", m / t }'
fi

"$mlpctl" --json evaluate "$name" --dataset "$name-train"
"$mlpctl" --json evaluate "$name" --dataset "$name-test"
