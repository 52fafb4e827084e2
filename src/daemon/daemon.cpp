#include "oomkit/daemon/daemon.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <memory>

#include "oomkit/core/config.h"
#include "oomkit/daemon/event_log.h"
#include "oomkit/daemon/event_loop.h"
#include "oomkit/daemon/kernel_oom_json.h"
#include "oomkit/daemon/kernel_oom_watcher.h"
#include "oomkit/daemon/oom_event_json.h"
#include "oomkit/daemon/scope_monitor.h"
#include "oomkit/sys/config_loader.h"
#include "oomkit/sys/files.h"
#include "oomkit/sys/heap_reserve.h"
#include "oomkit/sys/killer.h"
#include "oomkit/sys/oom_state.h"
#include "oomkit/sys/panic_port.h"
#include "oomkit/sys/resident_set.h"
#include "oomkit/sys/self_protection.h"
#include "oomkit/sys/stand_in.h"
#include "oomkit/sys/takeover.h"

#include "scope_detectors.h"

namespace oomkit::daemon {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitBadInput = 2;
constexpr std::chrono::seconds kKernelCounterPoll{5};
constexpr std::chrono::seconds kKernelCounterSlack{2};
// The heap kept free beyond what the rehearsal used, at least (sys/heap_reserve.h).
constexpr uint64_t kMinHeapReserve = 256 * 1024;
// About what start-up allocates before it sheds (the command line, the configuration, the
// monitors: ~200 KiB on the embedded default). More only costs a little populating; what is
// left free is trimmed before the rehearsal.
constexpr size_t kStartUpHeap = 256 * 1024;
// The stack faulted in below the rehearsal's frames, for a run called from deeper in the event
// loop (sys/heap_reserve.h). A margin: measured, a kill from the loop touched no stack page the
// rehearsal had not; every 4 KiB costs as much resident memory.
constexpr size_t kStackReserve = 16 * 1024;

void logLine(const std::string& line) {
  // One write per line, so that lines from other writers to stderr do not interleave.
  const std::string out = "oomkit: " + line + "\n";
  (void)!::write(STDERR_FILENO, out.data(), out.size());
}

Result<core::Config> loadConfig(const DaemonOptions& options) {
  return options.config_path ? sys::loadConfigFile(*options.config_path) : sys::loadDefaultConfig();
}

// SIGTERM, SIGINT and SIGHUP arrive through a signalfd, so they must not be delivered the
// usual way: blocked before any thread exists (helpers fork, not thread).
Result<int> openSignalFd() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  if (::sigprocmask(SIG_BLOCK, &signals, nullptr) != 0) {
    return Unexpected(sys::systemError("sigprocmask", errno));
  }
  const int fd = ::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return Unexpected(sys::systemError("signalfd", errno));
  return fd;
}

class Daemon {
 public:
  Daemon(DaemonOptions options, sys::ProcReader proc, EventLoop loop)
      : options_(std::move(options)), proc_(std::move(proc)), loop_(std::move(loop)) {}
  ~Daemon() {
    monitors_.clear();  // before the loop and the ports they use
    if (signal_fd_ >= 0) ::close(signal_fd_);
  }

  Status start(core::Config config);
  int run();

 private:
  Status openEventLog(const core::Config& config);
  Status buildMonitors(const core::Config& config);
  Status runConfig(const core::Config& config);
  void onSignal();
  void reload();
  void startKernelWatcher();
  void settleMemory();
  std::vector<std::optional<sys::StandIn>> startStandIns();
  void rehearse(std::vector<std::optional<sys::StandIn>>& stand_ins);
  void onKernelTick();
  void emitKernelKills();
  void emit(const std::string& line);

  DaemonOptions options_;
  sys::ProcReader proc_;
  EventLoop loop_;
  std::optional<sys::MemoryHierarchy> memory_;
  std::optional<sys::PidfdKiller> killer_;
  std::optional<sys::SystemPanic> panic_;
  std::unique_ptr<sys::BackgroundReleaser> releaser_;  // none: kills release synchronously
  std::optional<sys::OomState> state_;
  std::optional<EventLog> event_log_;
  std::chrono::nanoseconds wall_offset_{0};
  bool dry_run_ = false;
  core::Config config_;  // the configuration the monitors run
  int signal_fd_ = -1;
  std::optional<KernelOomWatcher> kernel_;
  std::optional<EventLoop::TimerId> kernel_deadline_;
  std::vector<std::unique_ptr<ScopeMonitor>> monitors_;  // last: destroyed first
};

