// Live tests of `oomkit trigger`: the OOM path run once on a real memory cgroup holding real
// processes the test started (oomkit-testproc). Every cgroup (memory, freezer) and state
// directory is the test's own and is removed afterwards; only the test's processes are killed.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include <gtest/gtest.h>

#include "oomkit/sys/oom_state.h"
#include "oomkit/sys/proc_reader.h"

#include "support/cli.h"
#include "support/file_io.h"
#include "support/freezer.h"
#include "support/memcg.h"
#include "support/subprocess.h"

namespace oomkit::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint64_t kMiB = 1024 * 1024;

std::vector<pid_t> pidsOf(const json& array) {
  std::vector<pid_t> pids;
  for (const auto& pid : array)
    pids.push_back(pid.get<pid_t>());
  return pids;
}

class TriggerLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TestMemcg::skipReason().empty()) GTEST_SKIP() << TestMemcg::skipReason();
    state_dir_ = std::filesystem::temp_directory_path() /
                 ("oomkit-trigger-state-" + std::to_string(::getpid()));
    std::filesystem::remove_all(state_dir_);
    auto memcg = TestMemcg::create(256 * kMiB);
    ASSERT_TRUE(memcg) << memcg.error().message;
    memcg_.emplace(std::move(*memcg));
  }
  void TearDown() override { std::filesystem::remove_all(state_dir_); }

  TestProcess start(std::vector<std::string> args) {
    args.insert(args.end(), {"--cgroup-procs", memcg_->procsFile()});
    auto p = spawnTestProcess(args);
    EXPECT_TRUE(p) << p.error().message;
    if (!p) throw std::runtime_error("testproc failed to start");
    return std::move(*p);
  }

  // `oomkit trigger --json` on the test cgroup, with the test's state directory.
  json trigger(std::vector<std::string> extra = {}, int expected_exit = 0) {
    std::vector<std::string> args = {"trigger", "--json", "--state-dir", state_dir_.string()};
    if (std::find(extra.begin(), extra.end(), "--config") == extra.end()) {
      args.insert(args.end(), {"--cgroup", memcg_->path()});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    const CommandResult r = runOomkit(args);
    EXPECT_EQ(r.status.exit_code, expected_exit) << r.err << r.out;
    return parseJsonOutput(r);
  }

  // A config file with one scope on the test cgroup; `body` goes after its [[scope]] keys.
  std::string writeConfig(const std::string& body) {
    const auto path = state_dir_.string() + "-config.toml";
    std::ofstream out(path);
    out << "[[scope]]\nname = \"test\"\ncgroup = \"" << memcg_->path() << "\"\n" << body;
    config_files_.push_back(path);
    return path;
  }

  ~TriggerLiveTest() override {
    for (const auto& f : config_files_)
      std::filesystem::remove(f);
  }

  std::filesystem::path state_dir_;
  std::optional<TestMemcg> memcg_;
  std::vector<std::string> config_files_;
};

