#!/usr/bin/env bash
# bench/idle_floor.sh — what one idle wake-up costs on this machine, and whether it depends on
# the process's resident memory: a minimal loop (wake once a second, pread /proc/meminfo;
# bench/idle_floor/loop.c) with clock_nanosleep and with epoll_pwait2, each at its own size and
# with FAT_MIB (default 4) MiB more resident (bench/idle_floor/fat.c, LD_PRELOAD). CPU time by
# `perf stat -e task-clock` over CASE_SECONDS (default 30) per case. docs/benchmarks.md, "Idle".
# Needs gcc and perf; starts and stops only its own processes.
set -euo pipefail
SECONDS_PER_CASE=${CASE_SECONDS:-30}
FAT_MIB=${FAT_MIB:-4}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/oomkit-idle-floor.XXXXXX)
PID=""
cleanup() { [[ -z $PID ]] || kill "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
command -v perf >/dev/null || { echo "idle_floor.sh: perf not installed" >&2; exit 1; }
gcc -O2 -Wall -o "$WORK/loop" "$HERE/idle_floor/loop.c"
gcc -O2 -Wall -shared -fPIC -o "$WORK/fat.so" "$HERE/idle_floor/fat.c"
echo "idle floor: $(nproc) CPUs, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg), ${SECONDS_PER_CASE} s per case"
printf '| %-6s | %-9s | %-9s | %-16s | %-14s |\n' wait extra_MiB VmRSS_KiB "CPU ms per min" "us per wake-up"
for mode in sleep epoll; do
  for fat in 0 "$FAT_MIB"; do
    FAT_MIB=$fat LD_PRELOAD="$WORK/fat.so" "$WORK/loop" "$mode" &
    PID=$!
    sleep 1.5
    perf stat -e task-clock -p "$PID" -o "$WORK/stat" -- sleep "$SECONDS_PER_CASE" 2>/dev/null
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status")
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
    ms=$(awk '/task-clock/ { print $1 }' "$WORK/stat")
    awk -v m="$mode" -v f="$fat" -v r="$rss" -v ms="$ms" -v s="$SECONDS_PER_CASE" 'BEGIN {
      printf "| %-6s | %-9d | %-9d | %-16.2f | %-14.1f |\n", m, f, r, ms / s * 60, ms * 1000 / s }'
  done
done
