# Shared helpers for bench/compare.sh and bench/idle_memory.sh. Source it; do not run it.
# shellcheck shell=bash disable=SC2034

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_DIR/build/release}"
OCPP_BIN="$BUILD_DIR/apps/ocpp/ocpp"
IDLE_CLIENTS_BIN="$BUILD_DIR/bench/idle_clients"
TLS_BENCH_BIN="$BUILD_DIR/bench/tls_bench"
WSIO_SERVER="$BENCH_DIR/ocpp-ws-io-server.mjs"
WSIO_PKG="$REPO_DIR/tests/interop/peers/node_modules/ocpp-ws-io/package.json"
CLK_TCK="$(getconf CLK_TCK)"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }
# Sockets process $1 holds. find fails when a descriptor closes while it reads the directory (many
# do when thousands of stations leave); its count is still the one wanted, and under pipefail
# and set -e that failure would end the run without a word.
socket_fds() { { find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null || true; } | wc -l; }

# require_built BIN TARGET: this script builds nothing.
require_built() {
  [[ -x "$1" ]] || die "$1 not found. Build it first: ninja -C $BUILD_DIR $2"
}

require_wsio() {
  command -v node >/dev/null 2>&1 || die "node not found (needed for ocpp-ws-io)"
  [[ -f "$WSIO_PKG" ]] || die "ocpp-ws-io not installed. Run: bash $REPO_DIR/tests/interop/peers/install.sh"
}

# snapshot_bins DIR: copy the binaries (statically linked against libocpp) into DIR and use
# the copies, so a parallel rebuild of build/release cannot swap them between runs.
snapshot_bins() {
  local dir="$1"
  OCPP_BIN_BUILT=$(date -u -r "$OCPP_BIN" +%Y-%m-%dT%H:%M:%SZ)
  cp "$OCPP_BIN" "$dir/ocpp" && OCPP_BIN="$dir/ocpp"
  if [[ -x "$IDLE_CLIENTS_BIN" ]]; then cp "$IDLE_CLIENTS_BIN" "$dir/idle_clients" && IDLE_CLIENTS_BIN="$dir/idle_clients"; fi
  if [[ -x "$TLS_BENCH_BIN" ]]; then cp "$TLS_BENCH_BIN" "$dir/tls_bench" && TLS_BENCH_BIN="$dir/tls_bench"; fi
}

# --- machine idleness ------------------------------------------------------------------------

