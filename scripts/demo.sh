#!/usr/bin/env bash
# The main job: sets up, builds the `ocpp` tool, starts the demo CSMS and runs simulated charge
# points of each OCPP version against it, printing every exchange.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --no-peers
cmake --preset release >/dev/null
cmake --build --preset release --target ocpp_cli -- -j"$(nproc)"
ocpp=build/release/apps/ocpp/ocpp
port=${PORT:-9000}

"$ocpp" serve --port "$port" --host 127.0.0.1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done

status=0
for protocol in ocpp1.6 ocpp2.0.1 ocpp2.1; do
  "$ocpp" simulate --url "ws://127.0.0.1:$port" --protocol "$protocol" --identity "CP-${protocol#ocpp}" --count 2 --quiet \
    || status=1
done
exit $status