void Daemon::emit(const std::string& line) {
  if (auto written = event_log_->write(line); !written) {
    logLine("event log: " + written.error().message);
  }
}

Status Daemon::openEventLog(const core::Config& config) {
  const std::string path = options_.event_log.value_or(config.daemon.event_log);
  if (event_log_ && event_log_->path() == path) return Ok{};
  auto log = EventLog::open(path);
  if (!log) return Unexpected(log.error().wrap("event log"));
  event_log_.emplace(std::move(*log));
  return Ok{};
}

Status Daemon::buildMonitors(const core::Config& config) {
  std::vector<std::unique_ptr<ScopeMonitor>> monitors;
  for (const auto& scope : config.scopes) {
    RunnerPorts ports;
    ports.proc = &proc_;
    ports.memory = memory_;
    ports.cgroup_roots = options_.cgroup_roots;
    ports.killer = &*killer_;
    ports.panic = &*panic_;
    ports.state = state_ ? &*state_ : nullptr;
    ports.releaser = releaser_.get();  // the loop serves every scope: never block it
    MonitorOutput output{[this](const std::string& line) { emit(line); }, logLine, wall_offset_};
    auto monitor =
        ScopeMonitor::create(scope, std::move(ports), loop_, std::move(output), dry_run_);
    if (!monitor) return Unexpected(monitor.error());
    const DetectorContext context{options_.proc_root, memory_, state_ ? &*state_ : nullptr,
                                  dry_run_, logLine};
    auto detectors = buildDetectors(scope, context);
    if (!detectors) return Unexpected(detectors.error());
    for (auto& detector : *detectors)
      (*monitor)->addDetector(std::move(detector));
    monitors.push_back(std::move(*monitor));
  }
  monitors_ = std::move(monitors);
  for (auto& monitor : monitors_) {
    const auto& scope = monitor->scope();
    logLine("scope " + scope.name + " (" + scope.cgroup.value_or("global") + "): watermarks " +
            core::formatMemoryAmount(scope.watermarks.min) + " / " +
            core::formatMemoryAmount(scope.watermarks.low) + " / " +
            core::formatMemoryAmount(scope.watermarks.high) + ", sampled every " +
            core::formatDuration(scope.sampling.min_interval) + " to " +
            core::formatDuration(scope.sampling.max_interval) + (dry_run_ ? ", dry run" : ""));
    monitor->start();
  }
  return Ok{};
}

Status Daemon::start(core::Config config) {
  sys::keepHeap();
  logLine(sys::lowerOomScoreAdj(options_.proc_root));
  wall_offset_ = wallClockOffset();
  if (auto found = sys::findMemoryHierarchy(proc_, options_.cgroup_roots)) {
    memory_ = std::move(*found);
  } else {
    logLine("no memory cgroup hierarchy: only the global scope can be watched (" +
            found.error().message + ")");
  }
  auto killer = sys::PidfdKiller::create(proc_, sys::KillerOptions{memory_});
  if (!killer) return Unexpected(killer.error());
  killer_.emplace(std::move(*killer));
  panic_.emplace(options_.proc_root);
  if (auto releaser = sys::BackgroundReleaser::start()) {
    releaser_ = std::move(*releaser);
  } else {
    logLine("process_mrelease will run on the event loop: " + releaser.error().message);
  }
  if (auto state = sys::OomState::open(options_.state_dir)) {
    state_.emplace(std::move(*state));
  } else {
    logLine("no shared state (" + state.error().message +
            "): `oomkit trigger` runs will not see this daemon's victims");
  }
  if (auto opened = openEventLog(config); !opened) return opened;
  if (state_ && memory_) {
    for (const auto& line : sys::Takeover::repairStale(*state_, *memory_))
      logLine(line);
  }
  startKernelWatcher();

  auto signal_fd = openSignalFd();
  if (!signal_fd) return Unexpected(signal_fd.error());
  signal_fd_ = *signal_fd;
  if (auto added = loop_.addFd(signal_fd_, EPOLLIN, [this](uint32_t) { onSignal(); }); !added) {
    return added;
  }
  if (auto ran = runConfig(config); !ran) return ran;
  settleMemory();
  return Ok{};
}

