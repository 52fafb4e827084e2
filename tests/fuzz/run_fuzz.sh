#!/usr/bin/env bash
# Builds the OOM report parser's libFuzzer target with clang and runs it for a bounded time
# on the committed seed corpus. Usage: run_fuzz.sh SOURCE_DIR BUILD_DIR SECONDS
# Exit status: libFuzzer's (non-zero on a crash, leak, timeout or out-of-memory input).
set -euo pipefail
src=$1 build=$2 seconds=$3
if ! command -v clang++ >/dev/null; then
  echo "run_fuzz.sh: clang++ is missing (make deps installs clang and libclang-rt-14-dev)" >&2
  exit 1
fi
cmake -S "$src" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DOOMKIT_FUZZ_ONLY=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target oom_report_fuzz -j "$(nproc)" >/dev/null
# New inputs go to a scratch corpus, never into the repository's seeds.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
set +e
# Failing inputs are kept in the build tree (the scratch corpus is not), and printed in the
# log as base64 so that a CI run that fails can be reproduced from its output alone:
#   base64 -d > crash && oom_report_fuzz crash
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
"$build/tests/fuzz/oom_report_fuzz" -max_total_time="$seconds" -max_len=20000 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -dict="$src/tests/fuzz/oom_report.dict" \
  -artifact_prefix="$artifacts/" "$scratch" "$src/tests/fuzz/corpus/oom_report" \
  >"$scratch/log" 2>&1
status=$?
set -e
# The invariant that failed, if one did, and the end of libFuzzer's report.
grep -m 5 'invariant failed' "$scratch/log" >&2 || true
tail -25 "$scratch/log"
if [ "$status" != 0 ]; then
  echo "fuzzing failed; the inputs are kept in $artifacts:" >&2
  for input in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-*; do
    [ -e "$input" ] || continue
    echo "== $input ($(wc -c <"$input") bytes), base64:" >&2
    base64 "$input" | head -c 40000 >&2
  done
fi
exit "$status"
