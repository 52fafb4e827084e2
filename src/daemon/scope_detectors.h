// daemon/scope_detectors.h — builds a scope's detectors beyond the watermarks, from its
// configuration: PSI ([scope.psi]; global /proc/pressure/memory or the v2 cgroup's
// memory.pressure), takeover mode (v1: oom_kill_disable=1 and the memcg OOM eventfd), and the
// v2 memory.events watch. Each becomes an ExtraDetector for the scope's ScopeMonitor; what it
// holds (trigger fds, the takeover) lives in the detector's closures and is released by its
// on_stop. Problems that only switch a detector off are log lines, not errors.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "oomkit/core/config.h"
#include "oomkit/daemon/scope_monitor.h"
#include "oomkit/result.h"
#include "oomkit/sys/cgroups.h"
#include "oomkit/sys/oom_state.h"

namespace oomkit::daemon {

struct DetectorContext {
  std::string proc_root = "/proc";
  std::optional<sys::MemoryHierarchy> memory;
  sys::OomState* state = nullptr;  // takeover records; takeover needs it
  bool dry_run = false;
  std::function<void(const std::string&)> log;
};

// Errc::kInvalidArgument / kUnavailable when the scope asks for takeover and it cannot be had
// (cgroup v2, no state directory, another daemon holds the cgroup): a configuration the
// daemon must not silently run without.
Result<std::vector<ExtraDetector>> buildDetectors(const core::ScopeConfig& scope,
                                                  const DetectorContext& context);

}  // namespace oomkit::daemon
