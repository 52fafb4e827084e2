// cli/ranking_view.h — what `rank` and `explain` both show: one scope's processes, ranked,
// with the header that says what the numbers are measured against.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "oomkit/core/ranking.h"
#include "oomkit/result.h"
#include "oomkit/sys/scope_reader.h"

#include "commands.h"

namespace oomkit::cli {

struct RankingView {
  sys::ScopeView scope;
  std::vector<core::RankedProcess> ranked;  // eligible in kill order, then the ineligible

  const core::Process& processOf(const core::RankedProcess& entry) const {
    return scope.processes[entry.index];
  }
  size_t eligibleCount() const;
};

// Reads the machine and ranks the scope. `formula_name` empty = the running kernel's.
Result<RankingView> buildRankingView(sys::ProcReader& proc, const RootOptions& roots,
                                     const std::optional<std::string>& cgroup,
                                     const std::string& formula_name, unsigned fields);

// "scope: ..." lines for human output.
std::string describeScope(const RankingView& view);

}  // namespace oomkit::cli
