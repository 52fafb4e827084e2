// oomkit_bench_trigger — how fast a manual OOM kill gets a memory cgroup's memory back: the
// time from the trigger to SIGKILL, and to the memory being back, with and without
// process_mrelease() (docs/benchmarks.md, "Manual OOM: trigger to SIGKILL and memory back").
//
//   oomkit_bench_trigger [--runs N] [--breakdown N] [--testproc PATH]
//
// Why: the daemon's value is in how soon a scope that hit its limit can allocate again. The
// trigger-to-SIGKILL time is oomkit's own cost (reading the scope, choosing, planning the
// kill); what follows is the kernel's: the victim's exit_mmap(), or process_mrelease() doing
// the oom_reaper's job from oomkit's thread at once.
//
// Each run (N per mode, default 10; the modes alternate so that both see the same machine):
//   1. a fresh memory cgroup with a 1.5 GiB hard limit and no swap (tests/support TestMemcg,
//      under this process's own memory cgroup), holding oomkit-testproc --anon 1024 (the
//      victim) and oomkit-testproc --anon 16 (a bystander), both started by this program;
//   2. daemon::OomRunner with the real ports (ProcReader, PidfdKiller wrapped to note when the
//      runner calls it, SystemPanic, an OomState in a temporary directory) on a ScopeConfig
//      for that cgroup, with kill.process_mrelease on or off; run(), then awaitExit();
//   3. a second thread, started right before run(), reads the cgroup's usage
//      (memory.usage_in_bytes or memory.current) every 100 µs and notes when it first drops
//      below (usage before the run - 900 MiB), "usage back"; also when it first fell by 1 MiB
//      (the freeing has begun) and by 1020 MiB (nearly all of the victim's 1 GiB);
//   4. checks: the victim (and only it) was SIGKILLed, the bystander lives, the kernel's
//      oom_kill count of the cgroup is still 0; the cgroup is removed (also on an error).
// Reported, in ms after event.timestamps.trigger (run() started): decided (scope read and
// selection done), killer (the runner called the killer), SIGKILL (event.timestamps.signalled:
// stamped when pidfd_send_signal() has returned), released (process_mrelease() returned, and
// whether it did the unmapping or found the victim already past exit_mm()), usage back
// (polled), exited (every victim pidfd readable, from awaitExit()). The table gives the median,
// p90 (nearest rank) and max over the runs of each mode.
// Then, unless --breakdown 0, the trigger path's library calls are timed one by one (N times
// each, default 20) on one more such cgroup, the victim left alive: where trigger -> SIGKILL
// goes. Needs root. Memory is bounded by the cgroup limit; only processes this program started
// are ever signalled (the scope holds nothing else, which is checked before each run).
// SIGINT/SIGTERM end the run in progress, remove its cgroup, then stop.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "oomkit/core/config.h"
#include "oomkit/core/ranking.h"
#include "oomkit/core/text.h"
#include "oomkit/daemon/oom_event.h"
#include "oomkit/daemon/oom_runner.h"
#include "oomkit/result.h"
#include "oomkit/sys/cgroups.h"
#include "oomkit/sys/killer.h"
#include "oomkit/sys/mm_sharers.h"
#include "oomkit/sys/oom_state.h"
#include "oomkit/sys/panic_port.h"
#include "oomkit/sys/proc_reader.h"
#include "oomkit/sys/process_handle.h"
#include "oomkit/sys/scope_memory.h"
#include "oomkit/sys/scope_reader.h"
#include "oomkit/sys/scope_usage.h"

#include "support/memcg.h"
#include "support/subprocess.h"

