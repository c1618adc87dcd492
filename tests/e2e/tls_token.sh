#!/usr/bin/env bash
# TLS, mutual TLS and bearer tokens with the real mlpd and mlpctl, on certificates made here
# with openssl: the health check stays open without a token; every mlpd.v1 call needs the
# token, from $MLPD_TOKEN or --token-file; plaintext, a wrong CA, a wrong server name and (with
# --tls-client-ca) a missing client certificate are refused; bad security flags stop mlpd at
# start-up with a message naming the flag.
set -euo pipefail
: "${MLPD_BIN:?MLPD_BIN must name the mlpd binary}"
: "${MLPCTL_BIN:?MLPCTL_BIN must name the mlpctl binary}"
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

# ---- a throw-away PKI: CA, server certificate for localhost/127.0.0.1, client certificates
# from that CA and from an unrelated one.
newkey=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${newkey[@]}" -days 2 -subj /CN=e2e-ca -keyout ca.key -out ca.pem 2>/dev/null
openssl req -x509 "${newkey[@]}" -days 2 -subj /CN=e2e-other-ca -keyout other-ca.key \
  -out other-ca.pem 2>/dev/null
leaf() {  # leaf NAME COMMON_NAME CA EXTENSIONS
  openssl req -new "${newkey[@]}" -subj "/CN=$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf '%b' "$4" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days 2 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
leaf server localhost ca 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'
leaf client e2e-client ca 'extendedKeyUsage=clientAuth\n'
leaf stranger e2e-stranger other-ca 'extendedKeyUsage=clientAuth\n'
printf '  e2e-Token_42 \n' >token
printf 'wrong-token\n' >wrong-token

failures=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect CODE DESCRIPTION -- COMMAND...: the command exits with CODE; its output is kept in
# $work/out for message checks.
expect() {
  local want=$1 what=$2
  shift 3
  local got=0
  "$@" >out 2>&1 || got=$?
  if [ "$got" -eq "$want" ]; then pass "$what (exit $got)"; else fail "$what: exit $got, wanted $want: $(cat out)"; fi
}
expect_output() {  # expect_output TEXT DESCRIPTION
  if grep -qF -- "$1" out; then pass "$2"; else fail "$2: no '$1' in: $(cat out)"; fi
}

# start_server FLAGS...: runs mlpd on a free port, sets $port once it is SERVING.
start_server() {
  : >server.log
  "$MLPD_BIN" --listen=127.0.0.1:0 --data-dir="$work/data" --http-listen= "$@" >server.log 2>&1 &
  server_pid=$!
  port=""
  for _ in $(seq 1 100); do
    port=$(sed -n 's/.*serving on .*(port \([0-9]*\)).*/\1/p' server.log | head -1)
    [ -n "$port" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "mlpd did not start:"; cat server.log; exit 1
}
stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=""
}

# ---- TLS + token
start_server --tls-cert=server.pem --tls-key=server.key --auth-token-file=token
tls=(--server "127.0.0.1:$port" --tls-ca ca.pem --timeout 5)
expect 0 "health over TLS needs no token" -- "$MLPCTL_BIN" "${tls[@]}" health
expect 1 "a call without a token is refused" -- "$MLPCTL_BIN" "${tls[@]}" list
expect_output UNAUTHENTICATED "the refusal is UNAUTHENTICATED"
expect 0 "MLPD_TOKEN is sent" -- env MLPD_TOKEN=e2e-Token_42 "$MLPCTL_BIN" "${tls[@]}" \
  create tiny --layers 4,3,2 --activations tanh,identity --loss mse
expect 0 "--token-file is read (first line, trimmed)" -- \
  "$MLPCTL_BIN" "${tls[@]}" --token-file token get tiny
expect_output tiny "the session made with MLPD_TOKEN is there"
expect 1 "a wrong token in MLPD_TOKEN is refused" -- \
  env MLPD_TOKEN=wrong-token "$MLPCTL_BIN" "${tls[@]}" list
expect_output UNAUTHENTICATED "the wrong token is UNAUTHENTICATED"
expect 1 "a wrong --token-file is refused" -- \
  "$MLPCTL_BIN" "${tls[@]}" --token-file wrong-token list
expect 0 "--token-file wins over MLPD_TOKEN" -- \
  env MLPD_TOKEN=wrong-token "$MLPCTL_BIN" "${tls[@]}" --token-file token list
expect 1 "plaintext against the TLS port fails" -- \
  "$MLPCTL_BIN" --server "127.0.0.1:$port" --timeout 5 --token-file token list
expect 1 "an unrelated CA fails" -- \
  "$MLPCTL_BIN" --server "127.0.0.1:$port" --tls-ca other-ca.pem --timeout 5 --token-file token list
expect 1 "a name the certificate does not hold fails" -- \
  "$MLPCTL_BIN" "${tls[@]}" --tls-server-name not-this-server.example --token-file token list
expect 0 "localhost with --tls-server-name localhost works" -- \
  "$MLPCTL_BIN" --server "localhost:$port" --tls-ca ca.pem --tls-server-name localhost \
  --timeout 5 --token-file token list
expect 2 "mlpctl --tls-cert without --tls-key is a usage error" -- \
  "$MLPCTL_BIN" "${tls[@]}" --tls-cert client.pem --token-file token list
stop_server

# ---- mutual TLS: a client certificate from the client CA is required
start_server --tls-cert=server.pem --tls-key=server.key --tls-client-ca=ca.pem
tls=(--server "127.0.0.1:$port" --tls-ca ca.pem --timeout 5)
expect 0 "mTLS with the client certificate" -- \
  "$MLPCTL_BIN" "${tls[@]}" --tls-cert client.pem --tls-key client.key get tiny
expect_output tiny "the session made before the restart is there"
expect 0 "mTLS health with the client certificate" -- \
  "$MLPCTL_BIN" "${tls[@]}" --tls-cert client.pem --tls-key client.key health
expect 1 "mTLS without a client certificate fails" -- "$MLPCTL_BIN" "${tls[@]}" list
expect 1 "mTLS with a certificate from another CA fails" -- \
  "$MLPCTL_BIN" "${tls[@]}" --tls-cert stranger.pem --tls-key stranger.key list
stop_server

# ---- bad security flags stop mlpd at once, naming the flag
expect 1 "--tls-cert without --tls-key stops mlpd" -- \
  "$MLPD_BIN" --listen=127.0.0.1:0 --data-dir="$work/data" --tls-cert=server.pem
expect_output "--tls-key" "the message names --tls-key"
expect 1 "a missing token file stops mlpd" -- \
  "$MLPD_BIN" --listen=127.0.0.1:0 --data-dir="$work/data" --auth-token-file="$work/absent"
expect_output "--auth-token-file" "the message names --auth-token-file"
expect 1 "a key given as the certificate stops mlpd" -- \
  "$MLPD_BIN" --listen=127.0.0.1:0 --data-dir="$work/data" --tls-cert=server.key \
  --tls-key=server.key
expect_output "--tls-cert" "the message names --tls-cert"

if [ "$failures" -ne 0 ]; then
  echo "tls_token: $failures checks failed"
  exit 1
fi
echo "tls_token: all checks passed"
