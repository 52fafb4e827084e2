// The memory-reclaim handler over a fake cgroup v2 tree in a temp dir (this machine's cgroup2
// has no memory controller, so no real memory.reclaim exists): what it writes to
// memory.reclaim (Documentation/admin-guide/cgroup-v2.rst) and what it reports.
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "oomkit/core/config.h"
#include "oomkit/sys/reclaim_handler.h"

#include "sys/cgroup_handlers.h"

namespace oomkit::sys {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;

class MemoryReclaimHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "oomkit-memory-reclaim-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    root_ = templ;
    fs::create_directories(root_ / "web");
    put("memory.current", "104857600\n");
    put("memory.max", "1073741824\n");
    put("memory.reclaim", "");
    scope_.name = "web";
    scope_.cgroup = "/web";
    context_.memory = MemoryHierarchy{core::CgroupVersion::kV2, root_.string(), "/"};
  }
  void TearDown() override { fs::remove_all(root_); }

  void put(const std::string& name, const std::string& text) {
    std::ofstream(root_ / "web" / name) << text;
  }
  std::string contents(const std::string& name) const {
    std::ifstream in(root_ / "web" / name);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  static core::HandlerConfig config(std::optional<core::MemoryAmount> amount) {
    core::HandlerConfig c;
    c.type = core::HandlerType::kMemoryReclaim;
    c.name = "trim";
    c.priority = 7;
    c.memory_reclaim.amount = amount;
    return c;
  }
  static OomNotification notification(uint64_t total, uint64_t needed) {
    OomNotification n;
    n.scope_name = "web";
    n.cgroup = "/web";
    n.total_bytes = total;
    n.bytes_needed = needed;
    return n;
  }

  HandlerOutcome run(std::optional<core::MemoryAmount> amount, uint64_t total, uint64_t needed) {
    auto handler = makeMemoryReclaimHandler(scope_, config(amount), context_);
    EXPECT_TRUE(handler) << handler.error().message;
    if (!handler) return {};
    return (*handler)->reclaim(notification(total, needed));
  }

  fs::path root_;
  core::ScopeConfig scope_;
  HandlerContext context_;
};

TEST_F(MemoryReclaimHandlerTest, WritesTheConfiguredAmountAndReportsItFreed) {
  auto handler =
      makeMemoryReclaimHandler(scope_, config(core::MemoryAmount::ofBytes(256 * kMiB)), context_);
  ASSERT_TRUE(handler) << handler.error().message;
  EXPECT_EQ((*handler)->name(), "trim");
  EXPECT_EQ((*handler)->type(), core::HandlerType::kMemoryReclaim);
  EXPECT_EQ((*handler)->priority(), 7);

  const HandlerOutcome out = (*handler)->reclaim(notification(kGiB, 3 * kMiB));

  EXPECT_EQ(contents("memory.reclaim"), "268435456");
  EXPECT_EQ(out.result, core::kNotifyOk);
  EXPECT_EQ(out.freed_bytes, 268435456u);
  EXPECT_EQ(out.name, "trim");
  EXPECT_EQ(out.type, "memory-reclaim");
  EXPECT_EQ(out.priority, 7);
}

TEST_F(MemoryReclaimHandlerTest, PercentageIsOfTheScopeTotal) {
  const HandlerOutcome out = run(core::MemoryAmount::ofPercent(12.5), 2 * kGiB, 3 * kMiB);

  EXPECT_EQ(contents("memory.reclaim"), "268435456");
  EXPECT_EQ(out.freed_bytes, 268435456u);
}

TEST_F(MemoryReclaimHandlerTest, DefaultAmountIsTheBytesNeeded) {
  const HandlerOutcome out = run(std::nullopt, kGiB, 12 * kMiB);

  EXPECT_EQ(contents("memory.reclaim"), "12582912");
  EXPECT_EQ(out.result, core::kNotifyOk);
  EXPECT_EQ(out.freed_bytes, 12582912u);
}

TEST_F(MemoryReclaimHandlerTest, AmountIsRoundedUpToAWholePage) {
  // 10% of 10^9 is 100000000 bytes = 24414.06 pages; the kernel would drop the fraction.
  const HandlerOutcome out = run(core::MemoryAmount::ofPercent(10), 1000000000, 0);

  EXPECT_EQ(contents("memory.reclaim"), "100003840");
  EXPECT_EQ(out.freed_bytes, 100003840u);
}

