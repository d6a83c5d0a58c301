#!/usr/bin/env bash
# Throughput, latency and server CPU per call: our `ocpp serve` vs an ocpp-ws-io 2.3.2 server,
# both driven by the same load generator (`ocpp bench`) on this machine.
#
#   bench/compare.sh [--json] [--runs 3] [--clients 100] [--concurrency 1]
#                    [--ours-calls 200000] [--theirs-calls 50000] [--warmup 10000]
#                    [--server-threads 1] [--only ours|ours-strict|ocpp-ws-io] [--with-strict]
#                    [--json-out FILE]
#                    [--theirs-args "ARGS"]   (extra args for ocpp-ws-io-server.mjs, e.g. "--logging default")
#
# For each server and each run: wait for the machine to be idle, start the server on an
# ephemeral port, warm it up (a separate `ocpp bench` of --warmup calls, so Node's JIT is hot),
# read the server's utime+stime from /proc/<pid>/stat, run the measured `ocpp bench` (C
# connections each doing sequential ocpp1.6 Heartbeats), read utime+stime again, stop the server.
# Reports the median of the runs for every metric, and ours/theirs ratios. --with-strict adds
# a third server, ours with strict mode (schema validation of every payload), and reports its
# server CPU per call over ours.
#
# Builds nothing: needs build/release/apps/ocpp/ocpp (ninja -C build/release ocpp_cli) and
# tests/interop/peers/node_modules (bash tests/interop/peers/install.sh).
# Environment: IDLE_WAIT (s, default 300), IDLE_MAX_BUSY (% CPU, default 10), BUILD_DIR.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

JSON=0 JSON_OUT="" RUNS=3 CLIENTS=100 CONCURRENCY=1 OURS_CALLS=200000 THEIRS_CALLS=50000 WARMUP=10000
SERVER_THREADS=1 ONLY="" THEIRS_ARGS="" WITH_STRICT=0
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-0}"; }
while (($#)); do
  case "$1" in
    --json) JSON=1 ;;
    --json-out) JSON_OUT="$2"; shift ;;
    --runs) RUNS="$2"; shift ;;
    --clients) CLIENTS="$2"; shift ;;
    --concurrency) CONCURRENCY="$2"; shift ;;
    --ours-calls) OURS_CALLS="$2"; shift ;;
    --theirs-calls) THEIRS_CALLS="$2"; shift ;;
    --warmup) WARMUP="$2"; shift ;;
    --server-threads) SERVER_THREADS="$2"; shift ;;
    --only) ONLY="$2"; shift ;;
    --with-strict) WITH_STRICT=1 ;;
    --theirs-args) THEIRS_ARGS="$2"; shift ;;
    -h | --help) usage 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; usage 2 ;;
  esac
  shift
done

require_built "$OCPP_BIN" ocpp_cli
require_wsio

WORK=$(mktemp -d /tmp/ocpp-compare.XXXXXX)
cleanup() { stop_server; rm -rf "$WORK"; }
trap cleanup EXIT
snapshot_bins "$WORK"
trap 'exit 130' INT TERM
RESULTS="$WORK/runs.jsonl"
: >"$RESULTS"

# bench_once URL CALLS OUTFILE: runs `ocpp bench`; OUTFILE gets its JSON line, then a line
# "<user_s> <sys_s>" with the load generator's own CPU time. Returns bench's exit status.
bench_once() {
  local url="$1" calls="$2" out="$3" rc=0
  local TIMEFORMAT='%U %S'
  { time "$OCPP_BIN" bench --url "$url" --clients "$CLIENTS" --calls "$calls" \
      --concurrency "$CONCURRENCY" --protocol ocpp1.6 --action Heartbeat --threads 1 --json \
      >"$out.json" 2>"$out.err"; } 2>"$out.time" || rc=$?
  return "$rc"
}

