#include "rank_json.h"

#include <string>

#include "oomkit/core/text.h"

namespace oomkit::cli {
namespace {

using nlohmann::json;

json nullable(const std::optional<int64_t>& value) {
  return value ? json(*value) : json(nullptr);
}

}  // namespace

// NOTE: field names are part of the external format (docs/json.md); do not rename.
json processToJson(const RankingView& view, const core::RankedProcess& entry,
                   sys::UserNames& users) {
  const core::Process& p = view.processOf(entry);
  const bool eligible = entry.badness.eligible();
  json out = {
      {"rank", eligible ? json(entry.rank) : json(nullptr)},
      {"pid", p.pid},
      {"start_time", p.start_time_ticks},
      {"comm", core::escapeBytes(p.comm)},
      {"cmdline", core::escapeBytes(p.cmdline)},
      {"uid", p.uid},
      {"user", core::escapeBytes(users.nameOf(p.uid))},
      {"state", std::string(1, p.state)},
      {"cgroup", p.memcg_path.empty() ? json(nullptr) : json(core::escapeBytes(p.memcg_path))},
      {"rss_anon_kb", p.memory.rss_anon_kb},
      {"rss_file_kb", p.memory.rss_file_kb},
      {"rss_shmem_kb", p.memory.rss_shmem_kb},
      {"swap_kb", p.memory.swap_kb},
      {"pgtables_kb", p.memory.pgtables_kb},
      {"oom_score_adj", p.oom_score_adj},
      {"eligible", eligible},
      {"ineligible_reason",
       eligible ? json(nullptr) : json(core::eligibilityName(entry.badness.eligibility))},
      {"badness", eligible ? json(entry.badness.points) : json(nullptr)},
      {"oom_score", entry.oom_score},
      {"kernel_oom_score", nullable(p.kernel_oom_score)},
  };
  return out;
}

json scopeToJson(const RankingView& view) {
  const sys::ScopeView& s = view.scope;
  return {
      {"kind", s.is_memcg ? "cgroup" : "global"},
      {"path", core::escapeBytes(s.path)},
      {"requested_path",
       s.requested_path.empty() ? json(nullptr) : json(core::escapeBytes(s.requested_path))},
      {"hierarchy", s.hierarchy.empty() ? json(nullptr) : json(s.hierarchy)},
      {"limit_bytes", s.is_memcg ? json(s.limit_bytes) : json(nullptr)},
      {"totalpages", s.params.scale.totalpages},
      {"global_totalpages", s.params.global_totalpages},
      {"page_size_kb", s.machine.page_size_kb},
      {"formula", core::formulaName(s.params.formula)},
      {"kernel_release", s.machine.kernel_release},
      {"note", s.note.empty() ? json(nullptr) : json(s.note)},
  };
}

json countersToJson(const sys::ScanCounters& c) {
  return {
      {"listed", c.listed},       {"read", c.captured},
      {"vanished", c.vanished},   {"permission_denied", c.permission_denied},
      {"malformed", c.malformed}, {"problems", c.problems},
  };
}

}  // namespace oomkit::cli
