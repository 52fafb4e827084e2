// The grow-limit handler over a fake cgroup v2 tree in a temp dir: how far it raises
// memory.max (Documentation/admin-guide/cgroup-v2.rst) per call, and where it stops (reserve,
// ceiling, no limit). The real v1 cgroup, memsw included, is in
// tests/integration/grow_limit_live_test.cpp.
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "oomkit/core/config.h"
#include "oomkit/sys/oom_state.h"
#include "oomkit/sys/reclaim_handler.h"

#include "sys/cgroup_handlers.h"

namespace oomkit::sys {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMiB = uint64_t{1} << 20;

class GrowLimitHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "oomkit-grow-limit-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    root_ = templ;
    fs::create_directories(root_ / "web");
    // The handler writes in place without truncating (as cgroupfs wants): every value
    // written in these tests has at least as many digits as the one it replaces.
    setLimit("268435456");  // 256 MiB
    scope_.name = "web";
    scope_.cgroup = "/web";
    context_.memory = MemoryHierarchy{core::CgroupVersion::kV2, root_.string(), "/"};
  }
  void TearDown() override { fs::remove_all(root_); }

  void setLimit(const std::string& text) { std::ofstream(root_ / "web" / "memory.max") << text; }
  std::string limit() const {
    std::ifstream in(root_ / "web" / "memory.max");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  static core::HandlerConfig config(std::optional<uint64_t> step, uint64_t reserve,
                                    std::optional<uint64_t> ceiling = std::nullopt) {
    core::HandlerConfig c;
    c.type = core::HandlerType::kGrowLimit;
    c.name = "grow";
    c.priority = 3;
    c.grow_limit.step_bytes = step;
    c.grow_limit.reserve_bytes = reserve;
    c.grow_limit.ceiling_bytes = ceiling;
    return c;
  }
  static OomNotification needing(uint64_t bytes) {
    OomNotification n;
    n.scope_name = "web";
    n.cgroup = "/web";
    n.total_bytes = 256 * kMiB;
    n.bytes_needed = bytes;
    return n;
  }
  std::unique_ptr<ReclaimHandler> make(const core::HandlerConfig& c) {
    auto handler = makeGrowLimitHandler(scope_, c, context_);
    EXPECT_TRUE(handler) << handler.error().message;
    return handler ? std::move(*handler) : nullptr;
  }

  fs::path root_;
  core::ScopeConfig scope_;
  HandlerContext context_;
};

TEST_F(GrowLimitHandlerTest, RaisesTheLimitByTheStep) {
  auto handler = make(config(16 * kMiB, 64 * kMiB));
  ASSERT_TRUE(handler);

  const HandlerOutcome out = handler->reclaim(needing(kMiB));

  EXPECT_EQ(out.result, core::kNotifyOk);
  EXPECT_EQ(out.freed_bytes, 16777216u);
  EXPECT_EQ(limit(), "285212672");  // 256 MiB + 16 MiB
  EXPECT_EQ(out.name, "grow");
  EXPECT_EQ(out.type, "grow-limit");
  EXPECT_EQ(out.priority, 3);
}

TEST_F(GrowLimitHandlerTest, DefaultStepIsTheBytesNeededInWholePages) {
  auto handler = make(config(std::nullopt, 64 * kMiB));
  ASSERT_TRUE(handler);

  const HandlerOutcome out = handler->reclaim(needing(5000));

  EXPECT_EQ(out.freed_bytes, 8192u);
  EXPECT_EQ(limit(), "268443648");
}

TEST_F(GrowLimitHandlerTest, WithoutBytesNeededTheStepIsOnePercentOfTheLimit) {
  auto handler = make(config(std::nullopt, 64 * kMiB));
  ASSERT_TRUE(handler);

  const HandlerOutcome out = handler->reclaim(needing(0));

  // 1% of 268435456 = 2684354 bytes, rounded up to 656 pages.
  EXPECT_EQ(out.freed_bytes, 2686976u);
  EXPECT_EQ(limit(), "271122432");
}

TEST_F(GrowLimitHandlerTest, WithoutBytesNeededTheStepIsAtLeastOneMebibyte) {
  setLimit("67108864");  // 64 MiB: 1% would be 655 KiB
  auto handler = make(config(std::nullopt, 64 * kMiB));
  ASSERT_TRUE(handler);

  const HandlerOutcome out = handler->reclaim(needing(0));

  EXPECT_EQ(out.freed_bytes, kMiB);
  EXPECT_EQ(limit(), "68157440");
}

TEST_F(GrowLimitHandlerTest, StopsWhenTheReserveIsUsedUp) {
  auto handler = make(config(16 * kMiB, 20 * kMiB));
  ASSERT_TRUE(handler);

  const HandlerOutcome first = handler->reclaim(needing(0));
  const HandlerOutcome second = handler->reclaim(needing(0));
  const HandlerOutcome third = handler->reclaim(needing(0));

  EXPECT_EQ(first.freed_bytes, 16 * kMiB);
  EXPECT_EQ(second.result, core::kNotifyOk);
  EXPECT_EQ(second.freed_bytes, 4 * kMiB);  // what was left of the reserve
  EXPECT_EQ(third.result, core::kNotifyDone);
  EXPECT_EQ(third.freed_bytes, 0u);
  EXPECT_NE(third.note.find("reserve used up"), std::string::npos) << third.note;
  EXPECT_EQ(limit(), "289406976");  // 256 MiB + 20 MiB exactly
}

