#!/usr/bin/env bash
# `ocpp serve --web [DIR]`: the site from DIR (or $OCPP_WEB_DIR) on the CSMS's own port, named in
# the ready line, next to WebSocket stations; a directory without index.html is bad usage (exit 2).
# usage: serve_web_test.sh path/to/ocpp
set -euo pipefail
ocpp=$1
dir=$(mktemp -d)
server=
trap '[[ -n "$server" ]] && { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }; rm -rf "$dir"' EXIT

mkdir "$dir/site" "$dir/empty"
echo '<!doctype html><title>simulator</title>' >"$dir/site/index.html"
printf '\0asm\1\0\0\0' >"$dir/site/ocpp-engine.wasm"

# serve NAME ARGS...: starts `ocpp serve` on a free port; sets $port and $ready once it listens.
serve() {
  local name=$1
  shift
  "$ocpp" serve --port 0 --host 127.0.0.1 --quiet "$@" >"$dir/$name.out" 2>"$dir/$name.err" &
  server=$!
  for _ in $(seq 100); do
    ready=$(grep -m1 '^ocpp serve: listening on' "$dir/$name.out" || true)
    port=$(grep -o -m1 '127.0.0.1:[0-9]*' <<<"$ready" | head -1 | cut -d: -f2 || true)
    [[ -n "$port" ]] && return 0
    kill -0 "$server" || { echo "serve $name exited"; cat "$dir/$name.err"; exit 1; }
    sleep 0.1
  done
  echo "serve $name did not report its port"
  exit 1
}
stop() { kill "$server"; wait "$server" || true; server=; }

serve web --web "$dir/site"
[[ "$ready" == *", web on http://127.0.0.1:$port/)" ]] || { echo "ready line without the web address: $ready"; exit 1; }
curl -sf "http://127.0.0.1:$port/" | grep -q '<title>simulator</title>' || { echo "GET / did not give index.html"; exit 1; }
type=$(curl -sf -o /dev/null -w '%{content_type}' "http://127.0.0.1:$port/ocpp-engine.wasm")
[[ "$type" == application/wasm ]] || { echo "wasm served as '$type'"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/missing.js")
[[ "$code" == 404 ]] || { echo "a missing file answered $code"; exit 1; }
"$ocpp" simulate --url "ws://127.0.0.1:$port" --quiet >"$dir/sim.out" 2>&1 ||
  { echo "a station could not boot next to the site"; cat "$dir/sim.out"; exit 1; }
stop
echo "--web DIR: index.html, the wasm type and 404 on the CSMS port; a station boots beside them"

OCPP_WEB_DIR="$dir/site" serve env --web
curl -sf "http://127.0.0.1:$port/" | grep -q '<title>simulator</title>' || { echo "--web ignored \$OCPP_WEB_DIR"; exit 1; }
stop

serve plain
[[ "$ready" != *"web on"* ]] || { echo "web on without --web: $ready"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")
[[ "$code" == 404 ]] || { echo "without --web GET / answered $code"; exit 1; }
stop
echo "--web without DIR takes \$OCPP_WEB_DIR; without --web nothing is served"

status=0
"$ocpp" serve --port 0 --host 127.0.0.1 --web "$dir/empty" >"$dir/usage.out" 2>&1 || status=$?
[[ $status == 2 ]] || { echo "--web without index.html: exit $status, not 2"; cat "$dir/usage.out"; exit 1; }
grep -q "no index.html in $dir/empty" "$dir/usage.out" || { echo "unclear usage error:"; cat "$dir/usage.out"; exit 1; }
status=0
OCPP_WEB_DIR="$dir/empty" "$ocpp" serve --port 0 --host 127.0.0.1 --web >"$dir/usage.out" 2>&1 || status=$?
[[ $status == 2 ]] || { echo "\$OCPP_WEB_DIR without index.html: exit $status, not 2"; cat "$dir/usage.out"; exit 1; }
echo "--web on a directory without index.html exits 2 and says why"
