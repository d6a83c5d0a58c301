#!/usr/bin/env bash
# The whole suite: sets up, then builds and runs every test twice: an optimised build, and a build
# with AddressSanitizer + UndefinedBehaviorSanitizer. `--fast` skips the sanitizer build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc)

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

run release
if [[ "${1:-}" != "--fast" ]]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run asan
fi
