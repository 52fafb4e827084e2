// support/recording_killer.h — a fake sys::Killer for tests of the code that decides to kill.
//
// It records every request and signals nothing. By default each request is answered with a
// report that says the victim was killed (SIGKILL at the time of the call, no handles to
// watch); a test can queue other answers, such as Errc::kNotFound for a victim that vanished.
// Not thread-safe.
#pragma once

#include <chrono>
#include <deque>
#include <vector>

#include "oomkit/sys/killer.h"

namespace oomkit::test {

class RecordingKiller final : public sys::Killer {
 public:
  Result<sys::KillReport> killVictim(const sys::KillRequest& request) override {
    requests_.push_back(request);
    if (!answers_.empty()) {
      auto answer = std::move(answers_.front());
      answers_.pop_front();
      return answer;
    }
    return killedReport(request);
  }

  // The next call returns `answer` instead of the default report.
  void queue(Result<sys::KillReport> answer) { answers_.push_back(std::move(answer)); }
  const std::vector<sys::KillRequest>& requests() const { return requests_; }

  // What the real killer reports for a lone victim killed now (or would kill, in a dry run).
  static sys::KillReport killedReport(const sys::KillRequest& request) {
    sys::KillReport report;
    report.dry_run = request.dry_run;
    const core::Process& v = request.victim;
    report.targets.push_back(
        {v.pid, v.start_time_ticks, v.comm, sys::KillRole::kVictim,
         request.dry_run ? sys::KillOutcome::kWouldKill : sys::KillOutcome::kKilled,
         request.dry_run ? sys::ReleaseOutcome::kNotTried : sys::ReleaseOutcome::kReleased});
    if (!request.dry_run) report.sigkill_at = std::chrono::steady_clock::now();
    return report;
  }

 private:
  std::vector<sys::KillRequest> requests_;
  std::deque<Result<sys::KillReport>> answers_;
};

}  // namespace oomkit::test
