#!/usr/bin/env bash
# Installs what the build, the demo and the tests need on Debian 12 (run as root). Idempotent:
# apt is only asked when a package is missing. `--no-peers` skips the npm interop peers.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ pkg-config python3
  libboost1.81-dev libboost-system1.81-dev libboost-json1.81-dev
  libssl-dev libcli11-dev libgtest-dev libbenchmark-dev)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ "${1:-}" != "--no-peers" ]]; then
  bash tests/interop/peers/install.sh
fi