namespace {

using namespace oomkit;
using Clock = std::chrono::steady_clock;
using SteadyTime = Clock::time_point;
using std::chrono::milliseconds;

constexpr uint64_t kMiB = 1ULL << 20;
constexpr uint64_t kLimitBytes = 1536 * kMiB;  // the cgroup's hard limit (no swap)
constexpr uint64_t kVictimMib = 1024;
constexpr uint64_t kBystanderMib = 16;
constexpr uint64_t kBackBytes = 900 * kMiB;      // "memory back": usage fell by this much
constexpr uint64_t kAllBackBytes = 1020 * kMiB;  // nearly all of the victim's 1 GiB
constexpr uint64_t kFirstBackBytes = 1 * kMiB;   // the freeing has begun
constexpr std::chrono::microseconds kPollInterval{100};
constexpr milliseconds kReadyTimeout{30000};    // the victim touches 1 GiB before it is ready
constexpr milliseconds kUsageGrace{3000};       // after the exit, how long usage may lag
constexpr std::chrono::seconds kPollerCap{60};  // the poller stops by itself after this
constexpr uint64_t kDefaultRuns = 10;
constexpr uint64_t kDefaultBreakdown = 20;
constexpr uint64_t kMaxRuns = 1000;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr std::string_view kScopeName = "oomkit-bench-trigger";

std::atomic<bool> g_interrupted{false};

void onSignal(int) {
  g_interrupted.store(true);
}

struct Options {
  uint64_t runs = kDefaultRuns;
  uint64_t breakdown = kDefaultBreakdown;
  std::string testproc = OOMKIT_TESTPROC;
};

void usage(const char* why) {
  std::fprintf(stderr,
               "oomkit_bench_trigger: %s\n"
               "usage: oomkit_bench_trigger [--runs N] [--breakdown N] [--testproc PATH]\n"
               "  --runs N       runs per mode (process_mrelease on, off); default %llu\n"
               "  --breakdown N  time each trigger-path call N times; 0 skips; default %llu\n"
               "  --testproc P   the oomkit-testproc binary (default: the one built with this)\n",
               why, static_cast<unsigned long long>(kDefaultRuns),
               static_cast<unsigned long long>(kDefaultBreakdown));
}

std::optional<Options> parseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage("manual OOM on a cgroup holding a 1 GiB victim: trigger to SIGKILL and memory back");
      std::exit(0);
    }
    if (i + 1 >= argc) {
      usage("every option takes a value");
      return std::nullopt;
    }
    const std::string_view value = argv[++i];
    if (arg == "--runs" || arg == "--breakdown") {
      const auto n = core::parseU64(value);
      if (!n || *n > kMaxRuns || (arg == "--runs" && *n == 0)) {
        usage(
            (std::string(arg) + " wants an integer (--runs 1..1000, --breakdown 0..1000)").c_str());
        return std::nullopt;
      }
      (arg == "--runs" ? o.runs : o.breakdown) = *n;
    } else if (arg == "--testproc") {
      o.testproc = value;
    } else {
      usage(("unknown option " + std::string(arg)).c_str());
      return std::nullopt;
    }
  }
  return o;
}

