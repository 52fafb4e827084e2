#!/usr/bin/env bash
# bench/run_benchmarks.sh BUILD_DIR — oomkit's scan cost next to earlyoom's, on real processes.
#
# `make bench` runs this as `./bench/run_benchmarks.sh build`. Needs root (it creates a memory
# cgroup), unshare(1) and the Debian package earlyoom. What it does, in one run
# (docs/benchmarks.md):
#   0. first, before any sleeper starts: oomkit_bench_trigger, a manual OOM kill of a 1 GiB
#      process in a memory cgroup of its own (1.5 GiB limit), with and without
#      process_mrelease: the time from the trigger to SIGKILL and to the memory being back
#      (it creates, and always removes, one cgroup per run; it signals only what it started);
#   1. creates the memory cgroup oomkit-bench-<pid> with a 4 GiB hard limit, and starts 1000
#      small sleepers (`sleep 900`) inside it, from shells that joined the cgroup first;
#   2. measures, side by side, with the machine's other processes as they are:
#        earlyoom --dryrun, with thresholds that make it choose a victim on every loop
#          (-m 99,99 -s 100,100: earlyoom refuses -m 100; available memory <= 99 % and free
#          swap <= 100 % hold on any machine that is not idle-empty, and with no swap the
#          swap condition always holds). Its CPU time per scan is the growth of
#          /proc/PID/schedstat (ns on the CPU) from one scan's end to the next's.
#        oomkit_scan_cost --mode M for the six library scans of bench/scan_pipelines.h:
#          victim (VictimFinder kAdaptive, steady state), victim-prefilter, victim-plain,
#          rank-exact (full exact ranking), rank (`oomkit rank`), rank-json (`rank --json`);
#        oomkit_scan_cost --mode check: every mode's victim against the full exact ranking's;
#   3. runs the Google Benchmark micro-benchmarks (oomkit_bench) while the 1000 sleepers are up;
#   4. goes to 5000 sleepers, adds one 256 MiB process (oomkit_bench_hog, also in the cgroup)
#      and repeats step 2: a clear largest process, as in a real low-memory situation;
#   5. repeats step 2 with 5000 sleepers alone in a private pid namespace (the script runs
#      itself there as pid 1, in the cgroup, under unshare --pid --mount-proc): every process
#      is small, whatever else runs on the machine;
#   6. prints a summary table: the median CPU µs per scan of each, and its ratio to earlyoom's
#      (goals: victim <= 1.0x, full exact ranking <= 2.0x). It exits 1 if the check found a
#      mode whose victim differed from the full ranking's while the machine did not change.
# Before step 1 it also runs the daemon's benchmarks (docs/benchmarks.md, "Daemon: reaction and
# idle cost"): bench/daemon_reaction.sh BUILD_DIR (`oomkit run` against hogs growing at 0.5, 1
# and 2 GiB/s in 512 MiB memory cgroups of its own, watermark and takeover modes) and
# bench/daemon_idle.sh BUILD_DIR with IDLE_SECONDS=60 (`oomkit run --dry-run` next to
# `earlyoom --dryrun`). A failure there (a kernel kill, a dead bystander, no event) makes the
# script exit 1 at the end, after the other benchmarks have run.
# Everything it starts is stopped by pid on exit (also on failure or Ctrl-C), and the cgroup is
# removed. earlyoom never kills anything: it always runs with --dryrun, and is itself stopped by
# its pid.
#
# Environment (all optional):
#   OOMKIT_BENCH_COUNTS="1000 5000"   sleeper counts, ascending (with the hog on, the last one is
#                                     measured with the hog only)
#   OOMKIT_BENCH_ISOLATED=5000        sleepers of the private pid namespace case (0 = skip it)
#   OOMKIT_BENCH_DAEMON_RUNS=20       runs per mode and rate of bench/daemon_reaction.sh (0 = skip it)
#   OOMKIT_BENCH_IDLE_SECONDS=60      how long bench/daemon_idle.sh runs (0 = skip it)
#   OOMKIT_BENCH_EARLYOOM_SECONDS=6   how long earlyoom is measured at each count
#   OOMKIT_BENCH_SCAN_SECONDS=2       how long each oomkit mode scans per case (at least 20
#                                     victim scans, 6 ranking scans)
#   OOMKIT_BENCH_CHECK_ROUNDS=2       rounds of the victim cross-check per case (0 = skip it)
#   OOMKIT_BENCH_MIN_TIME=0.2         --benchmark_min_time of the micro-benchmarks (0 = skip them)
#   OOMKIT_BENCH_HOG_MIB=256          size of the extra "clear largest process" case (0 = skip it)
#   OOMKIT_BENCH_KEEP_LOGS=1          keep the raw logs (the directory is printed)
#   OOMKIT_BENCH_TRIGGER_RUNS=10      runs per mode of oomkit_bench_trigger (0 = skip it)
set -euo pipefail