TEST_F(MemoryReclaimHandlerTest, LessThanAPageStillAsksForOnePage) {
  const HandlerOutcome out = run(std::nullopt, kGiB, 1000);

  EXPECT_EQ(contents("memory.reclaim"), "4096");
  EXPECT_EQ(out.freed_bytes, 4096u);
}

TEST_F(MemoryReclaimHandlerTest, NothingToReclaimIsDone) {
  const HandlerOutcome out = run(std::nullopt, kGiB, 0);

  EXPECT_EQ(out.result, core::kNotifyDone);
  EXPECT_EQ(out.freed_bytes, 0u);
  EXPECT_EQ(contents("memory.reclaim"), "");
}

TEST_F(MemoryReclaimHandlerTest, MissingMemoryReclaimIsDoneWithTheReason) {
  fs::remove(root_ / "web" / "memory.reclaim");

  const HandlerOutcome out = run(std::nullopt, kGiB, 12 * kMiB);

  EXPECT_EQ(out.result, core::kNotifyDone);
  EXPECT_EQ(out.freed_bytes, 0u);
  EXPECT_EQ(out.note, "memory.reclaim is not available (cgroup v1 or kernel before 5.19)");
  EXPECT_FALSE(fs::exists(root_ / "web" / "memory.reclaim"));
}

TEST_F(MemoryReclaimHandlerTest, CgroupV1IsDoneWithTheReason) {
  context_.memory->version = core::CgroupVersion::kV1;

  const HandlerOutcome out = run(std::nullopt, kGiB, 12 * kMiB);

  EXPECT_EQ(out.result, core::kNotifyDone);
  EXPECT_EQ(out.note, "memory.reclaim is not available (cgroup v1 or kernel before 5.19)");
  EXPECT_EQ(contents("memory.reclaim"), "");
}

TEST_F(MemoryReclaimHandlerTest, AFailedWriteIsDoneAndSaysWhy) {
  fs::remove(root_ / "web" / "memory.reclaim");
  fs::create_directory(root_ / "web" / "memory.reclaim");  // open(O_WRONLY) gives EISDIR

  const HandlerOutcome out = run(std::nullopt, kGiB, 12 * kMiB);

  EXPECT_EQ(out.result, core::kNotifyDone);
  EXPECT_EQ(out.freed_bytes, 0u);
  EXPECT_NE(out.note.find("Is a directory"), std::string::npos) << out.note;
  EXPECT_NE(out.note.find("12582912"), std::string::npos) << out.note;
}

TEST_F(MemoryReclaimHandlerTest, FactoryRefusesTheGlobalScope) {
  scope_.cgroup.reset();

  auto handler = makeMemoryReclaimHandler(scope_, config(std::nullopt), context_);

  ASSERT_FALSE(handler);
  EXPECT_EQ(handler.error().code, Errc::kInvalidArgument);
}

TEST_F(MemoryReclaimHandlerTest, FactoryNeedsAMemoryHierarchyAndTheRightType) {
  HandlerContext no_memory;
  auto without = makeMemoryReclaimHandler(scope_, config(std::nullopt), no_memory);
  core::HandlerConfig grow = config(std::nullopt);
  grow.type = core::HandlerType::kGrowLimit;
  auto wrong_type = makeMemoryReclaimHandler(scope_, grow, context_);

  ASSERT_FALSE(without);
  EXPECT_EQ(without.error().code, Errc::kUnavailable);
  ASSERT_FALSE(wrong_type);
  EXPECT_EQ(wrong_type.error().code, Errc::kInvalidArgument);
}

TEST_F(MemoryReclaimHandlerTest, NameDefaultsToTheType) {
  core::HandlerConfig unnamed = config(std::nullopt);
  unnamed.name.clear();

  auto handler = makeMemoryReclaimHandler(scope_, unnamed, context_);

  ASSERT_TRUE(handler) << handler.error().message;
  EXPECT_EQ((*handler)->name(), "memory-reclaim");
}

}  // namespace
}  // namespace oomkit::sys