double msBetween(SteadyTime from, SteadyTime to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

std::string msText(std::optional<double> ms, const char* none) {
  if (!ms) return none;
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f", *ms);
  return text;
}

double mib(uint64_t bytes) {
  return static_cast<double>(bytes) / static_cast<double>(kMiB);
}

// Nearest rank: the smallest value with at least `q` of the values at or below it.
double quantile(std::vector<double> values, double q) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

double median(std::vector<double> values) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

// The byte count in a cgroup usage file, read with pread() so that one open file serves every
// poll (cgroup files are regenerated on a read at offset 0).
Result<uint64_t> preadUsage(int fd) {
  char buf[64];
  const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return makeError(Errc::kIo, std::string("reading usage: ") + std::strerror(errno));
  const auto bytes = core::parseU64(core::trim(std::string_view(buf, static_cast<size_t>(n))));
  if (!bytes) return makeError(Errc::kParse, "usage file holds no byte count");
  return *bytes;
}

// Reads a cgroup's usage every kPollInterval on its own thread and notes when it first drops
// below each of its thresholds; stops once it is below all of them.
class UsagePoller {
 public:
  static Result<std::unique_ptr<UsagePoller>> start(const std::string& usage_file,
                                                    std::vector<uint64_t> thresholds) {
    const int fd = ::open(usage_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Unexpected(Error{Errc::kIo, usage_file + ": " + std::strerror(errno)});
    std::unique_ptr<UsagePoller> poller(new UsagePoller(fd, std::move(thresholds)));
    poller->thread_ = std::thread([p = poller.get()] { p->loop(); });
    // Polling before run() starts: a drop right after it cannot be missed by a late thread.
    while (poller->polls_.load() == 0 && !poller->done_.load())
      std::this_thread::yield();
    if (poller->done_.load() && poller->error_) return Unexpected(*poller->error_);
    return poller;
  }

  UsagePoller(const UsagePoller&) = delete;
  UsagePoller& operator=(const UsagePoller&) = delete;
  ~UsagePoller() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }

  // When usage first dropped below each threshold (none: not within `timeout` from now).
  Result<std::vector<std::optional<SteadyTime>>> waitDrops(milliseconds timeout) {
    const SteadyTime deadline = Clock::now() + timeout;
    while (!done_.load() && Clock::now() < deadline)
      std::this_thread::sleep_for(milliseconds(1));
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    if (error_) return Unexpected(*error_);
    return dropped_at_;
  }

  uint64_t polls() const { return polls_.load(); }

 private:
  UsagePoller(int fd, std::vector<uint64_t> thresholds)
      : fd_(fd), thresholds_(std::move(thresholds)), dropped_at_(thresholds_.size()) {}

  void loop() {
    // Sleep 100 µs, not 100 µs plus the default 50 µs of timer slack.
    ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    const SteadyTime cap = Clock::now() + kPollerCap;
    while (!stop_.load() && Clock::now() < cap) {
      auto usage = preadUsage(fd_);
      const SteadyTime now = Clock::now();
      if (!usage) {
        error_ = usage.error();
        break;
      }
      bool all = true;
      for (size_t i = 0; i < thresholds_.size(); ++i) {
        if (!dropped_at_[i] && *usage < thresholds_[i]) dropped_at_[i] = now;
        all = all && dropped_at_[i].has_value();
      }
      polls_.fetch_add(1);
      if (all) break;
      std::this_thread::sleep_for(kPollInterval);
    }
    done_.store(true);
  }

  int fd_;
  std::vector<uint64_t> thresholds_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};  // read dropped_at_ and error_ only after joining
  std::atomic<uint64_t> polls_{0};
  std::vector<std::optional<SteadyTime>> dropped_at_;
  std::optional<Error> error_;
};

// The real killer, with the time the runner called it: splits
// decided -> SIGKILL into the runner's own work and the kill plan (open, kcmp, group, usage).
class TimingKiller final : public sys::Killer {
 public:
  explicit TimingKiller(sys::Killer& inner) : inner_(&inner) {}
  Result<sys::KillReport> killVictim(const sys::KillRequest& request) override {
    called_at = Clock::now();
    return inner_->killVictim(request);
  }

  std::optional<SteadyTime> called_at;

 private:
  sys::Killer* inner_;
};

// The machine as the runner sees it, built once as `oomkit trigger` builds it.
struct Machine {
  explicit Machine(sys::ProcReader reader) : proc(std::move(reader)) {}

  sys::ProcReader proc;
  std::optional<sys::MemoryHierarchy> memory;
  std::optional<sys::PidfdKiller> killer;
  sys::SystemPanic panic;
  std::optional<sys::OomState> state;
  std::string state_dir;

  daemon::RunnerPorts ports() {
    daemon::RunnerPorts p;
    p.proc = &proc;
    p.memory = memory;
    p.killer = &*killer;
    p.panic = &panic;
    p.state = &*state;
    return p;
  }
};

Result<std::unique_ptr<Machine>> openMachine() {
  auto proc = sys::ProcReader::open("/proc");
  if (!proc) return Unexpected(proc.error());
  auto machine = std::make_unique<Machine>(std::move(*proc));
  auto memory = sys::findMemoryHierarchy(machine->proc, {});
  if (!memory) return Unexpected(memory.error().wrap("finding the memory hierarchy"));
  machine->memory = std::move(*memory);
  auto killer = sys::PidfdKiller::create(machine->proc, sys::KillerOptions{machine->memory});
  if (!killer) return Unexpected(killer.error());
  machine->killer.emplace(std::move(*killer));
  char dir[] = "/tmp/oomkit-bench-trigger.XXXXXX";
  if (::mkdtemp(dir) == nullptr) {
    return makeError(Errc::kIo, std::string("mkdtemp: ") + std::strerror(errno));
  }
  machine->state_dir = dir;
  auto state = sys::OomState::open(machine->state_dir);
  if (!state) {
    std::error_code ec;
    std::filesystem::remove_all(machine->state_dir, ec);
    return Unexpected(state.error());
  }
  machine->state.emplace(std::move(*state));
  return machine;
}

