// Live tests of the OOM kill (oomkit/sys/killer.h): real oomkit-testproc victims inside a
// memory cgroup the test creates, killed through pidfds.
#include "oomkit/sys/killer.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "oomkit/sys/oom_group.h"
#include "oomkit/sys/process_handle.h"
#include "oomkit/sys/scope_usage.h"

#include "integration/kill_fixture.h"
#include "support/file_io.h"

namespace oomkit::test {
namespace {

using std::chrono::milliseconds;
using sys::KillOutcome;
using sys::KillRole;
using sys::ReleaseOutcome;

constexpr milliseconds kExitTimeout{2000};

const sys::KillTarget* findTarget(const sys::KillReport& report, int32_t pid) {
  for (const auto& t : report.targets) {
    if (t.pid == pid) return &t;
  }
  return nullptr;
}

// The pid oomkit-testproc --vm-sibling printed.
int32_t vmSiblingPid(TestProcess& p) {
  p.drainOutput();
  const std::string& out = p.out();
  const size_t at = out.find("vm-sibling ");
  if (at == std::string::npos) return 0;
  return static_cast<int32_t>(
      parseUint(out.substr(at + 11, out.find('\n', at) - at - 11)).value_or(0));
}

bool stillRunning(TestProcess& p, milliseconds wait = milliseconds(0)) {
  return !p.waitExit(wait).has_value();
}

class KillerLiveTest : public KillLiveFixture {};

TEST_F(KillerLiveTest, ReleaseInBackgroundDoesNotWaitForTheUnmapAndTheMemoryStillComesBack) {
  TestProcess p = start({"--anon", "128", "--name", "bg-hog"});
  auto usage_before = memcg_->usageBytes();
  ASSERT_TRUE(usage_before);
  auto k = killer();
  auto releaser = sys::BackgroundReleaser::start();
  ASSERT_TRUE(releaser) << releaser.error().message;
  sys::KillRequest r = request(p.pid());
  r.releaser = releaser->get();

  auto report = k.killVictim(r);

  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->victim().outcome, KillOutcome::kKilled);
  EXPECT_EQ(report->victim().release, ReleaseOutcome::kInBackground);
  EXPECT_FALSE(report->released_at) << "the call waited for the release";
  EXPECT_TRUE(report->notes.empty()) << report->notes.front();
  auto end = p.waitExit(std::chrono::seconds(10));
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->killedBy(SIGKILL));
  auto usage_after = memcg_->usageBytes();
  ASSERT_TRUE(usage_after);
  EXPECT_LE(*usage_after + 120 * kMiB, *usage_before) << "the victim's memory did not come back";
  for (int i = 0; i < 500 && (*releaser)->completed() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ((*releaser)->completed(), 1u) << "the thread never took the pidfd";
  releaser->reset();  // joins the thread once its queue is drained
}

TEST_F(KillerLiveTest, KillsByIdentityReleasesAndTheScopeGetsItsMemoryBack) {
  TestProcess p = start({"--anon", "64", "--name", "hog"});
  auto k = killer();

  auto report = k.killVictim(request(p.pid()));

  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->targets.size(), 1u);
  const sys::KillTarget& victim = report->victim();
  EXPECT_EQ(victim.pid, p.pid());
  EXPECT_EQ(victim.comm, "hog");
  EXPECT_EQ(victim.role, KillRole::kVictim);
  EXPECT_EQ(victim.outcome, KillOutcome::kKilled);
  // process_mrelease() ran: it reaped the mm, or found the victim already past exit_mm().
  EXPECT_TRUE(victim.release == ReleaseOutcome::kReleased ||
              victim.release == ReleaseOutcome::kAlreadyExiting)
      << sys::releaseOutcomeName(victim.release);
  EXPECT_TRUE(report->sigkill_at && !report->sigterm_at);
  // released_at says when process_mrelease() freed the memory itself, and only then.
  EXPECT_EQ(report->released_at.has_value(), victim.release == ReleaseOutcome::kReleased);
  EXPECT_EQ(report->usage_cgroup_dir, memcg_->dir());
  ASSERT_TRUE(report->usage_before_bytes);
  EXPECT_GE(*report->usage_before_bytes, 64 * kMiB);
  EXPECT_EQ(report->handles.size(), 1u);
  EXPECT_TRUE(report->notes.empty()) << report->notes.front();

  auto end = p.waitExit(kExitTimeout);
  ASSERT_TRUE(end) << end.error().message;
  EXPECT_TRUE(end->killedBy(SIGKILL)) << end->describe();
  auto after = sys::readScopeUsage(*proc_, memcg_->dir());
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_GE(sys::recoveredBytes(*report->usage_before_bytes, *after), 56 * kMiB);
}

