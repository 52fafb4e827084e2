// KernelOomWatcher on a fake kernel log (a plain file in a temp dir, one record per read as
// /dev/kmsg gives them) and a fake proc root whose vmstat oom_kill the tests raise: a report
// waits for its reaper line, a counted kill without a report waits for the grace, and a report
// plus the counter rise of the same kill is one kill. Time is passed in, never waited for.
#include "oomkit/daemon/kernel_oom_watcher.h"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace oomkit::daemon {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// A 6.8+ memcg OOM kill of pid 4242, as /dev/kmsg records ("prio,seq,usec,flags;text").
const std::vector<std::string> kReport = {
    "4,100,5678901,-;hog invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, "
    "oom_score_adj=0",
    "4,101,5678902,-;CPU: 1 UID: 0 PID: 4242 Comm: hog Not tainted 6.8.0-45-generic #45",
    "4,102,5678903,-;Call Trace:",
    "6,103,5678904,-;memory: usage 65536kB, limit 65536kB, failcnt 12",
    "6,104,5678905,-;Tasks state (memory values in pages):",
    "6,105,5678906,-;[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem "
    "pgtables_bytes swapents oom_score_adj name",
    "6,106,5678907,-;[   4242]     0  4242    20000    16400    16000      400         0   "
    "200704        0             0 hog",
    "6,107,5678908,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
    "mems_allowed=0,oom_memcg=/test,task_memcg=/test,task=hog,pid=4242,uid=0",
    "3,108,5678909,-;Memory cgroup out of memory: Killed process 4242 (hog) total-vm:80000kB, "
    "anon-rss:64000kB, file-rss:1600kB, shmem-rss:0kB, UID:0 pgtables:196kB oom_score_adj:0",
};
const std::string kReaperLine =
    "6,109,5678950,-;oom_reaper: reaped process 4242 (hog), now anon-rss:0kB, file-rss:0kB, "
    "shmem-rss:0kB";

class KernelOomWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "oomkit-kernel-oom-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    root_ = templ;
    fs::create_directories(root_ / "proc");
    fs::create_directories(root_ / "cgroup");
    setVmstatKills(7);
    std::ofstream(root_ / "kmsg").flush();
    auto proc = sys::ProcReader::open((root_ / "proc").string());
    ASSERT_TRUE(proc) << proc.error().message;
    proc_.emplace(std::move(*proc));
  }
  void TearDown() override { fs::remove_all(root_); }

  void openWatcher(std::optional<sys::MemoryHierarchy> memory = std::nullopt) {
    auto watcher = KernelOomWatcher::open(*proc_, std::move(memory), (root_ / "kmsg").string());
    ASSERT_TRUE(watcher) << watcher.error().message;
    watcher_.emplace(std::move(*watcher));
  }

  void setVmstatKills(uint64_t kills) {
    std::ofstream(root_ / "proc" / "vmstat")
        << "pgfault 123456\noom_kill " << kills << "\nnr_free_pages 100\n";
  }

  // Appends each record and reads it, as the kernel hands out one record per read().
  void feed(const std::vector<std::string>& records, SteadyTime now) {
    for (const auto& record : records) {
      std::ofstream(root_ / "kmsg", std::ios::app) << record << '\n';
      auto read = watcher_->onKmsgReadable(now);
      ASSERT_TRUE(read) << read.error().message;
      EXPECT_EQ(*read, 1u);
    }
  }

  fs::path root_;
  std::optional<sys::ProcReader> proc_;
  std::optional<KernelOomWatcher> watcher_;
  const SteadyTime t0_ = SteadyTime() + std::chrono::hours(100);
};