// The victim and the bystander, started by this program inside `memcg`.
struct Tenants {
  test::TestProcess victim;
  test::TestProcess bystander;
};

Result<Tenants> startTenants(const Options& o, const test::TestMemcg& memcg) {
  const std::string procs = memcg.procsFile();
  auto victim = test::spawnTestProcessAt(
      o.testproc,
      {"--anon", std::to_string(kVictimMib), "--cgroup-procs", procs, "--name", "bench-victim"},
      kReadyTimeout);
  if (!victim) return Unexpected(victim.error().wrap("starting the 1 GiB victim"));
  auto bystander = test::spawnTestProcessAt(o.testproc,
                                            {"--anon", std::to_string(kBystanderMib),
                                             "--cgroup-procs", procs, "--name", "bench-bystander"},
                                            kReadyTimeout);
  if (!bystander) return Unexpected(bystander.error().wrap("starting the bystander"));
  // The scope must hold exactly these two: the runner may kill anything in it.
  auto pids = memcg.pids();
  if (!pids) return Unexpected(pids.error());
  std::vector<pid_t> expected{victim->pid(), bystander->pid()};
  std::sort(pids->begin(), pids->end());
  std::sort(expected.begin(), expected.end());
  if (*pids != expected) {
    return makeError(Errc::kInvalidArgument,
                     memcg.path() + " holds other processes than the two started here");
  }
  return Tenants{std::move(*victim), std::move(*bystander)};
}

std::string usageFile(const test::TestMemcg& memcg) {
  return memcg.file(memcg.version() == test::CgroupVersion::kV1 ? "memory.usage_in_bytes"
                                                                : "memory.current");
}

core::ScopeConfig scopeFor(const test::TestMemcg& memcg, bool release) {
  core::ScopeConfig scope;
  scope.name = kScopeName;
  scope.cgroup = memcg.path();
  scope.kill.process_mrelease = release;
  return scope;
}

// One run's figures, in ms after event.timestamps.trigger.
struct Sample {
  double decided = 0;                // the scope read and the victim chosen
  double kill_called = 0;            // the runner called the killer
  double sigkill = 0;                // the victim's SIGKILL went out
  std::optional<double> released;    // process_mrelease() returned (on only)
  std::string release_outcome;       // "released", "already exiting", "not tried", ...
  std::optional<double> usage_back;  // usage 900 MiB below its level before the run
  std::optional<double> all_back;    // 1020 MiB below
  std::optional<double> first_back;  // 1 MiB below
  double exited = 0;                 // the victim's pidfd was readable (awaitExit())
  double recovered_mib = 0;
  uint64_t polls = 0;
};