TEST_F(TriggerLiveTest, DryRunNamesTheVictimTheKernelKillsAndKillsNothing) {
  // 256 MiB = 65536 pages, 65 pages per adj unit: "adj" (20 MiB + 200 * 65 pages = 18120)
  // beats "big" (60 MiB = 15360 pages) although big has three times its memory.
  TestProcess big = start({"--anon", "60", "--name", "big"});
  TestProcess adj = start({"--anon", "20", "--adj", "200", "--name", "adj"});
  TestProcess mid = start({"--anon", "30", "--adj", "100", "--name", "mid"});

  const json event = trigger({"--dry-run"});

  EXPECT_EQ(event["action"], "kill");
  EXPECT_EQ(event["dry_run"], true);
  EXPECT_EQ(event["trigger"], "manual");
  EXPECT_EQ(event["scope"], memcg_->path());
  ASSERT_TRUE(event["victim"].is_object()) << event.dump();
  EXPECT_EQ(event["victim"]["pid"], adj.pid());
  EXPECT_EQ(event["victim"]["comm"], "adj");
  EXPECT_EQ(event["victim"]["oom_score_adj"], 200);
  // oom_badness(): rss + swap + page tables in pages, plus adj x totalpages / 1000 (65 pages
  // per unit in 256 MiB); rss is at least the 20 MiB of anon.
  const json& v = event["victim"];
  EXPECT_EQ(v["badness"].get<int64_t>(), (v["rss_kb"].get<int64_t>() + v["swap_kb"].get<int64_t>() +
                                          v["pgtables_kb"].get<int64_t>()) /
                                                 4 +
                                             200 * 65)
      << v.dump();
  EXPECT_GE(v["rss_kb"].get<int64_t>(), 20 * 1024);
  // Its oom_score is the kernel's own (which is always against the whole machine).
  const auto kernel_score = readFile("/proc/" + std::to_string(adj.pid()) + "/oom_score");
  ASSERT_TRUE(kernel_score);
  EXPECT_EQ(event["victim"]["oom_score"].get<int64_t>(), std::stoll(*kernel_score));
  EXPECT_EQ(pidsOf(event["killed_pids"]), std::vector<pid_t>{adj.pid()});
  EXPECT_EQ(event["kill"]["targets"][0]["outcome"], "would kill");
  EXPECT_TRUE(event["timestamps"]["signalled"].is_null());
  EXPECT_TRUE(stillRunning(big) && stillRunning(adj) && stillRunning(mid))
      << "a dry run killed something";
  EXPECT_FALSE(
      std::filesystem::exists(state_dir_ / (sys::OomState::scopeKey(memcg_->path()) + ".victims")))
      << "a dry run left a pending victim";

  // The kernel's own choice, when the cgroup really runs out: shmem that nobody maps adds to
  // usage but to no one's badness; paced, so that exactly one kill follows.
  auto usage = memcg_->usageBytes();
  ASSERT_TRUE(usage);
  const uint64_t push_mib = (memcg_->limitBytes() - *usage) / kMiB + 8;
  TestProcess pusher = start({"--shmem-unmapped", std::to_string(push_mib), "--push-step-kib",
                              "512", "--push-delay-ms", "10", "--name", "pusher"});
  auto end = adj.waitExit(seconds(20));
  ASSERT_TRUE(end) << end.error().message;
  EXPECT_TRUE(end->killedBy(SIGKILL)) << end->describe();
  // Should the push outrun the victim's exit (a busy machine, an ASan build), the kernel's
  // next victims follow the same order: adj, big (15360+ pages), mid (7680 + 6500).
  std::this_thread::sleep_for(milliseconds(500));  // the push ends
  auto kills = memcg_->oomKillCount();
  ASSERT_TRUE(kills);
  ASSERT_GE(*kills, 1u);
  TestProcess* by_rank[] = {&adj, &big, &mid};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(!stillRunning(*by_rank[i]), i < *kills)
        << "rank " << i + 1 << " after " << *kills << " kernel kills";
  }
}

// The global scope ranks every process without reading their cgroups, then reads the
// victim's alone: the event still names it.
TEST_F(TriggerLiveTest, GlobalDryRunNamesTheVictimsCgroup) {
  // adj 1000 puts it above any process on the machine with a lower adj (badness + totalpages).
  TestProcess top = start({"--anon", "8", "--adj", "1000", "--name", "top"});
  const CommandResult r =
      runOomkit({"trigger", "--json", "--dry-run", "--state-dir", state_dir_.string()});
  ASSERT_EQ(r.status.exit_code, 0) << r.err << r.out;
  const json event = parseJsonOutput(r);
  EXPECT_EQ(event["scope"], "machine");
  ASSERT_TRUE(event["victim"].is_object()) << event.dump();
  EXPECT_EQ(event["victim"]["pid"], top.pid()) << event.dump();
  EXPECT_EQ(event["victim"]["cgroup"], memcg_->path()) << event.dump();
  EXPECT_TRUE(stillRunning(top)) << "a dry run killed something";
}

TEST_F(TriggerLiveTest, KillsTheVictimLeavesBystandersAndRecordsTheTimes) {
  TestProcess hog = start({"--anon", "120", "--name", "hog"});
  TestProcess small1 = start({"--anon", "20", "--name", "small1"});
  TestProcess small2 = start({"--anon", "20", "--name", "small2"});

  const json event = trigger();

  EXPECT_EQ(event["action"], "kill") << event.dump();
  EXPECT_EQ(event["dry_run"], false);
  EXPECT_EQ(event["victim"]["pid"], hog.pid());
  EXPECT_EQ(pidsOf(event["killed_pids"]), std::vector<pid_t>{hog.pid()});
  auto end = hog.waitExit(seconds(5));
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->killedBy(SIGKILL)) << end->describe();
  EXPECT_TRUE(stillRunning(small1) && stillRunning(small2));
  auto kills = memcg_->oomKillCount();
  ASSERT_TRUE(kills);
  EXPECT_EQ(*kills, 0u) << "the kernel killed, not oomkit";

  const json& t = event["timestamps"];
  ASSERT_TRUE(t["signalled"].is_number() && t["exited"].is_number()) << t.dump();
  EXPECT_LE(t["trigger"].get<double>(), t["decided"].get<double>());
  EXPECT_LE(t["decided"].get<double>(), t["signalled"].get<double>());
  EXPECT_LE(t["signalled"].get<double>(), t["exited"].get<double>());
  EXPECT_LT(t["exited"].get<double>() - t["trigger"].get<double>(), 10.0);
  EXPECT_EQ(event["timed_out"], false);
  // The hog's 120 MiB came back to the cgroup (less whatever else changed meanwhile).
  ASSERT_TRUE(event["recovered_bytes"].is_number()) << event.dump();
  EXPECT_GE(event["recovered_bytes"].get<uint64_t>(), 110 * kMiB);
  // The victim has exited: nothing stays pending for the next run.
  const json next = trigger({"--dry-run"});
  EXPECT_EQ(next["action"], "kill");
  EXPECT_TRUE(next["pending"].is_null());
}

