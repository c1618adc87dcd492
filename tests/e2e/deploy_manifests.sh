#!/usr/bin/env bash
# The deploy/ manifests and the router config agree with the server's flags, the image and the
# client's routing header
# (tests/deploy/check_manifests.py), and the checker really catches each kind of drift: every
# mutation below, applied to a copy of the tree, must make it fail with the matching message.
set -euo pipefail
source_dir=${MLPD_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
checker="$source_dir/tests/deploy/check_manifests.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 "$checker" --root "$source_dir"

# fresh_copy makes $work/tree hold just what the checker reads.
fresh_copy() {
  rm -rf "$work/tree"
  mkdir -p "$work/tree/server" "$work/tree/client"
  cp -r "$source_dir/deploy" "$work/tree/deploy"
  cp "$source_dir/Dockerfile" "$work/tree/"
  cp "$source_dir/server/main.cc" "$work/tree/server/"
  cp "$source_dir/client/client.h" "$work/tree/client/"
}

failures=0
# expect_caught FILE PYTHON_REGEX REPLACEMENT EXPECTED_MESSAGE
expect_caught() {
  local file=$1 pattern=$2 replacement=$3 expected=$4
  fresh_copy
  python3 - "$work/tree/$file" "$pattern" "$replacement" <<'EOF'
import re, sys
path, pattern, replacement = sys.argv[1:]
text = open(path).read()
changed, count = re.subn(pattern, replacement, text, count=1, flags=re.MULTILINE)
if count != 1:
    sys.exit(f"mutation pattern {pattern!r} not found in {path}")
open(path, "w").write(changed)
EOF
  local output
  if output=$(python3 "$checker" --root "$work/tree" 2>&1); then
    echo "NOT CAUGHT: $file: $pattern -> $replacement"
    failures=$((failures + 1))
  elif ! grep -qF -- "$expected" <<<"$output"; then
    echo "WRONG MESSAGE for $file: $pattern -> $replacement (wanted '$expected'):"
    echo "$output"
    failures=$((failures + 1))
  else
    echo "caught: $file: $pattern -> $replacement"
  fi
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

if [ "$failures" -ne 0 ]; then
  echo "deploy_manifests: $failures mutations not caught"
  exit 1
fi
echo "deploy_manifests: manifests consistent; all mutations caught"
