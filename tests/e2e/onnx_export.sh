#!/usr/bin/env bash
# ONNX export through the service: sessions of every activation and loss, trained a little by
# the real mlpd, exported with `mlpctl export --format onnx`, must pass the ONNX checker and,
# run by the independent numpy evaluator (tests/python/onnx_reference_eval.py), give the
# outputs of `mlpctl predict` on the same random rows within 1e-5.
source "$(dirname "$0")/mlpctl_common.bash"
: "${MLPD_SOURCE_DIR:?MLPD_SOURCE_DIR must name the source tree}"
start_server --threads 1

# 64 rows of 6 features with a class label out of 3 (cross_entropy) and +-1 / float targets.
"$PYTHON" - "$work" <<'PY'
import random, sys
work = sys.argv[1]
random.seed(11)
rows = [[random.uniform(-1, 1) for _ in range(6)] for _ in range(64)]
with open(work + "/labels.csv", "w") as f:
    for x in rows:
        f.write(",".join("%.6f" % v for v in x) + ",%d\n" % (int(x[0] > 0) + int(x[1] > 0.3)))
with open(work + "/sign.csv", "w") as f:
    for x in rows:
        f.write(",".join("%.6f" % v for v in x) + ",%d\n" % (1 if x[2] > 0 else -1))
with open(work + "/fit.csv", "w") as f:
    for x in rows:
        f.write(",".join("%.6f" % v for v in x) + ",%.6f,%.6f\n" % (x[0] * x[1], 0.5 * x[3]))
PY
run 0 upload labels --csv "$work/labels.csv" --label-column
run 0 upload sign --csv "$work/sign.csv" --target-columns 1
run 0 upload fit --csv "$work/fit.csv" --target-columns 2

# name layers activations loss dataset
cases=(
  "relu-ce 6,16,8,3 relu,relu,identity cross_entropy labels"
  "tanh-ce 6,8,3 tanh,identity cross_entropy labels"
  "sigmoid-logistic 6,8,1 sigmoid,identity logistic sign"
  "identity-mse 6,4,2 identity,identity mse fit"
  "tanh-mse 6,8,2 tanh,tanh mse fit"
  "sigmoid-mse 6,8,2 sigmoid,sigmoid mse fit"
  "relu-logistic 6,8,1 relu,identity logistic sign"
)
# Random rows (some outside the training range), as CSV for predict and raw float32 for the
# evaluator; %.9g makes the CSV parse back to exactly these float32 values.
"$PYTHON" - "$work" <<'PY'
import sys
import numpy as np
work = sys.argv[1]
x = np.random.default_rng(5).uniform(-3, 3, size=(41, 6)).astype(np.float32)
x.tofile(work + "/x.f32")
np.savetxt(work + "/x.csv", x, delimiter=",", fmt="%.9g")
PY
: >"$work/manifest"
for entry in "${cases[@]}"; do
  read -r name layers activations loss dataset <<<"$entry"
  run 0 create "$name" --layers "$layers" --activations "$activations" --loss "$loss" \
    --optimizer adam --lr 0.02 --init xavier --seed 2
  run 0 train "$name" --dataset "$dataset" --epochs 3 --batch-size 16
  run 0 export "$name" --format onnx -o "$work/$name.onnx"
  run 0 predict "$name" --csv "$work/x.csv"
  printf '%s\n' "$out" >"$work/$name.csv"
  "$PYTHON" -c 'import sys, numpy as np
np.loadtxt(sys.argv[1], delimiter=",", ndmin=2).astype(np.float32).tofile(sys.argv[2])' \
    "$work/$name.csv" "$work/$name.expected" || fail "predict output of $name is not CSV"
  echo "$name $work/$name.onnx $work/x.f32 $work/$name.expected" >>"$work/manifest"
done
"$PYTHON" "$MLPD_SOURCE_DIR/tests/python/onnx_reference_eval.py" --manifest "$work/manifest" ||
  fail "an exported ONNX model fails the checker or differs from predict"
echo "PASS: ONNX export of ${#cases[@]} sessions matches predict"
