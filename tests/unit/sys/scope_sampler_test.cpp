// Tests for sys::readScopeMemory and sys::ScopeSampler on fixture trees: a fake proc root
// (meminfo) and a fake cgroup v2 hierarchy (memory.max, memory.current) — the v2 paths this
// machine's kernel cannot show (it has no v2 memory controller).
#include "oomkit/sys/scope_sampler.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "oomkit/sys/scope_memory.h"

namespace oomkit::sys {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;
using Time = ScopeSampler::Time;

class ScopeSamplerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("oomkit-sampler-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "proc");
    std::filesystem::create_directories(root_ / "cg/web/api");
    std::filesystem::create_directories(root_ / "cg/batch");
    write("proc/sys/vm/swappiness", "60\n");
    writeMeminfo(1000 * 1024, 400 * 1024, 0, 0);
    // /web limits 512 MiB and uses 300; /web/api limits 400 MiB and uses 250: the parent binds
    // (212 MiB left against 150).
    write("cg/web/memory.max", std::to_string(512 * kMiB) + "\n");
    write("cg/web/memory.current", std::to_string(300 * kMiB) + "\n");
    write("cg/web/api/memory.max", std::to_string(400 * kMiB) + "\n");
    write("cg/web/api/memory.current", std::to_string(250 * kMiB) + "\n");
    write("cg/batch/memory.max", "max\n");
    write("cg/batch/memory.current", std::to_string(10 * kMiB) + "\n");
    auto proc = ProcReader::open((root_ / "proc").string());
    ASSERT_TRUE(proc) << proc.error().message;
    proc_.emplace(std::move(*proc));
    hierarchy_.version = core::CgroupVersion::kV2;
    hierarchy_.mount_dir = (root_ / "cg").string();
    hierarchy_.mount_root = "/";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void write(const std::string& rel, const std::string& text) {
    std::filesystem::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }
  void writeMeminfo(uint64_t total_kb, uint64_t available_kb, uint64_t swap_total_kb,
                    uint64_t swap_free_kb) {
    write("proc/meminfo",
          "MemTotal:       " + std::to_string(total_kb) +
              " kB\nMemFree:        1000 kB\nMemAvailable:   " + std::to_string(available_kb) +
              " kB\nSwapTotal:      " + std::to_string(swap_total_kb) +
              " kB\nSwapFree:       " + std::to_string(swap_free_kb) + " kB\n");
  }

  std::filesystem::path root_;
  std::optional<ProcReader> proc_;
  MemoryHierarchy hierarchy_;
};

TEST_F(ScopeSamplerTest, GlobalCountsSwapAsEarlyoomDoes) {
  writeMeminfo(1000 * 1024, 400 * 1024, 200 * 1024, 50 * 1024);
  auto memory = readScopeMemory(*proc_, hierarchy_, std::nullopt);
  ASSERT_TRUE(memory) << memory.error().message;
  EXPECT_EQ(memory->total_bytes, 1200 * kMiB);
  EXPECT_EQ(memory->available_bytes, 450 * kMiB);
  EXPECT_EQ(memory->usage_bytes, 750 * kMiB);
  EXPECT_EQ(memory->binding_cgroup, "");
}

TEST_F(ScopeSamplerTest, ACgroupIsBoundByTheTightestLevelOfItsChain) {
  auto memory = readScopeMemory(*proc_, hierarchy_, std::string("/web/api"));
  ASSERT_TRUE(memory) << memory.error().message;
  EXPECT_EQ(memory->binding_cgroup, "/web/api");
  EXPECT_EQ(memory->total_bytes, 400 * kMiB);
  EXPECT_EQ(memory->available_bytes, 150 * kMiB);
  // The parent fills up (its other children): now it binds.
  write("cg/web/memory.current", std::to_string(450 * kMiB) + "\n");
  memory = readScopeMemory(*proc_, hierarchy_, std::string("/web/api"));
  ASSERT_TRUE(memory);
  EXPECT_EQ(memory->binding_cgroup, "/web");
  EXPECT_EQ(memory->total_bytes, 512 * kMiB);
  EXPECT_EQ(memory->available_bytes, 62 * kMiB);
}

TEST_F(ScopeSamplerTest, AV2MemoryHighBelowMaxIsWhatTheWatermarksMeasure) {
  write("cg/web/memory.high", std::to_string(400 * kMiB) + "\n");
  auto memory = readScopeMemory(*proc_, hierarchy_, std::string("/web"));
  ASSERT_TRUE(memory) << memory.error().message;
  EXPECT_EQ(memory->total_bytes, 400 * kMiB);
  EXPECT_EQ(memory->available_bytes, 100 * kMiB);
  // memory.high alone (memory.max "max") limits a cgroup too; "max" high changes nothing.
  write("cg/batch/memory.high", std::to_string(64 * kMiB) + "\n");
  auto batch = readScopeMemory(*proc_, hierarchy_, std::string("/batch"));
  ASSERT_TRUE(batch) << batch.error().message;
  EXPECT_EQ(batch->total_bytes, 64 * kMiB);
  EXPECT_EQ(batch->available_bytes, 54 * kMiB);
  write("cg/web/memory.high", "max\n");
  memory = readScopeMemory(*proc_, hierarchy_, std::string("/web"));
  ASSERT_TRUE(memory);
  EXPECT_EQ(memory->total_bytes, 512 * kMiB);
}

TEST_F(ScopeSamplerTest, AnUnlimitedChainOrAMissingCgroupIsAClearError) {
  auto unlimited = readScopeMemory(*proc_, hierarchy_, std::string("/batch"));
  ASSERT_FALSE(unlimited);
  EXPECT_EQ(unlimited.error().code, Errc::kInvalidArgument);
  EXPECT_NE(unlimited.error().message.find("/batch"), std::string::npos);
  auto missing = readScopeMemory(*proc_, hierarchy_, std::string("/nope"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  auto no_hierarchy = readScopeMemory(*proc_, std::nullopt, std::string("/web"));
  ASSERT_FALSE(no_hierarchy);
  EXPECT_EQ(no_hierarchy.error().code, Errc::kUnavailable);
}

TEST_F(ScopeSamplerTest, SamplesReReadTheOpenCounterAndFollowTheLimit) {
  auto sampler =
      ScopeSampler::open(*proc_, hierarchy_, std::string("/web"), std::chrono::milliseconds(1000));
  ASSERT_TRUE(sampler) << sampler.error().message;
  const Time t0 = std::chrono::steady_clock::now();
  auto first = sampler->sample(t0);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->available_bytes, 212 * kMiB);
  // The counter changes: the next sample sees it (same open file, pread at 0).
  write("cg/web/memory.current", std::to_string(500 * kMiB) + "\n");
  auto second = sampler->sample(t0 + std::chrono::milliseconds(5));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->available_bytes, 12 * kMiB);
  // A raised limit is seen at the next refresh, not before.
  write("cg/web/memory.max", std::to_string(1024 * kMiB) + "\n");
  auto cached = sampler->sample(t0 + std::chrono::milliseconds(10));
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->total_bytes, 512 * kMiB);
  auto refreshed = sampler->sample(t0 + std::chrono::milliseconds(1100));
  ASSERT_TRUE(refreshed);
  EXPECT_EQ(refreshed->total_bytes, 1024 * kMiB);
  EXPECT_EQ(refreshed->available_bytes, 524 * kMiB);
}

