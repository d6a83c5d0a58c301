#!/usr/bin/env bash
# `npm ci` in DIR, exactly as pinned in its package-lock.json, quietly. Idempotent: skips while
# DIR/node_modules/.lockhash matches the hash of package.json + package-lock.json. Safe to run
# concurrently (flock on DIR).
set -euo pipefail

dir="$(cd "${1:?usage: npm_ci.sh DIR}" && pwd)"
cd "$dir"

for tool in node npm sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || { echo "npm_ci.sh: '$tool' not found" >&2; exit 1; }
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
  exec 9<"$dir"
  flock 9
  if up_to_date; then
    exit 0
  fi
fi

echo "npm_ci.sh: npm ci in $dir" >&2
rm -f node_modules/.lockhash
npm ci --no-audit --no-fund --loglevel=error >&2
echo "$want" > node_modules/.lockhash