TEST_F(TriggerLiveTest, AProcessSharingTheVictimsMemoryDiesWithIt) {
  TestProcess hog = start({"--anon", "80", "--vm-sibling", "--name", "vmshare"});
  const size_t at = hog.out().find("vm-sibling ");
  ASSERT_NE(at, std::string::npos) << hog.out();
  const pid_t sibling = std::stoi(hog.out().substr(at + 11));
  memcg_->adopt(sibling);
  TestProcess bystander = start({"--anon", "10", "--name", "bystander"});

  const json event = trigger();

  // Both have the same mm, so the same badness: on a tie the kernel (5.x+) keeps the task it
  // met later in its walk, the sibling; the other is killed as the victim's mm sharer.
  EXPECT_EQ(event["victim"]["pid"], sibling) << event.dump();
  const auto killed = pidsOf(event["killed_pids"]);
  ASSERT_EQ(killed.size(), 2u) << event.dump();
  EXPECT_EQ(killed[0], sibling);
  EXPECT_EQ(killed[1], hog.pid());
  EXPECT_EQ(event["kill"]["targets"][1]["role"], "mm sharer");
  auto end = hog.waitExit(seconds(5));
  ASSERT_TRUE(end);
  // The sibling is the hog's child (clone with SIGCHLD): gone from its cgroup once reaped.
  bool sibling_gone = false;
  for (int i = 0; i < 200 && !sibling_gone; ++i) {
    const std::string stat = readFile("/proc/" + std::to_string(sibling) + "/stat").value_or("");
    sibling_gone = stat.empty() || stat.find(") Z ") != std::string::npos;
    if (!sibling_gone) std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(sibling_gone) << "the CLONE_VM sibling survived";
  EXPECT_TRUE(stillRunning(bystander));
}

TEST_F(TriggerLiveTest, ASecondTriggerWaitsWhileTheVictimIsStillDying) {
  if (!TestFreezer::skipReason().empty()) GTEST_SKIP() << TestFreezer::skipReason();
  TestProcess hog = start({"--anon", "80", "--name", "hog"});
  TestProcess other = start({"--anon", "30", "--name", "other"});
  TestFreezer freezer;
  ASSERT_TRUE(freezer.add(hog.pid()));
  ASSERT_TRUE(freezer.freeze());

  // The first run kills the hog; frozen, it cannot exit, so it stays pending.
  const json first = trigger({"--no-wait"});
  EXPECT_EQ(first["action"], "kill") << first.dump();
  EXPECT_EQ(first["victim"]["pid"], hog.pid());
  EXPECT_TRUE(stillRunning(hog));

  const json second = trigger();
  EXPECT_EQ(second["action"], "wait") << second.dump();
  ASSERT_TRUE(second["pending"].is_object());
  EXPECT_EQ(second["pending"]["pid"], hog.pid());
  EXPECT_TRUE(second["killed_pids"].empty());
  EXPECT_TRUE(stillRunning(other)) << "a second victim was killed while the first was dying";

  // --force (SysRq f) does not wait: it would choose the next process.
  const json forced = trigger({"--force", "--dry-run"});
  EXPECT_EQ(forced["action"], "kill") << forced.dump();
  EXPECT_EQ(forced["sysrq"], true);

  ASSERT_TRUE(freezer.setState("THAWED"));
  auto end = hog.waitExit(seconds(10));
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->killedBy(SIGKILL)) << end->describe();
  const json third = trigger({"--dry-run"});
  EXPECT_EQ(third["action"], "kill") << third.dump();
  EXPECT_EQ(third["victim"]["pid"], other.pid());
  EXPECT_TRUE(stillRunning(other));
}

