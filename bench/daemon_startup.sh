#!/usr/bin/env bash
# bench/daemon_startup.sh [BUILD_DIR] — the CPU time `oomkit run` takes to start, next to
# earlyoom's: the one-off part of bench/daemon_idle.sh's whole-run figure, measured on its own.
#
# RUNS times (default 20), alternating: starts `oomkit run --dry-run --event-log /dev/null
# --kmsg /dev/kmsg --state-dir TMP` (the embedded default), then `earlyoom --dryrun -r 0`;
# after SETTLE_SECONDS (default 0.3: both are asleep by then, each has sampled memory once or
# twice) sums the first field of /proc/PID/task/*/schedstat (ns on the CPU, every thread),
# then stops it with SIGTERM. Prints the mean, min and max per program. The figure includes
# the exec (and the shell's fork before it) for both alike.
# Needs the built `oomkit` and the Debian package earlyoom; no root.
set -euo pipefail

die() { echo "daemon_startup.sh: $*" >&2; exit 1; }

BUILD_DIR=${1:-build}
OOMKIT=$BUILD_DIR/oomkit
RUNS=${RUNS:-20}
SETTLE_SECONDS=${SETTLE_SECONDS:-0.3}
[[ -x $OOMKIT ]] || die "$OOMKIT not found: build first (make build)"
command -v earlyoom >/dev/null || die "earlyoom not installed (apt-get install earlyoom)"

STATE=$(mktemp -d /tmp/oomkit-startup.XXXXXX)
PID=""
cleanup() {
  [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$STATE"
}
trap cleanup EXIT

# Starts "$@", waits, sets CPU_NS to its CPU time in ns (all threads), stops it. Not in a
# subshell: PID is the parent's, so the exit trap stops a process left running.
cpu_after_start() {
  "$@" >/dev/null 2>&1 &
  PID=$!
  sleep "$SETTLE_SECONDS"
  [[ -d /proc/$PID ]] || die "$1 exited during start-up"
  CPU_NS=$(cat /proc/"$PID"/task/*/schedstat | awk '{ns += $1} END {print ns}')
  kill "$PID"
  wait "$PID" 2>/dev/null || true
  PID=""
}

declare -a OOMKIT_NS EARLYOOM_NS
for ((n = 0; n < RUNS; n++)); do
  cpu_after_start "$OOMKIT" run --dry-run --event-log /dev/null --kmsg /dev/kmsg \
    --state-dir "$STATE"
  OOMKIT_NS+=("$CPU_NS")
  cpu_after_start earlyoom --dryrun -r 0
  EARLYOOM_NS+=("$CPU_NS")
done

# Prints "mean min max" in ms of the ns figures given.
stats() {
  printf '%s\n' "$@" | awk '{s += $1; if (NR == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1}
    END {printf "%.2f %.2f %.2f\n", s / NR / 1e6, lo / 1e6, hi / 1e6}'
}

read -r O_MEAN O_MIN O_MAX < <(stats "${OOMKIT_NS[@]}")
read -r E_MEAN E_MIN E_MAX < <(stats "${EARLYOOM_NS[@]}")
echo "start-up CPU time: $RUNS runs each, ${SETTLE_SECONDS} s after the start, kernel $(uname -r)," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| program  | mean (ms) | min (ms) | max (ms) |"
echo "|----------|-----------|----------|----------|"
printf '| %-8s | %9s | %8s | %8s |\n' oomkit "$O_MEAN" "$O_MIN" "$O_MAX"
printf '| %-8s | %9s | %8s | %8s |\n' earlyoom "$E_MEAN" "$E_MIN" "$E_MAX"
echo
awk -v o="$O_MEAN" -v e="$E_MEAN" 'BEGIN {printf "oomkit takes %.2fx earlyoom'"'"'s start-up CPU time (%+.2f ms)\n", o / e, o - e}'
