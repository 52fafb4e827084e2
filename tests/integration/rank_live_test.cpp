// Live tests of `oomkit rank` and `oomkit explain` on this machine: real processes with known
// memory, oom_score_adj and hostile names, inside real memory cgroups the tests create.
#include <signal.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <thread>

#include <gtest/gtest.h>

#include "oomkit/core/text.h"

#include "support/cli.h"
#include "support/file_io.h"
#include "support/memcg.h"
#include "support/subprocess.h"

namespace oomkit::test {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr uint64_t kMiB = 1024 * 1024;

const json* findPid(const json& processes, pid_t pid) {
  for (const auto& p : processes) {
    if (p["pid"] == pid) return &p;
  }
  return nullptr;
}

// The bytes a --name argument decodes to, cut to comm's 15 bytes (TASK_COMM_LEN - 1).
std::string commOf(std::string name) {
  return name.size() > 15 ? name.substr(0, 15) : name;
}

class RankLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TestMemcg::skipReason().empty()) GTEST_SKIP() << TestMemcg::skipReason();
  }

  TestProcess start(const TestMemcg& memcg, std::vector<std::string> args) {
    args.insert(args.end(), {"--cgroup-procs", memcg.procsFile()});
    auto p = spawnTestProcess(args);
    EXPECT_TRUE(p) << p.error().message;
    if (!p) throw std::runtime_error("testproc failed to start");
    return std::move(*p);
  }
};

TEST_F(RankLiveTest, OurOomScoreEqualsTheKernelsForEveryProcess) {
  auto memcg = TestMemcg::create(1024 * kMiB);
  ASSERT_TRUE(memcg) << memcg.error().message;
  struct Spec {
    std::vector<std::string> args;
    std::string name;  // decoded bytes
  };
  const std::vector<Spec> specs = {
      {{"--anon", "30", "--name", "anon30"}, "anon30"},
      {{"--file", "20", "--adj", "100", "--name", "a) b (c"}, "a) b (c"},
      {{"--shmem", "25", "--adj", "333", "--name", "new\\nline"}, "new\nline"},
      {{"--anon", "10", "--file", "10", "--shmem", "10", "--adj", "999", "--name",
        "\\xff\\xfe bad"},
       "\xff\xfe bad"},
      {{"--anon", "2", "--adj", "1000", "--name", ") R 1 2 3 (x"}, ") R 1 2 3 (x"},
      {{"--anon", "5", "--adj", "7", "--threads", "4", "--name", "sp ace"}, "sp ace"},
  };
  std::vector<TestProcess> procs;
  for (const auto& spec : specs)
    procs.push_back(start(*memcg, spec.args));

  const CommandResult r = runOomkit({"rank", "--verify", "--json", "--all"});

  ASSERT_EQ(r.status.exit_code, 0) << r.err << r.out.substr(0, 2000);
  const json out = parseJsonOutput(r);
  EXPECT_EQ(out["verify"]["mismatches"].size(), 0u) << out["verify"].dump();
  EXPECT_GT(out["verify"]["checked"].get<int>(), 10);
  for (size_t i = 0; i < specs.size(); ++i) {
    SCOPED_TRACE(specs[i].name);
    const json* p = findPid(out["processes"], procs[i].pid());
    ASSERT_NE(p, nullptr);
    EXPECT_EQ((*p)["comm"], core::escapeBytes(commOf(specs[i].name)));
    EXPECT_TRUE((*p)["eligible"].get<bool>());
    EXPECT_EQ((*p)["oom_score"], (*p)["kernel_oom_score"]);
    EXPECT_EQ((*p)["cgroup"], memcg->path());
  }
  // adj 999 and 1000 outweigh everything the machine runs at adj 0. Between the two, one adj
  // unit (totalpages / 1000) weighs against 28 MiB: on a 24 GiB machine 30 MiB at adj 999
  // goes first, on a bigger one 2 MiB at adj 1000 does.
  const int64_t unit = out["scope"]["totalpages"].get<int64_t>() / 1000;
  const bool size_wins = 28 * 256 > unit;
  EXPECT_EQ(out["processes"][0]["pid"], procs[size_wins ? 3 : 4].pid());
  EXPECT_EQ(out["processes"][1]["pid"], procs[size_wins ? 4 : 3].pid());
}

