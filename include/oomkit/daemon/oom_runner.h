// oomkit/daemon/oom_runner.h — one scope's OOM path, carried out: the seven steps of
// core/oom_path.h (the kernel's out_of_memory() order) wired to the machine through ports.
//
// run() takes the scope's lock (one run per scope, across processes: sys::OomState), walks
// the scope's notifier chain of reclaim handlers, re-reads the scope, checks for a victim
// still dying, applies panic_on_oom and kill_allocating_task, selects by badness and kills
// through the Killer, or calls the PanicPort; it returns one OomEvent. A dry run takes every
// step but calls no handler, sends no signal and carries out no panic action. awaitExit()
// then watches the victims' pidfds until they exit or the reap timeout passes, and fills in
// the exit time and the memory the scope got back. Not thread-safe: one runner per scope,
// driven from one thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "oomkit/core/config.h"
#include "oomkit/core/notifier_chain.h"
#include "oomkit/core/process.h"
#include "oomkit/daemon/oom_event.h"
#include "oomkit/result.h"
#include "oomkit/sys/cgroups.h"
#include "oomkit/sys/killer.h"
#include "oomkit/sys/oom_state.h"
#include "oomkit/sys/panic_port.h"
#include "oomkit/sys/proc_reader.h"
#include "oomkit/sys/reclaim_handler.h"

namespace oomkit::daemon {

// The machine, as the runner sees it. Pointers must outlive the runner.
struct RunnerPorts {
  sys::ProcReader* proc = nullptr;
  std::optional<sys::MemoryHierarchy> memory;  // required for a cgroup scope
  std::vector<std::string> cgroup_roots;       // --cgroup-root, for selection
  sys::Killer* killer = nullptr;
  sys::PanicPort* panic = nullptr;
  sys::OomState* state = nullptr;  // none: lock and pending victims within this process only
  // process_mrelease() on this thread: for an event loop that must not block (the daemon).
  // None: the kill waits for the release (`oomkit trigger`, which reports its timestamp).
  sys::BackgroundReleaser* releaser = nullptr;
  std::function<SteadyTime()> now = [] { return std::chrono::steady_clock::now(); };
  // Waits out kill_allocating_task's sampling window (tests substitute it).
  std::function<void(std::chrono::nanoseconds)> sleep;
};

struct RunRequest {
  std::string trigger = "manual";
  std::optional<SteadyTime> triggered_at;  // default: when run() starts
  bool dry_run = false;
  bool sysrq = false;  // the SysRq-f rules (`oomkit trigger --force`)
  // kill_allocating_task: the daemon's growth tracker's answer. Without it, run() samples the
  // scope's processes twice, policy.allocating_window apart.
  std::optional<core::Grower> grower;
};

class OomRunner {
 public:
  // Builds the scope's handlers (sys::makeReclaimHandler) and registers them on its chain.
  static Result<std::unique_ptr<OomRunner>> create(core::ScopeConfig scope, RunnerPorts ports);

  // Runs the steps; the event's `cost` says what the run cost this process (heap growth,
  // page faults), measured around it.
  OomEvent run(const RunRequest& request);

  // The kill of a run, carried out on the daemon's stand-in (sys/stand_in.h) instead of a
  // selected victim, then awaitExit(): faults in the code of the kill, the release, the shared
  // record of victims and the wait, which a dry run leaves out. Only the stand-in is signalled
  // (no mm sharers, no oom group); a SIGTERM grace is cut to 1 ms. No handler runs.
  OomEvent rehearseKill(const core::Process& stand_in);

  // Blocks until every process `event` signalled has exited or the scope's reap timeout has
  // passed since the signal; sets timestamps.exited / timed_out and recovered_bytes, and
  // forgets the victim in the shared state once it has exited. Nothing to do for other events.
  void awaitExit(OomEvent& event);

  // The same without blocking, for an event loop: the time by which the processes `event`
  // signalled should have exited (nullopt: nothing to wait for), and whether the wait is over
  // at `now` (all exited, or the deadline passed; the event is then completed as above).
  std::optional<SteadyTime> exitDeadline(const OomEvent& event) const;
  bool finishIfExited(OomEvent& event, SteadyTime now);

  const core::ScopeConfig& scope() const { return scope_; }

 private:
  struct Walk;  // the argument of one walk of the chain
  using Chain = core::NotifierChain<Walk*>;

  OomRunner(core::ScopeConfig scope, RunnerPorts ports);
  OomEvent runSteps(const RunRequest& request);
  // `steps`' event with the cost of running them (RunCost: heap growth, page faults).
  template <typename Steps>
  OomEvent withCost(Steps&& steps);
  OomEvent newEvent(const RunRequest& request) const;
  std::optional<sys::ScopeLock> lockScope(OomEvent& event);

  // Each returns true when the run ends at that step (the event has its action).
  bool walkChain(const RunRequest& request, OomEvent& event);
  bool recheck(const RunRequest& request, OomEvent& event);
  bool pendingVictim(const RunRequest& request, OomEvent& event);
  bool panicOnOom(const RunRequest& request, OomEvent& event);
  bool allocatingTask(const RunRequest& request, OomEvent& event);
  void selectAndKill(const RunRequest& request, OomEvent& event);

  void panic(const RunRequest& request, OomEvent& event);
  // Kills `victim`; false when it had already gone (the caller may choose again).
  bool kill(const RunRequest& request, const core::Process& victim, OomEvent& event);
  bool kill(const sys::KillRequest& kill_request, OomEvent& event);
  sys::KillRequest killRequestFor(const core::Process& victim, bool dry_run) const;
  void decide(core::Step step, const core::Decision& decision, OomEvent& event);
  void pass(core::Step step, std::string reason, OomEvent& event);

  std::optional<core::Grower> sampleGrower(OomEvent& event);
  // Step 6's abort: true when the run waits for a process of the scope that is already dying
  // (the event has its decision); dying ones past the reap timeout are taken out of
  // `processes`, as the kernel skips an OOM victim with MMF_OOM_SKIP.
  bool waitForDying(const RunRequest& request, std::vector<core::Process>& processes,
                    OomEvent& event);
  std::vector<sys::VictimRecord> liveVictims(SteadyTime now);
  std::vector<sys::VictimRecord> loadVictims() const;
  void storeVictims(const std::vector<sys::VictimRecord>& victims);
  std::string cgroupKey() const { return scope_.cgroup.value_or("/"); }

  core::ScopeConfig scope_;
  RunnerPorts ports_;
  std::vector<std::unique_ptr<sys::ReclaimHandler>> handlers_;
  std::vector<std::unique_ptr<core::NotifierBlock<Walk*>>> blocks_;
  Chain chain_;
  std::vector<sys::VictimRecord> local_victims_;  // when there is no shared state
  // Processes of the scope seen dying (core::isDyingWithMemory), by pid and start time, with
  // when they were first seen so: waited for until the reap timeout, then skipped.
  std::map<std::pair<int32_t, uint64_t>, SteadyTime> dying_since_;
};

}  // namespace oomkit::daemon
