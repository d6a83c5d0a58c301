#!/usr/bin/env bash
# `ocpp check` end to end: against `ocpp serve` every check passes (ocpp1.6, ocpp2.0.1, ocpp2.1;
# profile 1 with a password file; profiles 2 and 3 with the certificates of `ocpp certs`), the json
# and junit reports parse; against the ocpp-ws-io and ocpp-rpc peer servers exactly their known
# deviations fail, each under its clause (a change in the peers shows here); flag misfits exit 2.
# usage: check_test.sh path/to/ocpp path/to/tests/interop/peers
set -euo pipefail
ocpp=$1
peers=$2
source "$(dirname "$0")/start_server.sh"

# expect_pass NAME ARGS...: ocpp check ARGS exits 0 and says so.
expect_pass() {
  local name=$1
  shift
  "$ocpp" check "$@" >"$dir/$name.txt" || { echo "ocpp check $* failed:"; grep -v '^PASS' "$dir/$name.txt"; exit 1; }
  grep -q ' passed, 0 failed$' "$dir/$name.txt" || { cat "$dir/$name.txt"; exit 1; }
  if grep -v '^PASS' "$dir/$name.txt" | grep -qv ' passed, 0 failed$'; then cat "$dir/$name.txt"; exit 1; fi
  echo "$name: $(tail -1 "$dir/$name.txt")"
}

start_server plain
for protocol in ocpp1.6 ocpp2.0.1 ocpp2.1; do
  expect_pass "serve-$protocol" --url "ws://127.0.0.1:$port/ocpp" --protocol "$protocol"
done

# The reports are well-formed and carry every check.
"$ocpp" check --url "ws://127.0.0.1:$port/ocpp" --protocol ocpp2.0.1 --report junit >"$dir/report.xml"
"$ocpp" check --url "ws://127.0.0.1:$port/ocpp" --protocol ocpp2.0.1 --json >"$dir/report.json"
python3 - "$dir/report.xml" "$dir/report.json" "$dir/serve-ocpp2.0.1.txt" <<'PY'
import json, sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
report = json.load(open(sys.argv[2]))
lines = [l for l in open(sys.argv[3]) if l.startswith(("PASS", "FAIL"))]
cases = suite.findall("testcase")
assert len(cases) == len(report["checks"]) == len(lines) == int(suite.get("tests")), (len(cases), len(lines))
assert suite.get("failures") == "0" and report["failed"] == 0 and report["passed"] == len(lines)
assert all(c["pass"] and c["clause"] and c["sent"] and c["requires"] and c["got"] for c in report["checks"])
assert not any(c.find("failure") is not None for c in cases)
PY
echo "junit and json reports parse, $(grep -c '^PASS' "$dir/serve-ocpp2.0.1.txt") checks each"

printf 'CHECK001:right-password-16\n' >"$dir/passwords"
start_server profile1 --password-file "$dir/passwords"
expect_pass profile1 --url "ws://127.0.0.1:$port/ocpp" --profile 1 --password right-password-16
grep -q '^PASS 4.6-36 \[OCTT TC_A_03_CSMS\] Wrong password: 401' "$dir/profile1.txt"
# The password file admits CHECK001 only: the 48-character identity is refused as any unknown one.
grep -q '^PASS 4.5-31 .* Identity of 48 characters: accepted .*got: HTTP 401; CHECK000: HTTP 401 too' "$dir/profile1.txt"
grep -q '^PASS 4.5-31 .* Identity of 48 characters: accepted .*got: HTTP 101' "$dir/serve-ocpp1.6.txt"

certs="$dir/certs"
"$ocpp" certs --out "$certs" --identity CHECK001 >/dev/null
both=(--cert "$certs/server-rsa.pem" --key "$certs/server-rsa.key" --cert "$certs/server-ecdsa.pem" --key "$certs/server-ecdsa.key")
start_server profile2 --profile 2 --password-file "$dir/passwords" "${both[@]}"
expect_pass profile2 --url "wss://127.0.0.1:$port/ocpp" --protocol ocpp2.0.1 --password right-password-16 --ca "$certs/ca.pem"
grep -q '^PASS 4.7-40 .* TLS 1.0/1.1 only: refused' "$dir/profile2.txt"
start_server profile3 --profile 3 --ca "$certs/ca.pem" "${both[@]}"
expect_pass profile3 --url "wss://127.0.0.1:$port/ocpp" --protocol ocpp2.0.1 --ca "$certs/ca.pem" \
  --cert "$certs/client-CHECK001.pem" --key "$certs/client-CHECK001.key"
grep -q '^PASS 4.7-43 .* No client certificate: refused' "$dir/profile3.txt"

# A server that fails a check: exit 1, and the failure names its clause.
start_server refusing --password-file "$dir/passwords"
status=0
"$ocpp" check --url "ws://127.0.0.1:$port/ocpp" --password wrong-password-16 >"$dir/refused.txt" || status=$?
[[ $status == 1 ]] || { echo "a failed check exited $status"; cat "$dir/refused.txt"; exit 1; }
grep -q '^FAIL 4.6-36 \[OCPP 2.0.1 Part 2 A00 (profiles 1, 2)\] Right password: accepted' "$dir/refused.txt" ||
  { cat "$dir/refused.txt"; exit 1; }
