#!/usr/bin/env bash
# Installs playwright-core, pinned in package-lock.json to the release built for Debian's chromium
# major (156: playwright-core 1.64.x); the tests drive /usr/bin/chromium, never a downloaded
# browser. Idempotent and safe to run concurrently (scripts/npm_ci.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "$here/../../scripts/npm_ci.sh" "$here"
