// oomkit/sys/killer.h — carrying out an OOM kill the way mm/oom_kill.c oom_kill_process()
// does, through pidfds.
//
// One kill: open the victim by (pid, start time) (ProcessHandle: no pid-reuse race), find the
// processes sharing its mm (kcmp) and, on a cgroup v2 memory hierarchy, the memory.oom.group
// cgroup to take down whole; then optionally SIGTERM them all and wait a grace period, then
// SIGKILL the victim, its mm sharers and the group (cgroup.kill where no member is spared), and
// call process_mrelease() on each killed mm, as the oom_reaper would. Init, kernel threads,
// oom_score_adj -1000 processes and oomkit itself are never signalled (core/kill_rules.h).
// A dry run does everything up to the first signal and reports what it would have done.
// The pidfds of the signalled processes come back in the report, to be watched until they exit
// (PendingVictims). Killer is the port the OOM path calls; PidfdKiller is the real one.
// Not thread-safe: one killer per thread (it uses the ProcReader).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oomkit/core/process.h"
#include "oomkit/result.h"
#include "oomkit/sys/background_releaser.h"
#include "oomkit/sys/cgroups.h"
#include "oomkit/sys/mm_sharers.h"
#include "oomkit/sys/proc_reader.h"
#include "oomkit/sys/process_handle.h"

namespace oomkit::sys {

using SteadyTime = std::chrono::steady_clock::time_point;

struct KillRequest {
  core::Process victim;  // pid and start_time_ticks name it; comm etc. are only for messages
  // The OOM domain as /proc/PID/cgroup shows it ("/" or none: the whole machine). Bounds the
  // memory.oom.group walk and names the cgroup whose usage is measured.
  std::optional<std::string> scope_cgroup;
  // 0 (the kernel's way): SIGKILL at once. Otherwise SIGTERM first and wait up to this long
  // (killVictim blocks meanwhile) for every target to exit, then SIGKILL the rest.
  std::chrono::milliseconds sigterm_grace{0};
  bool dry_run = false;
  // process_mrelease() each killed mm right after SIGKILL (the oom_reaper's job). Off only to
  // measure what it buys (docs/benchmarks.md) or where a kernel misbehaves with it.
  bool release = true;
  // With `release`: hand it to this thread instead of blocking this call (the daemon's event
  // loop must not stall tens of milliseconds per GiB); the report then says "in background"
  // and has no released_at. Null: release here.
  BackgroundReleaser* releaser = nullptr;
  // Only the victim: neither the processes sharing its mm nor its memory.oom.group. For the
  // rehearsal's stand-in (sys/stand_in.h), whose cgroup is the daemon's own: its oom group
  // may hold processes the daemon did not start.
  bool victim_only = false;
};

// NOTE: do not rename; the names (killRoleName() etc.) are part of the JSON event format.
enum class KillRole { kVictim, kMmSharer, kGroupMember };
enum class KillOutcome {
  kWouldKill,        // dry run
  kExitedOnSigterm,  // left within the grace period; never got SIGKILL
  kKilled,           // SIGKILL sent
  kAlreadyGone,      // exited before the signal went out
  kFailed,           // the signal could not be sent (see KillReport::notes)
};
enum class ReleaseOutcome {
  kNotTried,        // dry run, not killed, or an mm sharer (the victim's release covers it)
  kReleased,        // process_mrelease() freed the memory itself
  kAlreadyExiting,  // ESRCH: the process freed it on its own first
  kNotDying,        // EINVAL: something that shares the mm still runs (a spared sharer)
  kFailed,          // any other error (see KillReport::notes)
  kInBackground,    // handed to KillRequest::releaser's thread
};
enum class GroupMethod { kNone, kCgroupKill, kPerProcess };

std::string_view killRoleName(KillRole role);           // "victim", "mm sharer", "group member"
std::string_view killOutcomeName(KillOutcome outcome);  // "would kill", "exited on SIGTERM", ...
std::string_view releaseOutcomeName(ReleaseOutcome outcome);
std::string_view groupMethodName(GroupMethod method);  // "none", "cgroup.kill", "per process"

struct KillTarget {
  int32_t pid = 0;
  uint64_t start_time_ticks = 0;
  std::string comm;
  KillRole role = KillRole::kVictim;
  KillOutcome outcome = KillOutcome::kWouldKill;
  ReleaseOutcome release = ReleaseOutcome::kNotTried;
};

struct KillReport {
  bool dry_run = false;
  std::vector<KillTarget> targets;       // the victim first, then mm sharers, then group members
  std::vector<SparedProcess> spared;     // share the mm or the group, but must not be killed
  std::vector<int32_t> uncompared;       // kcmp could not say whether they share the mm
  std::optional<std::string> oom_group;  // the memory.oom.group cgroup killed whole
  GroupMethod group_method = GroupMethod::kNone;
  std::optional<std::string> usage_cgroup_dir;  // where usage is measured; none = machine
  std::optional<uint64_t> usage_before_bytes;   // read just before the first signal
  std::optional<SteadyTime> sigterm_at;         // when SIGTERM went out
  std::optional<SteadyTime> sigkill_at;   // the first SIGKILL (the victim's unless it had left)
  std::optional<SteadyTime> released_at;  // process_mrelease() returned, having freed the memory
  std::optional<SteadyTime> exited_at;    // when every target had exited, if seen during the kill
  std::vector<std::string> notes;         // what went wrong without stopping the kill
  // pidfds of every process signalled, for PendingVictims (empty in a dry run).
  std::vector<ProcessHandle> handles;

