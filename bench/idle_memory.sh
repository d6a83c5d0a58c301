#!/usr/bin/env bash
# Server memory per idle OCPP-J connection: our `ocpp serve` vs an ocpp-ws-io 2.3.2 server.
#
#   bench/idle_memory.sh [--json] [--runs 3] [--count 10000] [--batch 200] [--json-out FILE]
#                        [--tls] [--tls-key ecdsa|rsa] [--only KIND[,KIND...]]
#                        [--client-args "ARGS"]  (more idle_clients arguments, e.g.
#                                                 "--compression --call-bytes 2000")
#                        [--server-args "ARGS"]  (more server arguments, e.g. "--compression 1"
#                                                 for ocpp-ws-io; use with --only)
#
# For each server and each run: wait for the machine to be idle, start the server, let it settle
# 2 s, read its VmRSS (/proc/<pid>/status), open --count idle ocpp1.6 connections with
# bench/idle_clients (completed WebSocket upgrades, no CALLs, no client pings; the servers keep
# their default 30 s ping interval), check the server holds that many more socket fds, wait
# until its RSS is stable (< 0.5 % change over 5 s, at most 60 s), read VmRSS again, and report
# (RSS_after - RSS_before) / count in KB (1 KB = 1024 bytes, as /proc reports). Also reports the
# same for the client side (idle_clients = our ocpp::Client, RSS growth from before the clients
# were created). Median of the runs.
#
# --tls adds the TLS servers (security profile 2, wss://, TLS 1.3, the server's ECDSA P-256
# certificate unless --tls-key rsa; certificates made at start by `tls_bench certs`; idle_clients
# verifies the server against their CA and sends Basic Auth): "ours-tls" (`tls_bench serve`: our
# ocpp::Server with one TLS listener) and "ocpp-ws-io-tls" (bench/ocpp-ws-io-server.mjs with
# --tls-cert/--tls-key: node's https server). Kinds: ours, ocpp-ws-io, ours-tls, ocpp-ws-io-tls,
# ours-tls-p3 (profile 3: every client presents the same client certificate, no CN binding) and
# ours-bench-plain (`tls_bench serve` without TLS, the same program as ours-tls); --only picks
# some, comma-separated, in that order per run.
#
# Builds nothing: needs build/release/bench/idle_clients (ninja -C build/release idle_clients),
# build/release/apps/ocpp/ocpp (ninja -C build/release ocpp_cli), for TLS build/release/bench/tls_bench
# (ninja -C build/release tls_bench), and tests/interop/peers/node_modules (bash tests/interop/peers/install.sh).
# Environment: IDLE_WAIT (s, default 300), IDLE_MAX_BUSY (% CPU, default 10), BUILD_DIR.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

JSON=0 JSON_OUT="" RUNS=3 COUNT=10000 BATCH=200 ONLY="" TLS=0 CLIENT_ARGS="" SERVER_ARGS=""
TLS_KEY=ecdsa
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-0}"; }
while (($#)); do
  case "$1" in
    --json) JSON=1 ;;
    --json-out) JSON_OUT="$2"; shift ;;
    --runs) RUNS="$2"; shift ;;
    --count) COUNT="$2"; shift ;;
    --batch) BATCH="$2"; shift ;;
    --only) ONLY="$2"; shift ;;
    --tls) TLS=1 ;;
    --tls-key) TLS_KEY="$2"; shift ;;
    --client-args) CLIENT_ARGS="$2"; shift ;;
    --server-args) SERVER_ARGS="$2"; shift ;;
    -h | --help) usage 0 ;;
    *) echo "idle_memory.sh: unknown argument $1" >&2; usage 2 ;;
  esac
  shift
done

require_built "$OCPP_BIN" ocpp_cli
require_built "$IDLE_CLIENTS_BIN" idle_clients

