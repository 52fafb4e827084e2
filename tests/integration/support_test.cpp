// Self-tests of the live-test support: oomkit-testproc, TestProcess and TestMemcg against the
// real kernel. Every process that allocates runs inside a TestMemcg with a hard limit.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/file_io.h"
#include "support/memcg.h"
#include "support/subprocess.h"

namespace oomkit::test {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kMiB = 1ULL << 20;
constexpr size_t kCommLen = 15;  // TASK_COMM_LEN - 1

std::string procFile(pid_t pid, const std::string& name) {
  return "/proc/" + std::to_string(pid) + "/" + name;
}

// The kB value of a /proc/PID/status line such as "RssAnon:\t  20480 kB".
uint64_t statusKb(pid_t pid, const std::string& key) {
  auto text = readFile(procFile(pid, "status"));
  if (!text) return 0;
  for (const std::string& line : splitLines(*text)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    std::string value = line.substr(key.size() + 1);
    return parseUint(value.substr(0, value.find(" kB"))).value_or(0);
  }
  return 0;
}

// The path of the memory line of /proc/PID/cgroup (v1 "N:memory:/x", v2 "0::/x").
std::string memoryCgroupOf(pid_t pid, CgroupVersion version) {
  auto text = readFile(procFile(pid, "cgroup"));
  if (!text) return "";
  for (const std::string& line : splitLines(*text)) {
    bool v1 = version == CgroupVersion::kV1 && line.find(":memory:") != std::string::npos;
    bool v2 = version == CgroupVersion::kV2 && line.rfind("0::", 0) == 0;
    if (v1 || v2) return line.substr(line.find(':', line.find(':') + 1) + 1);
  }
  return "";
}

class SupportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TestMemcg::skipReason().empty()) GTEST_SKIP() << TestMemcg::skipReason();
  }
};

TEST_F(SupportTest, TestProcessHasTheRequestedMemoryAdjNameAndCgroup) {
  auto memcg = TestMemcg::create(64 * kMiB);
  ASSERT_TRUE(memcg) << memcg.error().message;
  auto proc = spawnTestProcess({"--cgroup-procs", memcg->procsFile(), "--anon", "20", "--adj",
                                "500", "--name", "a) b\\n(c\\x01\\xff tail-cut-here"});
  ASSERT_TRUE(proc) << proc.error().message;
  pid_t pid = proc->pid();

  EXPECT_GE(statusKb(pid, "RssAnon"), 20u * 1024);
  EXPECT_EQ(readFile(procFile(pid, "oom_score_adj")).value_or(""), "500\n");
  std::string name = std::string("a) b\n(c\x01\xff tail-cut-here").substr(0, kCommLen);
  EXPECT_EQ(readFile(procFile(pid, "comm")).value_or(""), name + "\n");
  auto pids = memcg->pids();
  ASSERT_TRUE(pids) << pids.error().message;
  EXPECT_EQ(*pids, std::vector<pid_t>{pid});
  EXPECT_EQ(memoryCgroupOf(pid, memcg->version()), memcg->path());
  EXPECT_EQ(memcg->file("cgroup.procs"), memcg->procsFile());
}

TEST_F(SupportTest, FileAndShmemOptionsShowUpInTheirRssCounters) {
  auto memcg = TestMemcg::create(96 * kMiB);
  ASSERT_TRUE(memcg) << memcg.error().message;
  auto proc = spawnTestProcess(
      {"--cgroup-procs", memcg->procsFile(), "--file", "8", "--shmem", "12", "--threads", "3"});
  ASSERT_TRUE(proc) << proc.error().message;
  // /tmp is a disk filesystem here; on tmpfs the file pages would count as RssShmem.
  EXPECT_GE(statusKb(proc->pid(), "RssFile"), 8u * 1024);
  EXPECT_GE(statusKb(proc->pid(), "RssShmem"), 12u * 1024);
  EXPECT_EQ(statusKb(proc->pid(), "Threads"), 3u);
}

TEST_F(SupportTest, UnmappedShmemOverTheLimitIsKilledByTheKernel) {
  auto memcg = TestMemcg::create(64 * kMiB);
  ASSERT_TRUE(memcg) << memcg.error().message;
  auto proc = spawnTestProcess({"--cgroup-procs", memcg->procsFile(), "--shmem-unmapped", "100",
                                "--push-step-kib", "4096", "--push-delay-ms", "1"});
  ASSERT_FALSE(proc) << "pid " << proc->pid() << " survived 100 MiB in a 64 MiB cgroup";
  EXPECT_NE(proc.error().message.find("killed by signal 9"), std::string::npos)
      << proc.error().message;
  EXPECT_EQ(memcg->oomKillCount().value_or(0), 1u);
}

