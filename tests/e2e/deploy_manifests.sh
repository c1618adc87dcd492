#!/usr/bin/env bash
# The deploy/ manifests and the router config agree with the server's flags, the image and the
# client's routing header (tests/deploy/check_manifests.py), and the checker really catches
# each kind of drift: every mutation below, applied to a copy of the tree, must make it fail
# with the matching message.
set -euo pipefail
source_dir=${MLPD_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
checker="$source_dir/tests/deploy/check_manifests.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 "$checker" --root "$source_dir"

# expect_caught FILE PYTHON_REGEX REPLACEMENT EXPECTED_MESSAGE: queues one mutation; they all
# run below in one Python process (a process per mutation took minutes on a busy machine).
: >"$work/mutations"
expect_caught() {
  printf '%s\x1f%s\x1f%s\x1f%s\x1e' "$1" "$2" "$3" "$4" >>"$work/mutations"
}

sts=deploy/k8s/statefulset.yaml
expect_caught $sts '(readinessProbe:\s*\n\s*grpc:\s*\n\s*port:) 50051' '\1 50052' \
  'readinessProbe probes port 50052'
expect_caught $sts 'containerPort: 50051' 'containerPort: 8080' 'miss the --listen port'
expect_caught $sts '--listen=0.0.0.0:50051' '--listen=0.0.0.0:6000' 'miss the --listen port'
expect_caught $sts 'terminationGracePeriodSeconds: \d+' 'terminationGracePeriodSeconds: 15' \
  'terminationGracePeriodSeconds is 15'
expect_caught $sts 'replicas: 3' 'replicas: 4' "are not the StatefulSet's 4 pods"
expect_caught $sts '--drain-seconds=' '--drain-secs=' 'unknown flag --drain-secs'
expect_caught $sts 'serviceName: mlpd-pods' 'serviceName: mlpd' 'is not headless'
expect_caught $sts 'mountPath: /data' 'mountPath: /var/lib/mlpd' 'is not on a volumeClaimTemplate'
expect_caught $sts '(livenessProbe:\s*\n\s*)grpc:\s*\n\s*port: 50051' \
  '\1tcpSocket:\n              port: 50051' 'livenessProbe is not a native gRPC probe'
expect_caught deploy/k8s/services.yaml 'targetPort: grpc' 'targetPort: http' \
  'targetPort http is not a container port'
expect_caught deploy/haproxy.cfg 'balance hdr\(x-mlpd-session\)' 'balance hdr(x-session)' \
  "the client library sends the header 'x-mlpd-session'"
expect_caught deploy/haproxy.cfg 'hash-type consistent' 'hash-type map-based' \
  'does not use `hash-type consistent`'
expect_caught deploy/haproxy.cfg 'timeout server 1h' 'timeout server 30s' \
  'would cut long Train streams'
expect_caught deploy/haproxy.cfg '(server mlpd-1 .*) id 2' '\1 id 2 check' 'has health checks'
expect_caught deploy/haproxy.cfg '(retries 2)' '\1\n  option redispatch' 'option redispatch'
expect_caught deploy/haproxy.cfg '^  server mlpd-2 .*\n' '' "are not the StatefulSet's 3 pods"
expect_caught deploy/haproxy.cfg '"\$\{MLPD_REPLICA_0\}"' '127.0.0.1:50061' \
  'must come from "${MLPD_REPLICA_N}" variables'
expect_caught deploy/haproxy.cfg '(server mlpd-0 .*) id 1' '\1' 'has no fixed `id`'
expect_caught deploy/k8s/router.yaml 'mlpd-1.mlpd-pods.mlpd.svc.cluster.local:50051' \
  'mlpd-1.mlpd-pods.mlpd.svc.cluster.local:50052' "are not the StatefulSet's pods"
expect_caught deploy/k8s/router.yaml 'value: "0.0.0.0:50051"' 'value: "0.0.0.0:8080"' \
  'the router listens on port 8080, not a port of the router Deployment'
expect_caught $sts 'prometheus.io/port: "9464"' 'prometheus.io/port: "9090"' \
  'prometheus.io/port is 9090'
expect_caught $sts '--http-listen=0.0.0.0:9464' '--http-listen=127.0.0.1:9464' \
  "cannot scrape a pod's loopback"
expect_caught $sts 'containerPort: 9464' 'containerPort: 9465' 'miss the --http-listen port 9464'
expect_caught deploy/docker-compose.scale-out.yml 'MLPD_REPLICA_HTTP_PORT_1:-9466' \
  'MLPD_REPLICA_HTTP_PORT_1:-9465' 'replicas share an --http-listen address'
expect_caught deploy/docker-compose.yml '--http-listen=127.0.0.1:' '--http-listen=0.0.0.0:' \
  '--http-listen=0.0.0.0:9464: on the host network'
expect_caught $sts 'runAsGroup: 10001' 'runAsGroup: 999' "securityContext.runAsGroup is 999"
expect_caught deploy/docker-compose.yml 'test: \[.*\]' 'test: ["CMD", "true"]' \
  'does not run mlpd-health'
expect_caught deploy/docker-compose.yml 'stop_grace_period: \w+' 'stop_grace_period: 5s' \
  'stop_grace_period 5s must exceed'
expect_caught deploy/docker-compose.yml '- mlpd-data:/data' '- ./data:/data' \
  'is not on a named volume'
expect_caught deploy/docker-compose.yml '^version: "2.4"' 'name: mlpd' 'use 2.x'
expect_caught deploy/docker-compose.yml '(\n)(services:)' '\1name: mlpd\n\2' \
  'top-level `name:` is Compose v2 only'
expect_caught deploy/docker-compose.yml 'network_mode: host' 'ports: ["127.0.0.1:50051:50051"]' \
  'is not on the host network'
expect_caught deploy/docker-compose.yml '--listen=127.0.0.1:' '--listen=0.0.0.0:' \
  'listen on loopback only'
expect_caught deploy/docker-compose.scale-out.yml 'MLPD_REPLICA_PORT_2:-50063\}"' \
  'MLPD_REPLICA_PORT_2:-50064}"' "are not the replicas' --listen"
expect_caught deploy/docker-compose.scale-out.yml '"mlpd-data-1:/data"' '"mlpd-data-0:/data"' \
  'replicas share a volume'
expect_caught deploy/k8s/namespace.yaml 'name: mlpd' 'name: [mlpd' 'does not parse as YAML'

# Each mutation applies to a fresh copy of just what the checker reads, and the checker must
# fail with the expected message.
python3 - "$checker" "$source_dir" "$work" <<'EOF'
import contextlib, importlib.util, io, os, re, shutil, sys
checker, source, work = sys.argv[1:]
spec = importlib.util.spec_from_file_location("check_manifests", checker)
check_manifests = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_manifests)
failures = 0
for entry in open(f"{work}/mutations").read().split("\x1e")[:-1]:
    path, pattern, replacement, expected = entry.split("\x1f")
    tree = f"{work}/tree"
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(f"{source}/deploy", f"{tree}/deploy")
    for kept in ("Dockerfile", "server/main.cc", "server/options.h", "client/client.h"):
        os.makedirs(os.path.dirname(f"{tree}/{kept}"), exist_ok=True)
        shutil.copy(f"{source}/{kept}", f"{tree}/{kept}")
    text = open(f"{tree}/{path}").read()
    changed, count = re.subn(pattern, replacement, text, count=1, flags=re.MULTILINE)
    if count != 1:
        sys.exit(f"mutation pattern {pattern!r} not found in {path}")
    open(f"{tree}/{path}", "w").write(changed)
    output = io.StringIO()
    sys.argv = ["check_manifests.py", "--root", tree]
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        code = check_manifests.main()
    if code == 0:
        print(f"NOT CAUGHT: {path}: {pattern} -> {replacement}")
        failures += 1
    elif expected not in output.getvalue():
        print(f"WRONG MESSAGE for {path}: {pattern} -> {replacement} (wanted {expected!r}):")
        print(output.getvalue())
        failures += 1
    else:
        print(f"caught: {path}: {pattern} -> {replacement}")
if failures:
    sys.exit(f"deploy_manifests: {failures} mutations not caught")
EOF
echo "deploy_manifests: manifests consistent; all mutations caught"