// Starts the tenants in `memcg`, runs the OOM path on it and checks what it did.
Result<Sample> measureRun(const Options& o, Machine& machine, const test::TestMemcg& memcg,
                          bool release) {
  auto tenants = startTenants(o, memcg);
  if (!tenants) return Unexpected(tenants.error());
  auto kills_before = memcg.oomKillCount();
  if (!kills_before) return Unexpected(kills_before.error());
  auto usage_before = memcg.usageBytes();
  if (!usage_before) return Unexpected(usage_before.error());
  if (*usage_before < kVictimMib * kMiB) {
    return makeError(Errc::kInvalidArgument, "the cgroup uses only " +
                                                 std::to_string(*usage_before / kMiB) +
                                                 " MiB with the victim ready: is swap on?");
  }
  TimingKiller killer(*machine.killer);
  daemon::RunnerPorts ports = machine.ports();
  ports.killer = &killer;
  auto runner = daemon::OomRunner::create(scopeFor(memcg, release), std::move(ports));
  if (!runner) return Unexpected(runner.error());

  auto poller = UsagePoller::start(
      usageFile(memcg),
      {*usage_before - kBackBytes, *usage_before - kAllBackBytes, *usage_before - kFirstBackBytes});
  if (!poller) return Unexpected(poller.error());
  daemon::OomEvent event = (*runner)->run(daemon::RunRequest{});
  (*runner)->awaitExit(event);
  auto dropped = (*poller)->waitDrops(kUsageGrace);
  if (!dropped) return Unexpected(dropped.error().wrap("polling usage"));

  // What the run did: killed the victim, and only the victim.
  std::string notes;
  for (const auto& note : event.notes)
    notes += "; " + note;
  if (event.failed || event.action != core::Action::kKill || !event.victim || !event.kill ||
      event.victim->pid != tenants->victim.pid() ||
      event.killedPids() != std::vector<int32_t>{tenants->victim.pid()}) {
    return makeError(Errc::kIo, "the run did not kill exactly the victim: action " +
                                    std::string(core::actionName(event.action)) + ", " +
                                    event.reason + notes);
  }
  const auto& t = event.timestamps;
  if (!t.signalled || !t.exited || event.timed_out || !killer.called_at) {
    return makeError(Errc::kIo, "the victim was not seen to exit within the reap timeout" + notes);
  }
  auto victim_status = tenants->victim.waitExit(milliseconds(5000));
  if (!victim_status || !victim_status->killedBy(SIGKILL)) {
    return makeError(Errc::kIo, "the victim did not die of SIGKILL");
  }
  if (auto bystander = tenants->bystander.waitExit(milliseconds(0));
      bystander || bystander.error().code != Errc::kUnavailable) {
    return makeError(Errc::kIo, "the bystander did not survive");
  }
  auto kills_after = memcg.oomKillCount();
  if (!kills_after) return Unexpected(kills_after.error());
  if (*kills_after != *kills_before) {
    return makeError(Errc::kIo, "the kernel's OOM killer fired in the cgroup (oom_kill " +
                                    std::to_string(*kills_after) + ")");
  }

  Sample s;
  s.decided = msBetween(t.trigger, t.decided);
  s.kill_called = msBetween(t.trigger, *killer.called_at);
  s.sigkill = msBetween(t.trigger, *t.signalled);
  if (t.released) s.released = msBetween(t.trigger, *t.released);
  s.release_outcome = sys::releaseOutcomeName(event.kill->victim().release);
  if ((*dropped)[0]) s.usage_back = msBetween(t.trigger, *(*dropped)[0]);
  if ((*dropped)[1]) s.all_back = msBetween(t.trigger, *(*dropped)[1]);
  if ((*dropped)[2]) s.first_back = msBetween(t.trigger, *(*dropped)[2]);
  s.exited = msBetween(t.trigger, *t.exited);
  s.recovered_mib = mib(event.recovered_bytes.value_or(0));
  s.polls = (*poller)->polls();
  return s;
}

// Creates the cgroup, measures one run in it and removes it, whatever happened.
Result<Sample> runOnce(const Options& o, Machine& machine, bool release) {
  auto memcg = test::TestMemcg::create(kLimitBytes);
  if (!memcg) return Unexpected(memcg.error());
  Result<Sample> sample = measureRun(o, machine, *memcg, release);  // tenants reaped on return
  if (auto removed = memcg->destroy(); !removed) {
    return Unexpected(removed.error().wrap("removing " + memcg->dir()));
  }
  return sample;
}

// µs of `repeats` calls of `step`: the first call's (the victim's /proc entries cold, as in a
// real run) and the median; an error if any call failed.
struct StepTime {
  double first_us = 0;
  double median_us = 0;
};

Result<StepTime> timeStep(uint64_t repeats, const std::function<Status()>& step) {
  std::vector<double> us;
  for (uint64_t i = 0; i < repeats; ++i) {
    const SteadyTime start = Clock::now();
    if (auto s = step(); !s) return Unexpected(s.error());
    us.push_back(msBetween(start, Clock::now()) * 1000);
  }
  return StepTime{us.front(), median(us)};
}

void printStep(const char* what, StepTime t, const std::string& extra = "") {
  std::printf("  %-56s %8.0f %8.0f%s\n", what, t.first_us, t.median_us, extra.c_str());
}

