#include "ranking_view.h"

#include <fmt/format.h>

namespace oomkit::cli {

size_t RankingView::eligibleCount() const {
  size_t n = 0;
  for (const auto& entry : ranked)
    n += entry.badness.eligible() ? 1 : 0;
  return n;
}

Result<RankingView> buildRankingView(sys::ProcReader& proc, const RootOptions& roots,
                                     const std::optional<std::string>& cgroup,
                                     const std::string& formula_name, unsigned fields) {
  sys::ScopeRequest request;
  request.cgroup = cgroup;
  request.cgroup_roots = roots.cgroup_roots;
  request.fields = fields;
  if (!formula_name.empty()) {
    request.formula = core::parseFormula(formula_name);
    if (!request.formula) {
      return makeError(Errc::kInvalidArgument, "--formula: unknown formula '" + formula_name +
                                                   "' (choose current, 4.17, 3.14 or 3.10)");
    }
  }
  auto scope = sys::gatherScope(proc, request);
  if (!scope) return Unexpected(scope.error());
  RankingView view;
  view.scope = std::move(*scope);
  view.ranked = core::rankProcesses(view.scope.processes, view.scope.params);
  return view;
}

std::string describeScope(const RankingView& view) {
  const sys::ScopeView& s = view.scope;
  const auto& m = s.machine;
  std::string out;
  if (s.is_memcg) {
    out += fmt::format("scope: memory cgroup {} (cgroup {}), limit {} bytes, totalpages {}\n",
                       s.path, s.hierarchy, s.limit_bytes, s.params.scale.totalpages);
  } else {
    out += fmt::format(
        "scope: global, totalpages {} (MemTotal {} kB + SwapTotal {} kB, {} kB pages)\n",
        s.params.scale.totalpages, m.meminfo.mem_total_kb, m.meminfo.swap_total_kb, m.page_size_kb);
  }
  if (!s.note.empty()) out += "note: " + s.note + "\n";
  out += fmt::format("formula: {} (kernels {}){}\n", core::formulaName(s.params.formula),
                     core::formulaKernels(s.params.formula),
                     s.formula_from_kernel ? ", from kernel " + m.kernel_release : ", chosen");
  const auto& c = s.counters;
  out += fmt::format("processes: {} read, {} eligible", c.captured, view.eligibleCount());
  if (c.vanished) out += fmt::format(", {} exited during the scan", c.vanished);
  if (c.permission_denied) out += fmt::format(", {} unreadable", c.permission_denied);
  if (c.malformed) out += fmt::format(", {} malformed", c.malformed);
  return out + "\n";
}

}  // namespace oomkit::cli
