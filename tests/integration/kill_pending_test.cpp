// Live tests of PendingVictims: a kill stays pending for its scope until its processes exit
// or the reap timeout passes. Time is given explicitly; exits come from real pidfds.
#include <signal.h>

#include <chrono>

#include <gtest/gtest.h>

#include "oomkit/sys/pending_victims.h"

#include "integration/kill_fixture.h"

namespace oomkit::test {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kReapTimeout{3000};
constexpr milliseconds kExitTimeout{2000};

class KillPendingLiveTest : public KillLiveFixture {
 protected:
  // A report as the killer would make it for `p`, signalled at `at`, without signalling it: the
  // test decides when the process exits.
  sys::KillReport reportFor(TestProcess& p, sys::SteadyTime at) {
    sys::KillReport report;
    auto handle = sys::ProcessHandle::open(*proc_, p.pid(), identity(p.pid()).start_time_ticks);
    EXPECT_TRUE(handle) << handle.error().message;
    if (!handle) return report;
    report.targets.push_back({p.pid(), handle->process().start_time_ticks, handle->process().comm,
                              sys::KillRole::kVictim, sys::KillOutcome::kKilled,
                              sys::ReleaseOutcome::kNotTried});
    report.sigkill_at = at;
    report.usage_cgroup_dir = memcg_->dir();
    auto usage = memcg_->usageBytes();
    if (usage) report.usage_before_bytes = *usage;
    report.handles.push_back(std::move(*handle));
    return report;
  }
};

TEST_F(KillPendingLiveTest, ScopeIsPendingUntilTheVictimExitsThenTheRecordIsComplete) {
  TestProcess p = start({"--anon", "48", "--name", "dying"});
  sys::PendingVictims pending(*proc_, kReapTimeout);
  const sys::SteadyTime t0 = std::chrono::steady_clock::now();
  pending.add("/test", reportFor(p, t0));

  auto dying = pending.dying("/test", t0 + milliseconds(500));
  auto other_scope = pending.dying("/other", t0 + milliseconds(500));
  auto nothing_yet = pending.collect(t0 + milliseconds(500));

  ASSERT_TRUE(dying);
  EXPECT_EQ(dying->victim_pid, p.pid());
  EXPECT_EQ(dying->victim_comm, "dying");
  EXPECT_EQ(dying->waited, milliseconds(500));
  EXPECT_EQ(dying->remaining, milliseconds(2500));
  EXPECT_FALSE(other_scope);
  EXPECT_TRUE(nothing_yet.empty());
  EXPECT_EQ(pending.fds().size(), 1u);
  EXPECT_EQ(pending.nextDeadline(), t0 + kReapTimeout);

  ASSERT_TRUE(p.kill(SIGKILL));
  ASSERT_TRUE(p.waitExit(kExitTimeout));
  const sys::SteadyTime t1 = t0 + milliseconds(700);
  EXPECT_FALSE(pending.dying("/test", t1));
  auto finished = pending.collect(t1);

  ASSERT_EQ(finished.size(), 1u);
  const sys::FinishedKill& f = finished[0];
  EXPECT_EQ(f.scope, "/test");
  EXPECT_EQ(f.victim_pid, p.pid());
  EXPECT_EQ(f.signalled_at, t0);
  EXPECT_EQ(f.exited_at, t1);
  EXPECT_FALSE(f.timed_out);
  EXPECT_TRUE(f.still_running.empty());
  ASSERT_TRUE(f.recovered_bytes);
  EXPECT_GE(*f.recovered_bytes, 40 * kMiB);
  EXPECT_TRUE(pending.empty());
}

TEST_F(KillPendingLiveTest, ReapTimeoutEndsTheWaitForAVictimThatDoesNotExit) {
  TestProcess p = start({"--name", "undying"});
  sys::PendingVictims pending(*proc_, kReapTimeout);
  const sys::SteadyTime t0 = std::chrono::steady_clock::now();
  pending.add("/test", reportFor(p, t0));

  auto still = pending.dying("/test", t0 + kReapTimeout - milliseconds(1));
  auto over = pending.dying("/test", t0 + kReapTimeout);
  auto finished = pending.collect(t0 + kReapTimeout);

  EXPECT_TRUE(still);
  EXPECT_FALSE(over);
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_TRUE(finished[0].timed_out);
  EXPECT_FALSE(finished[0].exited_at);
  EXPECT_EQ(finished[0].still_running, std::vector<int32_t>{p.pid()});
  EXPECT_TRUE(pending.empty());
  EXPECT_FALSE(p.waitExit(milliseconds(0)).has_value()) << "nobody signalled it";
}

TEST_F(KillPendingLiveTest, ReapTimeoutRunsFromSigkillNotFromSigterm) {
  TestProcess p = start({"--name", "graceful"});
  sys::PendingVictims pending(*proc_, kReapTimeout);
  const sys::SteadyTime t0 = std::chrono::steady_clock::now();
  sys::KillReport report = reportFor(p, t0 + milliseconds(2000));
  report.sigterm_at = t0;  // a 2 s grace period before the SIGKILL
  pending.add("/test", std::move(report));

  auto dying = pending.dying("/test", t0 + milliseconds(4000));

  ASSERT_TRUE(dying);
  EXPECT_EQ(dying->waited, milliseconds(4000));
  EXPECT_EQ(dying->remaining, milliseconds(1000));
  EXPECT_EQ(pending.nextDeadline(), t0 + milliseconds(2000) + kReapTimeout);
  EXPECT_FALSE(pending.dying("/test", t0 + milliseconds(5000)));
}

TEST_F(KillPendingLiveTest, RealKillIsPendingThenFinished) {
  TestProcess p = start({"--anon", "32", "--name", "real"});
  auto k = killer();
  sys::PendingVictims pending(*proc_, kReapTimeout);

  auto report = k.killVictim(request(p.pid()));
  ASSERT_TRUE(report) << report.error().message;
  const sys::SteadyTime signalled = *report->signalledAt();
  pending.add(memcg_->path(), std::move(*report));
  ASSERT_TRUE(p.waitExit(kExitTimeout));
  const sys::SteadyTime now = std::chrono::steady_clock::now();

  EXPECT_FALSE(pending.dying(memcg_->path(), now));
  auto finished = pending.collect(now);
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0].signalled_at, signalled);
  ASSERT_TRUE(finished[0].exited_at);
  EXPECT_GE(*finished[0].exited_at, signalled);
  ASSERT_TRUE(finished[0].recovered_bytes);
  EXPECT_GE(*finished[0].recovered_bytes, 24 * kMiB);
}

TEST_F(KillPendingLiveTest, DryRunIsNeverPending) {
  TestProcess p = start({"--name", "dry"});
  auto k = killer();
  sys::PendingVictims pending(*proc_, kReapTimeout);
  sys::KillRequest r = request(p.pid());
  r.dry_run = true;

  auto report = k.killVictim(r);
  ASSERT_TRUE(report) << report.error().message;
  pending.add(memcg_->path(), std::move(*report));

  EXPECT_TRUE(pending.empty());
  EXPECT_FALSE(pending.dying(memcg_->path(), std::chrono::steady_clock::now()));
}

}  // namespace
}  // namespace oomkit::test
