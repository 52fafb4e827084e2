#include "oomkit/sys/pending_victims.h"

#include <algorithm>
#include <utility>

#include "oomkit/sys/scope_usage.h"

namespace oomkit::sys {
namespace {

using std::chrono::milliseconds;

milliseconds since(SteadyTime start, SteadyTime now) {
  return std::chrono::duration_cast<milliseconds>(now - start);
}

}  // namespace

void PendingVictims::add(const std::string& scope, KillReport&& report) {
  const auto signalled = report.signalledAt();
  if (report.dry_run || !signalled || report.handles.empty() || report.targets.empty()) return;
  // The reap timeout runs from SIGKILL: a SIGTERM grace period is the killer's own wait.
  const SteadyTime deadline = report.sigkill_at.value_or(*signalled) + reap_timeout_;
  Kill kill{scope,
            report.victim().pid,
            report.victim().comm,
            *signalled,
            deadline,
            std::move(report.usage_cgroup_dir),
            report.usage_before_bytes,
            {}};
  for (ProcessHandle& h : report.handles)
    kill.processes.push_back({std::move(h), std::nullopt});
  report.handles.clear();
  kills_.push_back(std::move(kill));
}

std::optional<DyingVictim> PendingVictims::dying(const std::string& scope, SteadyTime now) {
  for (Kill& kill : kills_) {
    if (kill.scope != scope || refresh(kill, now)) continue;
    if (now >= kill.deadline) continue;
    return DyingVictim{kill.victim_pid, kill.victim_comm, since(kill.signalled_at, now),
                       since(now, kill.deadline)};
  }
  return std::nullopt;
}

std::vector<FinishedKill> PendingVictims::collect(SteadyTime now) {
  std::vector<FinishedKill> finished;
  auto it = kills_.begin();
  while (it != kills_.end()) {
    const bool all_exited = refresh(*it, now);
    const bool timed_out = !all_exited && now >= it->deadline;
    if (!all_exited && !timed_out) {
      ++it;
      continue;
    }
    finished.push_back(finish(*it, timed_out));
    it = kills_.erase(it);
  }
  return finished;
}

std::vector<int> PendingVictims::fds() const {
  std::vector<int> out;
  for (const Kill& kill : kills_) {
    for (const Watched& w : kill.processes) {
      if (!w.exited_at) out.push_back(w.handle.fd());
    }
  }
  return out;
}

std::optional<SteadyTime> PendingVictims::nextDeadline() const {
  std::optional<SteadyTime> next;
  for (const Kill& kill : kills_) {
    if (!next || kill.deadline < *next) next = kill.deadline;
  }
  return next;
}

bool PendingVictims::refresh(Kill& kill, SteadyTime now) {
  bool all = true;
  for (Watched& w : kill.processes) {
    if (!w.exited_at && w.handle.exited()) w.exited_at = now;
    all = all && w.exited_at.has_value();
  }
  return all;
}

FinishedKill PendingVictims::finish(Kill& kill, bool timed_out) {
  FinishedKill done;
  done.scope = std::move(kill.scope);
  done.victim_pid = kill.victim_pid;
  done.victim_comm = std::move(kill.victim_comm);
  done.signalled_at = kill.signalled_at;
  done.timed_out = timed_out;
  for (const Watched& w : kill.processes) {
    if (!w.exited_at) done.still_running.push_back(w.handle.pid());
    if (w.exited_at && (!done.exited_at || *w.exited_at > *done.exited_at)) {
      done.exited_at = w.exited_at;
    }
  }
  if (timed_out) done.exited_at.reset();
  done.usage_before_bytes = kill.usage_before_bytes;
  if (auto after = readScopeUsage(*proc_, kill.usage_cgroup_dir)) done.usage_after_bytes = *after;
  if (done.usage_before_bytes && done.usage_after_bytes) {
    done.recovered_bytes = recoveredBytes(*done.usage_before_bytes, *done.usage_after_bytes);
  }
  return done;
}

}  // namespace oomkit::sys