// The kernel waits for its OOM victim while it exits (oom_evaluate_task() aborts the scan);
// oomkit waits for any process of the scope that is dying with its memory, whoever killed it
// — here the test itself, as the kernel's OOM killer or an operator would.
TEST_F(TriggerLiveTest, AProcessSomeoneElseKilledIsWaitedForNotJoinedByASecondVictim) {
  if (!TestFreezer::skipReason().empty()) GTEST_SKIP() << TestFreezer::skipReason();
  TestProcess hog = start({"--anon", "80", "--name", "hog"});
  TestProcess other = start({"--anon", "30", "--name", "other"});
  TestFreezer freezer;
  ASSERT_TRUE(freezer.add(hog.pid()));
  ASSERT_TRUE(freezer.freeze());
  // Frozen, the hog keeps its memory with SIGKILL pending until it is thawed.
  ASSERT_TRUE(hog.kill(SIGKILL));

  const json waiting = trigger();
  EXPECT_EQ(waiting["action"], "wait") << waiting.dump();
  ASSERT_TRUE(waiting["pending"].is_object()) << waiting.dump();
  EXPECT_EQ(waiting["pending"]["pid"], hog.pid());
  EXPECT_NE(waiting["reason"].get<std::string>().find("SIGKILL pending"), std::string::npos)
      << waiting.dump();
  EXPECT_TRUE(waiting["killed_pids"].empty());
  EXPECT_TRUE(stillRunning(other)) << "a second victim was killed while the first was dying";

  // SysRq f does not wait.
  const json forced = trigger({"--force", "--dry-run"});
  EXPECT_EQ(forced["action"], "kill") << forced.dump();

  ASSERT_TRUE(freezer.setState("THAWED"));
  auto end = hog.waitExit(seconds(10));
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->killedBy(SIGKILL)) << end->describe();
  const json after = trigger({"--dry-run"});
  EXPECT_EQ(after["action"], "kill") << after.dump();
  EXPECT_EQ(after["victim"]["pid"], other.pid());
}

TEST_F(TriggerLiveTest, AnExecHandlerThatFreesEnoughPreventsTheKill) {
  TestProcess hog = start({"--anon", "200", "--name", "hog"});
  // Available: 256 - ~200 MiB, below the high watermark (30% = 77 MiB). The handler gives the
  // cgroup 512 MiB (as a balloon would): available ~312 MiB, above 30% of 512 MiB.
  const std::string config = writeConfig(
      "[scope.watermarks]\nmin = \"10%\"\nlow = \"20%\"\nhigh = \"30%\"\n"
      "[[scope.handler]]\ntype = \"exec\"\nname = \"grow\"\npriority = 5\n"
      "command = [\"/bin/sh\", \"-c\", \"echo 536870912 > " +
      memcg_->file("memory.memsw.limit_in_bytes") + " && echo 536870912 > " +
      memcg_->file("memory.limit_in_bytes") + "\"]\n");

  const json event = trigger({"--config", config, "--scope", "test"});

  EXPECT_EQ(event["action"], "none") << event.dump();
  ASSERT_EQ(event["handlers"].size(), 1u);
  EXPECT_EQ(event["handlers"][0]["name"], "grow");
  EXPECT_EQ(event["handlers"][0]["result"], 1);  // NOTIFY_OK
  EXPECT_NEAR(event["freed_bytes"].get<double>(), 256.0 * kMiB, 4.0 * kMiB);
  EXPECT_EQ(event["steps"].back()["step"], "recheck");
  EXPECT_TRUE(event["victim"].is_null());
  EXPECT_TRUE(stillRunning(hog));
}

TEST_F(TriggerLiveTest, AHandlerThatStopsTheChainHandlesTheOom) {
  TestProcess hog = start({"--anon", "50", "--name", "hog"});
  const std::string marker = state_dir_.string() + "-low-ran";
  const std::string config = writeConfig(
      "[[scope.handler]]\ntype = \"exec\"\nname = \"takes-charge\"\npriority = 10\n"
      "command = [\"/bin/sh\", \"-c\", \"exit 2\"]\n"
      "[[scope.handler]]\ntype = \"exec\"\nname = \"lower\"\npriority = 1\n"
      "command = [\"/bin/sh\", \"-c\", \"touch " +
      marker + "\"]\n");

  const json event = trigger({"--config", config});

  EXPECT_EQ(event["action"], "handled") << event.dump();
  ASSERT_EQ(event["handlers"].size(), 1u) << "the walk went on after NOTIFY_STOP";
  EXPECT_EQ(event["handlers"][0]["result"], 0x8001);
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_TRUE(stillRunning(hog));
}

