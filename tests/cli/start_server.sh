# Sourced by the CLI tests after setting $ocpp: a temporary $dir, removed on exit with every server
# started here.
dir=$(mktemp -d)
servers=()
trap 'for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$dir"' EXIT

# wait_for_port FILE [PATTERN]: sets $port from the first match of PATTERN (default 127.0.0.1:PORT)
# in FILE, the output of the last server started; the test ends if that server exits first.
wait_for_port() {
  port=
  for _ in $(seq 100); do
    port=$(grep -ao "${2:-127.0.0.1:[0-9]*}" "$1" | head -1 | cut -d: -f2 || true)
    [[ -n "$port" ]] && return 0
    kill -0 "${servers[-1]}" || { echo "server for $1 exited"; cat "$1" "${1%.out}.err"; exit 1; }
    sleep 0.1  # it writes its port when it listens; there is nothing to wait on before
  done
  echo "no port in $1"
  exit 1
}

# start_process NAME COMMAND...: runs a server that prints 127.0.0.1:PORT once it listens; sets $port.
start_process() {
  local name=$1
  shift
  "$@" >"$dir/$name.out" 2>"$dir/$name.err" &
  servers+=($!)
  wait_for_port "$dir/$name.out"
}

# start_server NAME ARGS...: `ocpp serve ARGS` on a free port; sets $port.
start_server() {
  local name=$1
  shift
  start_process "$name" "$ocpp" serve --port 0 --host 127.0.0.1 --quiet "$@"
}
