#!/usr/bin/env bash
# Writes ocpp.1.gz: help2man's page from `ocpp --help` and `--version`, with a SUBCOMMANDS section
# holding each subcommand's own --help (help2man reads only the top level of a CLI11 program).
# usage: man_page.sh OCPP_EXECUTABLE OUT.1.gz
set -euo pipefail
exe=$(realpath "$1")
out=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# Run as plain `ocpp`, so the usage lines name the command and not the build tree's path.
ln -s "$exe" "$dir/ocpp"
export PATH="$dir:$PATH"

# The subcommands are the indented words under "Subcommands:".
subcommands=$(ocpp --help | sed -n '/^Subcommands:/,$p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
{
  echo "[SUBCOMMANDS]"
  for sub in $subcommands; do
    echo ".SS \"ocpp $sub\""
    echo ".nf"
    # roff: a backslash is \e, and a line starting with . or ' would be a request.
    ocpp "$sub" --help | sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"
    echo ".fi"
  done
  echo "[ENVIRONMENT]"
  echo ".TP"
  echo ".B OCPP_WEB_DIR"
  echo "The browser simulator's site for \\fBocpp serve \\-\\-web\\fR without a directory."
} >"$dir/include.h2m"

help2man --no-info --no-discard-stderr --section=1 \
  --name="OCPP-J tools: demo CSMS, charge point simulator, load generator, cluster client" \
  --include="$dir/include.h2m" --output="$dir/ocpp.1" ocpp
gzip -9n <"$dir/ocpp.1" >"$out"
