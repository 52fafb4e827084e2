#include "oomkit/core/oom_path.h"

#include <gtest/gtest.h>

#include "oomkit/core/procfs.h"

namespace oomkit::core {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

TEST(OomPathTest, ChainStopMeansHandled) {
  EXPECT_FALSE(afterNotifierChain({.handlers_run = 2, .freed_bytes = 64 * kMiB}));

  const auto d = afterNotifierChain(
      {.handlers_run = 1, .freed_bytes = 0, .stopped = true, .last_result = 0x8001});

  ASSERT_TRUE(d);
  EXPECT_EQ(d->action, Action::kHandled);
}

TEST(OomPathTest, RecheckStopsOnlyAboveTheHighWatermark) {
  const ScopeMemory above{.available_bytes = 300 * kMiB, .high_watermark_bytes = 200 * kMiB};
  const ScopeMemory below{.available_bytes = 100 * kMiB, .high_watermark_bytes = 200 * kMiB};

  ASSERT_TRUE(afterRecheck(64 * kMiB, above, false));
  EXPECT_EQ(afterRecheck(64 * kMiB, above, false)->action, Action::kNone);
  EXPECT_FALSE(afterRecheck(64 * kMiB, below, false));
  EXPECT_FALSE(afterRecheck(0, above, false));         // nothing freed: no re-read
  EXPECT_FALSE(afterRecheck(64 * kMiB, above, true));  // SysRq f ignores freed
}

TEST(OomPathTest, PendingVictimWaitsUntilTheReapTimeout) {
  const PendingVictim pending{.pid = 42, .signalled_at = Seconds(10.0)};

  const auto waiting = afterPendingVictim(pending, Seconds(12.0), Seconds(5.0), false);

  ASSERT_TRUE(waiting);
  EXPECT_EQ(waiting->action, Action::kWait);
  EXPECT_FALSE(afterPendingVictim(pending, Seconds(15.5), Seconds(5.0), false));  // timed out
  EXPECT_FALSE(afterPendingVictim(std::nullopt, Seconds(12.0), Seconds(5.0), false));
  EXPECT_FALSE(afterPendingVictim(pending, Seconds(12.0), Seconds(5.0), true));  // SysRq f
}

Process withMemory(int32_t pid) {
  Process p;
  p.pid = pid;
  p.comm = "victim";
  p.has_mm = true;
  p.memory.rss_anon_kb = 100 * 1024;
  return p;
}

TEST(OomPathTest, ADyingProcessWithMemoryIsWaitedFor) {
  Process killed = withMemory(7);
  killed.sigkill_pending = true;
  Process exiting = withMemory(8);
  exiting.flags = kPfExiting;
  Process exited = withMemory(9);  // a zombie: SIGKILL seen, memory already gone
  exited.sigkill_pending = true;
  exited.has_mm = false;
  exited.memory = {};
  Process kthread = withMemory(10);
  kthread.flags = kPfExiting | kPfKthread;
  Process alive = withMemory(11);

  EXPECT_TRUE(isDyingWithMemory(killed));
  EXPECT_TRUE(isDyingWithMemory(exiting));
  EXPECT_FALSE(isDyingWithMemory(exited));
  EXPECT_FALSE(isDyingWithMemory(kthread));
  EXPECT_FALSE(isDyingWithMemory(alive));

  const auto wait = afterDyingProcess(DyingProcess{7, "hog", true}, false);
  ASSERT_TRUE(wait);
  EXPECT_EQ(wait->action, Action::kWait);
  EXPECT_NE(wait->reason.find("pid 7 (hog)"), std::string::npos) << wait->reason;
  EXPECT_NE(wait->reason.find("SIGKILL pending"), std::string::npos) << wait->reason;
  EXPECT_FALSE(afterDyingProcess(DyingProcess{7, "hog", true}, true));  // SysRq f
  EXPECT_FALSE(afterDyingProcess(std::nullopt, false));
}

TEST(OomPathTest, PanicOnOomFollowsTheKernelsMeaning) {
  struct Case {
    PanicOnOom setting;
    bool memcg;
    bool sysrq;
    bool panics;
  };
  const Case cases[] = {
      {PanicOnOom::kOff, false, false, false},       {PanicOnOom::kGlobalOnly, false, false, true},
      {PanicOnOom::kGlobalOnly, true, false, false}, {PanicOnOom::kAlways, true, false, true},
      {PanicOnOom::kAlways, false, true, false},     {PanicOnOom::kGlobalOnly, false, true, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(static_cast<int>(c.setting) * 100 + c.memcg * 10 + c.sysrq);
    const auto d = afterPanicOnOom(c.setting, c.memcg, c.sysrq);
    EXPECT_EQ(d.has_value(), c.panics);
    EXPECT_EQ(d.value_or(Decision{}).action, c.panics ? Action::kPanic : Action::kNone);
  }
}

TEST(OomPathTest, AllocatingTaskOnlyForGlobalScopesWithAKnownGrower) {
  const Grower grower{.pid = 7, .start_time_ticks = 100, .comm = "hog", .grew_bytes = 512 * kMiB};

  const auto d = afterAllocatingTask(true, grower, false);

  ASSERT_TRUE(d);
  EXPECT_EQ(d->action, Action::kKill);
  EXPECT_FALSE(afterAllocatingTask(false, grower, false));
  EXPECT_FALSE(afterAllocatingTask(true, std::nullopt, false));
  EXPECT_FALSE(afterAllocatingTask(true, grower, true));  // not for memcg OOMs
}

TEST(OomPathTest, SelectionKillsOrPanicsWhenNothingIsEligible) {
  EXPECT_EQ(afterSelection(99, 1234, 3).action, Action::kKill);
  EXPECT_EQ(afterSelection(std::nullopt, 0, 0).action, Action::kPanic);
  EXPECT_NE(afterSelection(std::nullopt, 0, 0).reason.find("no killable"), std::string::npos);
}

TEST(OomPathTest, NamesAreStable) {
  EXPECT_EQ(stepName(Step::kNotifierChain), "notifier_chain");
  EXPECT_EQ(stepName(Step::kNoVictim), "no_victim");
  EXPECT_EQ(actionName(Action::kWait), "wait");
  EXPECT_EQ(panicActionName(PanicAction::kCrash), "crash");
}

}  // namespace
}  // namespace oomkit::core
