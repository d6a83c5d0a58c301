#!/usr/bin/env bash
# Routed calls through the cluster: bench/cluster_bench (two clustered ocpp::Servers in one
# process, each with its own I/O thread, stations on a third) on a redis-server this script starts
# on a free loopback port, after waiting for an idle machine. Routed latency at a fixed rate (open
# loop), routed throughput (closed loop), the same against local calls, an unknown station, Redis
# commands and redis-server CPU per call; Redis and the in-memory adapter. With --with-ocpp-ws-io,
# then (after another idle wait) bench/ocpp-ws-io-cluster.mjs against the same redis-server.
#
#   bench/cluster.sh [--json-out FILE] [--with-ocpp-ws-io] [--redis-args "ARGS"] [--sentinel | --redis-cluster]
#                    [cluster_bench options: --stations 100
#                    --rate 1000 --seconds 10 --in-flight 4 --unknown-seconds 3 --only redis,memory]
#
# --redis-args: more redis-server arguments, after the defaults (no persistence), e.g.
# "--appendonly yes --appendfsync always" for what durability costs. --sentinel: our nodes find
# that redis-server through a sentinel watching it (redis-sentinel:// URL). --redis-cluster: our
# nodes use a Redis Cluster of 3 masters (no replicas) started here instead, redis-server CPU and
# INFO commandstats summed over the three (not with --with-ocpp-ws-io). Prints the tables; --json-out FILE writes {env, idle, ours, ocpp_ws_io} (lib.sh's env_json).
# Builds nothing: needs build/release/bench/cluster_bench (ninja -C build/release cluster_bench),
# redis-server on PATH, and for --with-ocpp-ws-io node and tests/interop/peers/node_modules
# (bash tests/interop/peers/install.sh). Environment: IDLE_WAIT, IDLE_MAX_BUSY, BUILD_DIR.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

JSON_OUT="" PASS=() WSIO=0 WSIO_PASS=() REDIS_ARGS="" SENTINEL=0 CLUSTER=0
while (($#)); do
  case "$1" in
    --json-out) JSON_OUT="$2"; shift ;;
    --with-ocpp-ws-io) WSIO=1 ;;
    --redis-args) REDIS_ARGS="$2"; shift ;;
    --sentinel) SENTINEL=1 ;;
    --redis-cluster) CLUSTER=1 ;;
    --stations | --rate | --seconds | --in-flight | --unknown-seconds | --warmup-calls)
      PASS+=("$1" "$2") WSIO_PASS+=("$1" "$2"); shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) PASS+=("$1") ;;
  esac
  shift
done