// The trigger path's calls, timed one at a time, with the victim alive and nothing signalled.
Status measureBreakdown(const Options& o, Machine& machine, const test::TestMemcg& memcg) {
  auto tenants = startTenants(o, memcg);
  if (!tenants) return Unexpected(tenants.error());
  const std::string cgroup = memcg.path();
  sys::ProcReader& proc = machine.proc;
  const uint64_t n = o.breakdown;

  sys::ScopeRequest request;
  request.cgroup = cgroup;
  request.fields = sys::kFieldsExact | sys::kFieldCgroup;  // as the runner's selection
  uint64_t start_time = 0;
  auto select = timeStep(n, [&]() -> Status {
    auto view = sys::gatherScope(proc, request);
    if (!view) return Unexpected(view.error());
    const auto index = core::selectVictim(view->processes, view->params);
    if (!index || view->processes[*index].pid != tenants->victim.pid()) {
      return makeError(Errc::kIo, "selection did not choose the victim");
    }
    start_time = view->processes[*index].start_time_ticks;
    return Ok{};
  });
  if (!select) return Unexpected(select.error());
  auto lock = timeStep(n, [&]() -> Status {
    auto locked = machine.state->lockScope(cgroup);
    return locked ? Status(Ok{}) : Unexpected(locked.error());
  });
  if (!lock) return Unexpected(lock.error());
  auto scope_memory = timeStep(n, [&]() -> Status {
    auto memory = sys::readScopeMemory(proc, machine.memory, cgroup);
    return memory ? Status(Ok{}) : Unexpected(memory.error());
  });
  if (!scope_memory) return Unexpected(scope_memory.error());
  auto open = timeStep(n, [&]() -> Status {
    auto handle = sys::ProcessHandle::open(proc, tenants->victim.pid(), start_time,
                                           sys::kFieldStat | sys::kFieldCgroup);
    return handle ? Status(Ok{}) : Unexpected(handle.error());
  });
  if (!open) return Unexpected(open.error());
  auto victim = sys::ProcessHandle::open(proc, tenants->victim.pid(), start_time);
  if (!victim) return Unexpected(victim.error());
  size_t compared = 0;
  auto sharers = timeStep(n, [&]() -> Status {
    auto found = sys::findMmSharers(proc, *victim, ::getpid());
    if (!found) return Unexpected(found.error());
    if (!found->to_kill.empty()) return makeError(Errc::kIo, "the victim has mm sharers");
    return Ok{};
  });
  if (!sharers) return Unexpected(sharers.error());
  if (auto pids = proc.listPids()) compared = pids->size();
  const std::optional<std::string> dir = memcg.dir();
  auto usage = timeStep(n, [&]() -> Status {
    auto bytes = sys::readScopeUsage(proc, dir);
    return bytes ? Status(Ok{}) : Unexpected(bytes.error());
  });
  if (!usage) return Unexpected(usage.error());
  // The whole path up to the signal: a dry run takes every step and plans the kill.
  auto runner = daemon::OomRunner::create(scopeFor(memcg, true), machine.ports());
  if (!runner) return Unexpected(runner.error());
  std::vector<double> dry_decided;
  std::vector<double> dry_total;
  for (uint64_t i = 0; i < n; ++i) {
    daemon::RunRequest dry;
    dry.dry_run = true;
    const daemon::OomEvent event = (*runner)->run(dry);
    const SteadyTime end = Clock::now();
    if (event.action != core::Action::kKill || event.failed) {
      return makeError(Errc::kIo, "the dry run did not plan a kill: " + event.reason);
    }
    dry_decided.push_back(msBetween(event.timestamps.trigger, event.timestamps.decided) * 1000);
    dry_total.push_back(msBetween(event.timestamps.trigger, end) * 1000);
  }

  std::printf(
      "\nWhere trigger -> SIGKILL goes: each call timed %llu times, victim alive, µs\n"
      "  %-56s %8s %8s\n",
      static_cast<unsigned long long>(n), "call", "first", "median");
  printStep("selection (gatherScope exact + cgroup, selectVictim)", *select);
  printStep("scope lock (OomState flock)", *lock);
  printStep("scope memory (readScopeMemory: limits, usage, meminfo)", *scope_memory);
  printStep("kill plan: open the victim (pidfd, stat, cgroup)", *open);
  printStep("kill plan: mm sharers (kcmp against every pid)", *sharers,
            "  (" + std::to_string(compared) + " pids)");
  printStep("kill plan: usage before the signal (readScopeUsage)", *usage);
  printStep("dry run: trigger -> decided",
            {dry_decided.empty() ? 0 : dry_decided.front(), median(dry_decided)});
  printStep("dry run: trigger -> run() returned (plan, no signal)",
            {dry_total.empty() ? 0 : dry_total.front(), median(dry_total)});
  return Ok{};
}