TEST_F(RankLiveTest, ZombieLeaderWithLiveThreadsKeepsItsMemoryAsInTheKernel) {
  auto memcg = TestMemcg::create(256 * kMiB);
  ASSERT_TRUE(memcg) << memcg.error().message;
  TestProcess p = start(*memcg, {"--anon", "20", "--threads", "3", "--leader-exit"});
  // Wait until the main thread has exited: the leader's status then shows Z and no memory.
  bool zombie = false;
  for (int i = 0; i < 200 && !zombie; ++i) {
    auto status = readFile("/proc/" + std::to_string(p.pid()) + "/status");
    zombie = status && status->find("State:\tZ") != std::string::npos &&
             status->find("VmRSS") == std::string::npos;
    if (!zombie) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(zombie);

  const CommandResult r = runOomkit({"rank", "--cgroup", memcg->path(), "--verify", "--json"});

  ASSERT_EQ(r.status.exit_code, 0) << r.err << r.out;
  const json out = parseJsonOutput(r);
  ASSERT_EQ(out["processes"].size(), 1u);
  const json& proc = out["processes"][0];
  EXPECT_EQ(proc["pid"], p.pid());
  EXPECT_EQ(proc["state"], "Z");
  EXPECT_TRUE(proc["eligible"].get<bool>());
  EXPECT_GE(proc["rss_anon_kb"].get<int64_t>(), 20 * 1024);
  EXPECT_EQ(proc["oom_score"], proc["kernel_oom_score"]);
  EXPECT_GT(proc["kernel_oom_score"].get<int64_t>(), 0);
}

TEST_F(RankLiveTest, MemcgRankingPredictsTheProcessTheKernelKills) {
  auto memcg = TestMemcg::create(256 * kMiB);
  ASSERT_TRUE(memcg) << memcg.error().message;
  // 256 MiB = 65536 pages, 65 pages per adj unit. "big" has the most memory, but "adj" wins:
  // 20 MiB (5120 pages) + 200 * 65 = 18120 pages against big's ~15400.
  TestProcess big = start(*memcg, {"--anon", "60", "--name", "big"});
  TestProcess adj = start(*memcg, {"--anon", "20", "--adj", "200", "--name", "adj"});
  TestProcess mid = start(*memcg, {"--anon", "30", "--adj", "100", "--name", "mid"});

  const CommandResult r = runOomkit({"rank", "--cgroup", memcg->path(), "--json"});

  ASSERT_EQ(r.status.exit_code, 0) << r.err;
  const json out = parseJsonOutput(r);
  EXPECT_EQ(out["scope"]["kind"], "cgroup");
  EXPECT_EQ(out["scope"]["path"], memcg->path());
  EXPECT_EQ(out["scope"]["totalpages"], 65536);
  ASSERT_EQ(out["processes"].size(), 3u);
  const pid_t predicted = out["processes"][0]["pid"].get<pid_t>();
  ASSERT_EQ(predicted, adj.pid());

  // Push the cgroup over its limit with shmem that no process maps: it adds to the cgroup's
  // usage but to nobody's badness, so the kernel chooses among the three above. The overshoot
  // (8 MiB) is well under the victim's 20 MiB, and the steps are paced (512 KiB per 10 ms) so
  // the victim has exited before the next charge: exactly one kill follows.
  auto usage = memcg->usageBytes();
  ASSERT_TRUE(usage);
  const uint64_t push_mib = (memcg->limitBytes() - *usage) / kMiB + 8;
  TestProcess pusher =
      start(*memcg, {"--shmem-unmapped", std::to_string(push_mib), "--push-step-kib", "512",
                     "--push-delay-ms", "10", "--name", "pusher"});

  auto victim_end = adj.waitExit(seconds(20));
  ASSERT_TRUE(victim_end) << victim_end.error().message;
  EXPECT_TRUE(victim_end->killedBy(SIGKILL)) << victim_end->describe();
  // The kernel's first victim is the one we ranked first. On a busy machine (or an ASan build,
  // whose processes exit slowly) the push can outrun the victim's exit and the kernel kills
  // again: its next victims must then follow our ranking too.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the push ends
  auto kills = memcg->oomKillCount();
  ASSERT_TRUE(kills);
  ASSERT_GE(*kills, 1u);
  TestProcess* by_rank[] = {&adj, &big, &mid};
  ASSERT_EQ(out["processes"][1]["pid"].get<pid_t>(), big.pid());
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(!stillRunning(*by_rank[i]), i < *kills)
        << "rank " << i + 1 << " after " << *kills << " kernel kills";
  }
}

