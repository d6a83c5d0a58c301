#!/usr/bin/env bash
# `ocpp fuzz` end to end. (1) Against `ocpp serve`, plain and --strict, ocpp1.6 and ocpp2.0.1, a
# bounded run finds nothing while frames were sent, CALLs answered, protocol errors closed and
# liveness probes answered; its progress goes to stderr as plain lines (no terminal) and its --json
# parses. (2) Against deliberately broken servers (tests/cli/fuzz_broken_server.py) it finds the
# hang and the unexpected close, and the printed replay command reproduces the finding.
# (3) `simulate --count N --json` and `bench --json` print one JSON object on stdout.
# usage: fuzz_test.sh path/to/ocpp
set -euo pipefail
ocpp=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/start_server.sh"

# json_check FILE PYTHON-EXPRESSION: the expression over the parsed object `d` must hold.
json_check() {
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1" ||
    { echo "failed: $2"; cat "$1"; exit 1; }
}

for mode in plain strict; do
  flag=$([[ $mode == strict ]] && echo --strict || true)
  start_server "serve-$mode" $flag
  for protocol in ocpp1.6 ocpp2.0.1; do
    out="$dir/fuzz-$mode-$protocol"
    status=0
    "$ocpp" fuzz --url "ws://127.0.0.1:$port" --duration 3 --seed 42 --protocol "$protocol" $flag --json \
      >"$out.json" 2>"$out.err" || status=$?
    [[ $status == 0 ]] || { echo "fuzz $mode $protocol: exit $status"; cat "$out.err" "$out.json"; exit 1; }
    json_check "$out.json" "d['findings'] == [] and d['cases'] > 0 and d['answers'] > 0 and d['expected_closes'] > 0 and d['pongs'] > 0 and d['liveness_checks'] > 0"
    # Not a terminal: plain progress lines, never redrawn in place.
    grep -q '^ocpp fuzz: [0-9]*/3 s, [0-9]* connections' "$out.err" || { echo "no progress line"; cat "$out.err"; exit 1; }
    if grep -q $'\r' "$out.err"; then echo "progress redrawn in place on a file"; exit 1; fi
    echo "fuzz vs serve ($mode, $protocol): nothing found; $(cat "$out.json" | head -c 200)"
  done
done

# broken MODE SEED KIND FILTER [PATTERN]: against fuzz_broken_server.py --mode MODE, fuzz exits 1
# with a finding of KIND for which the Python FILTER over `f` holds, and, given a PATTERN, that
# finding's replay command exits 1 printing it.
broken() {
  local mode=$1 seed=$2 kind=$3 filter=$4 pattern=${5:-} status=0 replay
  start_process "$mode" python3 "$here/fuzz_broken_server.py" --mode "$mode"
  "$ocpp" fuzz --url "ws://127.0.0.1:$port" --duration 1 --seed "$seed" --answer-timeout-ms 300 --json \
    >"$dir/$mode.json" 2>"$dir/$mode.err" || status=$?
  [[ $status == 1 ]] || { echo "fuzz vs $mode: exit $status, want 1"; cat "$dir/$mode.err"; exit 1; }
  replay=$(python3 -c "import json,sys; print(next(f.get('replay', '') for f in json.load(open(sys.argv[1]))['findings'] if f['kind'] == '$kind' and ($filter)))" "$dir/$mode.json") ||
    { echo "fuzz vs $mode: no $kind finding with $filter"; cat "$dir/$mode.json"; exit 1; }
  [[ -n "$pattern" ]] || { echo "$mode server: $kind found"; return 0; }
  status=0
  ${replay/ocpp/$ocpp} --answer-timeout-ms 300 >"$dir/replay.out" 2>"$dir/replay.err" || status=$?
  [[ $status == 1 ]] && grep -q "$pattern" "$dir/replay.out" ||
    { echo "'$replay' did not reproduce it: exit $status"; cat "$dir/replay.out" "$dir/replay.err"; exit 1; }
  echo "$mode server: $kind found, '$replay' reproduces it"
}
broken silent 5 hang "'replay' in f" 'FINDING \[hang\]'
broken close-on-call 6 close "f['case_kind'] == 'valid'" \
  'FINDING \[close\] connection [0-9]*, case 0 (valid): unexpected close 1000'
broken exit-on-call 6 crash "'stopped accepting connections' in f['detail']"

# The other long-running commands: --json is one object on stdout, progress stays on stderr.
start_server serve-json
"$ocpp" simulate --url "ws://127.0.0.1:$port" --count 3 --json >"$dir/sim.json" 2>"$dir/sim.err" ||
  { echo "simulate --json failed"; cat "$dir/sim.json" "$dir/sim.err"; exit 1; }
json_check "$dir/sim.json" "d['charge_points'] == 3 and d['failed'] == 0 and d['succeeded'] > 0"
"$ocpp" bench --url "ws://127.0.0.1:$port" --clients 2 --calls 200 --json >"$dir/bench.json" 2>"$dir/bench.err" ||
  { echo "bench --json failed"; cat "$dir/bench.json" "$dir/bench.err"; exit 1; }
json_check "$dir/bench.json" "d['calls'] == 200 and d['errors'] == 0"
echo "simulate --count 3 --json and bench --json: one JSON object each"