readonly SLEEP_SECONDS=900  # a sleeper outlives the run, and not much more if we are SIGKILLed
readonly CGROUP_LIMIT=$((4 * 1024 * 1024 * 1024))

die() { echo "run_benchmarks.sh: $*" >&2; exit 1; }

[[ $# -eq 1 ]] || die "usage: $0 BUILD_DIR"
BUILD_DIR=$1
BENCH_BIN=$BUILD_DIR/bench/oomkit_bench
SCAN_BIN=$BUILD_DIR/bench/oomkit_scan_cost
COUNTS=${OOMKIT_BENCH_COUNTS:-"1000 5000"}
EARLYOOM_SECONDS=${OOMKIT_BENCH_EARLYOOM_SECONDS:-6}
SCAN_SECONDS=${OOMKIT_BENCH_SCAN_SECONDS:-2}
CHECK_ROUNDS=${OOMKIT_BENCH_CHECK_ROUNDS:-2}
MODES=(victim victim-prefilter victim-plain rank-exact rank rank-json)
MIN_TIME=${OOMKIT_BENCH_MIN_TIME:-0.2}
HOG_MIB=${OOMKIT_BENCH_HOG_MIB:-256}
ISOLATED=${OOMKIT_BENCH_ISOLATED:-5000}
DAEMON_RUNS=${OOMKIT_BENCH_DAEMON_RUNS:-20}
IDLE_SECONDS=${OOMKIT_BENCH_IDLE_SECONDS:-60}
BENCH_DIR=$(dirname "$0")
HOG_BIN=$BUILD_DIR/bench/oomkit_bench_hog
TRIGGER_BIN=$BUILD_DIR/bench/oomkit_bench_trigger
TRIGGER_RUNS=${OOMKIT_BENCH_TRIGGER_RUNS:-10}

[[ -x $SCAN_BIN ]] || die "$SCAN_BIN not found: build first (make build)"
[[ -x $BENCH_BIN ]] || die "$BENCH_BIN not found: build first (make build)"
[[ -x $HOG_BIN ]] || die "$HOG_BIN not found: build first (make build)"
((TRIGGER_RUNS == 0)) || [[ -x $TRIGGER_BIN ]] ||
  die "$TRIGGER_BIN not found: build first (make build; it needs OOMKIT_BUILD_TESTS=ON)"
command -v earlyoom >/dev/null || die "earlyoom not installed (apt-get install earlyoom)"
((ISOLATED == 0)) || command -v unshare >/dev/null || die "unshare (util-linux) not found"
[[ $(id -u) -eq 0 ]] || die "needs root: it creates a memory cgroup for the sleepers"

# Set when the script runs itself as pid 1 of a private pid namespace (the isolated case).
INNER=${OOMKIT_BENCH_INNER:-}

# --- where the sleepers live ------------------------------------------------------------
if [[ -n $INNER ]]; then
  CG=$OOMKIT_BENCH_CG
elif [[ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]]; then
  CG=/sys/fs/cgroup/memory/oomkit-bench-$$
  CG_LIMIT_FILE=memory.limit_in_bytes
elif grep -qw memory /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
  CG=/sys/fs/cgroup/oomkit-bench-$$
  CG_LIMIT_FILE=memory.max
else
  die "no memory cgroup controller (v1 /sys/fs/cgroup/memory or v2 with memory enabled)"
fi

# --- room for the processes ----------------------------------------------------------------
max_count=0
for n in $COUNTS; do ((n > max_count)) && max_count=$n; done
max_count=$((max_count + ISOLATED))  # the isolated case starts its own
pid_max=$(</proc/sys/kernel/pid_max)
threads_max=$(</proc/sys/kernel/threads-max)
read -r _ _ _ running_total _ </proc/loadavg
tasks_now=${running_total#*/}
room=$((pid_max < threads_max ? pid_max : threads_max))
((tasks_now + max_count + 2000 < room)) ||
  die "not enough room: $tasks_now tasks + $max_count sleepers + 2000 spare >= $room (pid_max $pid_max, threads-max $threads_max)"

if [[ -n $INNER ]]; then WORK=$OOMKIT_BENCH_WORK; else WORK=$(mktemp -d /tmp/oomkit-bench.XXXXXX); fi
# A pipe nobody writes to: `read -t` on it sleeps without forking a sleep(1) per poll.
exec {SNOOZE_FD}<> <(:)
snooze() { read -r -t "$1" -u "$SNOOZE_FD" _ || true; }
EARLYOOM_PID=""
SPAWNERS=()

# Kills, by pid, every process in our cgroup except the spawners (only our spawners and their
# sleepers are in it), until none is left or `tries` rounds of 0.1 s have passed.
kill_sleepers() {
  local tries=$1 pid others
  for _ in $(seq 1 "$tries"); do
    others=()
    while read -r pid; do
      [[ " ${SPAWNERS[*]} " == *" $pid "* ]] || others+=("$pid")
    done <"$CG/cgroup.procs"
    ((${#others[@]} == 0)) && return 0
    kill -KILL "${others[@]}" 2>/dev/null || true
    snooze 0.1
  done
}

# Stops earlyoom, the sleepers and their spawners, then removes the cgroup. Runs on every exit.
cleanup() {
  local rc=$? pid i
  trap - EXIT INT TERM
  if [[ -n $EARLYOOM_PID ]]; then
    kill -TERM "$EARLYOOM_PID" 2>/dev/null || true
    wait "$EARLYOOM_PID" 2>/dev/null || true
    EARLYOOM_PID=""
  fi
  if [[ -d $CG ]]; then
    # A spawner still starting sleepers is stopped first, so that it starts no more.
    for i in "${!SPAWNERS[@]}"; do
      [[ -e $WORK/ready.$i ]] || kill -KILL "${SPAWNERS[$i]}" 2>/dev/null || true
    done
    kill_sleepers 100
    # Each spawner reaps its sleepers, then its `wait` returns and it exits.
    for pid in "${SPAWNERS[@]}"; do
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; snooze 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    done
    SPAWNERS=()
    kill_sleepers 50
    for _ in $(seq 1 50); do
      rmdir "$CG" 2>/dev/null && break
      snooze 0.1
    done
    [[ -d $CG ]] && echo "run_benchmarks.sh: could not remove $CG" >&2
  fi
  if [[ ${OOMKIT_BENCH_KEEP_LOGS:-0} == 1 ]]; then
    echo "raw logs kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
if [[ -z $INNER ]]; then
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  mkdir "$CG"
  echo "$CGROUP_LIMIT" >"$CG/$CG_LIMIT_FILE"
fi

sleepers() { local n; n=$(wc -l <"$CG/cgroup.procs"); echo $((n - ${#SPAWNERS[@]})); }
proc_count() { local entries=(/proc/[0-9]*); echo "${#entries[@]}"; }

# Starts `count` more sleepers, at most SPAWN_CHUNK per spawner so that the spawners run in
# parallel and bash's job table stays small. A spawner joins the cgroup, then forks its
# sleepers and waits, so that it reaps them when they are killed; it starts nothing if the
# join fails.
readonly SPAWN_CHUNK=500
spawn_sleepers() {
  local count=$1 chunk first=${#SPAWNERS[@]} i waited=0
  while ((count > 0)); do
    chunk=$((count < SPAWN_CHUNK ? count : SPAWN_CHUNK))
    count=$((count - chunk))
    bash -c 'echo $$ >"$1/cgroup.procs" || exit 1
             for ((i = 0; i < $2; i++)); do sleep '"$SLEEP_SECONDS"' & done
             : >"$3"
             wait' oomkit-bench-spawner "$CG" "$chunk" "$WORK/ready.${#SPAWNERS[@]}" \
      </dev/null >/dev/null 2>&1 &
    SPAWNERS+=($!)
  done
  for ((i = first; i < ${#SPAWNERS[@]}; i++)); do
    until [[ -e $WORK/ready.$i ]]; do
      kill -0 "${SPAWNERS[$i]}" 2>/dev/null || die "a sleeper spawner failed"
      snooze 0.05
      waited=$((waited + 1))
      ((waited < 2400)) || die "starting the sleepers took over 2 minutes"
    done
  done
}

# --- earlyoom ----------------------------------------------------------------------------
readonly DRYRUN_LINE='dryrun, not actually sending any signal'
LOG_FD=""
LOG_PENDING=""
NEW_SCANS=0

# Reads what earlyoom appended to its log since the last call (on LOG_FD, without forking) and
# sets NEW_SCANS to the number of scans that ended in it.
poll_log() {
  local line
  NEW_SCANS=0
  while IFS= read -r -u "$LOG_FD" line; do
    line=$LOG_PENDING$line
    LOG_PENDING=""
    [[ $line == "$DRYRUN_LINE"* ]] && NEW_SCANS=$((NEW_SCANS + 1))
  done
  LOG_PENDING+=$line  # a line not finished yet
}

# Waits until at least one more scan has ended (earlyoom then sleeps 100 ms before the next);
# sets NEW_SCANS.
wait_scan_end() {
  local waited=0
  while :; do
    poll_log
    ((NEW_SCANS > 0)) && return 0
    kill -0 "$EARLYOOM_PID" 2>/dev/null || die "earlyoom exited: $(tail -3 "$EO_LOG")"
    snooze 0.003
    waited=$((waited + 1))
    ((waited < 20000)) || die "earlyoom did not scan within a minute"
  done
}

cpu_ns_of() { local a; read -r a _ <"/proc/$1/schedstat"; echo "$a"; }

# Sets EO_SCANS, EO_SAMPLES (CPU µs of each scan, from one scan's end to the next's: the scan
# plus earlyoom's small per-loop work) and EO_PROCS (processes in /proc).
measure_earlyoom() {
  local t0 t1 p0 p1 end
  EO_LOG=$WORK/earlyoom.$1.log
  : >"$EO_LOG"  # exists before the first poll
  earlyoom --dryrun -m 99,99 -s 100,100 -r 0 </dev/null >"$EO_LOG" 2>&1 &
  EARLYOOM_PID=$!
  exec {LOG_FD}<"$EO_LOG"
  LOG_PENDING=""
  wait_scan_end
  grep -q '^dryrun mode enabled' "$EO_LOG" || die "earlyoom is not in dry-run mode: stopping"
  wait_scan_end  # skip the first loop (start-up, page faults)
  t0=$(cpu_ns_of "$EARLYOOM_PID") p0=$(proc_count)
  EO_SAMPLES=() EO_SCANS=0
  end=$(awk -v now="$EPOCHREALTIME" -v s="$EARLYOOM_SECONDS" 'BEGIN { printf "%.6f", now + s }')
  while :; do
    wait_scan_end
    read -r t1 _ <"/proc/$EARLYOOM_PID/schedstat"
    # A missed scan boundary gives one sample over NEW_SCANS scans.
    EO_SAMPLES+=($(((t1 - t0) / 1000 / NEW_SCANS)))
    EO_SCANS=$((EO_SCANS + NEW_SCANS)) t0=$t1
    [[ ${EPOCHREALTIME/./} -lt ${end/./} ]] || break
  done
  p1=$(proc_count)
  kill -TERM "$EARLYOOM_PID" 2>/dev/null || true
  wait "$EARLYOOM_PID" 2>/dev/null || true
  EARLYOOM_PID=""
  exec {LOG_FD}<&-
  EO_PROCS=$(((p0 + p1) / 2))
}

field() { grep -o "\\b$1=[^ ]*" <<<"$2" | cut -d= -f2; }
calc() { awk "BEGIN { printf \"%.1f\", $* }"; }
# The median over pairs of consecutive values (each pair's mean), as oomkit_scan_cost does.
pair_median() {
  printf '%s\n' "$@" | awk '
    { v[n++] = $1 }
    END {
      for (i = 0; i + 1 < n; i += 2) print (v[i] + v[i + 1]) / 2
      if (n == 1) print v[0]
    }' | sort -g | awk '
    { p[m++] = $1 }
    END { printf "%.1f", m % 2 ? p[(m - 1) / 2] : (p[m / 2 - 1] + p[m / 2]) / 2 }'
}

# Measures earlyoom and every oomkit_scan_cost mode with the processes now running, runs the
# cross-check, and stores the results under the case name `case` (e.g. "5000", "5000+hog").
measure_case() {
  local case=$1 mode line rc eo_median min
  LOAD[$case]=$(cut -d' ' -f1 /proc/loadavg)
  measure_earlyoom "$case"
  ((EO_SCANS > 0)) || die "earlyoom made no scan"
  eo_median=$(pair_median "${EO_SAMPLES[@]}")
  echo "earlyoom --dryrun: $EO_SCANS scans over $EO_PROCS processes: CPU median $eo_median us/scan" \
       "($(calc "$eo_median / $EO_PROCS") us/process), samples: ${EO_SAMPLES[*]}"
  RESULT[$case,earlyoom]="$eo_median $EO_PROCS"
  for mode in "${MODES[@]}"; do
    # At least 20 victim scans: the adaptive finder alternates between two costs when every
    # process shares the top oom_score, and each victim scan is short.
    [[ $mode == victim* ]] && min=20 || min=6
    line=$("$SCAN_BIN" --mode "$mode" --iterations "$min" --seconds "$SCAN_SECONDS")
    echo "$line"
    RESULT[$case,$mode]="$(field cpu_us_median "$line") $(field processes_per_scan "$line") $(field status_reads_per_scan "$line")"
  done
  if ((CHECK_ROUNDS > 0)); then
    rc=0
    line=$("$SCAN_BIN" --mode check --iterations "$CHECK_ROUNDS") || rc=$?
    echo "$line"
    ((rc == 0 || rc == 3)) || die "oomkit_scan_cost --mode check failed"
    CHECK[$case]="$(field agreed "$line") agreed, $(field unsettled "$line") unsettled, $(field mismatched "$line") mismatched"
    ((rc == 0)) || MISMATCHED=1
  fi
  CASES+=("$case")
}

# Three repetitions of each; the per-process table uses their median.
run_micro_benchmarks() {
  echo "== micro-benchmarks (oomkit_bench, $(proc_count) processes in /proc; medians of 3 runs)"
  "$BENCH_BIN" --benchmark_filter='^(File|Raw|Snapshot|Scan|Parse|Rank|Select|Ties)/' \
    --benchmark_min_time="$MIN_TIME" --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true --benchmark_out="$WORK/micro.json" \
    --benchmark_out_format=json 2>&1 |
    grep -v -e '^\*\*\*WARNING\*\*\* Library was built as DEBUG' -e '_mean ' -e '_stddev ' -e '_cv ' || true
  echo
  echo "per process (median CPU time / processes):"
  awk -F': ' '
    /"name":/ { gsub(/[",]/, "", $2); name = $2 }
    /"items_per_second":/ { gsub(/,/, "", $2)
      if (name ~ /^(File|Raw|Snapshot|Scan)\// && sub(/_median$/, "", name))
        printf "  %-36s %8.2f us\n", name, 1e6 / $2 }
  ' "$WORK/micro.json"
  echo
}

declare -A RESULT LOAD CHECK
CASES=()
MISMATCHED=0

# --- inside the private pid namespace: only what this script starts is in /proc -----------
if [[ -n $INNER ]]; then
  spawn_sleepers "$ISOLATED"
  echo "== N=$ISOLATED sleepers alone in a private pid namespace ($(proc_count) processes in" \
       "its /proc; load average $(cut -d' ' -f1-3 /proc/loadavg))"
  measure_case "$INNER"
  {
    for key in "${!RESULT[@]}"; do echo "RESULT $key ${RESULT[$key]}"; done
    echo "LOAD $INNER ${LOAD[$INNER]}"
    [[ -z ${CHECK[$INNER]:-} ]] || echo "CHECK $INNER ${CHECK[$INNER]}"
    echo "MISMATCHED $MISMATCHED"
  } >"$WORK/results"
  exit 0  # as pid 1: the kernel then kills everything left in the namespace
fi

# --- the run ----------------------------------------------------------------------------
echo "oomkit benchmarks: $(nproc) CPUs, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cgroup $CG (limit $((CGROUP_LIMIT >> 20)) MiB); earlyoom: $(earlyoom -v 2>&1 | head -1)"
echo

# A manual OOM kill, on the machine as it is (before the sleepers: its kill plan compares the
# victim's mm with every process's).
if ((TRIGGER_RUNS > 0)); then
  echo "== manual OOM on a cgroup holding a 1 GiB victim (oomkit_bench_trigger --runs $TRIGGER_RUNS)"
  "$TRIGGER_BIN" --runs "$TRIGGER_RUNS" || die "oomkit_bench_trigger failed"
  echo
fi

# The daemon (`oomkit run`), before any sleeper starts: its reaction to hogs in memory cgroups of
# its own, then its idle cost next to earlyoom's, on the machine as it is.
DAEMON_FAILED=0
if ((DAEMON_RUNS > 0)); then
  echo "== the daemon's reaction to a hog (bench/daemon_reaction.sh, $DAEMON_RUNS runs per mode and rate)"
  RUNS=$DAEMON_RUNS "$BENCH_DIR/daemon_reaction.sh" "$BUILD_DIR" || DAEMON_FAILED=1
  echo
fi
if ((IDLE_SECONDS > 0)); then
  echo "== the daemon's idle cost next to earlyoom's (bench/daemon_idle.sh, $IDLE_SECONDS s)"
  IDLE_SECONDS=$IDLE_SECONDS "$BENCH_DIR/daemon_idle.sh" "$BUILD_DIR" || DAEMON_FAILED=1
  echo
fi

started=0
for n in $COUNTS; do
  t_spawn=$(date +%s.%N)
  spawn_sleepers $((n - started))
  started=$n
  echo "== N=$n sleepers ($(sleepers) in the cgroup, $(proc_count) processes in /proc," \
       "started in $(calc "$(date +%s.%N) - $t_spawn") s; load average $(cut -d' ' -f1-3 /proc/loadavg))"
  # The last count is measured with the hog only (below): the time goes to the isolated case.
  if [[ $n == "${COUNTS##* }" && $n != "${COUNTS%% *}" ]] && ((HOG_MIB > 0)); then continue; fi
  measure_case "$n"
  echo
  if [[ $n == "${COUNTS%% *}" && $MIN_TIME != 0 ]]; then run_micro_benchmarks; fi
done

# The same with one clear largest process, as in a real low-memory situation (the sleepers
# alone all have about the same size, so every process shares the highest oom_score).
if ((HOG_MIB > 0)); then
  # Started like the sleepers: by a spawner in the cgroup that reaps it.
  hog_file=$WORK/ready.${#SPAWNERS[@]}
  bash -c 'echo $$ >"$1/cgroup.procs" || exit 1; "$2" "$3" & echo $! >"$4.tmp"
           mv "$4.tmp" "$4"; wait' oomkit-bench-hog "$CG" "$HOG_BIN" "$HOG_MIB" "$hog_file" \
    </dev/null >/dev/null 2>&1 &
  SPAWNERS+=($!)
  for _ in $(seq 1 100); do [[ -e $hog_file ]] && break; snooze 0.05; done
  HOG_PID=$(<"$hog_file")
  for _ in $(seq 1 100); do
    [[ $(awk '/^RssAnon:/ { print $2 }' "/proc/$HOG_PID/status" 2>/dev/null) -ge $((HOG_MIB * 1024)) ]] && break
    kill -0 "$HOG_PID" 2>/dev/null || die "the hog failed to start"
    snooze 0.1
  done
  echo "== N=$started sleepers + one ${HOG_MIB} MiB process (pid $HOG_PID, in the cgroup;" \
       "load average $(cut -d' ' -f1-3 /proc/loadavg))"
  measure_case "$started+hog"
  echo
fi

# Every process small: the sleepers alone, in a private pid namespace (unshare --mount-proc), so
# that other processes on the machine cannot stand out. The script runs itself there as pid 1,
# in our cgroup; earlyoom and oomkit_scan_cost see only that namespace's /proc.
if ((ISOLATED > 0)); then
  mkdir "$WORK/isolated"
  OOMKIT_BENCH_INNER="iso-$ISOLATED" OOMKIT_BENCH_CG=$CG OOMKIT_BENCH_WORK=$WORK/isolated \
    bash -c 'echo $$ >"$1/cgroup.procs" || exit 1
             exec unshare --pid --kill-child --mount-proc "$2" "$3"' \
    oomkit-bench-isolated "$CG" "$0" "$BUILD_DIR" </dev/null &
  SPAWNERS+=($!)  # no ready file: cleanup kills it (and with it the namespace) first
  wait "${SPAWNERS[-1]}" || die "the isolated case failed"
  while read -r kind key rest; do
    case $kind in
      RESULT) RESULT[$key]=$rest ;;
      LOAD) LOAD[$key]=$rest CASES+=("$key") ;;
      CHECK) CHECK[$key]=$rest ;;
      MISMATCHED) ((key == 0)) || MISMATCHED=1 ;;
    esac
  done <"$WORK/isolated/results"
  echo
fi

echo "== summary: median CPU us per scan (CLOCK_THREAD_CPUTIME_ID / schedstat), and its ratio to earlyoom's"
# "top": processes in the highest oom_score group (status reads of victim-prefilter per scan).
printf '%-9s %5s %6s %6s %9s' case load procs top earlyoom
for mode in "${MODES[@]}"; do printf ' %17s' "$mode"; done
printf '\n'
for case in "${CASES[@]}"; do
  read -r eo procs <<<"${RESULT[$case,earlyoom]}"
  read -r _ _ top <<<"${RESULT[$case,victim-prefilter]}"
  printf '%-9s %5s %6s %6.0f %9.0f' "$case" "${LOAD[$case]}" "$procs" "$top" "$eo"
  for mode in "${MODES[@]}"; do
    read -r us _ <<<"${RESULT[$case,$mode]}"
    awk -v us="$us" -v eo="$eo" 'BEGIN { printf " %9.0f (%4.2fx)", us, us / eo }'
  done
  printf '\n'
done
echo
for case in "${CASES[@]}"; do
  read -r eo _ <<<"${RESULT[$case,earlyoom]}"
  read -r victim _ <<<"${RESULT[$case,victim]}"
  read -r exact _ <<<"${RESULT[$case,rank-exact]}"
  awk -v c="$case" -v v="$victim" -v x="$exact" -v eo="$eo" -v check="${CHECK[$case]:-skipped}" 'BEGIN {
    printf "%-9s victim <= 1.0x: %-6s  full exact ranking <= 2.0x: %-6s  check: %s\n", c,
      v <= eo ? "met" : "MISSED", x <= 2 * eo ? "met" : "MISSED", check }'
done
if ((DAEMON_FAILED)); then
  echo "run_benchmarks.sh: bench/daemon_reaction.sh or bench/daemon_idle.sh failed (see above)" >&2
  exit 1
fi
if ((MISMATCHED)); then
  echo "run_benchmarks.sh: a mode chose another victim than the full exact ranking (see MISMATCH above)" >&2
  exit 1
fi
