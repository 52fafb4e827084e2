// cli/rank_json.h — the --json shapes of `rank` and `explain` (documented in docs/json.md).
//
// Strings that come from the kernel or the user (comm, cmdline, cgroup paths) go through
// core::escapeBytes, so the output is valid UTF-8 JSON whatever bytes a process name holds.
#pragma once

#include <nlohmann/json.hpp>

#include "oomkit/sys/users.h"

#include "ranking_view.h"

namespace oomkit::cli {

nlohmann::json processToJson(const RankingView& view, const core::RankedProcess& entry,
                             sys::UserNames& users);
nlohmann::json scopeToJson(const RankingView& view);
nlohmann::json countersToJson(const sys::ScanCounters& counters);

}  // namespace oomkit::cli
