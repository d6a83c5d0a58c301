#!/usr/bin/env bash
# The main job end to end: (1) strict mode on both sides, every payload the demo CSMS and the
# simulated charge points exchange, in all three protocols, must pass the official schemas;
# (2) security profile 1, a password file on the CSMS and the right and a wrong password on stations;
# a connection rate limit refusing with 429;
# (3) profiles 2 and 3 over TLS with the certificates of `ocpp certs`: RSA and ECDSA served side by
# side, a station booting with its password and with its client certificate, one whose certificate
# names another identity refused; flag misfits exit 2.
# usage: demo_test.sh path/to/ocpp
set -euo pipefail
ocpp=$1
source "$(dirname "$0")/start_server.sh"

start_server strict --strict
for protocol in ocpp1.6 ocpp2.0.1 ocpp2.1; do
  "$ocpp" simulate --url "ws://127.0.0.1:$port" --protocol "$protocol" --count 2 --strict --quiet \
    >"$dir/sim.out" 2>"$dir/sim.err" || { echo "simulate $protocol failed"; cat "$dir/sim.out" "$dir/sim.err"; exit 1; }
  grep -q ", 0 failed, 2 CSMS calls answered" "$dir/sim.out" || { cat "$dir/sim.out"; exit 1; }
  if grep -q "strict mode" "$dir/sim.out" "$dir/sim.err"; then echo "simulator saw invalid payloads:"; cat "$dir/sim.out" "$dir/sim.err"; exit 1; fi
done
if grep -q "strict mode" "$dir/strict.out" "$dir/strict.err"; then echo "server saw invalid payloads:"; cat "$dir/strict.out" "$dir/strict.err"; exit 1; fi
echo "demo payloads valid in strict mode for ocpp1.6, ocpp2.0.1 and ocpp2.1"
"$ocpp" simulate --url "ws://127.0.0.1:$port" --protocol ocpp2.0.1 --compression --quiet >"$dir/deflate.out" 2>&1 ||
  { echo "simulate --compression failed"; cat "$dir/deflate.out"; exit 1; }
grep -q ", 0 failed" "$dir/deflate.out" || { cat "$dir/deflate.out"; exit 1; }

printf 'CP001:right:password-16\nBENCH1:right:password-16\nBENCH2:right:password-16\n' >"$dir/passwords"
start_server profile1 --password-file "$dir/passwords"
"$ocpp" simulate --url "ws://127.0.0.1:$port" --password 'right:password-16' --quiet >"$dir/ok.out" 2>&1 ||
  { echo "the right password was refused"; cat "$dir/ok.out"; exit 1; }
if "$ocpp" simulate --url "ws://127.0.0.1:$port" --password 'wrong-password-16' --quiet >"$dir/bad.out" 2>&1; then
  echo "a wrong password was accepted"; exit 1
fi
grep -q "401" "$dir/bad.out" || { echo "no 401 for a wrong password"; cat "$dir/bad.out"; exit 1; }
echo "profile 1: right password accepted, wrong one refused with 401"

start_server connection-rate --connection-rate-limit 1/1m
"$ocpp" simulate --url "ws://127.0.0.1:$port" --quiet >"$dir/rate-first.out" 2>&1 ||
  { echo "the first connection within --connection-rate-limit 1/1m was refused"; cat "$dir/rate-first.out"; exit 1; }
status=0
"$ocpp" simulate --url "ws://127.0.0.1:$port" --quiet >"$dir/rate-second.out" 2>&1 || status=$?
[[ $status == 1 ]] && grep -q "connect failed.*429" "$dir/rate-second.out" ||
  { echo "a second connection within --connection-rate-limit 1/1m was not refused with 429 (exit $status)"; cat "$dir/rate-second.out"; exit 1; }
echo "--connection-rate-limit: the second connection within the window refused with 429"

