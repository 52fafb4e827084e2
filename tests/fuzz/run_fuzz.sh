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
"$build/tests/fuzz/oom_report_fuzz" -max_total_time="$seconds" -max_len=20000 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -dict="$src/tests/fuzz/oom_report.dict" \
  -artifact_prefix="$scratch/" "$scratch" "$src/tests/fuzz/corpus/oom_report" 2>&1 | tail -25
status=${PIPESTATUS[0]}
set -e
if [ "$status" != 0 ]; then
  echo "fuzzing failed; crashing inputs:" >&2
  ls -la "$scratch"/crash-* "$scratch"/leak-* "$scratch"/timeout-* 2>/dev/null >&2 || true
fi
exit "$status"
