# Sourced by the CLI tests after setting $ocpp: a temporary $dir, removed on exit with every server
# started through start_server.
dir=$(mktemp -d)
servers=()
trap 'for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$dir"' EXIT

# start_server NAME ARGS...: runs `ocpp serve` on a free port; sets $port once it listens.
start_server() {
  local name=$1
  shift
  "$ocpp" serve --port 0 --host 127.0.0.1 --quiet "$@" >"$dir/$name.out" 2>"$dir/$name.err" &
  servers+=($!)
  port=
  for _ in $(seq 100); do
    port=$(grep -o '127.0.0.1:[0-9]*' "$dir/$name.out" | cut -d: -f2 || true)
    [[ -n "$port" ]] && return 0
    kill -0 "${servers[-1]}" || { echo "serve $name exited"; cat "$dir/$name.err"; exit 1; }
    sleep 0.1
  done
  echo "serve $name did not report its port"
  exit 1
}
