// The grow-limit handler on a real memory cgroup made for the test (TestMemcg): the kernel
// accepts the limits it writes and shows exactly them back. On cgroup v1 with swap accounting
// the memory+swap limit must move first (Documentation/admin-guide/cgroup-v1/memory.rst: the
// kernel refuses memory.limit_in_bytes above memory.memsw.limit_in_bytes with EINVAL).
// Nothing is allocated in the cgroup: only its limits change.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>

#include <gtest/gtest.h>

#include "oomkit/core/config.h"
#include "oomkit/sys/cgroups.h"
#include "oomkit/sys/oom_state.h"
#include "oomkit/sys/proc_reader.h"
#include "oomkit/sys/reclaim_handler.h"

#include "support/file_io.h"
#include "support/memcg.h"
#include "sys/cgroup_handlers.h"

namespace oomkit::sys {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kStartLimit = 64 * kMiB;

class GrowLimitLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::TestMemcg::skipReason().empty()) {
      GTEST_SKIP() << test::TestMemcg::skipReason();
    }
    auto memcg = test::TestMemcg::create(kStartLimit);
    ASSERT_TRUE(memcg) << memcg.error().message;
    memcg_.emplace(std::move(*memcg));
    auto proc = ProcReader::open("/proc");
    ASSERT_TRUE(proc) << proc.error().message;
    proc_.emplace(std::move(*proc));
    auto memory = findMemoryHierarchy(*proc_, {});
    ASSERT_TRUE(memory) << memory.error().message;
    context_.proc = &*proc_;
    context_.memory = *memory;
    scope_.name = "live";
    scope_.cgroup = memcg_->path();
  }
  void TearDown() override {
    memcg_.reset();  // removes the cgroup
    if (!state_dir_.empty()) fs::remove_all(state_dir_);
  }

  bool v1() const { return memcg_->version() == test::CgroupVersion::kV1; }
  std::string memoryFile() const { return v1() ? "memory.limit_in_bytes" : "memory.max"; }
  std::optional<uint64_t> read(const std::string& name) const {
    auto text = test::readFile(memcg_->file(name));
    if (!text) return std::nullopt;
    return test::parseUint(*text);
  }
  std::optional<uint64_t> memoryLimit() const { return read(memoryFile()); }
  bool hasMemsw() const {
    return v1() && test::fileExists(memcg_->file("memory.memsw.limit_in_bytes"));
  }

  static core::HandlerConfig config(std::optional<uint64_t> step, uint64_t reserve,
                                    std::optional<uint64_t> ceiling = std::nullopt) {
    core::HandlerConfig c;
    c.type = core::HandlerType::kGrowLimit;
    c.name = "grow";
    c.grow_limit.step_bytes = step;
    c.grow_limit.reserve_bytes = reserve;
    c.grow_limit.ceiling_bytes = ceiling;
    return c;
  }
  std::unique_ptr<ReclaimHandler> make(const core::HandlerConfig& c) {
    auto handler = makeGrowLimitHandler(scope_, c, context_);
    EXPECT_TRUE(handler) << handler.error().message;
    return handler ? std::move(*handler) : nullptr;
  }
  OomNotification needing(uint64_t bytes) const {
    OomNotification n;
    n.scope_name = scope_.name;
    n.cgroup = scope_.cgroup;
    n.total_bytes = kStartLimit;
    n.bytes_needed = bytes;
    return n;
  }
  OomState* openState() {
    std::string templ = (fs::temp_directory_path() / "oomkit-grow-state-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) return nullptr;
    state_dir_ = templ;
    auto state = OomState::open(state_dir_);
    if (!state) return nullptr;
    state_.emplace(std::move(*state));
    return &*state_;
  }

  std::optional<test::TestMemcg> memcg_;
  std::optional<ProcReader> proc_;
  std::optional<OomState> state_;
  std::string state_dir_;
  core::ScopeConfig scope_;
  HandlerContext context_;
};

TEST_F(GrowLimitLiveTest, RaisesTheKernelLimitByTheStep) {
  auto handler = make(config(4 * kMiB, 16 * kMiB));
  ASSERT_TRUE(handler);

  const HandlerOutcome out = handler->reclaim(needing(kMiB));

  EXPECT_EQ(out.result, core::kNotifyOk) << out.note;
  EXPECT_EQ(out.freed_bytes, 4 * kMiB);
  EXPECT_EQ(memoryLimit(), 68 * kMiB);
}

