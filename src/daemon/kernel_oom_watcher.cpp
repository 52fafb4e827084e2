// The kernel OOM kill watcher: /dev/kmsg reports and the OOM kill counters, reconciled
// (oomkit/daemon/kernel_oom_watcher.h).
#include "oomkit/daemon/kernel_oom_watcher.h"

#include <algorithm>
#include <utility>

namespace oomkit::daemon {

Result<KernelOomWatcher> KernelOomWatcher::open(sys::ProcReader& proc,
                                                std::optional<sys::MemoryHierarchy> memory,
                                                const std::string& kmsg_path) {
  auto kmsg = sys::KmsgReader::open(kmsg_path, sys::KmsgReader::Start::kNow);
  if (!kmsg) return Unexpected(kmsg.error());
  auto counters = sys::OomKillCounters::open(proc, std::move(memory));
  if (!counters) return Unexpected(counters.error());
  return KernelOomWatcher(std::move(*kmsg), std::move(*counters));
}

Result<size_t> KernelOomWatcher::onKmsgReadable(SteadyTime now) {
  size_t read = 0;
  for (;;) {
    auto record = kmsg_.next();
    if (!record) return Unexpected(record.error());
    if (!*record) break;
    parser_.feed(**record);
    ++read;
  }
  if (read > 0) {
    stats_.kmsg_records += read;
    last_record_ = now;
    unflushed_ = true;
    untaken_ = true;
  }
  return read;
}

void KernelOomWatcher::onTick(SteadyTime now) {
  auto added = counters_.pollGlobal();
  if (!added) {
    ++stats_.counter_errors;
    return;
  }
  stats_.counted += *added;
  updateUnexplained(now);
}

// Starts the grace of counted kills no report explains yet, or ends it once reports did.
void KernelOomWatcher::updateUnexplained(SteadyTime now) {
  if (stats_.counted <= stats_.accounted) {
    unexplained_since_.reset();
  } else if (!unexplained_since_) {
    unexplained_since_ = now;
  }
}

std::vector<KernelOomKill> KernelOomWatcher::takeKills(SteadyTime now) {
  std::vector<KernelOomKill> kills;
  takeReports(now, kills);
  takeCounted(now, kills);
  untaken_ = false;
  return kills;
}

void KernelOomWatcher::takeReports(SteadyTime now, std::vector<KernelOomKill>& kills) {
  // A quiet log: a complete report's reaper line is not coming (soon).
  if (unflushed_ && now - last_record_ >= kReaperWait) {
    parser_.flush();
    unflushed_ = false;
  }
  for (auto& report : parser_.takeReports()) {
    if (!report.victim) continue;  // a cut-off header without a kill: nothing died
    ++stats_.accounted;
    // Absorb this kill into the per-cgroup baselines so that it is not counted again.
    (void)counters_.scanCgroups();
    KernelOomKill kill;
    kill.source = KernelOomSource::kKmsg;
    kill.report = std::move(report);
    kill.seen = last_record_;
    kills.push_back(std::move(kill));
  }
}

void KernelOomWatcher::takeCounted(SteadyTime now, std::vector<KernelOomKill>& kills) {
  updateUnexplained(now);
  if (!unexplained_since_ || now - *unexplained_since_ < kReportGrace) return;
  const uint64_t unexplained = stats_.counted - stats_.accounted;
  const SteadyTime seen = *unexplained_since_;
  const auto counter_kill = [seen](std::optional<std::string> memcg, uint64_t count) {
    KernelOomKill kill;
    kill.source = KernelOomSource::kCounter;
    kill.memcg = std::move(memcg);
    kill.kills = count;
    kill.seen = seen;
    return kill;
  };
  uint64_t placed = 0;
  for (auto& cgroup : counters_.scanCgroups()) {
    placed += cgroup.kills;
    kills.push_back(counter_kill(std::move(cgroup.path), cgroup.kills));
  }
  if (placed < unexplained) kills.push_back(counter_kill(std::nullopt, unexplained - placed));
  stats_.accounted = stats_.counted;
  unexplained_since_.reset();
}

std::optional<SteadyTime> KernelOomWatcher::nextDeadline() const {
  std::optional<SteadyTime> deadline;
  const auto consider = [&deadline](SteadyTime when) {
    deadline = deadline ? std::min(*deadline, when) : when;
  };
  if (untaken_) consider(last_record_);  // a reaper line may have finished a report
  if (unflushed_) consider(last_record_ + kReaperWait);
  if (unexplained_since_) consider(*unexplained_since_ + kReportGrace);
  return deadline;
}

KernelOomWatcherStats KernelOomWatcher::stats() const {
  KernelOomWatcherStats out = stats_;
  out.kmsg_overwritten = kmsg_.overwritten();
  return out;
}

}  // namespace oomkit::daemon
