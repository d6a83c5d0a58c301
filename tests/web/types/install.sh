#!/usr/bin/env bash
# Installs the pinned TypeScript compiler of the web.types_check test (package-lock.json, npm ci).
# Idempotent: skips while node_modules/.lockhash matches package.json + package-lock.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
want="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [[ -f node_modules/.lockhash && "$(cat node_modules/.lockhash)" == "$want" ]]; then
  exit 0
fi
echo "tests/web/types/install.sh: npm ci in $PWD" >&2
rm -f node_modules/.lockhash
npm ci --no-audit --no-fund --loglevel=error >&2
echo "$want" > node_modules/.lockhash
