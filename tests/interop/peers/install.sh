#!/usr/bin/env bash
# Installs the interop peers' npm dependencies (ocpp-ws-io, ocpp-rpc and the
# local voltlog-io stand-in) exactly as pinned in package-lock.json.
# Idempotent: skips `npm ci` while node_modules/.lockhash matches the hash of
# package.json + package-lock.json. Safe to run concurrently (flock).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

for tool in node npm sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || { echo "install.sh: '$tool' not found" >&2; exit 1; }
done

want="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
up_to_date() {
  [[ -f node_modules/.lockhash && "$(cat node_modules/.lockhash)" == "$want" ]]
}

if up_to_date; then
  exit 0
fi

# Serialise concurrent installers on the directory itself.
if command -v flock >/dev/null 2>&1; then
  exec 9<"$here"
  flock 9
  if up_to_date; then
    exit 0
  fi
fi

echo "install.sh: npm ci in $here" >&2
rm -f node_modules/.lockhash
npm ci --no-audit --no-fund --loglevel=error >&2
echo "$want" > node_modules/.lockhash