TEST_F(GrowLimitLiveTest, StopsExactlyAtTheReserve) {
  auto handler = make(config(4 * kMiB, 10 * kMiB));
  ASSERT_TRUE(handler);

  const HandlerOutcome first = handler->reclaim(needing(0));
  const HandlerOutcome second = handler->reclaim(needing(0));
  const HandlerOutcome third = handler->reclaim(needing(0));
  const HandlerOutcome fourth = handler->reclaim(needing(0));

  EXPECT_EQ(first.freed_bytes, 4 * kMiB) << first.note;
  EXPECT_EQ(second.freed_bytes, 4 * kMiB) << second.note;
  EXPECT_EQ(third.result, core::kNotifyOk) << third.note;
  EXPECT_EQ(third.freed_bytes, 2 * kMiB);
  EXPECT_EQ(fourth.result, core::kNotifyDone);
  EXPECT_EQ(fourth.freed_bytes, 0u);
  EXPECT_NE(fourth.note.find("reserve used up"), std::string::npos) << fourth.note;
  EXPECT_EQ(memoryLimit(), kStartLimit + 10 * kMiB);
}

TEST_F(GrowLimitLiveTest, RespectsTheCeiling) {
  auto handler = make(config(4 * kMiB, 16 * kMiB, 66 * kMiB));
  ASSERT_TRUE(handler);

  const HandlerOutcome first = handler->reclaim(needing(0));
  const HandlerOutcome second = handler->reclaim(needing(0));

  EXPECT_EQ(first.freed_bytes, 2 * kMiB) << first.note;
  EXPECT_EQ(second.result, core::kNotifyDone);
  EXPECT_NE(second.note.find("ceiling"), std::string::npos) << second.note;
  EXPECT_EQ(memoryLimit(), 66 * kMiB);
}

TEST_F(GrowLimitLiveTest, RaisesTheMemswLimitFirst) {
  if (!hasMemsw()) GTEST_SKIP() << "no memory.memsw.limit_in_bytes (not v1 swap accounting)";
  ASSERT_EQ(read("memory.memsw.limit_in_bytes"), kStartLimit);  // TestMemcg: no swap allowed
  auto handler = make(config(4 * kMiB, 16 * kMiB));
  ASSERT_TRUE(handler);

  const HandlerOutcome out = handler->reclaim(needing(0));

  // Without memsw first, the kernel refuses the memory limit with EINVAL.
  EXPECT_EQ(out.result, core::kNotifyOk) << out.note;
  EXPECT_EQ(memoryLimit(), 68 * kMiB);
  EXPECT_EQ(read("memory.memsw.limit_in_bytes"), 68 * kMiB);
}

TEST_F(GrowLimitLiveTest, KeepsTheSwapAllowanceOfAHigherMemswLimit) {
  if (!hasMemsw()) GTEST_SKIP() << "no memory.memsw.limit_in_bytes (not v1 swap accounting)";
  ASSERT_TRUE(test::writeFile(memcg_->file("memory.memsw.limit_in_bytes"),
                              std::to_string(kStartLimit + 8 * kMiB)));
  auto handler = make(config(4 * kMiB, 16 * kMiB));
  ASSERT_TRUE(handler);

  const HandlerOutcome out = handler->reclaim(needing(0));

  EXPECT_EQ(out.result, core::kNotifyOk) << out.note;
  EXPECT_EQ(memoryLimit(), 68 * kMiB);
  EXPECT_EQ(read("memory.memsw.limit_in_bytes"), 76 * kMiB);  // still 8 MiB above
}

TEST_F(GrowLimitLiveTest, TheReserveIsSharedAcrossInstancesThroughTheOomState) {
  OomState* state = openState();
  ASSERT_NE(state, nullptr);
  context_.state = state;
  auto first = make(config(4 * kMiB, 6 * kMiB));
  auto second = make(config(4 * kMiB, 6 * kMiB));
  ASSERT_TRUE(first && second);

  const HandlerOutcome a = first->reclaim(needing(0));
  const HandlerOutcome b = second->reclaim(needing(0));
  const HandlerOutcome c = first->reclaim(needing(0));
  const HandlerOutcome d = second->reclaim(needing(0));

  EXPECT_EQ(a.freed_bytes, 4 * kMiB) << a.note;
  EXPECT_EQ(b.freed_bytes, 2 * kMiB) << b.note;
  EXPECT_EQ(c.result, core::kNotifyDone);
  EXPECT_EQ(d.result, core::kNotifyDone);
  EXPECT_EQ(state->grantedBytes(memcg_->path(), "grow"), 6 * kMiB);
  EXPECT_EQ(memoryLimit(), kStartLimit + 6 * kMiB);
}

TEST_F(GrowLimitLiveTest, AnUnlimitedCgroupIsDone) {
  // memsw must stay >= memory: lift it first.
  if (hasMemsw()) {
    ASSERT_TRUE(test::writeFile(memcg_->file("memory.memsw.limit_in_bytes"), "-1"));
  }
  ASSERT_TRUE(test::writeFile(memcg_->file(memoryFile()), v1() ? "-1" : "max"));
  auto handler = make(config(4 * kMiB, 16 * kMiB));
  ASSERT_TRUE(handler);

  const HandlerOutcome out = handler->reclaim(needing(kMiB));

  EXPECT_EQ(out.result, core::kNotifyDone);
  EXPECT_EQ(out.freed_bytes, 0u);
  EXPECT_EQ(out.note, "cgroup has no limit of its own");
}

}  // namespace
}  // namespace oomkit::sys
