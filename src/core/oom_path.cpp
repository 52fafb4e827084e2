#include "oomkit/core/oom_path.h"

#include <string>

#include "oomkit/core/badness.h"
#include "oomkit/core/config_values.h"
#include "oomkit/core/procfs.h"
#include "oomkit/core/text.h"

namespace oomkit::core {
namespace {

Decision decide(Action action, std::string reason) {
  return {action, std::move(reason)};
}

}  // namespace

std::string_view panicActionName(PanicAction action) {
  switch (action) {
    case PanicAction::kLog:
      return "log";
    case PanicAction::kReboot:
      return "reboot";
    case PanicAction::kCrash:
      return "crash";
    case PanicAction::kExec:
      return "exec";
  }
  return "log";
}

std::string_view stepName(Step step) {
  switch (step) {
    case Step::kNotifierChain:
      return "notifier_chain";
    case Step::kRecheck:
      return "recheck";
    case Step::kPendingVictim:
      return "pending_victim";
    case Step::kPanicOnOom:
      return "panic_on_oom";
    case Step::kAllocatingTask:
      return "allocating_task";
    case Step::kSelect:
      return "select";
    case Step::kNoVictim:
      return "no_victim";
  }
  return "unknown";
}

std::string_view actionName(Action action) {
  switch (action) {
    case Action::kNone:
      return "none";
    case Action::kHandled:
      return "handled";
    case Action::kWait:
      return "wait";
    case Action::kPanic:
      return "panic";
    case Action::kKill:
      return "kill";
  }
  return "none";
}

std::optional<Decision> afterNotifierChain(const ChainOutcome& chain) {
  if (chain.stopped) {
    return decide(Action::kHandled, "a handler stopped the chain (result " +
                                        std::to_string(chain.last_result) + ") after freeing " +
                                        formatMiB(chain.freed_bytes));
  }
  return std::nullopt;
}

std::optional<Decision> afterRecheck(uint64_t freed_bytes, const std::optional<ScopeMemory>& now,
                                     bool sysrq) {
  if (freed_bytes == 0 || sysrq || !now) return std::nullopt;
  if (now->available_bytes > now->high_watermark_bytes) {
    return decide(Action::kNone, "handlers freed " + formatMiB(freed_bytes) + "; available " +
                                     formatMiB(now->available_bytes) +
                                     " is above the high watermark " +
                                     formatMiB(now->high_watermark_bytes));
  }
  return std::nullopt;
}

std::optional<Decision> afterPendingVictim(const std::optional<PendingVictim>& pending, Seconds now,
                                           Seconds reap_timeout, bool sysrq) {
  if (!pending || sysrq) return std::nullopt;
  const Seconds waited = now - pending->signalled_at;
  if (waited < reap_timeout) {
    return decide(Action::kWait, "victim " + std::to_string(pending->pid) + " is still exiting (" +
                                     std::to_string(waited.count()) + " s of the " +
                                     std::to_string(reap_timeout.count()) + " s reap timeout)");
  }
  return std::nullopt;  // past the timeout: like MMF_OOM_SKIP, it no longer blocks a kill
}

std::optional<Decision> afterPanicOnOom(PanicOnOom panic_on_oom, bool memcg_scope, bool sysrq) {
  if (panic_on_oom == PanicOnOom::kOff || sysrq) return std::nullopt;
  if (panic_on_oom == PanicOnOom::kGlobalOnly && memcg_scope) return std::nullopt;
  return decide(Action::kPanic, panic_on_oom == PanicOnOom::kAlways
                                    ? "panic_on_oom = 2 (compulsory)"
                                    : "panic_on_oom = 1 and the whole machine is out of memory");
}

std::optional<Decision> afterAllocatingTask(bool kill_allocating_task,
                                            const std::optional<Grower>& grower, bool memcg_scope) {
  if (!kill_allocating_task || memcg_scope || !grower) return std::nullopt;
  return decide(Action::kKill, "kill_allocating_task: pid " + std::to_string(grower->pid) +
                                   " grew most (" + formatMiB(grower->grew_bytes) + ")");
}

bool isDyingWithMemory(const Process& process) {
  const bool dying = process.sigkill_pending || (process.flags & kPfExiting) != 0;
  if (!dying) return false;
  // Kernel threads never die this way; zombies and tasks past exit_mm() have nothing to free.
  const Eligibility eligibility = eligibilityOf(process);
  return eligibility == Eligibility::kEligible || eligibility == Eligibility::kAdjMin;
}

std::optional<Decision> afterDyingProcess(const std::optional<DyingProcess>& dying, bool sysrq) {
  if (!dying || sysrq) return std::nullopt;
  return Decision{Action::kWait,
                  "pid " + std::to_string(dying->pid) + " (" + escapeBytes(dying->comm) +
                      ") is already dying (" +
                      (dying->sigkill_pending ? "SIGKILL pending" : "PF_EXITING") +
                      ") and still holds its memory: waiting for it, as the kernel waits "
                      "for its OOM victim"};
}

Decision afterSelection(const std::optional<int32_t>& victim_pid, int64_t victim_badness,
                        size_t eligible_count) {
  if (!victim_pid) return decide(Action::kPanic, "out of memory and no killable processes");
  return decide(Action::kKill, "pid " + std::to_string(*victim_pid) + " has the highest badness (" +
                                   std::to_string(victim_badness) + " pages) of " +
                                   std::to_string(eligible_count) + " eligible processes");
}

}  // namespace oomkit::core
