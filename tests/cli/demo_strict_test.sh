#!/usr/bin/env bash
# The main job under strict mode on both sides: every payload the demo CSMS and the simulated
# charge points exchange, in all three protocols, must pass the official schemas.
# usage: demo_strict_test.sh path/to/ocpp
set -euo pipefail
ocpp=$1
dir=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT

"$ocpp" serve --port 0 --host 127.0.0.1 --strict --quiet >"$dir/serve.out" 2>"$dir/serve.err" &
server=$!
# The server prints its port once it listens.
port=
for _ in $(seq 100); do
  port=$(grep -o '127.0.0.1:[0-9]*' "$dir/serve.out" | cut -d: -f2 || true)
  [[ -n "$port" ]] && break
  kill -0 "$server" || { echo "serve exited"; cat "$dir/serve.err"; exit 1; }
  sleep 0.1
done
[[ -n "$port" ]] || { echo "serve did not report its port"; exit 1; }

for protocol in ocpp1.6 ocpp2.0.1 ocpp2.1; do
  "$ocpp" simulate --url "ws://127.0.0.1:$port" --protocol "$protocol" --count 2 --strict --quiet \
    >"$dir/sim.out" 2>"$dir/sim.err" || { echo "simulate $protocol failed"; cat "$dir/sim.out" "$dir/sim.err"; exit 1; }
  grep -q ", 0 failed, 2 CSMS calls answered" "$dir/sim.out" || { cat "$dir/sim.out"; exit 1; }
  if grep -q "strict mode" "$dir/sim.out" "$dir/sim.err"; then echo "simulator saw invalid payloads:"; cat "$dir/sim.out" "$dir/sim.err"; exit 1; fi
done
if grep -q "strict mode" "$dir/serve.out" "$dir/serve.err"; then echo "server saw invalid payloads:"; cat "$dir/serve.out" "$dir/serve.err"; exit 1; fi
echo "demo payloads valid in strict mode for ocpp1.6, ocpp2.0.1 and ocpp2.1"
