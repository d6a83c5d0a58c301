#!/usr/bin/env bash
# Scale and recovery of our `ocpp serve`: many held connections under periodic load, a reconnect
# storm after the server is killed, and connect/leave cycles that must not leak.
#
#   bench/scale.sh held  [--count 19000] [--minutes 3] [--heartbeat-s 10] [--meter-share 0.1]
#                        [--meter-s 5] [--sample-s 5] [--tls]
#   bench/scale.sh storm [--count 10000] [--tls] [--only KIND[,KIND...]] [--restart-delay-s 1]
#                        [--settle-s 5] [--storm-timeout-s 300] [--backoff-min-ms M --backoff-max-ms M]
#   bench/scale.sh leak  [--count 10000] [--cycles 5] [--calls 3] [--tolerance-pct 5] [--tls]
#   common: [--procs P] [--addresses A] [--batch 200] [--protocol ocpp1.6|ocpp2.0.1]
#           [--server-args "ARGS"] (more `ocpp serve` arguments, e.g. "--max-connections 10000"
#                                   or "--connection-rate-limit 500/1s"; default
#                                   "--max-handshakes-per-address 0": every station of the
#                                   load generator comes from 127.0.0.1)
#           [--theirs-args "ARGS"] (more ocpp-ws-io-server.mjs arguments)
#           [--json] [--json-out FILE]
#
# The stations are bench/scale_clients processes (our ocpp::Client, one I/O thread each), --procs
# of them (default: one per 5,000 stations), since one process may hold at most 20,000
# descriptors here. ocpp::ClientOptions has no local (source) address to bind, so instead of
# several source addresses each process connects to its own destination address 127.0.0.<k>,
# k = 1..--addresses (default: one per process): every destination has its own ephemeral port
# range. With more than one address the server listens on 0.0.0.0 (reachable from the network
# for the run); --addresses 1 keeps it on 127.0.0.1.
#
# held   One `ocpp serve --quiet --metrics` holds --count stations, each booted once. Then every
#        station sends a Heartbeat every --heartbeat-s (its first at a uniformly random offset)
#        and the first --meter-share of them (spread over all) also MeterValues every --meter-s,
#        for --minutes. Reports call latency (p50/p90/p99/p99.9/max, measured in the clients
#        from call() to the answer; target p99 < 10 ms), the server's CPU (% of one core, from
#        /proc/<pid>/stat, mean over the hold and the highest --sample-s sample) and RSS (before,
#        after connecting, min/max over the hold), and the failed connects, dropped connections
#        and call errors.
# storm  For each server kind: --count stations connect and boot (--reconnect, the library's
#        backoff: ClientOptions defaults unless --backoff-*), then the server is killed with
#        SIGKILL and started again on the same port after --restart-delay-s. Every station sends
#        BootNotification after each reconnect. Reports the time from the restart until every
#        station has reconnected and booted (--storm-timeout-s at most), the per-second histogram
#        of reconnect attempts, failed attempts and successful reconnects (peak = the handshake
#        rate), failed attempts by cause (refused, http_503 = max_connections, http_429 =
#        connection rate limit, tls, timeout), the stations that gave up (final closes), and
#        ours' own count of refusals (/metrics ocpp_security_events_total). Kinds: ours,
#        ocpp-ws-io (bench/ocpp-ws-io-server.mjs), ours-tls, ocpp-ws-io-tls (security profile 2,
#        the ECDSA P-256 certificate of `ocpp certs`, TLS 1.3); default ours,ocpp-ws-io, and with
#        --tls all four.
# leak   One server; --cycles + 1 times: --count stations connect, boot, make --calls Heartbeats
#        each and close (closing handshake, same identities every cycle); then wait until the
#        server holds no station socket and its RSS is stable. The first cycle is the warm-up and
#        its RSS the baseline; reports RSS after each cycle and its distance from the baseline
#        ("yes" when no cycle ends more than --tolerance-pct above it).
#
# Each run waits for an idle machine first (lib.sh: IDLE_WAIT, IDLE_MAX_BUSY) and copies the
# binaries to a temporary directory. Builds nothing: needs build/release/apps/ocpp/ocpp
# (ninja -C build/release ocpp_cli), build/release/bench/scale_clients (ninja -C build/release
# scale_clients), node, and for the ocpp-ws-io kinds tests/interop/peers/node_modules
# (bash tests/interop/peers/install.sh). Environment: IDLE_WAIT, IDLE_MAX_BUSY, BUILD_DIR.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-0}"; }
MODE="${1:-}"
case "$MODE" in
  held | storm | leak) shift ;;
  -h | --help) usage 0 ;;
  *) echo "scale.sh: first argument must be held, storm or leak" >&2; usage 2 ;;
esac

