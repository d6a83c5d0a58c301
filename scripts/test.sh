#!/usr/bin/env bash
# The whole suite: sets up, builds the IO-free libraries as WebAssembly and runs their smoke test
# under node, then builds and runs every test twice: an optimised build, and a build with
# AddressSanitizer + UndefinedBehaviorSanitizer; then the libFuzzer targets, 20 s each
# (scripts/fuzz.sh), and a 60 s random-frame campaign against the sanitized `ocpp serve`
# (tests/wire_fuzz.py). After the optimised build's tests, the shared library is built and checked
# (preset shared, tests/consumer/shared.sh). `--fast` skips the sanitizer build and both fuzzing stages.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --wasm
jobs=$(nproc)

# emscripten's build runs JS tools that need Debian's node modules (acorn); the wasm preset sets
# NODE_PATH for cmake. Bounded, so a stuck toolchain fails the suite instead of hanging it.
wasm() {
  local start=$SECONDS
  echo "== wasm: configure and build"
  cmake --preset wasm >/dev/null
  timeout 1800 cmake --build --preset wasm -- -j"$jobs"
  echo "== wasm: built in $((SECONDS - start)) s"
  timeout 60 node build/wasm/wasm/smoke.js
}

run() {
  local preset=$1 start=$SECONDS
  echo "== $preset: configure and build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -- -j"$jobs"
  echo "== $preset: built in $((SECONDS - start)) s"
  start=$SECONDS
  echo "== $preset: test"
  ctest --preset "$preset" -j"$jobs"
  echo "== $preset: tested in $((SECONDS - start)) s"
}

# BUILD_SHARED_LIBS=ON compiles every library again, so only they and the tool are built (preset
# shared): libocpp-ws-io.so's SONAME and exports, and the consumer against its install.
shared() {
  local start=$SECONDS
  echo "== shared: configure and build"
  cmake --preset shared >/dev/null
  cmake --build --preset shared -- -j"$jobs"
  timeout 300 bash tests/consumer/shared.sh build/shared
  echo "== shared: built and checked in $((SECONDS - start)) s"
}

wasm
run release
shared
if [[ "${1:-}" != "--fast" ]]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run asan
  start=$SECONDS
  echo "== wire fuzz: random frames against the sanitized ocpp serve"
  timeout 300 python3 tests/wire_fuzz.py build/asan/apps/ocpp/ocpp --seconds 60
  echo "== wire fuzz: done in $((SECONDS - start)) s"
  bash scripts/fuzz.sh --seconds 20
fi
