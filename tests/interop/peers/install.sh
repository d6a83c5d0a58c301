#!/usr/bin/env bash
# Installs the interop peers' npm dependencies (ocpp-ws-io, ocpp-rpc and the
# local voltlog-io stand-in) exactly as pinned in package-lock.json.
# Idempotent and safe to run concurrently (scripts/npm_ci.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "$here/../../../scripts/npm_ci.sh" "$here"
