#include "oomkit/daemon/oom_runner.h"

#include <unistd.h>

#include <algorithm>
#include <thread>

#include "oomkit/core/badness.h"
#include "oomkit/core/growth.h"
#include "oomkit/core/ranking.h"
#include "oomkit/core/text.h"
#include "oomkit/sys/heap_reserve.h"
#include "oomkit/sys/process_handle.h"
#include "oomkit/sys/scope_memory.h"
#include "oomkit/sys/scope_reader.h"
#include "oomkit/sys/scope_usage.h"

namespace oomkit::daemon {
namespace {

using core::Action;
using core::Step;

// How often selection is retried when the chosen victim exits before it can be signalled
// (the kernel would simply find the memory back and not OOM again; here the run goes on).
constexpr int kSelectionAttempts = 3;
// The SIGTERM grace of the rehearsal's kill: the stand-in blocks SIGTERM, and the rehearsal
// only needs the code of the wait, not the scope's whole grace at every start.
constexpr std::chrono::milliseconds kRehearsalGrace{1};

double secondsBetween(SteadyTime from, SteadyTime to) {
  return std::chrono::duration<double>(to - from).count();
}

core::Seconds sinceEpoch(SteadyTime time) {
  return std::chrono::duration_cast<core::Seconds>(time.time_since_epoch());
}

std::string outcomeName(Action action) {
  return std::string(core::actionName(action));
}

EventVictim victimOf(const core::Process& process, const core::RankParams& params) {
  const core::Badness badness = core::computeBadness(process, params.scale, params.formula);
  EventVictim victim;
  victim.pid = process.pid;
  victim.start_time_ticks = process.start_time_ticks;
  victim.comm = process.comm;
  victim.cgroup = process.memcg_path;
  victim.uid = process.uid;
  victim.oom_score_adj = process.oom_score_adj;
  victim.badness = badness.points;
  victim.oom_score = core::predictedOomScore(process, params);
  victim.memory = process.memory;
  victim.chosen_by = "badness";
  return victim;
}

size_t countEligible(const std::vector<core::Process>& processes) {
  return static_cast<size_t>(
      std::count_if(processes.begin(), processes.end(), [](const core::Process& p) {
        return core::eligibilityOf(p) == core::Eligibility::kEligible;
      }));
}

}  // namespace

// The argument of one walk: the scope's need in, the handlers' results out.
struct OomRunner::Walk {
  const sys::OomNotification* notification = nullptr;
  uint64_t freed_bytes = 0;
  std::vector<sys::HandlerOutcome> outcomes;
};

OomRunner::OomRunner(core::ScopeConfig scope, RunnerPorts ports)
    : scope_(std::move(scope)), ports_(std::move(ports)) {}

Result<std::unique_ptr<OomRunner>> OomRunner::create(core::ScopeConfig scope, RunnerPorts ports) {
  if (!ports.proc || !ports.killer || !ports.panic) {
    return makeError(Errc::kInvalidArgument,
                     "the OOM runner needs a proc reader, a killer and a "
                     "panic port");
  }
  std::unique_ptr<OomRunner> runner(new OomRunner(std::move(scope), std::move(ports)));
  const sys::HandlerContext context{runner->ports_.proc, runner->ports_.memory,
                                    runner->ports_.state};
  for (size_t i = 0; i < runner->scope_.handlers.size(); ++i) {
    const core::HandlerConfig& config = runner->scope_.handlers[i];
    auto handler = sys::makeReclaimHandler(runner->scope_, config, context);
    if (!handler) {
      return Unexpected(
          handler.error().wrap("scope " + runner->scope_.name + ", handler " + config.name));
    }
    auto block = std::make_unique<core::NotifierBlock<Walk*>>();
    block->priority = config.priority;
    block->notifier_call = [h = handler->get()](unsigned long, Walk* walk) {
      sys::HandlerOutcome outcome = h->reclaim(*walk->notification);
      walk->freed_bytes += outcome.freed_bytes;
      const int result = outcome.result;
      walk->outcomes.push_back(std::move(outcome));
      return result;
    };
    if (auto registered = runner->chain_.registerBlock(*block); !registered) {
      return Unexpected(registered.error());
    }
    runner->handlers_.push_back(std::move(*handler));
    runner->blocks_.push_back(std::move(block));
  }
  return runner;
}

OomEvent OomRunner::run(const RunRequest& request) {
  return withCost([&] { return runSteps(request); });
}

OomEvent OomRunner::rehearseKill(const core::Process& stand_in) {
  return withCost([&] {
    RunRequest request;
    request.trigger = "rehearsal";
    OomEvent event = newEvent(request);
    {
      const auto lock = lockScope(event);
      EventVictim victim;
      victim.pid = stand_in.pid;
      victim.start_time_ticks = stand_in.start_time_ticks;
      victim.comm = stand_in.comm;
      victim.oom_score_adj = stand_in.oom_score_adj;
      victim.chosen_by = "stand-in";
      event.victim = std::move(victim);
      decide(Step::kSelect, {Action::kKill, "rehearsal: killing the daemon's stand-in"}, event);
      sys::KillRequest kill_request = killRequestFor(stand_in, false);
      kill_request.victim_only = true;
      kill_request.sigterm_grace = std::min(kill_request.sigterm_grace, kRehearsalGrace);
      kill(kill_request, event);
    }
    awaitExit(event);
    return event;
  });
}

template <typename Steps>
OomEvent OomRunner::withCost(Steps&& steps) {
  const uint64_t heap_before = sys::heapBytes();
  const sys::PageFaults faults_before = sys::threadPageFaults();
  OomEvent event = steps();
  const uint64_t heap_after = sys::heapBytes();
  const sys::PageFaults faults_after = sys::threadPageFaults();
  event.cost.heap_grew_bytes = heap_after > heap_before ? heap_after - heap_before : 0;
  event.cost.minor_faults = faults_after.minor - faults_before.minor;
  event.cost.major_faults = faults_after.major - faults_before.major;
  return event;
}

OomEvent OomRunner::newEvent(const RunRequest& request) const {
  OomEvent event;
  event.scope = scope_.name;
  event.cgroup = scope_.cgroup;
  event.trigger = request.trigger;
  event.dry_run = request.dry_run;
  event.sysrq = request.sysrq;
  event.timestamps.trigger = request.triggered_at.value_or(ports_.now());
  return event;
}

// One run per scope at a time (the kernel's oom_lock), also across oomkit processes.
std::optional<sys::ScopeLock> OomRunner::lockScope(OomEvent& event) {
  if (!ports_.state) return std::nullopt;
  auto locked = ports_.state->lockScope(cgroupKey());
  if (locked) return std::move(*locked);
  event.notes.push_back("running without the scope lock: " + locked.error().message);
  return std::nullopt;
}

OomEvent OomRunner::runSteps(const RunRequest& request) {
  OomEvent event = newEvent(request);
  const auto lock = lockScope(event);

  if (auto memory = sys::readScopeMemory(*ports_.proc, ports_.memory, scope_.cgroup)) {
    event.total_bytes = memory->total_bytes;
    event.available_bytes = memory->available_bytes;
    event.high_watermark_bytes =
        core::resolveWatermarks(scope_.watermarks, memory->total_bytes).high_bytes;
  } else {
    event.notes.push_back("cannot read the scope's memory: " + memory.error().message);
  }

  if (walkChain(request, event) || recheck(request, event) || pendingVictim(request, event) ||
      panicOnOom(request, event) || allocatingTask(request, event)) {
    return event;
  }
  selectAndKill(request, event);
  return event;
}

void OomRunner::decide(Step step, const core::Decision& decision, OomEvent& event) {
  event.steps.push_back({step, outcomeName(decision.action), decision.reason});
  event.action = decision.action;
  event.reason = decision.reason;
  event.timestamps.decided = ports_.now();
}

void OomRunner::pass(Step step, std::string reason, OomEvent& event) {
  event.steps.push_back({step, "continue", std::move(reason)});
}

// Step 1.
bool OomRunner::walkChain(const RunRequest& request, OomEvent& event) {
  if (handlers_.empty()) {
    pass(Step::kNotifierChain, "no reclaim handlers", event);
    return false;
  }
  sys::OomNotification notification;
  notification.scope_name = scope_.name;
  notification.cgroup = scope_.cgroup;
  if (scope_.cgroup && ports_.memory) {
    notification.cgroup_dir = ports_.memory->dirOf(*scope_.cgroup);
    notification.cgroup_version = ports_.memory->version;
  }
  notification.total_bytes = event.total_bytes.value_or(0);
  notification.available_bytes = event.available_bytes.value_or(0);
  notification.high_watermark_bytes = event.high_watermark_bytes;
  notification.bytes_needed = event.high_watermark_bytes > notification.available_bytes
                                  ? event.high_watermark_bytes - notification.available_bytes
                                  : 0;

  if (request.dry_run) {
    for (const auto& handler : handlers_) {
      event.handlers.push_back({handler->name(),
                                std::string(core::handlerTypeName(handler->type())),
                                handler->priority(), core::kNotifyDone, 0, "dry run: not called"});
    }
    std::stable_sort(event.handlers.begin(), event.handlers.end(),
                     [](const auto& a, const auto& b) { return a.priority > b.priority; });
    pass(Step::kNotifierChain,
         "dry run: " + std::to_string(handlers_.size()) + " handlers not called", event);
    return false;
  }

  Walk walk;
  walk.notification = &notification;
  const core::NotifierCallResult called = chain_.call(0, &walk);
  event.handlers = std::move(walk.outcomes);
  event.freed_bytes = walk.freed_bytes;
  const core::ChainOutcome outcome{called.nr_calls, walk.freed_bytes,
                                   (called.result & core::kNotifyStopMask) != 0, called.result};
  if (auto decision = core::afterNotifierChain(outcome)) {
    decide(Step::kNotifierChain, *decision, event);
    return true;
  }
  pass(Step::kNotifierChain,
       std::to_string(called.nr_calls) + " handlers ran and freed " +
           core::formatMiB(walk.freed_bytes),
       event);
  return false;
}

// Step 2.
bool OomRunner::recheck(const RunRequest& request, OomEvent& event) {
  if (event.freed_bytes == 0) return false;
  std::optional<core::ScopeMemory> now;
  if (auto memory = sys::readScopeMemory(*ports_.proc, ports_.memory, scope_.cgroup)) {
    event.available_after_handlers = memory->available_bytes;
    // A handler may have changed the scope's size (grow-limit): percentages follow it.
    const uint64_t high =
        core::resolveWatermarks(scope_.watermarks, memory->total_bytes).high_bytes;
    now = core::ScopeMemory{memory->available_bytes, high};
  } else {
    event.notes.push_back("cannot re-read the scope: " + memory.error().message);
  }
  if (auto decision = core::afterRecheck(event.freed_bytes, now, request.sysrq)) {
    decide(Step::kRecheck, *decision, event);
    return true;
  }
  if (request.sysrq) {
    pass(Step::kRecheck, "SysRq rules: freed memory does not stop the run", event);
  } else if (now) {
    pass(Step::kRecheck,
         "available " + core::formatMiB(now->available_bytes) +
             " is still not above the high watermark " + core::formatMiB(now->high_watermark_bytes),
         event);
  } else {
    pass(Step::kRecheck, "the scope could not be re-read", event);
  }
  return false;
}

// The victims recorded for this scope that are still dying at `now`; exited ones are dropped
// from the record, expired ones are kept out of the answer (MMF_OOM_SKIP) but not forgotten
// until they exit or their deadline is long past.
std::vector<sys::VictimRecord> OomRunner::liveVictims(SteadyTime now) {
  const std::vector<sys::VictimRecord> recorded = loadVictims();
  std::vector<sys::VictimRecord> kept;
  std::vector<sys::VictimRecord> live;
  for (const auto& record : recorded) {
    auto handle = sys::ProcessHandle::open(*ports_.proc, record.pid, record.start_time_ticks);
    if (!handle || handle->exited()) continue;  // gone, or its pid names another process now
    kept.push_back(record);
    if (now < record.deadline) live.push_back(record);
  }
  if (kept.size() != recorded.size()) storeVictims(kept);
  return live;
}

std::vector<sys::VictimRecord> OomRunner::loadVictims() const {
  return ports_.state ? ports_.state->victims(cgroupKey()) : local_victims_;
}

// A failure to store is not fatal: the next run may wait for a victim that has gone, until its
// deadline, or (a lost record) not wait for one still dying, as after MMF_OOM_SKIP.
void OomRunner::storeVictims(const std::vector<sys::VictimRecord>& victims) {
  if (ports_.state) {
    (void)ports_.state->storeVictims(cgroupKey(), victims);
  } else {
    local_victims_ = victims;
  }
}

// Step 3.
bool OomRunner::pendingVictim(const RunRequest& request, OomEvent& event) {
  const SteadyTime now = ports_.now();
  const auto live = liveVictims(now);
  if (live.empty()) {
    pass(Step::kPendingVictim, "no victim of this scope is still exiting", event);
    return false;
  }
  const sys::VictimRecord& oldest = live.front();
  const core::PendingVictim pending{oldest.pid, sinceEpoch(oldest.signalled_at)};
  const core::Seconds reap_timeout =
      std::chrono::duration_cast<core::Seconds>(oldest.deadline - oldest.signalled_at);
  if (auto decision =
          core::afterPendingVictim(pending, sinceEpoch(now), reap_timeout, request.sysrq)) {
    event.pending = EventPending{oldest.pid, oldest.comm, secondsBetween(oldest.signalled_at, now),
                                 secondsBetween(now, oldest.deadline)};
    decide(Step::kPendingVictim, *decision, event);
    return true;
  }
  pass(Step::kPendingVictim,
       "SysRq rules: victim " + std::to_string(oldest.pid) + " is still exiting, not waited for",
       event);
  return false;
}

// Step 4.
bool OomRunner::panicOnOom(const RunRequest& request, OomEvent& event) {
  const bool memcg = !scope_.isGlobal();
  if (auto decision = core::afterPanicOnOom(scope_.policy.panic_on_oom, memcg, request.sysrq)) {
    decide(Step::kPanicOnOom, *decision, event);
    panic(request, event);
    return true;
  }
  std::string reason =
      "panic_on_oom = " + std::to_string(static_cast<int>(scope_.policy.panic_on_oom));
  if (request.sysrq && scope_.policy.panic_on_oom != core::PanicOnOom::kOff) {
    reason += ", ignored under SysRq rules";
  } else if (scope_.policy.panic_on_oom == core::PanicOnOom::kGlobalOnly) {
    reason += ", which does not apply to a cgroup scope";
  }
  pass(Step::kPanicOnOom, reason, event);
  return false;
}

// Step 5.
bool OomRunner::allocatingTask(const RunRequest& request, OomEvent& event) {
  if (!scope_.policy.kill_allocating_task) {
    pass(Step::kAllocatingTask, "kill_allocating_task is off", event);
    return false;
  }
  if (!scope_.isGlobal()) {
    pass(Step::kAllocatingTask, "kill_allocating_task does not apply to a cgroup scope", event);
    return false;
  }
  std::optional<core::Grower> grower = request.grower;
  if (!grower) grower = sampleGrower(event);
  auto decision = core::afterAllocatingTask(true, grower, false);
  if (!decision) {
    pass(Step::kAllocatingTask, "no process grew in the window", event);
    return false;
  }
  decide(Step::kAllocatingTask, *decision, event);
  core::Process process;
  process.pid = grower->pid;
  process.start_time_ticks = grower->start_time_ticks;
  process.comm = grower->comm;
  EventVictim victim;
  victim.pid = grower->pid;
  victim.start_time_ticks = grower->start_time_ticks;
  victim.comm = grower->comm;
  victim.chosen_by = "allocating_task";
  victim.grew_bytes = grower->grew_bytes;
  event.victim = victim;
  if (kill(request, process, event)) return true;
  event.victim.reset();
  pass(Step::kAllocatingTask, "the grower exited before the kill; selecting by badness", event);
  return false;
}

std::optional<core::Grower> OomRunner::sampleGrower(OomEvent& event) {
  auto before = ports_.proc->snapshot(sys::kFieldsExact);
  if (!before) {
    event.notes.push_back("cannot sample processes: " + before.error().message);
    return std::nullopt;
  }
  const auto window =
      std::chrono::duration_cast<std::chrono::nanoseconds>(scope_.policy.allocating_window);
  if (ports_.sleep) {
    ports_.sleep(window);
  } else {
    std::this_thread::sleep_for(window);
  }
  auto after = ports_.proc->snapshot(sys::kFieldsExact);
  if (!after) {
    event.notes.push_back("cannot sample processes: " + after.error().message);
    return std::nullopt;
  }
  return core::fastestGrower(before->processes, after->processes, ::getpid());
}

bool OomRunner::waitForDying(const RunRequest& request, std::vector<core::Process>& processes,
                             OomEvent& event) {
  const SteadyTime now = ports_.now();
  const auto timeout = std::chrono::duration_cast<SteadyTime::duration>(scope_.policy.reap_timeout);
  std::map<std::pair<int32_t, uint64_t>, SteadyTime> seen;  // the dying of this scan only
  std::optional<core::DyingProcess> dying;                  // the first one still waited for
  SteadyTime dying_since{};
  std::erase_if(processes, [&](const core::Process& p) {
    if (!core::isDyingWithMemory(p)) return false;
    const auto key = std::make_pair(p.pid, p.start_time_ticks);
    const auto known = dying_since_.find(key);
    const SteadyTime since = known == dying_since_.end() ? now : known->second;
    seen.emplace(key, since);
    if (now - since >= timeout) return true;  // MMF_OOM_SKIP: neither waited for nor chosen
    if (!dying) {
      dying = core::DyingProcess{p.pid, p.comm, p.sigkill_pending};
      dying_since = since;
    }
    return false;
  });
  dying_since_ = std::move(seen);  // forget the ones that have gone
  const auto decision = core::afterDyingProcess(dying, request.sysrq);
  if (!decision) return false;
  event.pending = EventPending{dying->pid, dying->comm, secondsBetween(dying_since, now),
                               secondsBetween(now, dying_since + timeout)};
  decide(Step::kSelect, *decision, event);
  return true;
}

// Steps 6 and 7.
void OomRunner::selectAndKill(const RunRequest& request, OomEvent& event) {
  sys::ScopeRequest scope_request;
  if (scope_.cgroup) scope_request.cgroup = scope_.cgroup;
  scope_request.cgroup_roots = ports_.cgroup_roots;
  // A cgroup scope knows its members' cgroups from the tree it walks; the global scope reads
  // /proc/PID/cgroup for the victim alone, not for every process it ranks.
  scope_request.fields = sys::kFieldsExact;
  const int32_t self = ::getpid();
  for (int attempt = 0; attempt < kSelectionAttempts; ++attempt) {
    auto view = sys::gatherScope(*ports_.proc, scope_request);
    if (!view) {
      event.failed = true;
      decide(Step::kSelect, {Action::kNone, "selection failed: " + view.error().message}, event);
      return;
    }
    // oomkit never kills itself; the kernel would not spare it, so say so when it matters.
    std::erase_if(view->processes, [self](const core::Process& p) { return p.pid == self; });
    if (waitForDying(request, view->processes, event)) return;
    const auto index = core::selectVictim(view->processes, view->params);
    const size_t eligible = countEligible(view->processes);
    if (!index) {
      decide(Step::kNoVictim, core::afterSelection(std::nullopt, 0, eligible), event);
      panic(request, event);
      return;
    }
    core::Process& victim = view->processes[*index];
    if (victim.memcg_path.empty()) {
      victim.memcg_path = ports_.proc->readMemcgPath(victim.pid).value_or("");
    }
    event.victim = victimOf(victim, view->params);
    decide(Step::kSelect, core::afterSelection(victim.pid, event.victim->badness, eligible), event);
    if (kill(request, victim, event)) return;
    event.victim.reset();
    pass(Step::kSelect,
         "victim " + std::to_string(victim.pid) + " exited before the kill; selecting again",
         event);
  }
  decide(Step::kSelect, {Action::kNone, "every chosen victim exited before it could be killed"},
         event);
  event.failed = true;
}

void OomRunner::panic(const RunRequest& request, OomEvent& event) {
  sys::PanicRequest panic_request;
  panic_request.action = scope_.policy.panic_action;
  panic_request.scope_name = scope_.name;
  panic_request.cgroup = scope_.cgroup;
  panic_request.command = scope_.panic_command;
  panic_request.timeout = scope_.panic_command_timeout;
  panic_request.reason = event.reason;
  panic_request.dry_run = request.dry_run;
  event.panic_action = panic_request.action;
  event.panic = ports_.panic->panic(panic_request);
  if (!request.dry_run && !event.panic->carried_out) event.failed = true;
}

sys::KillRequest OomRunner::killRequestFor(const core::Process& victim, bool dry_run) const {
  sys::KillRequest kill_request;
  kill_request.victim = victim;
  kill_request.scope_cgroup = scope_.cgroup;
  if (scope_.kill.sigterm_first) kill_request.sigterm_grace = scope_.kill.sigterm_grace;
  kill_request.dry_run = dry_run;
  kill_request.release = scope_.kill.process_mrelease;
  kill_request.releaser = ports_.releaser;
  return kill_request;
}

bool OomRunner::kill(const RunRequest& request, const core::Process& victim, OomEvent& event) {
  return kill(killRequestFor(victim, request.dry_run), event);
}

bool OomRunner::kill(const sys::KillRequest& kill_request, OomEvent& event) {
  const core::Process& victim = kill_request.victim;
  auto report = ports_.killer->killVictim(kill_request);
  if (!report) {
    if (report.error().code == Errc::kNotFound) {
      event.notes.push_back(report.error().message);
      return false;
    }
    event.notes.push_back("kill failed: " + report.error().message);
    event.failed = true;
    return true;
  }
  event.timestamps.signalled = report->signalledAt();
  event.timestamps.released = report->released_at;
  event.timestamps.exited = report->exited_at;
  // Recorded even when it has exited already (finishIfExited() forgets it at once): one rule,
  // and the rehearsal's stand-in, which exits at once, walks the path a big victim takes.
  if (!kill_request.dry_run && report->signalledAt()) {
    const SteadyTime signalled = *report->signalledAt();
    const auto reap_timeout =
        std::chrono::duration_cast<SteadyTime::duration>(scope_.policy.reap_timeout);
    auto victims = loadVictims();
    victims.push_back({victim.pid, victim.start_time_ticks, report->victim().comm, signalled,
                       report->sigkill_at.value_or(signalled) + reap_timeout});
    storeVictims(victims);
  }
  event.kill = std::move(*report);
  return true;
}

std::optional<SteadyTime> OomRunner::exitDeadline(const OomEvent& event) const {
  if (!event.kill || event.dry_run || event.kill->handles.empty()) return std::nullopt;
  const auto signalled = event.kill->signalledAt();
  if (!signalled) return std::nullopt;
  const auto reap_timeout =
      std::chrono::duration_cast<SteadyTime::duration>(scope_.policy.reap_timeout);
  return event.kill->sigkill_at.value_or(*signalled) + reap_timeout;
}

void OomRunner::awaitExit(OomEvent& event) {
  const auto deadline = exitDeadline(event);
  if (!deadline) return;
  for (const auto& handle : event.kill->handles) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - ports_.now());
    if (!handle.waitExit(std::max(left, std::chrono::milliseconds(0)))) break;
  }
  finishIfExited(event, std::max(ports_.now(), *deadline));
}

