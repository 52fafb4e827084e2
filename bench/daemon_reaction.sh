#!/usr/bin/env bash
# bench/daemon_reaction.sh [BUILD_DIR] — how fast `oomkit run` stops a hog growing toward its
# memory cgroup's hard limit, and whether it always beats the kernel's OOM killer.
#
# For each mode and allocation rate (512, 1024, 2048 MiB/s), RUNS runs (default 20), round-robin
# (run n of every mode and rate, then run n+1: they all see the same machine). Modes:
#   watermark       the scope's watermarks min/low/high 10 % / 20 % / 25 % of the limit;
#   takeover        the same plus `takeover = true` (the daemon sets oom_kill_disable=1 and
#                   listens on the memcg OOM eventfd): whichever fires first;
#   takeover-limit  `takeover = true` with min/low/high 0 % / 1 % / 2 %: available memory never
#                   falls below 0, so only the kernel's memcg OOM (the limit hit, reclaim
#                   failed) can start the OOM path: the reaction from the limit being crossed.
# Every run:
#   1. creates a fresh cgroup v1 memory cgroup under this script's own, with a 512 MiB hard
#      limit (memory.limit_in_bytes and memory.memsw.limit_in_bytes);
#   2. starts `oomkit run --config CFG --state-dir DIR --kmsg ""` scoped to it, and waits for
#      "oomkit: running";
#   3. starts two 50 MiB bystanders and a hog (`oomkit-testproc --grow-mib 700 --grow-rate R`)
#      in the cgroup, all three by this script;
#   4. waits for the hog to die (or RUN_TIMEOUT s, then kills it itself and counts a miss),
#      reads the event log's "oom" event (timestamps trigger, decided, signalled, released,
#      exited), the cgroup's oom_kill count (a kernel kill) and peak usage (max_usage_in_bytes:
#      was the hard limit hit?), and whether the bystanders live;
#   5. stops the daemon with SIGTERM (it must exit 0), the bystanders with SIGKILL, and removes
#      the cgroup.
# A fresh daemon per run, because every run has a fresh cgroup (so oom_kill and
# max_usage start at 0 and no state of an earlier run carries over); the daemon's start-up is
# outside every measured interval.
#
# The takeover modes run only when the daemon says on standard error that it took the cgroup
# over (a line with "takeover" and no error in it), else they are skipped with a note.
#
# Prints one line per run and a table per (mode, rate): median / p90 (nearest rank) / max of
# trigger→decided, trigger→signalled, trigger→released (over the runs where process_mrelease()
# released the memory, not those where it found the victim already exiting), trigger→exited
# in ms; kernel kills, bystander deaths, runs that hit the hard limit, the detectors that
# fired, available memory when the watermark fired (min is 51.2 MiB), and the hog's mean growth
# rate up to the decision. Exit status 1 if any run had a kernel kill, a dead bystander, a
# missing event, a victim other than the hog, a hog that nobody killed, or a daemon that did
# not exit 0.
#
# Needs root, cgroup v1 with the memory controller, and the built `oomkit` and
# `tests/oomkit-testproc`. Everything it starts is stopped by pid on exit (also on error or
# Ctrl-C), and every cgroup it created is removed.
#
# Environment (all optional):
#   RUNS=20                   runs per (mode, rate)
#   MODES="watermark takeover takeover-limit"
#   RATES="512 1024 2048"     MiB/s
#   RUN_TIMEOUT=10            seconds to wait for the hog to die
#   MRELEASE=true|false       [scope.kill] process_mrelease (default: the daemon's, true)
#   HUGE=auto|1|0             the hog's memory in transparent huge pages (--grow-huge). auto
#                             (default): when THP is not "never". On a VM whose 4 KiB page
#                             faults are slow (this one's: ~250 MiB/s at most) the hog cannot
#                             reach 1 or 2 GiB/s otherwise; the last column says what it reached
#   KEEP_LOGS=1               keep the per-run logs and events (the directory is printed)
#   OOMKIT_WRAPPER="..."      a command the daemon runs under (tools/orderfile.sh profiles it
#                             with valgrind's callgrind; the figures are then meaningless)
set -euo pipefail

