#!/usr/bin/env bash
# mlpctl end to end against the real mlpd: each subcommand's happy path, --json output that
# parses, the predict CSV round trip, the export/import round trip, usage errors (exit 2) and
# server refusals (exit 1 with the gRPC code name).
source "$(dirname "$0")/mlpctl_common.bash"
start_server --threads 1

# XOR-like data: two inputs, a class label in the last column.
printf '0,0,0\n0,1,1\n1,0,1\n1,1,0\n' >"$work/xor.csv"
printf '0,0\n0,1\n1,0\n1,1\n' >"$work/xor-x.csv"

run 0 health
[ "$out" = SERVING ] || fail "health printed \"$out\", expected SERVING"
run 0 --json health
[ "$(json_get "$out" 'v["status"]')" = SERVING ] || fail "health --json: $out"
run 0 health --service mlpd.v1.Mlpd
run 1 health --service no.such.Service
contains "$err" "NOT_FOUND: " "health of an unknown service"

# version: mlpctl's own, then the server's with its limits and features
run 0 version
contains "$out" "mlpctl " "version names mlpctl"
contains "$out" "API mlpd.v1 1.0" "version names the API"
contains "$out" "features: data_dir expected_step history jobs" "version lists the features"
run 0 --json version
[ "$(json_get "$out" 'v["server"]["limits"]["max_message_bytes"]')" = $((64 << 20)) ] ||
  fail "version --json: the default message limit: $out"
[ "$(json_get "$out" 'v["client"]["version"] == v["server"]["version"]')" = True ] ||
  fail "version --json: client and server are one build: $out"

# create / get / list
run 0 create xor --layers 2,8,2 --activations tanh,identity --loss cross_entropy \
  --optimizer adam --lr 0.05 --init xavier --seed 7
contains "$out" "created session xor: 2-8-2 tanh,identity cross_entropy" "create"
run 0 --json create practical --layers 784,50,10 --activations tanh,tanh --loss mse \
  --reduction sum --optimizer sgd --lr 1e-4 --init normal:1e-6 --seed 0
[ "$(json_get "$out" 'v["parameter_count"]')" = 39760 ] || fail "create --json: $out"
[ "$(json_get "$out" 'v["layers"]')" = 784-50-10 ] || fail "create --json layers: $out"
run 0 create mom --layers 3,1 --activations identity --optimizer momentum --momentum 0.5 \
  --lr 0.01 --init uniform:0.1
run 0 get xor
contains "$out" "steps:       0" "get"
run 0 get xor --json
[ "$(json_get "$out" 'v["name"]')" = xor ] || fail "get --json: $out"
run 0 --json list
[ "$(json_get "$out" '",".join(s["name"] for s in v)')" = mom,practical,xor ] || fail "list: $out"
run 0 list
contains "$out" "practical" "list"

# upload (labels and targets), list/get datasets
run 0 upload xor-data --csv "$work/xor.csv" --label-column
contains "$out" "uploaded dataset xor-data: 4 rows, 2 inputs, labels" "upload"
run 0 --json upload xor-fit --csv "$work/xor.csv" --label-column --normalize fit --one-hot 1 \
  --one-hot-base -1
check "abs($(json_get "$out" 'v["mean"]') - 0.5) < 1e-9" "upload --normalize fit mean: $out"
[ "$(json_get "$out" 'v["target_size"]')" = 2 ] || fail "one-hot target_size: $out"
run 0 upload xor-plain --csv "$work/xor.csv" --label-column --normalize fit
contains "$out" "normalize: mean=0.5 std=" "upload prints the fitted values"
contains "$out" "--normalize 0.5," "upload prints the flag to reuse"
run 0 --json list --datasets
[ "$(json_get "$out" 'len(v)')" = 3 ] || fail "list --datasets: $out"
run 0 get --dataset xor-data --json
[ "$(json_get "$out" 'v["rows"]')" = 4 ] || fail "get --dataset: $out"
# --session only adds the routing header (for a proxy); a single server answers as before.
run 0 --json get --dataset xor-data --session xor
[ "$(json_get "$out" 'v["rows"]')" = 4 ] || fail "get --dataset --session: $out"
run 0 --json list --datasets --session xor
[ "$(json_get "$out" 'len(v)')" = 3 ] || fail "list --datasets --session: $out"

# train: plain lines when piped, JSON lines with --json
run 0 train xor --dataset xor-data --epochs 100 --batch-size full --report-every 50
contains "$out" "epoch=50/100" "train progress line"
contains "$out" "trained xor: 100 steps, 100 epochs" "train summary"
run 0 --json train xor --dataset xor-data --epochs 200 --batch-size 2 --shuffle --seed 3 \
  --eval xor-data --report-every 100