# Flag misfits are bad usage (exit 2) and are caught before anything listens or connects.
expect_usage_error() {
  local status=0
  "$ocpp" "$@" >"$dir/usage.out" 2>&1 || status=$?
  [[ $status == 2 ]] || { echo "expected exit 2 from: ocpp $*; got $status"; cat "$dir/usage.out"; exit 1; }
}
certs="$dir/certs"
"$ocpp" certs --out "$certs" --identity CP001 >/dev/null
rsa=(--cert "$certs/server-rsa.pem" --key "$certs/server-rsa.key")
ecdsa=(--cert "$certs/server-ecdsa.pem" --key "$certs/server-ecdsa.key")
expect_usage_error serve --profile 2 "${rsa[@]}"
expect_usage_error serve --profile 2 --password-file "$dir/passwords"
expect_usage_error serve --profile 3 "${rsa[@]}"
expect_usage_error simulate --url "ws://127.0.0.1:1" --profile 2 --password 'right:password-16'
expect_usage_error simulate --url "wss://127.0.0.1:1" --profile 3 --cert "$certs/client-CP001.pem"
echo "flag misfits exit 2"

start_server profile2 --profile 2 --password-file "$dir/passwords" "${rsa[@]}" "${ecdsa[@]}"
"$ocpp" simulate --url "wss://127.0.0.1:$port" --profile 2 --ca "$certs/ca.pem" --password 'right:password-16' \
  --quiet >"$dir/p2.out" 2>&1 || { echo "profile 2 station failed"; cat "$dir/p2.out"; exit 1; }
grep -q ", 0 failed, 1 CSMS calls answered" "$dir/p2.out" || { cat "$dir/p2.out"; exit 1; }
# The load generator over wss:// with the same credentials.
"$ocpp" bench --url "wss://127.0.0.1:$port" --clients 2 --calls 200 --password 'right:password-16' \
  --ca "$certs/ca.pem" --json >"$dir/bench.out" 2>&1 || { echo "bench over wss:// failed"; cat "$dir/bench.out"; exit 1; }
grep -q '"calls":200,.*"errors":0' "$dir/bench.out" || { cat "$dir/bench.out"; exit 1; }
if command -v openssl >/dev/null; then
  # Each key type's suite must get its own certificate from the one listener.
  for kind in RSA ECDSA; do
    timeout 5 openssl s_client -connect "127.0.0.1:$port" -tls1_2 -cipher "ECDHE-$kind-AES128-GCM-SHA256" \
      -CAfile "$certs/ca.pem" -verify_return_error </dev/null >"$dir/s_client.out" 2>&1 ||
      { echo "no TLS 1.2 handshake with ECDHE-$kind"; cat "$dir/s_client.out"; exit 1; }
  done
fi
echo "profile 2: station booted over wss:// with its password; RSA and ECDSA certificates served"

start_server profile3 --profile 3 --ca "$certs/ca.pem" "${ecdsa[@]}" "${rsa[@]}"
p3=(simulate --url "wss://127.0.0.1:$port" --profile 3 --ca "$certs/ca.pem" --quiet)
"$ocpp" "${p3[@]}" --identity CP001 --cert "$certs/client-{id}.pem" --key "$certs/client-{id}.key" \
  >"$dir/p3.out" 2>&1 || { echo "profile 3 station failed"; cat "$dir/p3.out"; exit 1; }
grep -q ", 0 failed, 1 CSMS calls answered" "$dir/p3.out" || { cat "$dir/p3.out"; exit 1; }
status=0
"$ocpp" "${p3[@]}" --identity CP002 --cert "$certs/client-CP001.pem" --key "$certs/client-CP001.key" \
  >"$dir/p3-other.out" 2>&1 || status=$?
[[ $status == 1 ]] || { echo "CP002 with CP001's certificate: exit $status, not 1"; cat "$dir/p3-other.out"; exit 1; }
grep -q "CP002: connect failed.*403" "$dir/p3-other.out" || { echo "CP002 was not refused with 403"; cat "$dir/p3-other.out"; exit 1; }
echo "profile 3: station booted with its client certificate; another identity's certificate refused with 403"