TEST_F(KernelOomWatcherTest, ACompleteReportIsOneKillAfterTheReaperWait) {
  openWatcher();
  feed(kReport, t0_);

  EXPECT_TRUE(watcher_->takeKills(t0_ + milliseconds(100)).empty());
  EXPECT_EQ(watcher_->nextDeadline(), t0_ + KernelOomWatcher::kReaperWait);
  auto kills = watcher_->takeKills(t0_ + KernelOomWatcher::kReaperWait);

  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].source, KernelOomSource::kKmsg);
  ASSERT_TRUE(kills[0].report && kills[0].report->victim);
  EXPECT_EQ(kills[0].report->victim->pid, 4242);
  EXPECT_EQ(kills[0].report->victim->comm, "hog");
  EXPECT_EQ(kills[0].report->memcg_path, "/test");
  EXPECT_TRUE(kills[0].report->complete);
  EXPECT_FALSE(kills[0].report->reaped);
  EXPECT_EQ(kills[0].kills, 1u);
  EXPECT_EQ(kills[0].seen, t0_);
  EXPECT_TRUE(watcher_->takeKills(t0_ + std::chrono::seconds(10)).empty());
  EXPECT_EQ(watcher_->nextDeadline(), std::nullopt);
  EXPECT_EQ(watcher_->stats().kmsg_records, kReport.size());
}

TEST_F(KernelOomWatcherTest, TheReaperLineEndsTheWaitAtOnce) {
  openWatcher();
  feed(kReport, t0_);
  feed({kReaperLine}, t0_ + milliseconds(20));

  EXPECT_EQ(watcher_->nextDeadline(), t0_ + milliseconds(20));
  auto kills = watcher_->takeKills(t0_ + milliseconds(20));

  ASSERT_EQ(kills.size(), 1u);
  ASSERT_TRUE(kills[0].report && kills[0].report->reaped);
  EXPECT_EQ(kills[0].report->reaped->pid, 4242);
  EXPECT_TRUE(watcher_->takeKills(t0_ + std::chrono::seconds(10)).empty());
}

TEST_F(KernelOomWatcherTest, LinesOfOtherSubsystemsAreNoKill) {
  openWatcher();
  feed({"6,1,100,-;usb 1-1: new high-speed USB device number 2 using xhci_hcd",
        "4,2,200,-;EXT4-fs (sda1): mounted filesystem with ordered data mode"},
       t0_);
  watcher_->onTick(t0_);

  EXPECT_TRUE(watcher_->takeKills(t0_ + std::chrono::seconds(5)).empty());
  EXPECT_EQ(watcher_->nextDeadline(), std::nullopt);
}

TEST_F(KernelOomWatcherTest, ACounterRiseWithoutAReportIsACounterKillAfterTheGrace) {
  openWatcher();
  watcher_->onTick(t0_);
  setVmstatKills(9);  // two kills, no report
  watcher_->onTick(t0_ + milliseconds(100));

  EXPECT_TRUE(watcher_->takeKills(t0_ + milliseconds(100)).empty());
  const SteadyTime due = t0_ + milliseconds(100) + KernelOomWatcher::kReportGrace;
  EXPECT_EQ(watcher_->nextDeadline(), due);
  watcher_->onTick(due - milliseconds(50));
  EXPECT_TRUE(watcher_->takeKills(due - milliseconds(50)).empty());
  auto kills = watcher_->takeKills(due);

  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].source, KernelOomSource::kCounter);
  EXPECT_FALSE(kills[0].report);
  EXPECT_EQ(kills[0].memcg, std::nullopt);  // no memory hierarchy: only the global counter
  EXPECT_EQ(kills[0].kills, 2u);
  EXPECT_EQ(kills[0].seen, t0_ + milliseconds(100));
  EXPECT_TRUE(watcher_->takeKills(due + std::chrono::seconds(10)).empty());
  EXPECT_EQ(watcher_->stats().counted, 2u);
  EXPECT_EQ(watcher_->stats().accounted, 2u);
}