BENCH_BIN="$BUILD_DIR/bench/cluster_bench"
require_built "$BENCH_BIN" cluster_bench
command -v redis-server >/dev/null 2>&1 || die "redis-server not found (scripts/setup.sh installs it)"
((WSIO)) && require_wsio
TMP=$(mktemp -d)
REDIS_PID="" SENTINEL_PID="" CLUSTER_PIDS=()
cleanup() {
  [[ -n "$SENTINEL_PID" ]] && kill "$SENTINEL_PID" 2>/dev/null && wait "$SENTINEL_PID" 2>/dev/null
  for pid in "${CLUSTER_PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  [[ -n "$REDIS_PID" ]] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
OCPP_BIN_BUILT=$(date -u -r "$BENCH_BIN" +%Y-%m-%dT%H:%M:%SZ)
cp "$BENCH_BIN" "$TMP/cluster_bench"

# One redis-server for both libraries: no persistence, on a port the kernel picks.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
REDIS_PORT=$(free_port)
# shellcheck disable=SC2086 # REDIS_ARGS is a list of arguments
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$TMP" --save "" --appendonly no --daemonize no $REDIS_ARGS \
  >"$TMP/redis.log" 2>&1 </dev/null &
REDIS_PID=$!
for ((i = 0; i < 200; i++)); do
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
  sleep 0.05
done
redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || { cat "$TMP/redis.log" >&2; die "redis-server did not start"; }
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
OURS_URL=$REDIS_URL
if ((SENTINEL)); then
  SENTINEL_PORT=$(free_port)
  printf 'sentinel monitor mm 127.0.0.1 %s 1\n' "$REDIS_PORT" >"$TMP/sentinel.conf"
  redis-server "$TMP/sentinel.conf" --sentinel --bind 127.0.0.1 --port "$SENTINEL_PORT" --dir "$TMP" \
    --logfile "$TMP/sentinel.log" --daemonize no </dev/null &
  SENTINEL_PID=$!
  for ((i = 0; i < 200; i++)); do
    [[ "$(redis-cli -p "$SENTINEL_PORT" sentinel get-master-addr-by-name mm 2>/dev/null | tail -1)" == "$REDIS_PORT" ]] && break
    sleep 0.05
  done
  OURS_URL="redis-sentinel://127.0.0.1:$SENTINEL_PORT/mm"
fi
REDIS_PIDS=$REDIS_PID
if ((CLUSTER)); then
  ((WSIO)) && die "--redis-cluster is for our nodes only"
  ADDRS=()
  for n in 1 2 3; do
    port=$(free_port) bus=$(free_port)
    mkdir -p "$TMP/node$n"
    # shellcheck disable=SC2086 # REDIS_ARGS is a list of arguments
    redis-server --bind 127.0.0.1 --port "$port" --cluster-enabled yes --cluster-port "$bus" \
      --cluster-config-file "$TMP/node$n/nodes.conf" --dir "$TMP/node$n" --save "" --appendonly no --daemonize no \
      $REDIS_ARGS >"$TMP/node$n.log" 2>&1 </dev/null &
    CLUSTER_PIDS+=($!)
    ADDRS+=("127.0.0.1:$port")
  done
  for addr in "${ADDRS[@]}"; do
    for ((i = 0; i < 200; i++)); do redis-cli -p "${addr#*:}" ping >/dev/null 2>&1 && break; sleep 0.05; done
  done
  redis-cli --cluster create "${ADDRS[@]}" --cluster-replicas 0 --cluster-yes >"$TMP/create.log" 2>&1 ||
    { cat "$TMP/create.log" >&2; die "the Redis Cluster did not form"; }
  for ((i = 0; i < 400; i++)); do
    ok=0
    for addr in "${ADDRS[@]}"; do
      redis-cli -p "${addr#*:}" cluster info 2>/dev/null | grep -q '^cluster_state:ok' && ok=$((ok + 1))
    done
    ((ok == 3)) && break
    sleep 0.05
  done
  ((ok == 3)) || die "the Redis Cluster is not ok"
  OURS_URL="redis-cluster://$(IFS=,; echo "${ADDRS[*]}")"
  REDIS_PIDS=$(IFS=,; echo "${CLUSTER_PIDS[*]}")
fi
REDIS_VERSION=$(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')

idle_json() { printf '{"idle_ok":%s,"busy_pct_before":%s,"load1_before":%s}' \
  "$([[ $IDLE_OK == 1 ]] && echo true || echo false)" "$IDLE_BUSY_PCT" "$IDLE_LOAD"; }
idle_line() { printf 'machine idle before the run: %s (cpu %s%% busy, load %s)\n' \
  "$([[ $IDLE_OK == 1 ]] && echo yes || echo NO)" "$IDLE_BUSY_PCT" "$IDLE_LOAD"; }

wait_idle
((IDLE_OK)) || log "WARNING: measuring on a busy machine (cpu ${IDLE_BUSY_PCT}% busy)"
OURS_IDLE=$(idle_json)
log "cluster_bench ${PASS[*]:-} ($OURS_URL: redis-server $REDIS_VERSION on port $REDIS_PORT${REDIS_ARGS:+, $REDIS_ARGS})"
"$TMP/cluster_bench" --redis "$OURS_URL" --redis-pid "$REDIS_PIDS" --json-out "$TMP/ours.json" "${PASS[@]}"
idle_line
THEIRS='null' THEIRS_IDLE='null'
if ((WSIO)); then
  wait_idle
  ((IDLE_OK)) || log "WARNING: measuring on a busy machine (cpu ${IDLE_BUSY_PCT}% busy)"
  THEIRS_IDLE=$(idle_json)
  log "ocpp-ws-io-cluster.mjs ${WSIO_PASS[*]:-}"
  node "$BENCH_DIR/ocpp-ws-io-cluster.mjs" --redis "$REDIS_URL" --redis-pid "$REDIS_PID" --json-out "$TMP/theirs.json" \
    "${WSIO_PASS[@]}"
  THEIRS=$(cat "$TMP/theirs.json")
  idle_line
fi

if [[ -n "$JSON_OUT" ]]; then
  printf '{"env":%s,"redis_server":"%s","idle":{"ours":%s,"ocpp_ws_io":%s},"ours":%s,"ocpp_ws_io":%s}\n' \
    "$(env_json)" "$REDIS_VERSION" "$OURS_IDLE" "$THEIRS_IDLE" "$(cat "$TMP/ours.json")" "$THEIRS" >"$JSON_OUT"
  log "wrote $JSON_OUT"
fi
