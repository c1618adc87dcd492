#!/usr/bin/env bash
# A real Prometheus (Debian's package) scrapes mlpd's /metrics: the test starts mlpd with its
# HTTP port on loopback, starts prometheus with a generated config scraping it, makes a known
# number of TrainStep calls, and asks Prometheus's HTTP API for
# sum(grpc_server_handled_total{grpc_method="TrainStep"}) until it equals them, and mlpd_jobs by
# state through a job that succeeds and one that is cancelled (whose ends the JSON log names).
# promtool checks the live exposition, and every family the Grafana dashboard queries must be
# exposed.
source "$(dirname "$0")/mlpctl_common.bash"
command -v prometheus >/dev/null || fail "prometheus is not installed (scripts/install-deps)"
command -v promtool >/dev/null || fail "promtool is not installed (scripts/install-deps)"
prometheus_pid=
stop_prometheus() {
  if [ -n "$prometheus_pid" ] && kill -0 "$prometheus_pid" 2>/dev/null; then
    kill -TERM "$prometheus_pid"
    wait "$prometheus_pid" || true
  fi
}
trap 'stop_prometheus; cleanup' EXIT

free_port() {
  "$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

start_server --http-listen 127.0.0.1:0 --checkpoint-interval=0 --log-format json
wait_http_port
metrics_url="http://127.0.0.1:$http_port/metrics"

# promtool checks what mlpd really serves (names, types, histograms, help texts).
curl -fsS "$metrics_url" >"$work/exposition.txt" || fail "GET $metrics_url failed"
promtool check metrics <"$work/exposition.txt" >"$work/promtool.out" 2>&1 ||
  fail "promtool check metrics: $(cat "$work/promtool.out")"

# Every family the Grafana dashboard queries is declared (a # TYPE line; a histogram's _bucket
# series by its base name), even those with no series before the first call.
missing=$("$PYTHON" -c 'import json, re, sys
dashboard = json.load(open(sys.argv[1]))
exposition = open(sys.argv[2]).read()
names = set()
for panel in dashboard["panels"]:
    for target in panel["targets"]:
        names.update(re.findall(r"\b((?:grpc_server|mlpd|process)_[a-z_]+)", target["expr"]))
def declared(name):
    base = re.sub(r"_bucket$", "", name)
    return f"# TYPE {name} " in exposition or f"# TYPE {base} histogram" in exposition
print(" ".join(sorted(n for n in names if not declared(n))))' \
  "$MLPD_SOURCE_DIR/deploy/grafana/mlpd.json" "$work/exposition.txt") ||
  fail "could not read deploy/grafana/mlpd.json"
[ -z "$missing" ] || fail "deploy/grafana/mlpd.json queries families /metrics does not declare: $missing"

prometheus_port=$(free_port)
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: mlpd
    static_configs:
      - targets: ["127.0.0.1:$http_port"]
YAML
promtool check config "$work/prometheus.yml" >/dev/null || fail "generated prometheus.yml is invalid"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prometheus_port" --log.level=warn \
  >"$work/prometheus.log" 2>&1 &
prometheus_pid=$!

# query PROMQL: prints the value of a one-sample instant query ("" when there is none yet).
query() {
  curl -fsS --get "http://127.0.0.1:$prometheus_port/api/v1/query" --data-urlencode "query=$1" \
    2>/dev/null | "$PYTHON" -c 'import json, sys
answer = json.load(sys.stdin)
result = answer["data"]["result"] if answer.get("status") == "success" else []
print(result[0]["value"][1] if result else "")' 2>/dev/null || true
}

# wait_for PROMQL EXPECTED WHAT: polls Prometheus (it scrapes every second) until the query
# answers EXPECTED; fails after 30 s, or at once when the answer overshoots.
wait_for() {
  local attempt value=
  for attempt in $(seq 150); do
    value=$(query "$1")
    [ "$value" = "$2" ] && return 0
    kill -0 "$prometheus_pid" 2>/dev/null || fail "prometheus exited: $(tail -n 5 "$work/prometheus.log")"
    sleep 0.2
  done
  fail "$3: Prometheus answers '$value' for $1, expected $2"
}

wait_for 'up{job="mlpd"}' 1 "mlpd scraped"

# Known calls: 7 steps that apply, 2 that fail (wrong input width), 1 health check.
run 0 create probe --layers 3,4,2 --activations tanh,identity --loss mse --optimizer sgd --lr 0.01
printf '1,2,3,0.5,1\n3,2,1,1,0\n' >"$work/rows.csv"
printf '1,2,0.5,1\n' >"$work/narrow.csv"
steps=7
for i in $(seq "$steps"); do run 0 step probe --csv "$work/rows.csv" --target-columns 2; done
for i in 1 2; do run 1 step probe --csv "$work/narrow.csv" --target-columns 2; done

wait_for 'sum(grpc_server_handled_total{grpc_method="TrainStep"})' $((steps + 2)) \
  "TrainStep calls counted"
wait_for 'sum(grpc_server_handled_total{grpc_method="TrainStep",grpc_code="OK"})' "$steps" \
  "successful TrainStep calls"
wait_for 'sum(grpc_server_handled_total{grpc_method="TrainStep",grpc_code="InvalidArgument"})' 2 \
  "refused TrainStep calls"
wait_for 'sum(grpc_server_started_total{grpc_method="TrainStep"})' $((steps + 2)) \
  "TrainStep calls started"
wait_for 'sum(grpc_server_handling_seconds_count{grpc_method="TrainStep",grpc_type="unary"})' \
  $((steps + 2)) "TrainStep latencies observed"
wait_for 'sum(mlpd_train_steps_total)' "$steps" "steps applied"
wait_for 'sum(mlpd_train_samples_total)' $((steps * 2)) "samples trained"
wait_for 'mlpd_sessions' 1 "sessions held"

# Jobs by state: none yet, then one that ran to its end and one seen running, then cancelled.
for state in queued running succeeded failed cancelled; do
  wait_for "mlpd_jobs{state=\"$state\"}" 0 "$state jobs before any"
done
run 0 upload rows --csv "$work/rows.csv" --target-columns 2
run 0 train probe --dataset rows --epochs 3 --batch-size 1 --detach
short=$out
run 0 watch "$short"
wait_for 'mlpd_jobs{state="succeeded"}' 1 "the job that ran to its end"
run 0 create long --layers 3,4,2 --activations tanh,identity --loss mse --optimizer sgd --lr 0.01
run 0 train long --dataset rows --epochs 1000000 --batch-size 1 --detach
long=$out
wait_for 'mlpd_jobs{state="running"}' 1 "the long job running"
run 0 cancel "$long" --wait
wait_for 'mlpd_jobs{state="cancelled"}' 1 "the cancelled job"
wait_for 'mlpd_jobs{state="running"}' 0 "no job running after the cancel"
wait_for 'sum(mlpd_jobs)' 2 "jobs held"

# The JSON log names each job's end with its job, session and code.
"$PYTHON" - "$work/mlpd.log" "$short" "$long" <<'PY' || fail "job_ended log lines: see above"
import json, sys
ends = {}
for line in open(sys.argv[1]):
    event = json.loads(line)
    if event.get("event") == "job_ended":
        ends[event["job"]] = event
expected = {sys.argv[2]: ("probe", "OK", "info"), sys.argv[3]: ("long", "CANCELLED", "warning")}
for job, (session, code, level) in expected.items():
    event = ends.get(job)
    if event is None or (event["session"], event["code"], event["level"]) != (session, code, level) \
            or event["duration"] <= 0:
        sys.exit(f"job {job}: expected a job_ended line (session {session}, code {code}, level "
                 f"{level}, a duration), got {event}")
PY
echo "metrics_prometheus: Prometheus counted $((steps + 2)) TrainStep calls as made and the jobs by state"