TEST_F(KillerLiveTest, WrongStartTimeIsAnotherProcessAndNothingIsKilled) {
  TestProcess p = start({"--name", "bystander"});
  sys::KillRequest r = request(p.pid());
  r.victim.start_time_ticks += 1;  // what a reused pid looks like to the identity check
  auto k = killer();

  auto handle = sys::ProcessHandle::open(*proc_, p.pid(), r.victim.start_time_ticks);
  auto report = k.killVictim(r);

  ASSERT_FALSE(handle);
  EXPECT_EQ(handle.error().code, Errc::kNotFound);
  EXPECT_NE(handle.error().message.find("is now another process"), std::string::npos)
      << handle.error().message;
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, Errc::kNotFound);
  EXPECT_TRUE(stillRunning(p, milliseconds(100)));
}

// The real race: the victim exits and its pid goes to a new process before the kill.
// ns_last_pid makes the next fork get the old pid (other processes may fork in between: retry).
TEST_F(KillerLiveTest, ReusedPidIsRefusedAndTheNewProcessSurvives) {
  TestProcess old = start({"--name", "old"});
  const core::Process old_id = identity(old.pid());
  std::this_thread::sleep_for(milliseconds(30));  // start times are 10 ms ticks: differ for sure
  ASSERT_TRUE(old.kill(SIGKILL));
  ASSERT_TRUE(old.waitExit(kExitTimeout));
  std::optional<TestProcess> reused;
  for (int attempt = 0; attempt < 20 && !reused; ++attempt) {
    if (!writeFile("/proc/sys/kernel/ns_last_pid", std::to_string(old_id.pid - 1))) {
      GTEST_SKIP() << "cannot write ns_last_pid";
    }
    TestProcess p = start({"--name", "newcomer"});
    if (p.pid() == old_id.pid) reused.emplace(std::move(p));
  }
  if (!reused) GTEST_SKIP() << "pid " << old_id.pid << " was not reused in 20 attempts";
  sys::KillRequest r;
  r.victim = old_id;
  r.scope_cgroup = memcg_->path();
  auto k = killer();

  auto handle = sys::ProcessHandle::open(*proc_, old_id.pid, old_id.start_time_ticks);
  auto report = k.killVictim(r);

  ASSERT_FALSE(handle);
  EXPECT_EQ(handle.error().code, Errc::kNotFound);
  EXPECT_NE(handle.error().message.find("is now another process"), std::string::npos);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, Errc::kNotFound);
  EXPECT_TRUE(stillRunning(*reused, milliseconds(100)));
}

TEST_F(KillerLiveTest, ProcessSharingTheMmThroughCloneVmDiesWithTheVictim) {
  TestProcess p = start({"--anon", "32", "--vm-sibling", "--name", "vmshare"});
  const int32_t sibling = vmSiblingPid(p);
  ASSERT_GT(sibling, 0) << p.out();
  memcg_->adopt(sibling);  // not our child: cleanup may kill it anyway
  auto watch = sys::ProcessHandle::openCurrent(*proc_, sibling);
  ASSERT_TRUE(watch) << watch.error().message;
  auto k = killer();

  auto report = k.killVictim(request(p.pid()));

  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->targets.size(), 2u);
  const sys::KillTarget* shared = findTarget(*report, sibling);
  ASSERT_NE(shared, nullptr);
  EXPECT_EQ(shared->role, KillRole::kMmSharer);
  EXPECT_EQ(shared->outcome, KillOutcome::kKilled);
  EXPECT_EQ(report->victim().outcome, KillOutcome::kKilled);
  // Both users of the mm are dying, so the victim's mm can be reaped.
  EXPECT_NE(report->victim().release, ReleaseOutcome::kNotDying);
  EXPECT_TRUE(report->spared.empty());
  EXPECT_TRUE(watch->waitExit(kExitTimeout));
  auto end = p.waitExit(kExitTimeout);
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->killedBy(SIGKILL)) << end->describe();
}

TEST_F(KillerLiveTest, SigtermFirstLetsAProcessThatLeavesGoWithoutSigkill) {
  TestProcess p = start({"--name", "polite"});
  sys::KillRequest r = request(p.pid());
  r.sigterm_grace = milliseconds(1500);
  auto k = killer();

  auto report = k.killVictim(r);

  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->victim().outcome, KillOutcome::kExitedOnSigterm);
  EXPECT_EQ(report->victim().release, ReleaseOutcome::kNotTried);
  EXPECT_TRUE(report->sigterm_at && report->exited_at);
  EXPECT_FALSE(report->sigkill_at);
  EXPECT_LT(*report->exited_at - *report->sigterm_at, milliseconds(1000));
  auto end = p.waitExit(kExitTimeout);
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->killedBy(SIGTERM)) << end->describe();
}