TEST_F(ScopeSamplerTest, UsageAboveTheLimitReadsAsNothingAvailable) {
  write("cg/web/memory.current", std::to_string(600 * kMiB) + "\n");
  auto sampler = ScopeSampler::open(*proc_, hierarchy_, std::string("/web"));
  ASSERT_TRUE(sampler);
  auto memory = sampler->sample(std::chrono::steady_clock::now());
  ASSERT_TRUE(memory);
  EXPECT_EQ(memory->available_bytes, 0u);
}

TEST_F(ScopeSamplerTest, TheGlobalSamplerReadsMeminfo) {
  auto sampler = ScopeSampler::open(*proc_, hierarchy_, std::nullopt);
  ASSERT_TRUE(sampler) << sampler.error().message;
  auto memory = sampler->sample(std::chrono::steady_clock::now());
  ASSERT_TRUE(memory);
  EXPECT_EQ(memory->available_bytes, 400 * kMiB);
  writeMeminfo(1000 * 1024, 100 * 1024, 0, 0);  // rewritten in place, as procfs regenerates
  memory = sampler->sample(std::chrono::steady_clock::now());
  ASSERT_TRUE(memory);
  EXPECT_EQ(memory->available_bytes, 100 * kMiB);
  EXPECT_EQ(memory->total_bytes, 1000 * kMiB);
}

}  // namespace
}  // namespace oomkit::sys