SERVERS=(ours ocpp-ws-io)
((TLS)) && SERVERS=(ours ours-tls ocpp-ws-io ocpp-ws-io-tls)
[[ -n "$ONLY" ]] && IFS=, read -r -a SERVERS <<<"$ONLY"
needs_tls=0 needs_node=0
for kind in "${SERVERS[@]}"; do
  case "$kind" in
    ours | ours-strict) ;;
    ocpp-ws-io) needs_node=1 ;;
    ocpp-ws-io-tls) needs_node=1 needs_tls=1 ;;
    ours-tls | ours-tls-p3 | ours-bench-plain) needs_tls=1 ;;
    *) die "unknown server kind $kind" ;;
  esac
done
((needs_tls)) && require_built "$TLS_BENCH_BIN" tls_bench
((needs_node)) && require_wsio
[[ "$TLS_KEY" == ecdsa || "$TLS_KEY" == rsa ]] || die "--tls-key must be ecdsa or rsa"
export TLS_KEY

# Each process needs COUNT sockets plus some slack.
need_fds=$((COUNT + 200))
if (($(ulimit -n) < need_fds)); then
  ulimit -n "$need_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi
(($(ulimit -n) >= need_fds)) || die "fd limit $(ulimit -n) < $need_fds (hard limit $(ulimit -Hn)); lower --count"

WORK=$(mktemp -d /tmp/ocpp-idle.XXXXXX)
CL_PID="" CTL=""
stop_clients() {
  if [[ -n "$CTL" ]]; then exec {CTL}>&-; CTL=""; fi
  if [[ -n "$CL_PID" ]]; then
    local i
    for ((i = 0; i < 200; i++)); do kill -0 "$CL_PID" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$CL_PID" 2>/dev/null && kill -KILL "$CL_PID" 2>/dev/null
    wait "$CL_PID" 2>/dev/null || true
    CL_PID=""
  fi
}
cleanup() { stop_clients; stop_server; rm -rf "$WORK"; }
trap cleanup EXIT
snapshot_bins "$WORK"
if ((needs_tls)); then
  TLS_CERT_DIR="$WORK/certs"
  "$TLS_BENCH_BIN" certs --out "$TLS_CERT_DIR" >/dev/null || die "tls_bench certs failed"
fi
trap 'exit 130' INT TERM
RESULTS="$WORK/runs.jsonl"
: >"$RESULTS"


