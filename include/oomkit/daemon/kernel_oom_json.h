// oomkit/daemon/kernel_oom_json.h — the kernel's own OOM kills as JSON, one line each (no
// trailing newline):
//   - formatOomReportJson: a parsed kernel report, as `oomkit parse --json` prints it;
//   - formatWatchKillJson: a kill as `oomkit watch --json` prints it: the report's object
//     plus "source":"kmsg", or, for a kill only the counters saw,
//     {"source":"counter","scope","memcg","kills","victim":null,"complete":false};
//   - formatKernelOomKillJson: the daemon's event line, the watch object plus
//     "type":"kernel_oom_kill" and "seen" (seconds since the Unix epoch, when the watcher
//     learned of the kill; the monotonic time shifted by `wall_offset`, see oom_event_json.h).
// Field names are an external format (docs/json.md); do not rename. Strings from the log keep
// their backslashes (core::escapeBytes kKeep: the kernel already wrote "\xNN" escapes);
// cgroup paths from the counters are escaped in full (kEscape), as in the daemon's events.
#pragma once

#include <chrono>
#include <string>

#include "oomkit/core/oom_report.h"
#include "oomkit/daemon/kernel_oom_watcher.h"

namespace oomkit::daemon {

std::string formatOomReportJson(const core::OomReport& report);

std::string formatWatchKillJson(const KernelOomKill& kill);

std::string formatKernelOomKillJson(const KernelOomKill& kill,
                                    std::chrono::nanoseconds wall_offset);

}  // namespace oomkit::daemon
