#!/usr/bin/env bash
# ctest web.types_check: `tsc --noEmit --strict` over usage.ts, which uses web/ocpp.d.ts and
# web/ocpp-actions.d.ts correctly and marks misuses with @ts-expect-error (an unused one is an error).
# `check.sh --broken` is the test's own test (web.types_check_catches_broken_declaration): on a copy of
# the declarations with BootNotification's required `chargingStation` made optional, tsc must fail.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
tsc="$here/node_modules/typescript/bin/tsc"
if [[ ! -f "$tsc" ]]; then
  echo "check.sh: TypeScript is not installed in $here: run scripts/setup.sh (or bash tests/web/types/install.sh)" >&2
  exit 1
fi

if [[ "${1:-}" != "--broken" ]]; then
  exec node "$tsc" -p "$here/tsconfig.json"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/web" "$tmp/tests/web/types"
cp "$root"/web/ocpp.d.ts "$root"/web/ocpp-actions.d.ts "$tmp/web/"
cp "$here/usage.ts" "$here/tsconfig.json" "$tmp/tests/web/types/"
# Make V201.BootNotificationRequest.chargingStation optional (first match after the V201 namespace).
awk 'BEGIN{ns=0; done=0} /^export namespace V201 /{ns=1}
     ns && !done && /^  export interface BootNotificationRequest /{inb=1}
     inb && /chargingStation: /{sub(/chargingStation: /, "chargingStation?: "); inb=0; done=1}
     {print} END{if(!done) exit 3}' "$root/web/ocpp-actions.d.ts" > "$tmp/web/ocpp-actions.d.ts" ||
  { echo "check.sh --broken: could not find V201 BootNotificationRequest.chargingStation to break" >&2; exit 1; }
if node "$tsc" -p "$tmp/tests/web/types/tsconfig.json" > "$tmp/out.txt" 2>&1; then
  echo "check.sh --broken: tsc accepted usage.ts against a broken declaration" >&2
  exit 1
fi
if ! grep -q "Unused '@ts-expect-error' directive" "$tmp/out.txt"; then
  echo "check.sh --broken: tsc failed, but not on the expected unused @ts-expect-error:" >&2
  cat "$tmp/out.txt" >&2
  exit 1
fi
echo "check.sh --broken: tsc rejects the broken declaration as expected:"
cat "$tmp/out.txt"
