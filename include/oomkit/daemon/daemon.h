// oomkit/daemon/daemon.h — `oomkit run`: the daemon that watches every configured scope and
// runs the OOM path before the kernel would (ARCHITECTURE.md; docs/daemon.md).
//
// One thread, one epoll loop (EventLoop): a signalfd (SIGTERM/SIGINT: clean exit, SIGHUP:
// reload the configuration, keeping the old one when the new one is invalid), each scope's
// detectors and sampling timers (ScopeMonitor), the victims' pidfds, and the kernel's own OOM
// kills (/dev/kmsg and the OOM counters). Every OOM run and level change is one JSON line in
// the event log (docs/events.md); human-readable lines go to stderr. At start it locks its
// memory (mlockall) and lowers its own oom_score_adj as far as the kernel allows.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace oomkit::daemon {

struct DaemonOptions {
  std::optional<std::string> config_path;  // none: the embedded default configuration
  bool dry_run = false;                    // true overrides [daemon] dry_run
  std::string proc_root = "/proc";
  std::vector<std::string> cgroup_roots;
  std::string state_dir = "/run/oomkit";
  std::optional<std::string> event_log;  // overrides [daemon] event_log
  std::string kmsg = "/dev/kmsg";        // "" turns the kernel OOM watcher off
};

// Call first thing in main when the command is `run`, before the command line is parsed:
// sets the heap up as the daemon keeps it (sys::keepHeap) and makes the heap start-up will
// use resident with one madvise, instead of a page fault per 4 KiB as parsing grows it (tens
// of faults, a dear thing on guests where a fault costs ~10 µs; docs/daemon.md).
void prepareStartUp();

// Runs until SIGTERM/SIGINT. Returns the process exit code: 0 after a signal, 2 when the
// configuration or the machine does not allow starting (the message is on stderr).
int runDaemon(const DaemonOptions& options);

}  // namespace oomkit::daemon