Status breakdownOnce(const Options& o, Machine& machine) {
  auto memcg = test::TestMemcg::create(kLimitBytes);
  if (!memcg) return Unexpected(memcg.error());
  Status measured = measureBreakdown(o, machine, *memcg);
  if (auto removed = memcg->destroy(); !removed) {
    return Unexpected(removed.error().wrap("removing " + memcg->dir()));
  }
  return measured;
}

using Getter = std::function<std::optional<double>(const Sample&)>;

std::vector<double> valuesOf(const std::vector<Sample>& samples, const Getter& get) {
  std::vector<double> values;
  for (const Sample& s : samples) {
    if (auto v = get(s)) values.push_back(*v);
  }
  return values;
}

// "median / p90 / max", or "-" when no run had the figure.
std::string summary(const std::vector<double>& values) {
  if (values.empty()) return "-";
  char text[64];
  std::snprintf(text, sizeof(text), "%.2f / %.2f / %.2f", median(values), quantile(values, 0.9),
                quantile(values, 1.0));
  return text;
}

void printTable(const std::vector<Sample>& on, const std::vector<Sample>& off) {
  const std::vector<std::pair<const char*, const std::vector<Sample>*>> modes{{"on", &on},
                                                                              {"off", &off}};
  const std::vector<std::pair<const char*, Getter>> main_columns{
      {"trigger->SIGKILL", [](const Sample& s) { return std::optional(s.sigkill); }},
      {"trigger->usage back", [](const Sample& s) { return s.usage_back; }},
      {"trigger->exited", [](const Sample& s) { return std::optional(s.exited); }},
  };
  const std::vector<std::pair<const char*, Getter>> part_columns{
      {"trigger->decided", [](const Sample& s) { return std::optional(s.decided); }},
      {"decided->killer", [](const Sample& s) { return std::optional(s.kill_called - s.decided); }},
      {"killer->SIGKILL", [](const Sample& s) { return std::optional(s.sigkill - s.kill_called); }},
      {"trigger->released", [](const Sample& s) { return s.released; }},
      {"trigger->1MiB back", [](const Sample& s) { return s.first_back; }},
      {"trigger->1020MiB back", [](const Sample& s) { return s.all_back; }},
  };
  std::printf(
      "\nms, median / p90 / max over the runs (usage back: 900 MiB below the level "
      "before the run)\n");
  std::printf("%-17s %4s", "process_mrelease", "runs");
  for (const auto& [name, get] : main_columns)
    std::printf(" %26s", name);
  std::printf("\n");
  for (const auto& [mode, samples] : modes) {
    std::printf("%-17s %4zu", mode, samples->size());
    for (const auto& [name, get] : main_columns)
      std::printf(" %26s", summary(valuesOf(*samples, get)).c_str());
    std::printf("\n");
  }
  std::printf("\nthe parts, ms, median / p90 / max\n%-17s", "process_mrelease");
  for (const auto& [name, get] : part_columns)
    std::printf(" %24s", name);
  std::printf("\n");
  for (const auto& [mode, samples] : modes) {
    std::printf("%-17s", mode);
    for (const auto& [name, get] : part_columns)
      std::printf(" %24s", summary(valuesOf(*samples, get)).c_str());
    std::printf("\n");
  }
  for (const auto& [mode, samples] : modes) {
    std::vector<double> recovered;
    size_t freeing_before_stamp = 0;
    size_t released = 0;
    for (const Sample& s : *samples) {
      recovered.push_back(s.recovered_mib);
      if (s.first_back && *s.first_back < s.sigkill) ++freeing_before_stamp;
      if (s.release_outcome == sys::releaseOutcomeName(sys::ReleaseOutcome::kReleased)) ++released;
    }
    std::printf(
        "process_mrelease %-3s: %zu runs; recovered (awaitExit) median %.0f MiB; the victim had "
        "freed 1 MiB before the SIGKILL stamp in %zu; process_mrelease did the unmapping in "
        "%zu\n",
        mode, samples->size(), median(recovered), freeing_before_stamp, released);
  }
}