TEST_F(GrowLimitHandlerTest, LessThanAPageOfReserveCountsAsUsedUp) {
  auto handler = make(config(16 * kMiB, 16 * kMiB + 100));
  ASSERT_TRUE(handler);

  const HandlerOutcome first = handler->reclaim(needing(0));
  const HandlerOutcome second = handler->reclaim(needing(0));

  EXPECT_EQ(first.freed_bytes, 16 * kMiB);
  EXPECT_EQ(second.result, core::kNotifyDone);
  EXPECT_EQ(limit(), "285212672");
}

TEST_F(GrowLimitHandlerTest, NeverRaisesAboveTheCeiling) {
  // A ceiling 100 bytes past 260 MiB: the limit stops at the page below it.
  auto handler = make(config(16 * kMiB, 64 * kMiB, 260 * kMiB + 100));
  ASSERT_TRUE(handler);

  const HandlerOutcome first = handler->reclaim(needing(0));
  const HandlerOutcome second = handler->reclaim(needing(0));

  EXPECT_EQ(first.result, core::kNotifyOk);
  EXPECT_EQ(first.freed_bytes, 4 * kMiB);
  EXPECT_EQ(limit(), "272629760");
  EXPECT_EQ(second.result, core::kNotifyDone);
  EXPECT_NE(second.note.find("ceiling"), std::string::npos) << second.note;
}

TEST_F(GrowLimitHandlerTest, ALimitAlreadyAboveTheCeilingIsLeftAlone) {
  auto handler = make(config(16 * kMiB, 64 * kMiB, 128 * kMiB));
  ASSERT_TRUE(handler);

  const HandlerOutcome out = handler->reclaim(needing(0));

  EXPECT_EQ(out.result, core::kNotifyDone);
  EXPECT_EQ(limit(), "268435456");
}

TEST_F(GrowLimitHandlerTest, UnlimitedCgroupIsDone) {
  setLimit("max\n");
  auto handler = make(config(16 * kMiB, 64 * kMiB));
  ASSERT_TRUE(handler);

  const HandlerOutcome out = handler->reclaim(needing(kMiB));

  EXPECT_EQ(out.result, core::kNotifyDone);
  EXPECT_EQ(out.freed_bytes, 0u);
  EXPECT_EQ(out.note, "cgroup has no limit of its own");
  EXPECT_EQ(limit(), "max\n");
}

TEST_F(GrowLimitHandlerTest, AVanishedCgroupIsDoneAndSaysWhy) {
  auto handler = make(config(16 * kMiB, 64 * kMiB));
  ASSERT_TRUE(handler);
  fs::remove_all(root_ / "web");

  const HandlerOutcome out = handler->reclaim(needing(kMiB));

  EXPECT_EQ(out.result, core::kNotifyDone);
  EXPECT_NE(out.note.find("/web"), std::string::npos) << out.note;
}

TEST_F(GrowLimitHandlerTest, TheReserveIsSharedThroughTheOomState) {
  auto state = OomState::open((root_ / "state").string());
  ASSERT_TRUE(state) << state.error().message;
  context_.state = &*state;
  auto a = make(config(16 * kMiB, 24 * kMiB));
  auto b = make(config(16 * kMiB, 24 * kMiB));
  ASSERT_TRUE(a && b);

  const HandlerOutcome from_a = a->reclaim(needing(0));
  const HandlerOutcome from_b = b->reclaim(needing(0));
  const HandlerOutcome again_a = a->reclaim(needing(0));

  EXPECT_EQ(from_a.freed_bytes, 16 * kMiB);
  EXPECT_EQ(from_b.freed_bytes, 8 * kMiB);
  EXPECT_EQ(again_a.result, core::kNotifyDone);
  EXPECT_EQ(state->grantedBytes("/web", "grow"), 24 * kMiB);
  EXPECT_EQ(limit(), "293601280");  // 256 MiB + 24 MiB
}

TEST_F(GrowLimitHandlerTest, FactoryRefusesTheGlobalScopeAndOtherTypes) {
  core::ScopeConfig global;
  global.name = "machine";
  core::HandlerConfig exec = config(kMiB, kMiB);
  exec.type = core::HandlerType::kExec;

  auto for_global = makeGrowLimitHandler(global, config(kMiB, kMiB), context_);
  auto for_exec = makeGrowLimitHandler(scope_, exec, context_);

  ASSERT_FALSE(for_global);
  EXPECT_EQ(for_global.error().code, Errc::kInvalidArgument);
  ASSERT_FALSE(for_exec);
  EXPECT_EQ(for_exec.error().code, Errc::kInvalidArgument);
}

}  // namespace
}  // namespace oomkit::sys