# Percentage of all CPUs busy (not idle/iowait) over $1 seconds, from /proc/stat.
cpu_busy_pct() {
  local secs="${1:-3}" a b
  a=$(head -1 /proc/stat)
  sleep "$secs"
  b=$(head -1 /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN {
    n = split(a, x, " "); split(b, y, " ");
    for (i = 2; i <= n; i++) { d = y[i] - x[i]; tot += d; if (i == 5 || i == 6) idle += d }
    printf "%.1f", (tot > 0 ? 100 * (tot - idle) / tot : 0) }'
}

loadavg1() { cut -d' ' -f1 /proc/loadavg; }

# wait_idle: wait (up to IDLE_WAIT seconds, default 300) until the machine is idle: CPU busy
# below IDLE_MAX_BUSY % (default 10) over a 3 s sample, checked twice in a row. Sets
# IDLE_BUSY_PCT / IDLE_LOAD to what was seen last and IDLE_OK=1/0. Never fails: a busy machine
# is recorded (and warned about) rather than aborting a long run.
IDLE_WAIT="${IDLE_WAIT:-300}"
IDLE_MAX_BUSY="${IDLE_MAX_BUSY:-10}"
wait_idle() {
  local deadline=$((SECONDS + IDLE_WAIT)) ok_in_a_row=0
  IDLE_OK=0
  while :; do
    IDLE_BUSY_PCT=$(cpu_busy_pct 3)
    IDLE_LOAD=$(loadavg1)
    if awk -v b="$IDLE_BUSY_PCT" -v m="$IDLE_MAX_BUSY" 'BEGIN { exit !(b < m) }'; then
      ok_in_a_row=$((ok_in_a_row + 1))
      if ((ok_in_a_row >= 2)); then IDLE_OK=1; return 0; fi
      continue
    fi
    ok_in_a_row=0
    if ((SECONDS >= deadline)); then
      log "WARNING: machine still busy after ${IDLE_WAIT}s (cpu ${IDLE_BUSY_PCT}% busy, load ${IDLE_LOAD}); measuring anyway"
      return 0
    fi
    log "machine busy (cpu ${IDLE_BUSY_PCT}% busy, load ${IDLE_LOAD}); waiting for it to go idle..."
    sleep 5
  done
}

# --- per-process accounting ------------------------------------------------------------------

# "<utime> <stime>" of pid $1 (all threads) in clock ticks.
proc_cpu_user_sys() {
  local stat rest
  stat=$(cat "/proc/$1/stat") || return 1
  rest=${stat##*) }
  awk '{ print $12, $13 }' <<<"$rest"
}

# VmRSS of pid $1 in kB.
proc_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# --- servers ---------------------------------------------------------------------------------

# start_server KIND LOGFILE [extra args...]: KIND is "ours", "ours-strict" (strict mode on) or
# "ocpp-ws-io"; with TLS_CERT_DIR set (a `tls_bench certs` directory) also "ours-tls" (security
# profile 2: `tls_bench serve`, our ocpp::Server with one TLS listener), "ours-tls-p3" (profile 3,
# no CN binding), "ours-bench-plain" (`tls_bench serve` without TLS, to compare with "ours") and
# "ocpp-ws-io-tls" (profile 2: node's https server). The TLS kinds serve the certificate
# $TLS_CERT_DIR/server-$TLS_KEY.pem (TLS_KEY: ecdsa, the default, or rsa). Listens on an
# ephemeral port of 127.0.0.1. Sets SERVER_PID and SERVER_PORT.
start_server() {
  local kind="$1" out="$2"
  shift 2
  : >"$out"
  case "$kind" in
    ours | ours-strict)
      [[ "$kind" == ours-strict ]] && set -- "$@" --strict
      "$OCPP_BIN" serve --host 127.0.0.1 --port 0 --quiet "$@" >"$out" 2>&1 </dev/null &
      ;;
    ocpp-ws-io)
      node "$WSIO_SERVER" --host 127.0.0.1 --port 0 "$@" >"$out" 2>&1 </dev/null &
      ;;
    ours-tls | ours-tls-p3 | ours-bench-plain)
      local profile=2 extra=()
      [[ "$kind" == ours-tls-p3 ]] && profile=3 extra=(--no-binding)
      [[ "$kind" == ours-bench-plain ]] && profile=0
      "$TLS_BENCH_BIN" serve --certs "$TLS_CERT_DIR" --key "${TLS_KEY:-ecdsa}" --profile "$profile" "${extra[@]}" \
        --host 127.0.0.1 --port 0 "$@" >"$out" 2>&1 </dev/null &
      ;;
    ocpp-ws-io-tls)
      node "$WSIO_SERVER" --host 127.0.0.1 --port 0 --tls-cert "$TLS_CERT_DIR/server-${TLS_KEY:-ecdsa}.pem" \
        --tls-key "$TLS_CERT_DIR/server-${TLS_KEY:-ecdsa}.key" "$@" >"$out" 2>&1 </dev/null &
      ;;
    *) die "unknown server kind $kind" ;;
  esac
  SERVER_PID=$!
  await_server_port "$kind" "$out"
}

# await_server_port KIND LOGFILE: wait until server SERVER_PID has written its port to LOGFILE
# (`ocpp serve`'s "listening on" line, or "LISTENING <port>" from the others); sets SERVER_PORT.
await_server_port() {
  local kind="$1" out="$2" i
  SERVER_PORT=""
  for ((i = 0; i < 400; i++)); do
    SERVER_PORT=$(sed -n -e 's/^ocpp serve: listening on [^ ]*:\([0-9]\+\) .*/\1/p' \
      -e 's/^LISTENING \([0-9]\+\)$/\1/p' "$out" | head -1)
    [[ -n "$SERVER_PORT" ]] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$out" >&2; die "$kind server exited during startup"; }
    sleep 0.025
  done
  cat "$out" >&2
  die "$kind server did not report its port within 10 s"
}

# stop_server: SIGTERM the server started by start_server, SIGKILL after 5 s.
stop_server() {
  [[ -n "${SERVER_PID:-}" ]] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill -0 "$SERVER_PID" 2>/dev/null && kill -KILL "$SERVER_PID" 2>/dev/null
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# One JSON line describing the machine and the versions measured.
env_json() {
  local wsio_ver node_ver cpu kernel
  wsio_ver=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$WSIO_PKG" 2>/dev/null | head -1)
  node_ver=$(node --version 2>/dev/null || echo none)
  cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -1)
  kernel=$(uname -r)
  local dirty=false
  [[ -n "$(git -C "$REPO_DIR" status --porcelain --untracked-files=no 2>/dev/null)" ]] && dirty=true
  local bin_time="${OCPP_BIN_BUILT:-unknown}"
  printf '{"date":"%s","host_cpus":%s,"cpu_model":"%s","kernel":"%s","node":"%s","ocpp_ws_io":"%s","git_head":"%s","git_dirty":%s,"ocpp_binary_built":"%s","build_type":"%s"}' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "${cpu//\"/}" "$kernel" "$node_ver" "$wsio_ver" \
    "$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)" "$dirty" "$bin_time" \
    "$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null)"
}