echo "a failing server: exit 1, the failure named by its clause"

expect_usage_error() {
  local status=0
  "$ocpp" check "$@" >"$dir/usage.out" 2>&1 || status=$?
  [[ $status == 2 ]] || { echo "expected exit 2 from: ocpp check $*; got $status"; cat "$dir/usage.out"; exit 1; }
}
expect_usage_error --url "ws://127.0.0.1:1" --profile 2 --password right-password-16
expect_usage_error --url "wss://127.0.0.1:1" --profile 1 --password right-password-16
expect_usage_error --url "ws://127.0.0.1:1" --profile 1
expect_usage_error --url "http://127.0.0.1:1"
expect_usage_error --url "ws://127.0.0.1:1" --protocol ocpp9
echo "flag misfits exit 2"

# The peers' known deviations: exactly these checks fail (id and title, one per line).
command -v node >/dev/null && [[ -f "$peers/node_modules/ocpp-ws-io/package.json" && -f "$peers/node_modules/ocpp-rpc/package.json" ]] ||
  { echo "the npm peers are not installed: run bash $peers/install.sh (needs node >= 18 and npm)"; exit 1; }
failures() {
  python3 -c 'import json,sys
for c in json.load(sys.stdin)["checks"]:
    if not c["pass"]: print(c["id"], "[" + c["clause"] + "]", c["title"])'
}
expect_failures() {  # LIB PROTOCOL, the expected lines on stdin
  local status=0
  "$ocpp" check --url "ws://127.0.0.1:$port" --protocol "$2" --timeout-ms 1500 --json >"$dir/$1-$2.json" || status=$?
  [[ $status == 1 ]] || { echo "$1 $2: exit $status"; cat "$dir/$1-$2.json"; exit 1; }
  failures <"$dir/$1-$2.json" >"$dir/$1-$2.got"
  diff -u - "$dir/$1-$2.got" || { echo "$1 $2: the failing checks changed (- expected, + now)"; exit 1; }
  echo "$1 $2: $(wc -l <"$dir/$1-$2.got") known deviations"
}
# The peer exits on stdin EOF: a FIFO this script holds open until it exits.
mkfifo "$dir/peer-stdin"
exec 4<>"$dir/peer-stdin"
start_peer() {
  node "$peers/peer.mjs" server --lib "$1" --host 127.0.0.1 --port 0 <"$dir/peer-stdin" >"$dir/$1.out" 2>"$dir/$1.err" &
  servers+=($!)
  wait_for_port "$dir/$1.out" '"port":[0-9]*'
}

start_peer ocpp-ws-io
expect_failures ocpp-ws-io ocpp1.6 <<'END'
4.5-35 [RFC 6455 §4.2.1] Plain GET on the endpoint: HTTP error
4.5-31 [OCPP-J 1.6 §3.1.1] Identity of 49 characters: refused
4.5-31 [OCPP-J 1.6 §3.1.1] %2F in the identity: refused
4.5-31 [OCPP-J 1.6 §3.1.1] Trailing slash after the identity: refused
4.1-1 [OCPP-J 1.6 §4.2.3] Not JSON: CALLERROR with id "-1"
4.1-3 [OCPP-J 1.6 §4.2.3] Not an array: CALLERROR with id "-1"
4.1-4 [OCPP-J 1.6 §4.1.3] Message type a string: CALLERROR
4.1-5 [OCPP-J 1.6 §4.2.3] Message id a number: CALLERROR with id "-1"
4.1-7 [OCPP-J 1.6 §4.1.4] Message id of 37 characters: CALLERROR
END
expect_failures ocpp-ws-io ocpp2.0.1 <<'END'
4.5-35 [RFC 6455 §4.2.1] Plain GET on the endpoint: HTTP error
4.5-31 [OCPP 2.0.1 Part 4 §3.1.1] Identity of 49 characters: refused
4.5-31 [OCPP 2.0.1 Part 4 §3.1.1] %2F in the identity: refused
4.5-31 [OCPP 2.0.1 Part 4 §3.1.1] Trailing slash after the identity: refused
4.1-1 [OCPP 2.0.1 Part 4 §4.2.3] Not JSON: CALLERROR with id "-1"
4.1-3 [OCPP 2.0.1 Part 4 §4.2.3] Not an array: CALLERROR with id "-1"
4.1-4 [OCPP 2.0.1 Part 4 §4.1.3] Message type a string: CALLERROR
4.1-4 [OCPP 2.0.1 Part 4 §4.4] Unknown message type 7: MessageTypeNotSupported
4.1-5 [OCPP 2.0.1 Part 4 §4.2.3] Message id a number: CALLERROR with id "-1"
4.1-7 [OCPP 2.0.1 Part 4 §4.1.4] Message id of 37 characters: CALLERROR
END
expect_failures ocpp-ws-io ocpp2.1 <<'END'
4.5-35 [RFC 6455 §4.2.1] Plain GET on the endpoint: HTTP error
4.5-31 [OCPP 2.1 Part 4 §3.1.1] Identity of 49 characters: refused
4.5-31 [OCPP 2.1 Part 4 §3.1.1] %2F in the identity: refused
4.5-31 [OCPP 2.1 Part 4 §3.1.1] Trailing slash after the identity: refused
4.1-1 [OCPP 2.1 Part 4 §4.2.3] Not JSON: CALLERROR with id "-1"
4.1-3 [OCPP 2.1 Part 4 §4.2.3] Not an array: CALLERROR with id "-1"
4.1-4 [OCPP 2.1 Part 4 §4.1.3] Message type a string: CALLERROR
4.1-5 [OCPP 2.1 Part 4 §4.2.3] Message id a number: CALLERROR with id "-1"
4.1-7 [OCPP 2.1 Part 4 §4.1.4] Message id of 37 characters: CALLERROR
END

