#!/usr/bin/env bash
# The real `mlpd` under a fixed memory limit (prlimit --data: its heap and anonymous mappings,
# 1.5 GiB) survives the requests that once took it to gigabytes, each answered with its code:
# - Predict of 1,024 rows (8 KB) on a 1 -> 1,048,576 -> 1 session once needed 4 GiB of
#   activations: it now runs in chunks within --max-call-activation-mb and succeeds;
# - a TrainStep of those rows (8 GiB) is refused with RESOURCE_EXHAUSTED naming the flag;
# - training an 800K-parameter adam session with --checkpoint-every 1 queued a snapshot per
#   step faster than the disk wrote them (RSS 1.7 -> 7.3 GB in 16 s): at most one waits now.
source "$(dirname "$0")/mlpctl_common.bash"

command -v prlimit >/dev/null || fail "prlimit (util-linux) is missing"
limit_mib=1536
real_mlpd=$MLPD_BIN
MLPD_BIN=$work/mlpd-limited
printf '#!/bin/sh\nexec prlimit --data=%d "%s" "$@"\n' $((limit_mib << 20)) "$real_mlpd" \
  >"$MLPD_BIN"
chmod +x "$MLPD_BIN"
start_server --checkpoint-every=1 --checkpoint-interval=0

"$PYTHON" -c 'for i in range(1024): print(f"{(i % 17) / 17:.4f}")' >"$work/x.csv"
"$PYTHON" -c 'for i in range(1024): print(f"{(i % 17) / 17:.4f},{(i % 5) / 5:.4f}")' \
  >"$work/xy.csv"

run 0 create wide --layers 1,1048576,1 --activations tanh,identity --loss mse --optimizer sgd
run 0 --json predict wide --csv "$work/x.csv"
check "len(__import__('json').loads('''$out''')['outputs']) == 1024" \
  "Predict of 1,024 rows answers 1,024 outputs"
run 1 step wide --csv "$work/xy.csv" --target-columns 1
contains "$err" "RESOURCE_EXHAUSTED" "a TrainStep over the activation bound"
contains "$err" "--max-call-activation-mb 256" "the refusal names the flag"
run 0 delete wide

# 1 -> 1000 -> 800 -> 1 adam: 802K parameters, a 9.6 MB snapshot after every step.
run 0 create snapshots --layers 1,1000,800,1 --activations tanh,tanh,identity --loss mse \
  --optimizer adam
head -n 256 "$work/xy.csv" >"$work/rows.csv"
run 0 upload rows --csv "$work/rows.csv" --target-columns 1
run 0 train snapshots --dataset rows --epochs 8 --batch-size 1
run 0 --json get snapshots
check "__import__('json').loads('''$out''')['step_count'] == 2048" "all 2,048 steps applied"

kill -0 "$server_pid" 2>/dev/null || fail "mlpd died under its memory limit"
peak_kib=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
echo "peak resident memory: $((peak_kib / 1024)) MiB under a ${limit_mib} MiB data limit"
