// Tests for sys::ProcReader on a fixture proc root: which files a scan reads per process (a
// kernel thread's stat alone; a user process's stat, status and oom_score_adj), what a missing
// required file means, and readMemcgPath. The texts are this machine's (kernel 6.18), trimmed.
#include "oomkit/sys/proc_reader.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "oomkit/core/badness.h"

namespace oomkit::sys {
namespace {

namespace fs = std::filesystem;

// kthreadd: flags 2129984 = 0x208040, PF_KTHREAD among them.
constexpr const char* kKthreadStat =
    "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 2 0 0 20 0 1 0 18 0 0 18446744073709551615 0 0 "
    "0 0 0 0 0 2147483647 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

std::string userStat(int pid, const std::string& comm) {
  return std::to_string(pid) + " (" + comm +
         ") S 1 100 100 0 -1 4194304 98 0 0 0 0 0 0 0 20 0 1 0 3360265 3133440 362 "
         "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
}

std::string userStatus(int pid, const std::string& name, int rss_anon_kb) {
  return "Name:\t" + name + "\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t" + std::to_string(pid) +
         "\nNgid:\t0\nPid:\t" + std::to_string(pid) +
         "\nPPid:\t1\nTracerPid:\t0\nUid:\t1000\t1000\t1000\t1000\nGid:\t0\t0\t0\t0\n"
         "Kthread:\t0\nVmPeak:\t    5136 kB\nVmSize:\t    5124 kB\nVmLck:\t       0 kB\n"
         "VmHWM:\t    4004 kB\nVmRSS:\t    4004 kB\nRssAnon:\t    " +
         std::to_string(rss_anon_kb) +
         " kB\nRssFile:\t    2928 kB\nRssShmem:\t       0 kB\nVmData:\t    1068 kB\n"
         "VmPTE:\t      44 kB\nVmSwap:\t       0 kB\nThreads:\t1\n"
         "SigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n"
         "CapEff:\t0000000000000000\n";
}

class ProcReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("oomkit-proc-reader-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    // A kernel thread with stat alone: a reader that wanted its status would lose it.
    write("2/stat", kKthreadStat);
    // A user process in a v1 memory cgroup.
    write("100/stat", userStat(100, "web server"));
    write("100/status", userStatus(100, "web server", 51200));
    write("100/oom_score_adj", "300\n");
    write("100/cgroup", "9:name=systemd:/\n4:memory:/web/api\n0::/\n");
    // A user process whose status is gone (it exited between the two reads).
    write("101/stat", userStat(101, "leaving"));
    write("101/oom_score_adj", "0\n");
    auto proc = ProcReader::open(root_.string());
    ASSERT_TRUE(proc) << proc.error().message;
    proc_.emplace(std::move(*proc));
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }

  fs::path root_;
  std::optional<ProcReader> proc_;
};

TEST_F(ProcReaderTest, KernelThreadIsReadFromStatAloneAndNeverEligible) {
  auto p = proc_->readProcess(2, kFieldsExact);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->pid, 2);
  EXPECT_EQ(p->comm, "kthreadd");
  EXPECT_NE(p->flags & core::kPfKthread, 0u);
  EXPECT_FALSE(p->has_mm);
  EXPECT_EQ(p->oom_score_adj, 0);
  EXPECT_EQ(core::eligibilityOf(*p), core::Eligibility::kKernelThread);
}

TEST_F(ProcReaderTest, UserProcessNeedsStatusAndAdj) {
  auto p = proc_->readProcess(100, kFieldsExact);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->comm, "web server");
  EXPECT_TRUE(p->has_mm);
  EXPECT_EQ(p->memory.rss_anon_kb, 51200u);
  EXPECT_EQ(p->oom_score_adj, 300);
  EXPECT_EQ(p->uid, 1000u);
  EXPECT_EQ(p->start_time_ticks, 3360265u);
  EXPECT_TRUE(p->memcg_path.empty()) << "cgroup read without kFieldCgroup";

  auto gone = proc_->readProcess(101, kFieldsExact);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Errc::kNotFound) << gone.error().message;
}

TEST_F(ProcReaderTest, ReusedPidIsNotFound) {
  write("102/stat", userStat(7, "other"));  // stat of pid 7 under 102: reused mid-read
  write("102/status", userStatus(102, "other", 10));
  write("102/oom_score_adj", "0\n");
  auto p = proc_->readProcess(102, kFieldsExact);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, Errc::kNotFound);
}

TEST_F(ProcReaderTest, SnapshotCountsTheVanishedAndKeepsTheRest) {
  auto snap = proc_->snapshot(kFieldsExact);
  ASSERT_TRUE(snap) << snap.error().message;
  EXPECT_EQ(snap->counters.listed, 3u);
  EXPECT_EQ(snap->counters.captured, 2u);
  EXPECT_EQ(snap->counters.vanished, 1u);
  ASSERT_EQ(snap->processes.size(), 2u);
  for (const auto& p : snap->processes)
    EXPECT_NE(p.pid, 101);
}

TEST_F(ProcReaderTest, MemcgPathIsTheV1MemoryLine) {
  EXPECT_EQ(proc_->readMemcgPath(100), std::optional<std::string>("/web/api"));
  EXPECT_EQ(proc_->readMemcgPath(101), std::nullopt);  // no cgroup file
  auto p = proc_->readProcess(100, kFieldsExact | kFieldCgroup);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->memcg_path, "/web/api");
}

}  // namespace
}  // namespace oomkit::sys