bool OomRunner::finishIfExited(OomEvent& event, SteadyTime now) {
  const auto deadline = exitDeadline(event);
  if (!deadline) return true;
  sys::KillReport& report = *event.kill;
  const bool all_exited = std::all_of(report.handles.begin(), report.handles.end(),
                                      [](const sys::ProcessHandle& h) { return h.exited(); });
  if (!all_exited) {
    if (now < *deadline) return false;
    event.timed_out = true;
    event.notes.push_back("not every killed process exited within the reap timeout");
    return true;
  }
  if (!event.timestamps.exited) event.timestamps.exited = ports_.now();
  if (report.usage_before_bytes) {
    if (auto after = sys::readScopeUsage(*ports_.proc, report.usage_cgroup_dir)) {
      event.recovered_bytes = sys::recoveredBytes(*report.usage_before_bytes, *after);
    }
  }
  // The victim is gone: forget it, so that the next run need not open its pid to find out.
  auto victims = loadVictims();
  std::erase_if(victims, [&](const sys::VictimRecord& r) {
    return r.pid == report.victim().pid && r.start_time_ticks == report.victim().start_time_ticks;
  });
  storeVictims(victims);
  return true;
}

std::vector<int32_t> OomEvent::killedPids() const {
  std::vector<int32_t> pids;
  if (!kill) return pids;
  for (const auto& target : kill->targets) {
    if (target.outcome == sys::KillOutcome::kKilled ||
        target.outcome == sys::KillOutcome::kWouldKill ||
        target.outcome == sys::KillOutcome::kExitedOnSigterm) {
      pids.push_back(target.pid);
    }
  }
  return pids;
}

}  // namespace oomkit::daemon
