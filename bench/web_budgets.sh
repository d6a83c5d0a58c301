#!/usr/bin/env bash
# The browser client's budgets (README, "Browser client budgets") asserted: size, startup, parse +
# validation in the page, wasm heap. Figures: build/release/web-artifacts/budgets.json. Needs the
# wasm site and the release build (`bash scripts/test.sh --fast` makes both).
set -euo pipefail
cd "$(dirname "$0")/.."
OCPP_WEB_BUDGETS=assert exec node --test tests/web/budgets.test.mjs
