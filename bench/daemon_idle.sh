#!/usr/bin/env bash
# bench/daemon_idle.sh [BUILD_DIR] — what `oomkit run` costs while nothing happens, next to
# earlyoom, in the same run.
#
# Starts, side by side, on the machine as it is:
#   oomkit run --dry-run --event-log /dev/null --kmsg /dev/kmsg --state-dir TMP
#       (the embedded default configuration: the global scope, watermarks 5 % / 10 % / 15 %;
#       --state-dir keeps it out of /run/oomkit, which other oomkit processes may use)
#   earlyoom --dryrun -r 0
#       (1.7's defaults otherwise; -r 0 turns off its once-a-second memory report line, the
#       nearest it has to a quiet option)
#   and, to tell what sampling less often than earlyoom when far from `min` is worth, a second
#   oomkit on the embedded default plus `[scope.sampling] max_interval = "1s"`, earlyoom's
#   longest sleep (its row is for attribution only; the goals compare the first oomkit with
#   earlyoom)
# lets them run IDLE_SECONDS (default 60), then reads for each: utime + stime (/proc/PID/stat
# fields 14 and 15, clock ticks), the time on the CPU (/proc/PID/schedstat, ns: finer than
# ticks), voluntary context switches (about one per wake-up), VmRSS, VmHWM, VmLck and RssAnon
# (/proc/PID/status), and Pss (/proc/PID/smaps_rollup: shared library pages divided among the
# processes that map them). CPU figures are given over the whole run (start-up included) and from
# 2 s after the start to the end (steady state). Then stops all three with SIGTERM; each
# oomkit must exit 0. Prints a table and whether oomkit is at or below earlyoom on CPU time and on RSS.
#
# Both lock their memory with mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT): only pages they
# touch are resident (and locked), so VmRSS is what each really uses. oomkit first sheds its
# start-up pages and rehearses its OOM path (docs/daemon.md, "Memory of its own"); that
# one-off work is in the whole-run CPU figure, not in the steady one.
# Needs nothing but the built `oomkit` and the Debian package earlyoom; no root (as root,
# oomkit can also read /dev/kmsg).
set -euo pipefail

die() { echo "daemon_idle.sh: $*" >&2; exit 1; }

BUILD_DIR=${1:-build}
OOMKIT=$BUILD_DIR/oomkit
IDLE_SECONDS=${IDLE_SECONDS:-60}
readonly WARMUP_SECONDS=2
[[ -x $OOMKIT ]] || die "$OOMKIT not found: build first (make build)"
command -v earlyoom >/dev/null || die "earlyoom not installed (apt-get install earlyoom)"
((IDLE_SECONDS > WARMUP_SECONDS)) || die "IDLE_SECONDS must be more than $WARMUP_SECONDS"

WORK=$(mktemp -d /tmp/oomkit-idle.XXXXXX)
exec {SNOOZE_FD}<> <(:)  # `read -t` on a pipe nobody writes: a sleep without a fork
snooze() { read -r -t "$1" -u "$SNOOZE_FD" _ || true; }
OOMKIT_PID="" EARLYOOM_PID="" ONESEC_PID=""

stop() {  # stop PID: SIGTERM, then SIGKILL after 5 s; sets STOP_RC
  local pid=$1 i
  STOP_RC=0
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    [[ $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) =~ ^(Z|)$ ]] && break
    snooze 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" || STOP_RC=$?
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop "$OOMKIT_PID"
  stop "$ONESEC_PID"
  stop "$EARLYOOM_PID"
  if [[ ${KEEP_LOGS:-0} == 1 ]]; then echo "logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ticks=$(getconf CLK_TCK)