TEST_F(KillerLiveTest, SigtermIgnoredMeansSigkillAfterTheGrace) {
  TestProcess p = start({"--ignore-sigterm", "--name", "stubborn"});
  sys::KillRequest r = request(p.pid());
  r.sigterm_grace = milliseconds(300);
  auto k = killer();

  auto report = k.killVictim(r);

  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->victim().outcome, KillOutcome::kKilled);
  ASSERT_TRUE(report->sigterm_at && report->sigkill_at);
  EXPECT_GE(*report->sigkill_at - *report->sigterm_at, milliseconds(300));
  auto end = p.waitExit(kExitTimeout);
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->killedBy(SIGKILL)) << end->describe();
}

TEST_F(KillerLiveTest, DryRunReportsTheWholeKillAndSignalsNothing) {
  TestProcess p = start({"--anon", "16", "--vm-sibling", "--name", "dry"});
  const int32_t sibling = vmSiblingPid(p);
  ASSERT_GT(sibling, 0) << p.out();
  memcg_->adopt(sibling);
  sys::KillRequest r = request(p.pid());
  r.dry_run = true;
  auto k = killer();

  auto report = k.killVictim(r);

  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->dry_run);
  ASSERT_EQ(report->targets.size(), 2u);
  EXPECT_EQ(report->victim().outcome, KillOutcome::kWouldKill);
  ASSERT_NE(findTarget(*report, sibling), nullptr);
  EXPECT_EQ(findTarget(*report, sibling)->outcome, KillOutcome::kWouldKill);
  EXPECT_FALSE(report->sigterm_at || report->sigkill_at || report->released_at);
  EXPECT_TRUE(report->usage_before_bytes);
  EXPECT_TRUE(report->handles.empty());
  EXPECT_TRUE(stillRunning(p, milliseconds(100)));
  EXPECT_EQ(::kill(sibling, 0), 0) << "the sibling is gone";
}

TEST_F(KillerLiveTest, RefusesToKillOomkitItself) {
  sys::KillRequest r;
  r.victim = identity(::getpid());
  auto k = killer();

  auto report = k.killVictim(r);

  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, Errc::kInvalidArgument);
  EXPECT_NE(report.error().message.find("oomkit itself"), std::string::npos);
}

TEST_F(KillerLiveTest, ExitedVictimIsNotFound) {
  TestProcess p = start({"--name", "gone"});
  sys::KillRequest r = request(p.pid());
  ASSERT_TRUE(p.kill(SIGKILL));
  ASSERT_TRUE(p.waitExit(kExitTimeout));
  auto k = killer();

  auto report = k.killVictim(r);

  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, Errc::kNotFound);
}

// A cgroup2 directory of this machine's unified hierarchy (no controllers, but cgroup.kill),
// removed at the end. Declared before the processes in it, so it is removed after they died.
class UnifiedCgroup {
 public:
  static constexpr const char* kRoot = "/sys/fs/cgroup/unified";

