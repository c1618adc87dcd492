#!/usr/bin/env bash
# The deploy/ manifests agree with the server's flags and the client's routing header
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
expect_caught deploy/envoy.yaml 'header_name: x-mlpd-session' 'header_name: x-session' \
  "the client library sends 'x-mlpd-session'"
expect_caught deploy/envoy.yaml 'lb_policy: RING_HASH' 'lb_policy: ROUND_ROBIN' 'does not hash'
expect_caught deploy/envoy.yaml 'timeout: 0s' 'timeout: 30s' 'would cut long Train streams'
expect_caught deploy/envoy.yaml 'use_hostname_for_hashing: true' 'use_hostname_for_hashing: false' \
  'does not hash by host name'
expect_caught deploy/envoy.yaml '(cluster.local, port_value:) 50051' '\1 50052' \
  'mlpd listens on 50051'
expect_caught deploy/envoy.yaml '(address: 0.0.0.0, port_value:) 50051' '\1 8080' \
  'listener port 8080 is not a port of the Envoy Deployment'
expect_caught deploy/docker-compose.yml 'test: \[.*\]' 'test: ["CMD", "true"]' \
  'does not call `mlpctl health`'
expect_caught deploy/docker-compose.yml 'stop_grace_period: \w+' 'stop_grace_period: 5s' \
  'stop_grace_period 5s must exceed'
expect_caught deploy/docker-compose.yml '- mlpd-data:/data' '- ./data:/data' \
  'is not on a named volume'
expect_caught deploy/docker-compose.yml '"127.0.0.1:50051:50051"' '"127.0.0.1:50051:50052"' \
  'mlpd listens on 50051'
expect_caught deploy/k8s/namespace.yaml 'name: mlpd' 'name: [mlpd' 'does not parse as YAML'

if [ "$failures" -ne 0 ]; then
  echo "deploy_manifests: $failures mutations not caught"
  exit 1
fi
echo "deploy_manifests: manifests consistent; all mutations caught"
