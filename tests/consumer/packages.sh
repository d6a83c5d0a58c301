#!/usr/bin/env bash
# The Debian packages (cmake/package.cmake): cpack builds libocpp-ws-io-dev and ocpp-ws-io-tools,
# lintian finds no error in them (its warnings are printed), their Depends name what they need, the
# man page renders, and the consumer builds and runs against their unpacked contents (run.sh).
# usage: packages.sh BUILD_DIR CXX_COMPILER VERSION
set -euo pipefail
build=$(realpath "$1")
cxx=$2
version=$3
src=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

(cd "$dir" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$dir/out" >"$dir/cpack.log" 2>&1) ||
  { cat "$dir/cpack.log"; exit 1; }
dev=$(echo "$dir"/out/libocpp-ws-io-dev_"$version"-*.deb)
tools=$(echo "$dir"/out/ocpp-ws-io-tools_"$version"-*.deb)
[[ -f $dev && -f $tools ]] || { echo "cpack made:"; ls "$dir/out"; exit 1; }
echo "built $(basename "$dev") and $(basename "$tools")"

# Warnings are printed, not failed on; lintian exits non-zero on an error tag or its own failure.
status=0
lintian --tag-display-limit 0 --fail-on error "$dev" "$tools" >"$dir/lintian.out" 2>&1 || status=$?
cat "$dir/lintian.out"
((status == 0)) && ! grep -q '^E: ' "$dir/lintian.out" || { echo "lintian: errors (exit $status)"; exit 1; }
echo "lintian: no errors"

depends() { dpkg-deb -f "$1" Depends; }
for needed in libboost-json1.81-dev libboost-system1.81-dev libssl-dev libhiredis-dev; do
  depends "$dev" | grep -qw "$needed" || { echo "libocpp-ws-io-dev does not depend on $needed: $(depends "$dev")"; exit 1; }
done
# dpkg-shlibdeps: the run-time libraries `ocpp` is linked with.
for needed in libc6 libboost-json1.81.0 libssl3; do
  depends "$tools" | grep -qw "$needed" || { echo "ocpp-ws-io-tools does not depend on $needed: $(depends "$tools")"; exit 1; }
done
echo "Depends: $(depends "$dev") | $(depends "$tools")"

root=$dir/root
dpkg-deb -x "$dev" "$root"
dpkg-deb -x "$tools" "$root"
page=$root/usr/share/man/man1/ocpp.1.gz
MANWIDTH=100 man -l "$page" >"$dir/man.txt" 2>"$dir/man.err" || { cat "$dir/man.err"; exit 1; }
for text in "ocpp serve" "ocpp simulate" "--web" "OCPP_WEB_DIR"; do
  grep -qF -- "$text" "$dir/man.txt" || { echo "the man page has no '$text'"; cat "$dir/man.txt"; exit 1; }
done
echo "man page renders ($(wc -l <"$dir/man.txt") lines)"

bash "$src/run.sh" --installed "$root/usr" "$cxx" "$version"