die() { echo "daemon_reaction.sh: $*" >&2; exit 1; }

BUILD_DIR=${1:-build}
OOMKIT=$BUILD_DIR/oomkit
TESTPROC=$BUILD_DIR/tests/oomkit-testproc
RUNS=${RUNS:-20}
MODES=${MODES:-"watermark takeover takeover-limit"}
RATES=${RATES:-"512 1024 2048"}
RUN_TIMEOUT=${RUN_TIMEOUT:-10}
MRELEASE=${MRELEASE:-}
HUGE=${HUGE:-auto}
if [[ $HUGE == auto ]]; then
  HUGE=0
  grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || HUGE=1
fi
[[ $HUGE == 0 || $HUGE == 1 ]] || die "HUGE must be auto, 1 or 0"
HOG_FLAGS=()
((HUGE)) && HOG_FLAGS=(--grow-huge)
[[ -z $MRELEASE || $MRELEASE == true || $MRELEASE == false ]] || die "MRELEASE must be true or false"
readonly LIMIT=$((512 * 1024 * 1024))
readonly HOG_MIB=700 BYSTANDER_MIB=50

[[ -x $OOMKIT ]] || die "$OOMKIT not found: build first (make build)"
[[ -x $TESTPROC ]] || die "$TESTPROC not found: build first (make build)"
[[ $(id -u) -eq 0 ]] || die "needs root: it creates memory cgroups"

# --- this process's memory cgroup (v1) and where it is mounted --------------------------
OWN_CG=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3; exit }' /proc/self/cgroup)
[[ -n $OWN_CG ]] || die "no cgroup v1 memory controller in /proc/self/cgroup"
# mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS... - FSTYPE SOURCE SUPEROPTS
read -r MOUNT_ROOT MOUNT_POINT < <(awk '{
    for (i = 7; $i != "-"; i++) {}
    if ($(i + 1) == "cgroup" && $(i + 3) ~ /(^|,)memory(,|$)/) { print $4, $5; exit }
  }' /proc/self/mountinfo)