// What stays resident, and locked, is what the event loop and the OOM path use (docs/daemon.md,
// "Memory of its own"): the code and data that start-up or a reload touched once are shed and
// the heap's free pages returned; then each scope's OOM path is rehearsed, which faults back
// in the code a run needs and grows the heap to what it needs, and all that is locked.
void Daemon::settleMemory() {
  if (auto warning = sys::unlockMemory(); !warning.empty()) logLine(warning);
  // Forked before the shed, so that fork's own code goes with the rest of start-up's.
  std::vector<std::optional<sys::StandIn>> stand_ins = startStandIns();
  sys::releaseFreeHeap();
  if (auto dropped = sys::dropCleanFilePages()) {
    logLine("shed " + std::to_string(dropped->bytes / 1024) + " KiB of start-up code and data (" +
            std::to_string(dropped->mappings) + " read-only file mappings, " +
            std::to_string(dropped->kept_private / 1024) + " KiB of private copies kept)");
  } else {
    logLine("warning: start-up pages stay resident: " + dropped.error().message);
  }
  rehearse(stand_ins);
  logLine(sys::lockMemory());
}

// One stand-in per scope for the rehearsal to kill; none in a dry run, which never kills.
std::vector<std::optional<sys::StandIn>> Daemon::startStandIns() {
  std::vector<std::optional<sys::StandIn>> stand_ins(monitors_.size());
  if (dry_run_) return stand_ins;
  for (auto& stand_in : stand_ins) {
    auto forked = sys::StandIn::start(proc_);
    if (!forked) {
      logLine("warning: the kill is not rehearsed: " + forked.error().message);
      break;
    }
    stand_in.emplace(std::move(*forked));
  }
  return stand_ins;
}

// Each scope's OOM path, run once as a dry run and, unless the daemon only reports, once more
// as the kill of a stand-in; then as much heap again kept free and a margin of stack: the
// memory and code a real run needs are resident before memory runs out (sys/heap_reserve.h,
// sys/stand_in.h).
void Daemon::rehearse(std::vector<std::optional<sys::StandIn>>& stand_ins) {
  const uint64_t heap_before = sys::heapBytes();
  const auto started = std::chrono::steady_clock::now();
  size_t kills = 0;
  for (size_t i = 0; i < monitors_.size(); ++i) {
    const std::optional<sys::StandIn>& stand_in = stand_ins[i];
    auto rehearsed = monitors_[i]->rehearse(stand_in ? &stand_in->process() : nullptr);
    if (rehearsed) {
      kills += stand_in ? 1 : 0;
    } else {
      logLine("warning: scope " + monitors_[i]->scope().name + ": " + rehearsed.error().message);
    }
  }
  stand_ins.clear();  // reaped
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  const uint64_t heap = sys::heapBytes();
  const uint64_t reserve = std::max<uint64_t>(heap, kMinHeapReserve);
  sys::reserveHeap(reserve);
  sys::reserveStack(kStackReserve);
  logLine(
      "OOM path rehearsed on " + std::to_string(monitors_.size()) + " scope(s) (" +
      std::to_string(kills) + " stand-in(s) killed) in " + std::to_string(took.count() / 1000) +
      "." + std::to_string(took.count() % 1000 / 100) + " ms: heap " + std::to_string(heap / 1024) +
      " KiB (" + std::to_string((heap - std::min(heap, heap_before)) / 1024) +
      " KiB grown by the rehearsal), " + std::to_string(reserve / 1024) + " KiB more kept free");
}

// The kernel's own OOM kills (those oomkit did not prevent) become events too.
void Daemon::startKernelWatcher() {
  if (options_.kmsg.empty()) return;
  auto watcher = KernelOomWatcher::open(proc_, memory_, options_.kmsg);
  if (!watcher) {
    logLine("kernel OOM kills will not be reported: " + watcher.error().message);
    return;
  }
  kernel_.emplace(std::move(*watcher));
  auto added = loop_.addFd(kernel_->kmsgFd(), EPOLLIN, [this](uint32_t) {
    if (auto read = kernel_->onKmsgReadable(std::chrono::steady_clock::now()); !read) {
      logLine("kmsg: " + read.error().message);
    }
    emitKernelKills();
  });
  if (!added) logLine("kmsg: " + added.error().message);
  onKernelTick();
}