TEST_F(SupportTest, UnmappedShmemChargesTheCgroupButNotTheRss) {
  auto memcg = TestMemcg::create(64 * kMiB);
  ASSERT_TRUE(memcg) << memcg.error().message;
  auto proc = spawnTestProcess({"--cgroup-procs", memcg->procsFile(), "--shmem-unmapped", "30"});
  ASSERT_TRUE(proc) << proc.error().message;
  EXPECT_GE(memcg->usageBytes().value_or(0), 30 * kMiB);
  EXPECT_LT(statusKb(proc->pid(), "VmRSS"), 10u * 1024);
}

TEST_F(SupportTest, DestructionKillsOwnProcessesAndRemovesTheDirectory) {
  auto memcg = TestMemcg::create(32 * kMiB);
  ASSERT_TRUE(memcg) << memcg.error().message;
  auto proc = spawnTestProcess({"--cgroup-procs", memcg->procsFile(), "--anon", "4"});
  ASSERT_TRUE(proc) << proc.error().message;
  std::string dir = memcg->dir();
  ASSERT_TRUE(fileExists(dir));

  { TestMemcg doomed = std::move(*memcg); }  // the destructor, while the child still runs

  EXPECT_FALSE(fileExists(dir)) << dir;
  auto status = proc->waitExit(5s);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_TRUE(status->killedBy(SIGKILL)) << status->describe();
}

TEST_F(SupportTest, OomKillDisableFreezesTheProcessAtTheLimit) {
  auto memcg = TestMemcg::create(32 * kMiB);
  ASSERT_TRUE(memcg) << memcg.error().message;
  ASSERT_TRUE(memcg->setOomKillDisable(true));
  auto proc =
      TestProcess::spawn({OOMKIT_TESTPROC, "--cgroup-procs", memcg->procsFile(), "--anon", "64"});
  ASSERT_TRUE(proc) << proc.error().message;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!memcg->underOom().value_or(false) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(memcg->underOom().value_or(false));
  EXPECT_EQ(memcg->oomKillCount().value_or(99), 0u);
  EXPECT_FALSE(proc->waitExit(0ms)) << "a frozen process does not exit";
  // The destructors kill the frozen process and remove the cgroup.
}

TEST_F(SupportTest, AdoptedProcessesAreKilledOnDestruction) {
  auto memcg = TestMemcg::create(32 * kMiB);
  ASSERT_TRUE(memcg) << memcg.error().message;
  // An orphan: its parent sh exits at once, so it is not a child of this process.
  auto sh = runCommand({"/bin/sh", "-c", "sleep 30 </dev/null >/dev/null 2>&1 & echo $!"});
  ASSERT_TRUE(sh) << sh.error().message;
  pid_t orphan = static_cast<pid_t>(parseUint(sh->out).value_or(0));
  ASSERT_GT(orphan, 0) << sh->out;
  memcg->adopt(orphan);  // before anything can fail: the cgroup must not keep it
  ASSERT_TRUE(writeFile(memcg->procsFile(), std::to_string(orphan)));
  std::string dir = memcg->dir();

  auto destroyed = memcg->destroy();

  EXPECT_TRUE(destroyed) << destroyed.error().message;
  EXPECT_FALSE(fileExists(dir));
}

TEST(SpawnTest, ProcessThatFailsBeforeReadyReportsItsStderr) {
  auto proc = spawnTestProcess({"--adj", "-500"});  // EACCES without CAP_SYS_RESOURCE
  if (proc) GTEST_SKIP() << "negative oom_score_adj is allowed here";
  EXPECT_NE(proc.error().message.find("exit code 3"), std::string::npos) << proc.error().message;
  EXPECT_NE(proc.error().message.find("oom_score_adj"), std::string::npos) << proc.error().message;
}

TEST(RunCommandTest, CapturesOutputExitCodeAndTimeout) {
  auto ok = runCommand({"/bin/sh", "-c", "echo out; echo err >&2; exit 7"});
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->out, "out\n");
  EXPECT_EQ(ok->err, "err\n");
  EXPECT_TRUE(ok->status.exitedWith(7)) << ok->status.describe();
  EXPECT_FALSE(ok->timed_out);

  auto slow = runCommand({"/bin/sleep", "10"}, 100ms);
  ASSERT_TRUE(slow) << slow.error().message;
  EXPECT_TRUE(slow->timed_out);
  EXPECT_TRUE(slow->status.killedBy(SIGKILL)) << slow->status.describe();

  auto missing = runCommand({"/nonexistent/binary"});
  ASSERT_TRUE(missing) << missing.error().message;
  EXPECT_TRUE(missing->status.exitedWith(127));
}

TEST(RunCommandTest, TestprocRejectsBadUsage) {
  auto result = runCommand({OOMKIT_TESTPROC, "--name", "bad\\q"});
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_TRUE(result->status.exitedWith(2)) << result->status.describe();
  EXPECT_NE(result->err.find("--name"), std::string::npos) << result->err;
}

}  // namespace
}  // namespace oomkit::test