TEST_F(TriggerLiveTest, PanicOnOomTwoRunsTheExecPanicActionAndKillsNothing) {
  TestProcess hog = start({"--anon", "50", "--name", "hog"});
  const std::string marker = state_dir_.string() + "-panic";
  const std::string config = writeConfig(
      "[scope.policy]\npanic_on_oom = 2\npanic_action = \"exec\"\n"
      "panic_command = [\"/bin/sh\", \"-c\", \"echo \\\"$OOMKIT_SCOPE $OOMKIT_CGROUP\\\" > " +
      marker + "\"]\n");

  const json event = trigger({"--config", config});

  EXPECT_EQ(event["action"], "panic") << event.dump();
  EXPECT_EQ(event["steps"].back()["step"], "panic_on_oom");
  EXPECT_EQ(event["panic"]["action"], "exec");
  EXPECT_EQ(event["panic"]["carried_out"], true);
  EXPECT_EQ(event["panic"]["exit_code"], 0);
  EXPECT_EQ(readFile(marker).value_or(""), "test " + memcg_->path() + "\n");
  EXPECT_TRUE(event["killed_pids"].empty());
  EXPECT_TRUE(stillRunning(hog));
  std::filesystem::remove(marker);

  // panic_on_oom = 1 is for the global scope only: this cgroup's run selects and kills.
  const std::string one = writeConfig("[scope.policy]\npanic_on_oom = 1\n");
  const json dry = trigger({"--config", one, "--dry-run"});
  EXPECT_EQ(dry["action"], "kill") << dry.dump();
}

TEST_F(TriggerLiveTest, AnEmptyScopeReachesThePanicAction) {
  const json event = trigger();
  EXPECT_EQ(event["action"], "panic") << event.dump();
  EXPECT_EQ(event["steps"].back()["step"], "no_victim");
  EXPECT_EQ(event["reason"], "out of memory and no killable processes");
  EXPECT_EQ(event["panic"]["action"], "log");
  EXPECT_EQ(event["panic"]["carried_out"], true);
  EXPECT_TRUE(event["victim"].is_null());
}

TEST_F(TriggerLiveTest, AStalePendingRecordForAReusedPidNeitherWaitsNorKills) {
  // A victim record whose pid now belongs to another process (start time differs) — what PID
  // reuse after a victim's exit looks like to the next run. It must not make the run wait,
  // and the process now holding that pid must be judged on its own merits.
  TestProcess hog = start({"--anon", "100", "--name", "hog"});
  TestProcess newcomer = start({"--anon", "10", "--name", "newcomer"});
  auto proc = sys::ProcReader::open("/proc");
  ASSERT_TRUE(proc);
  auto stat = proc->readStat(newcomer.pid());
  ASSERT_TRUE(stat);
  auto state = sys::OomState::open(state_dir_.string());
  ASSERT_TRUE(state);
  const auto now = std::chrono::steady_clock::now();
  ASSERT_TRUE(state->addVictim(memcg_->path(), {newcomer.pid(), stat->start_time_ticks - 1, "old",
                                                now, now + std::chrono::hours(1)}));

  const json event = trigger();

  EXPECT_EQ(event["action"], "kill") << event.dump();
  EXPECT_EQ(event["victim"]["pid"], hog.pid());
  EXPECT_EQ(pidsOf(event["killed_pids"]), std::vector<pid_t>{hog.pid()});
  EXPECT_TRUE(stillRunning(newcomer));
  EXPECT_TRUE(state->victims(memcg_->path()).empty()) << "the stale record was kept";
}

TEST(TriggerCliTest, BadUsageIsExitTwoWithAMessage) {
  const CommandResult missing = runOomkit({"trigger", "--cgroup", "/no/such/oomkit-cgroup",
                                           "--dry-run", "--state-dir", "/tmp/oomkit-cli-state"});
  EXPECT_EQ(missing.status.exit_code, 2);
  EXPECT_NE(missing.err.find("/no/such/oomkit-cgroup"), std::string::npos) << missing.err;
  const CommandResult no_config = runOomkit({"trigger", "--scope", "web"});
  EXPECT_EQ(no_config.status.exit_code, 2);
  EXPECT_NE(no_config.err.find("--scope needs --config"), std::string::npos) << no_config.err;
  std::filesystem::remove_all("/tmp/oomkit-cli-state");
}

}  // namespace
}  // namespace oomkit::test