void Daemon::onKernelTick() {
  kernel_->onTick(std::chrono::steady_clock::now());
  emitKernelKills();
  // /dev/kmsg wakes the loop for every report; the counters only catch kills whose report was
  // lost, so the daemon polls them every 5 s (`oomkit watch` does it every 100 ms): /proc/vmstat
  // costs more to generate than /proc/meminfo. The slack lets the poll ride on a sampling
  // wake-up instead of waking the daemon on its own (docs/benchmarks.md, idle cost).
  loop_.schedule(
      std::chrono::steady_clock::now() + kKernelCounterPoll, [this] { onKernelTick(); },
      kKernelCounterSlack);
}

void Daemon::emitKernelKills() {
  // A report waits for its oom_reaper line (or a grace period): come back when it is due.
  if (const auto due = kernel_->nextDeadline(); due && !kernel_deadline_) {
    kernel_deadline_ = loop_.schedule(*due, [this] {
      kernel_deadline_.reset();
      emitKernelKills();
    });
  }
  for (const auto& kill : kernel_->takeKills(std::chrono::steady_clock::now())) {
    emit(formatKernelOomKillJson(kill, wall_offset_));
    std::string what = "the kernel's OOM killer killed ";
    what += kill.report && kill.report->victim ? "pid " + std::to_string(kill.report->victim->pid)
                                               : std::to_string(kill.kills) + " process(es)";
    if (kill.memcg) what += " in " + *kill.memcg;
    logLine(what);
  }
}

void Daemon::onSignal() {
  signalfd_siginfo info{};
  while (::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    if (info.ssi_signo == SIGHUP) {
      reload();
      settleMemory();
    } else {
      logLine(std::string("exiting on ") + (info.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM"));
      loop_.stop(kExitOk);
      return;
    }
  }
}

void Daemon::reload() {
  if (!options_.config_path) {
    logLine("SIGHUP: running the embedded default configuration; nothing to reload");
    return;
  }
  auto config = sys::loadConfigFile(*options_.config_path);
  if (!config) {
    logLine("SIGHUP: keeping the current configuration: " + config.error().message);
    return;
  }
  if (auto opened = openEventLog(*config); !opened) {
    logLine("SIGHUP: keeping the current configuration: " + opened.error().message);
    return;
  }
  if (auto ran = runConfig(*config); !ran) {
    // Valid on paper but not here (a cgroup that does not exist, a takeover refused): the
    // old monitors are gone by now, so build them again rather than watch nothing.
    logLine("SIGHUP: the new configuration cannot run (" + ran.error().message +
            "); going back to the current configuration");
    if (auto back = openEventLog(config_); !back) logLine("SIGHUP: " + back.error().message);
    if (auto back = runConfig(config_); !back) {
      logLine("SIGHUP: the current configuration cannot run either (" + back.error().message +
              "): no scope is watched until a configuration that runs is loaded");
    }
    return;
  }
  logLine("SIGHUP: configuration reloaded from " + *options_.config_path);
}

// Replaces the monitors with the configuration's: the old ones go first, since a scope's
// detectors hold kernel state (takeover's oom_kill_disable, PSI triggers) that the new ones
// would find taken.
Status Daemon::runConfig(const core::Config& config) {
  dry_run_ = options_.dry_run || config.daemon.dry_run;
  monitors_.clear();
  if (auto built = buildMonitors(config); !built) return built;
  config_ = config;
  return Ok{};
}

int Daemon::run() {
  auto result = loop_.run();
  if (!result) {
    logLine(result.error().message);
    return 1;
  }
  return *result;
}

}  // namespace

void prepareStartUp() {
  sys::keepHeap();
  sys::reserveHeap(kStartUpHeap);
}

int runDaemon(const DaemonOptions& options) {
  auto config = loadConfig(options);
  if (!config) {
    std::cerr << config.error().message << '\n';
    return kExitBadInput;
  }
  auto proc = sys::ProcReader::open(options.proc_root);
  if (!proc) {
    std::cerr << "oomkit run: " << proc.error().message << '\n';
    return kExitBadInput;
  }
  auto loop = EventLoop::create();
  if (!loop) {
    std::cerr << "oomkit run: " << loop.error().message << '\n';
    return 1;
  }
  Daemon daemon(options, std::move(*proc), std::move(*loop));
  if (auto started = daemon.start(std::move(*config)); !started) {
    std::cerr << "oomkit run: " << started.error().message << '\n';
    return kExitBadInput;
  }
  logLine("running");
  return daemon.run();
}

}  // namespace oomkit::daemon
