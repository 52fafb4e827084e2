// `oomkit watch [--json]`: each kernel OOM kill as it happens, from /dev/kmsg and from the
// kernel's OOM kill counters (for kills whose report was rate-limited or lost).
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <iostream>
#include <memory>
#include <utility>
#include <vector>

#include "oomkit/daemon/kernel_oom_json.h"
#include "oomkit/daemon/kernel_oom_watcher.h"
#include "oomkit/sys/cgroups.h"

#include "commands.h"
#include "report_text.h"

namespace oomkit::cli {
namespace {

using Clock = std::chrono::steady_clock;

// How soon a plain file given as --kmsg is read again once at its end.
constexpr auto kPlainFileRecheck = std::chrono::milliseconds(1);

struct WatchOptions {
  RootOptions roots;
  std::string kmsg = "/dev/kmsg";
  bool json = false;
  int interval_ms = 100;
  size_t count = 0;  // exit after this many kills; 0 = run until killed
};

// poll()'s timeout until `when`: 0 once it passed, otherwise rounded up to a millisecond.
int pollTimeout(Clock::time_point now, Clock::time_point when) {
  if (when <= now) return 0;
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(when - now).count());
}

void printKill(const daemon::KernelOomKill& kill, bool json) {
  if (json) {
    std::cout << daemon::formatWatchKillJson(kill) << std::endl;
  } else if (kill.report) {
    std::cout << reportToText(*kill.report, 3) << std::endl;
  } else {
    std::cout << "OOM kill counted without a kernel report (rate-limited or lost): " << kill.kills
              << (kill.memcg ? " in memory cgroup " + *kill.memcg : std::string(" (global)"))
              << std::endl;
  }
}

// The watcher driven by poll(): the log's fd, a counter tick every --interval-ms, and the
// watcher's own deadlines (a report's reaper wait, a counted kill's grace).
class WatchLoop {
 public:
  WatchLoop(const WatchOptions& o, daemon::KernelOomWatcher watcher)
      : o_(o), watcher_(std::move(watcher)) {}

  // Runs until `count` kills were printed (or forever); returns the exit code.
  int run() {
    const auto interval = std::chrono::milliseconds(o_.interval_ms);
    auto next_tick = Clock::now();
    for (;;) {
      const auto now = Clock::now();
      if (now >= next_tick) {
        watcher_.onTick(now);
        next_tick = now + interval;
      }
      for (const auto& kill : watcher_.takeKills(now)) {
        printKill(kill, o_.json);
        printed_ += kill.kills;
      }
      if (o_.count != 0 && printed_ >= o_.count) return kExitOk;
      if (auto code = waitForLog(std::min(next_tick, watcher_.nextDeadline().value_or(next_tick))))
        return *code;
    }
  }

 private:
  // Waits for the log until `until`; an exit code when reading it failed.
  std::optional<int> waitForLog(Clock::time_point until) {
    const auto now = Clock::now();
    // A plain file at its end (--kmsg /dev/null, a replay) is always "readable": look again
    // shortly instead of spinning on it.
    const bool at_end = std::exchange(kmsg_at_end_, false);
    if (at_end) until = std::min(until, now + kPlainFileRecheck);
    pollfd pfd{at_end ? -1 : watcher_.kmsgFd(), POLLIN, 0};
    const int ready = ::poll(&pfd, 1, pollTimeout(now, until));
    if (ready < 0 && errno != EINTR) return kExitBadInput;
    if (ready <= 0) return std::nullopt;
    auto read = watcher_.onKmsgReadable(Clock::now());
    if (!read) {
      std::cerr << "oomkit watch: " << read.error().message << '\n';
      return kExitBadInput;
    }
    kmsg_at_end_ = *read == 0;
    return std::nullopt;
  }

  const WatchOptions& o_;
  daemon::KernelOomWatcher watcher_;
  bool kmsg_at_end_ = false;
  uint64_t printed_ = 0;  // kills printed (a counter line stands for its `kills`)
};

int runWatch(const WatchOptions& o) {
  auto proc = sys::ProcReader::open(o.roots.proc_root);
  if (!proc) {
    std::cerr << "oomkit watch: " << proc.error().message << '\n';
    return kExitBadInput;
  }
  auto hierarchy = sys::findMemoryHierarchy(*proc, o.roots.cgroup_roots);
  std::optional<sys::MemoryHierarchy> memcg;
  if (hierarchy) memcg = *hierarchy;
  auto watcher = daemon::KernelOomWatcher::open(*proc, memcg, o.kmsg);
  if (!watcher) {
    std::cerr << "oomkit watch: " << watcher.error().message << '\n';
    return kExitBadInput;
  }
  std::cerr << "oomkit watch: following " << o.kmsg << " and " << o.roots.proc_root
            << "/vmstat oom_kill"
            << (memcg ? " and the memory cgroups under " + memcg->mount_dir : std::string())
            << std::endl;
  WatchLoop loop(o, std::move(*watcher));
  return loop.run();
}

}  // namespace

void addWatchCommand(CLI::App& app, CommandRunner& run) {
  auto options = std::make_shared<WatchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "watch", "Print each kernel OOM kill as it happens (/dev/kmsg and the OOM kill counters)");
  addRootOptions(*cmd, options->roots);
  cmd->add_flag("--json", options->json, "one JSON object per kill, one per line");
  cmd->add_option("--kmsg", options->kmsg, "kernel log device (default /dev/kmsg)");
  cmd->add_option("--interval-ms", options->interval_ms, "how often to read the counters")
      ->check(CLI::Range(10, 60000));
  cmd->add_option("--count", options->count, "exit after this many kills");
  cmd->callback([options, &run] { run = [options] { return runWatch(*options); }; });
}

}  // namespace oomkit::cli