run_one() {
  local kind="$1" run="$2" calls server_args=()
  if [[ "$kind" == ours* ]]; then
    calls=$OURS_CALLS
    server_args=(--threads "$SERVER_THREADS")
  else
    calls=$THEIRS_CALLS
    read -r -a server_args <<<"$THEIRS_ARGS"
  fi
  wait_idle
  local busy="$IDLE_BUSY_PCT" load="$IDLE_LOAD" idle_ok="$IDLE_OK"
  start_server "$kind" "$WORK/$kind-$run.server.log" "${server_args[@]}"
  local url="ws://127.0.0.1:$SERVER_PORT" rc=0
  if ((WARMUP > 0)); then
    bench_once "$url" "$WARMUP" "$WORK/$kind-$run.warmup" ||
      log "WARNING: $kind warm-up failed: $(cat "$WORK/$kind-$run.warmup.err")"
  fi
  local t0 t1
  t0=$(proc_cpu_user_sys "$SERVER_PID")
  bench_once "$url" "$calls" "$WORK/$kind-$run" || rc=$?
  local alive=true
  if t1=$(proc_cpu_user_sys "$SERVER_PID" 2>/dev/null); then :; else alive=false; t1=$t0; fi
  local rss_kb=0
  $alive && rss_kb=$(proc_rss_kb "$SERVER_PID")
  stop_server
  local bench_json cuser=0 csys=0
  bench_json=$(head -1 "$WORK/$kind-$run.json" 2>/dev/null || true)
  read -r cuser csys < <(tail -1 "$WORK/$kind-$run.time") || true
  if [[ -z "$bench_json" || "$bench_json" != \{* ]]; then
    log "ERROR: $kind run $run: ocpp bench printed no result (exit $rc): $(cat "$WORK/$kind-$run.err")"
    bench_json='{}'
  fi
  if ((rc != 0)); then
    log "WARNING: $kind run $run: ocpp bench exited $rc: $(head -3 "$WORK/$kind-$run.err")"
  fi
  $alive || log "ERROR: $kind server died during run $run; log: $(tail -5 "$WORK/$kind-$run.server.log")"
  node -e '
    const [bench, kind, run, t0, t1, tck, cuser, csys, busy, load, idleOk, rc, alive, rss] = process.argv.slice(1);
    const b = JSON.parse(bench);
    const [u0, s0] = t0.split(" ").map(Number), [u1, s1] = t1.split(" ").map(Number);
    const serverUserS = (u1 - u0) / Number(tck), serverSysS = (s1 - s0) / Number(tck);
    const serverCpuS = serverUserS + serverSysS;
    const clientCpuS = Number(cuser) + Number(csys);
    const calls = b.calls ?? 0;
    console.log(JSON.stringify({
      server: kind, run: Number(run), ...b,
      server_cpu_s: serverCpuS,
      server_cpu_us_per_call: calls ? serverCpuS * 1e6 / calls : null,
      server_user_us_per_call: calls ? serverUserS * 1e6 / calls : null,
      server_kernel_us_per_call: calls ? serverSysS * 1e6 / calls : null,
      client_cpu_us_per_call: calls ? clientCpuS * 1e6 / calls : null,
      server_rss_kb_after: Number(rss),
      bench_exit: Number(rc), server_alive: alive === "true",
      busy_pct_before: Number(busy), load1_before: Number(load), idle_ok: idleOk === "1",
    }));' "$bench_json" "$kind" "$run" "$t0" "$t1" "$CLK_TCK" "${cuser:-0}" "${csys:-0}" "$busy" "$load" \
    "$idle_ok" "$rc" "$alive" "$rss_kb" >>"$RESULTS"
  log "$kind run $run: $(tail -1 "$RESULTS")"
}

SERVERS=(ours ocpp-ws-io)
((WITH_STRICT)) && SERVERS=(ours ours-strict ocpp-ws-io)
[[ -n "$ONLY" ]] && SERVERS=("$ONLY")
ENV_JSON=$(env_json)
log "compare: $CLIENTS clients x concurrency $CONCURRENCY, ours $OURS_CALLS calls, ocpp-ws-io $THEIRS_CALLS calls, $RUNS runs, warm-up $WARMUP"
# Interleave the servers run by run so slow drifts of the machine hit both alike.
for ((r = 1; r <= RUNS; r++)); do
  for kind in "${SERVERS[@]}"; do run_one "$kind" "$r"; done
done

node - "$RESULTS" "$JSON" "$JSON_OUT" "$ENV_JSON" "$CLIENTS" "$CONCURRENCY" "$SERVER_THREADS" <<'EOF'
const fs = require('fs');
const [file, json, jsonOut, envJson, clients, concurrency, serverThreads] = process.argv.slice(2);
const runs = fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(JSON.parse);
const median = (xs) => {
  xs = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!xs.length) return null;
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
};
const metrics = ['calls_per_s', 'p50_ms', 'p90_ms', 'p99_ms', 'server_cpu_us_per_call',
  'server_user_us_per_call', 'server_kernel_us_per_call', 'client_cpu_us_per_call', 'server_rss_kb_after'];