  explicit UnifiedCgroup(const std::string& name) : dir_(std::string(kRoot) + "/" + name) {
    ok_ = ::mkdir(dir_.c_str(), 0755) == 0 && ::mkdir((dir_ + "/inner").c_str(), 0755) == 0;
  }
  ~UnifiedCgroup() {
    for (int i = 0; i < 200; ++i) {  // a killed process leaves its cgroup a moment later
      ::rmdir((dir_ + "/inner").c_str());
      if (::rmdir(dir_.c_str()) == 0 || errno == ENOENT) return;
      std::this_thread::sleep_for(milliseconds(10));
    }
    ADD_FAILURE() << "could not remove " << dir_;
  }
  bool ok() const { return ok_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  bool ok_ = false;
};

class KillGroupLiveTest : public KillLiveFixture {
 protected:
  // Kills `victim` through a fake v2 memory hierarchy in a temp dir that mirrors the test
  // cgroup's path with memory.oom.group=1 and lists the victim and `member` in its
  // cgroup.procs: without a cgroup.kill file the killer signals each member through a pidfd.
  Result<sys::KillReport> killInOomGroup(pid_t victim, pid_t member, bool victim_only) {
    namespace fs = std::filesystem;
    std::string root = (fs::temp_directory_path() / "oomkit-fake-v2-XXXXXX").string();
    if (::mkdtemp(root.data()) == nullptr) return makeError(Errc::kIo, "mkdtemp failed");
    const std::string dir = root + memcg_->path();
    fs::create_directories(dir);
    std::ofstream(dir + "/memory.oom.group") << "1\n";
    std::ofstream(dir + "/cgroup.procs") << victim << "\n" << member << "\n";
    auto k = killer(sys::MemoryHierarchy{core::CgroupVersion::kV2, root, "/"});
    sys::KillRequest r = request(victim);
    r.scope_cgroup = "/";
    r.victim_only = victim_only;
    auto report = k.killVictim(r);
    fs::remove_all(root);
    return report;
  }
};

TEST_F(KillGroupLiveTest, CgroupKillKillsTheWholeSubtree) {
  if (!fileExists(std::string(UnifiedCgroup::kRoot) + "/cgroup.procs")) {
    GTEST_SKIP() << "no cgroup2 at " << UnifiedCgroup::kRoot;
  }
  UnifiedCgroup group("oomkit-kill-test-" + std::to_string(::getpid()));
  ASSERT_TRUE(group.ok()) << group.dir();
  TestProcess top = start({"--name", "top"});
  TestProcess inner = start({"--name", "inner"});
  ASSERT_TRUE(writeFile(group.dir() + "/cgroup.procs", std::to_string(top.pid())));
  ASSERT_TRUE(writeFile(group.dir() + "/inner/cgroup.procs", std::to_string(inner.pid())));
  if (!sys::hasCgroupKill(group.dir())) GTEST_SKIP() << "no cgroup.kill (kernel before 5.14)";
  auto pids = sys::listCgroupTreePids(group.dir());
  ASSERT_TRUE(pids) << pids.error().message;
  std::sort(pids->begin(), pids->end());
  EXPECT_EQ(*pids, (std::vector<int32_t>{std::min(top.pid(), inner.pid()),
                                         std::max(top.pid(), inner.pid())}));

  auto killed = sys::writeCgroupKill(group.dir());

  ASSERT_TRUE(killed) << killed.error().message;
  for (TestProcess* p : {&top, &inner}) {
    auto end = p->waitExit(kExitTimeout);
    ASSERT_TRUE(end);
    EXPECT_TRUE(end->killedBy(SIGKILL)) << end->describe();
  }
}

// memory.oom.group end to end, on a fake v2 hierarchy (killInOomGroup()).
TEST_F(KillGroupLiveTest, OomGroupMembersDieWithTheVictim) {
  TestProcess victim = start({"--anon", "16", "--name", "victim"});
  TestProcess member = start({"--name", "member"});
  auto report = killInOomGroup(victim.pid(), member.pid(), /*victim_only=*/false);

  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->oom_group, memcg_->path());
  EXPECT_EQ(report->group_method, sys::GroupMethod::kPerProcess);
  ASSERT_EQ(report->targets.size(), 2u);
  EXPECT_EQ(report->targets[1].pid, member.pid());
  EXPECT_EQ(report->targets[1].role, KillRole::kGroupMember);
  EXPECT_EQ(report->targets[1].outcome, KillOutcome::kKilled);
  for (TestProcess* p : {&victim, &member}) {
    auto end = p->waitExit(kExitTimeout);
    ASSERT_TRUE(end);
    EXPECT_TRUE(end->killedBy(SIGKILL)) << end->describe();
  }
}

// The rehearsal's stand-in lives in the daemon's own cgroup, whose oom group may hold processes
// oomkit did not start: victim_only kills the victim alone, group or no group.
TEST_F(KillGroupLiveTest, VictimOnlyLeavesTheOomGroupAndTheMmSharersAlone) {
  TestProcess victim = start({"--anon", "16", "--vm-sibling", "--name", "victim"});
  const int32_t sibling = vmSiblingPid(victim);
  ASSERT_GT(sibling, 0) << victim.out();
  memcg_->adopt(sibling);
  auto sharer = sys::ProcessHandle::openCurrent(*proc_, sibling);
  ASSERT_TRUE(sharer) << sharer.error().message;
  TestProcess member = start({"--name", "member"});
  auto report = killInOomGroup(victim.pid(), member.pid(), /*victim_only=*/true);

  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->targets.size(), 1u);
  EXPECT_EQ(report->victim().pid, victim.pid());
  EXPECT_EQ(report->victim().outcome, KillOutcome::kKilled);
  EXPECT_FALSE(report->oom_group);
  EXPECT_TRUE(stillRunning(member, milliseconds(100)));
  EXPECT_FALSE(sharer->exited());
  auto end = victim.waitExit(kExitTimeout);
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->killedBy(SIGKILL)) << end->describe();
}

}  // namespace
}  // namespace oomkit::test