TEST_F(RankLiveTest, CgroupWithoutItsOwnLimitRanksAtTheAncestorThatHasOne) {
  auto memcg = TestMemcg::create(512 * kMiB);
  ASSERT_TRUE(memcg) << memcg.error().message;
  ASSERT_EQ(::mkdir(memcg->file("child").c_str(), 0755), 0);
  TestProcess outside_child = start(*memcg, {"--anon", "8", "--name", "parent-proc"});
  auto inner = spawnTestProcess(
      {"--anon", "4", "--name", "child-proc", "--cgroup-procs", memcg->file("child/cgroup.procs")});
  ASSERT_TRUE(inner) << inner.error().message;

  const CommandResult r = runOomkit({"rank", "--cgroup", memcg->path() + "/child", "--json"});

  ASSERT_EQ(r.status.exit_code, 0) << r.err;
  const json out = parseJsonOutput(r);
  EXPECT_EQ(out["scope"]["path"], memcg->path());
  EXPECT_EQ(out["scope"]["requested_path"], memcg->path() + "/child");
  EXPECT_EQ(out["scope"]["totalpages"], 131072);
  EXPECT_NE(out["scope"]["note"].get<std::string>().find("no tighter limit"), std::string::npos);
  EXPECT_NE(findPid(out["processes"], outside_child.pid()), nullptr);
  EXPECT_NE(findPid(out["processes"], inner->pid()), nullptr);
}

TEST_F(RankLiveTest, ExplainShowsTheFormulaWithTheProcesssNumbers) {
  auto memcg = TestMemcg::create(256 * kMiB);
  ASSERT_TRUE(memcg) << memcg.error().message;
  TestProcess first = start(*memcg, {"--anon", "20", "--adj", "500", "--name", "first"});
  TestProcess second = start(*memcg, {"--anon", "40", "--name", "second"});

  const CommandResult r =
      runOomkit({"explain", std::to_string(second.pid()), "--cgroup", memcg->path()});

  ASSERT_EQ(r.status.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("rank 2 of 2 eligible"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0 x (65536 / 1000)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pid " + std::to_string(first.pid()) + " (first)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("oom_score_adj -1000 makes it never chosen"), std::string::npos);
}

TEST(RankCliTest, BadInputIsExitTwoWithAMessageSayingWhere) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"rank", "--proc-root", "/nonexistent-proc"}, "/nonexistent-proc"},
      {{"rank", "--formula", "2.4"}, "unknown formula '2.4'"},
      {{"rank", "--verify", "--formula", "3.10"}, "drop --formula"},
      {{"rank", "--cgroup", "/no/such/oomkit/cgroup"}, "/no/such/oomkit/cgroup"},
      {{"explain", "999999999"}, "pid 999999999"},
      {{"rank", "--top", "many"}, "--top"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args[1]);
    const CommandResult r = runOomkit(c.args);
    EXPECT_EQ(r.status.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace oomkit::test
