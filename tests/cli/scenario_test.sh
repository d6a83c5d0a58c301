#!/usr/bin/env bash
# `ocpp simulate --scenario`: (1) every shipped example passes against `ocpp serve --demo-flows`
# with strict mode on both sides, and its JUnit report parses with a testcase per check and no
# failure; --json prints one parseable document; (2) against the default `ocpp serve`, which starts
# no transaction, an expect_call that cannot be met fails the run (exit 1) and the JUnit report
# carries the failure and skips the later steps; expect_error matches the CSMS's CALLERROR code;
# (3) malformed scenario files exit 2 naming the step, the field and the reason; (4) a CSMS that
# closes the connection fails a waiting expect_call at once.
# usage: scenario_test.sh path/to/ocpp path/to/examples/scenarios
set -euo pipefail
ocpp=$1
examples=$2
source "$(dirname "$0")/start_server.sh"

# check_reports CHECKS...: each "junit FILE SCENARIO|N FAILURES SKIPPED" or "json FILE": a JUnit file
# must parse, each testsuite's counts must add up to its testcases, and the totals must be the
# given ones (from a scenario file: stations x (steps that check something + the connection), no
# failure, none skipped); a JSON report must be one passing document. One Python for all: its
# start-up is most of this test's time on a loaded machine.
check_reports() {
  python3 - "$@" <<'PY'
import json, sys, xml.etree.ElementTree as ET
args = sys.argv[1:]
while args:
    kind, path = args[0], args[1]
    if kind == "json":
        doc = json.load(open(path))
        assert doc["passed"] is True and doc["failed"] == 0, doc
        assert all(c["result"] == "passed" for s in doc["stations"] for c in s["checks"]), doc
        args = args[2:]
        continue
    expected, args = args[2:5], args[5:]
    if expected[0].endswith(".json"):
        s = json.load(open(expected[0]))
        checks = sum(1 for step in s["steps"] if "wait" not in step) + 1
        expected = [str(s.get("stations", {}).get("count", 1) * checks), "0", "0"]
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites", root.tag
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases), suite.get("name")
        assert int(suite.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(suite.get("skipped")) == sum(1 for c in cases if c.find("skipped") is not None)
    got = [root.get("tests"), root.get("failures"), root.get("skipped")]
    assert got == expected, f"{path}: tests/failures/skipped {got}, expected {expected}"
PY
}

start_server flows --demo-flows --strict
reports=()
for example in remote_start_16 smart_charging_16 remote_start_201 smart_charging_201; do
  file="$examples/$example.json"
  "$ocpp" simulate --url "ws://127.0.0.1:$port" --scenario "$file" --strict --junit "$dir/$example.xml" \
    >"$dir/$example.out" 2>&1 || { echo "$example failed against serve --demo-flows --strict"; cat "$dir/$example.out"; exit 1; }
  reports+=(junit "$dir/$example.xml" "$file" - -)
done
if grep -q "strict mode" "$dir/flows.out" "$dir/flows.err"; then echo "server saw invalid payloads:"; cat "$dir/flows.out" "$dir/flows.err"; exit 1; fi

"$ocpp" simulate --url "ws://127.0.0.1:$port" --scenario "$examples/remote_start_201.json" --json >"$dir/run.json" 2>"$dir/run.err" ||
  { echo "--json run failed"; cat "$dir/run.json" "$dir/run.err"; exit 1; }
check_reports "${reports[@]}" json "$dir/run.json" || { echo "wrong JUnit or JSON report"; exit 1; }
echo "the four examples pass against serve --demo-flows --strict, JUnit counts right; --json prints one passing document"

# The default `ocpp serve` starts no transaction: the expect_call runs out its short deadline.
start_server plain --strict
cat >"$dir/unmet.json" <<'JSON'
{ "name": "unmet", "protocol": "ocpp1.6",
  "steps": [
    { "boot": {} },
    { "raw": [2, "empty-boot", "BootNotification", {}], "expect_error": "OccurenceConstraintViolation" },
    { "expect_call": { "action": "RemoteStartTransaction", "within_s": 0.3 } },
    { "wait": 0.1 },
    { "start": {} } ] }