TEST_F(KernelOomWatcherTest, ACounterKillNamesTheCgroupWhoseCounterRose) {
  // A fake cgroup v1 memory hierarchy: memory.oom_control counts a cgroup's own kills.
  for (const char* dir : {"a", "a/b"}) {
    fs::create_directories(root_ / "cgroup" / dir);
    std::ofstream(root_ / "cgroup" / dir / "memory.oom_control")
        << "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n";
  }
  openWatcher(sys::MemoryHierarchy{core::CgroupVersion::kV1, (root_ / "cgroup").string(), "/"});
  setVmstatKills(8);
  std::ofstream(root_ / "cgroup" / "a" / "b" / "memory.oom_control")
      << "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n";
  watcher_->onTick(t0_);

  auto kills = watcher_->takeKills(t0_ + KernelOomWatcher::kReportGrace);

  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].source, KernelOomSource::kCounter);
  EXPECT_EQ(kills[0].memcg, "/a/b");
  EXPECT_EQ(kills[0].kills, 1u);
}

TEST_F(KernelOomWatcherTest, AReportAndItsCounterRiseAreOneKill) {
  openWatcher();
  setVmstatKills(8);
  watcher_->onTick(t0_);  // the counter first, the report's lines a little later
  feed(kReport, t0_ + milliseconds(30));
  watcher_->onTick(t0_ + milliseconds(100));

  auto kills = watcher_->takeKills(t0_ + milliseconds(300));
  watcher_->onTick(t0_ + std::chrono::seconds(5));
  auto later = watcher_->takeKills(t0_ + std::chrono::seconds(5));

  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].source, KernelOomSource::kKmsg);
  EXPECT_TRUE(later.empty());
  EXPECT_EQ(watcher_->nextDeadline(), std::nullopt);
}

TEST_F(KernelOomWatcherTest, AReportBeforeItsCounterRiseIsOneKill) {
  openWatcher();
  feed(kReport, t0_);
  auto kills = watcher_->takeKills(t0_ + KernelOomWatcher::kReaperWait);
  setVmstatKills(8);  // the counter read after the report was handed out
  watcher_->onTick(t0_ + milliseconds(300));

  auto later = watcher_->takeKills(t0_ + std::chrono::seconds(5));

  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].source, KernelOomSource::kKmsg);
  EXPECT_TRUE(later.empty());
}

TEST_F(KernelOomWatcherTest, ASecondKillWithoutAReportIsStillCounted) {
  openWatcher();
  feed(kReport, t0_);
  setVmstatKills(9);  // the reported kill and one more whose report was rate-limited
  watcher_->onTick(t0_ + milliseconds(100));

  auto first = watcher_->takeKills(t0_ + milliseconds(400));
  auto second = watcher_->takeKills(t0_ + milliseconds(100) + KernelOomWatcher::kReportGrace);

  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].source, KernelOomSource::kKmsg);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].source, KernelOomSource::kCounter);
  EXPECT_EQ(second[0].kills, 1u);
}

TEST_F(KernelOomWatcherTest, OpeningFailsWithoutTheLogOrTheCounter) {
  auto no_log = KernelOomWatcher::open(*proc_, std::nullopt, (root_ / "missing").string());
  std::ofstream(root_ / "proc" / "vmstat") << "pgfault 1\n";  // a kernel before 4.13
  auto no_counter = KernelOomWatcher::open(*proc_, std::nullopt, (root_ / "kmsg").string());

  ASSERT_FALSE(no_log);
  EXPECT_EQ(no_log.error().code, Errc::kNotFound);
  ASSERT_FALSE(no_counter);
  EXPECT_EQ(no_counter.error().code, Errc::kUnavailable);
}

TEST_F(KernelOomWatcherTest, RecordsWrittenBeforeOpeningAreSkipped) {
  std::ofstream(root_ / "kmsg") << kReport[0] << '\n';
  openWatcher();

  auto read = watcher_->onKmsgReadable(t0_);

  ASSERT_TRUE(read);
  EXPECT_EQ(*read, 0u);
  EXPECT_GE(watcher_->kmsgFd(), 0);
  EXPECT_EQ(watcher_->pollInterval(), milliseconds(100));
}

}  // namespace
}  // namespace oomkit::daemon
