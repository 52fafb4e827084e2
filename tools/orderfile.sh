#!/usr/bin/env bash
# tools/orderfile.sh [BUILD_DIR] — regenerates tools/oomkit.order: first the functions the
# daemon runs once it has started (its event loop at idle, the OOM path's rehearsal, real
# kills), in the order they first run; then the functions only its start-up runs (the command
# line, the configuration, setting up the loop), in the order they first run. The link
# (CMakeLists.txt, with lld) places them in that order at the start of the executable's text:
# the pages the daemon keeps resident after shedding its start-up code hold little else, and
# start-up itself faults in (and then sheds) a few hundred KiB of code instead of most of the
# executable (docs/daemon.md, "Memory of its own").
#
# How:
#   1. a training build in TRAIN_DIR (default build-orderfile): every function compiled with
#      -finstrument-functions reports to tools/orderfile_recorder.cpp, which records each one
#      entered, and whether it was entered once the daemon started shedding its start-up pages;
#   2. that `oomkit run --dry-run` on the embedded default configuration, IDLE_SECONDS (10);
#   3. bench/daemon_reaction.sh on that build, one run each of watermark and takeover-limit
#      mode (real kills: pidfd, process_mrelease, the kill's event). Needs root and a cgroup v1
#      memory controller; without them only the rehearsal stands for the kill path (a note says
#      so);
#   4. the C and C++ libraries' functions, which are not instrumented: BUILD_DIR's own `oomkit`
#      (default build) at idle under valgrind's callgrind twice, collecting inside
#      Daemon::settleMemory and EventLoop::run only, then everything from exec on (start-up's
#      are those the first run did not see). Valgrind 3.19 knows neither pidfd_open nor
#      epoll_pwait2 (its kill fails), hence the instrumented runs for the rest;
#   5. the names: the running daemon's (instrumented runs first, then callgrind's, then every
#      variant of each string function glibc picks per CPU, an IFUNC such as memchr:
#      __memchr_sse2, _avx2, _evex, ..., since valgrind's CPU is not the machine's, then the
#      few library functions only a kill calls), then start-up's (instrumented, then
#      callgrind's).
#
# Run it after changes to the daemon's loop or OOM path and commit the result: a stale list
# costs resident memory, never correctness (a name the link does not find is ignored).
# KEEP_LOGS=1 keeps the traces and logs.
set -euo pipefail

die() { echo "orderfile.sh: $*" >&2; exit 1; }