JSON
status=0
"$ocpp" simulate --url "ws://127.0.0.1:$port" --scenario "$dir/unmet.json" --junit "$dir/unmet.xml" >"$dir/unmet.out" 2>&1 || status=$?
[[ $status == 1 ]] || { echo "an unmet expect_call exited $status, not 1"; cat "$dir/unmet.out"; exit 1; }
check_reports junit "$dir/unmet.xml" 5 1 1 || { cat "$dir/unmet.xml"; exit 1; }
grep -q '<failure message="the CSMS did not call RemoteStartTransaction within 0.3 s"' "$dir/unmet.xml" ||
  { echo "unmet: no failure message for the expect_call"; cat "$dir/unmet.xml"; exit 1; }
grep -q "step 2: raw BootNotification  passed" "$dir/unmet.out" || { echo "expect_error did not match"; cat "$dir/unmet.out"; exit 1; }
echo "an unmet expect_call exits 1 with the failure in the JUnit report; expect_error matches the CALLERROR"

# expect_bad_file JSON TEXT: the scenario exits 2 and says TEXT.
expect_bad_file() {
  printf '%s' "$1" >"$dir/bad.json"
  local status=0
  "$ocpp" simulate --url "ws://127.0.0.1:$port" --scenario "$dir/bad.json" >"$dir/bad.out" 2>&1 || status=$?
  [[ $status == 2 ]] || { echo "expected exit 2 for $1; got $status"; cat "$dir/bad.out"; exit 1; }
  grep -qF "$2" "$dir/bad.out" || { echo "expected '$2' for $1; got:"; cat "$dir/bad.out"; exit 1; }
}
expect_bad_file '{"protocol": "ocpp1.6", "steps": [' "not JSON"
expect_bad_file '{"protocol": "ocpp1.6", "steps": [{"boot": {}}, {"expect_call": {"action": "Reset"}}]}' \
  'step 2.expect_call: needs "within_s"'
expect_bad_file '{"protocol": "ocpp1.6", "steps": [{"bot": {}}]}' "step 1: needs one of: boot,"
expect_bad_file '{"protocol": "ocpp1.6", "steps": [{"wait": 5000}]}' "step 1.wait: must be >= 0 and <= 600"
expect_bad_file '{"protocol": "ocpp1.6", "steps": [{"raw": [3, "x", {}]}]}' "step 1.raw: must be a CALL frame"
expect_bad_file '{"protocol": "ocpp1.5", "steps": [{"boot": {}}]}' "protocol: must be ocpp1.6, ocpp2.0.1 or ocpp2.1"
expect_bad_file '{"protocol": "ocpp1.6", "stations": {"count": 2, "identity": "CP"}, "steps": [{"boot": {}}]}' \
  "stations.identity: must contain {n}"
expect_bad_file '{"protocol": "ocpp1.6", "steps": [{"boot": {}, "capture": {"x": "status"}}, {"raw": [2, "{x}-{y}", "A", {}]}]}' \
  "step 2: {y} is never set"
echo "malformed scenario files exit 2 naming the step, field and reason"

# A CSMS that goes away while a station waits for its call ends the wait at once, not at within_s.
start_server going-away
cat >"$dir/leaving.json" <<'JSON'
{ "protocol": "ocpp1.6", "steps": [ { "boot": {} }, { "expect_call": { "action": "Reset", "within_s": 30 } } ] }
JSON
"$ocpp" simulate --url "ws://127.0.0.1:$port" --scenario "$dir/leaving.json" >"$dir/leaving.out" 2>&1 &
simulator=$!
for _ in $(seq 100); do grep -q "step 1: boot  passed" "$dir/leaving.out" && break; sleep 0.1; done
kill "${servers[-1]}"
status=0
wait "$simulator" || status=$?
[[ $status == 1 ]] && grep -q "step 2: expect_call Reset  failed: the connection closed (1001" "$dir/leaving.out" ||
  { echo "a closed connection did not fail the waiting expect_call (exit $status)"; cat "$dir/leaving.out"; exit 1; }
echo "a connection closed by the CSMS fails the expect_call waiting on it"