JSON=0 JSON_OUT="" COUNT="" PROCS="" ADDRESSES="" BATCH=200 PROTOCOL=ocpp1.6 TLS=0 ONLY=""
MINUTES=3 HEARTBEAT_S=10 METER_SHARE=0.1 METER_S=5 SAMPLE_S=5
RESTART_DELAY_S=1 SETTLE_S=5 STORM_TIMEOUT_S=300 BACKOFF_ARGS=()
CYCLES=5 CALLS=3 TOLERANCE_PCT=5 SERVER_ARGS="--max-handshakes-per-address 0" THEIRS_ARGS=""
while (($#)); do
  case "$1" in
    --json) JSON=1 ;;
    --json-out) JSON_OUT="$2"; shift ;;
    --count) COUNT="$2"; shift ;;
    --procs) PROCS="$2"; shift ;;
    --addresses) ADDRESSES="$2"; shift ;;
    --batch) BATCH="$2"; shift ;;
    --protocol) PROTOCOL="$2"; shift ;;
    --tls) TLS=1 ;;
    --only) ONLY="$2"; shift ;;
    --minutes) MINUTES="$2"; shift ;;
    --heartbeat-s) HEARTBEAT_S="$2"; shift ;;
    --meter-share) METER_SHARE="$2"; shift ;;
    --meter-s) METER_S="$2"; shift ;;
    --sample-s) SAMPLE_S="$2"; shift ;;
    --restart-delay-s) RESTART_DELAY_S="$2"; shift ;;
    --settle-s) SETTLE_S="$2"; shift ;;
    --storm-timeout-s) STORM_TIMEOUT_S="$2"; shift ;;
    --backoff-min-ms | --backoff-max-ms) BACKOFF_ARGS+=("$1" "$2"); shift ;;
    --cycles) CYCLES="$2"; shift ;;
    --calls) CALLS="$2"; shift ;;
    --tolerance-pct) TOLERANCE_PCT="$2"; shift ;;
    --server-args) SERVER_ARGS="$2"; shift ;;
    --theirs-args) THEIRS_ARGS="$2"; shift ;;
    -h | --help) usage 0 ;;
    *) echo "scale.sh: unknown argument $1" >&2; usage 2 ;;
  esac
  shift
done

if [[ -z "$COUNT" ]]; then COUNT=10000; [[ "$MODE" == held ]] && COUNT=19000; fi
[[ -z "$PROCS" ]] && PROCS=$(((COUNT + 4999) / 5000))
[[ -z "$ADDRESSES" ]] && ADDRESSES=$PROCS
((COUNT >= PROCS && PROCS >= 1 && ADDRESSES >= 1 && ADDRESSES <= 254)) || die "need --count >= --procs >= 1 and 1 <= --addresses <= 254"
HOLD_S=$(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 + 0.5 }')
((HOLD_S >= 1)) || die "--minutes must be > 0"

SCALE_CLIENTS_BIN="$BUILD_DIR/bench/scale_clients"
require_built "$OCPP_BIN" ocpp_cli
require_built "$SCALE_CLIENTS_BIN" scale_clients
command -v node >/dev/null 2>&1 || die "node not found (it summarises the results)"
command -v curl >/dev/null 2>&1 || die "curl not found (it reads the server's /metrics)"

if [[ "$MODE" == storm ]]; then
  KINDS=(ours ocpp-ws-io)
  ((TLS)) && KINDS=(ours ocpp-ws-io ours-tls ocpp-ws-io-tls)
  [[ -n "$ONLY" ]] && IFS=, read -r -a KINDS <<<"$ONLY"
else
  [[ -z "$ONLY" ]] || die "--only is for storm"
  KINDS=(ours)
  ((TLS)) && KINDS=(ours-tls)
fi
for kind in "${KINDS[@]}"; do
  case "$kind" in
    ours | ours-tls) ;;
    ocpp-ws-io | ocpp-ws-io-tls) require_wsio ;;
    *) die "unknown server kind $kind (ours, ocpp-ws-io, ours-tls, ocpp-ws-io-tls)" ;;
  esac
done

# The server holds every station; each client process its share.
need_fds=$((COUNT + 300))
if (($(ulimit -n) < need_fds)); then
  ulimit -n "$need_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi
(($(ulimit -n) >= need_fds)) || die "fd limit $(ulimit -n) < $need_fds (hard limit $(ulimit -Hn)); lower --count"
SERVER_HOST=127.0.0.1
((ADDRESSES > 1)) && SERVER_HOST=0.0.0.0

