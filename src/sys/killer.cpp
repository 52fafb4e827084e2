#include "oomkit/sys/killer.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "oomkit/core/kill_rules.h"
#include "oomkit/sys/oom_group.h"
#include "oomkit/sys/scope_usage.h"

namespace oomkit::sys {
namespace {

using Clock = std::chrono::steady_clock;

std::string describe(const core::Process& p) {
  return "pid " + std::to_string(p.pid) + " (" + p.comm + ")";
}

// The proc root's "self" names this process iff it shows our pid namespace.
bool showsOurPids(const ProcReader& proc, int32_t self_pid) {
  char target[32];
  const std::string link = proc.root() + "/self";
  const ssize_t n = ::readlink(link.c_str(), target, sizeof(target));
  return n > 0 && std::string_view(target, static_cast<size_t>(n)) == std::to_string(self_pid);
}

ReleaseOutcome releaseOutcome(const Result<ProcessHandle::Release>& r) {
  if (r) {
    return *r == ProcessHandle::Release::kReleased ? ReleaseOutcome::kReleased
                                                   : ReleaseOutcome::kAlreadyExiting;
  }
  return r.error().sys_errno == EINVAL ? ReleaseOutcome::kNotDying : ReleaseOutcome::kFailed;
}

// Not yet signalled to death, and not gone: SIGKILL is still due.
bool awaitsSigkill(KillOutcome outcome) {
  return outcome == KillOutcome::kWouldKill;
}

void addNote(KillReport& report, const Error& error) {
  report.notes.push_back(error.message);
}

}  // namespace

std::string_view killRoleName(KillRole role) {
  switch (role) {
    case KillRole::kVictim:
      return "victim";
    case KillRole::kMmSharer:
      return "mm sharer";
    case KillRole::kGroupMember:
      return "group member";
  }
  return "unknown";
}

std::string_view killOutcomeName(KillOutcome outcome) {
  switch (outcome) {
    case KillOutcome::kWouldKill:
      return "would kill";
    case KillOutcome::kExitedOnSigterm:
      return "exited on SIGTERM";
    case KillOutcome::kKilled:
      return "killed";
    case KillOutcome::kAlreadyGone:
      return "already gone";
    case KillOutcome::kFailed:
      return "failed";
  }
  return "unknown";
}

std::string_view releaseOutcomeName(ReleaseOutcome outcome) {
  switch (outcome) {
    case ReleaseOutcome::kNotTried:
      return "not tried";
    case ReleaseOutcome::kReleased:
      return "released";
    case ReleaseOutcome::kAlreadyExiting:
      return "already exiting";
    case ReleaseOutcome::kNotDying:
      return "not dying";
    case ReleaseOutcome::kFailed:
      return "failed";
    case ReleaseOutcome::kInBackground:
      return "in background";
  }
  return "unknown";
}

std::string_view groupMethodName(GroupMethod method) {
  switch (method) {
    case GroupMethod::kNone:
      return "none";
    case GroupMethod::kCgroupKill:
      return "cgroup.kill";
    case GroupMethod::kPerProcess:
      return "per process";
  }
  return "unknown";
}

std::vector<int32_t> KillReport::targetPids() const {
  std::vector<int32_t> pids;
  pids.reserve(targets.size());
  for (const KillTarget& t : targets)
    pids.push_back(t.pid);
  return pids;
}

struct PidfdKiller::Target {
  ProcessHandle handle;
  KillRole role = KillRole::kVictim;
  KillOutcome outcome = KillOutcome::kWouldKill;
  ReleaseOutcome release = ReleaseOutcome::kNotTried;
};

struct PidfdKiller::Plan {
  std::vector<Target> targets;  // the victim first
  KillReport report;
  std::optional<std::string> group_dir;
  bool use_cgroup_kill = false;