run_one() {
  local kind="$1" run="$2"
  wait_idle
  local busy="$IDLE_BUSY_PCT" load="$IDLE_LOAD" idle_ok="$IDLE_OK"
  # shellcheck disable=SC2086  # SERVER_ARGS is split on purpose
  start_server "$kind" "$WORK/$kind-$run.server.log" $SERVER_ARGS
  sleep 2
  local rss0 fds0
  rss0=$(proc_rss_kb "$SERVER_PID")
  fds0=$(socket_fds "$SERVER_PID")

  rm -f "$WORK/ctl"
  mkfifo "$WORK/ctl"
  local cout="$WORK/$kind-$run.clients.out" client_args=(--url "ws://127.0.0.1:$SERVER_PORT")
  case "$kind" in
    ours-tls | ocpp-ws-io-tls)
      client_args=(--url "wss://127.0.0.1:$SERVER_PORT" --ca "$TLS_CERT_DIR/ca.pem" --password bench-password) ;;
    ours-tls-p3)
      client_args=(--url "wss://127.0.0.1:$SERVER_PORT" --ca "$TLS_CERT_DIR/ca.pem"
        --cert "$TLS_CERT_DIR/client-CP001.pem" --key "$TLS_CERT_DIR/client-CP001.key") ;;
  esac
  # shellcheck disable=SC2206  # CLIENT_ARGS is split on purpose
  client_args+=($CLIENT_ARGS)
  "$IDLE_CLIENTS_BIN" "${client_args[@]}" --count "$COUNT" --batch "$BATCH" \
    --prefix "IDLE${run}_" --protocol ocpp1.6 <"$WORK/ctl" >"$cout" 2>"$WORK/$kind-$run.clients.err" &
  CL_PID=$!
  exec {CTL}>"$WORK/ctl"
  local t_start=$EPOCHREALTIME ready=""
  while (($(date +%s) - ${t_start%.*} < 600)); do
    ready=$(sed -n 's/^READY \([0-9]\+\)$/\1/p' "$cout" | head -1)
    [[ -n "$ready" ]] && break
    kill -0 "$CL_PID" 2>/dev/null || break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.2
  done
  local connect_s
  connect_s=$(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  [[ -n "$ready" ]] || { cat "$WORK/$kind-$run.clients.err" >&2; tail -5 "$WORK/$kind-$run.server.log" >&2; die "$kind: idle_clients never became READY"; }
  ((ready == COUNT)) || log "WARNING: $kind run $run: only $ready of $COUNT connected: $(cat "$WORK/$kind-$run.clients.err")"

  # The server must hold them all: count its socket fds, then wait for a stable RSS.
  local fds1=0 i
  for ((i = 0; i < 60; i++)); do
    fds1=$(socket_fds "$SERVER_PID")
    ((fds1 - fds0 >= ready)) && break
    sleep 1
  done
  local samples=() rss1 stable=false
  for ((i = 0; i < 60; i++)); do
    samples+=("$(proc_rss_kb "$SERVER_PID")")
    local n=${#samples[@]}
    if ((n >= 6)); then
      if awk -v a="${samples[n - 6]}" -v b="${samples[n - 1]}" 'BEGIN { d = b - a; if (d < 0) d = -d; exit !(d <= a * 0.005) }'; then
        stable=true
        break
      fi
    fi
    sleep 1
  done
  rss1=${samples[-1]}
  fds1=$(socket_fds "$SERVER_PID")
  local crss
  crss=$(proc_rss_kb "$CL_PID")
  local alive=true
  kill -0 "$SERVER_PID" 2>/dev/null || alive=false

  stop_clients
  local dropped crss0
  dropped=$(sed -n 's/^DROPPED \([0-9]\+\)$/\1/p' "$cout" | head -1)
  crss0=$(sed -n 's/^START_RSS_KB \([0-9]\+\)$/\1/p' "$cout" | head -1)
  stop_server
  $alive || log "ERROR: $kind server died; log: $(tail -5 "$WORK/$kind-$run.server.log")"
  $stable || log "WARNING: $kind run $run: RSS not stable after 60 s (${samples[*]})"

  node -e '
    const [kind, run, count, ready, rss0, rss1, fds0, fds1, crss0, crss, dropped, stable, alive, connectS, busy, load, idleOk] = process.argv.slice(1);
    const n = Number(ready);
    console.log(JSON.stringify({
      server: kind, run: Number(run), requested: Number(count), connected: n,
      dropped_while_idle: dropped === "" ? null : Number(dropped),
      server_socket_fds_added: Number(fds1) - Number(fds0),
      rss_before_kb: Number(rss0), rss_after_kb: Number(rss1),
      kb_per_connection: n ? (Number(rss1) - Number(rss0)) / n : null,
      client_rss_kb: Number(crss), client_kb_per_connection: n ? (Number(crss) - Number(crss0)) / n : null,
      connect_s: Number(connectS), rss_stable: stable === "true", server_alive: alive === "true",
      busy_pct_before: Number(busy), load1_before: Number(load), idle_ok: idleOk === "1",
    }));' "$kind" "$run" "$COUNT" "$ready" "$rss0" "$rss1" "$fds0" "$fds1" "${crss0:-0}" "$crss" "${dropped:-}" \
    "$stable" "$alive" "$connect_s" "$busy" "$load" "$idle_ok" >>"$RESULTS"
  log "$kind run $run: $(tail -1 "$RESULTS")"
}

ENV_JSON=$(env_json)
log "idle memory: $COUNT idle ocpp1.6 connections (batches of $BATCH), $RUNS runs, servers ${SERVERS[*]}, fd limit $(ulimit -n)"
for ((r = 1; r <= RUNS; r++)); do
  for kind in "${SERVERS[@]}"; do run_one "$kind" "$r"; done
done

node - "$RESULTS" "$JSON" "$JSON_OUT" "$ENV_JSON" "$COUNT" "$TLS_KEY" <<'EOF'
const fs = require('fs');
const [file, json, jsonOut, envJson, count, tlsKey] = process.argv.slice(2);
const runs = fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(JSON.parse);
const median = (xs) => {
  xs = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!xs.length) return null;
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
};
const metrics = ['kb_per_connection', 'rss_before_kb', 'rss_after_kb', 'client_kb_per_connection', 'connect_s'];
const summary = {};
for (const kind of [...new Set(runs.map((r) => r.server))]) {
  const rs = runs.filter((r) => r.server === kind);
  const s = { runs: rs.length, connected_min: Math.min(...rs.map((r) => r.connected)),
    dropped_max: Math.max(...rs.map((r) => r.dropped_while_idle ?? 0)),
    all_stable: rs.every((r) => r.rss_stable), all_idle: rs.every((r) => r.idle_ok),
    all_alive: rs.every((r) => r.server_alive) };
  for (const m of metrics) s[m] = median(rs.map((r) => r[m]));
  summary[kind] = s;
}
const kbRatio = (a, b) => summary[a] && summary[b] && summary[b].kb_per_connection
  ? summary[a].kb_per_connection / summary[b].kb_per_connection : null;