BUILD_DIR=${1:-build}
TRAIN_DIR=${TRAIN_DIR:-build-orderfile}
IDLE_SECONDS=${IDLE_SECONDS:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
SOURCE_DIR=$(dirname "$HERE")
OUT=$HERE/oomkit.order
[[ -x $BUILD_DIR/oomkit ]] || die "$BUILD_DIR/oomkit not found: build first (make build)"
command -v valgrind >/dev/null || die "valgrind not installed (apt-get install valgrind)"

WORK=$(mktemp -d /tmp/oomkit-orderfile.XXXXXX)
DAEMON_PID=""
cleanup() {
  [[ -n $DAEMON_PID ]] && kill -KILL "$DAEMON_PID" 2>/dev/null
  if [[ ${KEEP_LOGS:-0} == 1 ]]; then echo "orderfile.sh: logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Runs "$@" (an `oomkit run --dry-run` command line) for IDLE_SECONDS, then SIGTERM; it must exit 0.
run_idle() {
  "$@" --dry-run --event-log /dev/null --kmsg /dev/kmsg --state-dir "$WORK/state" \
    2>"$WORK/idle.err" >/dev/null &
  DAEMON_PID=$!
  sleep "$IDLE_SECONDS"
  kill -TERM "$DAEMON_PID"
  wait "$DAEMON_PID" || die "the idle daemon did not exit 0: $(cat "$WORK/idle.err")"
  DAEMON_PID=""
}

echo "orderfile.sh: training build in $TRAIN_DIR" >&2
cmake -S "$SOURCE_DIR" -B "$TRAIN_DIR" -DOOMKIT_ORDERFILE_TRAINING=ON -DOOMKIT_BUILD_BENCH=OFF \
  >"$WORK/cmake.log" || die "cmake failed: $(tail -n 20 "$WORK/cmake.log")"
cmake --build "$TRAIN_DIR" -j "$(nproc)" --target oomkit oomkit-testproc >"$WORK/build.log" 2>&1 ||
  die "the training build failed: $(tail -n 20 "$WORK/build.log")"

export OOMKIT_ORDERFILE_OUT=$WORK/trace
echo "orderfile.sh: the instrumented daemon at idle for ${IDLE_SECONDS} s" >&2
run_idle "$TRAIN_DIR/oomkit" run
if [[ $(id -u) -eq 0 ]] && grep -q memory /proc/self/cgroup; then
  echo "orderfile.sh: the instrumented daemon's kills (bench/daemon_reaction.sh)" >&2
  RUNS=1 MODES="watermark takeover-limit" RATES=512 KEEP_LOGS=${KEEP_LOGS:-0} \
    "$SOURCE_DIR/bench/daemon_reaction.sh" "$TRAIN_DIR" >"$WORK/kills.out" 2>&1 ||
    die "the kill runs failed: $(grep -v '^|' "$WORK/kills.out" | tail -n 8)"
else
  echo "orderfile.sh: note: not root or no memory cgroup: the kill path is profiled by its rehearsal only" >&2
fi
unset OOMKIT_ORDERFILE_OUT

echo "orderfile.sh: the library functions, under callgrind for ${IDLE_SECONDS} s" >&2
run_idle valgrind --tool=callgrind --log-file="$WORK/valgrind.%p.log" --demangle=no \
  --compress-strings=no --compress-pos=no --collect-atstart=no \
  --toggle-collect=_ZN6oomkit6daemon12_GLOBAL__N_16Daemon12settleMemoryEv \
  --toggle-collect=_ZN6oomkit6daemon9EventLoop3runEv \
  --callgrind-out-file="$WORK/callgrind.%p" "$BUILD_DIR/oomkit" run
echo "orderfile.sh: the library functions of start-up, under callgrind" >&2
IDLE_SECONDS=2 run_idle valgrind --tool=callgrind --log-file="$WORK/valgrind-start.%p.log" \
  --demangle=no --compress-strings=no --compress-pos=no \
  --callgrind-out-file="$WORK/startgrind.%p" "$BUILD_DIR/oomkit" run

# Offsets of the training executable's functions -> names.
nm --defined-only "$TRAIN_DIR/oomkit" | awk '$2 ~ /^[tTwW]$/ { print $1, $3 }' >"$WORK/train_symbols"
nm --defined-only "$BUILD_DIR/oomkit" | awk '{ print $3 }' | sort -u >"$WORK/symbols"
# The traced functions of one phase ("run" or "start"), each trace's in the order they were
# entered. Both sides of the join are 16 hex digits (nm's format; the recorder pads to match).
traced_in_phase() {
  for trace in "$WORK"/trace.*; do
    awk -v phase="$1" '$1 == phase { print $2, $3 }' "$trace" | sort -n |
      awk 'NR == FNR { name[$1] = $2; next } ($2 in name) { print name[$2] }' \
        "$WORK/train_symbols" -
  done 2>/dev/null || true
}
# The functions in callgrind profiles: "fn=" and "cfn=" name what ran; "'2" marks a recursion
# level, "0x..." no symbol.
profiled() {
  for profile in "$@"; do
    sed -n 's/^c\{0,1\}fn=//p' "$profile"
  done | sed "s/'[0-9]*\$//" | grep -v -e '^0x' -e '^(below main)'
}
traced_in_phase run >"$WORK/traced"
traced_in_phase start >"$WORK/traced_start"
[[ -s $WORK/traced ]] || die "no function was traced (see $WORK/idle.err)"
profiled "$WORK"/callgrind.* >"$WORK/profiled"
profiled "$WORK"/startgrind.* >"$WORK/profiled_start"
{
  cat "$WORK/traced" "$WORK/profiled"
  sed -n -E 's/^(__(mem|str|stp|wmem|wcs|raw)[a-z0-9]*)_(sse2|sse4|ssse3|avx|avx2|evex|avx512|erms).*$/\1_/p' \
    "$WORK/profiled" | sort -u | while read -r family; do grep "^$family" "$WORK/symbols" || true; done
  # The library calls of a kill, which no callgrind run sees (valgrind cannot pidfd_open, so
  # its daemon neither kills nor rehearses a kill): the pidfd handed to the release thread,
  # the victim record written and removed, the wait for the exit, the stand-in reaped.
  printf '%s\n' fcntl __fcntl __libc_fcntl64 rename unlink __unlink poll __poll syscall \
    waitpid __waitpid wait4 __wait4 | grep -x -F -f - "$WORK/symbols" || true
  # The release thread's loop: entered once, before the shed (so traced as start-up's), it
  # runs again at each kill.
  grep 'BackgroundReleaser' "$WORK/symbols" || true
} | awk '!seen[$0]++' >"$WORK/running"
cat "$WORK/running" "$WORK/traced_start" "$WORK/profiled_start" | awk '!seen[$0]++' >"$OUT"
echo "orderfile.sh: $(wc -l <"$OUT") functions written to $OUT: $(wc -l <"$WORK/running") the" \
  "running daemon's ($(sort -u "$WORK/traced" | wc -l) traced), then start-up's" >&2
