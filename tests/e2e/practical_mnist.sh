#!/usr/bin/env bash
# The lecture's practical through the service: examples/mnist-practical.sh against a real mlpd,
# then its two last lines (the train and test evaluations) checked against the acceptance band
# of the lecture's practical: train error_rate <= 0.01, test error_rate in [0.14, 0.175].
source "$(dirname "$0")/mlpctl_common.bash"
: "${MLPD_SOURCE_DIR:?MLPD_SOURCE_DIR must name the source tree}"
: "${MLPD_MNIST_DIR:?MLPD_MNIST_DIR must name the MNIST folder}"
[ -f "$MLPD_MNIST_DIR/train-images-idx3-ubyte" ] ||
  fail "no MNIST in $MLPD_MNIST_DIR (run scripts/fetch-mnist)"
start_server

MLPCTL_BIN=$MLPCTL_BIN MLPD_MNIST_DIR=$MLPD_MNIST_DIR \
  "$MLPD_SOURCE_DIR/examples/mnist-practical.sh" >"$work/practical.out" 2>"$work/practical.err" ||
  fail "mnist-practical.sh failed: $(tail -n 5 "$work/practical.err")"
cat "$work/practical.out"
contains "$(cat "$work/practical.out")" "normalize: mean=32.70" "the fitted train mean"
contains "$(cat "$work/practical.out")" "training time: " "the training time"
train=$(tail -n 2 "$work/practical.out" | head -n 1)
test=$(tail -n 1 "$work/practical.out")
train_error=$(json_get "$train" 'v["error_rate"]')
test_error=$(json_get "$test" 'v["error_rate"]')
[ "$(json_get "$train" 'v["count"]')" = 1000 ] || fail "train count: $train"
[ "$(json_get "$test" 'v["count"]')" = 1000 ] || fail "test count: $test"
check "$train_error <= 0.01" "train error_rate $train_error > 0.01"
check "0.14 <= $test_error <= 0.175" "test error_rate $test_error outside [0.14, 0.175]"
echo "practical_mnist: train error_rate $train_error, test error_rate $test_error"
