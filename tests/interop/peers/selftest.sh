#!/usr/bin/env bash
# Proves the interop peer harness: a peer server of each library with a peer
# client of each library connected to it (4 combinations) for ocpp1.6,
# ocpp2.0.1 and ocpp2.1; calls both ways, CALLERRORs both ways, a timeout, a
# bad frame, Basic Auth and a clean close. Exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/install.sh"
exec node "$here/selftest.mjs"