WORK=$(mktemp -d /tmp/ocpp-scale.XXXXXX)
CL_PIDS=() CL_FDS=() CL_OUT=()
stop_clients() {
  local k i
  local fd
  for k in "${!CL_FDS[@]}"; do
    fd=${CL_FDS[k]}
    { echo CLOSE >&"$fd"; } 2>/dev/null || true
    exec {fd}>&-
  done
  CL_FDS=()
  for k in "${!CL_PIDS[@]}"; do
    for ((i = 0; i < 500; i++)); do kill -0 "${CL_PIDS[k]}" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "${CL_PIDS[k]}" 2>/dev/null; then
      log "WARNING: scale_clients ${CL_PIDS[k]} did not exit within 25 s; killing it"
      kill -KILL "${CL_PIDS[k]}" 2>/dev/null || true
    fi
    wait "${CL_PIDS[k]}" 2>/dev/null || true
  done
  CL_PIDS=()
}
cleanup() { stop_clients; stop_server; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
snapshot_bins "$WORK"
cp "$SCALE_CLIENTS_BIN" "$WORK/scale_clients" && SCALE_CLIENTS_BIN="$WORK/scale_clients"

CERTS="$WORK/certs" PASSWORD=bench-password
if [[ " ${KINDS[*]} " == *tls* ]]; then
  hosts=()
  for ((a = 2; a <= ADDRESSES; a++)); do hosts+=(--host "127.0.0.$a"); done
  "$OCPP_BIN" certs --out "$CERTS" "${hosts[@]}" >/dev/null || die "ocpp certs failed"
fi

# Identities: <tag><process>_<n>, the same in every cycle of a run.
prefix_of() { echo "$1$2_"; }
share_of() { echo $(((COUNT * ($2 + 1)) / PROCS - (COUNT * $2) / PROCS)); }

# start_csms KIND LOG PORT: like lib.sh's start_server, on SERVER_HOST and a given port (0: any),
# with `ocpp serve` for ours (--metrics; profile 2 with the ECDSA certificate for ours-tls).
start_csms() {
  local kind="$1" out="$2" port="$3"
  : >"$out"
  case "$kind" in
    ours)
      # shellcheck disable=SC2086  # SERVER_ARGS is split on purpose
      "$OCPP_BIN" serve --host "$SERVER_HOST" --port "$port" --quiet --metrics $SERVER_ARGS >"$out" 2>&1 </dev/null &
      ;;
    ours-tls)
      # shellcheck disable=SC2086
      "$OCPP_BIN" serve --host "$SERVER_HOST" --port "$port" --quiet --metrics --profile 2 \
        --cert "$CERTS/server-ecdsa.pem" --key "$CERTS/server-ecdsa.key" --password-file "$WORK/passwords" \
        $SERVER_ARGS >"$out" 2>&1 </dev/null &
      ;;
    ocpp-ws-io)
      # shellcheck disable=SC2086
      node "$WSIO_SERVER" --host "$SERVER_HOST" --port "$port" $THEIRS_ARGS >"$out" 2>&1 </dev/null &
      ;;
    ocpp-ws-io-tls)
      # shellcheck disable=SC2086
      node "$WSIO_SERVER" --host "$SERVER_HOST" --port "$port" --tls-cert "$CERTS/server-ecdsa.pem" \
        --tls-key "$CERTS/server-ecdsa.key" $THEIRS_ARGS >"$out" 2>&1 </dev/null &
      ;;
  esac
  SERVER_PID=$!
  await_server_port "$kind" "$out"
}

scheme_of() { [[ "$1" == *tls ]] && echo wss || echo ws; }

# start_clients KIND TAG ARGS...: PROCS scale_clients processes, process k with its share of
# COUNT stations, connecting to 127.0.0.<k mod ADDRESSES + 1>; stdin is a FIFO kept in CL_FDS.
start_clients() {
  local kind="$1" tag="$2" k
  shift 2
  local tls_args=()
  [[ "$kind" == *tls ]] && tls_args=(--ca "$CERTS/ca.pem" --password "$PASSWORD")
  for ((k = 0; k < PROCS; k++)); do
    local fifo="$WORK/$tag.p$k.ctl" out="$WORK/$tag.p$k.out"
    rm -f "$fifo"
    mkfifo "$fifo"
    "$SCALE_CLIENTS_BIN" --url "$(scheme_of "$kind")://127.0.0.$((k % ADDRESSES + 1)):$SERVER_PORT" \
      --count "$(share_of "$COUNT" "$k")" --prefix "$(prefix_of "$tag" "$k")" --protocol "$PROTOCOL" \
      --batch "$BATCH" --seed "$((k + 1))" --latency-out "$WORK/$tag.p$k.lat" "${tls_args[@]}" "$@" \
      <"$fifo" >"$out" 2>"$WORK/$tag.p$k.err" &
    CL_PIDS[k]=$!
    local fd
    exec {fd}>"$fifo"
    CL_FDS[k]=$fd
    CL_OUT[k]="$out"
  done
}

send_all() {
  local k
  for k in "${!CL_FDS[@]}"; do echo "$1" >&"${CL_FDS[k]}"; done
}