  const KillTarget& victim() const { return targets.front(); }
  // The pids of the targets, in order.
  std::vector<int32_t> targetPids() const;
  // When the first signal went out (SIGTERM or SIGKILL), if any did.
  std::optional<SteadyTime> signalledAt() const { return sigterm_at ? sigterm_at : sigkill_at; }
};

// The port: the OOM path calls this; its tests use a fake.
class Killer {
 public:
  virtual ~Killer() = default;
  // Errc::kNotFound when the victim has exited, is exiting (no mm left) or its pid now names
  // another process: a normal outcome, nothing was signalled. kInvalidArgument when the victim
  // is init, a kernel thread, oom_score_adj -1000 or oomkit itself. kUnavailable without
  // pidfd_open. Failures to kill a sharer or group member are notes, not errors.
  virtual Result<KillReport> killVictim(const KillRequest& request) = 0;
};

struct KillerOptions {
  // Where the memory controller is: maps scope cgroups to directories for usage, and on v2
  // enables memory.oom.group. None: usage is the machine's, no group kills.
  std::optional<MemoryHierarchy> memory;
};

class PidfdKiller final : public Killer {
 public:
  // Errc::kInvalidArgument when `proc`'s root shows another pid namespace than ours (its pids
  // would name other processes for pidfd_open and kcmp). `proc` must outlive the killer.
  static Result<PidfdKiller> create(ProcReader& proc, KillerOptions options);

  Result<KillReport> killVictim(const KillRequest& request) override;

 private:
  struct Target;
  struct Plan;

  PidfdKiller(ProcReader& proc, KillerOptions options, int32_t self_pid)
      : proc_(&proc), options_(std::move(options)), self_pid_(self_pid) {}
  Result<Plan> plan(const KillRequest& request);
  Status addMmSharers(Plan& plan);
  Status addOomGroup(const KillRequest& request, Plan& plan);
  bool addGroupMembers(const std::string& group, const std::vector<int32_t>& pids, Plan& plan);
  void measureUsage(const KillRequest& request, KillReport& report);
  void terminate(std::chrono::milliseconds grace, Plan& plan);
  void kill(Plan& plan);
  void release(Plan& plan, BackgroundReleaser* releaser);

  ProcReader* proc_;
  KillerOptions options_;
  int32_t self_pid_;
};

}  // namespace oomkit::sys
