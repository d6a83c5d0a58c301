#!/usr/bin/env bash
# Builds the libFuzzer targets (preset `fuzz`: clang, ASan + UBSan) and runs each in turn, from its
# seeds (fuzz/corpus/<target>) plus what earlier runs found (build/fuzz/corpus/<target>). Prints
# executions and coverage per target; fails on a crash, a hang, a leak or a sanitizer report, whose
# input is left in build/fuzz/artifacts/<target>/ (replay: build/fuzz/fuzz/fuzz_<target> <file>).
#   scripts/fuzz.sh                  20 s per target (what scripts/test.sh runs)
#   scripts/fuzz.sh --seconds 60     per target
#   scripts/fuzz.sh --minutes 30     a campaign: 30 minutes in all, shared by the targets
#   scripts/fuzz.sh frame url        only these targets
set -euo pipefail
cd "$(dirname "$0")/.."

targets_all=(frame json_text handshake url messages inflate wire_cases)
seconds=20
targets=()
while (($#)); do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --minutes) total=$(($2 * 60)); shift 2 ;;
    -*) echo "fuzz: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=("${targets_all[@]}")
[[ -n "${total:-}" ]] && seconds=$((total / ${#targets[@]}))

start=$SECONDS
echo "== fuzz: configure and build"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -- -j"$(nproc)" $(printf 'fuzz_%s ' "${targets[@]}")
echo "== fuzz: built in $((SECONDS - start)) s"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=()
for t in "${targets[@]}"; do
  corpus=build/fuzz/corpus/$t artifacts=build/fuzz/artifacts/$t log=build/fuzz/fuzz_$t.log
  mkdir -p "$corpus" "$artifacts"
  # -timeout: one input taking longer is a hang; -rss_limit_mb: a runaway allocation is a failure.
  status=0
  timeout $((seconds + 120)) build/fuzz/fuzz/fuzz_"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "fuzz/corpus/$t" >"$log" 2>&1 ||
    status=$?
  runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log")
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last") ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  printf '== fuzz: %-10s %10s execs in %ss  cov: %-6s ft: %-6s corpus: %s\n' "$t" "${runs:-?}" "$seconds" \
    "${cov:-?}" "${ft:-?}" "${corp:-?}"
  if ((status)) || [[ -z "$runs" ]]; then
    failed+=("$t")
    echo "== fuzz: $t FAILED (exit $status), log $log; the input is in $artifacts/:" >&2
    grep -E 'ERROR|SUMMARY|check failed|runtime error|Test unit written' "$log" >&2 || tail -20 "$log" >&2
  fi
done
echo "== fuzz: done in $((SECONDS - start)) s"
if ((${#failed[@]})); then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