while IFS= read -r line; do json_get "$line" 'v["event"]' >/dev/null; done <<<"$out"
last=$(tail -n 1 <<<"$out")
[ "$(json_get "$last" 'v["event"]')" = summary ] || fail "train --json last line: $last"
[ "$(json_get "$last" 'v["steps"]')" = 400 ] || fail "train --json steps: $last"
[ "$(json_get "$last" 'v["step"]')" = 500 ] || fail "train --json session step: $last"
check "$(json_get "$last" 'v["eval_error_rate"]') == 0.0" "xor not learned: $last"

# step / evaluate
run 0 step xor --csv "$work/xor.csv" --label-column
contains "$out" "step 501 loss" "step"
run 0 --json step xor --csv "$work/xor.csv" --label-column
[ "$(json_get "$out" 'v["step"]')" = 502 ] || fail "step --json: $out"
# --expected-step: applied at the expected count, refused (ABORTED, nothing applied) after it.
run 0 step xor --csv "$work/xor.csv" --label-column --expected-step 502
contains "$out" "step 503 loss" "step --expected-step at the session's count"
run 1 step xor --csv "$work/xor.csv" --label-column --expected-step 502
contains "$err" "expected_step is 502, the session's step count is 503" "step --expected-step refused"
run 0 --json get xor
[ "$(json_get "$out" 'v["step_count"]')" = 503 ] || fail "a refused --expected-step applied: $out"
run 0 --json evaluate xor --dataset xor-data
[ "$(json_get "$out" 'sorted(v)')" = "['count', 'error_rate', 'loss']" ] || fail "evaluate keys: $out"
[ "$(json_get "$out" 'v["count"]')" = 4 ] || fail "evaluate count: $out"
check "$(json_get "$out" 'v["error_rate"]') == 0.0" "evaluate error_rate: $out"
run 0 evaluate xor --csv "$work/xor.csv" --label-column
contains "$out" "error_rate 0.0000 (0.00%) count 4" "evaluate inline"

# predict: one CSV row per input row; --classes; --json; stdin; the CSV reads back exactly
run 0 predict xor --csv "$work/xor-x.csv"
csv=$out
[ "$(wc -l <<<"$csv")" = 4 ] || fail "predict rows: $csv"
run 0 predict xor --csv "$work/xor-x.csv" --classes
[ "$(tr '\n' ' ' <<<"$out")" = "0 1 1 0 " ] || fail "predict --classes: $out"
run 0 --json predict xor --csv "$work/xor-x.csv"
json=$out
"$PYTHON" - "$csv" "$json" <<'PY' || fail "predict CSV and JSON disagree"
import json, struct, sys
csv_rows = [[float(v) for v in line.split(",")] for line in sys.argv[1].splitlines()]
outputs = json.loads(sys.argv[2])["outputs"]
f32 = lambda v: struct.unpack("f", struct.pack("f", v))[0]
assert len(csv_rows) == len(outputs) == 4
for a, b in zip(csv_rows, outputs):
    assert len(a) == 2 and all(f32(x) == f32(y) for x, y in zip(a, b)), (a, b)
    assert abs(sum(a) - 1) < 1e-5  # softmax probabilities
PY
"$MLPCTL_BIN" predict xor --csv - <"$work/xor-x.csv" >"$work/stdin.out" || fail "predict --csv -"
[ "$(cat "$work/stdin.out")" = "$csv" ] || fail "predict from stdin differs from the file"
run 0 predict xor --csv "$work/xor.csv" --label-column --classes
[ "$(tr '\n' ' ' <<<"$out")" = "0 1 1 0 " ] || fail "predict ignores the label column: $out"

# predict more rows than one message may carry (1.6 MB of x under a 1 MiB limit, sent in
# 512 KiB requests): mlpctl splits them and keeps the order
"$PYTHON" -c 'print("\n".join(",".join(str((r * 7 + c) % 2) for c in range(2)) for r in range(200000)))' \
  >"$work/many.csv"
run 0 --max-message-mb 1 predict xor --csv "$work/many.csv" --classes
many=$out
[ "$(wc -l <<<"$many")" = 200000 ] || fail "chunked predict rows: $(wc -l <<<"$many")"
run 0 predict xor --csv "$work/many.csv" --classes
[ "$many" = "$out" ] || fail "chunked predict differs from one request"
run 2 --max-message-mb 0 health