[[ -n ${MOUNT_POINT:-} ]] || die "the cgroup v1 memory controller is not mounted"
[[ $MOUNT_ROOT == / || $OWN_CG == "$MOUNT_ROOT" || $OWN_CG == "$MOUNT_ROOT"/* ]] ||
  die "our memory cgroup $OWN_CG is outside the mount's root $MOUNT_ROOT"
fs_dir() {  # the directory of a cgroup path as /proc/PID/cgroup shows it
  local rel=$1
  [[ $MOUNT_ROOT == / ]] || rel=${rel#"$MOUNT_ROOT"}
  echo "$MOUNT_POINT${rel%/}"
}
OWN_DIR=$(fs_dir "$OWN_CG")
[[ -d $OWN_DIR ]] || die "$OWN_DIR (our memory cgroup) not found"

WORK=$(mktemp -d /tmp/oomkit-reaction.XXXXXX)
exec {SNOOZE_FD}<> <(:)  # `read -t` on a pipe nobody writes: a sleep without a fork
snooze() { read -r -t "$1" -u "$SNOOZE_FD" _ || true; }

CG_DIR=""         # the current run's cgroup directory
DAEMON_PID=""
CHILD_PIDS=()     # bystanders and hog of the current run

# Sets PSTATE to the process's state letter: 'Z' for a zombie (our children stay zombies until
# waited for), "" for a pid that is gone. Builtins only: no fork while polling.
proc_state() {
  local line=""
  PSTATE=""
  { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 0
  line=${line##*) }
  PSTATE=${line%% *}
}
alive() { proc_state "$1"; [[ -n $PSTATE && $PSTATE != Z ]]; }

# Kills (SIGKILL) and reaps the current run's bystanders and hog; stops the daemon (SIGTERM,
# then SIGKILL after 10 s); removes the cgroup. Everything by the pids this script started.
teardown_run() {
  local pid i
  for pid in "${CHILD_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${CHILD_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  CHILD_PIDS=()
  if [[ -n $DAEMON_PID ]]; then
    kill -TERM "$DAEMON_PID" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do alive "$DAEMON_PID" || break; snooze 0.1; done
    kill -KILL "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
    DAEMON_PID=""
  fi
  if [[ -n $CG_DIR && -d $CG_DIR ]]; then
    for ((i = 0; i < 50; i++)); do rmdir "$CG_DIR" 2>/dev/null && break; snooze 0.1; done
    [[ -d $CG_DIR ]] && echo "daemon_reaction.sh: could not remove $CG_DIR" >&2
  fi
  CG_DIR=""
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  teardown_run
  if [[ ${KEEP_LOGS:-0} == 1 ]]; then echo "logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Waits until FILE is non-empty (a --ready-fd file, a log line); 0 if it did within `tries`
# rounds of 0.05 s while pid stayed alive.
wait_nonempty() {
  local file=$1 pid=$2 tries=$3
  for ((; tries > 0; tries--)); do
    [[ -s $file ]] && return 0
    alive "$pid" || return 1
    snooze 0.05
  done
  return 1
}

# Starts oomkit-testproc in the cgroup and waits until it is ready; sets STARTED_PID.
start_testproc() {
  local ready=$1; shift
  "$TESTPROC" "$@" --cgroup-procs "$CG_DIR/cgroup.procs" --ready-fd 3 \
    3>"$ready" </dev/null >/dev/null 2>>"$WORK/testproc.err" &
  STARTED_PID=$!
  CHILD_PIDS+=("$STARTED_PID")
  wait_nonempty "$ready" "$STARTED_PID" 200 || die "oomkit-testproc $* did not start: $(tail -2 "$WORK/testproc.err")"
}

FAILED=0
TAKEOVER_NOTE=""

# JSON of the daemon's events, without a JSON tool: the event log is compact JSON written by
# nlohmann::json (no spaces, keys sorted). json_object TEXT KEY: the first flat object (or the
# first object of the array) under KEY; json_field TEXT KEY: the first scalar under KEY, unquoted
# ("null" when absent).
json_object() {
  local re="\"$2\":\\[?\\{([^{}]*)\\}"
  [[ $1 =~ $re ]] && echo "${BASH_REMATCH[1]}" || echo ""
}
json_field() {
  local re="\"$2\":(\"([^\"]*)\"|[-+0-9.eE]+|true|false|null)"
  if [[ $1 =~ $re ]]; then
    [[ -n ${BASH_REMATCH[2]} ]] && echo "${BASH_REMATCH[2]}" || echo "${BASH_REMATCH[1]}"
  else
    echo null
  fi
}

# One run; appends one result line to $WORK/results.
run_once() {
  local mode=$1 rate=$2 n=$3 dir name cfg log ev b1 b2 hog i st hog_status oom
  local peak kernel_kills deaths line daemon_rc available min victim hog_t0
  # Not the mode's name in the cgroup's: the takeover check greps the log.
  case $mode in watermark) name=w ;; takeover) name=t ;; takeover-limit) name=tl ;; esac
  name=oomkit-react-$$-$name-$rate-$n
  dir=$WORK/$mode-$rate-$n
  mkdir -p "$dir"
  CG_DIR=$OWN_DIR/$name
  mkdir "$CG_DIR"
  echo "$LIMIT" >"$CG_DIR/memory.limit_in_bytes"
  echo "$LIMIT" >"$CG_DIR/memory.memsw.limit_in_bytes"
  cfg=$dir/oomkit.toml log=$dir/daemon.log ev=$dir/events.jsonl
  {
    printf '[daemon]\nevent_log = "%s"\n\n[[scope]]\nname = "bench"\ncgroup = "%s"\n' \
      "$ev" "${OWN_CG%/}/$name"
    [[ $mode == takeover* ]] && printf 'takeover = true\n'
    if [[ $mode == takeover-limit ]]; then  # available never falls below 0: no watermark OOM
      printf '[scope.watermarks]\nmin = "0%%"\nlow = "1%%"\nhigh = "2%%"\n'
    else
      printf '[scope.watermarks]\nmin = "10%%"\nlow = "20%%"\nhigh = "25%%"\n'
    fi
    [[ -z $MRELEASE ]] || printf '[scope.kill]\nprocess_mrelease = %s\n' "$MRELEASE"
  } >"$cfg"
  : >"$log"  # exists before the first grep (the child opens it after the fork)
  ${OOMKIT_WRAPPER:-} "$OOMKIT" run --config "$cfg" --state-dir "$dir/state" --kmsg "" </dev/null >"$dir/daemon.out" 2>"$log" &
  DAEMON_PID=$!
  for ((i = 0; i < 200; i++)); do
    grep -q 'oomkit: running' "$log" && break
    alive "$DAEMON_PID" || break
    snooze 0.05
  done
  if ! grep -q 'oomkit: running' "$log"; then
    if [[ $mode == takeover* ]]; then
      TAKEOVER_NOTE="takeover mode skipped: \`oomkit run\` with takeover = true did not start: $(tail -3 "$log" | tr '\n' ' ')"
      SKIP=1
      return 0
    fi
    die "the daemon did not start: $(tail -5 "$log")"
  fi
  # A line about the takeover, not one that merely quotes the cgroup's path, and no error.
  if [[ $mode == takeover* ]] &&
     ! grep -Fv "${OWN_CG%/}/$name" "$log" | grep -i 'takeover' | grep -qiv 'error\|fail\|cannot\|not '; then
    TAKEOVER_NOTE="takeover mode skipped: the daemon started with takeover = true but logged no takeover of the cgroup (stderr: $(tr '\n' ' ' <"$log"))"
    SKIP=1
    return 0
  fi

  start_testproc "$dir/ready.b1" --anon "$BYSTANDER_MIB" --name bystander1; b1=$STARTED_PID
  start_testproc "$dir/ready.b2" --anon "$BYSTANDER_MIB" --name bystander2; b2=$STARTED_PID
  start_testproc "$dir/ready.hog" --grow-mib "$HOG_MIB" --grow-rate "$rate" "${HOG_FLAGS[@]}" --name hog; hog=$STARTED_PID
  # When the hog started growing: it writes its ready file just before (mtime, a few ms coarse).
  hog_t0=$(stat -c %.9Y "$dir/ready.hog")

  # The hog never stops by itself (after growing it sleeps): it dies, or we kill it.
  for ((i = 0; i < RUN_TIMEOUT * 20; i++)); do
    alive "$hog" || break
    snooze 0.05
  done
  hog_status=""
  if alive "$hog"; then
    hog_status=survived  # nobody killed it within RUN_TIMEOUT: we do
    kill -KILL "$hog" 2>/dev/null || true
  fi
  st=0
  wait "$hog" 2>/dev/null || st=$?
  # The signal that killed it (9), or minus its exit code.
  [[ -n $hog_status ]] || hog_status=$((st > 128 ? st - 128 : -st))
  CHILD_PIDS=("$b1" "$b2")

  # The kill's event is written once the victim has exited.
  oom=""
  for ((i = 0; i < 100; i++)); do
    oom=$(grep -m1 '"type":"oom"' "$ev" 2>/dev/null) || true
    [[ -n $oom ]] && break
    snooze 0.05
  done
  kernel_kills=$(awk '$1 == "oom_kill" { print $2 }' "$CG_DIR/memory.oom_control")
  # The cgroup's peak usage, MiB (memory or memsw, whichever is higher). Not failcnt: this
  # kernel (6.18) leaves the v1 failcnt files at 0 even when a charge fails at the limit.
  peak=$(($(<"$CG_DIR/memory.max_usage_in_bytes") >> 20))
  i=$(($(<"$CG_DIR/memory.memsw.max_usage_in_bytes") >> 20))
  ((i <= peak)) || peak=$i
  deaths=0
  alive "$b1" || deaths=$((deaths + 1))
  alive "$b2" || deaths=$((deaths + 1))
  # The watermark detector's view when the scope went out of memory.
  line=$(grep -m1 '"level":"oom"' "$ev" 2>/dev/null) || true
  available=$(json_field "$line" available_bytes)
  min=$(json_field "$line" min_bytes)

  kill -TERM "$DAEMON_PID"
  for ((i = 0; i < 200; i++)); do alive "$DAEMON_PID" || break; snooze 0.05; done
  daemon_rc=0
  wait "$DAEMON_PID" || daemon_rc=$?
  DAEMON_PID=""
  teardown_run

  if [[ -z $oom ]]; then
    line="$mode $rate $n - - - - - - - ${kernel_kills:-?} $deaths $peak $hog_status $daemon_rc no-event - - -"
  else
    # The event is one line of compact JSON with sorted keys (docs/events.md); the objects
    # read here hold no nested objects.
    local ts victim_obj target trigger action release comm anon
    ts=$(json_object "$oom" timestamps)
    victim_obj=$(json_object "$oom" victim)
    target=$(json_object "$oom" targets)  # the first target: the victim
    trigger=-; [[ $oom =~ \"trigger\":\"([^\"]*)\" ]] && trigger=${BASH_REMATCH[1]}  # not timestamps.trigger
    action=$(json_field "$oom" action)
    release=$(json_field "$target" release)
    comm=$(json_field "$victim_obj" comm)
    anon=$(json_field "$victim_obj" anon_rss_kb)
    line=$(awk -v trig="$(json_field "$ts" trigger)" -v dec="$(json_field "$ts" decided)" \
        -v sig="$(json_field "$ts" signalled)" -v rel="$(json_field "$ts" released)" \
        -v ex="$(json_field "$ts" exited)" -v avail="$available" -v min="$min" -v t0="$hog_t0" \
        -v anon="$anon" -v head="$mode $rate $n" -v release="$release" \
        -v tail="${release// /_} $trigger $action ${kernel_kills:-?} $deaths $peak $hog_status $daemon_rc $( [[ $comm == hog ]] && echo hog || echo "victim:${comm// /_}")" '
      function ms(x) { return x == "null" || trig == "null" ? "-" : sprintf("%.3f", (x - trig) * 1000) }
      function mib(x) { return x == "null" ? "-" : sprintf("%.1f", x / 1048576) }
      BEGIN {
        # the hog: mean growth from its start to the decision (its RSS as the selection read it)
        rate = anon == "null" || dec == "null" ? "-" : sprintf("%.0f", anon / 1024 / (dec - t0))
        # "released" only when process_mrelease() did release the memory: after "already
        # exiting" (ESRCH) the timestamp marks a call that did nothing
        print head, ms(dec), ms(sig), release == "released" ? ms(rel) : "-", ms(ex), tail,
          mib(avail), mib(min), rate
      }')
  fi
  echo "$line" >>"$WORK/results"
  # run: decided signalled released exited (ms after trigger) release trigger action
  #      kernel_kills bystander_deaths peak_MiB hog_signal daemon_rc victim avail_MiB min_MiB
  #      hog_MiB_per_s
  echo "  $line"
  read -r _ _ _ _ _ _ _ _ _ _ kernel_kills deaths _ hog_status daemon_rc victim _ <<<"$line"
  [[ -n $oom && $kernel_kills == 0 && $deaths == 0 && $hog_status == 9 && $daemon_rc == 0 &&
     $victim == hog ]] || FAILED=1
  [[ -n $oom ]] || echo "daemon_reaction.sh: no oom event in run $mode/$rate/$n; daemon log: $(tail -5 "$log" | tr '\n' ' ')" >&2
  return 0
}

# median / p90 (nearest rank) / max of column `col` of the results of (mode, rate).
stats() {
  awk -v m="$1" -v r="$2" -v c="$3" '$1 == m && $2 == r && $c != "-" { print $c }' "$WORK/results" |
    sort -g | awk '{ v[n++] = $1 }
      END {
        if (n == 0) { print "—"; exit }
        med = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
        p90 = v[int(0.9 * n + 0.999999) - 1]
        printf "%.1f / %.1f / %.1f", med, p90, v[n - 1]
      }'
}
count() {  # the runs of (mode, rate) where column `col` satisfies the awk condition `cond`
  awk -v m="$1" -v r="$2" '$1 == m && $2 == r && ('"$3"') { n++ } END { print n + 0 }' "$WORK/results"
}
summary_of() {  # "trigger×count ..." of a column
  awk -v m="$1" -v r="$2" -v c="$3" '$1 == m && $2 == r { k[$c]++ }
    END { s = ""; for (x in k) s = s (s == "" ? "" : ", ") x " " k[x]; print s }' "$WORK/results"
}

echo "oomkit daemon reaction: $(nproc) CPUs, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cgroups under $OWN_DIR (limit $((LIMIT >> 20)) MiB, memsw too); $RUNS runs per mode and rate;" \
     "bystanders 2 x $BYSTANDER_MIB MiB, hog --grow-mib $HOG_MIB$( ((HUGE)) && echo " --grow-huge"); process_mrelease ${MRELEASE:-default (true)}"
echo "columns: mode rate run decided signalled released exited (ms after trigger) release trigger action" \
     "kernel_kills bystander_deaths peak_MiB hog_signal daemon_rc victim avail_at_oom_MiB min_MiB hog_MiB/s"
: >"$WORK/results"
# Round-robin: run n of every (mode, rate) before run n+1 of any, so that all of them see the
# same machine (its load changes with whatever else runs on it).
RAN_MODES=($MODES)
for ((n = 1; n <= RUNS; n++)); do
  echo "== round $n of $RUNS (load average $(cut -d' ' -f1 /proc/loadavg))"
  for mode in "${RAN_MODES[@]}"; do
    for rate in $RATES; do
      SKIP=0
      run_once "$mode" "$rate" "$n"
      if ((SKIP)); then
        teardown_run
        echo "$TAKEOVER_NOTE"
        skipped=()
        for m in "${RAN_MODES[@]}"; do [[ $m == takeover* ]] || skipped+=("$m"); done
        RAN_MODES=("${skipped[@]}")
        break
      fi
    done
  done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "== summary (ms after the event's timestamps.trigger: median / p90 / max over the runs)"
printf '| %-14s | %-5s | %-4s | %-20s | %-20s | %-20s | %-20s | %-12s | %-10s | %-8s | %-22s | %-17s | %-17s |\n' \
  mode MiB/s runs "trigger→decided" "trigger→signalled" "trigger→released" "trigger→exited" \
  "kernel kills" "bystanders" "limit hit" "trigger" "avail at oom (MiB)" "hog MiB/s to decision"
for mode in "${RAN_MODES[@]}"; do
  for rate in $RATES; do
    runs=$(count "$mode" "$rate" 1)
    ((runs > 0)) || continue
    printf '| %-14s | %-5s | %-4s | %-20s | %-20s | %-20s | %-20s | %-12s | %-10s | %-8s | %-22s | %-17s | %-17s |\n' \
      "$mode" "$rate" "$runs" "$(stats "$mode" "$rate" 4)" "$(stats "$mode" "$rate" 5)" \
      "$(stats "$mode" "$rate" 6)" "$(stats "$mode" "$rate" 7)" \
      "$(count "$mode" "$rate" '$11 != "0"') of $runs" "$(count "$mode" "$rate" '$12 != "0"') died" \
      "$(count "$mode" "$rate" "\$13 >= $(((LIMIT >> 20) - 1))") runs" "$(summary_of "$mode" "$rate" 9)" \
      "$(stats "$mode" "$rate" 17)" "$(stats "$mode" "$rate" 19)"
  done
done
echo
echo "release outcomes (kill.targets[0].release): $(awk '{ k[$8]++ } END { for (x in k) printf "%s %d  ", x, k[x] }' "$WORK/results")"
awk '{ if ($7 != "-") { n++; if ($7 < 50) ok++ } } END {
  printf "trigger→exited under 50 ms: %d of %d runs\n", ok, n }' "$WORK/results"
[[ -z $TAKEOVER_NOTE ]] || echo "$TAKEOVER_NOTE"
if ((FAILED)); then
  echo "daemon_reaction.sh: a run had a kernel kill, a dead bystander, no event, a hog nobody killed or a daemon that did not exit 0" >&2
  exit 1
fi
