// oomkit/daemon/scope_monitor.h — one scope of `oomkit run`: its detectors, its OOM path and
// the kill it is waiting on, driven by the daemon's event loop.
//
// Detectors: the watermark detector (always; sampled adaptively through a ScopeSampler), and,
// where configured, PSI and (takeover mode, cgroup v1) the memcg OOM eventfd. When one of them
// says the scope is out of memory, the monitor runs the OOM path (OomRunner) unless a kill of
// this scope is still in flight (the kernel does not pick a second victim while the first is
// dying) or the last run, which killed nothing, was less than kRerunInterval ago (a scope that
// stays below `min` without anything killable must not flood the event log). A kill's event is
// written once its processes have exited (their pidfds are in the loop) or the reap timeout
// has passed, so that it carries the exit time and the memory that came back. Level changes
// (clear, pressure, oom) are events too. Scopes are independent of each other.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "oomkit/core/config.h"
#include "oomkit/core/watermark_detector.h"
#include "oomkit/daemon/event_loop.h"
#include "oomkit/daemon/oom_runner.h"
#include "oomkit/result.h"
#include "oomkit/sys/scope_sampler.h"

namespace oomkit::daemon {

// Where a monitor reports: JSON lines for the event log, human lines for stderr.
struct MonitorOutput {
  std::function<void(const std::string& json_line)> event;
  std::function<void(const std::string& line)> log;
  std::chrono::nanoseconds wall_offset{0};
};

// A detector of the scope other than the watermarks (PSI, memcg events): an fd for the loop
// and what to do when it is readable. `on_ready` returns the trigger name when the scope is
// out of memory ("psi", "memcg_oom"), nothing otherwise.
struct ExtraDetector {
  std::string name;
  int fd = -1;
  uint32_t events = 0;
  std::function<std::optional<std::string>(uint32_t revents)> on_ready;
  std::function<void()> on_stop;  // releases what it holds (e.g. restores oom_kill_disable)
  // A detector that must be answered even while a kill is in flight or within the rerun
  // interval (takeover: the cgroup's tasks are paused until the OOM is resolved).
  bool urgent = false;
  // Sampling detectors (PSI without a trigger): called at this interval instead of an fd.
  std::optional<std::chrono::milliseconds> sample_every;
  std::function<std::optional<std::string>()> on_sample;
};

class ScopeMonitor {
 public:
  static constexpr std::chrono::seconds kRerunInterval{1};

  static Result<std::unique_ptr<ScopeMonitor>> create(core::ScopeConfig scope, RunnerPorts ports,
                                                      EventLoop& loop, MonitorOutput output,
                                                      bool dry_run);
  ~ScopeMonitor();  // unregisters from the loop, stops the detectors, flushes a pending event

  void addDetector(ExtraDetector detector);
  // Starts sampling.
  void start();
  // Runs the scope's OOM path once as a dry run, event formatted and dropped: the heap grows
  // to what a run needs and the code a run executes is faulted in (and locked), before memory
  // runs out (sys/heap_reserve.h). With a stand-in (sys/stand_in.h), first kills it as a run
  // would kill a victim (OomRunner::rehearseKill), event formatted and dropped too. An error
  // when the stand-in was not killed and gone: the kill's code is then not all resident.
  Status rehearse(const core::Process* stand_in);

  const core::ScopeConfig& scope() const { return runner_->scope(); }

 private:
  ScopeMonitor(std::unique_ptr<OomRunner> runner, sys::ScopeSampler sampler, EventLoop& loop,
               MonitorOutput output, bool dry_run);

  Status rehearseKill(const core::Process& stand_in);
  void sample();
  void scheduleSample(std::chrono::nanoseconds after);
  void scheduleExtraSample(size_t index);
  void reportLevel(const core::WatermarkUpdate& update, const sys::ScopeMemory& memory);
  void outOfMemory(const std::string& trigger, bool urgent);
  void watchExit();
  void checkExit();
  void finishInFlight();
  void writeEvent(const OomEvent& event);

  std::unique_ptr<OomRunner> runner_;
  sys::ScopeSampler sampler_;
  core::WatermarkDetector detector_;
  EventLoop* loop_;
  MonitorOutput output_;
  bool dry_run_;
  std::vector<ExtraDetector> extra_;
  std::optional<EventLoop::TimerId> sample_timer_;
  std::map<size_t, EventLoop::TimerId> extra_timers_;  // by index into extra_
  std::optional<OomEvent> in_flight_;
  std::vector<int> watched_fds_;
  std::optional<EventLoop::TimerId> deadline_timer_;
  std::optional<SteadyTime> last_run_;
  bool sample_error_logged_ = false;
};

}  // namespace oomkit::daemon
