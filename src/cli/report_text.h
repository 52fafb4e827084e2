// cli/report_text.h — the human rendering of a kernel OOM report (`oomkit parse`,
// `oomkit watch`). Its JSON is in the daemon layer, which the daemon shares:
// oomkit/daemon/kernel_oom_json.h (documented in docs/json.md).
//
// Strings from the log go through core::escapeBytes with backslashes kept: log text is already
// in the kernel's "\xNN" convention, and anything still invalid becomes "\xNN" too.
#pragma once

#include <cstddef>
#include <string>

#include "oomkit/core/oom_report.h"

namespace oomkit::cli {

// One block of text: when, invoker, scope, constraint, the victim and its memory, whether the
// reaper reaped it, and the top `top_tasks` rows of the task table by the kernel's badness.
std::string reportToText(const core::OomReport& report, size_t top_tasks);

}  // namespace oomkit::cli
