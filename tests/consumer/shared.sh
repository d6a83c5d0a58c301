#!/usr/bin/env bash
# A BUILD_SHARED_LIBS=ON build (preset `shared`, scripts/test.sh): libocpp-ws-io.so has its SONAME and
# exports the public API but not the internals, and the consumer builds and runs against its install.
# usage: shared.sh BUILD_DIR
set -euo pipefail
build=$(realpath "$1")
cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
cxx=$(cache CMAKE_CXX_COMPILER)
version=$(cache CMAKE_PROJECT_VERSION)
src=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

IFS=. read -r major minor _ <<<"$version"
soname=libocpp-ws-io.so.$major.$minor
((major > 0)) && soname=libocpp-ws-io.so.$major
lib=$build/libocpp-ws-io.so.$version
[[ -f $lib ]] || { echo "no $lib"; exit 1; }
readelf -d "$lib" | grep -qF "Library soname: [$soname]" || { echo "SONAME is not $soname"; readelf -d "$lib"; exit 1; }

nm -D -C --defined-only "$lib" | cut -d' ' -f3- >"$dir/exported"
# Public: declared in include/ocpp. Internal: declared only in src/, and Beast, which src/ hides.
for symbol in "ocpp::Client::create(" "ocpp::v16::validate_BootNotificationRequest(" "typeinfo for ocpp::RpcError"; do
  grep -qF "$symbol" "$dir/exported" || { echo "not exported: $symbol"; exit 1; }
done
# Each is defined in the layers' archives (so the .so holds it), but must not be exported from it.
nm -C --defined-only "$build"/src/*.a "$build"/src/messages/*.a 2>/dev/null | cut -d' ' -f3- >"$dir/defined"
for symbol in "ocpp::detail::RoutePattern::" "ocpp::detail::NetStream::" "boost::beast::websocket::stream<"; do
  grep -qF "$symbol" "$dir/defined" || { echo "not in the libraries at all: $symbol"; exit 1; }
  if grep -F "$symbol" "$dir/exported" | head -3 | grep .; then echo "exported, but internal: $symbol"; exit 1; fi
done
echo "$soname: $(wc -l <"$dir/exported") exported symbols, no internal ones"

bash "$src/run.sh" "$build" "$cxx" "$version"
