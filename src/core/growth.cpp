#include "oomkit/core/growth.h"

#include <unordered_map>

#include "oomkit/core/badness.h"

namespace oomkit::core {
namespace {

constexpr uint64_t kKiB = 1024;

uint64_t footprintKb(const Process& process) {
  return process.memory.rssKb() + process.memory.swap_kb + process.memory.pgtables_kb;
}

bool mayBeAllocatingTask(const Process& process, int32_t self_pid) {
  if (process.pid == self_pid) return false;
  // eligibilityOf() is oom_badness()'s test: no mm, init, kernel threads, adj -1000, ...
  return eligibilityOf(process) == Eligibility::kEligible;
}

}  // namespace

std::optional<Grower> fastestGrower(std::span<const Process> before, std::span<const Process> after,
                                    int32_t self_pid) {
  std::unordered_map<int32_t, const Process*> earlier;
  earlier.reserve(before.size());
  for (const auto& process : before)
    earlier.emplace(process.pid, &process);

  std::optional<Grower> best;
  for (const auto& process : after) {
    const auto found = earlier.find(process.pid);
    if (found == earlier.end()) continue;
    const Process& old = *found->second;
    if (old.start_time_ticks != process.start_time_ticks) continue;  // the pid was reused
    if (!mayBeAllocatingTask(process, self_pid)) continue;
    const uint64_t now_kb = footprintKb(process);
    const uint64_t then_kb = footprintKb(old);
    if (now_kb <= then_kb) continue;
    const uint64_t grew = (now_kb - then_kb) * kKiB;
    if (!best || grew > best->grew_bytes) {
      best = Grower{process.pid, process.start_time_ticks, process.comm, grew};
    }
  }
  return best;
}

}  // namespace oomkit::core
