// oomkit/core/oom_path.h — the decisions of one run of the OOM path, in the order of the
// kernel's out_of_memory() (mm/oom_kill.c; ARCHITECTURE.md "The OOM path").
//
// Each step is a named function that looks at facts gathered by the caller and returns
// either a final Decision (the run ends there) or nothing (go on to the next step). Every
// step taken is recorded with its reason, so that one run yields one explainable OomEvent.
// The runner that gathers the facts and carries out the decision lives outside the core.
// Pure: no I/O, no clock (times are arguments). Thread-safe (no state).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oomkit/core/process.h"

namespace oomkit::core {

using Seconds = std::chrono::duration<double>;

// vm.panic_on_oom (Documentation/admin-guide/sysctl/vm.rst): 0 = kill, 1 = panic for a
// global OOM only (not for cpuset/mempolicy/memcg constraints), 2 = panic always.
enum class PanicOnOom { kOff = 0, kGlobalOnly = 1, kAlways = 2 };

enum class PanicAction { kLog, kReboot, kCrash, kExec };
std::string_view panicActionName(PanicAction action);  // "log", "reboot", "crash", "exec"

struct OomPolicy {
  PanicOnOom panic_on_oom = PanicOnOom::kOff;
  bool kill_allocating_task = false;
  PanicAction panic_action = PanicAction::kLog;
  Seconds reap_timeout{5.0};  // how long a dying victim blocks new kills (then MMF_OOM_SKIP)
  // kill_allocating_task: the window over which "grew most" is measured.
  Seconds allocating_window{1.0};
};

enum class Step {
  kNotifierChain,   // 1. reclaim handlers, highest priority first
  kRecheck,         // 2. anything freed: is the scope above its high watermark again?
  kPendingVictim,   // 3. a victim of this scope still dying
  kPanicOnOom,      // 4. panic_on_oom applies
  kAllocatingTask,  // 5. kill_allocating_task: the fastest grower
  kSelect,          // 6. badness selection
  kNoVictim,        // 7. nothing eligible
};
std::string_view stepName(Step step);  // "notifier_chain", "recheck", ...

enum class Action { kNone, kHandled, kWait, kPanic, kKill };
std::string_view actionName(Action action);  // "none", "handled", "wait", "panic", "kill"

struct StepRecord {
  Step step;
  std::string outcome;  // "continue", "handled", "wait", "panic", "kill", ...
  std::string reason;   // why, with the numbers
};

struct Decision {
  Action action = Action::kNone;
  std::string reason;
};

// Step 1: the chain's walk. `stopped` is a result with NOTIFY_STOP_MASK: a handler took
// charge of the OOM ("handled"), like a scheme replacing the killer.
struct ChainOutcome {
  int handlers_run = 0;
  uint64_t freed_bytes = 0;
  bool stopped = false;
  int last_result = 0;
};
std::optional<Decision> afterNotifierChain(const ChainOutcome& chain);

// Step 2: only when something was freed. The kernel's "Got some memory back in the last
// second" returns as soon as anything was freed; oomkit re-reads the scope and stops only
// if it is back above its `high` watermark. With `sysrq` (the SysRq-f rules, `oomkit trigger
// --force`) `freed` is ignored, as out_of_memory() does for is_sysrq_oom(). A plain manual
// run (`oomkit trigger`) follows the whole path, so that it shows what an OOM would do.
struct ScopeMemory {
  uint64_t available_bytes = 0;
  uint64_t high_watermark_bytes = 0;
};
std::optional<Decision> afterRecheck(uint64_t freed_bytes, const std::optional<ScopeMemory>& now,
                                     bool sysrq);

// Step 3: a victim of this scope that has not exited yet (its pidfd not readable). Within
// the reap timeout the run waits; past it, it goes on as the kernel does once the reaper set
// MMF_OOM_SKIP. SysRq f ignores pending victims (oom_evaluate_task(): !is_sysrq_oom()).
struct PendingVictim {
  int32_t pid = 0;
  Seconds signalled_at{0};
};
std::optional<Decision> afterPendingVictim(const std::optional<PendingVictim>& pending, Seconds now,
                                           Seconds reap_timeout, bool sysrq);

// Step 4: check_panic_on_oom(): 1 panics only for a global scope; never for SysRq f.
std::optional<Decision> afterPanicOnOom(PanicOnOom panic_on_oom, bool memcg_scope, bool sysrq);

// Step 5: the user-space analogue of oom_kill_allocating_task: the process whose memory
// grew most over the recent window, when known (the kernel also skips it for memcg OOMs).
struct Grower {
  int32_t pid = 0;
  uint64_t start_time_ticks = 0;  // with pid, the identity to kill
  std::string comm;
  uint64_t grew_bytes = 0;
};
std::optional<Decision> afterAllocatingTask(bool kill_allocating_task,
                                            const std::optional<Grower>& grower, bool memcg_scope);

// Step 6's abort. oom_evaluate_task() stops the scan at an OOM victim that is still exiting
// (tsk_is_oom_victim() without MMF_OOM_SKIP) and the kernel waits for its memory instead of
// killing a second process. User space cannot see the kernel's victim mark; a process of the
// scope that is dying — SIGKILL pending, or PF_EXITING (set by do_exit() before exit_mm()) —
// and still has its memory stands for it, whoever killed it: the kernel's OOM killer, another
// oomkit, an operator. Past the reap timeout it is skipped instead (the MMF_OOM_SKIP the
// oom_reaper sets), by the caller. SysRq f does not wait.
bool isDyingWithMemory(const Process& process);
struct DyingProcess {
  int32_t pid = 0;
  std::string comm;
  bool sigkill_pending = false;  // else PF_EXITING
};
std::optional<Decision> afterDyingProcess(const std::optional<DyingProcess>& dying, bool sysrq);

// Steps 6 and 7: the selection's result.
Decision afterSelection(const std::optional<int32_t>& victim_pid, int64_t victim_badness,
                        size_t eligible_count);

// Records steps as they are taken; finish() appends the final one.
class PathLog {
 public:
  void add(Step step, std::string outcome, std::string reason) {
    steps_.push_back({step, std::move(outcome), std::move(reason)});
  }
  const std::vector<StepRecord>& steps() const { return steps_; }

 private:
  std::vector<StepRecord> steps_;
};

}  // namespace oomkit::core
