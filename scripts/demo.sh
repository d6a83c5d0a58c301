#!/usr/bin/env bash
# The main job: sets up, builds the `ocpp` tool, starts the demo CSMS and runs simulated charge
# points of each OCPP version against it, printing every exchange; then the same CSMS over mutual
# TLS (security profile 3) with stations presenting certificates made by `ocpp certs`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --no-peers
cmake --preset release >/dev/null
cmake --build --preset release --target ocpp_cli -- -j"$(nproc)"
ocpp=build/release/apps/ocpp/ocpp
port=${PORT:-9000}

tls_port=$((port + 1))
certs=build/demo-certs

servers=()
trap 'kill "${servers[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
wait_for_port() {
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return; sleep 0.1; done
}

"$ocpp" serve --port "$port" --host 127.0.0.1 &
servers+=($!)
wait_for_port "$port"

status=0
for protocol in ocpp1.6 ocpp2.0.1 ocpp2.1; do
  "$ocpp" simulate --url "ws://127.0.0.1:$port" --protocol "$protocol" --identity "CP-${protocol#ocpp}" --count 2 --quiet \
    || status=1
done

echo "== security profile 3: wss:// with client certificates whose CN is the station's identity"
"$ocpp" certs --out "$certs" --identity CP-TLS-1 --identity CP-TLS-2 >/dev/null
"$ocpp" serve --port "$tls_port" --host 127.0.0.1 --profile 3 --ca "$certs/ca.pem" \
  --cert "$certs/server-ecdsa.pem" --key "$certs/server-ecdsa.key" --cert "$certs/server-rsa.pem" --key "$certs/server-rsa.key" &
servers+=($!)
wait_for_port "$tls_port"
"$ocpp" simulate --url "wss://localhost:$tls_port" --protocol ocpp2.0.1 --identity CP-TLS --count 2 --quiet \
  --profile 3 --ca "$certs/ca.pem" --cert "$certs/client-{id}.pem" --key "$certs/client-{id}.key" || status=1
exit $status
