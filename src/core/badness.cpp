#include "oomkit/core/badness.h"

#include <array>

#include "oomkit/core/procfs.h"
#include "oomkit/core/text.h"

namespace oomkit::core {
namespace {

struct FormulaEntry {
  Formula formula;
  std::string_view name;
  std::string_view kernels;
};

constexpr std::array<FormulaEntry, 4> kFormulas = {{
    {Formula::kCurrent, "current", "5.9 and later"},
    {Formula::kV4_17, "4.17", "4.17 to 5.8"},
    {Formula::kV3_14, "3.14", "3.14 to 4.16"},
    {Formula::kV3_10, "3.10", "3.10 to 3.13"},
}};

const FormulaEntry& entryOf(Formula formula) {
  for (const auto& entry : kFormulas) {
    if (entry.formula == formula) return entry;
  }
  return kFormulas[0];
}

bool hasCapSysAdmin(const Process& process) {
  return (process.cap_eff >> kCapSysAdmin) & 1u;
}

// Memory terms shared by every formula since the 2.6.36 rewrite.
BadnessTerms memoryTerms(const Process& process, uint64_t page_size_kb) {
  const auto pages = [page_size_kb](uint64_t kb) {
    return static_cast<int64_t>(kb / page_size_kb);
  };
  BadnessTerms terms;
  terms.rss_pages = pages(process.memory.rssKb());
  terms.swap_pages = pages(process.memory.swap_kb);
  terms.pgtables_pages = pages(process.memory.pgtables_kb);
  return terms;
}

}  // namespace

std::string_view formulaName(Formula formula) {
  return entryOf(formula).name;
}
std::string_view formulaKernels(Formula formula) {
  return entryOf(formula).kernels;
}

std::optional<Formula> parseFormula(std::string_view name) {
  if (name == "5.9") return Formula::kCurrent;
  for (const auto& entry : kFormulas) {
    if (entry.name == name) return entry.formula;
  }
  return std::nullopt;
}

std::optional<Formula> formulaForRelease(std::string_view release) {
  // "major.minor[.patch][-extra]": only major and minor matter.
  const size_t dot = release.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const auto major = parseU64(release.substr(0, dot));
  std::string_view rest = release.substr(dot + 1);
  size_t end = 0;
  while (end < rest.size() && rest[end] >= '0' && rest[end] <= '9')
    ++end;
  const auto minor = parseU64(rest.substr(0, end));
  if (!major || !minor) return std::nullopt;
  const uint64_t version = *major * 1000 + *minor;
  if (version >= 5009) return Formula::kCurrent;
  if (version >= 4017) return Formula::kV4_17;
  if (version >= 3014) return Formula::kV3_14;
  if (version >= 3010) return Formula::kV3_10;
  return std::nullopt;
}

std::string_view eligibilityName(Eligibility eligibility) {
  switch (eligibility) {
    case Eligibility::kEligible:
      return "eligible";
    case Eligibility::kGlobalInit:
      return "init";
    case Eligibility::kKernelThread:
      return "kernel thread";
    case Eligibility::kNoMemory:
      return "no memory";
    case Eligibility::kAdjMin:
      return "oom_score_adj -1000";
  }
  return "unknown";
}

Eligibility eligibilityOf(const Process& process) {
  // oom_unkillable_task(): global init and kernel threads.
  if (process.pid == 1) return Eligibility::kGlobalInit;
  if (process.flags & kPfKthread) return Eligibility::kKernelThread;
  // find_lock_task_mm() found no thread with an mm.
  if (!process.has_mm) return Eligibility::kNoMemory;
  if (process.oom_score_adj == kOomScoreAdjMin) return Eligibility::kAdjMin;
  return Eligibility::kEligible;
}

Badness computeBadness(const Process& process, const BadnessScale& scale, Formula formula) {
  Badness result;
  result.eligibility = eligibilityOf(process);
  if (!result.eligible()) return result;

  BadnessTerms& t = result.terms;
  t = memoryTerms(process, scale.page_size_kb);
  int64_t points = t.rss_pages + t.swap_pages + t.pgtables_pages;
  t.adj = process.oom_score_adj;

  if (formula == Formula::kV3_14 && hasCapSysAdmin(process)) {
    // "Root processes get 3% bonus, just like the __vm_enough_memory() implementation used
    // by LSMs" — 3.14's "mm, oom: base root bonus on current usage".
    t.root_bonus_pages = points * 3 / 100;
    points -= t.root_bonus_pages;
  }
  if (formula == Formula::kV3_10 && hasCapSysAdmin(process)) {
    t.adj -= 30;  // 3.10: 30 per mille of totalpages, applied through adj
  }

  // Normalize to oom_score_adj units: totalpages / 1000 first, as the kernel does.
  t.adj_unit_pages = static_cast<int64_t>(scale.totalpages / 1000);
  t.adj_pages = t.adj * t.adj_unit_pages;
  points += t.adj_pages;

  // Before 5.9 the function returned unsigned long and reserved 0 for "ineligible".
  if (formula != Formula::kCurrent && points <= 0) points = 1;
  result.points = points;
  return result;
}

int64_t oomScore(const Badness& badness, uint64_t global_totalpages, Formula formula) {
  if (!badness.eligible()) return 0;
  const auto total = static_cast<int64_t>(global_totalpages == 0 ? 1 : global_totalpages);
  if (formula == Formula::kCurrent) {
    // Scale into [0, 2000] "which we have been exporting for a long time".
    return (1000 + badness.points * 1000 / total) * 2 / 3;
  }
  // unsigned long arithmetic; points >= 1 here.
  return static_cast<int64_t>(static_cast<uint64_t>(badness.points) * 1000 /
                              static_cast<uint64_t>(total));
}

bool laterWinsTies(Formula formula) {
  return formula == Formula::kCurrent || formula == Formula::kV4_17;
}

}  // namespace oomkit::core
