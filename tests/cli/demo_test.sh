#!/usr/bin/env bash
# The main job end to end: (1) strict mode on both sides, every payload the demo CSMS and the
# simulated charge points exchange, in all three protocols, must pass the official schemas;
# (2) security profile 1, a password file on the CSMS and the right and a wrong password on stations.
# usage: demo_test.sh path/to/ocpp
set -euo pipefail
ocpp=$1
dir=$(mktemp -d)
servers=()
trap 'for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$dir"' EXIT

# start_server NAME ARGS...: runs `ocpp serve` on a free port; sets $port once it listens.
start_server() {
  local name=$1
  shift
  "$ocpp" serve --port 0 --host 127.0.0.1 --quiet "$@" >"$dir/$name.out" 2>"$dir/$name.err" &
  servers+=($!)
  port=
  for _ in $(seq 100); do
    port=$(grep -o '127.0.0.1:[0-9]*' "$dir/$name.out" | cut -d: -f2 || true)
    [[ -n "$port" ]] && return 0
    kill -0 "${servers[-1]}" || { echo "serve $name exited"; cat "$dir/$name.err"; exit 1; }
    sleep 0.1
  done
  echo "serve $name did not report its port"
  exit 1
}

start_server strict --strict
for protocol in ocpp1.6 ocpp2.0.1 ocpp2.1; do
  "$ocpp" simulate --url "ws://127.0.0.1:$port" --protocol "$protocol" --count 2 --strict --quiet \
    >"$dir/sim.out" 2>"$dir/sim.err" || { echo "simulate $protocol failed"; cat "$dir/sim.out" "$dir/sim.err"; exit 1; }
  grep -q ", 0 failed, 2 CSMS calls answered" "$dir/sim.out" || { cat "$dir/sim.out"; exit 1; }
  if grep -q "strict mode" "$dir/sim.out" "$dir/sim.err"; then echo "simulator saw invalid payloads:"; cat "$dir/sim.out" "$dir/sim.err"; exit 1; fi
done
if grep -q "strict mode" "$dir/strict.out" "$dir/strict.err"; then echo "server saw invalid payloads:"; cat "$dir/strict.out" "$dir/strict.err"; exit 1; fi
echo "demo payloads valid in strict mode for ocpp1.6, ocpp2.0.1 and ocpp2.1"

printf 'CP001:right:password-16\n' >"$dir/passwords"
start_server profile1 --password-file "$dir/passwords"
"$ocpp" simulate --url "ws://127.0.0.1:$port" --password 'right:password-16' --quiet >"$dir/ok.out" 2>&1 ||
  { echo "the right password was refused"; cat "$dir/ok.out"; exit 1; }
if "$ocpp" simulate --url "ws://127.0.0.1:$port" --password 'wrong-password-16' --quiet >"$dir/bad.out" 2>&1; then
  echo "a wrong password was accepted"; exit 1
fi
grep -q "401" "$dir/bad.out" || { echo "no 401 for a wrong password"; cat "$dir/bad.out"; exit 1; }
echo "profile 1: right password accepted, wrong one refused with 401"