  bool isTarget(int32_t pid) const {
    return std::any_of(targets.begin(), targets.end(),
                       [pid](const Target& t) { return t.handle.pid() == pid; });
  }
  // Moves the outcome into the report and the handles with it (kept only if signalled).
  KillReport finish() &&;
};

KillReport PidfdKiller::Plan::finish() && {
  for (Target& t : targets) {
    const core::Process& p = t.handle.process();
    report.targets.push_back({p.pid, p.start_time_ticks, p.comm, t.role, t.outcome, t.release});
    if (!report.dry_run) report.handles.push_back(std::move(t.handle));
  }
  return std::move(report);
}

Result<PidfdKiller> PidfdKiller::create(ProcReader& proc, KillerOptions options) {
  const int32_t self_pid = ::getpid();
  if (!showsOurPids(proc, self_pid)) {
    return makeError(Errc::kInvalidArgument, proc.root() +
                                                 " shows another pid namespace: its pids "
                                                 "cannot be killed from here");
  }
  return PidfdKiller(proc, std::move(options), self_pid);
}

Result<KillReport> PidfdKiller::killVictim(const KillRequest& request) {
  auto planned = plan(request);
  if (!planned) return Unexpected(planned.error());
  Plan& p = *planned;
  measureUsage(request, p.report);
  if (request.dry_run) return std::move(p).finish();
  if (request.sigterm_grace.count() > 0) terminate(request.sigterm_grace, p);
  kill(p);
  if (request.release) release(p, request.releaser);
  const bool all_exited = std::all_of(p.targets.begin(), p.targets.end(),
                                      [](const Target& t) { return t.handle.exited(); });
  if (all_exited) p.report.exited_at = Clock::now();
  return std::move(p).finish();
}

Result<PidfdKiller::Plan> PidfdKiller::plan(const KillRequest& request) {
  const core::Process& wanted = request.victim;
  auto victim =
      ProcessHandle::open(*proc_, wanted.pid, wanted.start_time_ticks, kFieldStat | kFieldCgroup);
  if (!victim) return Unexpected(victim.error().wrap("opening the OOM victim"));
  const core::KillVerdict verdict = core::judgeVictim(victim->process(), self_pid_);
  if (verdict != core::KillVerdict::kKill) {
    return makeError(Errc::kInvalidArgument, "refusing to kill " + describe(victim->process()) +
                                                 ": " + std::string(core::verdictName(verdict)));
  }
  Plan plan;
  plan.report.dry_run = request.dry_run;
  plan.targets.push_back({std::move(*victim), KillRole::kVictim});
  if (request.victim_only) return plan;
  if (auto s = addMmSharers(plan); !s) return Unexpected(s.error());
  if (auto s = addOomGroup(request, plan); !s) return Unexpected(s.error());
  return plan;
}

Status PidfdKiller::addMmSharers(Plan& plan) {
  const ProcessHandle& victim = plan.targets.front().handle;
  auto sharers = findMmSharers(*proc_, victim, self_pid_);
  if (!sharers) {
    // No mm left: the victim is exiting and its memory is being freed (the kernel's "OOM
    // victim %d (%s) is already exiting. Skip killing the task").
    if (sharers.error().code == Errc::kNotFound) return Unexpected(sharers.error());
    addNote(plan.report, sharers.error());
    return Ok{};
  }
  for (ProcessHandle& h : sharers->to_kill)
    plan.targets.push_back({std::move(h), KillRole::kMmSharer});
  plan.report.spared = std::move(sharers->spared);
  plan.report.uncompared = std::move(sharers->uncompared);
  return Ok{};
}

Status PidfdKiller::addOomGroup(const KillRequest& request, Plan& plan) {
  if (!options_.memory) return Ok{};
  const core::Process& victim = plan.targets.front().handle.process();
  auto group =
      findOomGroup(*options_.memory, victim.memcg_path, request.scope_cgroup.value_or("/"));
  if (!group) addNote(plan.report, group.error());
  if (!group || !*group) return Ok{};
  const std::string& path = **group;
  const auto dir = options_.memory->dirOf(path);
  if (!dir) return Ok{};  // findOomGroup() only returns cgroups under the mount
  auto pids = listCgroupTreePids(*dir);
  if (!pids) {
    addNote(plan.report, pids.error().wrap("memory.oom.group " + path));
    return Ok{};
  }
  const bool spared_any = addGroupMembers(path, *pids, plan);
  // cgroup.kill would kill the spared ones too: then only per-process signals.
  plan.use_cgroup_kill = !spared_any && hasCgroupKill(*dir);
  plan.group_dir = dir;
  plan.report.oom_group = path;
  plan.report.group_method =
      plan.use_cgroup_kill ? GroupMethod::kCgroupKill : GroupMethod::kPerProcess;
  return Ok{};
}

// Opens every member of the group not already a target; returns true iff one was spared.
bool PidfdKiller::addGroupMembers(const std::string& group, const std::vector<int32_t>& pids,
                                  Plan& plan) {
  bool spared_any = false;
  for (const int32_t pid : pids) {
    if (plan.isTarget(pid)) continue;
    auto member = ProcessHandle::openCurrent(*proc_, pid, kFieldStat);
    if (!member) continue;  // exited meanwhile
    const core::KillVerdict verdict = core::judgeGroupMember(member->process(), self_pid_);
    if (verdict == core::KillVerdict::kKill) {
      plan.targets.push_back({std::move(*member), KillRole::kGroupMember});
      continue;
    }
    spared_any = true;
    plan.report.spared.push_back({pid, member->process().comm, verdict,
                                  "memory.oom.group " + group + ": sparing " +
                                      describe(member->process()) + ": " +
                                      std::string(core::verdictName(verdict))});
  }
  return spared_any;
}

void PidfdKiller::measureUsage(const KillRequest& request, KillReport& report) {
  const bool cgroup_scope = request.scope_cgroup && *request.scope_cgroup != "/";
  if (cgroup_scope && options_.memory) {
    report.usage_cgroup_dir = options_.memory->dirOf(*request.scope_cgroup);
  }
  auto usage = readScopeUsage(*proc_, report.usage_cgroup_dir);
  if (usage) {
    report.usage_before_bytes = *usage;
  } else {
    addNote(report, usage.error().wrap("reading the scope's usage"));
  }
}

// SIGTERM to every target, then wait up to `grace` for all of them to exit.
void PidfdKiller::terminate(std::chrono::milliseconds grace, Plan& plan) {
  for (Target& t : plan.targets) {
    auto sent = t.handle.kill(SIGTERM);
    if (!sent && sent.error().code != Errc::kNotFound) addNote(plan.report, sent.error());
  }
  plan.report.sigterm_at = Clock::now();
  const auto deadline = *plan.report.sigterm_at + grace;
  for (Target& t : plan.targets) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (t.handle.waitExit(std::max(left, std::chrono::milliseconds(0)))) {
      t.outcome = KillOutcome::kExitedOnSigterm;
    }
  }
}

