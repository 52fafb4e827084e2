// oomkit/daemon/oom_event_json.h — an OomEvent as one line of JSON, the format of
// `oomkit trigger --json` and of the daemon's event log (docs/events.md).
//
// Times are seconds since the Unix epoch, as floating point. They are measured on the
// monotonic clock and shifted by one offset (`wall_offset`: the realtime clock minus the
// monotonic clock, read once), so that the differences between them are exact even if the
// wall clock is stepped during the run. Strings from the kernel or the user (comm, cgroup
// paths) are escaped with core::escapeBytes: the line is valid UTF-8 whatever a name holds.
#pragma once

#include <chrono>
#include <string>

#include "oomkit/daemon/oom_event.h"

namespace oomkit::daemon {

// realtime - monotonic, now.
std::chrono::nanoseconds wallClockOffset();

// One line, no trailing newline.
std::string formatOomEventJson(const OomEvent& event, std::chrono::nanoseconds wall_offset);

}  // namespace oomkit::daemon
