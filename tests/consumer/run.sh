#!/usr/bin/env bash
# Installs the build into a temporary prefix (or takes an installed tree: the unpacked Debian
# packages' usr/, see packages.sh), builds tests/consumer against it twice (CMake package, then
# pkg-config) and runs both against the installed `ocpp serve`.
# usage: run.sh BUILD_DIR CXX_COMPILER VERSION
#        run.sh --installed PREFIX CXX_COMPILER VERSION
set -euo pipefail
installed=0
if [[ $1 == --installed ]]; then installed=1; shift; fi
cxx=$2
version=$3
src=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
server=
trap '[[ -n "$server" ]] && { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }; rm -rf "$dir"' EXIT

if ((installed)); then
  prefix=$(realpath "$1")
else
  prefix=$dir/prefix
  cmake --install "$1" --prefix "$prefix" >"$dir/install.log"
fi
[[ "$("$prefix/bin/ocpp" --version)" == "$version" ]] || { echo "ocpp --version is not $version"; exit 1; }
# Installed, `serve --web` looks for the site beside the tool, never in the tree it was built in.
status=0
env -u OCPP_WEB_DIR "$prefix/bin/ocpp" serve --port 0 --host 127.0.0.1 --web >"$dir/web.out" 2>&1 || status=$?
grep -qF "no index.html in $prefix/share/ocpp-ws-io/web" "$dir/web.out" && [[ $status == 2 ]] ||
  { echo "installed serve --web without a site: exit $status"; cat "$dir/web.out"; exit 1; }
if find "$prefix/include" -type f ! -path "$prefix/include/ocpp/*.hpp" | grep .; then
  echo "installed headers outside include/ocpp/"; exit 1
fi

cmake -S "$src" -B "$dir/with-cmake" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix" \
  >"$dir/with-cmake.log" || { cat "$dir/with-cmake.log"; exit 1; }
cmake --build "$dir/with-cmake" >>"$dir/with-cmake.log" || { cat "$dir/with-cmake.log"; exit 1; }
pc_dir=$(dirname "$(find "$prefix" -name ocpp-ws-io.pc)")
# With BUILD_SHARED_LIBS=ON, the pkg-config build finds libocpp-ws-io.so at run time through this.
export LD_LIBRARY_PATH=$(dirname "$pc_dir")
PKG_CONFIG_PATH=$pc_dir cmake -S "$src" -B "$dir/with-pkg-config" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  -DOCPP_CONSUMER_PKG_CONFIG=ON >"$dir/with-pkg-config.log" || { cat "$dir/with-pkg-config.log"; exit 1; }
cmake --build "$dir/with-pkg-config" >>"$dir/with-pkg-config.log" || { cat "$dir/with-pkg-config.log"; exit 1; }
echo "consumer built with find_package and with pkg-config"

"$prefix/bin/ocpp" serve --port 0 --host 127.0.0.1 --quiet >"$dir/serve.out" 2>"$dir/serve.err" &
server=$!
port=
for _ in $(seq 100); do
  port=$(grep -o '127.0.0.1:[0-9]*' "$dir/serve.out" | cut -d: -f2 || true)
  [[ -n "$port" ]] && break
  kill -0 "$server" || { echo "ocpp serve exited"; cat "$dir/serve.err"; exit 1; }
  sleep 0.1
done
[[ -n "$port" ]] || { echo "ocpp serve did not report its port"; exit 1; }

# The demo CSMS calls GetConfiguration after the boot; the consumer closing first logs that call
# dropped, so only its own line is checked.
expected="ocpp-ws-io $version: BootNotification Accepted"
for variant in with-cmake with-pkg-config; do
  timeout 20 "$dir/$variant/consumer" "ws://127.0.0.1:$port" "CONSUMER-$variant" >"$dir/$variant.out" 2>&1 ||
    { echo "$variant: consumer failed"; cat "$dir/$variant.out"; exit 1; }
  grep -qxF "$expected" "$dir/$variant.out" || { echo "$variant: no '$expected'"; cat "$dir/$variant.out"; exit 1; }
  echo "$variant: $expected"
  # A shared install: the consumer runs on the installed library, not on a copy linked in.
  if [[ -e $LD_LIBRARY_PATH/libocpp-ws-io.so ]]; then
    ldd "$dir/$variant/consumer" >"$dir/$variant.ldd"
    grep -qF "$LD_LIBRARY_PATH/libocpp-ws-io.so." "$dir/$variant.ldd" ||
      { echo "$variant: not linked to the installed libocpp-ws-io.so"; cat "$dir/$variant.ldd"; exit 1; }
  fi
done