start_peer ocpp-rpc
expect_failures ocpp-rpc ocpp1.6 <<'END'
4.5-33 [OCPP-J 1.6 §3.1.2] No subprotocol in common: no OCPP session
4.5-33 [OCPP-J 1.6 §3.1.2] No Sec-WebSocket-Protocol: no OCPP session
4.5-31 [OCPP-J 1.6 §3.1.1] Identity of 49 characters: refused
4.5-31 [OCPP-J 1.6 §3.1.1] %2F in the identity: refused
4.5-31 [OCPP-J 1.6 §3.1.1] Empty identity: refused
4.5-31 [OCPP-J 1.6 §3.1.1] Trailing slash after the identity: refused
4.1-1 [OCPP-J 1.6 §4.2.3] Not JSON: CALLERROR with id "-1"
4.1-1 [OCPP-J 1.6 §4.2.3] Truncated JSON: CALLERROR
4.1-3 [OCPP-J 1.6 §4.2.3] Not an array: CALLERROR with id "-1"
4.1-3 [OCPP-J 1.6 §4.2.3] CALL of 3 elements: CALLERROR
4.1-3 [OCPP-J 1.6 §4.2.3] Payload not an object: CALLERROR
4.1-4 [OCPP-J 1.6 §4.1.3] Message type a string: CALLERROR
4.1-5 [OCPP-J 1.6 §4.2.3] Message id a number: CALLERROR with id "-1"
4.1-7 [OCPP-J 1.6 §4.1.4] Message id of 37 characters: CALLERROR
4.2-22 [RFC 6455 §7.4.1] 16 MiB frame: closed with 1009
END
expect_failures ocpp-rpc ocpp2.0.1 <<'END'
4.5-33 [OCPP 2.0.1 Part 4 §3.1.2] No subprotocol in common: no OCPP session
4.5-33 [OCPP 2.0.1 Part 4 §3.1.2] No Sec-WebSocket-Protocol: no OCPP session
4.5-31 [OCPP 2.0.1 Part 4 §3.1.1] Identity of 49 characters: refused
4.5-31 [OCPP 2.0.1 Part 4 §3.1.1] %2F in the identity: refused
4.5-31 [OCPP 2.0.1 Part 4 §3.1.1] Empty identity: refused
4.5-31 [OCPP 2.0.1 Part 4 §3.1.1] Trailing slash after the identity: refused
4.1-3 [OCPP 2.0.1 Part 4 §4.2.3] CALL of 3 elements: CALLERROR
4.1-3 [OCPP 2.0.1 Part 4 §4.2.3] Payload not an object: CALLERROR
4.1-4 [OCPP 2.0.1 Part 4 §4.4] Unknown message type 7: MessageTypeNotSupported
4.1-7 [OCPP 2.0.1 Part 4 §4.1.4] Message id of 37 characters: CALLERROR
4.2-22 [RFC 6455 §7.4.1] 16 MiB frame: closed with 1009
END
expect_failures ocpp-rpc ocpp2.1 <<'END'
4.5-33 [OCPP 2.1 Part 4 §3.1.2] No subprotocol in common: no OCPP session
4.5-33 [OCPP 2.1 Part 4 §3.1.2] No Sec-WebSocket-Protocol: no OCPP session
4.5-31 [OCPP 2.1 Part 4 §3.1.1] Identity of 49 characters: refused
4.5-31 [OCPP 2.1 Part 4 §3.1.1] %2F in the identity: refused
4.5-31 [OCPP 2.1 Part 4 §3.1.1] Empty identity: refused
4.5-31 [OCPP 2.1 Part 4 §3.1.1] Trailing slash after the identity: refused
4.1-3 [OCPP 2.1 Part 4 §4.2.3] CALL of 3 elements: CALLERROR
4.1-3 [OCPP 2.1 Part 4 §4.2.3] Payload not an object: CALLERROR
4.1-4 [OCPP 2.1 Part 4 §4.1.3, §4.4] Unknown message type 7: ignored
4.3-23 [OCPP 2.1 Part 4 §4.2.4] SEND: never answered
4.1-7 [OCPP 2.1 Part 4 §4.1.4] Message id of 37 characters: CALLERROR
4.2-22 [RFC 6455 §7.4.1] 16 MiB frame: closed with 1009
END