std::string kernelRelease() {
  utsname u{};
  return ::uname(&u) == 0 ? u.release : "?";
}

std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

int benchMain(const Options& o) {
  if (const std::string& why = test::TestMemcg::skipReason(); !why.empty()) {
    std::fprintf(stderr, "oomkit_bench_trigger: cannot run: %s\n", why.c_str());
    return kExitUsage;
  }
  auto machine = openMachine();
  if (!machine) {
    std::fprintf(stderr, "oomkit_bench_trigger: %s\n", machine.error().message.c_str());
    return kExitFailed;
  }
  auto layout = test::detectMemcgLayout();
  auto pids = (*machine)->proc.listPids();
  std::printf(
      "oomkit_bench_trigger: kernel %s, %u CPUs, cgroup %s, %zu processes, load average %s\n"
      "each run: a fresh memcg (limit %llu MiB, no swap) with a %llu MiB victim and a %llu MiB "
      "bystander; %llu runs per mode, modes alternating\n",
      kernelRelease().c_str(), std::thread::hardware_concurrency(),
      layout && layout->version == test::CgroupVersion::kV2 ? "v2" : "v1",
      pids ? pids->size() : size_t{0}, loadAverage().c_str(),
      static_cast<unsigned long long>(kLimitBytes / kMiB),
      static_cast<unsigned long long>(kVictimMib), static_cast<unsigned long long>(kBystanderMib),
      static_cast<unsigned long long>(o.runs));

  std::vector<Sample> on;
  std::vector<Sample> off;
  int rc = 0;
  for (uint64_t i = 0; i < o.runs && rc == 0; ++i) {
    // on, off, then off, on: each mode goes first half of the time.
    for (const bool release : {i % 2 == 0, i % 2 != 0}) {
      if (g_interrupted.load()) {
        rc = kExitFailed;
        break;
      }
      auto sample = runOnce(o, **machine, release);
      if (!sample) {
        std::fprintf(stderr, "oomkit_bench_trigger: run %llu (process_mrelease %s): %s\n",
                     static_cast<unsigned long long>(i + 1), release ? "on" : "off",
                     sample.error().message.c_str());
        rc = kExitFailed;
        break;
      }
      const Sample& s = *sample;
      std::printf(
          "run %2llu mrelease %-3s: decided %5.2f, killer %5.2f, SIGKILL %5.2f, "
          "released %6s (%s), 1 MiB back %6s, usage back %6s, 1020 MiB back %6s, exited %6.2f ms; "
          "recovered %.0f MiB, %llu polls\n",
          static_cast<unsigned long long>(i + 1), release ? "on" : "off", s.decided, s.kill_called,
          s.sigkill, msText(s.released, "-").c_str(), s.release_outcome.c_str(),
          msText(s.first_back, "never").c_str(), msText(s.usage_back, "never").c_str(),
          msText(s.all_back, "never").c_str(), s.exited, s.recovered_mib,
          static_cast<unsigned long long>(s.polls));
      std::fflush(stdout);
      (release ? on : off).push_back(s);
    }
  }
  if (rc == 0) printTable(on, off);
  if (rc == 0 && o.breakdown > 0 && !g_interrupted.load()) {
    if (auto s = breakdownOnce(o, **machine); !s) {
      std::fprintf(stderr, "oomkit_bench_trigger: breakdown: %s\n", s.error().message.c_str());
      rc = kExitFailed;
    }
  }
  std::printf("\nload average at the end: %s\n", loadAverage().c_str());
  std::error_code ec;
  std::filesystem::remove_all((*machine)->state_dir, ec);
  if (g_interrupted.load()) std::fprintf(stderr, "oomkit_bench_trigger: interrupted\n");
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  auto options = parseArgs(argc, argv);
  if (!options) return kExitUsage;
  // End the run in progress, remove its cgroup, then stop.
  struct sigaction action {};
  action.sa_handler = onSignal;
  ::sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGHUP, &action, nullptr);
  return benchMain(*options);
}
