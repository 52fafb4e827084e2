#include "oomkit/core/kill_rules.h"

#include "oomkit/core/scope.h"

namespace oomkit::core {
namespace {

constexpr int32_t kInitPid = 1;

bool isKernelThread(const Process& p) {
  return (p.flags & kPfKthread) != 0;
}

// The checks every kind of target shares, most fundamental first.
std::optional<KillVerdict> neverKill(const Process& p, int32_t self_pid) {
  if (p.pid == kInitPid) return KillVerdict::kSkipInit;
  if (isKernelThread(p)) return KillVerdict::kSkipKernelThread;
  if (p.pid == self_pid) return KillVerdict::kSkipSelf;
  return std::nullopt;
}

std::string parentOf(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == 0 || slash == std::string_view::npos) return "/";
  return std::string(path.substr(0, slash));
}

}  // namespace

std::string_view verdictName(KillVerdict verdict) {
  switch (verdict) {
    case KillVerdict::kKill:
      return "kill";
    case KillVerdict::kSkipInit:
      return "init";
    case KillVerdict::kSkipKernelThread:
      return "kernel thread";
    case KillVerdict::kSkipScoreAdjMin:
      return "oom_score_adj -1000";
    case KillVerdict::kSkipSelf:
      return "oomkit itself";
  }
  return "unknown";
}

KillVerdict judgeVictim(const Process& victim, int32_t self_pid) {
  if (auto never = neverKill(victim, self_pid)) return *never;
  if (victim.oom_score_adj == kOomScoreAdjMin) return KillVerdict::kSkipScoreAdjMin;
  return KillVerdict::kKill;
}

KillVerdict judgeMmSharer(const Process& sharer, int32_t self_pid) {
  return judgeVictim(sharer, self_pid);
}

KillVerdict judgeGroupMember(const Process& member, int32_t self_pid) {
  return judgeVictim(member, self_pid);
}

std::string mmPinnedMessage(const Process& victim, const Process& sharer) {
  return "oom killer " + std::to_string(victim.pid) + " (" + victim.comm + ") has mm pinned by " +
         std::to_string(sharer.pid) + " (" + sharer.comm + ")";
}

std::vector<std::string> oomGroupCandidates(std::string_view victim_cgroup,
                                            std::string_view oom_domain) {
  std::vector<std::string> chain;
  const std::string_view domain = oom_domain.empty() ? "/" : oom_domain;
  if (victim_cgroup.empty() || victim_cgroup == "/") return chain;  // mem_cgroup_is_root()
  if (!isCgroupUnder(victim_cgroup, domain)) return chain;
  std::string path(victim_cgroup);
  for (;;) {
    chain.push_back(path);
    if (path == domain || path == "/") break;
    path = parentOf(path);
  }
  return chain;
}

std::optional<std::string> selectOomGroup(std::span<const OomGroupFlag> chain) {
  std::optional<std::string> group;
  for (const OomGroupFlag& link : chain) {
    if (link.oom_group) group = link.path;  // keep climbing: the highest one wins
  }
  return group;
}

}  // namespace oomkit::core
