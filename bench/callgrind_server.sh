#!/usr/bin/env bash
# User-space instructions per call of our server, counted by valgrind's callgrind: repeatable to
# about 1 % for the same binary whatever else the machine does (only how many calls each wake-up
# batches varies), so it shows changes that CPU time (10 ms ticks, kernel noise) cannot.
#
#   bench/callgrind_server.sh [--calls 20000] [--clients 100] [--out FILE]
#
# Runs `ocpp serve --quiet` under callgrind, drives it with `ocpp bench` (sequential ocpp1.6
# Heartbeats), stops it and prints instructions per call (the whole process, start-up included,
# divided by the calls: start-up is ~1 % at 20,000 calls). Kernel work is not counted.
# Builds nothing: needs build/release/apps/ocpp/ocpp and valgrind.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CALLS=20000 CLIENTS=100 OUT=""
while (($#)); do
  case "$1" in
    --calls) CALLS="$2"; shift ;;
    --clients) CLIENTS="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
  shift
done
require_built "$OCPP_BIN" ocpp_cli
command -v valgrind >/dev/null || die "valgrind not found (apt-get install valgrind)"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
OUT=${OUT:-$WORK/callgrind.out}
valgrind --tool=callgrind --callgrind-out-file="$OUT" "$OCPP_BIN" serve --port 0 --quiet \
  >"$WORK/serve.out" 2>"$WORK/valgrind.err" &
VG=$!
PORT=""
for _ in $(seq 200); do
  PORT=$(grep -oE 'listening on [^ ]*:[0-9]+' "$WORK/serve.out" 2>/dev/null | grep -oE '[0-9]+$' | head -1 || true)
  [[ -n "$PORT" ]] && break
  sleep 0.1
done
[[ -n "$PORT" ]] || { kill "$VG"; die "ocpp serve under valgrind did not start: $(tail -3 "$WORK/valgrind.err")"; }
"$OCPP_BIN" bench --url "ws://127.0.0.1:$PORT" --clients "$CLIENTS" --calls "$CALLS" --protocol ocpp1.6 \
  --action Heartbeat | tail -1 >&2
kill -INT "$VG"
wait "$VG" || true
total=$(callgrind_annotate "$OUT" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
[[ -n "$total" ]] || die "no callgrind totals in $OUT"
awk -v t="$total" -v n="$CALLS" 'BEGIN { printf "%d instructions in user space per call (%d in all, %d calls)\n", t / n, t, n }'