# wait_all WORD TIMEOUT_S [SERVER_MUST_LIVE=1]: until every client process has printed a line
# starting with WORD; dies if a client process exits (or the server, unless told otherwise).
# Returns 1 on timeout.
wait_all() {
  local word="$1" timeout="$2" server_must_live="${3:-1}" deadline k missing
  deadline=$((SECONDS + timeout))
  while :; do
    missing=0
    for k in "${!CL_PIDS[@]}"; do
      grep -q "^$word" "${CL_OUT[k]}" && continue
      missing=1
      if ! kill -0 "${CL_PIDS[k]}" 2>/dev/null; then
        cat "$WORK"/*.p"$k".err >&2 2>/dev/null || true
        die "scale_clients process $k exited before printing $word"
      fi
    done
    ((missing)) || return 0
    if ((server_must_live)) && ! kill -0 "$SERVER_PID" 2>/dev/null; then
      tail -5 "$SERVER_LOG" >&2
      die "the server died (waiting for $word)"
    fi
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# sum_field WORD N: the sum over the client processes of field N of their WORD line.
sum_field() {
  local k total=0 v
  for k in "${!CL_OUT[@]}"; do
    v=$(awk -v w="$1" -v n="$2" '$1 == w { print $n; exit }' "${CL_OUT[k]}")
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

cpu_ticks() { proc_cpu_user_sys "$1" | awk '{ print $1 + $2 }'; }
metrics_of() {
  local kind="$1" url="http://127.0.0.1:$SERVER_PORT/metrics" extra=()
  [[ "$kind" == ours* ]] || return 0
  [[ "$kind" == *tls ]] && url="https://127.0.0.1:$SERVER_PORT/metrics" extra=(--cacert "$CERTS/ca.pem")
  curl -sf --max-time 10 "${extra[@]}" "$url" || log "WARNING: could not read $url"
}

# wait_server_sockets N: until the server holds N sockets (60 s at most); prints how many it holds.
wait_server_sockets() {
  local want="$1" i n=0
  for ((i = 0; i < 600; i++)); do
    n=$(socket_fds "$SERVER_PID")
    ((n >= want)) && break
    sleep 0.1
  done
  echo "$n"
}

# rss_stable: wait until the server's RSS changes by less than 0.5 % over 5 s (60 s at most);
# sets RSS_LAST (kB) and RSS_STABLE=true/false.
rss_stable() {
  local samples=() i n
  RSS_STABLE=false
  for ((i = 0; i < 60; i++)); do
    samples+=("$(proc_rss_kb "$SERVER_PID")")
    n=${#samples[@]}
    if ((n >= 6)) && awk -v a="${samples[n - 6]}" -v b="${samples[n - 1]}" \
      'BEGIN { d = b - a; if (d < 0) d = -d; exit !(d <= a * 0.005) }'; then
      RSS_STABLE=true
      break
    fi
    sleep 1
  done
  RSS_LAST=${samples[-1]}
}

write_passwords() {
  local k
  : >"$WORK/passwords"
  for ((k = 0; k < PROCS; k++)); do
    awk -v p="$(prefix_of "$1" "$k")" -v n="$(share_of "$COUNT" "$k")" -v pw="$PASSWORD" \
      'BEGIN { for (i = 1; i <= n; i++) print p i ":" pw }' >>"$WORK/passwords"
  done
}

# begin_run KIND TAG: for held and leak: the password file, an idle machine, the server on an
# ephemeral port, 2 s to settle. Sets BUSY/LOAD/IDLE_WAS_OK (the idle check), RSS0 and FDS0.
begin_run() {
  [[ "$1" == *tls ]] && write_passwords "$2"
  wait_idle
  BUSY="$IDLE_BUSY_PCT" LOAD="$IDLE_LOAD" IDLE_WAS_OK="$IDLE_OK"
  SERVER_LOG="$WORK/$2.server.log"
  start_csms "$1" "$SERVER_LOG" 0
  sleep 2
  RSS0=$(proc_rss_kb "$SERVER_PID") FDS0=$(socket_fds "$SERVER_PID")
}

now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }

RESULTS="$WORK/runs.jsonl"
: >"$RESULTS"
ENV_JSON=$(env_json)
CONFIG_JSON=$(printf '{"mode":"%s","count":%s,"procs":%s,"addresses":%s,"server_host":"%s","batch":%s,"protocol":"%s","server_args":"%s","theirs_args":"%s"' \
  "$MODE" "$COUNT" "$PROCS" "$ADDRESSES" "$SERVER_HOST" "$BATCH" "$PROTOCOL" "$SERVER_ARGS" "$THEIRS_ARGS")

# --- held -------------------------------------------------------------------------------------
run_held() {
  local kind="${KINDS[0]}" tag=H
  CONFIG_JSON+=$(printf ',"hold_s":%s,"heartbeat_s":%s,"meter_share":%s,"meter_s":%s,"sample_s":%s,"kind":"%s"}' \
    "$HOLD_S" "$HEARTBEAT_S" "$METER_SHARE" "$METER_S" "$SAMPLE_S" "$kind")
  begin_run "$kind" "$tag"
  local rss0=$RSS0 fds0=$FDS0 busy=$BUSY load=$LOAD idle_ok=$IDLE_WAS_OK
  log "held: $COUNT stations ($PROCS processes, $ADDRESSES addresses) connecting to $kind on port $SERVER_PORT"
  local t_start=$SECONDS
  start_clients "$kind" "$tag" --boot --heartbeat-s "$HEARTBEAT_S" --meter-share "$METER_SHARE" --meter-s "$METER_S"
  wait_all READY 900 || die "held: the stations did not connect within 900 s"
  local connect_s=$((SECONDS - t_start)) ready failed fds1
  ready=$(sum_field READY 2) failed=$(sum_field READY 3)
  ((ready > 0)) || die "held: no station connected: $(cat "$WORK"/H.p*.err)"
  ((failed == 0)) || log "WARNING: held: $failed of $COUNT stations failed to connect: $(cat "$WORK"/H.p*.err)"
  fds1=$(wait_server_sockets $((fds0 + ready)))
  local rss1
  rss1=$(proc_rss_kb "$SERVER_PID")
  log "held: $ready stations connected in ${connect_s}s (server: $((fds1 - fds0)) more sockets, RSS ${rss1} kB); holding ${HOLD_S}s"

  local samples_file="$WORK/held.samples" t_go c_go
  : >"$samples_file"
  send_all GO
  wait_all GOING 30 || die "held: GO not acknowledged"
  t_go=$EPOCHREALTIME c_go=$(cpu_ticks "$SERVER_PID")
  echo "$t_go $c_go $(proc_rss_kb "$SERVER_PID")" >>"$samples_file"
  local end=$((SECONDS + HOLD_S))
  while ((SECONDS < end)); do
    sleep "$(awk -v s="$SAMPLE_S" -v r="$((end - SECONDS))" 'BEGIN { print (r < s ? r : s) }')"
    kill -0 "$SERVER_PID" 2>/dev/null || die "held: the server died during the hold: $(tail -5 "$SERVER_LOG")"
    echo "$EPOCHREALTIME $(cpu_ticks "$SERVER_PID") $(proc_rss_kb "$SERVER_PID")" >>"$samples_file"
  done
  send_all STOP
  wait_all RESULT 60 || die "held: the calls in flight did not finish within 60 s of STOP"
  local fds2
  fds2=$(socket_fds "$SERVER_PID")
  metrics_of "$kind" >"$WORK/held.metrics"
  stop_clients
  stop_server

  node - "$WORK" "$PROCS" "$samples_file" "$CLK_TCK" <<EOF >>"$RESULTS"
const fs = require('fs');
const [dir, procs, samplesFile, tck] = process.argv.slice(2);
const results = [], lat = [];
for (let k = 0; k < +procs; k++) {
  const out = fs.readFileSync(dir + '/H.p' + k + '.out', 'utf8');
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  results.push(JSON.parse(line.slice(7)));
  const f = dir + '/H.p' + k + '.lat';
  for (const l of fs.readFileSync(f, 'utf8').split('\n')) if (l) lat.push(+l);
}
lat.sort((a, b) => a - b);
const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p / 100 * lat.length))] / 1000 : null);
const samples = fs.readFileSync(samplesFile, 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number));
const cpuPct = (a, b) => (100 * (b[1] - a[1]) / +tck) / (b[0] - a[0]);
const intervals = samples.slice(1).map((s, i) => cpuPct(samples[i], s));
const rss = samples.map((s) => s[2]);
const sum = (key) => results.reduce((acc, r) => { for (const [k, v] of Object.entries(r[key])) acc[k] = (acc[k] || 0) + v; return acc; }, {});
const examples = Object.assign({}, ...results.map((r) => r.error_examples));
const metrics = fs.readFileSync(dir + '/held.metrics', 'utf8');
const gauge = (name) => { const m = metrics.match(new RegExp('^' + name + ' (\\\\S+)', 'm')); return m ? +m[1] : null; };
const holdS = samples[samples.length - 1][0] - samples[0][0];
const ok = Object.values(sum('ok')).reduce((a, b) => a + b, 0);
console.log(JSON.stringify({
  kind: '$kind', requested: $COUNT, connected: $ready, failed_to_connect: $failed, connect_s: $connect_s,
  server_sockets_added: $fds1 - $fds0, server_sockets_at_end: $fds2 - $fds0,
  dropped_during_hold: results.reduce((a, r) => a + r.dropped, 0),
  open_at_end: results.reduce((a, r) => a + r.open, 0),
  hold_s: holdS, calls_sent: sum('sent'), calls_ok: sum('ok'), call_errors: sum('errors'), error_examples: examples,
  calls_per_s: ok / holdS,
  latency_ms: { samples: lat.length, p50: pct(50), p90: pct(90), p99: pct(99), p999: pct(99.9),
    max: lat.length ? lat[lat.length - 1] / 1000 : null },
  p99_target_met: lat.length ? pct(99) < 10 : null,
  server_cpu_pct: { mean: cpuPct(samples[0], samples[samples.length - 1]), max_sample: Math.max(...intervals) },
  server_rss_kb: { before: $rss0, connected: $rss1, hold_min: Math.min(...rss), hold_max: Math.max(...rss), end: rss[rss.length - 1] },
  server_kb_per_connection: ($rss1 - $rss0) / $ready,
  metrics_connections: gauge('ocpp_connections'),
  busy_pct_before: $busy, load1_before: $load, idle_ok: $idle_ok === 1,
}));
EOF
}

# --- storm ------------------------------------------------------------------------------------
run_storm_kind() {
  local kind="$1" tag=S k
  [[ "$kind" == *tls ]] && write_passwords "$tag"
  wait_idle
  local busy="$IDLE_BUSY_PCT" load="$IDLE_LOAD" idle_ok="$IDLE_OK"
  SERVER_LOG="$WORK/storm-$kind.server.log"
  start_csms "$kind" "$SERVER_LOG" 0
  local port="$SERVER_PORT" fds0
  fds0=$(socket_fds "$SERVER_PID")
  log "storm $kind: $COUNT stations ($PROCS processes, $ADDRESSES addresses) connecting on port $port"
  # A connection rate limit may refuse first connects too; those are retried (every 1-2 s).
  start_clients "$kind" "$tag" --boot --reconnect --connect-retries 60 "${BACKOFF_ARGS[@]}"
  wait_all READY 900 || die "storm $kind: the stations did not connect within 900 s"
  local ready failed retries
  ready=$(sum_field READY 2) failed=$(sum_field READY 3) retries=$(sum_field READY 4)
  ((ready > 0)) || die "storm $kind: no station connected: $(cat "$WORK"/S.p*.err)"
  ((failed == 0)) || log "WARNING: storm $kind: $failed of $COUNT stations failed to connect: $(cat "$WORK"/S.p*.err)"
  wait_server_sockets $((fds0 + ready)) >/dev/null
  sleep "$SETTLE_S"

  local t0 t_kill t_listen cpu0 cpu1 rss_peak=0 rss
  t0=$(now_ms)
  send_all "MARK $t0"
  wait_all MARKED 30 || die "storm $kind: MARK not acknowledged"
  local marked
  marked=$(sum_field MARKED 2)
  t_kill=$(now_ms)
  kill -KILL "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  sleep "$RESTART_DELAY_S"
  SERVER_LOG="$WORK/storm-$kind.server2.log"
  start_csms "$kind" "$SERVER_LOG" "$port"
  t_listen=$(now_ms)
  cpu0=$(cpu_ticks "$SERVER_PID")
  log "storm $kind: killed at +$((t_kill - t0)) ms, listening again at +$((t_listen - t0)) ms; waiting for $marked stations to boot"
  local complete=true deadline=$((SECONDS + STORM_TIMEOUT_S))
  while ! wait_all ALL_BOOTED 1; do
    rss=$(proc_rss_kb "$SERVER_PID")
    ((rss > rss_peak)) && rss_peak=$rss
    if ((SECONDS >= deadline)); then
      complete=false
      log "WARNING: storm $kind: not every station booted again within ${STORM_TIMEOUT_S}s"
      break
    fi
  done
  cpu1=$(cpu_ticks "$SERVER_PID")
  rss=$(proc_rss_kb "$SERVER_PID")
  ((rss > rss_peak)) && rss_peak=$rss
  sleep 1  # late STATS would miss nothing, but let the last GetConfiguration exchanges finish
  send_all STATS
  wait_all STATS 60 || die "storm $kind: STATS not answered"
  metrics_of "$kind" >"$WORK/storm-$kind.metrics"
  local alive=true
  kill -0 "$SERVER_PID" 2>/dev/null || alive=false
  for ((k = 0; k < PROCS; k++)); do cp "${CL_OUT[k]}" "$WORK/storm-$kind.p$k.out"; done
  stop_clients
  stop_server

  node - "$WORK" "$PROCS" "$kind" <<EOF >>"$RESULTS"
const fs = require('fs');
const [dir, procs, kind] = process.argv.slice(2);
const stats = [], booted = [];
for (let k = 0; k < +procs; k++) {
  const lines = fs.readFileSync(dir + '/storm-' + kind + '.p' + k + '.out', 'utf8').split('\n');
  stats.push(JSON.parse(lines.find((l) => l.startsWith('STATS ')).slice(6)));
  const b = lines.find((l) => l.startsWith('ALL_BOOTED '));
  booted.push(b ? +b.split(' ')[1] : null);
}
const restart = $t_listen - $t0;
const all = (key) => stats.flatMap((s) => s[key]);
const hist = {};
const add = (key, name) => { for (const t of all(key)) { const s = Math.floor((t - restart) / 1000); (hist[s] ||= { attempts: 0, failed: 0, reconnects: 0, boots: 0 })[name]++; } };
add('attempt_ms', 'attempts'); add('failed_attempt_ms', 'failed'); add('open_ms', 'reconnects'); add('boot_ms', 'boots');
const histogram = Object.keys(hist).map(Number).sort((a, b) => a - b).map((s) => ({ second: s, ...hist[s] }));
const failures = {};
for (const s of stats) for (const [k, v] of Object.entries(s.failures)) failures[k] = (failures[k] || 0) + v;
const examples = Object.assign({}, ...stats.map((s) => s.failure_examples));
const attempts = all('attempt_ms').sort((a, b) => a - b);
const q = (xs, p) => (xs.length ? (xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] - restart) / 1000 : null);
const metrics = fs.readFileSync(dir + '/storm-' + kind + '.metrics', 'utf8');
const refusedByServer = {};
for (const m of metrics.matchAll(/^ocpp_security_events_total\{type="([A-Z_]+)"\} (\S+)/gm)) refusedByServer[m[1]] = +m[2];
const conn = metrics.match(/^ocpp_connections (\S+)/m);
const lastBoot = booted.every((b) => b != null) ? Math.max(...booted) : null;
console.log(JSON.stringify({
  kind, requested: $COUNT, connected: $ready, failed_to_connect: $failed, first_connect_retries: $retries,
  stations_marked: $marked,
  killed_at_ms: $t_kill - $t0, restarted_at_ms: restart, complete: $complete,
  all_booted_after_restart_s: lastBoot == null ? null : (lastBoot - restart) / 1000,
  booted_again: stats.reduce((a, s) => a + s.booted_since_mark, 0),
  gave_up: stats.reduce((a, s) => a + s.final_closes, 0),
  boot_errors: stats.reduce((a, s) => a + s.boot_errors, 0),
  max_attempt: Math.max(...stats.map((s) => s.max_attempt)),
  attempts: attempts.length, failed_attempts: failures, failure_examples: examples,
  refused_http_503: failures.http_503 || 0, refused_http_429: failures.http_429 || 0,
  server_security_events: refusedByServer, server_connections_after: conn ? +conn[1] : null,
  peak_reconnects_per_s: Math.max(0, ...histogram.map((h) => h.reconnects)),
  peak_attempts_per_s: Math.max(0, ...histogram.map((h) => h.attempts)),
  attempt_spread_s: { p10: q(attempts, 0.1), p50: q(attempts, 0.5), p90: q(attempts, 0.9), max: q(attempts, 1) },
  server_cpu_s: ($cpu1 - $cpu0) / $CLK_TCK, server_rss_peak_kb: $rss_peak, server_alive: $alive,
  histogram, busy_pct_before: $busy, load1_before: $load, idle_ok: $idle_ok === 1,
}));
EOF
  log "storm $kind: $(tail -1 "$RESULTS" | cut -c1-400)"
}

run_storm() {
  CONFIG_JSON+=$(printf ',"restart_delay_s":%s,"settle_s":%s,"storm_timeout_s":%s,"backoff":"%s","kinds":"%s"}' \
    "$RESTART_DELAY_S" "$SETTLE_S" "$STORM_TIMEOUT_S" "${BACKOFF_ARGS[*]:-library defaults}" "${KINDS[*]}")
  local kind
  for kind in "${KINDS[@]}"; do run_storm_kind "$kind"; done
}

# --- leak -------------------------------------------------------------------------------------
run_leak() {
  local kind="${KINDS[0]}" tag=L c
  CONFIG_JSON+=$(printf ',"cycles":%s,"calls":%s,"tolerance_pct":%s,"kind":"%s"}' "$CYCLES" "$CALLS" "$TOLERANCE_PCT" "$kind")
  begin_run "$kind" "$tag"
  local rss_start=$RSS0 fds0=$FDS0 busy=$BUSY load=$LOAD idle_ok=$IDLE_WAS_OK
  log "leak: $((CYCLES + 1)) cycles of $COUNT stations ($PROCS processes) against $kind; RSS at start ${rss_start} kB"
  local cycles_json=""
  for ((c = 0; c <= CYCLES; c++)); do
    local t_start=$SECONDS
    start_clients "$kind" "$tag" --boot --calls "$CALLS"
    wait_all READY 900 || die "leak: cycle $c: the stations did not connect within 900 s"
    local ready failed fds1 rss_conn
    ready=$(sum_field READY 2) failed=$(sum_field READY 3)
    ((failed == 0)) || log "WARNING: leak cycle $c: $failed of $COUNT stations failed: $(cat "$WORK"/L.p*.err)"
    fds1=$(wait_server_sockets $((fds0 + ready)))
    rss_conn=$(proc_rss_kb "$SERVER_PID")
    stop_clients
    local closed dropped i n=0
    closed=$(sum_field CLOSED 2) dropped=$(sum_field CLOSED 3)
    # Every station socket gone from the server, then a stable RSS.
    for ((i = 0; i < 600; i++)); do
      n=$(socket_fds "$SERVER_PID")
      ((n <= fds0)) && break
      sleep 0.1
    done
    ((n <= fds0)) || log "WARNING: leak cycle $c: the server still holds $((n - fds0)) sockets after 60 s"
    rss_stable
    local rss_after=$RSS_LAST
    kill -0 "$SERVER_PID" 2>/dev/null || die "leak: the server died in cycle $c: $(tail -5 "$SERVER_LOG")"
    local conns
    conns=$(metrics_of "$kind" | sed -n 's/^ocpp_connections \([0-9]*\)$/\1/p')
    log "leak cycle $c: $ready connected, $closed closed, RSS connected ${rss_conn} kB, after ${rss_after} kB (stable: $RSS_STABLE), $((SECONDS - t_start))s"
    cycles_json+="${cycles_json:+,}{\"cycle\":$c,\"connected\":$ready,\"failed\":$failed,\"closed\":$closed,\"dropped\":$dropped,\"server_sockets_added\":$((fds1 - fds0)),\"server_sockets_left\":$((n - fds0)),\"rss_connected_kb\":$rss_conn,\"rss_after_kb\":$rss_after,\"rss_stable\":$RSS_STABLE,\"metrics_connections\":${conns:-null},\"seconds\":$((SECONDS - t_start))}"
  done
  stop_server
  node -e '
    const [cycles, rssStart, tol, busy, load, idleOk, kind] = process.argv.slice(1);
    const cs = JSON.parse(cycles);
    const base = cs[0].rss_after_kb;
    for (const c of cs) c.vs_baseline_pct = 100 * (c.rss_after_kb - base) / base;
    // A leak shows as growth; RSS below the baseline (the allocator kept less) is no failure.
    const measured = cs.slice(1);
    const worst = Math.max(...measured.map((c) => c.vs_baseline_pct));
    console.log(JSON.stringify({ kind, rss_start_kb: +rssStart, baseline_kb: base, cycles: cs,
      max_growth_pct: measured.length ? worst : null, within_tolerance: measured.length ? worst <= +tol : null,
      busy_pct_before: +busy, load1_before: +load, idle_ok: idleOk === "1" }));' \
    "[$cycles_json]" "$rss_start" "$TOLERANCE_PCT" "$busy" "$load" "$idle_ok" "$kind" >>"$RESULTS"
}

log "scale $MODE: fd limit $(ulimit -n), server on $SERVER_HOST, ${PROCS} client processes"
"run_$MODE"

node - "$RESULTS" "$JSON" "$JSON_OUT" "$ENV_JSON" "$CONFIG_JSON" <<'EOF'
const fs = require('fs');
const [file, json, jsonOut, envJson, configJson] = process.argv.slice(2);
const runs = fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(JSON.parse);
const config = JSON.parse(configJson);
const out = { env: JSON.parse(envJson), config, runs };
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(out, null, 1) + '\n');
if (json === '1') { console.log(JSON.stringify(out)); process.exit(0); }
const f = (x, d) => (x == null ? '-' : Number(x).toFixed(d));
const e = out.env;
const table = (rows) => {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  for (const r of rows) console.log(r.map((c, i) => (i ? String(c).padStart(w[i]) : String(c).padEnd(w[i]))).join('  '));
};
console.log(`scale ${config.mode}: ${config.count} stations, ${config.procs} client processes, ${config.addresses} addresses, ${config.protocol}; ` +
  `${e.date}, ${e.host_cpus} CPUs, git ${e.git_head}${e.git_dirty ? '+' : ''}, ${e.build_type}`);
if (config.mode === 'held') {
  const r = runs[0];
  console.log(`Heartbeat every ${config.heartbeat_s} s, MeterValues every ${config.meter_s} s on ${100 * config.meter_share} %, hold ${f(r.hold_s, 0)} s, server ${r.kind}`);
  table([
    ['metric', 'value'],
    ['stations connected / failed', `${r.connected} / ${r.failed_to_connect}`],
    ['time to connect all (s)', r.connect_s],
    ['calls answered (per s)', `${Object.values(r.calls_ok).reduce((a, b) => a + b, 0)} (${f(r.calls_per_s, 0)})`],
    ['call errors', JSON.stringify(r.call_errors)],
    ['latency p50 / p90 (ms)', `${f(r.latency_ms.p50, 3)} / ${f(r.latency_ms.p90, 3)}`],
    ['latency p99 / p99.9 / max (ms)', `${f(r.latency_ms.p99, 3)} / ${f(r.latency_ms.p999, 3)} / ${f(r.latency_ms.max, 3)}`],
    ['p99 < 10 ms', r.p99_target_met ? 'yes' : 'NO'],
    ['server CPU % of one core: mean / max sample', `${f(r.server_cpu_pct.mean, 1)} / ${f(r.server_cpu_pct.max_sample, 1)}`],
    ['server RSS MB: before / connected', `${f(r.server_rss_kb.before / 1024, 1)} / ${f(r.server_rss_kb.connected / 1024, 1)}`],
    ['server RSS MB: hold min / max / end', `${f(r.server_rss_kb.hold_min / 1024, 1)} / ${f(r.server_rss_kb.hold_max / 1024, 1)} / ${f(r.server_rss_kb.end / 1024, 1)}`],
    ['server KB per connection', f(r.server_kb_per_connection, 2)],
    ['dropped during hold / open at end', `${r.dropped_during_hold} / ${r.open_at_end}`],
    ['server sockets added / at end', `${r.server_sockets_added} / ${r.server_sockets_at_end}`],
    ['machine idle before', r.idle_ok ? 'yes' : 'NO'],
  ]);
} else if (config.mode === 'storm') {
  console.log(`server killed (SIGKILL) and restarted after ${config.restart_delay_s} s; client backoff: ${config.backoff}`);
  const rows = [['metric', ...runs.map((r) => r.kind)]];
  const row = (name, g) => rows.push([name, ...runs.map(g)]);
  row('stations connected before', (r) => r.connected);
  row('first connects retried (refused)', (r) => r.first_connect_retries);
  row('restarted at (s after kill)', (r) => f((r.restarted_at_ms - r.killed_at_ms) / 1000, 2));
  row('all reconnected + booted (s after restart)', (r) => (r.complete ? f(r.all_booted_after_restart_s, 2) : 'NOT ALL'));
  row('booted again', (r) => `${r.booted_again}/${r.stations_marked}`);
  row('peak reconnects per s', (r) => r.peak_reconnects_per_s);
  row('attempts (most by one station)', (r) => `${r.attempts} (${r.max_attempt})`);
  row('attempts p10/p50/p90 (s after restart)', (r) => `${f(r.attempt_spread_s.p10, 1)}/${f(r.attempt_spread_s.p50, 1)}/${f(r.attempt_spread_s.p90, 1)}`);
  row('failed attempts by cause', (r) => Object.entries(r.failed_attempts).map(([k, v]) => `${k} ${v}`).join(', ') || '0');
  row('refused 503 / 429 (clients)', (r) => `${r.refused_http_503} / ${r.refused_http_429}`);
  row('refusals seen by the server', (r) => Object.entries(r.server_security_events).map(([k, v]) => `${k} ${v}`).join(', ') || (r.kind.startsWith('ours') ? '0' : '-'));
  row('gave up (final closes)', (r) => r.gave_up);
  row('server CPU s until all booted', (r) => f(r.server_cpu_s, 2));
  row('server RSS peak MB', (r) => f(r.server_rss_peak_kb / 1024, 1));
  row('machine idle before', (r) => (r.idle_ok ? 'yes' : 'NO'));
  table(rows);
  for (const r of runs) {
    console.log(`\n${r.kind}: per second after the restart (negative: before it)`);
    table([['second', 'attempts', 'failed', 'reconnects', 'boots'],
      ...r.histogram.map((h) => [h.second, h.attempts, h.failed, h.reconnects, h.boots])]);
  }
} else {
  const r = runs[0];
  console.log(`${config.cycles} cycles after one warm-up cycle; each: connect, boot, ${config.calls} Heartbeats, close; server ${r.kind}`);
  table([['cycle', 'connected', 'RSS connected MB', 'RSS after MB', 'vs baseline', 'sockets left'],
    ...r.cycles.map((c) => [c.cycle === 0 ? '0 (warm-up)' : c.cycle, c.connected, f(c.rss_connected_kb / 1024, 1),
      f(c.rss_after_kb / 1024, 2), c.cycle === 0 ? 'baseline' : `${c.vs_baseline_pct >= 0 ? '+' : ''}${f(c.vs_baseline_pct, 2)} %`, c.server_sockets_left])]);
  console.log(`RSS at start ${f(r.rss_start_kb / 1024, 2)} MB; largest growth over the baseline ${f(r.max_growth_pct, 2)} %: ` +
    `within ${config.tolerance_pct} %: ${r.within_tolerance == null ? '-' : r.within_tolerance ? 'yes' : 'NO'}; machine idle before: ${r.idle_ok ? 'yes' : 'NO'}`);
}
EOF
