#!/usr/bin/env bash
# Installs the pinned TypeScript compiler of the web.types_check test (package-lock.json, npm ci).
# Idempotent and safe to run concurrently (scripts/npm_ci.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "$here/../../../scripts/npm_ci.sh" "$here"