# export / import round trip: the copy predicts the same bytes; ONNX is a valid model
run 0 export xor --format native -o "$work/xor.ckpt"
contains "$out" "exported session xor (native" "export"
[ -s "$work/xor.ckpt" ] || fail "export wrote nothing"
run 0 import xor-copy -i "$work/xor.ckpt"
contains "$out" "imported session xor-copy" "import"
contains "$out" "at step 503" "import keeps the step count"
run 0 predict xor-copy --csv "$work/xor-x.csv"
[ "$out" = "$csv" ] || fail "imported copy predicts differently: $out vs $csv"
run 0 --json export practical --format onnx -o "$work/practical.onnx"
[ "$(json_get "$out" 'v["format"]')" = onnx ] || fail "export --json: $out"
if "$PYTHON" -c 'import onnx' 2>/dev/null; then
  "$PYTHON" -c 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]))' \
    "$work/practical.onnx" || fail "the ONNX export does not pass onnx.checker"
fi

# save / delete
run 0 save xor
contains "$out" "saved session xor at step 503" "save"
run 0 delete xor-copy
contains "$out" "deleted session xor-copy" "delete"
run 0 delete --dataset xor-plain --session xor
run 1 get --dataset xor-plain
contains "$err" "NOT_FOUND: " "get of a deleted dataset"
run 1 get xor-copy
contains "$err" "NOT_FOUND: " "get after delete"
# "010" is ten epochs, not octal eight
run 0 train xor --dataset xor-data --epochs 010
contains "$out" "10 steps, 10 epochs" "--epochs 010 is decimal"

# server refusals: exit 1 and "CODE_NAME: message"
run 1 create xor --layers 2,2 --activations tanh
contains "$err" "ALREADY_EXISTS: " "duplicate create"
printf '1,2,3\n' >"$work/wide.csv"
run 1 predict xor --csv "$work/wide.csv"
contains "$err" "INVALID_ARGUMENT: " "predict with 3 columns"
contains "$err" "3" "the message names the received width"
run 1 evaluate xor --dataset nothing-here
contains "$err" "NOT_FOUND: " "evaluate on a missing dataset"
run 1 train xor --dataset nothing-here
contains "$err" "NOT_FOUND: " "train on a missing dataset"
run 1 create "../x" --layers 2,2 --activations tanh
contains "$err" "INVALID_ARGUMENT: " "bad name"
run 1 import bad -i "$work/xor.csv"
contains "$err" ": " "import of a non-checkpoint is refused with a code"

# usage errors: exit 2, nothing sent
run 2
run 2 frobnicate
run 2 create
run 2 create x --layers 2,x --activations tanh
contains "$err" "--layers" "bad --layers names the flag"
run 2 create x --layers 2,3,1 --activations tanh,tanh,tanh
contains "$err" "--activations" "activation count"
run 2 create x --layers 2,1 --activations tanh --init normal
contains "$err" "--init" "init without scale"
run 2 train xor --dataset xor-data --batch-size lots
contains "$err" "--batch-size" "bad batch size"
# float flags are float32 on the wire: a value that does not fit is refused with the typed text
for flag in --lr --momentum --beta1 --beta2 --eps; do
  run 2 create floaty --layers 2,1 --activations tanh --optimizer adam "$flag" 1e99
  contains "$err" "$flag: \"1e99\" is not finite as float32" "$flag 1e99"
done
run 2 create floaty --layers 2,1 --activations tanh --lr nan
contains "$err" "--lr: \"nan\"" "--lr nan"
run 2 create floaty --layers 2,1 --activations tanh --optimizer adam --eps 1e-50
contains "$err" "--eps: \"1e-50\" rounds to 0" "--eps 1e-50"
run 2 create floaty --layers 2,1 --activations tanh --init normal:1e99
contains "$err" "--init: \"normal:1e99\"" "--init normal:1e99"
run 2 upload d --csv "$work/xor.csv" --label-column --one-hot 1e99
contains "$err" "--one-hot: \"1e99\"" "--one-hot 1e99"
run 2 train xor --dataset xor-data --epochs 0
# integer flags: negative, out-of-range or non-decimal text is refused, naming the flag (CLI11
# alone wraps -1 around in an unsigned seed and clamps an overflow to INT64_MAX)
run 2 create negseed --layers 2,1 --activations tanh --seed -1
contains "$err" "--seed: \"-1\" is out of range, expected an integer >= 0" "create --seed -1"
run 2 train xor --dataset nothing-here --seed -1
contains "$err" "--seed: \"-1\" is out of range" "train --seed -1"
run 2 train xor --dataset nothing-here --epochs 99999999999999999999
contains "$err" "--epochs: \"99999999999999999999\" is out of range, expected an integer <=" \
  "--epochs overflow"
