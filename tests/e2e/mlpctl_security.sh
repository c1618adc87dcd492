#!/usr/bin/env bash
# mlpctl over TLS (with --tls-server-name for a certificate whose name is not the address) and
# with a bearer token: the right token is accepted, a missing or wrong one is UNAUTHENTICATED
# (exit 1), and health answers without a token (probes carry none).
source "$(dirname "$0")/mlpctl_common.bash"
command -v openssl >/dev/null || { echo "mlpctl_security: openssl missing, skipped"; exit 0; }

# A CA and a server certificate for the name "mlpd.test" (not the address mlpctl dials).
cd "$work"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=test-ca" \
  -keyout ca.key -out ca.pem >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=mlpd.test" -keyout server.key -out server.csr \
  >/dev/null 2>&1
printf 'subjectAltName=DNS:mlpd.test\n' >san.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 \
  -extfile san.ext -out server.pem >/dev/null 2>&1
echo "e2e-token-1234" >token
echo "wrong-token" >wrong

flag() {  # The binary's spelling of a multi-word flag (Abseil: underscores).
  case $("$MLPD_BIN" --helpfull 2>&1 || true) in *"--${1//-/_}"*) echo "--${1//-/_}" ;; *) echo "--$1" ;; esac
}
tls=(--tls-ca "$work/ca.pem" --tls-server-name mlpd.test)
probe_flags=("${tls[@]}")
start_server --threads 1 "$(flag tls-cert)" "$work/server.pem" "$(flag tls-key)" \
  "$work/server.key" "$(flag auth-token-file)" "$work/token" ||
  fail "mlpd did not start with TLS and a token"

# Health needs no token; every mlpd.v1 call does.
run 0 "${tls[@]}" health
run 1 "${tls[@]}" list
contains "$err" "UNAUTHENTICATED: " "a call without a token"
run 1 "${tls[@]}" --token-file "$work/wrong" list
contains "$err" "UNAUTHENTICATED: " "a call with a wrong token"
run 0 "${tls[@]}" --token-file "$work/token" create secure --layers 2,1 --activations identity
MLPD_TOKEN=e2e-token-1234 run 0 "${tls[@]}" --json get secure
[ "$(json_get "$out" 'v["name"]')" = secure ] || fail "get with \$MLPD_TOKEN: $out"

# TLS is really on: plaintext fails, and so does a certificate name that does not match.
run 1 --timeout 3 --token-file "$work/token" list
run 1 --timeout 3 --tls-ca "$work/ca.pem" --tls-server-name other.test --token-file "$work/token" list
contains "$err" "UNAVAILABLE: " "a wrong server name"
run 2 --tls-ca "$work/missing.pem" health
echo "mlpctl_security: all checks passed"
