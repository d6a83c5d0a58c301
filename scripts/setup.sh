#!/usr/bin/env bash
# Installs what the build, the demo and the tests need on Debian 12 (run as root). Idempotent:
# apt is only asked when a package is missing. `--no-peers` skips the npm interop peers; `--wasm`
# adds emscripten (about 800 MB, for the tests' WebAssembly build; the demo does without), and for
# the browser client's tests Debian's chromium with playwright-core (tests/web/install.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

peers=1
wasm=0
for arg in "$@"; do
  case "$arg" in
    --no-peers) peers=0 ;;
    --wasm) wasm=1 ;;
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done

packages=(cmake ninja-build g++ pkg-config python3
  libboost1.81-dev libboost-system1.81-dev libboost-json1.81-dev
  libssl-dev libcli11-dev libgtest-dev libbenchmark-dev rapidjson-dev libspdlog-dev
  libhiredis-dev redis-server  # the redis layer; its tests start their own servers, never on 6379
  clang libclang-rt-14-dev  # clang and libFuzzer: the fuzz targets (scripts/fuzz.sh)
  doxygen  # the API reference (target docs, ctest docs.no_warnings)
  help2man lintian dpkg-dev)  # ocpp's man page; the Debian packages' checks (install.packages)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
if ((wasm)); then packages+=(emscripten chromium); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# valijson, the reference validator of the differential test and the validation benchmark, is
# header-only, but Debian's package depends on Qt, Poco and four other JSON libraries. Its headers
# alone are unpacked into .deps/ instead.
if [[ ! -f .deps/valijson/usr/include/valijson/validator.hpp ]]; then
  echo "setup: unpacking libvalijson-dev headers into .deps/valijson"
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -q libvalijson-dev >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get download -q libvalijson-dev >/dev/null; })
  mkdir -p .deps/valijson
  dpkg -x "$tmp"/libvalijson-dev_*.deb .deps/valijson
  rm -rf "$tmp"
fi

if ((peers)); then
  bash tests/interop/peers/install.sh
fi
if ((wasm)); then
  bash tests/web/install.sh
fi

# The pinned TypeScript compiler of web.types_check (tests/web/types/package-lock.json).
bash tests/web/types/install.sh
