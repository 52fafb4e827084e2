// `oomkit watch [--json]`: each kernel OOM kill as it happens, from /dev/kmsg and from the
// kernel's OOM kill counters (for kills whose report was rate-limited or lost).
#include <poll.h>

#include <chrono>
#include <iostream>
#include <memory>

#include "oomkit/core/oom_report.h"
#include "oomkit/sys/cgroups.h"
#include "oomkit/sys/kmsg_reader.h"
#include "oomkit/sys/oom_counters.h"

#include "commands.h"
#include "report_json.h"

namespace oomkit::cli {
namespace {

using Clock = std::chrono::steady_clock;

// A complete report waits this long for its oom_reaper line before it is printed anyway.
constexpr auto kReaperWait = std::chrono::milliseconds(250);
// A counted kill with no report after this long is reported from the counters alone.
constexpr auto kReportGrace = std::chrono::milliseconds(1000);

struct WatchOptions {
  RootOptions roots;
  std::string kmsg = "/dev/kmsg";
  bool json = false;
  int interval_ms = 100;
  size_t count = 0;  // exit after this many kills; 0 = run until killed
};

class Watcher {
 public:
  Watcher(const WatchOptions& o, sys::KmsgReader kmsg, sys::OomKillCounters counters)
      : o_(o), kmsg_(std::move(kmsg)), counters_(std::move(counters)) {}

  // Runs until `count` kills were printed (or forever); returns the exit code.
  int run() {
    while (o_.count == 0 || printed_ < o_.count) {
      pollfd pfd{kmsg_.fd(), POLLIN, 0};
      if (::poll(&pfd, 1, o_.interval_ms) < 0 && errno != EINTR) return kExitBadInput;
      if (auto s = drainKmsg(); !s) {
        std::cerr << "oomkit watch: " << s.error().message << '\n';
        return kExitBadInput;
      }
      checkCounters();
    }
    return kExitOk;
  }

 private:
  Status drainKmsg() {
    for (;;) {
      auto record = kmsg_.next();
      if (!record) return Unexpected(record.error());
      if (!*record) break;
      parser_.feed(**record);
      last_record_ = Clock::now();
    }
    if (Clock::now() - last_record_ >= kReaperWait) parser_.flush();
    for (const auto& report : parser_.takeReports())
      emitReport(report);
    return Ok{};
  }

  void emitReport(const core::OomReport& report) {
    if (!report.victim) return;  // a cut-off header without a kill: nothing died
    ++reported_;
    // Absorb this kill into the per-cgroup baselines so it is not reported twice.
    (void)counters_.scanCgroups();
    if (o_.json) {
      auto out = reportToJson(report);
      out["source"] = "kmsg";
      std::cout << out.dump() << std::endl;
    } else {
      std::cout << reportToText(report, 3) << std::endl;
    }
    ++printed_;
  }

  void checkCounters() {
    auto added = counters_.pollGlobal();
    if (!added) return;
    counted_ += *added;
    if (counted_ <= reported_) {
      unexplained_since_.reset();
      return;
    }
    if (!unexplained_since_) unexplained_since_ = Clock::now();
    if (Clock::now() - *unexplained_since_ < kReportGrace) return;
    emitCounted(counted_ - reported_);
    reported_ = counted_;
    unexplained_since_.reset();
  }

  void emitCounted(uint64_t kills) {
    auto cgroups = counters_.scanCgroups();
    uint64_t placed = 0;
    for (const auto& c : cgroups) {
      emitCounterEvent(c.path, c.kills);
      placed += c.kills;
    }
    if (placed < kills) emitCounterEvent(std::nullopt, kills - placed);
  }

  void emitCounterEvent(const std::optional<std::string>& memcg, uint64_t kills) {
    if (o_.json) {
      nlohmann::json out = {{"source", "counter"},
                            {"scope", memcg ? "memcg" : "global"},
                            {"memcg", memcg ? nlohmann::json(*memcg) : nlohmann::json(nullptr)},
                            {"kills", kills},
                            {"victim", nullptr},
                            {"complete", false}};
      std::cout << out.dump() << std::endl;
    } else {
      std::cout << "OOM kill counted without a kernel report (rate-limited or lost): " << kills
                << (memcg ? " in memory cgroup " + *memcg : std::string(" (global)")) << std::endl;
    }
    printed_ += kills;
  }

  const WatchOptions& o_;
  sys::KmsgReader kmsg_;
  sys::OomKillCounters counters_;
  core::OomReportParser parser_;
  Clock::time_point last_record_ = Clock::now();
  std::optional<Clock::time_point> unexplained_since_;
  uint64_t counted_ = 0;   // kills /proc/vmstat counted since start
  uint64_t reported_ = 0;  // kills printed (from reports or counters)
  size_t printed_ = 0;
};

int runWatch(const WatchOptions& o) {
  auto proc = sys::ProcReader::open(o.roots.proc_root);
  if (!proc) {
    std::cerr << "oomkit watch: " << proc.error().message << '\n';
    return kExitBadInput;
  }
  auto kmsg = sys::KmsgReader::open(o.kmsg, sys::KmsgReader::Start::kNow);
  if (!kmsg) {
    std::cerr << "oomkit watch: " << kmsg.error().message << '\n';
    return kExitBadInput;
  }
  auto hierarchy = sys::findMemoryHierarchy(*proc, o.roots.cgroup_roots);
  std::optional<sys::MemoryHierarchy> memcg;
  if (hierarchy) memcg = *hierarchy;
  auto counters = sys::OomKillCounters::open(*proc, memcg);
  if (!counters) {
    std::cerr << "oomkit watch: " << counters.error().message << '\n';
    return kExitBadInput;
  }
  std::cerr << "oomkit watch: following " << o.kmsg << " and " << o.roots.proc_root
            << "/vmstat oom_kill"
            << (memcg ? " and the memory cgroups under " + memcg->mount_dir : std::string())
            << std::endl;
  Watcher watcher(o, std::move(*kmsg), std::move(*counters));
  return watcher.run();
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