const ratio = kbRatio('ours', 'ocpp-ws-io');
const ratios = {
  ours_over_theirs: ratio,
  ours_tls_over_theirs_tls: kbRatio('ours-tls', 'ocpp-ws-io-tls'),
  ours_tls_over_ours: kbRatio('ours-tls', 'ours'),
  theirs_tls_over_theirs: kbRatio('ocpp-ws-io-tls', 'ocpp-ws-io'),
};
const tlsUsed = runs.some((r) => /tls/.test(r.server));
const out = { env: JSON.parse(envJson), config: { connections: +count, protocol: 'ocpp1.6', statistic: 'median',
  ...(tlsUsed ? { tls_server_key: tlsKey, tls: 'profile 2 (p3: profile 3), client default TLS version' } : {}) },
  summary, ratio_ours_over_theirs: ratio, ratios, runs };
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(out, null, 1) + '\n');
if (json === '1') { console.log(JSON.stringify(out)); process.exit(0); }
const f = (x, d) => (x == null ? '-' : x.toFixed(d));
const kinds = Object.keys(summary);
const rows = [
  ['server KB / idle connection', (s) => f(s.kb_per_connection, 2)],
  ['server RSS before (KB)', (s) => f(s.rss_before_kb, 0)],
  ['server RSS after (KB)', (s) => f(s.rss_after_kb, 0)],
  ['connected (min over runs)', (s) => String(s.connected_min)],
  ['dropped while idle (max)', (s) => String(s.dropped_max)],
  ['time to connect all (s)', (s) => f(s.connect_s, 1)],
  ['idle_clients (ocpp::Client) KB / conn', (s) => f(s.client_kb_per_connection, 2)],
];
const header = ['metric (median of ' + Math.max(...kinds.map((k) => summary[k].runs)) + ')', ...kinds];
const table = [header, ...rows.map(([n, g]) => [n, ...kinds.map((k) => g(summary[k]))])];
const w = header.map((_, i) => Math.max(...table.map((r) => r[i].length)));
const e = out.env;
console.log(`idle memory: ${count} idle ocpp1.6 connections; ${e.date}, ${e.host_cpus} CPUs, node ${e.node}, ocpp-ws-io ${e.ocpp_ws_io}`);
for (const r of table) console.log(r.map((c, i) => (i ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  '));
for (const [name, r] of Object.entries(ratios))
  if (r != null) console.log(`${name.replace(/_/g, ' ')} (KB per connection): ${r.toFixed(3)}x`);
console.log('RSS stable / machine idle / server alive: ' +
  kinds.map((k) => `${k} ${summary[k].all_stable ? 'yes' : 'NO'}/${summary[k].all_idle ? 'yes' : 'NO'}/${summary[k].all_alive ? 'yes' : 'NO'}`).join(', '));
EOF