run 2 create bigseed --layers 2,1 --activations tanh --seed 18446744073709551616
contains "$err" "--seed: \"18446744073709551616\" is out of range, expected an integer <= 18446744073709551615" \
  "--seed overflow"
run 2 train xor --dataset nothing-here --report-every 1e3
contains "$err" "--report-every: \"1e3\" is not a decimal integer" "--report-every 1e3"
run 2 upload d --csv "$work/xor.csv" --label-column --limit 0
contains "$err" "--limit: \"0\" is out of range, expected an integer >= 1" "--limit 0"
run 2 upload d --csv "$work/xor.csv" --label-column --limit -2
contains "$err" "--limit: \"-2\"" "--limit -2"
run 2 upload d --csv "$work/xor.csv" --target-columns -1
contains "$err" "--target-columns: \"-1\"" "--target-columns -1"
run 2 upload d --csv "$work/xor.csv" --label-column --one-hot 1 --classes-count 0
contains "$err" "--classes-count: \"0\"" "--classes-count 0"
run 2 --max-message-mb 99999999999999999999 health
contains "$err" "--max-message-mb: \"99999999999999999999\" is out of range, expected an integer from 1 to 2047" \
  "--max-message-mb overflow"
run 2 get xor --no-such-flag
run 2 get xor --session xor
contains "$err" "--session requires --dataset" "--session without --dataset"
run 2 upload d --csv "$work/missing.csv"
run 2 upload d --csv "$work/xor.csv" --label-column --target-columns 1
run 2 export xor --format pdf -o "$work/x"
# step and evaluate on inline rows need targets or labels: refused before anything is sent
run 2 step xor --csv "$work/xor.csv"
contains "$err" "step needs targets or labels" "step without targets"
contains "$err" "--label-column" "step without targets names --label-column"
contains "$err" "--target-columns K" "step without targets names --target-columns"
run 2 step xor --csv "$work/xor.csv" --target-columns 0
contains "$err" "step needs targets or labels" "step with --target-columns 0"
run 2 evaluate xor --csv "$work/xor.csv"
contains "$err" "evaluate needs targets or labels" "evaluate without targets"
# a directory or an empty file is refused locally, naming the path (nothing is sent)
mkdir -p "$work/a-directory"
: >"$work/empty.ckpt"
run 2 import bad -i "$work/a-directory"
contains "$err" "--input: \"$work/a-directory\" is a directory" "import from a directory"
run 2 import bad -i "$work/empty.ckpt"
contains "$err" "--input: \"$work/empty.ckpt\" is empty" "import of an empty file"
run 2 --token-file "$work/a-directory" health
contains "$err" "--token-file: \"$work/a-directory\" is a directory" "token file that is a directory"
run 2 predict xor
run 2 --timeout 0 health

# train --csv: uploads the data as --dataset unless the server has that dataset (then its copy
# is kept); data without targets is refused before anything is sent
run 0 create placed --layers 2,4,2 --activations tanh,identity --loss cross_entropy
run 0 train placed --dataset xor-placed --csv "$work/xor.csv" --label-column --epochs 2
contains "$err" "uploaded dataset xor-placed to the server of session placed: 4 rows, 2 inputs, labels" \
  "train --csv uploads"
contains "$out" "trained placed: 2 steps" "train --csv trains"
cat "$work/xor.csv" "$work/xor.csv" >"$work/xor-twice.csv"
run 0 train placed --dataset xor-placed --csv "$work/xor-twice.csv" --label-column --epochs 1
contains "$err" "dataset xor-placed is already on the server of session placed: 4 rows" \
  "train --csv keeps the server's dataset"
run 2 train placed --dataset xor-unlabelled --csv "$work/xor-x.csv"
contains "$err" "train needs targets or labels" "train --csv without targets"
run 1 get xor-unlabelled --dataset
contains "$err" "NOT_FOUND: " "nothing uploaded for a refused train --csv"

# every subcommand documents itself with an example
for command in create get list delete health upload train step evaluate predict export import save \
  version; do
  run 0 "$command" --help
  contains "$out" "Example:" "$command --help"
done
run 0 --help
contains "$out" "Exit codes" "top-level --help"

# an unreachable server is a refusal with its code, not a crash
stop_server
run 1 --timeout 2 health
contains "$err" "UNAVAILABLE: " "health without a server"
echo "mlpctl_commands: all checks passed"
