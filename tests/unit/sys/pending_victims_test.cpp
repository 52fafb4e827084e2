// PendingVictims without live processes: what it ignores. The live behaviour (exit, timeout,
// recovered memory) is in tests/integration/kill_pending_test.cpp.
#include "oomkit/sys/pending_victims.h"

#include <gtest/gtest.h>

#include "support/recording_killer.h"

namespace oomkit::sys {
namespace {

KillRequest requestFor(int32_t pid, bool dry_run) {
  KillRequest r;
  r.victim.pid = pid;
  r.victim.comm = "hog";
  r.dry_run = dry_run;
  return r;
}

TEST(KillPendingTest, ReportsWithoutPidfdsAreNotWatched) {
  auto proc = ProcReader::open("/proc");
  ASSERT_TRUE(proc) << proc.error().message;
  PendingVictims pending(*proc);
  test::RecordingKiller killer;
  const SteadyTime now = std::chrono::steady_clock::now();

  auto killed = killer.killVictim(requestFor(100, false));
  auto dry = killer.killVictim(requestFor(101, true));
  ASSERT_TRUE(killed && dry);
  pending.add("/", std::move(*killed));
  pending.add("/", std::move(*dry));

  EXPECT_TRUE(pending.empty());
  EXPECT_FALSE(pending.dying("/", now));
  EXPECT_TRUE(pending.collect(now).empty());
  EXPECT_EQ(pending.nextDeadline(), std::nullopt);
  ASSERT_EQ(killer.requests().size(), 2u);
  EXPECT_EQ(killer.requests()[1].victim.pid, 101);
}

TEST(KillPendingTest, RecordingKillerAnswersWhatWasQueued) {
  test::RecordingKiller killer;
  killer.queue(makeError(Errc::kNotFound, "pid 7 has exited"));

  auto first = killer.killVictim(requestFor(7, false));
  auto second = killer.killVictim(requestFor(8, false));

  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code, Errc::kNotFound);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->victim().pid, 8);
  EXPECT_EQ(second->victim().outcome, KillOutcome::kKilled);
  EXPECT_TRUE(second->sigkill_at);
}

}  // namespace
}  // namespace oomkit::sys