# "utime+stime(ticks) cpu_ns voluntary_switches" of a pid.
cpu_of() {
  local stat rest ns sw
  stat=$(<"/proc/$1/stat")
  rest=${stat##*) }  # fields from 3 (state) on; comm may hold spaces
  read -r -a f <<<"$rest"
  read -r ns _ <"/proc/$1/schedstat"
  sw=$(awk '/^voluntary_ctxt_switches:/ { print $2 }' "/proc/$1/status")
  echo "$((f[11] + f[12])) $ns $sw"  # fields 14 and 15
}
mem_of() {  # "VmRSS VmHWM VmLck RssAnon Pss" in KiB (Pss: shared library pages split among their users)
  local pss
  pss=$(awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup")
  awk -v pss="$pss" '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } /^VmLck:/ { l = $2 } /^RssAnon:/ { a = $2 }
    END { print r, h, l, a, pss }' "/proc/$1/status"
}

echo "oomkit idle cost: $(nproc) CPUs, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)," \
     "$IDLE_SECONDS s, $(earlyoom -v 2>&1 | head -1)"

vm_oom_kills() { awk '$1 == "oom_kill" { print $2 }' /proc/vmstat; }
# The sequence number of the kernel log's newest record (reading /dev/kmsg to its end, non-blocking).
kmsg_seq() { dd if=/dev/kmsg iflag=nonblock bs=8192 2>/dev/null | tail -1 | cut -d, -f2 || true; }
oom_kills0=$(vm_oom_kills)
kmsg0=$(kmsg_seq)
: >"$WORK/oomkit.log"  # exists before the first grep (the child opens it after the fork)
: >"$WORK/onesec.log"
# The embedded default's global scope (its watermarks and policy are the defaults of every
# scope, docs/config.md), sampled at least once a second.
cat >"$WORK/onesec.toml" <<'TOML'
[[scope]]
name = "machine"
[scope.sampling]
max_interval = "1s"
TOML
t0=$EPOCHREALTIME
"$OOMKIT" run --dry-run --event-log /dev/null --kmsg /dev/kmsg --state-dir "$WORK/state" \
  </dev/null >"$WORK/oomkit.out" 2>"$WORK/oomkit.log" &
OOMKIT_PID=$!
"$OOMKIT" run --config "$WORK/onesec.toml" --dry-run --event-log /dev/null --kmsg /dev/kmsg \
  --state-dir "$WORK/state-onesec" </dev/null >"$WORK/onesec.out" 2>"$WORK/onesec.log" &
ONESEC_PID=$!
earlyoom --dryrun -r 0 </dev/null >"$WORK/earlyoom.log" 2>&1 &
EARLYOOM_PID=$!
for log in oomkit onesec; do
  for ((i = 0; i < 100; i++)); do
    grep -q 'oomkit: running' "$WORK/$log.log" && break
    snooze 0.05
  done
  grep -q 'oomkit: running' "$WORK/$log.log" || die "oomkit did not start: $(tail -5 "$WORK/$log.log")"
done
kill -0 "$EARLYOOM_PID" 2>/dev/null || die "earlyoom did not start: $(tail -5 "$WORK/earlyoom.log")"

snooze "$(awk -v t0="$t0" -v now="$EPOCHREALTIME" -v w="$WARMUP_SECONDS" 'BEGIN { d = t0 + w - now; print (d > 0 ? d : 0) }')"
read -r o_ticks0 o_ns0 o_sw0 < <(cpu_of "$OOMKIT_PID")
read -r e_ticks0 e_ns0 e_sw0 < <(cpu_of "$EARLYOOM_PID")
read -r n_ticks0 n_ns0 n_sw0 < <(cpu_of "$ONESEC_PID")
t1=$EPOCHREALTIME
snooze "$(awk -v t0="$t0" -v now="$EPOCHREALTIME" -v s="$IDLE_SECONDS" 'BEGIN { d = t0 + s - now; print (d > 0 ? d : 0) }')"
for who in "oomkit:$OOMKIT_PID" "oomkit, 1-s sampling:$ONESEC_PID" "earlyoom:$EARLYOOM_PID"; do
  [[ $(awk '{ print $3 }' "/proc/${who##*:}/stat" 2>/dev/null) =~ ^(Z|)$ ]] &&
    die "${who%:*} (pid ${who##*:}) exited during the run"
done
read -r o_ticks o_ns o_sw < <(cpu_of "$OOMKIT_PID")
read -r e_ticks e_ns e_sw < <(cpu_of "$EARLYOOM_PID")
read -r o_rss o_hwm o_lck o_anon o_pss < <(mem_of "$OOMKIT_PID")
read -r e_rss e_hwm e_lck e_anon e_pss < <(mem_of "$EARLYOOM_PID")
read -r n_ticks n_ns n_sw < <(cpu_of "$ONESEC_PID")
read -r n_rss n_hwm n_lck n_anon n_pss < <(mem_of "$ONESEC_PID")
t2=$EPOCHREALTIME
oom_kills=$(($(vm_oom_kills) - oom_kills0))
kmsg1=$(kmsg_seq)
kmsg_records="?"
[[ -z $kmsg0 || -z $kmsg1 ]] || kmsg_records=$((kmsg1 - kmsg0))

stop "$OOMKIT_PID"; OOMKIT_PID=""; oomkit_rc=$STOP_RC
stop "$ONESEC_PID"; ONESEC_PID=""; onesec_rc=$STOP_RC
stop "$EARLYOOM_PID"; EARLYOOM_PID=""

steady=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }')
echo
printf '| %-15s | %-22s | %-16s | %-24s | %-22s | %-9s | %-9s | %-9s | %-11s | %-7s |\n' \
  process "utime+stime (ticks)" "CPU total (ms)" "CPU steady (ms per min)" "wake-ups steady (/s)" \
  "VmRSS KiB" "VmHWM KiB" "VmLck KiB" "RssAnon KiB" "Pss KiB"
row() {
  awk -v n="$1" -v tk="$2" -v ns="$3" -v ns0="$4" -v sw="$5" -v sw0="$6" -v s="$steady" \
      -v hz="$ticks" -v rss="$7" -v hwm="$8" -v lck="$9" -v anon="${10}" -v pss="${11}" 'BEGIN {
    printf "| %-15s | %-22s | %-16.2f | %-24.3f | %-22.2f | %-9d | %-9d | %-9d | %-11d | %-7d |\n", n,
      sprintf("%d (%.0f ms)", tk, tk * 1000 / hz), ns / 1e6, (ns - ns0) / 1e6 / s * 60,
      (sw - sw0) / s, rss, hwm, lck, anon, pss }'
}
row oomkit "$o_ticks" "$o_ns" "$o_ns0" "$o_sw" "$o_sw0" "$o_rss" "$o_hwm" "$o_lck" "$o_anon" "$o_pss"
row 'oomkit, 1-s max' "$n_ticks" "$n_ns" "$n_ns0" "$n_sw" "$n_sw0" "$n_rss" "$n_hwm" "$n_lck" "$n_anon" "$n_pss"
row earlyoom "$e_ticks" "$e_ns" "$e_ns0" "$e_sw" "$e_sw0" "$e_rss" "$e_hwm" "$e_lck" "$e_anon" "$e_pss"
echo
echo "over ${IDLE_SECONDS} s (steady: the last $steady s); clock ticks of ${ticks} Hz;" \
     "meanwhile on the machine: $oom_kills kernel OOM kills (/proc/vmstat oom_kill)," \
     "$kmsg_records kernel log records (/dev/kmsg)"
awk -v oc="$o_ns" -v ec="$e_ns" -v ocs="$((o_ns - o_ns0))" -v ecs="$((e_ns - e_ns0))" \
    -v orss="$o_rss" -v erss="$e_rss" 'BEGIN {
  printf "CPU time (whole run) at or below earlyoom: %s (%.2fx)\n", oc <= ec ? "met" : "MISSED", oc / ec
  printf "CPU time (steady state) at or below earlyoom: %s (%.2fx)\n", ocs <= ecs ? "met" : "MISSED", ocs / ecs
  printf "resident memory at or below earlyoom: %s (%.2fx)\n", orss <= erss ? "met" : "MISSED", orss / erss }'
((onesec_rc == 0)) || die "oomkit with 1-s sampling exited $onesec_rc on SIGTERM (want 0)"
((oomkit_rc == 0)) || die "oomkit exited $oomkit_rc on SIGTERM (want 0): $(tail -3 "$WORK/oomkit.log")"
grep -v '^oomkit: \(memory locked\|running\|exiting on SIGTERM\)' "$WORK/oomkit.log" | sed 's/^/oomkit stderr: /' || true