// SIGKILL in the kernel's order: the victim, its mm sharers, then the oom group.
void PidfdKiller::kill(Plan& plan) {
  bool group_done = false;
  for (Target& t : plan.targets) {
    if (t.role == KillRole::kGroupMember && !group_done && plan.use_cgroup_kill) {
      group_done = true;
      if (auto s = writeCgroupKill(*plan.group_dir); !s) addNote(plan.report, s.error());
    }
    if (!awaitsSigkill(t.outcome)) continue;
    // Read the clock before the call: the woken victim may take this CPU before the call
    // returns, and its exit would then seem to start before the signal.
    const auto sending_at = Clock::now();
    auto sent = t.handle.kill(SIGKILL);
    if (sent) {
      t.outcome = KillOutcome::kKilled;
      if (!plan.report.sigkill_at) plan.report.sigkill_at = sending_at;
    } else if (sent.error().code == Errc::kNotFound) {
      t.outcome = KillOutcome::kAlreadyGone;
    } else {
      t.outcome = KillOutcome::kFailed;
      addNote(plan.report, sent.error());
    }
  }
  // A group with no member left but the victim and its sharers: cgroup.kill still catches
  // whatever was forked since the listing.
  if (plan.use_cgroup_kill && !group_done) {
    if (auto s = writeCgroupKill(*plan.group_dir); !s) addNote(plan.report, s.error());
  }
}

// process_mrelease() for every killed mm (sharers use the victim's: one call covers them).
void PidfdKiller::release(Plan& plan, BackgroundReleaser* releaser) {
  for (Target& t : plan.targets) {
    if (t.outcome != KillOutcome::kKilled || t.role == KillRole::kMmSharer) continue;
    if (releaser) {
      if (auto started = releaser->submit(t.handle.fd()); started) {
        t.release = ReleaseOutcome::kInBackground;
        continue;
      } else {
        addNote(plan.report, started.error());  // fall back to releasing here
      }
    }
    auto released = t.handle.release();
    t.release = releaseOutcome(released);
    if (t.release == ReleaseOutcome::kFailed) addNote(plan.report, released.error());
    // Only when process_mrelease() itself freed the memory; after ESRCH the victim's own exit
    // frees it, and the exit time says when.
    if (t.role == KillRole::kVictim && t.release == ReleaseOutcome::kReleased) {
      plan.report.released_at = Clock::now();
    }
  }
}

}  // namespace oomkit::sys