const summary = {};
for (const kind of [...new Set(runs.map((r) => r.server))]) {
  const rs = runs.filter((r) => r.server === kind);
  const s = { runs: rs.length, calls: rs[0]?.calls ?? null,
    errors: rs.reduce((a, r) => a + (r.errors ?? 0), 0),
    failed_runs: rs.filter((r) => r.bench_exit !== 0 || !r.server_alive).length,
    all_idle: rs.every((r) => r.idle_ok) };
  for (const m of metrics) s[m] = median(rs.map((r) => r[m]));
  summary[kind] = s;
}
const ratios = {};
if (summary.ours && summary['ocpp-ws-io']) {
  for (const m of metrics) {
    const a = summary.ours[m], b = summary['ocpp-ws-io'][m];
    ratios[m] = a != null && b ? a / b : null;
  }
}
const strictOverhead = summary.ours && summary['ours-strict'] && summary.ours.server_cpu_us_per_call
  ? summary['ours-strict'].server_cpu_us_per_call / summary.ours.server_cpu_us_per_call : null;
const out = { env: JSON.parse(envJson), config: { clients: +clients, concurrency: +concurrency,
  protocol: 'ocpp1.6', action: 'Heartbeat', ours_server_threads: +serverThreads, statistic: 'median' },
  summary, ratios_ours_over_theirs: ratios, strict_over_ours_server_cpu: strictOverhead, runs };
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(out, null, 1) + '\n');
if (json === '1') { console.log(JSON.stringify(out)); process.exit(0); }

const f = (x, d) => (x == null ? '-' : x.toFixed(d));
const rows = [
  ['calls', (s) => String(s.calls ?? '-'), null],
  ['calls/s', (s) => f(s.calls_per_s, 0), (r) => f(r.calls_per_s, 2) + 'x'],
  ['p50 latency (ms)', (s) => f(s.p50_ms, 3), (r) => f(r.p50_ms, 2) + 'x'],
  ['p90 latency (ms)', (s) => f(s.p90_ms, 3), (r) => f(r.p90_ms, 2) + 'x'],
  ['p99 latency (ms)', (s) => f(s.p99_ms, 3), (r) => f(r.p99_ms, 2) + 'x'],
  ['server CPU (us/call)', (s) => f(s.server_cpu_us_per_call, 1), (r) => f(r.server_cpu_us_per_call, 3) + 'x'],
  ['  in user space', (s) => f(s.server_user_us_per_call, 1), (r) => f(r.server_user_us_per_call, 3) + 'x'],
  ['  in the kernel', (s) => f(s.server_kernel_us_per_call, 1), (r) => f(r.server_kernel_us_per_call, 3) + 'x'],
  ['client CPU (us/call)', (s) => f(s.client_cpu_us_per_call, 1), null],
  ['server RSS after (KB)', (s) => f(s.server_rss_kb_after, 0), null],
  ['errors (all runs)', (s) => String(s.errors), null],
];
const kinds = Object.keys(summary);
const withRatio = summary.ours && summary['ocpp-ws-io'];
const header = ['metric (median of ' + Math.max(...kinds.map((k) => summary[k].runs)) + ')', ...kinds];
if (withRatio) header.push('ours/theirs');
const table = [header, ...rows.map(([name, get, ratio]) => {
  const row = [name, ...kinds.map((k) => get(summary[k]))];
  if (withRatio) row.push(ratio ? ratio(ratios) : '');
  return row;
})];
const w = header.map((_, i) => Math.max(...table.map((r) => r[i].length)));
const e = out.env;
console.log(`ocpp bench: ${clients} connections x ${concurrency} in flight, ocpp1.6 Heartbeat; ` +
  `ours with ${serverThreads} I/O thread(s); ${e.date}, ${e.host_cpus} CPUs, node ${e.node}, ocpp-ws-io ${e.ocpp_ws_io}`);
for (const r of table) console.log(r.map((c, i) => (i ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  '));
console.log('machine idle before every run: ' + kinds.map((k) => `${k} ${summary[k].all_idle ? 'yes' : 'NO'}`).join(', ') +
  ' (busy% / load1 before each run: ' + runs.map((r) => `${r.busy_pct_before}/${r.load1_before}`).join(' ') + ')');
if (strictOverhead != null) console.log(`strict mode: server CPU per call ${f(strictOverhead, 3)}x of ours without it`);
if (kinds.some((k) => summary[k].failed_runs)) console.log('WARNING: some runs failed; see --json');
EOF
